//! Hardening of verify-image (issue 5, registry side).
//!
//! Network faults: a fault-injecting proxy between shipcheck and a real docker-registry. Each fault
//! ends in one of: the retry recovered and the verdict is right (exit 0), or exit 2 with a reason
//! naming the fault. Corrupted content never exits 0.
//!
//! Hostile content: a scripted registry of our own serves huge sizes, huge indexes, index loops, bad
//! digests, duplicate JSON keys, deep nesting, lying content types, a token service that never
//! answers and malformed or insecure `WWW-Authenticate` challenges. Each case ends within a deadline,
//! with a clear reason and exit 1 or 2, and never panics.

use crate::common;
use crate::common::fake_registry;
use crate::common::image_json as image_support;

use base64::Engine as _;
use common::proxy::{Proxy, ProxyFault};
use common::registry::{sha256, Pushed, Registry, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST};
use common::shipcheck;
use fake_registry::{
    blob_path, index_of, manifest_for, manifest_path, ok, serve_app, status, Fake, Image, Silent,
};
use image_support::ImageJson;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// One run of `shipcheck verify-image --json`.
struct Out {
    code: i32,
    json: ImageJson,
    stdout: String,
    stderr: String,
    took: Duration,
}

fn verify(reference: &str, extra: &[&str]) -> Out {
    verify_with(shipcheck(), reference, extra)
}

/// Runs the binary with a hard 40 s kill switch: a hang shows up as a failed test, not a stuck suite.
fn verify_with(mut cmd: assert_cmd::Command, reference: &str, extra: &[&str]) -> Out {
    cmd.env("SHIPCHECK_TRACE_REQUESTS", "1")
        .args(["verify-image", "--json", reference])
        .args(extra)
        .timeout(Duration::from_secs(40));
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "shipcheck panicked:\n{stderr}"
    );
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("killed (timeout or signal) after {took:?}; stderr:\n{stderr}"));
    let json: ImageJson = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not the JSON contract ({e}):\n{stdout}\n{stderr}"));
    Out {
        code,
        json,
        stdout,
        stderr,
        took,
    }
}

impl Out {
    /// Exit code `exit`, a reason `code` whose message contains `needle`, within `deadline`.
    fn expect(&self, exit: i32, code: &str, needle: &str, deadline: Duration) -> &Self {
        assert_eq!(
            self.code, exit,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            self.took < deadline,
            "took {:?}, deadline {deadline:?}",
            self.took
        );
        if code.is_empty() {
            assert!(self.json.reasons.is_empty(), "{:?}", self.json.reasons);
            assert_eq!(self.json.verdict, "pass");
            return self;
        }
        assert!(
            self.json.reasons.iter().any(|r| r.code == code
                && r.message
                    .to_ascii_lowercase()
                    .contains(&needle.to_ascii_lowercase())),
            "expected reason {code} mentioning `{needle}`, got {:?}",
            self.json.reasons
        );
        self
    }

    /// The first reason says the run gave up after `attempts` attempts.
    fn expect_gave_up_after(&self, attempts: u32) {
        let gave_up = format!("gave up after {attempts} attempts");
        assert!(
            self.json.reasons[0].message.contains(&gave_up),
            "{:?}",
            self.json.reasons
        );
    }

    /// The HTTP requests shipcheck says it sent (SHIPCHECK_TRACE_REQUESTS lines).
    fn request_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.contains("request ") && l.contains("ms): "))
            .collect()
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

// ------------------------------------------------------------------------------------------------
// Network faults: proxy in front of the real registry

struct Rig {
    reg: Registry,
    proxy: Proxy,
    index: Pushed,
    manifests: Vec<Pushed>,
    reference: String,
}

impl Rig {
    fn new() -> Rig {
        let reg = Registry::plain();
        let (index, manifests) = reg.push_multi("team/app", "v1", true);
        let proxy = Proxy::start(reg.port);
        let reference = format!("127.0.0.1:{}/team/app:v1", proxy.port);
        Rig {
            reg,
            proxy,
            index,
            manifests,
            reference,
        }
    }

    /// Path (as the proxy matches it) of the amd64 platform manifest.
    fn amd_manifest(&self) -> String {
        format!("/manifests/{}", self.manifests[0].digest)
    }

    /// Path of the amd64 config blob.
    fn amd_config(&self) -> String {
        let m: Value = serde_json::from_slice(&self.manifests[0].body).unwrap();
        format!("/blobs/{}", m["config"]["digest"].as_str().unwrap())
    }

    fn run(&self, extra: &[&str]) -> Out {
        let mut args = vec!["--platforms", "amd64,arm64"];
        args.extend_from_slice(extra);
        verify(&self.reference, &args)
    }

    /// Clears the proxy (its rules and log), then sets `fault` on `path` for the requests numbered
    /// `nth` (every request when empty).
    fn only_fault(&self, path: &str, nth: &[usize], fault: ProxyFault) {
        self.proxy.clear();
        self.proxy.fault(path, nth, fault);
    }

