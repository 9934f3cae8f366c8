//! Reading response bodies: capped in memory, or streamed in chunks into a [`Sink`], with the
//! low-speed cutoff and the Content-Length check.

use super::url::redact;
use super::{classify, FetchError};
use crate::report::Code;
use reqwest::Response;
use std::io;
use std::time::Duration;
use url::Url;

/// Bodies are handed to sinks in chunks of this size (hashing threads work best on large chunks).
pub const CHUNK: usize = 1 << 20;

/// Fails a transfer that delivers less than [`LOW_SPEED_BYTES`] in any window of `window` (a slow
/// drip that never trips the read timeout), like curl's `--speed-limit`/`--speed-time`.
pub const LOW_SPEED_BYTES: u64 = 1024;

struct SpeedGuard {
    window: Duration,
    start: std::time::Instant,
    bytes: u64,
}

impl SpeedGuard {
    fn new(window: Duration) -> Self {
        SpeedGuard {
            window,
            start: std::time::Instant::now(),
            bytes: 0,
        }
    }

    fn feed(&mut self, url: &Url, n: usize) -> Result<(), FetchError> {
        self.bytes += n as u64;
        if self.start.elapsed() >= self.window {
            if self.bytes < LOW_SPEED_BYTES {
                return Err(FetchError::Network {
                    url: redact(url),
                    why: format!(
                        "transfer too slow: {} bytes in {:.0?} (less than {LOW_SPEED_BYTES} bytes per {:?})",
                        self.bytes,
                        self.start.elapsed(),
                        self.window
                    ),
                });
            }
            self.start = std::time::Instant::now();
            self.bytes = 0;
        }
        Ok(())
    }
}

/// Receives a body chunk by chunk. `reset` is called before a retry restarts the body from byte 0.
pub trait Sink {
    /// Takes the next chunk of the body.
    fn write(&mut self, data: &[u8]) -> io::Result<()>;
    /// Discards everything written so far, before the body is fetched again from byte 0.
    fn reset(&mut self) -> io::Result<()>;
}

/// Receives download progress (implemented by the printer with a progress bar).
pub trait Progress: Sync {
    /// A transfer of `what` begins, `len` bytes long if known.
    fn start(&self, _what: &str, _len: Option<u64>) {}
    /// `bytes` more bytes were received.
    fn advance(&self, _bytes: u64) {}
    /// The transfer ended.
    fn finish(&self) {}
}

/// A progress sink that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// A sink that keeps the whole body in memory (manifests, configs, tokens, signatures).
#[derive(Default)]
pub(crate) struct Collect(pub Vec<u8>);

impl Sink for Collect {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }
    fn reset(&mut self) -> io::Result<()> {
        self.0.clear();
        Ok(())
    }
}

/// Reads a whole body, refusing more than `cap` bytes and checking the length against Content-Length.
/// A body that delivers less than [`LOW_SPEED_BYTES`] in any `window` (pass the client's timeout)
/// is cut off. (One attempt: [`fetch_body`] is the loop that asks again.)
pub async fn read_capped_within(
    url: &Url,
    resp: Response,
    cap: u64,
    window: Duration,
) -> Result<Vec<u8>, FetchError> {
    let mut sink = Collect::default();
    stream_body(url, resp, &mut sink, &NoProgress, cap, window).await?;
    Ok(sink.0)
}

/// The one loop that reads a body with retries, used by every transfer. `respond` sends the
/// request (retrying statuses itself, in the same `attempts`) and returns the answer with what the
/// caller keeps of its headers; the body is streamed into `sink` (at most `limit` bytes), and a
/// body that breaks off (connection error, truncation, slow drip) is asked for again from byte 0
/// after `sink.reset()` while `attempts` allow. `url` names the transfer in errors (`None`: the
/// answer's own URL, after redirects); `fail` turns the final error into the caller's.
#[allow(clippy::too_many_arguments)] // each is one knob of the transfer; a struct would only rename them
pub(crate) async fn fetch_body<'a, T, E>(
    attempts: &mut super::Attempts<'a>,
    url: Option<&Url>,
    sink: &mut dyn Sink,
    progress: &dyn Progress,
    limit: u64,
    window: Duration,
    mut respond: impl AsyncFnMut(&mut super::Attempts<'a>) -> Result<(Response, T), E>,
    fail: impl Fn(FetchError) -> E,
) -> Result<(T, u64), E> {
    loop {
        let (resp, kept) = respond(attempts).await?;
        let url = url.cloned().unwrap_or_else(|| resp.url().clone());
        match stream_body(&url, resp, sink, progress, limit, window).await {
            Ok(n) => return Ok((kept, n)),
            Err(e) => {
                attempts.retry_after(e).await.map_err(&fail)?;
                sink.reset().map_err(|e| fail(sink_err(&url, e)))?;
            }
        }
    }
}

fn sink_err(url: &Url, e: io::Error) -> FetchError {
    FetchError::Sink {
        url: redact(url),
        why: format!("writing the download failed: {e}"),
        code: Code::InstallFailed,
    }
}

/// Streams a body into `sink` in [`CHUNK`]-sized pieces, refusing more than `limit` bytes and a
/// transfer slower than [`LOW_SPEED_BYTES`] per `window`; checks the length against Content-Length.
pub(crate) async fn stream_body(
    url: &Url,
    mut resp: Response,
    sink: &mut dyn Sink,
    progress: &dyn Progress,
    limit: u64,
    window: Duration,
) -> Result<u64, FetchError> {
    let expected = resp.content_length();
    if expected.is_some_and(|n| n > limit) {
        return Err(FetchError::TooLarge {
            url: redact(url),
            limit,
        });
    }
    progress.start(&redact(url), expected);
    // Sized for the body when it is small (manifests), at most one chunk.
    let mut buf: Vec<u8> =
        Vec::with_capacity(expected.unwrap_or(CHUNK as u64).min(CHUNK as u64) as usize);
    let mut got: u64 = 0;
    let mut speed = SpeedGuard::new(window);
    let result = loop {
        match resp.chunk().await {
            Ok(Some(bytes)) => {
                got += bytes.len() as u64;
                if let Err(e) = speed.feed(url, bytes.len()) {
                    break Err(e);
                }
                if got > limit {
                    break Err(FetchError::TooLarge {
                        url: redact(url),
                        limit,
                    });
                }
                progress.advance(bytes.len() as u64);
                let mut rest: &[u8] = &bytes;
                while !rest.is_empty() {
                    let take = rest.len().min(CHUNK - buf.len());
                    buf.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if buf.len() == CHUNK {
                        if let Err(e) = sink.write(&buf) {
                            progress.finish();
                            return Err(sink_err(url, e));
                        }
                        buf.clear();
                    }
                }
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(classify(url, &e)),
        }
    };
    progress.finish();
    result?;
    if let Some(n) = expected {
        if n != got {
            return Err(FetchError::Truncated {
                url: redact(url),
                expected: n,
                got,
            });
        }
    }
    if !buf.is_empty() {
        sink.write(&buf).map_err(|e| sink_err(url, e))?;
    }
    Ok(got)
}
