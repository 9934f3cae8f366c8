//! The registry client: HTTP Basic and the Bearer token flow over the shared HTTP client, manifests
//! and blobs with size caps, request counting and tracing.

use super::auth::{parse_challenge, Challenge, Credentials};
use super::cache::Decided;
use super::{Digest, MANIFEST_ACCEPT};
use crate::net::{
    check_url, classify, fetch_body, is_loopback_host, read_capped_within, Attempts, Collect,
    FetchError, Http, NoProgress, Sink,
};
use crate::report::{Code, Reason};
use reqwest::header::{
    HeaderValue, ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE,
    WWW_AUTHENTICATE,
};
use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use url::Url;

fn e_with_ca_hint(r: Reason, host: &str) -> Reason {
    let mut r = r;
    if !r.message.contains(host) {
        r.message = format!("registry {host}: {}", r.message);
    }
    r.hint(
        "the registry's TLS certificate is not trusted; pass --ca-cert with the CA that issued it",
    )
}

#[derive(Clone)]
enum AuthState {
    None,
    Basic,
    Bearer(HeaderValue),
}

impl AuthState {
    /// Whether a request authenticates the same way as one that carried `other`.
    fn same(&self, other: &AuthState) -> bool {
        match (self, other) {
            (AuthState::None, AuthState::None) | (AuthState::Basic, AuthState::Basic) => true,
            (AuthState::Bearer(a), AuthState::Bearer(b)) => a == b,
            _ => false,
        }
    }
}

/// Talks to one registry: resolves the scheme (HTTPS; loopback hosts may fall back to plain HTTP),
/// authenticates (Basic, Bearer with one token per repository scope), and counts requests.
pub struct Client {
    http: Http,
    host: String,
    creds: Option<Credentials>,
    /// `None` until decided (loopback hosts only); otherwise "https" or "http".
    scheme: Mutex<Option<&'static str>>,
    /// The run's decision for this host, shared with the run's other clients.
    decided: Arc<tokio::sync::OnceCell<Decided>>,
    https_error: Mutex<Option<String>>,
    auth: Mutex<HashMap<String, AuthState>>,
    /// One token fetch at a time per repository: requests refused at once (a manifest's GET and
    /// HEAD) share the token the first of them fetches.
    token_fetches: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Send Basic credentials with the first request (ECR, which answers Basic): set by
    /// [`Client::basic_at_once`]. Otherwise credentials go only where a challenge asks for them.
    basic_at_once: bool,
    /// The registry asked for Basic credentials (a `Basic` challenge): every later request sends them.
    /// Shared by the run's clients of this registry (see [`Client::basic_asked`]).
    basic_asked: Arc<AtomicBool>,
    requests: AtomicUsize,
    trace: Mutex<Vec<String>>,
    started: std::time::Instant,
}

/// What a GET returned: the body and the headers that matter.
pub struct Fetched {
    /// The whole body, as received.
    pub body: Vec<u8>,
    /// The `Content-Type` header, as sent.
    pub content_type: Option<String>,
    /// The `Docker-Content-Digest` header, as sent.
    pub digest_header: Option<String>,
}

/// Why a fetch through the client failed: a reason, or a cap that was exceeded (the caller decides
/// which code a cap means).
#[derive(Debug)]
pub enum GetError {
    /// The fetch failed for this reason.
    Reason(Reason),
    /// The body is larger than the cap.
    TooLarge {
        /// The URL, with credentials redacted.
        url: String,
        /// The cap, in bytes.
        limit: u64,
    },
}

/// A body the registry sent encoded (`Content-Encoding` other than `identity`): digests name the
/// bytes as stored, and shipcheck does not decode them.
fn encoded(resp: &Response, what: &str) -> Option<Reason> {
    let coding = header_text(resp, CONTENT_ENCODING.as_str())
        .filter(|c| !c.trim().eq_ignore_ascii_case("identity"))?;
    Some(
        Reason::new(
            Code::DownloadFailed,
            format!(
                "{what}: the registry sent it encoded (Content-Encoding `{}`) although shipcheck asked for the bytes as stored; digests name those bytes, and shipcheck does not decode them",
                crate::report::esc(&coding)
            ),
        )
        .hint("a proxy or server in front of the registry compresses its answers; turn that off for /v2/"),
    )
}