    /// The index by tag, the amd64 manifest and its config, as the proxy matches their paths.
    fn documents(&self) -> [String; 3] {
        [
            "/manifests/v1".to_string(),
            self.amd_manifest(),
            self.amd_config(),
        ]
    }

    /// `fault` on the first request for `path` is retried away (a pass); on every request, the run
    /// gives up after one retry: `download-failed` mentioning `needle`.
    fn once_recovers_always_fails(&self, path: &str, fault: ProxyFault, needle: &str) -> Out {
        self.only_fault(path, &[1], fault.clone());
        self.expect_pass(&[]);
        self.only_fault(path, &[], fault);
        let o = self.run(&["--retries", "1"]);
        o.expect(2, "download-failed", needle, secs(10));
        o
    }

    /// Exit 0 with both platforms verified.
    fn expect_pass(&self, extra: &[&str]) -> Out {
        let o = self.run(extra);
        o.expect(0, "", "", secs(20));
        assert_eq!(o.json.platform_names(), ["linux/amd64", "linux/arm64/v8"]);
        assert_eq!(o.json.digest.as_deref(), Some(self.index.digest.as_str()));
        o
    }
}

#[test]
fn through_the_proxy_untouched_passes() {
    let r = Rig::new();
    let o = r.expect_pass(&[]);
    assert_eq!(o.json.attestations.len(), 2);
    // Everything went through the proxy: the index (GET, and HEAD as runtimes resolve it), 2
    // manifests, 2 configs.
    assert_eq!(r.proxy.log().len(), 6, "{:?}", r.proxy.log());
    assert!(r.reg.log().is_empty() || !r.reg.log().contains("panic"));
}

#[test]
fn reset_mid_body_once_recovers_always_fails() {
    let r = Rig::new();
    for path in r.documents() {
        let o = r.once_recovers_always_fails(&path, ProxyFault::ResetAfter(20), "body");
        o.expect_gave_up_after(2);
    }
}

#[test]
fn stall_beyond_the_timeout_and_slow_drip() {
    let r = Rig::new();
    // A stall longer than --timeout: the read times out; once is retried, always is an error.
    r.proxy
        .fault("/manifests/v1", &[1], ProxyFault::Stall(secs(4)));
    r.expect_pass(&["--timeout", "1"]);
    r.only_fault(&r.amd_manifest(), &[], ProxyFault::Stall(secs(4)));
    r.run(&["--timeout", "1", "--retries", "1"])
        .expect(2, "download-failed", "timed out", secs(8));
    // 1 byte per 100 ms never trips the read timeout, but is under 1 KiB per --timeout window.
    r.only_fault(
        &r.amd_config(),
        &[],
        ProxyFault::Drip(Duration::from_millis(100)),
    );
    r.run(&["--timeout", "1", "--retries", "1"])
        .expect(2, "download-failed", "too slow", secs(8));
}

#[test]
fn short_and_long_bodies() {
    let r = Rig::new();
    for path in r.documents() {
        r.once_recovers_always_fails(&path, ProxyFault::Short(10), "body");
        // Extra bytes after Content-Length are not part of the body: the content is intact.
        r.only_fault(&path, &[], ProxyFault::Long(64));
        r.expect_pass(&[]);
    }
}

#[test]
fn flipped_bytes_never_pass() {
    let r = Rig::new();
    let pinned = format!("127.0.0.1:{}/team/app@{}", r.proxy.port, r.index.digest);
    // The index by tag (caught by Docker-Content-Digest), by digest, and with --digest.
    for (reference, extra) in [
        (r.reference.as_str(), vec![]),
        (pinned.as_str(), vec![]),
        (
            r.reference.as_str(),
            vec!["--digest", r.index.digest.as_str()],
        ),
    ] {
        r.only_fault("/manifests/", &[1], ProxyFault::FlipByte(60));
        let o = verify(reference, &extra);
        o.expect(1, "digest-mismatch", "", secs(10));
        assert!(
            o.json.platforms.is_empty(),
            "nothing verified below a corrupt top"
        );
    }
    // A platform manifest and a config blob: that platform fails, the other is verified.
    for path in [r.amd_manifest(), r.amd_config()] {
        r.only_fault(&path, &[], ProxyFault::FlipByte(40));
        let o = r.run(&[]);
        o.expect(1, "digest-mismatch", "hash to", secs(10));
        let st: Vec<&str> = o.json.platforms.iter().map(|p| p.status.as_str()).collect();
        assert_eq!(st, ["failed", "verified"], "{path}");
    }
}

