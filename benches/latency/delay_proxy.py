#!/usr/bin/env python3
"""A TCP proxy that delays each direction by a fixed time (so a round trip costs twice that), for
latency benchmarks on loopback. Counts the connections it accepts.

    delay_proxy.py LISTEN_PORT TARGET_PORT DELAY_MS COUNT_FILE

Bytes keep their order; each chunk is forwarded DELAY_MS after it was read. Writes the number of
connections accepted so far to COUNT_FILE after each new connection. Binds 127.0.0.1 only.
"""
import asyncio
import sys
import time

LISTEN, TARGET, DELAY, COUNT_FILE = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000, sys.argv[4]
accepted = 0


async def pump(reader, writer):
    queue = asyncio.Queue()

    async def read():
        while True:
            data = await reader.read(65536)
            await queue.put((time.monotonic() + DELAY, data))
            if not data:
                return

    async def write():
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                try:
                    writer.write_eof()
                except OSError:
                    pass
                return
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(read(), write())
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def handle(client_r, client_w):
    global accepted
    accepted += 1
    with open(COUNT_FILE, "w") as f:
        f.write(str(accepted))
    # The connection itself costs a round trip, as a SYN / SYN-ACK over the delayed path would.
    await asyncio.sleep(2 * DELAY)
    try:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", TARGET)
    except OSError:
        client_w.close()
        return
    await asyncio.gather(pump(client_r, server_w), pump(server_r, client_w))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN, backlog=1024)
    async with server:
        await server.serve_forever()


asyncio.run(main())