/// The header `name` of `resp` as text (`None` when absent or not text).
fn header_text(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A registry's answer to HEAD of a manifest: what container runtimes resolve a reference to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestHead {
    /// `Content-Type`: the media type runtimes take for the manifest.
    pub content_type: Option<String>,
    /// `Docker-Content-Digest`: the digest runtimes pull a tag as.
    pub digest: Option<String>,
    /// `Content-Length`: the size runtimes expect.
    pub length: Option<u64>,
}

impl From<Reason> for GetError {
    fn from(r: Reason) -> Self {
        GetError::Reason(r)
    }
}

impl Client {
    /// A client for the registry at `host` (`host[:port]`), with credentials if any. Loopback hosts
    /// reuse the scheme an earlier client of this run decided on (`scheme`: the run's decision for
    /// this host, see [`crate::oci::cache::ContentCache::scheme`]).
    pub fn new(
        http: Http,
        host: &str,
        creds: Option<Credentials>,
        scheme_cell: Arc<tokio::sync::OnceCell<Decided>>,
    ) -> Client {
        let loopback = Url::parse(&format!("https://{host}/"))
            .ok()
            .and_then(|u| u.host_str().map(is_loopback_host))
            .unwrap_or(false);
        let (scheme, https_error) = if loopback {
            match scheme_cell.get() {
                Some((s, e)) => (Some(*s), e.clone()),
                None => (None, None),
            }
        } else {
            (Some("https"), None)
        };
        Client {
            http,
            host: host.to_string(),
            creds,
            scheme: Mutex::new(scheme),
            decided: scheme_cell,
            https_error: Mutex::new(https_error),
            auth: Mutex::new(HashMap::new()),
            token_fetches: Mutex::new(HashMap::new()),
            basic_at_once: false,
            basic_asked: Arc::new(AtomicBool::new(false)),
            requests: AtomicUsize::new(0),
            trace: Mutex::new(Vec::new()),
            started: std::time::Instant::now(),
        }
    }

    /// Sends the credentials as HTTP Basic with the first request instead of waiting for the
    /// registry's challenge: for ECR registries, which always answer Basic (this saves the 401 round
    /// trip). Other registries get credentials only where their challenge asks: Basic to the registry
    /// itself, or to a Bearer challenge's token service, as Docker and containerd send them.
    pub fn basic_at_once(mut self, yes: bool) -> Client {
        self.basic_at_once = yes;
        self
    }

    /// Shares what this registry's challenges asked for with the run's other clients of it (see
    /// [`crate::oci::cache::ContentCache::basic_asked`]).
    pub fn basic_asked(mut self, cell: Arc<AtomicBool>) -> Client {
        self.basic_asked = cell;
        self
    }

    /// HTTP requests sent so far (each attempt counts, token requests included).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// One line per request: method, URL, and the attempt's outcome is not recorded (no secrets).
    pub fn trace(&self) -> Vec<String> {
        self.trace.lock().unwrap().clone()
    }

    fn count(&self, method: &Method, url: &Url) {
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let ms = self.started.elapsed().as_secs_f64() * 1000.0;
        self.trace
            .lock()
            .unwrap()
            .push(format!("request {n} (+{ms:.1} ms): {method} {url}"));
    }

    fn url(&self, scheme: &str, path: &str) -> Result<Url, Reason> {
        Url::parse(&format!("{scheme}://{}{path}", self.host)).map_err(|e| {
            Reason::new(
                Code::InvalidReference,
                format!("cannot build a URL for registry {}: {e}", self.host),
            )
        })
    }