#[test]
fn server_errors_and_throttling() {
    let r = Rig::new();
    for code in [500u16, 502, 503] {
        r.only_fault(&r.amd_manifest(), &[1], ProxyFault::Status(code, None));
        r.expect_pass(&[]);
        r.only_fault(&r.amd_config(), &[], ProxyFault::Status(code, None));
        let o = r.run(&["--retries", "1"]);
        o.expect(2, "download-failed", &code.to_string(), secs(10));
        o.expect_gave_up_after(2);
    }
    // 429 without Retry-After: backoff, then success.
    r.only_fault("/manifests/v1", &[1], ProxyFault::Status(429, None));
    r.expect_pass(&[]);
    // 429 with Retry-After: 1 is honoured.
    r.only_fault(
        "/manifests/v1",
        &[1],
        ProxyFault::Status(429, Some("1".into())),
    );
    let o = r.expect_pass(&[]);
    assert!(o.took >= secs(1), "Retry-After not honoured: {:?}", o.took);
    // Throttled for good: an error naming the status and the registry, after bounded retries.
    r.only_fault(
        "/manifests/v1",
        &[],
        ProxyFault::Status(429, Some("1".into())),
    );
    let o = r.run(&["--retries", "1"]);
    o.expect(2, "download-failed", "429", secs(10));
    assert!(o.json.reasons[0]
        .message
        .contains(&format!("127.0.0.1:{}", r.proxy.port)));
}

#[test]
fn redirect_to_plain_http_on_a_foreign_host_is_refused() {
    let r = Rig::new();
    for path in [r.amd_config(), "/manifests/v1".to_string()] {
        r.only_fault(
            &path,
            &[],
            ProxyFault::Redirect("http://198.51.100.7/v2/team/app/blobs/x".into()),
        );
        // Never contacted: with a 30 s timeout, an attempt to connect would blow the deadline.
        r.run(&[])
            .expect(2, "insecure-url", "198.51.100.7", secs(10));
    }
}

/// Registries redirect blobs to presigned URLs (ECR to S3, Docker Hub to R2) whose query holds
/// credentials: a failure there names the scheme, host and path, never the query.
#[test]
fn a_presigned_redirects_query_is_never_printed() {
    let r = Rig::new();
    let other = Proxy::start(r.reg.port);
    let secret = "X-Amz-Security-Token=presigned-secret-17&X-Amz-Signature=presigned-sig-17";
    let cfg = r.amd_config();
    let missing = format!("/v2/team/app/blobs/sha256:{}", "0".repeat(64));
    for target in [
        format!("http://198.51.100.7/v2/team/app/blobs/x?{secret}"),
        format!("http://localhost:{}{missing}?{secret}", other.port),
    ] {
        r.only_fault(&cfg, &[], ProxyFault::Redirect(target.clone()));
        for text in [false, true] {
            let mut cmd = shipcheck();
            cmd.args(["verify-image", &r.reference, "--retries", "0"])
                .timeout(Duration::from_secs(40));
            if !text {
                cmd.arg("--json");
            }
            let out = cmd.output().unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_ne!(out.status.code(), Some(0), "{target}: {all}");
            assert!(!all.contains("presigned-s"), "{target}: {all}");
            if target.contains("198.51") {
                assert!(
                    all.contains("198.51.100.7/v2/team/app/blobs/x?***"),
                    "{all}"
                );
            }
        }
    }
}

