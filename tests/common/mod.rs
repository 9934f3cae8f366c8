//! Shared test support: a test CA, free ports, waiting for servers, running the binary.
#![allow(dead_code)]

pub mod faults;
pub mod nginx;
pub mod pgp;
pub mod proxy;
pub mod registry;
pub mod tls;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bound, then released for the server under test to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server of the tests' own on 127.0.0.1 (free port): every connection is handed to `handle` on a
/// thread of its own (with the stop flag), until the returned flag is set, which the owning fixture
/// does when dropped. Returns the port and the flag.
pub fn serve_loopback(
    handle: impl Fn(TcpStream, Arc<AtomicBool>) + Send + Sync + 'static,
) -> (u16, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let sp = stop.clone();
    let handle = Arc::new(handle);
    std::thread::spawn(move || {
        while !sp.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).ok();
                    let (h, sp) = (handle.clone(), sp.clone());
                    std::thread::spawn(move || h(s, sp));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(2)),
            }
        }
    });
    (port, stop)
}

/// Waits until something accepts connections on 127.0.0.1:`port`, or panics after `limit`.
pub fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on 127.0.0.1:{port} after {limit:?}");
}

/// Finds a program on PATH (also /usr/sbin, where Debian puts nginx).
pub fn which(prog: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].iter().map(Into::into))
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

/// Panics with installation advice when a required program is missing: tests never silently skip.
pub fn require(prog: &str, package: &str) -> std::path::PathBuf {
    which(prog).unwrap_or_else(|| {
        panic!("`{prog}` is required by this test; install it with `apt-get install -y {package}` (the README's test command does)")
    })
}

/// The `shipcheck` binary as users run it, with retry delays shortened and no terminal.
pub fn shipcheck() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("shipcheck").unwrap();
    c.env("SHIPCHECK_RETRY_DELAY_MS", "20")
        .env_remove("DOCKER_CONFIG");
    c
}

/// Reads a file as bytes, or None.
pub fn read_opt(p: &Path) -> Option<Vec<u8>> {
    std::fs::read(p).ok()
}
