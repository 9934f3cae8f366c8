//! Network faults between verify-bin and a real server: a fault-injecting proxy in front of nginx.
//! Each fault ends in one of: the retry recovered and the verdict is right, or exit 2 naming the fault.
//! Corrupted content never exits 0, and an installed binary stays byte-identical unless replaced by a
//! verified one.

use crate::common;

use common::faults::{Fault, FaultServer};
use common::nginx::Nginx;
use common::pgp::{armor_sigs, TestKey};
use common::proxy::{Proxy, ProxyFault};
use common::shipcheck;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const OLD: &[u8] = b"old binary\n";

struct Rig {
    nginx: Nginx,
    proxy: Proxy,
    data: Vec<u8>,
    keyfile: PathBuf,
    dest: PathBuf,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn new() -> Rig {
        let nginx = Nginx::start();
        let proxy = Proxy::start(nginx.http_port);
        let key = TestKey::fresh("vendor");
        let data: Vec<u8> = (0..(2 << 20) + 777)
            .map(|i: u32| (i.wrapping_mul(40_503) >> 7) as u8)
            .collect();
        nginx.put("tool", &data);
        nginx.put("tool.asc", &armor_sigs(&[key.sign(&data)]));
        let dir = tempfile::tempdir().unwrap();
        let keyfile = dir.path().join("k.asc");
        std::fs::write(&keyfile, key.public_armored()).unwrap();
        let dest = dir.path().join("tool");
        std::fs::write(&dest, OLD).unwrap();
        Rig {
            nginx,
            proxy,
            data,
            keyfile,
            dest,
            _dir: dir,
        }
    }

    fn run(&self, extra: &[&str]) -> (i32, Value, Duration) {
        let start = Instant::now();
        let out = shipcheck()
            .args([
                "verify-bin",
                "--json",
                "--url",
                &self.proxy.url("tool"),
                "--key",
            ])
            .arg(&self.keyfile)
            .arg("--dest")
            .arg(&self.dest)
            .args(extra)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let took = start.elapsed();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap(), v, took)
    }

    /// Exit 2 with `code`, mentioning `needle`, destination untouched.
    fn expect_error(&self, extra: &[&str], code: &str, needle: &str) {
        let (exit, v, _) = self.run(extra);
        assert_eq!(exit, 2, "{v}");
        assert_eq!(v["reasons"][0]["code"], code, "{v}");
        let msg = v["reasons"][0]["message"].as_str().unwrap();
        assert!(
            msg.contains(needle),
            "message should name the fault ({needle}): {msg}"
        );
        self.assert_untouched();
    }

    fn expect_recovered(&self, extra: &[&str]) -> Duration {
        let (exit, v, took) = self.run(extra);
        assert_eq!(exit, 0, "{v}");
        assert_eq!(
            std::fs::read(&self.dest).unwrap(),
            self.data,
            "installed bytes differ from the release"
        );
        std::fs::write(&self.dest, OLD).unwrap();
        took
    }

    fn assert_untouched(&self) {
        assert_eq!(std::fs::read(&self.dest).unwrap(), OLD);
        let n = std::fs::read_dir(self.dest.parent().unwrap())
            .unwrap()
            .count();
        assert_eq!(
            n, 2,
            "temp files left behind (expected only k.asc and tool)"
        );
    }
}

#[test]
fn reset_mid_body_once_recovers_always_fails() {
    let r = Rig::new();
    r.proxy
        .fault("/tool", &[1], ProxyFault::ResetAfter(1 << 20));
    r.expect_recovered(&[]);
    r.proxy.clear();
    r.proxy.fault("/tool", &[], ProxyFault::ResetAfter(1 << 20));
    r.expect_error(&[], "download-failed", "gave up after 4 attempts");
}

#[test]
fn short_body_once_recovers_always_fails() {
    let r = Rig::new();
    r.proxy.fault("tool", &[1], ProxyFault::Short(100));
    r.expect_recovered(&[]);
    r.proxy.clear();
    r.proxy.fault("/tool", &[], ProxyFault::Short(100));
    r.expect_error(&[], "download-failed", "/tool");
}

