//! A fault-injecting HTTP proxy of the tests' own, on 127.0.0.1, placed between shipcheck and a real
//! upstream server (nginx, docker-registry). Each request is forwarded to the upstream; the response is
//! then delivered faithfully or with the scripted fault. Faults are scripted per request number
//! (1-based, counting every request the proxy receives but a manifest's HEAD) and can be limited to
//! paths containing a string.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum ProxyFault {
    /// Send the response head and `n` bytes of the body, then reset the connection.
    ResetAfter(usize),
    /// Send the head, then nothing for this long.
    Stall(Duration),
    /// Send the body one byte every `Duration`.
    Drip(Duration),
    /// Claim the real length but send `n` fewer bytes, then close.
    Short(usize),
    /// Send `n` extra garbage bytes after the body (Content-Length unchanged).
    Long(usize),
    /// Flip one bit in the body at this offset (or the middle, if past the end).
    FlipByte(usize),
    /// Answer with this status instead of forwarding (empty body), with optional Retry-After.
    Status(u16, Option<String>),
    /// Answer with a redirect to this URL.
    Redirect(String),
}

#[derive(Clone)]
struct Rule {
    path_contains: String,
    /// Which matching requests (1-based) get the fault; empty = all.
    nth: Vec<usize>,
    fault: ProxyFault,
    seen: usize,
}

pub struct Proxy {
    pub port: u16,
    rules: Arc<Mutex<Vec<Rule>>>,
    log: Arc<Mutex<Vec<Logged>>>,
    stop: Arc<AtomicBool>,
}

/// One request as the proxy saw it.
#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub status: u16,
}

impl Proxy {
    /// A proxy to 127.0.0.1:`upstream`.
    pub fn start(upstream: u16) -> Proxy {
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::default();
        let log: Arc<Mutex<Vec<Logged>>> = Arc::default();
        let (r, l) = (rules.clone(), log.clone());
        let (port, stop) = super::serve_loopback(move |c, _| {
            let _ = serve(c, upstream, r.clone(), l.clone());
        });
        Proxy {
            port,
            rules,
            log,
            stop,
        }
    }

    /// Applies `fault` to requests whose path contains `path_contains`: the `nth` matching ones
    /// (1-based), or all of them when `nth` is empty.
    pub fn fault(&self, path_contains: &str, nth: &[usize], fault: ProxyFault) {
        self.rules.lock().unwrap().push(Rule {
            path_contains: path_contains.into(),
            nth: nth.to_vec(),
            fault,
            seen: 0,
        });
    }

