//! Shared test support: a test CA, free ports, waiting for servers, running the binary.
#![allow(dead_code)]

pub mod aws_pager;
pub mod contract;
pub mod fake_registry;
pub mod faults;
pub mod image_json;
pub mod moto;
pub mod nginx;
pub mod pgp;
pub mod proxy;
pub mod registry;
pub mod tar;
pub mod tls;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
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

/// One HTTP/1.1 request as the tests' own servers see it.
pub struct Request {
    pub method: String,
    /// The request target, with its query string.
    pub target: String,
    /// The target without its query string.
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Reads one request (body by Content-Length). `None` when the peer hangs up, or sends something
/// that is not HTTP text (a TLS ClientHello from shipcheck's HTTPS probe).
pub fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let path = target.split('?').next().unwrap_or("/").to_string();
    let mut headers = Vec::new();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            if k == "content-length" {
                len = v.trim().parse().unwrap_or(0);
            }
            headers.push((k, v.trim().to_string()));
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok();
    Some(Request {
        method,
        target,
        path,
        headers,
        body,
    })
}

/// The scripted answer for the next request to `key`: the n-th request gets `script[n]`, later ones
/// the last entry; `None` for an unscripted key. Counts the hit.
/// What the next request to `key` would be answered, without counting a hit (HEAD: a registry
/// answers HEAD with the headers its GET would carry).
pub fn peek_scripted<T: Clone>(
    routes: &HashMap<String, Vec<T>>,
    hits: &HashMap<String, usize>,
    key: &str,
) -> Option<T> {
    let n = hits.get(key).copied().unwrap_or(0);
    routes
        .get(key)
        .filter(|s| !s.is_empty())
        .map(|s| s[n.min(s.len() - 1)].clone())
}

pub fn next_scripted<T: Clone>(
    routes: &HashMap<String, Vec<T>>,
    hits: &mut HashMap<String, usize>,
    key: &str,
) -> Option<T> {
    let n = hits.entry(key.to_string()).or_insert(0);
    *n += 1;
    routes
        .get(key)
        .filter(|s| !s.is_empty())
        .map(|s| s[(*n - 1).min(s.len() - 1)].clone())
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

/// The `code` of every entry of the JSON array `v[key]` (a report's `reasons`, a container's...).
pub fn codes_at(v: &serde_json::Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

/// The `code` of every one of a JSON report's `reasons`.
pub fn codes(v: &serde_json::Value) -> Vec<String> {
    codes_at(v, "reasons")
}

/// Reads a file as bytes, or None.
pub fn read_opt(p: &Path) -> Option<Vec<u8>> {
    std::fs::read(p).ok()
}