#[test]
fn extra_bytes_after_the_body_are_not_part_of_the_file() {
    let r = Rig::new();
    r.proxy.fault("/tool", &[], ProxyFault::Long(4096));
    r.expect_recovered(&[]);
}

#[test]
fn flipped_byte_never_passes() {
    let r = Rig::new();
    r.proxy.fault("/tool", &[], ProxyFault::FlipByte(123_456));
    let (exit, v, _) = r.run(&[]);
    assert_eq!(exit, 1, "{v}");
    assert_eq!(v["reasons"][0]["code"], "bad-signature");
    r.assert_untouched();
    // A flipped byte in the signature itself.
    r.proxy.clear();
    r.proxy.fault("tool.asc", &[], ProxyFault::FlipByte(200));
    let (exit, v, _) = r.run(&[]);
    assert_eq!(exit, 1, "{v}");
    r.assert_untouched();
}

#[test]
fn stall_times_out() {
    let r = Rig::new();
    r.proxy
        .fault("/tool", &[], ProxyFault::Stall(Duration::from_secs(4)));
    r.expect_error(
        &["--timeout", "1", "--retries", "1"],
        "download-failed",
        "timed out",
    );
}

#[test]
fn slow_drip_is_cut_off() {
    let r = Rig::new();
    r.proxy.fault(
        "tool.asc",
        &[],
        ProxyFault::Drip(Duration::from_millis(100)),
    );
    r.expect_error(
        &["--timeout", "1", "--retries", "0"],
        "download-failed",
        "too slow",
    );
}

#[test]
fn server_errors_then_success() {
    let r = Rig::new();
    for code in [500, 502, 503] {
        r.proxy.clear();
        r.proxy.fault("/tool", &[1], ProxyFault::Status(code, None));
        r.expect_recovered(&[]);
    }
    r.proxy.clear();
    r.proxy.fault("/tool", &[], ProxyFault::Status(502, None));
    r.expect_error(&["--retries", "2"], "download-failed", "502");
}

#[test]
fn too_many_requests_honours_retry_after() {
    let r = Rig::new();
    r.proxy
        .fault("tool.asc", &[1], ProxyFault::Status(429, Some("2".into())));
    let took = r.expect_recovered(&[]);
    assert!(
        took >= Duration::from_secs(2),
        "Retry-After: 2 was not honoured ({took:?})"
    );
    r.proxy.clear();
    r.proxy
        .fault("tool.asc", &[1], ProxyFault::Status(429, None));
    r.expect_recovered(&[]);
}

#[test]
fn redirect_to_plain_http_foreign_host_is_refused() {
    let r = Rig::new();
    r.proxy.fault(
        "/tool",
        &[],
        ProxyFault::Redirect("http://198.51.100.7/tool".into()),
    );
    r.expect_error(&[], "insecure-url", "198.51.100.7");
}

#[test]
fn redirect_to_another_host_is_followed_without_credentials() {
    // verify-bin sends no credentials at all; the redirect target sees no Authorization header, and
    // the bytes it serves are verified like any others.
    let r = Rig::new();
    let other = FaultServer::start();
    let sig = std::fs::read(r.nginx.root.join("tool.asc")).unwrap();
    other.route("/elsewhere", vec![Fault::Ok(r.data.clone())]);
    other.route("/elsewhere.asc", vec![Fault::Ok(sig)]);
    // The first matching rule wins: the signature rule comes before the one that also matches it.
    r.proxy.fault(
        "tool.asc",
        &[],
        ProxyFault::Redirect(format!("http://localhost:{}/elsewhere.asc", other.port)),
    );
    r.proxy.fault(
        "/tool",
        &[],
        ProxyFault::Redirect(format!("http://localhost:{}/elsewhere", other.port)),
    );
    r.expect_recovered(&[]);
    assert_eq!(other.hits("/elsewhere"), 1);
    assert_eq!(other.hits("/elsewhere.asc"), 1);
    for (_, headers) in other.headers() {
        assert!(
            !headers.iter().any(|(k, _)| k == "authorization"),
            "{headers:?}"
        );
    }
}

