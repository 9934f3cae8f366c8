//! A scripted registry of the tests' own on 127.0.0.1, for hostile content a real registry does not
//! serve: per path, the n-th request gets the n-th scripted response (the last repeats); the query
//! string is ignored for routing. Responses may lie about their Content-Length or never end. It can
//! demand a Bearer token on `/v2/` (the token flow). Also a server that accepts connections and never
//! answers. Both stop when dropped.
#![allow(dead_code)]

use crate::common::registry::{sha256, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST};
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Claim this Content-Length instead of the body's, send the body, then close.
    pub claimed_len: Option<u64>,
    /// No Content-Length; send `body` over and over until the client hangs up (or 1 GiB).
    pub endless: bool,
}

pub fn ok(ct: &str, body: &[u8]) -> Resp {
    Resp {
        status: 200,
        headers: vec![("Content-Type".into(), ct.into())],
        body: body.to_vec(),
        claimed_len: None,
        endless: false,
    }
}

pub fn status(code: u16, headers: &[(&str, &str)]) -> Resp {
    Resp {
        status: code,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: Vec::new(),
        claimed_len: None,
        endless: false,
    }
}

/// One request: method, target (with query), headers with lowercased names.
#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Vec<Resp>>,
    hits: HashMap<String, usize>,
    log: Vec<Logged>,
    /// When set: (token, challenge). `/v2/` requests without `Authorization: Bearer <token>` get 401.
    bearer: Option<(String, String)>,
}

