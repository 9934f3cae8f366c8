//! What can go wrong with a transfer, as one error type, and how reqwest's errors map to it.

use super::url::redact;
use super::{RedirectRefused, TooManyRedirects};
use crate::report::{Code, Reason};
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use std::error::Error as _;
use url::Url;

/// Why a fetch did not produce the bytes asked for. Converted to a [`Reason`] by [`FetchError::reason`].
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Plain HTTP to a non-loopback host, or a refused redirect (to plain HTTP).
    #[error("{url}: {why}")]
    Insecure {
        /// The URL, with credentials redacted.
        url: String,
        /// What was refused.
        why: String,
    },
    /// The server answered 404.
    #[error("{url}: not found (HTTP 404)")]
    NotFound {
        /// The URL, with credentials redacted.
        url: String,
    },
    /// The server answered a status other than 2xx and 404.
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL, with credentials redacted.
        url: String,
        /// The HTTP status received.
        status: StatusCode,
        /// The response headers (read for `Retry-After`).
        headers: Box<HeaderMap>,
    },
    /// A connection, TLS, timeout or redirect failure, or a body that broke off or was too slow.
    #[error("{url}: {why}")]
    Network {
        /// The URL, with credentials redacted.
        url: String,
        /// What went wrong.
        why: String,
    },
    /// A TLS server answered with a certificate that is not trusted (unknown issuer, wrong name,
    /// expired) or with none: unlike other connection failures, this proves a TLS server is there.
    #[error("{url}: {why}")]
    Certificate {
        /// The URL, with credentials redacted.
        url: String,
        /// rustls's reason.
        why: String,
    },
    /// The body's length did not match its Content-Length.
    #[error("{url}: body ended after {got} bytes, Content-Length said {expected}")]
    Truncated {
        /// The URL, with credentials redacted.
        url: String,
        /// The length Content-Length announced.
        expected: u64,
        /// The number of bytes received.
        got: u64,
    },
    /// The body is larger than the limit (by Content-Length, or while reading).
    #[error("{url}: larger than the limit of {limit} bytes")]
    TooLarge {
        /// The URL, with credentials redacted.
        url: String,
        /// The largest body accepted, in bytes.
        limit: u64,
    },
    /// The [`Sink`](super::body::Sink) receiving the body failed (e.g. writing the temp file).
    #[error("{url}: {why}")]
    Sink {
        /// The URL, with credentials redacted.
        url: String,
        /// What went wrong.
        why: String,
        /// The reason code to report.
        code: Code,
    },
    /// The HTTP client could not be set up (e.g. an unreadable `--ca-cert`).
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
            FetchError::Certificate { .. } => r.hint(
                "pass --ca-cert FILE with the CA that issued the server's certificate, if you trust it",
            ),
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

/// Whether a GET's status means its body is the whole resource: 200, or 203 (the same, passed on by
/// a proxy). Another 2xx (`206 Partial Content`, `204 No Content`) answers something else, so its
/// body is not judged as the file (adversarial pass 39: a 206 or 204 was verified as the whole
/// file, and failed as `bad-signature`, exit 1, where nothing was tampered with).
pub fn whole_answer(s: StatusCode) -> bool {
    s == StatusCode::OK || s == StatusCode::NON_AUTHORITATIVE_INFORMATION
}

/// Maps a status other than [`whole_answer`] to an error (404 gets its own kind).
pub fn ok_status(url: &Url, resp: Response) -> Result<Response, FetchError> {
    let s = resp.status();
    if whole_answer(s) {
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
        // Adversarial pass 39: a redirect loop was reported as `insecure-url`, with the hint to
        // use https://.
        if let Some(r) = s.downcast_ref::<TooManyRedirects>() {
            return FetchError::Network {
                url: redact(url),
                why: r.to_string(),
            };
        }
        src = s.source();
    }
    if certificate_refused(e) {
        return FetchError::Certificate {
            url: redact(url),
            why: format!("connection failed: {}", chain(e)),
        };
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

/// Whether rustls refused the server's certificate (or got none). rustls's error sits inside an
/// `io::Error` (itself inside another), whose `source()` skips it, so `io::Error`s are opened with
/// `get_ref`.
fn certificate_refused(e: &reqwest::Error) -> bool {
    let mut src: Option<&dyn std::error::Error> = e.source();
    while let Some(s) = src {
        // hyper wraps rustls's io::Error in another io::Error.
        let mut layer: &(dyn std::error::Error + 'static) = s;
        while let Some(inner) = layer
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            layer = inner;
        }
        let tls = layer.downcast_ref::<rustls::Error>();
        if matches!(
            tls,
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
        ) {
            return true;
        }
        src = s.source();
    }
    false
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