/// A server that sends the file or its signature encoded (`Content-Encoding: gzip`) although none
/// was asked for: the bytes received are not the file as stored, so a failed check is undecided
/// (`download-failed`, exit 2) rather than "the file was modified" (adversarial pass 26: it was
/// `bad-signature`, and the signature `malformed-signature`); bytes that verify as served pass
/// (a server that labels a stored `.gz` file with the header).
#[test]
fn encoded_answers_are_undecided_unless_they_verify() {
    use std::io::Write as _;
    let Signed {
        data, sig, keyfile, ..
    } = &Signed::new();
    let gzip = |b: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    };
    let enc = || vec![("Content-Encoding".to_string(), "gzip".to_string())];
    let cases = [
        (
            "file",
            Fault::OkWith(gzip(data), enc()),
            Fault::Ok(sig.clone()),
            2,
            "the file encoded",
        ),
        (
            "sig",
            Fault::Ok(data.clone()),
            Fault::OkWith(gzip(sig), enc()),
            2,
            "the signature encoded",
        ),
        (
            "label",
            Fault::OkWith(data.clone(), enc()),
            Fault::OkWith(sig.clone(), enc()),
            0,
            "",
        ),
    ];
    for (name, tool, asc, exit, needle) in cases {
        let fs = FaultServer::release(vec![tool], vec![asc]);
        let out = shipcheck()
            .args([
                "verify-bin",
                "--json",
                "--no-install",
                "--url",
                &fs.url("/tool"),
                "--key",
            ])
            .arg(keyfile)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(exit), "{name}: {v}");
        if exit == 2 {
            assert_eq!(v["reasons"][0]["code"], "download-failed", "{name}: {v}");
            let msg = v["reasons"][0]["message"].as_str().unwrap();
            assert!(
                msg.contains(needle) && msg.contains("gzip"),
                "{name}: {msg}"
            );
        }
    }
}

/// A small release file signed by a fresh key, its armored signature, and the key file.
struct Signed {
    data: Vec<u8>,
    sig: Vec<u8>,
    keyfile: PathBuf,
    _dir: tempfile::TempDir,
}

impl Signed {
    fn new() -> Signed {
        let key = TestKey::fresh("vendor");
        let data = b"release bytes\n".repeat(100);
        let sig = armor_sigs(&[key.sign(&data)]);
        let dir = tempfile::tempdir().unwrap();
        let keyfile = dir.path().join("k.asc");
        std::fs::write(&keyfile, key.public_armored()).unwrap();
        Signed {
            data,
            sig,
            keyfile,
            _dir: dir,
        }
    }

