//! HTTP for every command: one client, one retry policy ([`Attempts`]), one error type
//! ([`FetchError`]), one capped body reader. HTTPS-only policy (plain HTTP for loopback hosts only),
//! no downgrade on redirect, timeouts, bounded retries with backoff (connection errors, 408, 429 with
//! `Retry-After`, 5xx), size caps, and streaming bodies into a [`Sink`] that hashes as it receives.

mod body;
mod error;
pub mod limit;
mod retry;
#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
mod roots;
mod url;

pub use self::url::{check_url, is_loopback_host, redact, redact_text};
pub use body::{read_capped_within, NoProgress, Progress, Sink, CHUNK, LOW_SPEED_BYTES};
pub use error::{classify, ok_status, whole_answer, FetchError};
pub use retry::{retryable_status, Attempts};

use ::url::Url;
pub(crate) use body::{fetch_body, Collect};
use limit::{Answer, HostLimits};
use reqwest::{Method, RequestBuilder, Response};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// TLS trust: the system's roots plus `extra`. Where rustls verifies against the system's roots
/// itself (Linux, the BSDs), they load in the background while the first connection is made
/// ([`roots`]); elsewhere the platform verifier asks the OS.
#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
fn with_roots(
    builders: Vec<reqwest::ClientBuilder>,
    extra: Vec<rustls::pki_types::CertificateDer<'static>>,
) -> Result<Vec<reqwest::ClientBuilder>, FetchError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = roots::BackgroundRoots::start(provider.clone(), extra);
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Setup(format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // What reqwest offers when it builds the configuration itself: HTTP/2, then HTTP/1.1.
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(builders
        .into_iter()
        .map(|b| b.tls_backend_preconfigured(tls.clone()))
        .collect())
}

/// TLS trust: the system's roots plus `extra`, through the platform verifier.
#[cfg(not(all(unix, not(target_vendor = "apple"), not(target_os = "android"))))]
fn with_roots(
    builders: Vec<reqwest::ClientBuilder>,
    extra: Vec<rustls::pki_types::CertificateDer<'static>>,
) -> Result<Vec<reqwest::ClientBuilder>, FetchError> {
    let mut out = Vec::new();
    for mut builder in builders {
        for c in &extra {
            let c = reqwest::Certificate::from_der(c)
                .map_err(|e| FetchError::Setup(format!("bad CA certificate: {e}")))?;
            builder = builder.add_root_certificate(c);
        }
        out.push(builder);
    }
    Ok(out)
}

/// Whether the environment names an HTTP proxy (the variables reqwest reads: `HTTPS_PROXY`,
/// `HTTP_PROXY`, `ALL_PROXY`, in either case).
fn proxy_in_env() -> bool {
    [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

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
    /// Requests in flight to one host at first (see [`limit`]).
    pub start_per_host: usize,
    /// Most requests in flight to one host, however well it answers (`--max-per-host`).
    pub max_per_host: usize,
}

/// The per-host limit at first: 16 requests in flight. Amazon ECR documents its registry rates per
/// account and region as 2,000 `BatchGetImage` and 3,000 `GetDownloadUrlForLayer` requests per
/// second (adjustable); 16 in flight at a 10 ms round trip is 1,600 requests per second, under those
/// for a single run, and the limit halves at the first 429 or 503.
pub const START_PER_HOST: usize = 16;
/// The default cap: enough in flight to hide a 100 ms round trip at ECR's documented rates.
pub const MAX_PER_HOST: usize = 128;

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            ca_certs: Vec::new(),
            timeout: Duration::from_secs(30),
            retries: 3,
            retry_delay: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(30),
            max_download: 4 << 30,
            start_per_host: START_PER_HOST,
            max_per_host: MAX_PER_HOST,
        }
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

/// More than 10 redirects: a loop or a misconfigured server, not an insecure URL.
#[derive(Debug)]
struct TooManyRedirects;
impl std::fmt::Display for TooManyRedirects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("more than 10 redirects (a redirect loop?)")
    }
}
impl std::error::Error for TooManyRedirects {}

/// The HTTP client every command shares.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    /// The client for loopback hosts: never through a proxy (the same client when the environment
    /// names none).
    direct: reqwest::Client,
    /// The options the client was built with (timeouts, retries, size and per-host limits).
    pub opts: HttpOptions,
    /// Requests in flight per host, shared by every clone (one run, one set of limits).
    limits: Arc<HostLimits>,
}