    pub fn clear(&self) {
        self.rules.lock().unwrap().clear();
        self.log.lock().unwrap().clear();
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{}",
            self.port,
            path.trim_start_matches('/')
        )
    }

    pub fn log(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_head(r: &mut impl BufRead) -> Option<(String, Vec<(String, String)>)> {
    let mut first = String::new();
    if r.read_line(&mut first).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Some((first.trim_end().to_string(), headers))
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn read_body(r: &mut impl BufRead, h: &[(String, String)], head_only: bool) -> Vec<u8> {
    let mut body = Vec::new();
    if head_only {
        return body;
    }
    if header(h, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let n = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if n == 0 {
                let mut end = String::new();
                let _ = r.read_line(&mut end);
                break;
            }
            let mut chunk = vec![0; n];
            if r.read_exact(&mut chunk).is_err() {
                break;
            }
            body.extend(chunk);
            let mut crlf = String::new();
            let _ = r.read_line(&mut crlf);
        }
    } else if let Some(n) = header(h, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(n, 0);
        let _ = r.read_exact(&mut body);
    } else {
        let _ = r.read_to_end(&mut body);
    }
    body
}

fn serve(
    client: TcpStream,
    upstream: u16,
    rules: Arc<Mutex<Vec<Rule>>>,
    log: Arc<Mutex<Vec<Logged>>>,
) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    let mut cr = BufReader::new(client.try_clone()?);
    let mut cw = client;
    loop {
        let Some((line, headers)) = read_head(&mut cr) else {
            return Ok(());
        };
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("GET").to_string();
        let path = parts.next().unwrap_or("/").to_string();
        let req_body = read_body(
            &mut cr,
            &headers,
            !headers.iter().any(|(k, _)| {
                k.eq_ignore_ascii_case("content-length")
                    || k.eq_ignore_ascii_case("transfer-encoding")
            }),
        );
        let fault = {
            let mut rs = rules.lock().unwrap();
            let mut chosen = None;
            // A manifest's HEAD (how runtimes, and shipcheck beside its GET, resolve a reference)
            // is forwarded faithfully and not counted: faults script the GETs.
            let resolve = method == "HEAD" && path.contains("/manifests/");
            for r in rs.iter_mut().filter(|_| !resolve) {
                if path.contains(&r.path_contains) {
                    r.seen += 1;
                    if chosen.is_none() && (r.nth.is_empty() || r.nth.contains(&r.seen)) {
                        chosen = Some(r.fault.clone());
                    }
                }
            }
            chosen
        };
        // Answer without the upstream?
        let canned = match &fault {
            Some(ProxyFault::Status(code, retry)) => Some((
                *code,
                retry
                    .as_ref()
                    .map(|r| ("Retry-After".to_string(), r.clone())),
            )),
            Some(ProxyFault::Redirect(to)) => {
                Some((302, Some(("Location".to_string(), to.clone()))))
            }
            _ => None,
        };
        if let Some((code, extra)) = canned {
            log.lock().unwrap().push(Logged {
                method,
                path,
                headers,
                status: code,
            });
            write!(cw, "HTTP/1.1 {code} Fault\r\nContent-Length: 0\r\n")?;
            if let Some((k, v)) = extra {
                write!(cw, "{k}: {v}\r\n")?;
            }
            write!(cw, "\r\n")?;
            cw.flush()?;
            continue;
        }
        // Forward to the upstream, one connection per request.
        let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
        write!(up, "{line}\r\n")?;
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case("connection") {
                continue;
            }
            write!(up, "{k}: {v}\r\n")?;
        }
        write!(up, "Connection: close\r\n\r\n")?;
        up.write_all(&req_body)?;
        up.flush()?;
        let mut ur = BufReader::new(up);
        let Some((status_line, rh)) = read_head(&mut ur) else {
            return Ok(());
        };
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(502);
        let mut body = read_body(
            &mut ur,
            &rh,
            method == "HEAD" || status == 204 || status == 304,
        );
        log.lock().unwrap().push(Logged {
            method: method.clone(),
            path,
            headers,
            status,
        });
        let declared = if method == "HEAD" {
            header(&rh, "content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        } else {
            body.len()
        };
        if let Some(ProxyFault::FlipByte(at)) = fault {
            if !body.is_empty() {
                let i = if at < body.len() { at } else { body.len() / 2 };
                body[i] ^= 0x01;
            }
        }
        write!(cw, "{status_line}\r\n")?;
        for (k, v) in &rh {
            if ["content-length", "transfer-encoding", "connection"]
                .iter()
                .any(|n| k.eq_ignore_ascii_case(n))
            {
                continue;
            }
            write!(cw, "{k}: {v}\r\n")?;
        }
        write!(cw, "Content-Length: {declared}\r\n\r\n")?;
        match fault {
            Some(ProxyFault::ResetAfter(n)) => {
                cw.write_all(&body[..n.min(body.len())])?;
                cw.flush()?;
                // SO_LINGER 0 would send RST; closing both directions is what std offers.
                let _ = cw.shutdown(Shutdown::Both);
                return Ok(());
            }
            Some(ProxyFault::Stall(d)) => {
                cw.flush()?;
                std::thread::sleep(d);
                return Ok(());
            }
            Some(ProxyFault::Drip(every)) => {
                for b in body {
                    cw.write_all(&[b])?;
                    cw.flush()?;
                    std::thread::sleep(every);
                }
            }
            Some(ProxyFault::Short(n)) => {
                cw.write_all(&body[..body.len().saturating_sub(n)])?;
                cw.flush()?;
                let _ = cw.shutdown(Shutdown::Both);
                return Ok(());
            }
            Some(ProxyFault::Long(n)) => {
                cw.write_all(&body)?;
                cw.write_all(&vec![b'X'; n])?;
                cw.flush()?;
                let _ = cw.shutdown(Shutdown::Both);
                return Ok(());
            }
            _ => cw.write_all(&body)?,
        }
        cw.flush()?;
    }
}
