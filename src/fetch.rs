//! HTTP for every command: HTTPS-only policy (plain HTTP for loopback hosts only), no downgrade on
//! redirect, timeouts, bounded retries with backoff (connection errors, 408, 429 with `Retry-After`, 5xx),
//! size caps, and streaming bodies into a [`Sink`] that hashes as it receives.

use crate::report::{Code, Reason};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use std::error::Error as _;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// Bodies are handed to sinks in chunks of this size (hashing threads work best on large chunks).
pub const CHUNK: usize = 1 << 20;

/// Transport settings shared by all commands.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Extra trusted root certificates (PEM files), on top of the system roots.
    pub ca_certs: Vec<PathBuf>,
    /// Connect timeout and the longest silence tolerated while reading a response.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff delay; doubles per retry.
    pub retry_delay: Duration,
    /// Longest single wait between attempts (also caps `Retry-After`).
    pub max_retry_wait: Duration,
    /// Largest body `stream` accepts.
    pub max_download: u64,
}

impl Default for HttpOptions {
    fn default() -> Self {
        let retry_delay = std::env::var("SHIPCHECK_RETRY_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_millis(500));
        HttpOptions {
            ca_certs: Vec::new(),
            timeout: Duration::from_secs(30),
            retries: 3,
            retry_delay,
            max_retry_wait: Duration::from_secs(30),
            max_download: 4 << 30,
        }
    }
}

/// Why a fetch did not produce the bytes asked for. Converted to a [`Reason`] by [`FetchError::reason`].
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: {why}")]
    Insecure { url: String, why: String },
    #[error("{url}: not found (HTTP 404)")]
    NotFound { url: String },
    #[error("{url}: HTTP {status}")]
    Status {
        url: String,
        status: StatusCode,
        headers: Box<HeaderMap>,
    },
    #[error("{url}: {why}")]
    Network { url: String, why: String },
    #[error("{url}: body ended after {got} bytes, Content-Length said {expected}")]
    Truncated {
        url: String,
        expected: u64,
        got: u64,
    },
    #[error("{url}: larger than the limit of {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: {why}")]
    Sink {
        url: String,
        why: String,
        code: Code,
    },
    #[error("{0}")]
    Setup(String),
}

impl FetchError {
    /// The reason this error means, with the code for its kind.
    pub fn reason(&self) -> Reason {
        let code = match self {
            FetchError::Insecure { .. } => Code::InsecureUrl,
            FetchError::NotFound { .. } => Code::NotFound,
            FetchError::TooLarge { .. } => Code::TooLarge,
            FetchError::Sink { code, .. } => *code,
            FetchError::Setup(_) => Code::Usage,
            _ => Code::DownloadFailed,
        };
        let r = Reason::new(code, self.to_string());
        match self {
            FetchError::Insecure { .. } => {
                r.hint("use an https:// URL; plain http:// is accepted only for loopback hosts")
            }
            FetchError::Network { .. } | FetchError::Truncated { .. } => {
                r.hint("check the network path and retry; shipcheck already retried with backoff")
            }
            FetchError::TooLarge { .. } => {
                r.hint("raise the limit with --max-size if the file is expected to be this large")
            }
            _ => r,
        }
    }
}

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
    fn write(&mut self, data: &[u8]) -> io::Result<()>;
    fn reset(&mut self) -> io::Result<()>;
}

/// Receives download progress (implemented by the printer with a progress bar).
pub trait Progress: Sync {
    fn start(&self, _what: &str, _len: Option<u64>) {}
    fn advance(&self, _bytes: u64) {}
    fn finish(&self) {}
}

/// A progress sink that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// True when `host` is a loopback host: 127.0.0.0/8, ::1 or `localhost`.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// A URL as shipcheck shows it: without the user name and password, which are credentials (they are
/// sent, as Basic auth, only to that URL's host). See [`redact_text`].
pub fn redact(url: &Url) -> String {
    redact_text(url.as_str())
}

/// Text the user gave as a URL, fit to print: everything between `//` and the last `@` is replaced
/// by `***`. This covers credentials the URL parser sees as userinfo and those it does not (a
/// password holding an unencoded `/`, `?` or `#` makes `https://user:pa/ss@host/` parse as host `user`
/// with `ss@host` in its path): whatever could be a credential is hidden, at the price of hiding the
/// host of a URL with an `@` in its path.
pub fn redact_text(s: &str) -> String {
    let Some(start) = s.find("//").map(|i| i + 2) else {
        return s.to_string();
    };
    match s[start..].rfind('@') {
        Some(at) => format!("{}***{}", &s[..start], &s[start + at..]),
        None => s.to_string(),
    }
}