    /// How requests for `repo` authenticate now.
    fn auth_state(&self, repo: &str) -> AuthState {
        let basic = self.creds.is_some()
            && (self.basic_at_once || self.basic_asked.load(Ordering::Relaxed));
        self.auth
            .lock()
            .unwrap()
            .get(repo)
            .cloned()
            .unwrap_or(if basic {
                AuthState::Basic
            } else {
                AuthState::None
            })
    }

    /// The `Authorization` header a request in state `state` carries.
    fn auth_header(&self, state: &AuthState) -> Option<HeaderValue> {
        match state.clone() {
            AuthState::None => None,
            AuthState::Basic => self.creds.as_ref().map(Credentials::basic),
            AuthState::Bearer(h) => Some(h),
        }
    }

    /// Sends one request (with retries for transient failures, counted in `attempts`), deciding the
    /// scheme for loopback hosts on the first request.
    async fn send_once(
        &self,
        attempts: &mut Attempts<'_>,
        method: &Method,
        path: &str,
        accept: Option<&str>,
        sent: &AuthState,
    ) -> Result<Response, Reason> {
        let auth = self.auth_header(sent);
        let build = |url: &Url| {
            // Digests name the bytes as stored: ask for them unencoded (with no Accept-Encoding, a
            // server may pick any coding; Go's client, and so containerd, would decode gzip).
            let mut rb = self
                .http
                .request(method.clone(), url)
                .header(ACCEPT_ENCODING, "identity");
            if let Some(a) = accept {
                rb = rb.header(ACCEPT, a);
            }
            if let Some(h) = &auth {
                rb = rb.header(AUTHORIZATION, h.clone());
            }
            rb
        };
        let decided = *self.scheme.lock().unwrap();
        let scheme = match decided {
            Some(s) => s,
            None => {
                // A loopback registry: try TLS once; if no TLS server answers, use plain HTTP.
                // The probe is this request over HTTPS; other requests to the host wait for it.
                let url = self.url("https", path)?;
                let mut answered: Option<Result<Response, Reason>> = None;
                let (scheme, https_error) = self
                    .decided
                    .get_or_init(|| async {
                        match build(&url).send().await {
                            Ok(resp) => {
                                self.count(method, &url);
                                answered = Some(Ok(resp));
                                ("https", None)
                            }
                            Err(e) => {
                                let fe = classify(&url, &e);
                                let text = fe.to_string();
                                if matches!(fe, FetchError::Certificate { .. }) {
                                    // A TLS server answered with a certificate we do not trust:
                                    // no downgrade.
                                    answered = Some(Err(e_with_ca_hint(fe.reason(), &self.host)));
                                    ("https", None)
                                } else {
                                    ("http", Some(text))
                                }
                            }
                        }
                    })
                    .await
                    .clone();
                *self.scheme.lock().unwrap() = Some(scheme);
                *self.https_error.lock().unwrap() = https_error;
                if let Some(r) = answered {
                    return r;
                }
                scheme
            }
        };
        let url = self.url(scheme, path)?;
        let result = self
            .http
            .send_with(attempts, &url, &|| {
                self.count(method, &url);
                build(&url)
            })
            .await;
        result.map_err(|e| self.fetch_reason(e))
    }

    fn fetch_reason(&self, e: FetchError) -> Reason {
        let mut r = e.reason();
        r.message = format!("registry {}: {}", self.host, r.message);
        if matches!(e, FetchError::Certificate { .. }) {
            r = e_with_ca_hint(r, &self.host);
        }
        self.https_hint(r)
    }

    /// After a loopback registry fell back to plain HTTP, failures mention why HTTPS was not used.
    fn https_hint(&self, r: Reason) -> Reason {
        match self.https_error.lock().unwrap().as_ref() {
            Some(h) => r.hint(format!(
                "plain HTTP was used because HTTPS failed ({h}); if the registry uses TLS, pass --ca-cert with its CA"
            )),
            None => r,
        }
    }

