//! A proxy of the tests' own in front of moto that does what moto does not: it answers the list
//! actions shipcheck calls in pages of [`PAGE`] (with `nextToken`), as ECS, ECR and EC2 do for long
//! lists, and it counts calls per action and the most calls it saw in flight at once. Every call is
//! held for [`HOLD`] so that calls made concurrently overlap. ECS and ECR speak JSON (the action in
//! `X-Amz-Target`); EC2 speaks the query protocol (a form with `Action`, answers in XML). It can also
//! rewrite answers ([`Pager::rewrite`]) into states moto does not produce.

use super::{read_request, serve_loopback};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Items per page of a paged answer.
pub const PAGE: usize = 3;
/// How long every call is held before it is forwarded.
pub const HOLD: Duration = Duration::from_millis(30);

/// X-Amz-Target suffix -> the list in the answer that is paged.
const PAGED: &[(&str, &str)] = &[
    (".ListClusters", "clusterArns"),
    (".ListServices", "serviceArns"),
    (".DescribeRepositories", "repositories"),
    (".DescribeImages", "imageDetails"),
];

/// EC2 action -> the XML element holding the paged list (each entry an `<item>`).
const PAGED_EC2: &[(&str, &str)] = &[
    ("DescribeVpcs", "vpcSet"),
    ("DescribeVpcEndpoints", "vpcEndpointSet"),
    ("DescribeSecurityGroups", "securityGroupInfo"),
];

#[derive(Default)]
struct Stats {
    calls: Mutex<HashMap<String, usize>>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    /// (action, from, to): text replaced in every successful answer of the action.
    rewrites: Mutex<Vec<(String, String, String)>>,
}

pub struct Pager {
    pub port: u16,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
}