pub struct Fake {
    pub port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Fake {
    pub fn start() -> Fake {
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let (port, stop) = crate::common::serve_loopback(move |s, sp| serve(s, st.clone(), sp));
        Fake { port, state, stop }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn route(&self, path: &str, script: Vec<Resp>) {
        let mut st = self.state.lock().unwrap();
        st.routes.insert(path.to_string(), script);
        st.hits.remove(path);
    }

    pub fn hits(&self, path: &str) -> usize {
        *self.state.lock().unwrap().hits.get(path).unwrap_or(&0)
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    /// From now on, `/v2/` requests without `Authorization: Bearer <token>` get 401 with `challenge`
    /// in `WWW-Authenticate` (not counted as a hit: the retry with the token is). Several lines in
    /// `challenge` are sent as several `WWW-Authenticate` headers.
    pub fn require_bearer(&self, token: &str, challenge: &str) {
        self.state.lock().unwrap().bearer = Some((token.to_string(), challenge.to_string()));
    }
}

fn serve(stream: TcpStream, state: Arc<Mutex<State>>, stop: Arc<AtomicBool>) {
    stream.set_nonblocking(false).ok();
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    // A TLS ClientHello (shipcheck's HTTPS probe) is not HTTP text: read_request gives up.
    while let Some(req) = crate::common::read_request(&mut reader) {
        let (method, path) = (req.method.clone(), req.path.clone());
        let resp = {
            let mut st = state.lock().unwrap();
            let challenge = match &st.bearer {
                Some((tok, ch)) if path.starts_with("/v2/") => {
                    let want = format!("Bearer {tok}");
                    let ok = req
                        .headers
                        .iter()
                        .any(|(k, v)| k == "authorization" && *v == want);
                    (!ok).then(|| ch.clone())
                }
                _ => None,
            };
            st.log.push(Logged {
                method: req.method,
                target: req.target,
                headers: req.headers,
            });
            match challenge {
                Some(ch) => {
                    let headers: Vec<(&str, &str)> =
                        ch.split('\n').map(|c| ("WWW-Authenticate", c)).collect();
                    status(401, &headers)
                }
                // HEAD: its own script (`HEAD /path`), else what the next GET would get.
                None if method == "HEAD" => crate::common::next_scripted(
                    &st.routes,
                    &mut HashMap::new(),
                    &format!("HEAD {path}"),
                )
                .or_else(|| crate::common::peek_scripted(&st.routes, &st.hits, &path))
                .unwrap_or_else(|| status(404, &[])),
                None => {
                    let st = &mut *st;
                    crate::common::next_scripted(&st.routes, &mut st.hits, &path)
                        .unwrap_or_else(|| status(404, &[]))
                }
            }
        };
        let mut s = stream.try_clone().unwrap();
        let mut head = format!("HTTP/1.1 {} X\r\n", resp.status);
        if resp.endless {
            head.push_str("Connection: close\r\n");
        } else {
            let n = resp.claimed_len.unwrap_or(resp.body.len() as u64);
            head.push_str(&format!("Content-Length: {n}\r\n"));
        }
        for (k, v) in &resp.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if s.write_all(head.as_bytes()).is_err() || method == "HEAD" {
            let _ = s.flush();
            continue;
        }
        if resp.endless {
            let mut sent = 0usize;
            while sent < 1 << 30 && !stop.load(Ordering::Relaxed) {
                if s.write_all(&resp.body).is_err() {
                    break;
                }
                sent += resp.body.len().max(1);
            }
            return;
        }
        let _ = s.write_all(&resp.body);
        let _ = s.flush();
        if resp.claimed_len.is_some() {
            let _ = s.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}

/// Accepts connections and never answers (keeps them open until dropped).
pub struct Silent {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl Silent {
    pub fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let sp = stop.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !sp.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => held.push(s),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Silent { port, stop }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A valid two-platform OCI image (linux/amd64, linux/arm64/v8): bodies and where they live.
pub struct Image {
    pub index: Vec<u8>,
    pub manifests: Vec<Vec<u8>>,
    pub configs: Vec<Vec<u8>>,
    pub layers: Vec<Vec<u8>>,
}

/// A fake registry serving a fresh [`Image`] as `app:v1`, and that reference.
pub fn serve_app() -> (Fake, Image, String) {
    let fake = Fake::start();
    let img = Image::new();
    img.serve(&fake);
    let reference = format!("{}/app:v1", fake.host());
    (fake, img, reference)
}

impl Image {
    pub fn new() -> Image {
        let (mut manifests, mut configs, mut layers, mut entries) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (arch, variant) in [("amd64", None), ("arm64", Some("v8"))] {
            // A tar archive, so that `--content` can unpack it as the runtime would.
            let layer = crate::common::tar::tar_of(&[(arch, format!("layer {arch}").as_bytes())]);
            let mut cfg = json!({"os": "linux", "architecture": arch, "rootfs": {"type": "layers", "diff_ids": [sha256(&layer)]}});
            let mut platform = json!({"os": "linux", "architecture": arch});
            if let Some(v) = variant {
                cfg["variant"] = json!(v);
                platform["variant"] = json!(v);
            }
            let cfg = serde_json::to_vec(&cfg).unwrap();
            let m = manifest_for(&cfg, &layer);
            entries.push(json!({"mediaType": OCI_MANIFEST, "digest": sha256(&m), "size": m.len(), "platform": platform}));
            manifests.push(m);
            configs.push(cfg);
            layers.push(layer);
        }
        Image {
            index: index_of(entries),
            manifests,
            configs,
            layers,
        }
    }

    /// Routes every part of the image on `fake` under repository `app`, tag `v1`, manifests with a
    /// correct `Docker-Content-Digest` as a real registry sends.
    pub fn serve(&self, fake: &Fake) {
        fake.route(
            "/v2/app/manifests/v1",
            vec![with_digest(ok(OCI_INDEX, &self.index), &self.index)],
        );
        for m in &self.manifests {
            fake.route(&manifest_path(m), vec![with_digest(ok(OCI_MANIFEST, m), m)]);
        }
        for b in self.configs.iter().chain(&self.layers) {
            fake.route(&blob_path(b), vec![ok("application/octet-stream", b)]);
        }
    }
}

/// `r` with a `Docker-Content-Digest` header naming `body`.
pub fn with_digest(mut r: Resp, body: &[u8]) -> Resp {
    r.headers
        .push(("Docker-Content-Digest".into(), sha256(body)));
    r
}

/// An OCI image manifest for a config and one layer.
pub fn manifest_for(cfg: &[u8], layer: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(cfg), "size": cfg.len()},
        "layers": [{"mediaType": OCI_LAYER, "digest": sha256(layer), "size": layer.len()}],
    }))
    .unwrap()
}

/// An OCI index of `entries`.
pub fn index_of(entries: Vec<serde_json::Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}))
        .unwrap()
}

pub fn manifest_path(body: &[u8]) -> String {
    format!("/v2/app/manifests/{}", sha256(body))
}

pub fn blob_path(body: &[u8]) -> String {
    format!("/v2/app/blobs/{}", sha256(body))
}