/// Accepts `https://` everywhere and `http://` only for loopback hosts.
pub fn check_url(url: &Url) -> Result<(), FetchError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if url.host_str().is_some_and(is_loopback_host) => Ok(()),
        "http" => Err(FetchError::Insecure {
            url: redact(url),
            why: "plain HTTP to a non-loopback host is refused".into(),
        }),
        other => Err(FetchError::Insecure {
            url: redact(url),
            why: format!("unsupported URL scheme `{other}`"),
        }),
    }
}

#[derive(Debug)]
struct RedirectRefused(String);
impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for RedirectRefused {}

/// The HTTP client every command shares.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    pub opts: HttpOptions,
}

impl Http {
    pub fn new(opts: HttpOptions) -> Result<Self, FetchError> {
        // TLS uses ring's primitives (reqwest's default is aws-lc-rs). Installed once per process;
        // a provider installed earlier by the embedding program is kept.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 10 {
                return attempt.error(RedirectRefused("more than 10 redirects".into()));
            }
            let prev_https = attempt.previous().iter().any(|u| u.scheme() == "https");
            let next = attempt.url();
            let refused = match next.scheme() {
                "https" => None,
                "http" if prev_https => Some(format!(
                    "redirect from HTTPS to plain HTTP ({}) refused",
                    redact(next)
                )),
                "http" if next.host_str().is_some_and(is_loopback_host) => None,
                _ => Some(format!("redirect to insecure URL {} refused", redact(next))),
            };
            match refused {
                Some(why) => attempt.error(RedirectRefused(why)),
                // reqwest drops Authorization, Cookie and Proxy-Authorization when the host changes.
                None => attempt.follow(),
            }
        });
        let mut builder = reqwest::Client::builder()
            .redirect(policy)
            .connect_timeout(opts.timeout)
            .read_timeout(opts.timeout)
            .user_agent(concat!("shipcheck/", env!("CARGO_PKG_VERSION")))
            .https_only(false);
        for path in &opts.ca_certs {
            let pem = std::fs::read(path).map_err(|e| {
                FetchError::Setup(format!(
                    "cannot read CA certificate {}: {e}",
                    path.display()
                ))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                FetchError::Setup(format!("{} is not a PEM certificate: {e}", path.display()))
            })?;
            if certs.is_empty() {
                return Err(FetchError::Setup(format!(
                    "{} holds no PEM certificate",
                    path.display()
                )));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let client = builder
            .build()
            .map_err(|e| FetchError::Setup(format!("cannot build the HTTP client: {e}")))?;
        Ok(Http { client, opts })
    }

    /// A request builder for `method url` (the caller adds headers).
    pub fn request(&self, method: Method, url: &Url) -> RequestBuilder {
        self.client.request(method, url.clone())
    }

    fn backoff(&self, attempt: u32, headers: Option<&HeaderMap>) -> Duration {
        let exp = self
            .opts
            .retry_delay
            .saturating_mul(1u32 << attempt.min(16));
        let retry_after = headers
            .and_then(|h| h.get(RETRY_AFTER))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        retry_after.unwrap_or(exp).min(self.opts.max_retry_wait)
    }

    /// Sends the request built by `build`, retrying connection errors, 408, 429 and 5xx with backoff.
    /// Returns the response for any other status (the caller decides what 401 or 404 mean).
    pub async fn send(
        &self,
        url: &Url,
        build: &(dyn Fn() -> RequestBuilder + Sync),
    ) -> Result<Response, FetchError> {
        check_url(url)?;
        let mut attempt = 0;
        loop {
            let outcome = build().send().await;
            let (retryable, err, headers) = match outcome {
                Ok(resp) => {
                    let s = resp.status();
                    if s == StatusCode::TOO_MANY_REQUESTS
                        || s == StatusCode::REQUEST_TIMEOUT
                        || s.is_server_error()
                    {
                        let headers = resp.headers().clone();
                        let e = FetchError::Status {
                            url: redact(url),
                            status: s,
                            headers: Box::new(headers.clone()),
                        };
                        (true, e, Some(headers))
                    } else {
                        return Ok(resp);
                    }
                }
                Err(e) => {
                    let fe = classify(url, &e);
                    (!matches!(fe, FetchError::Insecure { .. }), fe, None)
                }
            };
            if !retryable || attempt >= self.opts.retries {
                return Err(give_up(err, attempt));
            }
            tokio::time::sleep(self.backoff(attempt, headers.as_ref())).await;
            attempt += 1;
        }
    }

    /// GETs `url` and returns its whole body, refusing more than `cap` bytes (checked against
    /// Content-Length before reading, and while reading).
    pub async fn get_capped(&self, url: &Url, cap: u64) -> Result<Vec<u8>, FetchError> {
        let mut attempt = 0;
        loop {
            let resp = self.send(url, &|| self.request(Method::GET, url)).await?;
            let resp = ok_status(url, resp)?;
            match read_capped_within(url, resp, cap, self.opts.timeout).await {
                Err(e @ (FetchError::Network { .. } | FetchError::Truncated { .. }))
                    if attempt < self.opts.retries =>
                {
                    let _ = e;
                    tokio::time::sleep(self.backoff(attempt, None)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// GETs `url` and streams its body into `sink` in [`CHUNK`]-sized pieces. A body that breaks off is
    /// fetched again from the start after `sink.reset()`. Returns the number of bytes received.
    pub async fn stream(
        &self,
        url: &Url,
        sink: &mut dyn Sink,
        progress: &dyn Progress,
    ) -> Result<u64, FetchError> {
        let mut attempt = 0;
        loop {
            let resp = self.send(url, &|| self.request(Method::GET, url)).await?;
            let resp = ok_status(url, resp)?;
            match self.stream_body(url, resp, sink, progress).await {
                Err(e @ (FetchError::Network { .. } | FetchError::Truncated { .. }))
                    if attempt < self.opts.retries =>
                {
                    let _ = e;
                    sink.reset().map_err(|e| sink_err(url, e))?;
                    tokio::time::sleep(self.backoff(attempt, None)).await;
                    attempt += 1;
                }
                Err(e) => return Err(give_up(e, attempt)),
                ok => return ok,
            }
        }
    }

    async fn stream_body(
        &self,
        url: &Url,
        mut resp: Response,
        sink: &mut dyn Sink,
        progress: &dyn Progress,
    ) -> Result<u64, FetchError> {
        let limit = self.opts.max_download;
        let expected = resp.content_length();
        if expected.is_some_and(|n| n > limit) {
            return Err(FetchError::TooLarge {
                url: redact(url),
                limit,
            });
        }
        progress.start(url.as_str(), expected);
        let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
        let mut got: u64 = 0;
        let mut speed = SpeedGuard::new(self.opts.timeout);
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
}

fn sink_err(url: &Url, e: io::Error) -> FetchError {
    FetchError::Sink {
        url: redact(url),
        why: format!("writing the download failed: {e}"),
        code: Code::InstallFailed,
    }
}

fn give_up(e: FetchError, attempt: u32) -> FetchError {
    if attempt == 0 {
        return e;
    }
    match e {
        FetchError::Network { url, why } => FetchError::Network {
            url,
            why: format!("{why} (gave up after {} attempts)", attempt + 1),
        },
        FetchError::Status { url, status, .. } => FetchError::Network {
            url,
            why: format!("HTTP {status} (gave up after {} attempts)", attempt + 1),
        },
        other => other,
    }
}

/// Maps a status other than 2xx to an error (404 gets its own kind).
pub fn ok_status(url: &Url, resp: Response) -> Result<Response, FetchError> {
    let s = resp.status();
    if s.is_success() {
        Ok(resp)
    } else if s == StatusCode::NOT_FOUND {
        Err(FetchError::NotFound { url: redact(url) })
    } else {
        Err(FetchError::Status {
            url: redact(url),
            status: s,
            headers: Box::new(resp.headers().clone()),
        })
    }
}

/// Reads a whole body, refusing more than `cap` bytes and checking the length against Content-Length.
/// A body that delivers less than [`LOW_SPEED_BYTES`] in any `window` (pass the client's timeout)
/// is cut off.
pub async fn read_capped_within(
    url: &Url,
    mut resp: Response,
    cap: u64,
    window: Duration,
) -> Result<Vec<u8>, FetchError> {
    let mut speed = SpeedGuard::new(window);
    let expected = resp.content_length();
    if expected.is_some_and(|n| n > cap) {
        return Err(FetchError::TooLarge {
            url: redact(url),
            limit: cap,
        });
    }
    let mut body = Vec::with_capacity(expected.unwrap_or(0).min(cap) as usize);
    loop {
        match resp.chunk().await {
            Ok(Some(bytes)) => {
                speed.feed(url, bytes.len())?;
                if body.len() as u64 + bytes.len() as u64 > cap {
                    return Err(FetchError::TooLarge {
                        url: redact(url),
                        limit: cap,
                    });
                }
                body.extend_from_slice(&bytes);
            }
            Ok(None) => break,
            Err(e) => return Err(classify(url, &e)),
        }
    }
    if let Some(n) = expected {
        if n != body.len() as u64 {
            return Err(FetchError::Truncated {
                url: redact(url),
                expected: n,
                got: body.len() as u64,
            });
        }
    }
    Ok(body)
}

/// Turns a reqwest error into a fetch error, spotting refused redirects.
pub fn classify(url: &Url, e: &reqwest::Error) -> FetchError {
    let mut src: Option<&dyn std::error::Error> = e.source();
    while let Some(s) = src {
        if let Some(r) = s.downcast_ref::<RedirectRefused>() {
            return FetchError::Insecure {
                url: redact(url),
                why: r.0.clone(),
            };
        }
        src = s.source();
    }
    let why = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        format!("connection failed: {}", chain(e))
    } else if e.is_body() || e.is_decode() {
        format!("connection dropped while reading the body: {}", chain(e))
    } else if e.is_redirect() {
        format!("redirect failed: {}", chain(e))
    } else {
        chain(e)
    };
    FetchError::Network {
        url: redact(url),
        why,
    }
}

/// An error with its sources, joined by ": ", without repeating identical messages. URLs are not part
/// of reqwest's source messages; credentials never are.
fn chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut src: Option<&dyn std::error::Error> = e.source();
    while let Some(s) = src {
        let m = s.to_string();
        if !parts.contains(&m) {
            parts.push(m);
        }
        src = s.source();
    }
    if parts.is_empty() {
        "request failed".into()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "127.0.0.1",
            "127.3.2.1",
            "localhost",
            "LOCALHOST",
            "[::1]",
            "::1",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "10.0.0.1",
            "example.com",
            "localhost.example.com",
            "128.0.0.1",
            "[::2]",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn url_policy() {
        assert!(check_url(&Url::parse("https://example.com/x").unwrap()).is_ok());
        assert!(check_url(&Url::parse("http://127.0.0.1:8080/x").unwrap()).is_ok());
        assert!(check_url(&Url::parse("http://[::1]:8080/x").unwrap()).is_ok());
        assert!(check_url(&Url::parse("http://example.com/x").unwrap()).is_err());
        assert!(check_url(&Url::parse("ftp://127.0.0.1/x").unwrap()).is_err());
        assert!(check_url(&Url::parse("file:///etc/passwd").unwrap()).is_err());
    }

    #[test]
    fn userinfo_is_never_shown() {
        let u = Url::parse("https://user:s3cret@example.com:8443/a/b?x=1").unwrap();
        assert_eq!(redact(&u), "https://***@example.com:8443/a/b?x=1");
        assert_eq!(
            redact(&Url::parse("https://tok@example.com/").unwrap()),
            "https://***@example.com/"
        );
        assert_eq!(
            redact(&Url::parse("https://example.com/a").unwrap()),
            "https://example.com/a"
        );
        // Unparsable (bad port): still redacted.
        assert_eq!(
            redact_text("https://u:s3cret@host:99999/x"),
            "https://***@host:99999/x"
        );
        // Passwords with `/`, `?`, `#`, `@`: the parser sees no userinfo; nothing is shown anyway.
        for pw in ["tok/en+s3cret==", "s3c?ret", "s3c#ret", "p@ss"] {
            let text = format!("https://AWS:{pw}@127.0.0.1:9/x");
            assert_eq!(redact_text(&text), "https://***@127.0.0.1:9/x");
            if let Ok(u) = Url::parse(&text) {
                assert!(!redact(&u).contains("s3c"), "{}", redact(&u));
            }
        }
        assert_eq!(redact_text("not a url"), "not a url");
    }
}