impl Pager {
    /// A pager in front of moto on `moto_port`.
    pub fn start(moto_port: u16) -> Pager {
        let stats = Arc::new(Stats::default());
        let st = stats.clone();
        let (port, stop) = serve_loopback(move |s, _| serve(s, moto_port, &st));
        Pager { port, stats, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Calls of `action` (e.g. `ListServices`) seen so far.
    pub fn calls(&self, action: &str) -> usize {
        let calls = self.stats.calls.lock().unwrap();
        calls
            .iter()
            .filter(|(k, _)| k.ends_with(&format!(".{action}")))
            .map(|(_, n)| n)
            .sum()
    }

    /// From now on, every successful answer of `action` (e.g. `DescribeServices`) has `from`
    /// replaced by `to`: a state moto does not produce (a service `DRAINING`, a group left out).
    pub fn rewrite(&self, action: &str, from: &str, to: &str) {
        self.stats.rewrites.lock().unwrap().push((
            format!(".{action}"),
            from.to_string(),
            to.to_string(),
        ));
    }

    /// The most calls that were in flight at once.
    pub fn peak(&self) -> usize {
        self.stats.peak.load(Ordering::SeqCst)
    }
}

impl Drop for Pager {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(s: TcpStream, moto_port: u16, stats: &Stats) {
    let mut out = s.try_clone().unwrap();
    let mut reader = BufReader::new(s);
    while let Some(req) = read_request(&mut reader) {
        let header = |k: &str| {
            req.headers
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        };
        let form: Option<Vec<(String, String)>> = header("content-type")
            .filter(|t| t.starts_with("application/x-www-form-urlencoded"))
            .map(|_| {
                url::form_urlencoded::parse(&req.body)
                    .into_owned()
                    .collect()
            });
        let action = form
            .as_ref()
            .and_then(|f| f.iter().find(|(k, _)| k == "Action"))
            .map(|(_, v)| format!("query.{v}"));
        let target = header("x-amz-target").or(action).unwrap_or_default();
        *stats
            .calls
            .lock()
            .unwrap()
            .entry(target.clone())
            .or_insert(0) += 1;
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.peak.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(HOLD);

        let answer = match form {
            Some(form) => page_query(moto_port, &req, &target, form),
            None => page_json(moto_port, &req, &target),
        };
        let (status, head, mut answer) = answer;
        if status == 200 {
            for (action, from, to) in stats.rewrites.lock().unwrap().iter() {
                if target.ends_with(action.as_str()) {
                    answer = String::from_utf8(answer)
                        .unwrap()
                        .replace(from.as_str(), to)
                        .into_bytes();
                }
            }
        }
        stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        let mut resp = format!("HTTP/1.1 {status} X\r\n");
        for (k, v) in &head {
            resp.push_str(&format!("{k}: {v}\r\n"));
        }
        resp.push_str(&format!("Content-Length: {}\r\n\r\n", answer.len()));
        if out.write_all(resp.as_bytes()).is_err() || out.write_all(&answer).is_err() {
            return;
        }
    }
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// A JSON-protocol call (ECS, ECR): a paged list action is answered a page at a time.
fn page_json(moto_port: u16, req: &super::Request, target: &str) -> Answer {
    let paged = PAGED.iter().find(|(t, _)| target.ends_with(t)).map(|p| p.1);
    let mut body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let offset = paged
        .and_then(|_| body.get("nextToken"))
        .and_then(Value::as_str)
        .and_then(page_offset)
        .unwrap_or(0);
    if let (Some(_), Some(obj)) = (paged, body.as_object_mut()) {
        obj.remove("nextToken");
        obj.remove("maxResults");
    }
    let fwd_body = if paged.is_some() {
        body.to_string().into_bytes()
    } else {
        req.body.clone()
    };
    let (status, head, mut answer) = forward(moto_port, req, &fwd_body);
    if let (Some(list), true) = (paged, status == 200) {
        let mut v: Value = serde_json::from_slice(&answer).unwrap();
        let all = v[list].as_array().cloned().unwrap_or_default();
        let page: Vec<Value> = all.iter().skip(offset).take(PAGE).cloned().collect();
        v[list] = Value::Array(page);
        if offset + PAGE < all.len() {
            v["nextToken"] = Value::String(format!("page-{}", offset + PAGE));
        } else if let Some(o) = v.as_object_mut() {
            o.remove("nextToken");
        }
        answer = v.to_string().into_bytes();
    }
    (status, head, answer)
}

/// A query-protocol call (EC2): a paged list action is answered a page at a time, the list's
/// `<item>`s cut from moto's whole answer and `<nextToken>` added while more remain.
fn page_query(
    moto_port: u16,
    req: &super::Request,
    target: &str,
    mut form: Vec<(String, String)>,
) -> Answer {
    let paged = PAGED_EC2
        .iter()
        .find(|(a, _)| target.strip_prefix("query.") == Some(*a))
        .map(|p| p.1);
    let Some(list) = paged else {
        return forward(moto_port, req, &req.body);
    };
    let offset = form
        .iter()
        .find(|(k, _)| k == "NextToken")
        .and_then(|(_, v)| page_offset(v))
        .unwrap_or(0);
    form.retain(|(k, _)| k != "NextToken" && k != "MaxResults");
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&form)
        .finish();
    let (status, head, answer) = forward(moto_port, req, body.as_bytes());
    if status != 200 {
        return (status, head, answer);
    }
    let xml = String::from_utf8(answer).unwrap();
    (status, head, xml_page(&xml, list, offset).into_bytes())
}

fn page_offset(token: &str) -> Option<usize> {
    token.strip_prefix("page-")?.parse().ok()
}

/// `xml` with only the items `offset..offset + PAGE` of its `<list>` element, and a `<nextToken>`
/// before the closing root tag when items remain.
fn xml_page(xml: &str, list: &str, offset: usize) -> String {
    let (open, close) = (format!("<{list}>"), format!("</{list}>"));
    let (Some(a), Some(b)) = (xml.find(&open), xml.rfind(&close)) else {
        return xml.to_string(); // an empty list (`<list/>`): one page
    };
    let items = top_level_items(&xml[a + open.len()..b]);
    let page: String = items.iter().skip(offset).take(PAGE).copied().collect();
    let rest = &xml[b + close.len()..];
    let token = if offset + PAGE < items.len() {
        format!("<nextToken>page-{}</nextToken>", offset + PAGE)
    } else {
        String::new()
    };
    let root_close = rest.rfind("</").expect("a closing root tag");
    format!(
        "{}{open}{page}{close}{}{token}{}",
        &xml[..a],
        &rest[..root_close],
        &rest[root_close..]
    )
}

/// The `<item>` elements directly inside `inner` (items nest: a group's rules are items too).
fn top_level_items(inner: &str) -> Vec<&str> {
    let bytes = inner.as_bytes();
    let (mut items, mut depth, mut start, mut i) = (Vec::new(), 0usize, 0, 0);
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"<item/>") {
            if depth == 0 {
                items.push(&inner[i..i + 7]);
            }
            i += 7;
        } else if rest.starts_with(b"<item>") {
            if depth == 0 {
                start = i;
            }
            depth += 1;
            i += 6;
        } else if rest.starts_with(b"</item>") {
            depth -= 1;
            i += 7;
            if depth == 0 {
                items.push(&inner[start..i]);
            }
        } else {
            i += 1;
        }
    }
    items
}

/// Sends the request to moto (a connection of its own) and returns status, headers to pass on and
/// the body.
fn forward(port: u16, req: &super::Request, body: &[u8]) -> Answer {
    let mut m = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    for (k, v) in &req.headers {
        if k != "connection" && k != "content-length" {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    m.write_all(head.as_bytes()).unwrap();
    m.write_all(body).unwrap();
    let mut resp = Vec::new();
    m.read_to_end(&mut resp).unwrap();
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let text = String::from_utf8_lossy(&resp[..split]).to_string();
    let mut lines = text.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(502);
    let keep = ["content-type", "x-amzn-requestid", "x-amzn-errortype"];
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| keep.contains(&k.trim().to_ascii_lowercase().as_str()))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    (status, headers, resp[split + 4..].to_vec())
}
