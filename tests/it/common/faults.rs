//! A small HTTP/1.1 server of the tests' own, on 127.0.0.1, for faults a real server will not produce:
//! bodies cut short, resets, stalls, 5xx/429 before success, redirects. Each path's behaviour is
//! scripted; requests are counted and their headers recorded. Stops when dropped.

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What to do for one request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// 200 with the body.
    Ok(Vec<u8>),
    /// 200 with the body and extra headers (such as a `Content-Encoding`).
    OkWith(Vec<u8>, Vec<(String, String)>),
    /// Status with an empty body and extra headers.
    Status(u16, Vec<(String, String)>),
    /// 200 with Content-Length of the full body, but only `n` bytes sent, then the connection closes.
    CutAfter(Vec<u8>, usize),
    /// 200 without Content-Length, `n` bytes then close (a silent truncation only a signature catches).
    NoLengthCut(Vec<u8>, usize),
    /// Headers, then silence for the duration.
    Stall(Duration),
    /// Redirect (302) to the URL.
    Redirect(String),
    /// 200 without Content-Length and an endless body of zeros (until the client hangs up).
    Endless,
    /// 200 claiming a huge Content-Length, then a little data and silence.
    HugeLength(u64),
    /// One byte every `Duration` (a slow drip) of the body, with a correct Content-Length.
    Drip(Vec<u8>, Duration),
}

#[derive(Default)]
struct State {
    /// Per path: a script of faults, one per request; the last one repeats.
    routes: HashMap<String, Vec<Fault>>,
    hits: HashMap<String, usize>,
    headers: Vec<(String, Vec<(String, String)>)>,
}

pub struct FaultServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FaultServer {
    pub fn start() -> FaultServer {
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let (port, stop) = super::serve_loopback(move |s, _| handle(s, st.clone()));
        FaultServer { port, state, stop }
    }

    /// Scripts `path`: the n-th request gets `script[n]`, later ones the last entry.
    pub fn route(&self, path: &str, script: Vec<Fault>) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), script);
    }

    /// A server of one release: `/tool` answers with `tool` and `/tool.asc` with `sig`, each
    /// scripted as by [`FaultServer::route`].
    pub fn release(tool: Vec<Fault>, sig: Vec<Fault>) -> FaultServer {
        let fs = FaultServer::start();
        fs.route("/tool", tool);
        fs.route("/tool.asc", sig);
        fs
    }

    /// Serves `data` at `path` and `signer`'s armored signature of it at `path.asc`.
    pub fn signed(&self, path: &str, data: &[u8], signer: &super::pgp::TestKey) {
        self.route(path, vec![Fault::Ok(data.to_vec())]);
        let sig = super::pgp::armor_sigs(&[signer.sign(data)]);
        self.route(&format!("{path}.asc"), vec![Fault::Ok(sig)]);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn hits(&self, path: &str) -> usize {
        *self.state.lock().unwrap().hits.get(path).unwrap_or(&0)
    }

    /// Headers of every request received, by path.
    pub fn headers(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.state.lock().unwrap().headers.clone()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn handle(stream: TcpStream, state: Arc<Mutex<State>>) {
    stream.set_nonblocking(false).ok();
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    while let Some(req) = super::read_request(&mut reader) {
        // Routed by the whole target: verify-bin's URLs carry no query.
        let (method, path) = (req.method, req.target);
        let fault = {
            let mut st = state.lock().unwrap();
            st.headers.push((path.clone(), req.headers));
            let st = &mut *st;
            super::next_scripted(&st.routes, &mut st.hits, &path)
                .unwrap_or(Fault::Status(404, vec![]))
        };
        let mut s = stream.try_clone().unwrap();
        let head_only = method == "HEAD";
        let keep = match fault {
            Fault::Ok(b) => {
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n", b.len());
                if !head_only {
                    let _ = s.write_all(&b);
                }
                true
            }
            Fault::OkWith(b, extra) => {
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n", b.len());
                for (k, v) in extra {
                    let _ = write!(s, "{k}: {v}\r\n");
                }
                let _ = write!(s, "\r\n");
                if !head_only {
                    let _ = s.write_all(&b);
                }
                true
            }
            Fault::Status(code, extra) => {
                let _ = write!(s, "HTTP/1.1 {code} X\r\nContent-Length: 0\r\n");
                for (k, v) in extra {
                    let _ = write!(s, "{k}: {v}\r\n");
                }
                let _ = write!(s, "\r\n");
                true
            }
            Fault::CutAfter(b, n) => {
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", b.len());
                let _ = s.write_all(&b[..n.min(b.len())]);
                let _ = s.flush();
                let _ = s.shutdown(Shutdown::Both);
                false
            }
            Fault::NoLengthCut(b, n) => {
                let _ = write!(s, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
                let _ = s.write_all(&b[..n.min(b.len())]);
                let _ = s.flush();
                let _ = s.shutdown(Shutdown::Both);
                false
            }
            Fault::Stall(d) => {
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
                let _ = s.flush();
                std::thread::sleep(d);
                false
            }
            Fault::Endless => {
                let _ = write!(s, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
                let zeros = vec![0u8; 64 * 1024];
                while s.write_all(&zeros).is_ok() {}
                false
            }
            Fault::HugeLength(n) => {
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n");
                let _ = s.write_all(&[0u8; 1024]);
                let _ = s.flush();
                std::thread::sleep(Duration::from_secs(2));
                false
            }
            Fault::Drip(b, every) => {
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", b.len());
                for byte in b {
                    if s.write_all(&[byte]).is_err() {
                        break;
                    }
                    let _ = s.flush();
                    std::thread::sleep(every);
                }
                false
            }
            Fault::Redirect(to) => {
                let _ = write!(
                    s,
                    "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n"
                );
                true
            }
        };
        let _ = s.flush();
        if !keep {
            return;
        }
    }
}
