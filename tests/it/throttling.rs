//! The adaptive per-host limit against a registry that throttles: a server of our own (a real
//! registry does not throttle) that answers 429 to any request beyond N in flight, like a registry
//! enforcing a concurrency quota. An audit of many images must complete, and the registry must not
//! be pushed past its limit for long.

use crate::common;

use common::registry::{sha256, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST};
use common::{read_request, serve_loopback, shipcheck};
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What the server saw.
#[derive(Default)]
struct Counts {
    in_flight: AtomicUsize,
    served: AtomicUsize,
    throttled: AtomicUsize,
    /// Most requests in flight among those served (not throttled).
    peak_served: AtomicUsize,
    /// Requests for the marked paths in flight, and the most at once.
    marked_in_flight: AtomicUsize,
    peak_marked: AtomicUsize,
}

/// Serves `content` (path -> (content type, body)); more than `quota` requests in flight get 429.
fn throttling_registry(
    content: HashMap<String, (String, Vec<u8>)>,
    quota: usize,
) -> (u16, Arc<Counts>, Arc<std::sync::atomic::AtomicBool>) {
    throttling_registry_counting(content, quota, Vec::new())
}

/// [`throttling_registry`], also counting the requests for `marked` paths in flight at once.
fn throttling_registry_counting(
    content: HashMap<String, (String, Vec<u8>)>,
    quota: usize,
    marked: Vec<String>,
) -> (u16, Arc<Counts>, Arc<std::sync::atomic::AtomicBool>) {
    let counts = Arc::new(Counts::default());
    let c = counts.clone();
    let content = Arc::new(content);
    let (port, stop) = serve_loopback(move |stream, _| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut stream = stream;
        while let Some(req) = read_request(&mut reader) {
            let now = c.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            let is_marked = marked.contains(&req.path);
            if is_marked {
                let m = c.marked_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                c.peak_marked.fetch_max(m, Ordering::SeqCst);
            }
            let resp = if now > quota {
                c.throttled.fetch_add(1, Ordering::SeqCst);
                "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n"
                    .as_bytes()
                    .to_vec()
            } else {
                c.peak_served.fetch_max(now, Ordering::SeqCst);
                c.served.fetch_add(1, Ordering::SeqCst);
                // Each answer takes a while, so requests overlap.
                std::thread::sleep(Duration::from_millis(15));
                match content.get(&req.path) {
                    Some((ct, body)) => {
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        if req.method != "HEAD" {
                            r.extend_from_slice(body);
                        }
                        r
                    }
                    None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
                }
            };
            c.in_flight.fetch_sub(1, Ordering::SeqCst);
            if is_marked {
                c.marked_in_flight.fetch_sub(1, Ordering::SeqCst);
            }
            if stream.write_all(&resp).is_err() {
                return;
            }
        }
    });
    (port, counts, stop)
}

/// Runs `shipcheck audit --json ARGS` on an audit file holding `text` (two minutes at most).
fn run_audit(text: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.toml");
    std::fs::write(&audit, text).unwrap();
    shipcheck()
        .args(["audit", "--json"])
        .args(args)
        .arg(&audit)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

/// `n` two-platform images (index, two manifests, two configs) under `app{i}:v1`.
fn images(n: usize) -> HashMap<String, (String, Vec<u8>)> {
    let mut m = HashMap::new();
    m.insert(
        "/v2/".to_string(),
        ("application/json".to_string(), b"{}".to_vec()),
    );
    for i in 0..n {
        let repo = format!("app{i}");
        let mut entries = Vec::new();
        for (os, arch) in [("linux", "amd64"), ("linux", "arm64")] {
            let layer = sha256(format!("{repo}{arch}").as_bytes());
            let config = serde_json::to_vec(&json!({"architecture": arch, "os": os, "n": i,
                "rootfs": {"type": "layers", "diff_ids": [layer]}}))
            .unwrap();
            let cd = sha256(&config);
            let manifest = serde_json::to_vec(&json!({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": cd, "size": config.len()},
                "layers": [{"mediaType": OCI_LAYER, "digest": layer, "size": 1}],
            }))
            .unwrap();
            let md = sha256(&manifest);
            entries.push(
                json!({"mediaType": OCI_MANIFEST, "digest": md, "size": manifest.len(),
                                "platform": {"os": os, "architecture": arch}}),
            );
            m.insert(
                format!("/v2/{repo}/blobs/{cd}"),
                (OCI_CONFIG.to_string(), config),
            );
            m.insert(
                format!("/v2/{repo}/manifests/{md}"),
                (OCI_MANIFEST.to_string(), manifest),
            );
        }
        let index = serde_json::to_vec(
            &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}),
        )
        .unwrap();
        m.insert(
            format!("/v2/{repo}/manifests/v1"),
            (OCI_INDEX.to_string(), index),
        );
    }
    m
}