    /// `unauthorized` for a request to `repo` that carried `sent` and was refused with `status`.
    fn unauthorized(&self, repo: &str, status: StatusCode, sent: &AuthState) -> Reason {
        let code = status.as_u16();
        let host = &self.host;
        let (msg, hint) = match (sent, &self.creds) {
            (AuthState::Bearer(_), creds) => (
                format!("registry {host} refused the token its token service issued for {repo} (HTTP {code})"),
                match creds {
                    Some(c) => format!("check that the credentials from {} may pull this repository, and its name", c.source),
                    None => "the repository may not allow anonymous pulls: log in, or check its name".to_string(),
                },
            ),
            (AuthState::Basic, Some(c)) => (
                format!("registry {host} refused the credentials from {} for {repo} (HTTP {code})", c.source),
                "check the password or token (ECR tokens expire after 12 hours; run `aws ecr get-login-password` again) and that it may pull this repository".to_string(),
            ),
            (_, Some(c)) => (
                format!("registry {host} answered HTTP {code} for {repo} without a challenge shipcheck answers (Basic or Bearer); the credentials from {} were not sent", c.source),
                "check the registry host; shipcheck sends credentials only where a registry's challenge asks for them".to_string(),
            ),
            (_, None) => (
                format!("registry {host} requires authentication for {repo} (HTTP {code}) and no credentials were found"),
                format!("log in (`docker login {host}`, or amazon-ecr-login in CI), or pass --username with --password-stdin"),
            ),
        };
        Reason::new(Code::Unauthorized, msg).hint(hint)
    }

    /// Answers a Bearer challenge to a request that carried `sent`: fetches a token, one fetch at a
    /// time per repository; a token another request fetched meanwhile is used as it is.
    async fn answer_bearer(
        &self,
        repo: &str,
        ch: &Challenge,
        sent: &AuthState,
    ) -> Result<(), Reason> {
        let fetch = self
            .token_fetches
            .lock()
            .unwrap()
            .entry(repo.to_string())
            .or_default()
            .clone();
        let _one_at_a_time = fetch.lock().await;
        if self.auth_state(repo).same(sent) {
            self.fetch_token(repo, ch).await?;
        }
        Ok(())
    }