    /// `shipcheck --json verify-bin --no-install ARGS --key KEYFILE`: exit code and stdout.
    fn verify_json(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = shipcheck()
            .args(["--json", "verify-bin", "--no-install"])
            .args(args)
            .arg("--key")
            .arg(&self.keyfile)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
}

/// A redirect to another host carries no `Referer`: reqwest sends one by default, with the previous
/// URL's query, and a presigned or tokenised download URL keeps its credentials there (adversarial
/// pass 39: the next host logged `referer: http://…/tool?X-Amz-Signature=TOPSECRET`).
#[test]
fn a_redirect_sends_no_referer_with_the_query() {
    let Signed {
        data, sig, keyfile, ..
    } = &Signed::new();
    let (first, other) = (FaultServer::start(), FaultServer::start());
    other.route("/elsewhere", vec![Fault::Ok(data.clone())]);
    other.route("/elsewhere.asc", vec![Fault::Ok(sig.clone())]);
    let to = |p: &str| Fault::Redirect(format!("http://localhost:{}/{p}", other.port));
    first.route("/tool?X-Amz-Signature=TOPSECRET", vec![to("elsewhere")]);
    first.route(
        "/tool.asc?X-Amz-Signature=TOPSECRET",
        vec![to("elsewhere.asc")],
    );
    let url = |p: &str| {
        format!(
            "http://127.0.0.1:{}/{p}?X-Amz-Signature=TOPSECRET",
            first.port
        )
    };
    shipcheck()
        .args(["verify-bin", "--no-install", "--url", &url("tool")])
        .args(["--sig-url", &url("tool.asc"), "--key"])
        .arg(keyfile)
        .assert()
        .code(0);
    assert_eq!(other.hits("/elsewhere"), 1);
    let seen = other.headers();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for (_, headers) in seen {
        assert!(!headers.iter().any(|(k, _)| k == "referer"), "{headers:?}");
    }
}

/// A proxy named in the environment is never used for a loopback host (as Go's clients skip it):
/// plain HTTP to loopback is allowed only because it never leaves the machine, and a URL's
/// credentials go to its host only. Adversarial pass 39: with `HTTP_PROXY` set, the download and
/// its `user:password` went to the proxy, which served the bytes. Here the proxy is a server that
/// records what it is sent and answers 502; the download must not touch it.
#[test]
fn loopback_downloads_never_go_through_a_proxy() {
    let r = Rig::new();
    let proxy = FaultServer::start();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let url = format!("http://user:S3CRET@127.0.0.1:{}/tool", r.nginx.http_port);
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        shipcheck()
            .env(var, &proxy_url)
            .args(["verify-bin", "--no-install", "--url", &url, "--key"])
            .arg(&r.keyfile)
            .assert()
            .code(0);
    }
    assert!(proxy.headers().is_empty(), "{:?}", proxy.headers());
}

/// A `206 Partial Content` or `204 No Content` to a GET that asked for the whole file is not the
/// file: undecided (`download-failed`, exit 2), never "the file was modified" (adversarial pass 39:
/// the partial body was verified as the file and failed as `bad-signature`, exit 1).
#[test]
fn partial_or_empty_success_answers_are_undecided() {
    let release = Signed::new();
    let (data, sig) = (&release.data, &release.sig);
    let range = || vec![("Content-Range".to_string(), "bytes 0-99/1400".to_string())];
    for (status, on_sig) in [(206, false), (204, false), (206, true), (204, true)] {
        let server = FaultServer::start();
        let (file, signature) = if on_sig {
            (Fault::Ok(data.clone()), Fault::Status(status, range()))
        } else {
            (Fault::Status(status, range()), Fault::Ok(sig.clone()))
        };
        server.route("/tool", vec![file]);
        server.route("/tool.asc", vec![signature]);
        let url = format!("http://127.0.0.1:{}/tool", server.port);
        let (code, stdout) = release.verify_json(&["--url", &url]);
        assert_eq!(code, Some(2), "{status} {on_sig}: {stdout}");
        assert!(
            stdout.contains("download-failed") && stdout.contains(&format!("HTTP {status}")),
            "{status} {on_sig}: {stdout}"
        );
    }
}

/// A redirect loop is a download failure, not an insecure URL (adversarial pass 39: reported as
/// `insecure-url` with the hint to use https://, though nothing insecure happened).
#[test]
fn a_redirect_loop_is_a_download_failure() {
    let release = Signed::new();
    let server = FaultServer::start();
    let url = format!("http://127.0.0.1:{}/loop", server.port);
    server.route("/loop", vec![Fault::Redirect(url.clone())]);
    server.route("/loop.asc", vec![Fault::Redirect(format!("{url}.asc"))]);
    let (code, stdout) = release.verify_json(&["--retries", "0", "--url", &url]);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(
        stdout.contains("download-failed") && stdout.contains("more than 10 redirects"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("insecure-url") && !stdout.contains("https://"),
        "{stdout}"
    );
    let hits = server.hits("/loop") + server.hits("/loop.asc");
    assert_eq!(
        hits, 11,
        "the signature and its 10 redirects, then given up"
    );
}