#[test]
fn blob_redirect_to_another_host_gets_no_credentials() {
    let r = Rig::new();
    let other = Proxy::start(r.reg.port);
    let secret = "hardening-docker-config-secret-41";
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{secret}"));
    std::fs::write(
        dir.path().join("config.json"),
        json!({"auths": {format!("127.0.0.1:{}", r.proxy.port): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let cfg = r.amd_config();
    r.proxy.fault(
        &cfg,
        &[],
        ProxyFault::Redirect(format!(
            "http://localhost:{}/v2/team/app{cfg}?X-Amz-Signature=abc",
            other.port
        )),
    );
    let mut cmd = shipcheck();
    // Declared as ECR: credentials go with every request at once (another registry gets them only
    // when it asks).
    cmd.env("DOCKER_CONFIG", dir.path()).env(
        "SHIPCHECK_ECR_REGISTRIES",
        format!("127.0.0.1:{}", r.proxy.port),
    );
    let o = verify_with(cmd, &r.reference, &["--platforms", "amd64,arm64"]);
    o.expect(0, "", "", secs(20));
    assert!(!o.stdout.contains(secret) && !o.stderr.contains(secret));
    // The registry got the Docker config's credentials on every request...
    let log = r.proxy.log();
    assert_eq!(log.len(), 6, "{log:?}");
    for l in &log {
        assert!(
            l.headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("authorization")
                    && v == &format!("Basic {auth}")),
            "{} without credentials",
            l.path
        );
    }
    // ...the other host served the blob and never saw them.
    let other_log = other.log();
    assert_eq!(other_log.len(), 1, "{other_log:?}");
    for l in other_log {
        assert!(
            !l.headers.iter().any(|(k, _)| {
                k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("cookie")
            }),
            "credentials forwarded to {}: {:?}",
            l.path,
            l.headers
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Hostile content: a scripted registry

fn index_value(img: &Image) -> Value {
    serde_json::from_slice(&img.index).unwrap()
}

/// An index entry for an image manifest body.
fn entry(m: &[u8], arch: &str) -> Value {
    json!({"mediaType": OCI_MANIFEST, "digest": sha256(m), "size": m.len(),
           "platform": {"os": "linux", "architecture": arch}})
}

/// An index entry for a nested index body.
fn index_entry(i: &[u8]) -> Value {
    json!({"mediaType": OCI_INDEX, "digest": sha256(i), "size": i.len()})
}

const TEN_GIB: u64 = 10 << 30;

#[test]
fn huge_sizes_are_refused_before_reading() {
    // An index entry claiming 10 GiB: refused without fetching it.
    let (fake, img, reference) = serve_app();
    let mut idx = index_value(&img);
    idx["manifests"][0]["size"] = json!(TEN_GIB);
    let body = serde_json::to_vec(&idx).unwrap();
    fake.route("/v2/app/manifests/v1", vec![ok(OCI_INDEX, &body)]);
    verify(&reference, &[]).expect(2, "manifest-too-large", "10737418240", secs(5));
    assert_eq!(fake.hits(&manifest_path(&img.manifests[0])), 0);

    // A config descriptor claiming 10 GiB: refused without fetching it.
    let (fake, img, reference) = serve_app();
    let mut m: Value = serde_json::from_slice(&img.manifests[0]).unwrap();
    m["config"]["size"] = json!(TEN_GIB);
    let m = serde_json::to_vec(&m).unwrap();
    let body = index_of(vec![entry(&m, "amd64")]);
    fake.route("/v2/app/manifests/v1", vec![ok(OCI_INDEX, &body)]);
    fake.route(&manifest_path(&m), vec![ok(OCI_MANIFEST, &m)]);
    verify(&reference, &[]).expect(2, "manifest-too-large", "10737418240", secs(5));
    assert_eq!(fake.hits(&blob_path(&img.configs[0])), 0);

    // The top manifest's Content-Length says 10 GiB: refused before reading.
    let (fake, img, reference) = serve_app();
    let mut lie = ok(OCI_INDEX, &img.index);
    lie.claimed_len = Some(TEN_GIB);
    fake.route("/v2/app/manifests/v1", vec![lie]);
    verify(&reference, &[]).expect(2, "manifest-too-large", "4393216", secs(5));

    // A top manifest without Content-Length that never ends: cut at the cap (containerd's 4 * 1048 * 1048).
    let mut endless = ok(OCI_INDEX, &[b' '; 64 << 10]);
    endless.endless = true;
    fake.route("/v2/app/manifests/v1", vec![endless.clone()]);
    verify(&reference, &[]).expect(2, "manifest-too-large", "4393216", secs(10));

    // A platform manifest or a config served longer than its descriptor: size-mismatch, cut early.
    let (fake, img, reference) = serve_app();
    let mut lie = ok(OCI_MANIFEST, &img.manifests[1]);
    lie.claimed_len = Some(TEN_GIB);
    fake.route(&manifest_path(&img.manifests[1]), vec![lie]);
    fake.route(&blob_path(&img.configs[0]), vec![endless]);
    let o = verify(&reference, &[]);
    o.expect(1, "size-mismatch", "more than the", secs(10));
    assert_eq!(o.json.reasons.len(), 2, "{:?}", o.json.reasons);
}

#[test]
fn index_with_100000_entries() {
    // Realistic entries: over the 4 MiB manifest cap, refused from Content-Length.
    let (fake, img, reference) = serve_app();
    let entries: Vec<Value> = (0..100_000u32)
        .map(|i| {
            let mut e = entry(&img.manifests[0], "amd64");
            e["annotations"] = json!({"n": i.to_string()});
            e
        })
        .collect();
    let big = index_of(entries);
    assert!(big.len() > 4 << 20);
    fake.route("/v2/app/manifests/v1", vec![ok(OCI_INDEX, &big)]);
    verify(&reference, &[]).expect(2, "manifest-too-large", "limit", secs(10));
    // Compact entries that fit in 4 MiB: the entry limit (1024) refuses them before any is fetched.
    let compact = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#,
        vec![r#"{"digest":"x","size":0}"#; 100_000].join(",")
    );
    assert!(compact.len() < 4 << 20);
    fake.route(
        "/v2/app/manifests/v1",
        vec![ok(OCI_INDEX, compact.as_bytes())],
    );
    let o = verify(&reference, &[]);
    o.expect(2, "manifest-too-large", "100000 manifests", secs(10));
    assert_eq!(fake.hits(&manifest_path(&img.manifests[0])), 0);
}

#[test]
fn nested_index_loops_and_depth() {
    let (fake, img, _) = serve_app();
    let amd = entry(&img.manifests[0], "amd64");
    // A chain of 4 nested indexes is followed...
    let mut chain = vec![index_of(vec![amd.clone()])];
    for _ in 0..4 {
        let next = index_of(vec![index_entry(chain.last().unwrap())]);
        chain.push(next);
    }
    for i in &chain {
        fake.route(&manifest_path(i), vec![ok(OCI_INDEX, i)]);
    }
    // chain[4] -> chain[3] -> ... -> chain[0] -> amd64 image: 4 nested levels below the top.
    fake.route("/v2/app/manifests/deep4", vec![ok(OCI_INDEX, &chain[4])]);
    verify(
        &format!("{}/app:deep4", fake.host()),
        &["--platforms", "amd64"],
    )
    .expect(0, "", "", secs(10));
    // ...a fifth is refused.
    let deeper = index_of(vec![index_entry(&chain[4])]);
    fake.route(&manifest_path(&deeper), vec![ok(OCI_INDEX, &deeper)]);
    fake.route("/v2/app/manifests/deep5", vec![ok(OCI_INDEX, &deeper)]);
    // (served by tag as the top: chain[4]'s entry is depth 1 ... chain[0] depth 5)
    verify(&format!("{}/app:deep5", fake.host()), &[]).expect(
        2,
        "invalid-manifest",
        "deeper than 4",
        secs(10),
    );

    // The same nested index twice (a diamond, or a loop if it were possible): refused.
    let diamond = index_of(vec![index_entry(&chain[0]), index_entry(&chain[0])]);
    fake.route("/v2/app/manifests/diamond", vec![ok(OCI_INDEX, &diamond)]);
    verify(&format!("{}/app:diamond", fake.host()), &[]).expect(
        2,
        "invalid-manifest",
        "more than once",
        secs(10),
    );

    // A -> B -> A: content addressing makes a real loop impossible (A's digest covers B's and vice
    // versa), so a registry can only fake one by serving, under B's digest, an index that lists A.
    // Those bytes do not hash to B: digest-mismatch, nothing followed further.
    let b_digest = sha256(b"the index B that A was built with");
    let a = index_of(vec![
        json!({"mediaType": OCI_INDEX, "digest": b_digest, "size": 4096}),
    ]);
    let mut b = index_of(vec![index_entry(&a)]);
    b.resize(4096, b' ');
    fake.route("/v2/app/manifests/loop", vec![ok(OCI_INDEX, &a)]);
    fake.route(
        &format!("/v2/app/manifests/{b_digest}"),
        vec![ok(OCI_INDEX, &b)],
    );
    fake.route(&manifest_path(&a), vec![ok(OCI_INDEX, &a)]);
    let o = verify(&format!("{}/app:loop", fake.host()), &[]);
    o.expect(1, "digest-mismatch", "nested index", secs(10));
    assert_eq!(fake.hits(&manifest_path(&a)), 0, "A was not fetched again");
}

#[test]
fn unsupported_and_malformed_digests() {
    let (fake, img, reference) = serve_app();
    for (bad, needle) in [
        ("md5:d41d8cd98f00b204e9800998ecf8427e", "md5"),
        ("sha256:xyz", "sha256:xyz"),
        (
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "lowercase",
        ),
        (
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "not a digest",
        ),
    ] {
        // In an index entry.
        let mut idx = index_value(&img);
        idx["manifests"][1]["digest"] = json!(bad);
        fake.route(
            "/v2/app/manifests/v1",
            vec![ok(OCI_INDEX, &serde_json::to_vec(&idx).unwrap())],
        );
        verify(&reference, &[]).expect(2, "invalid-manifest", needle, secs(5));
        // As a platform manifest's config digest.
        let mut m: Value = serde_json::from_slice(&img.manifests[0]).unwrap();
        m["config"]["digest"] = json!(bad);
        let m = serde_json::to_vec(&m).unwrap();
        fake.route(
            "/v2/app/manifests/v1",
            vec![ok(OCI_INDEX, &index_of(vec![entry(&m, "amd64")]))],
        );
        fake.route(&manifest_path(&m), vec![ok(OCI_MANIFEST, &m)]);
        verify(&reference, &[]).expect(2, "invalid-manifest", needle, secs(5));
        // As the registry's Docker-Content-Digest: unusable, so the bytes are not vouched for.
        let mut r = ok(OCI_INDEX, &img.index);
        r.headers.push(("Docker-Content-Digest".into(), bad.into()));
        fake.route("/v2/app/manifests/v1", vec![r]);
        verify(&reference, &[]).expect(1, "digest-mismatch", "unusable", secs(5));
        fake.route("/v2/app/manifests/v1", vec![ok(OCI_INDEX, &img.index)]);
        // In the user's own input: no request is sent.
        let before = fake.log().len();
        let o = verify(&format!("{}/app@{bad}", fake.host()), &[]);
        assert_eq!(o.code, 2, "{}", o.stdout);
        assert!(
            o.json.codes() == ["invalid-reference"],
            "{:?}",
            o.json.reasons
        );
        verify(&reference, &["--digest", bad]).expect(2, "usage", needle, secs(5));
        assert_eq!(
            fake.log().len(),
            before,
            "requests sent for an invalid digest"
        );
    }
}

#[test]
fn duplicate_json_keys_are_refused() {
    // Parsers disagree on which duplicate wins; a manifest with duplicates could mean one thing to
    // shipcheck and another to the runtime that pulls it.
    let (fake, img, reference) = serve_app();
    let amd = entry(&img.manifests[0], "amd64");
    let arm = entry(&img.manifests[1], "arm64");
    let top = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{amd},{arm}],"manifests":[{amd}]}}"#
    );
    fake.route("/v2/app/manifests/v1", vec![ok(OCI_INDEX, top.as_bytes())]);
    verify(&reference, &[]).expect(2, "invalid-manifest", "duplicate", secs(5));
    // Inside an entry: two digests.
    let other = sha256(b"another manifest");
    let top = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{other}","digest":"{}","size":{},"platform":{{"os":"linux","architecture":"amd64"}}}}]}}"#,
        sha256(&img.manifests[0]),
        img.manifests[0].len()
    );
    fake.route("/v2/app/manifests/v1", vec![ok(OCI_INDEX, top.as_bytes())]);
    verify(&reference, &[]).expect(2, "invalid-manifest", "duplicate", secs(5));
    // A platform manifest with two configs.
    let (fake, img, reference) = serve_app();
    let m0: Value = serde_json::from_slice(&img.manifests[0]).unwrap();
    let m = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{},"config":{},"layers":{}}}"#,
        m0["config"], m0["config"], m0["layers"]
    )
    .into_bytes();
    fake.route(
        "/v2/app/manifests/v1",
        vec![ok(OCI_INDEX, &index_of(vec![entry(&m, "amd64")]))],
    );
    fake.route(&manifest_path(&m), vec![ok(OCI_MANIFEST, &m)]);
    verify(&reference, &[]).expect(2, "invalid-manifest", "duplicate", secs(5));
    // A config that says amd64 and arm64.
    let cfg = br#"{"os":"linux","architecture":"amd64","architecture":"arm64","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let m = manifest_for(cfg, &img.layers[0]);
    fake.route(
        "/v2/app/manifests/v1",
        vec![ok(OCI_INDEX, &index_of(vec![entry(&m, "amd64")]))],
    );
    fake.route(&manifest_path(&m), vec![ok(OCI_MANIFEST, &m)]);
    fake.route(&blob_path(cfg), vec![ok(OCI_CONFIG, cfg)]);
    verify(&reference, &[]).expect(2, "invalid-manifest", "duplicate", secs(5));
}