impl Http {
    /// Builds the client: redirect policy (no HTTPS to HTTP, at most 10), timeouts and the extra CA certificates.
    pub fn new(opts: HttpOptions) -> Result<Self, FetchError> {
        // TLS uses ring's primitives (reqwest's default is aws-lc-rs). Installed once per process;
        // a provider installed earlier by the embedding program is kept.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = || {
            reqwest::redirect::Policy::custom(|attempt| {
                if attempt.previous().len() > 10 {
                    return attempt.error(TooManyRedirects);
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
            })
        };
        // No `Referer` on a redirect: it would carry the previous URL's query (a presigned URL's
        // signature, a token) to the next host (adversarial pass 39).
        let builder = || {
            reqwest::Client::builder()
                .redirect(policy())
                .connect_timeout(opts.timeout)
                .read_timeout(opts.timeout)
                .user_agent(concat!("shipcheck/", env!("CARGO_PKG_VERSION")))
                .referer(false)
                .https_only(false)
        };
        // A proxy from the environment is used for remote hosts only. Loopback hosts are spoken
        // to directly, as Go's clients (Docker, containerd) do: plain HTTP is allowed to them only
        // because it never leaves the machine, and a URL's credentials go to its host only
        // (adversarial pass 39: both went to the proxy).
        let proxied = proxy_in_env();
        let mut builders = vec![builder()];
        if proxied {
            builders.push(builder().no_proxy());
        }
        let mut extra_roots = Vec::new();
        for path in &opts.ca_certs {
            use rustls::pki_types::{pem::PemObject, CertificateDer};
            let pem =
                crate::input::read_capped(path, crate::input::MAX_INPUT_SIZE).map_err(|e| {
                    FetchError::Setup(format!(
                        "cannot read CA certificate {}: {e}",
                        path.display()
                    ))
                })?;
            let certs = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    FetchError::Setup(format!("{} is not a PEM certificate: {e}", path.display()))
                })?;
            if certs.is_empty() {
                return Err(FetchError::Setup(format!(
                    "{} holds no PEM certificate",
                    path.display()
                )));
            }
            extra_roots.extend(certs);
        }
        let mut clients = with_roots(builders, extra_roots)?
            .into_iter()
            .map(|b| {
                b.build()
                    .map_err(|e| FetchError::Setup(format!("cannot build the HTTP client: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let client = clients.remove(0);
        let direct = clients.pop().unwrap_or_else(|| client.clone());
        let limits = Arc::new(HostLimits::new(opts.start_per_host, opts.max_per_host));
        Ok(Http {
            client,
            direct,
            opts,
            limits,
        })
    }

    /// A request builder for `method url` (the caller adds headers).
    pub fn request(&self, method: Method, url: &Url) -> RequestBuilder {
        let client = if url.host_str().is_some_and(is_loopback_host) {
            &self.direct
        } else {
            &self.client
        };
        client.request(method, url.clone())
    }

    /// The attempts of one transfer (see [`Attempts`]).
    pub fn attempts(&self) -> Attempts<'_> {
        Attempts::new(&self.opts)
    }

    /// Sends the request built by `build`, retrying connection errors, 408, 429 and 5xx with backoff.
    /// Returns the response for any other status (the caller decides what 401 or 404 mean).
    pub async fn send(
        &self,
        url: &Url,
        build: &(dyn Fn() -> RequestBuilder + Sync),
    ) -> Result<Response, FetchError> {
        self.send_with(&mut self.attempts(), url, build).await
    }

    /// [`Http::send`], counting attempts in `attempts` (shared with the body read that follows).
    pub async fn send_with(
        &self,
        attempts: &mut Attempts<'_>,
        url: &Url,
        build: &(dyn Fn() -> RequestBuilder + Sync),
    ) -> Result<Response, FetchError> {
        check_url(url)?;
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        );
        loop {
            let permit = self.limits.acquire(&host).await;
            let sent = build().send().await;
            permit.answered(match &sent {
                Ok(r) if matches!(r.status().as_u16(), 429 | 503) => Answer::Throttled,
                _ => Answer::Other,
            });
            let outcome: Result<(), FetchError> = match sent {
                Ok(resp) if retryable_status(resp.status()) => Err(FetchError::Status {
                    url: redact(url),
                    status: resp.status(),
                    headers: Box::new(resp.headers().clone()),
                }),
                Ok(resp) => return Ok(resp),
                Err(e) => Err(classify(url, &e)),
            };
            if let Err(e) = outcome {
                attempts.retry_after(e).await?;
            }
        }
    }

    /// A GET of `url` answered 2xx (the request retried as [`Http::send_with`] does); any other
    /// status is an error ([`ok_status`]) that no retry would change.
    async fn get_ok(&self, attempts: &mut Attempts<'_>, url: &Url) -> Result<Response, FetchError> {
        let resp = self
            .send_with(attempts, url, &|| self.request(Method::GET, url))
            .await?;
        ok_status(url, resp)
    }

    /// GETs `url` and returns its whole body, refusing more than `cap` bytes (checked against
    /// Content-Length before reading, and while reading), and the `Content-Encoding` the server
    /// declared, if any (see [`Received`]). A body that breaks off is fetched again.
    pub async fn get_capped(&self, url: &Url, cap: u64) -> Result<(Vec<u8>, Received), FetchError> {
        let mut sink = Collect::default();
        let got = self.get_into(url, &mut sink, &NoProgress, cap).await?;
        Ok((sink.0, got))
    }

    /// GETs `url` and streams its body into `sink` in [`CHUNK`]-sized pieces. A body that breaks off is
    /// fetched again from the start after `sink.reset()`.
    pub async fn stream(
        &self,
        url: &Url,
        sink: &mut dyn Sink,
        progress: &dyn Progress,
    ) -> Result<Received, FetchError> {
        self.get_into(url, sink, progress, self.opts.max_download)
            .await
    }

    async fn get_into(
        &self,
        url: &Url,
        sink: &mut dyn Sink,
        progress: &dyn Progress,
        limit: u64,
    ) -> Result<Received, FetchError> {
        let mut attempts = self.attempts();
        let respond = async |a: &mut Attempts<'_>| {
            let resp = self.get_ok(a, url).await?;
            let encoding = resp
                .headers()
                .get(reqwest::header::CONTENT_ENCODING)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
                .filter(|c| !c.eq_ignore_ascii_case("identity"));
            Ok((resp, encoding))
        };
        let (encoding, len) = fetch_body(
            &mut attempts,
            Some(url),
            sink,
            progress,
            limit,
            self.opts.timeout,
            respond,
            |e| e,
        )
        .await?;
        Ok(Received { len, encoding })
    }
}

/// What a download received: its length, and the `Content-Encoding` the server declared (other
/// than `identity`). shipcheck asks for no encoding and never decodes: the bytes are verified as
/// served, so a server that encodes them anyway makes a failed verification undecided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Bytes received.
    pub len: u64,
    /// The declared `Content-Encoding`, if any other than `identity`.
    pub encoding: Option<String>,
}