    /// Fetches a Bearer token for `repo` as the challenge asks and stores it for the repository.
    // Long: the Bearer token flow (realm check, request with or without credentials, answer parsing), each failure with its reason.
    async fn fetch_token(&self, repo: &str, ch: &Challenge) -> Result<(), Reason> {
        let realm = ch.params.get("realm").cloned().unwrap_or_default();
        let mut url = Url::parse(&realm).map_err(|_| {
            Reason::new(
                Code::Unauthorized,
                format!(
                    "registry {} sent a Bearer challenge without a usable realm URL",
                    self.host
                ),
            )
        })?;
        check_url(&url).map_err(|e| self.fetch_reason(e))?;
        // Credentials of the realm URL itself (`https://user:pass@auth/...`) are used only when
        // shipcheck has none for the registry, as Go's HTTP client does: one Authorization header.
        if self.creds.is_some() {
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = ch.params.get("service") {
                q.append_pair("service", s);
            }
            let scope = ch
                .params
                .get("scope")
                .cloned()
                .unwrap_or_else(|| format!("repository:{repo}:pull"));
            for s in scope.split(' ').filter(|s| !s.is_empty()) {
                q.append_pair("scope", s);
            }
        }
        let basic = self.creds.as_ref().map(Credentials::basic);
        let resp = self
            .http
            .send(&url, &|| {
                self.count(&Method::GET, &url);
                let rb = self.http.request(Method::GET, &url);
                match &basic {
                    Some(b) => rb.header(AUTHORIZATION, b.clone()),
                    None => rb,
                }
            })
            .await
            .map_err(|e| self.fetch_reason(e))?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            // The token service was sent the credentials if there are any.
            let sent = if self.creds.is_some() {
                AuthState::Basic
            } else {
                AuthState::None
            };
            return Err(self.unauthorized(repo, status, &sent));
        }
        let resp = crate::net::ok_status(&url, resp).map_err(|e| self.fetch_reason(e))?;
        let body = read_capped_within(&url, resp, 1 << 20, self.http.opts.timeout)
            .await
            .map_err(|e| self.fetch_reason(e))?;
        #[derive(Deserialize)]
        struct Token {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let no_token = || {
            Reason::new(
                Code::Unauthorized,
                format!(
                    "the token service of {} answered without a token",
                    self.host
                ),
            )
        };
        let t: Token = serde_json::from_slice(&body).map_err(|_| no_token())?;
        // `access_token` wins when both are given, as in containerd and docker/distribution.
        let token = t
            .access_token
            .filter(|t| !t.is_empty())
            .or(t.token.filter(|t| !t.is_empty()))
            .ok_or_else(no_token)?;
        let mut h = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            Reason::new(
                Code::Unauthorized,
                format!("the token service of {} sent an unusable token", self.host),
            )
        })?;
        h.set_sensitive(true);
        self.auth
            .lock()
            .unwrap()
            .insert(repo.to_string(), AuthState::Bearer(h));
        Ok(())
    }

    /// A 401 or 403 from a redirect's host (blob storage; another port is another host, as for
    /// reqwest and containerd): it never gets credentials, and its challenge is not the registry's
    /// to answer (answered, the registry's credentials would go to the token service it names).
    fn redirect_refused(&self, resp: &Response, what: &str) -> Result<(), Reason> {
        let status = resp.status();
        if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
            return Ok(());
        }
        let (asked, answering) = (self.url("https", "/")?, resp.url());
        // The registry's own port, if its name gives one; without, the scheme's default.
        let port = self
            .host
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok());
        let same_port = match port {
            Some(p) => answering.port_or_known_default() == Some(p),
            None => answering.port().is_none(),
        };
        if asked.host_str() == answering.host_str() && same_port {
            return Ok(());
        }
        let other = match answering.port() {
            Some(p) => format!("{}:{p}", answering.host_str().unwrap_or_default()),
            None => answering.host_str().unwrap_or_default().to_string(),
        };
        Err(Reason::new(
            Code::Unauthorized,
            format!(
                "registry {} redirected the request for {what} to {}, which answered HTTP {}; credentials are never sent to another host",
                self.host,
                crate::report::esc(&other),
                status.as_u16()
            ),
        )
        .hint("the registry's storage (what it redirects to) should accept the redirect as it is; check the registry's storage configuration"))
    }

    /// Sends a request to the registry, answering one authentication challenge if needed. Returns a
    /// 2xx response; 401/403 become `unauthorized`, 404 `not-found`, other statuses `download-failed`.
    pub async fn execute(
        &self,
        attempts: &mut Attempts<'_>,
        method: Method,
        path: &str,
        accept: Option<&str>,
        repo: &str,
        what: &str,
    ) -> Result<Response, Reason> {
        let mut answered = false;
        loop {
            // What this request carries, read once: the challenge is judged against exactly it.
            let sent = self.auth_state(repo);
            let resp = self
                .send_once(attempts, &method, path, accept, &sent)
                .await?;
            let status = resp.status();
            self.redirect_refused(&resp, what)?;
            if status == StatusCode::UNAUTHORIZED && !answered {
                answered = true;
                // Every challenge, Bearer first, then Basic (containerd's order).
                let mut challenges: Vec<Challenge> = resp
                    .headers()
                    .get_all(WWW_AUTHENTICATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .filter_map(parse_challenge)
                    .collect();
                challenges.sort_by_key(|c| c.scheme != "bearer");
                match challenges.first() {
                    Some(c) if c.scheme == "bearer" => {
                        self.answer_bearer(repo, c, &sent).await?;
                        continue;
                    }
                    // Only a request that carried nothing learns that the registry wants Basic: a
                    // Basic challenge to a Bearer token is refused, never answered with the password
                    // (a registry of the token flow does not get it by asking again).
                    Some(c)
                        if c.scheme == "basic"
                            && self.creds.is_some()
                            && matches!(sent, AuthState::None) =>
                    {
                        self.basic_asked.store(true, Ordering::Relaxed);
                        continue;
                    }
                    _ => return Err(self.unauthorized(repo, status, &sent)),
                }
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(self.unauthorized(repo, status, &sent));
            }
            if status == StatusCode::NOT_FOUND {
                return Err(Reason::new(
                    Code::NotFound,
                    format!("registry {}: {what} not found (HTTP 404)", self.host),
                )
                .hint("check the repository name and tag, and that the image was pushed to this registry"));
            }
            // A registry that does not implement HEAD for manifests: the caller GETs, as
            // containerd's resolver does.
            if status == StatusCode::METHOD_NOT_ALLOWED && method == Method::HEAD {
                return Ok(resp);
            }
            if !crate::net::whole_answer(status) {
                return Err(self.https_hint(Reason::new(
                    Code::DownloadFailed,
                    format!("registry {}: {what}: HTTP {status}", self.host),
                )));
            }
            return Ok(resp);
        }
    }

    /// GETs a manifest (`reference` is a tag or a digest), reading at most `cap` bytes.
    pub async fn get_manifest(
        &self,
        repo: &str,
        reference: &str,
        cap: u64,
    ) -> Result<Fetched, GetError> {
        let path = format!("/v2/{repo}/manifests/{reference}");
        let what = format!("manifest {repo}:{reference}");
        self.get(&path, Some(MANIFEST_ACCEPT), repo, &what, cap)
            .await
    }

    /// HEADs a manifest as container runtimes do to resolve a reference (containerd's resolver
    /// takes the media type, digest and size from this answer when it gives them). `None`: the
    /// registry refuses HEAD (405) and runtimes GET instead.
    pub async fn head_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<ManifestHead>, Reason> {
        let path = format!("/v2/{repo}/manifests/{reference}");
        let what = format!("manifest {repo}:{reference} (HEAD)");
        let mut attempts = self.http.attempts();
        let resp = self
            .execute(
                &mut attempts,
                Method::HEAD,
                &path,
                Some(MANIFEST_ACCEPT),
                repo,
                &what,
            )
            .await?;
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
            return Ok(None);
        }
        let header = |n: &str| header_text(&resp, n);
        // Go's HTTP client, under containerd, refuses an answer whose Content-Length is not one
        // plain number (or whose copies differ): the runtime cannot resolve with it.
        let lengths: Vec<&[u8]> = resp
            .headers()
            .get_all(reqwest::header::CONTENT_LENGTH)
            .iter()
            .map(|v| v.as_bytes().trim_ascii())
            .collect();
        let bad = |why: &str| {
            Reason::new(
                Code::DownloadFailed,
                format!(
                    "registry {}: {what}: {why}, which container runtimes refuse",
                    self.host
                ),
            )
        };
        // Go accepts only `chunked` as a transfer coding, and ignores Content-Length beside it.
        let codings: Vec<&[u8]> = resp
            .headers()
            .get_all(reqwest::header::TRANSFER_ENCODING)
            .iter()
            .map(|v| v.as_bytes().trim_ascii())
            .collect();
        let chunked = match codings[..] {
            [] => false,
            [c] if c.eq_ignore_ascii_case(b"chunked") => true,
            _ => return Err(bad("its HEAD answer's Transfer-Encoding is not `chunked`")),
        };
        let length = match lengths.first() {
            _ if chunked => None,
            None => None,
            Some(l) if l.is_empty() && lengths.len() == 1 => None,
            Some(l) => {
                let n = std::str::from_utf8(l)
                    .ok()
                    .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|t| t.parse::<i64>().ok())
                    .filter(|_| lengths.iter().all(|o| o == l))
                    .ok_or_else(|| bad("its HEAD answer's Content-Length is not one number"))?;
                Some(n as u64)
            }
        };
        // A digest header that is there but not text is no digest to runtimes, not an absent one.
        let digest = match resp.headers().get("docker-content-digest") {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| bad("its HEAD answer's Docker-Content-Digest is not text"))?
                    .to_string(),
            ),
        };
        Ok(Some(ManifestHead {
            content_type: header(CONTENT_TYPE.as_str()),
            digest: digest.filter(|d| !d.trim().is_empty()),
            length,
        }))
    }

    /// GETs a blob, reading at most `cap` bytes (redirects to other hosts get no credentials).
    pub async fn get_blob(
        &self,
        repo: &str,
        digest: &Digest,
        cap: u64,
    ) -> Result<Fetched, GetError> {
        let path = format!("/v2/{repo}/blobs/{digest}");
        let what = format!("blob {digest} in {repo}");
        self.get(&path, None, repo, &what, cap).await
    }

    /// GETs a blob and streams it into `sink` (`--content`), refusing more than `size` bytes; a
    /// body that breaks off is fetched again from byte 0 after `sink.reset()`. Returns the bytes
    /// received (a body shorter than `size` is not an error here: the caller compares).
    pub async fn stream_blob(
        &self,
        repo: &str,
        digest: &Digest,
        size: u64,
        sink: &mut dyn Sink,
    ) -> Result<u64, GetError> {
        let path = format!("/v2/{repo}/blobs/{digest}");
        let what = format!("blob {digest} in {repo}");
        let (_, n) = self.get_into(&path, None, repo, &what, sink, size).await?;
        Ok(n)
    }

    /// HEADs a blob and returns its Content-Length (None when the registry sends none).
    pub async fn head_blob(&self, repo: &str, digest: &Digest) -> Result<Option<u64>, Reason> {
        let path = format!("/v2/{repo}/blobs/{digest}");
        let what = format!("blob {digest} in {repo}");
        let mut attempts = self.http.attempts();
        let resp = self
            .execute(&mut attempts, Method::HEAD, &path, None, repo, &what)
            .await?;
        Ok(resp
            .headers()
            .get(reqwest::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok()))
    }

    async fn get(
        &self,
        path: &str,
        accept: Option<&str>,
        repo: &str,
        what: &str,
        cap: u64,
    ) -> Result<Fetched, GetError> {
        let mut sink = Collect::default();
        let ((content_type, digest_header), _) = self
            .get_into(path, accept, repo, what, &mut sink, cap)
            .await?;
        Ok(Fetched {
            body: sink.0,
            content_type,
            digest_header,
        })
    }

    /// GETs `path` into `sink` (at most `limit` bytes) through the one body loop every transfer
    /// uses: a body that breaks off (reset, truncation, stall, slow drip) is a connection error and
    /// the request is sent again, the request and its body sharing --retries; the low-speed window
    /// is --timeout. Returns the answer's Content-Type and Docker-Content-Digest, and the length.
    async fn get_into(
        &self,
        path: &str,
        accept: Option<&str>,
        repo: &str,
        what: &str,
        sink: &mut dyn Sink,
        limit: u64,
    ) -> Result<((Option<String>, Option<String>), u64), GetError> {
        let mut attempts = self.http.attempts();
        let respond = async |a: &mut Attempts<'_>| {
            let resp = self
                .execute(a, Method::GET, path, accept, repo, what)
                .await
                .map_err(GetError::Reason)?;
            if let Some(r) = encoded(&resp, what) {
                return Err(GetError::Reason(r));
            }
            let kept = (
                header_text(&resp, CONTENT_TYPE.as_str()),
                header_text(&resp, "docker-content-digest"),
            );
            Ok((resp, kept))
        };
        fetch_body(
            &mut attempts,
            None,
            sink,
            &NoProgress,
            limit,
            self.http.opts.timeout,
            respond,
            |e| match e {
                FetchError::TooLarge { url, limit } => GetError::TooLarge { url, limit },
                e => GetError::Reason(self.fetch_reason(e)),
            },
        )
        .await
    }
}