#[test]
fn ten_thousand_levels_of_nesting() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let (fake, img, reference) = serve_app();
    let top = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[],"annotations":{deep}}}"#
    );
    fake.route("/v2/app/manifests/v1", vec![ok(OCI_INDEX, top.as_bytes())]);
    verify(&reference, &[]).expect(2, "invalid-manifest", "recursion", secs(5));
    // Objects this time, in an image config (verified by digest, then parsed).
    let deep = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    let cfg = format!(r#"{{"os":"linux","architecture":"amd64","x":{deep}}}"#).into_bytes();
    let m = manifest_for(&cfg, &img.layers[0]);
    fake.route(
        "/v2/app/manifests/v1",
        vec![ok(OCI_INDEX, &index_of(vec![entry(&m, "amd64")]))],
    );
    fake.route(&manifest_path(&m), vec![ok(OCI_MANIFEST, &m)]);
    fake.route(&blob_path(&cfg), vec![ok(OCI_CONFIG, &cfg)]);
    verify(&reference, &[]).expect(2, "invalid-manifest", "recursion", secs(5));
}

#[test]
fn lying_content_types() {
    let (fake, img, reference) = serve_app();
    // The index served as an image manifest; an image manifest served as an index.
    fake.route("/v2/app/manifests/v1", vec![ok(OCI_MANIFEST, &img.index)]);
    verify(&reference, &[]).expect(1, "media-type-mismatch", "Content-Type", secs(5));
    fake.route("/v2/app/manifests/v1", vec![ok(OCI_INDEX, &img.index)]);
    fake.route(
        &manifest_path(&img.manifests[0]),
        vec![ok(OCI_INDEX, &img.manifests[0])],
    );
    verify(&reference, &[]).expect(1, "media-type-mismatch", "", secs(5));
    // An HTML error page labelled as an index.
    fake.route(
        &manifest_path(&img.manifests[0]),
        vec![ok(OCI_MANIFEST, &img.manifests[0])],
    );
    fake.route(
        "/v2/app/manifests/v1",
        vec![ok(OCI_INDEX, b"<html><body>Login</body></html>")],
    );
    verify(&reference, &[]).expect(2, "invalid-manifest", "not valid JSON", secs(5));
    // The real index labelled text/html.
    fake.route(
        "/v2/app/manifests/v1",
        vec![ok("text/html; charset=utf-8", &img.index)],
    );
    verify(&reference, &[]).expect(1, "media-type-mismatch", "text/html", secs(5));
    // A config blob's Content-Type carries no meaning: its bytes are verified by digest.
    fake.route("/v2/app/manifests/v1", vec![ok(OCI_INDEX, &img.index)]);
    fake.route(
        &blob_path(&img.configs[0]),
        vec![ok(OCI_INDEX, &img.configs[0])],
    );
    verify(&reference, &["--platforms", "amd64,arm64"]).expect(0, "", "", secs(5));
}