#[test]
fn an_audit_adapts_to_a_registry_that_throttles() {
    const IMAGES: usize = 40;
    const QUOTA: usize = 4;
    let (port, counts, stop) = throttling_registry(images(IMAGES), QUOTA);
    let mut text = String::new();
    for i in 0..IMAGES {
        text.push_str(&format!(
            "[[image]]\nref = \"127.0.0.1:{port}/app{i}:v1\"\nplatforms = [\"amd64\", \"arm64\"]\n"
        ));
    }
    let out = run_audit(&text, &["--retries", "6", "--max-per-host", "64"]);
    stop.store(true, Ordering::Relaxed);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let served = counts.served.load(Ordering::SeqCst);
    let throttled = counts.throttled.load(Ordering::SeqCst);
    // 40 images x 5 requests (+ the HTTPS probe's failure, which the server never sees as HTTP).
    assert!(served >= IMAGES * 5, "{served} served");
    // The limit starts at 16 (above the quota), halves at each 429 and grows back by one per
    // `limit` answers: a burst at the start, then an occasional probe past the quota.
    assert!(
        throttled * 4 < served,
        "{throttled} of {} requests throttled: the client kept pushing past the quota",
        served + throttled
    );
    assert!(counts.peak_served.load(Ordering::SeqCst) <= QUOTA);
}

#[test]
fn max_per_host_caps_requests_in_flight() {
    const IMAGES: usize = 12;
    // A quota far above the cap: nothing is throttled, and the peak stays at the cap.
    let (port, counts, stop) = throttling_registry(images(IMAGES), 1000);
    let mut text = String::new();
    for i in 0..IMAGES {
        text.push_str(&format!(
            "[[image]]\nref = \"127.0.0.1:{port}/app{i}:v1\"\n"
        ));
    }
    let out = run_audit(&text, &["--max-per-host", "3"]);
    stop.store(true, Ordering::Relaxed);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(counts.throttled.load(Ordering::SeqCst), 0);
    let peak = counts.peak_served.load(Ordering::SeqCst);
    assert!(peak <= 3, "{peak} requests in flight with --max-per-host 3");
    assert!(peak >= 2, "requests ran one at a time ({peak})");
}

/// `--content` downloads and decompresses at most a few layers at once in a run
/// (`LAYER_STREAMS`, 4): each holds a decoder's window (a zstd window a hostile registry makes up
/// to 128 MiB) and a thread, so memory stays bounded whatever the number of images and platforms
/// verified at once. An audit of 12 images of one layer each, every answer taking a while: the
/// layer GETs overlap, never more than 4 of them.
#[test]
fn content_streams_a_few_layers_at_a_time() {
    const IMAGES: usize = 12;
    let mut m = HashMap::new();
    m.insert(
        "/v2/".to_string(),
        ("application/json".to_string(), b"{}".to_vec()),
    );
    let mut audit_text = String::new();
    let layer_paths: Vec<String> = (0..IMAGES)
        .map(|i| {
            let repo = format!("many{i}");
            let tar = common::tar::tar_of(&[(&format!("f{i}"), format!("layer {i}").as_bytes())]);
            let d = sha256(&tar);
            let path = format!("/v2/{repo}/blobs/{d}");
            m.insert(path.clone(), ("application/octet-stream".to_string(), tar.clone()));
            let config = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": [d]}}))
            .unwrap();
            let cd = sha256(&config);
            m.insert(
                format!("/v2/{repo}/blobs/{cd}"),
                (OCI_CONFIG.to_string(), config.clone()),
            );
            let manifest = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": cd, "size": config.len()},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": tar.len()}]}))
            .unwrap();
            m.insert(
                format!("/v2/{repo}/manifests/v1"),
                (OCI_MANIFEST.to_string(), manifest),
            );
            path
        })
        .collect();
    let (port, counts, stop) = throttling_registry_counting(m, 1000, layer_paths);
    for i in 0..IMAGES {
        audit_text.push_str(&format!(
            "[[image]]\nref = \"127.0.0.1:{port}/many{i}:v1\"\nplatforms = [\"amd64\"]\ncontent = true\n"
        ));
    }
    let out = run_audit(&audit_text, &[]);
    stop.store(true, Ordering::Relaxed);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let peak = counts.peak_marked.load(Ordering::SeqCst);
    assert!(
        peak <= 4,
        "{peak} layer downloads at once: more than 4 layer streams"
    );
    assert!(peak >= 2, "layers were fetched one at a time ({peak})");
}