/// Every registry request gets this 401 challenge.
fn challenge_all(fake: &Fake, img: &Image, challenge: &str) {
    let c = status(401, &[("WWW-Authenticate", challenge)]);
    let mut paths = vec!["/v2/app/manifests/v1".to_string()];
    paths.extend(img.manifests.iter().map(|m| manifest_path(m)));
    paths.extend(img.configs.iter().map(|c| blob_path(c)));
    for p in paths {
        fake.route(&p, vec![c.clone()]);
    }
}

#[test]
fn token_endpoint_that_never_answers() {
    let (fake, img, reference) = serve_app();
    let silent = Silent::start();
    challenge_all(
        &fake,
        &img,
        &format!(
            r#"Bearer realm="http://127.0.0.1:{}/token",service="x""#,
            silent.port
        ),
    );
    let o = verify(&reference, &["--timeout", "1", "--retries", "0"]);
    o.expect(2, "download-failed", "timed out", secs(6));
    assert!(
        o.json.reasons[0].message.contains("/token"),
        "{:?}",
        o.json.reasons
    );
    // With retries, still bounded: 3 attempts of 1 s.
    let o = verify(&reference, &["--timeout", "1", "--retries", "2"]);
    o.expect(2, "download-failed", "gave up after 3 attempts", secs(10));
}

#[test]
fn malformed_www_authenticate() {
    let (fake, img, reference) = serve_app();
    fake.route("/token", vec![ok("application/json", br#"{"nope":1}"#)]);
    let unterminated = format!(r#"Bearer realm="http://127.0.0.1:{}/token"#, fake.port);
    let cases: Vec<(String, &str)> = vec![
        ("Bearer".into(), "usable realm"),
        ("Bearer realm=".into(), "usable realm"),
        (
            r#"Bearer realm="not a url",service="x""#.into(),
            "usable realm",
        ),
        (r#"Bearer ,,,=,="\"#.into(), "usable realm"),
        (r#",,,=,="\ Bearer"#.into(), "requires authentication"),
        (
            r#"Bearer realm="http://127.0.0.1/é""#.into(),
            "requires authentication",
        ),
        (
            r#"Basic realm="registry""#.into(),
            "requires authentication",
        ),
        ("".into(), "requires authentication"),
        // Parsed despite the missing quote; the token service then answers without a token.
        (unterminated, "without a token"),
    ];
    for (challenge, needle) in cases {
        challenge_all(&fake, &img, &challenge);
        let o = verify(&reference, &["--timeout", "2"]);
        assert!(
            o.code == 2 && o.json.codes() == ["unauthorized"],
            "{challenge:?}: {:?}",
            o.json.reasons
        );
        o.expect(2, "unauthorized", needle, secs(6));
    }
    // A token the registry then rejects again: one token request, no loop.
    fake.route("/token", vec![ok("application/json", br#"{"token":"t"}"#)]);
    let before = fake.hits("/token");
    challenge_all(
        &fake,
        &img,
        &format!(r#"Bearer realm="http://127.0.0.1:{}/token""#, fake.port),
    );
    verify(&reference, &[]).expect(2, "unauthorized", "", secs(6));
    assert_eq!(fake.hits("/token") - before, 1);
}

/// Puts the fake registry behind a token service at `/token` that issues `token`: the registry wants
/// it on every request, and its challenge names the service (`Bearer realm=".../token",service=..`).
fn token_flow(fake: &Fake, token: &str) {
    let body = format!(r#"{{"token":"{token}"}}"#);
    fake.route("/token", vec![ok("application/json", body.as_bytes())]);
    let realm = format!(
        r#"Bearer realm="http://127.0.0.1:{}/token",service="fake""#,
        fake.port
    );
    fake.require_bearer(token, &realm);
}

/// The `Authorization` value of Basic auth with `user_password` (`user:password`).
fn basic_auth(user_password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_password)
    )
}

/// Credentials go where the registry's challenge sends them, as Docker and containerd send them: to
/// a Bearer challenge's token service, never to the registry itself (so a Docker Hub password goes to
/// auth.docker.io, not to registry-1.docker.io). They were sent to every registry at once.
#[test]
fn credentials_go_to_the_token_service_not_to_a_bearer_registry() {
    let (fake, _img, reference) = serve_app();
    token_flow(&fake, "tok-1");
    let secret = "bearer-registry-password-93";
    let mut cmd = shipcheck();
    cmd.write_stdin(secret);
    let o = verify_with(cmd, &reference, &["--username", "AWS", "--password-stdin"]);
    o.expect(0, "", "", secs(10));
    let basic = basic_auth(&format!("AWS:{secret}"));
    let log = fake.log();
    assert!(
        log.iter().any(|l| l.target.starts_with("/token")),
        "{log:?}"
    );
    for l in &log {
        let sent = l
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == &basic);
        assert_eq!(
            sent,
            l.target.starts_with("/token"),
            "credentials on {} {}",
            l.method,
            l.target
        );
    }
}

/// A registry of the token flow that answers a request carrying its token with a Basic challenge
/// does not get the password by asking: that request is refused (naming the token, not the
/// credentials, which it never received), and the run's other repositories still use the token flow.
#[test]
fn a_basic_challenge_to_a_bearer_token_never_gets_the_password() {
    let (fake, _img, _) = serve_app();
    token_flow(&fake, "tok-3");
    fake.route(
        "/v2/one/manifests/v1",
        vec![status(
            401,
            &[("WWW-Authenticate", r#"Basic realm="fake""#)],
        )],
    );
    let secret = "downgrade-password-61";
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{secret}"));
    std::fs::write(
        dir.path().join("config.json"),
        json!({"auths": {fake.host(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let audit = dir.path().join("audit.toml");
    std::fs::write(
        &audit,
        format!(
            "[[image]]\nref = \"{h}/one:v1\"\n\n[[image]]\nref = \"{h}/app:v1\"\n",
            h = fake.host()
        ),
    )
    .unwrap();
    let out = shipcheck()
        .env("DOCKER_CONFIG", dir.path())
        .args(["audit", "--json", "--concurrency", "1"])
        .arg(&audit)
        .timeout(Duration::from_secs(40))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "{v:#}");
    let one = &v["results"][0];
    assert_eq!(one["reasons"][0]["code"], "unauthorized", "{v:#}");
    let msg = one["reasons"][0]["message"].as_str().unwrap();
    assert!(msg.contains("refused the token"), "{msg}");
    assert_eq!(v["results"][1]["verdict"], "pass", "{v:#}");
    for l in fake.log() {
        let basic = l
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v.starts_with("Basic "));
        assert_eq!(
            basic,
            l.target.starts_with("/token"),
            "Basic credentials on {} {}",
            l.method,
            l.target
        );
    }
}

/// The token flow as containerd and docker/distribution run it: `access_token` wins over `token` when a
/// token service sends both; a realm URL that carries its own `user:pass@` gets one Authorization
/// header, the registry's credentials (Go's client uses the URL's only when it has none).
#[test]
fn token_answers_and_realm_userinfo_as_containerd_reads_them() {
    let (fake, _img, reference) = serve_app();
    fake.route(
        "/token",
        vec![ok(
            "application/json",
            br#"{"token":"T-token","access_token":"T-access"}"#,
        )],
    );
    fake.require_bearer(
        "T-access",
        &format!(
            r#"Bearer realm="http://ru:rp@127.0.0.1:{}/token",service="fake""#,
            fake.port
        ),
    );
    let mut cmd = shipcheck();
    cmd.write_stdin("registry-password-5");
    let o = verify_with(cmd, &reference, &["--username", "AWS", "--password-stdin"]);
    o.expect(0, "", "", secs(10));
    let token_requests: Vec<_> = fake
        .log()
        .into_iter()
        .filter(|l| l.target.starts_with("/token"))
        .collect();
    assert!(!token_requests.is_empty());
    let ours = basic_auth("AWS:registry-password-5");
    for l in token_requests {
        let auth: Vec<&String> = l
            .headers
            .iter()
            .filter(|(k, _)| k == "authorization")
            .map(|(_, v)| v)
            .collect();
        assert_eq!(auth, [&ours], "{}", l.target);
    }
}

/// A registry that offers several challenges (one `WWW-Authenticate` header each): the Bearer one is
/// taken whatever the order, as containerd does; only the first header was read.
#[test]
fn of_several_challenges_the_bearer_one_is_answered() {
    let (fake, _img, reference) = serve_app();
    fake.route(
        "/token",
        vec![ok("application/json", br#"{"token":"tok-2"}"#)],
    );
    fake.require_bearer(
        "tok-2",
        &format!(
            "Basic realm=\"fake\"\nBearer realm=\"http://127.0.0.1:{}/token\",service=\"fake\"",
            fake.port
        ),
    );
    verify(&reference, &[]).expect(0, "", "", secs(10));
    assert_eq!(fake.hits("/token"), 1);
}

#[test]
fn bearer_realm_on_plain_http_elsewhere_is_never_contacted() {
    let (fake, img, reference) = serve_app();
    let secret = "realm-secret-token-77";
    for realm in [
        "http://198.51.100.7/token",
        "http://registry.example.com:8080/token",
        "file:///etc/passwd",
    ] {
        challenge_all(
            &fake,
            &img,
            &format!(r#"Bearer realm="{realm}",service="x""#),
        );
        let mut cmd = shipcheck();
        cmd.write_stdin(secret);
        let o = verify_with(cmd, &reference, &["--username", "AWS", "--password-stdin"]);
        o.expect(2, "insecure-url", realm, secs(6));
        let lines = o.request_lines();
        assert!(!lines.is_empty(), "no request trace:\n{}", o.stderr);
        assert!(
            lines.iter().all(|l| !l.contains(realm)),
            "the realm was contacted:\n{}",
            o.stderr
        );
        assert!(!o.stdout.contains(secret) && !o.stderr.contains(secret));
    }
}
