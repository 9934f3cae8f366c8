//! verify-bin as users run it: the tamper matrix against a real HTTPS server (nginx with a test CA),
//! faults from a small server of our own, local files, catalogs and mirrors. Every case asserts the
//! exit code, the reason code, and that the install destination is untouched unless verification passed.

use crate::common;

use common::faults::{Fault, FaultServer};
use common::nginx::Nginx;
use common::pgp::{armor_sigs, binary_sigs, compressed_sig, TestKey, DAY};
use common::shipcheck;
use sequoia_openpgp::types::HashAlgorithm;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The `--json` contract: unknown fields are rejected, so adding or renaming a field breaks this test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BinJson {
    verdict: String,
    reasons: Vec<CodeJson>,
    warnings: Vec<CodeJson>,
    tool: Option<String>,
    version: Option<String>,
    platform: Option<String>,
    url: Option<String>,
    sig_url: Option<String>,
    file: Option<String>,
    sig_file: Option<String>,
    size: Option<u64>,
    sha256: Option<String>,
    signer: Option<SignerJson>,
    signature: Option<SigJson>,
    installed: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeJson {
    code: String,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignerJson {
    fingerprint: String,
    key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SigJson {
    created: String,
    hash_algorithm: String,
}

impl BinJson {
    fn codes(&self) -> Vec<&str> {
        self.reasons.iter().map(|r| r.code.as_str()).collect()
    }
    fn warning_codes(&self) -> Vec<&str> {
        self.warnings.iter().map(|r| r.code.as_str()).collect()
    }
}

const OLD: &[u8] = b"#!/bin/sh\necho old version\n";

/// A release (data + signature) served by nginx, a trusted key file, and an install destination
/// that already holds an old binary.
struct Case {
    nginx: Nginx,
    key: TestKey,
    dir: tempfile::TempDir,
    keyfile: PathBuf,
    dest: PathBuf,
}

impl Case {
    fn new() -> Case {
        let nginx = Nginx::start();
        let key = TestKey::fresh("vendor");
        let dir = tempfile::tempdir().unwrap();
        let keyfile = dir.path().join("vendor.asc");
        std::fs::write(&keyfile, key.public_armored()).unwrap();
        let bindir = dir.path().join("bin");
        std::fs::create_dir_all(&bindir).unwrap();
        let dest = bindir.join("tool");
        std::fs::write(&dest, OLD).unwrap();
        Case {
            nginx,
            key,
            dir,
            keyfile,
            dest,
        }
    }

    fn publish(&self, name: &str, data: &[u8], sig: &[u8]) {
        self.nginx.put(name, data);
        self.nginx.put(&format!("{name}.asc"), sig);
    }

    /// A case with [`release`] published as `tool`, with the vendor's good signature.
    fn published() -> (Case, Vec<u8>) {
        let c = Case::new();
        let data = release();
        c.publish_signed("tool", &data);
        (c, data)
    }

    /// Publishes `data` as `name` with the vendor's good signature of it.
    fn publish_signed(&self, name: &str, data: &[u8]) {
        self.publish(name, data, &self.sig_of(data));
    }

    /// The vendor's armored detached signature of `data`.
    fn sig_of(&self, data: &[u8]) -> Vec<u8> {
        armor_sigs(&[self.key.sign(data)])
    }

    /// Runs `verify-bin --url <https url> --key <keyfile> --dest <dest> --json` plus `extra`.
    fn run(&self, path: &str, extra: &[&str]) -> (i32, BinJson, String) {
        self.run_to(path, &self.dest, extra)
    }

    /// [`Case::run`] installing to `dest` instead.
    fn run_to(&self, path: &str, dest: &Path, extra: &[&str]) -> (i32, BinJson, String) {
        let mut rest = vec![
            "--dest",
            utf8(dest),
            "--ca-cert",
            utf8(self.nginx.ca_cert()),
            "--json",
        ];
        rest.extend(extra);
        run_json(&url_args(&self.nginx.https(path), &self.keyfile, &rest))
    }

    fn assert_untouched(&self) {
        assert_eq!(
            std::fs::read(&self.dest).unwrap(),
            OLD,
            "the installed binary changed"
        );
        assert_no_temp_files(self.dest.parent().unwrap());
    }
}

/// `verify-bin --url <url> --key <keyfile>` and then `rest`, as arguments.
fn url_args(url: &str, keyfile: &Path, rest: &[&str]) -> Vec<String> {
    ["verify-bin", "--url", url, "--key", utf8(keyfile)]
        .iter()
        .chain(rest)
        .map(|s| s.to_string())
        .collect()
}

fn utf8(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

fn run_json(args: &[String]) -> (i32, BinJson, String) {
    let out = shipcheck().args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let json: BinJson = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("stdout is not the JSON report ({e}):\n{stdout}\nstderr:\n{stderr}")
    });
    (out.status.code().unwrap(), json, stderr)
}

fn assert_no_temp_files(dir: &Path) {
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("shipcheck"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temp files left behind: {leftovers:?}"
    );
}

fn release() -> Vec<u8> {
    // 3 MiB + a bit: several hashing chunks, with a tail.
    (0..(3 << 20) + 12_345)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

#[test]
fn good_signature_installs_atomically_with_mode_0755() {
    let (c, data) = Case::published();
    let (code, j, _) = c.run("tool", &[]);
    assert_eq!(code, 0, "{j:?}");
    assert_eq!(j.verdict, "pass");
    assert!(j.reasons.is_empty());
    assert_eq!(std::fs::read(&c.dest).unwrap(), data);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&c.dest).unwrap().permissions().mode() & 0o777,
            0o755
        );
    }
    let signer = j.signer.unwrap();
    assert_eq!(signer.fingerprint, c.key.fingerprint().to_hex());
    assert_eq!(signer.key, c.key.subkey(0).to_hex());
    assert_eq!(j.sha256.unwrap(), sha256_hex(&data));
    assert_eq!(j.size, Some(data.len() as u64));
    let sig = j.signature.unwrap();
    assert_eq!(sig.hash_algorithm, "SHA512");
    assert!(sig.created.ends_with('Z'));
    assert_eq!(j.installed.unwrap(), c.dest.display().to_string());
    assert_eq!(j.url.unwrap(), c.nginx.https("tool"));
    assert_eq!(j.sig_url.unwrap(), c.nginx.https("tool.asc"));
    assert_no_temp_files(c.dest.parent().unwrap());
}

/// One row of the tamper matrix: what is served, the expected exit code and reason code.
fn expect_rejected(c: &Case, path: &str, extra: &[&str], exit: i32, code: &str) -> BinJson {
    let (got, j, stderr) = c.run(path, extra);
    assert_eq!(got, exit, "exit code for {path}: {j:?}\n{stderr}");
    assert!(
        j.codes().contains(&code),
        "expected reason {code}, got {:?}",
        j.codes()
    );
    assert_eq!(j.verdict, if exit == 1 { "fail" } else { "error" });
    assert!(j.installed.is_none());
    c.assert_untouched();
    j
}

#[test]
fn tamper_flipped_byte() {
    let c = Case::new();
    let data = release();
    let sig = c.sig_of(&data);
    let mut bad = data.clone();
    bad[1_500_000] ^= 0x01;
    c.publish("tool", &bad, &sig);
    let j = expect_rejected(&c, "tool", &[], 1, "bad-signature");
    assert_eq!(
        j.sha256.unwrap(),
        sha256_hex(&bad),
        "the report names the hash of the bytes received"
    );
}

#[test]
fn tamper_truncated_binary() {
    let c = Case::new();
    let data = release();
    c.publish(
        "tool",
        &data[..data.len() - 4096],
        &armor_sigs(&[c.key.sign(&data)]),
    );
    expect_rejected(&c, "tool", &[], 1, "bad-signature");
}

#[test]
fn tamper_signature_over_another_file() {
    let c = Case::new();
    let data = release();
    c.publish(
        "tool",
        &data,
        &armor_sigs(&[c.key.sign(b"another file entirely")]),
    );
    expect_rejected(&c, "tool", &[], 1, "bad-signature");
}

#[test]
fn tamper_unpinned_key() {
    let c = Case::new();
    let data = release();
    let mallory = TestKey::fresh("mallory");
    c.publish("tool", &data, &armor_sigs(&[mallory.sign(&data)]));
    let j = expect_rejected(&c, "tool", &[], 1, "unpinned-signer");
    assert!(
        j.reasons[0].message.contains(&c.key.fingerprint().to_hex()),
        "names the trusted certificate"
    );
}

#[test]
fn tamper_expired_key() {
    let c = Case::new();
    let data = release();
    // Valid for 365 days from 400 days ago: expired 35 days ago.
    let old = TestKey::new("old", SystemTime::now() - 400 * DAY, Some(365 * DAY));
    std::fs::write(&c.keyfile, old.public_armored()).unwrap();
    let after_expiry = old.sign_with(
        &old.subkey(0),
        &data,
        HashAlgorithm::SHA256,
        SystemTime::now() - 10 * DAY,
    );
    c.publish("late", &data, &armor_sigs(&[after_expiry]));
    expect_rejected(&c, "late", &[], 1, "key-expired");
    // Made while the key was valid; the key has expired since: its own reason.
    let before_expiry = old.sign_with(
        &old.subkey(0),
        &data,
        HashAlgorithm::SHA256,
        SystemTime::now() - 300 * DAY,
    );
    c.publish("early", &data, &armor_sigs(&[before_expiry]));
    let j = expect_rejected(&c, "early", &[], 1, "key-expired-since-signing");
    assert!(!j.codes().contains(&"key-expired"));
}

#[test]
fn tamper_revoked_key() {
    let mut c = Case::new();
    let data = release();
    let sig = c.key.sign(&data);
    c.key.revoke();
    std::fs::write(&c.keyfile, c.key.public_armored()).unwrap();
    c.publish("tool", &data, &armor_sigs(&[sig]));
    expect_rejected(&c, "tool", &[], 1, "key-revoked");
}

#[test]
fn tamper_sha1_data_signature() {
    let c = Case::new();
    let data = release();
    let sig = c.key.sign_with(
        &c.key.subkey(0),
        &data,
        HashAlgorithm::SHA1,
        SystemTime::now() - Duration::from_secs(60),
    );
    c.publish("tool", &data, &armor_sigs(&[sig]));
    expect_rejected(&c, "tool", &[], 1, "weak-hash");
    // The relaxation for self-signatures never admits a SHA-1 data signature.
    expect_rejected(
        &c,
        "tool",
        &["--allow-sha1-self-signatures"],
        1,
        "weak-hash",
    );
}

#[test]
fn tamper_empty_garbage_inline_compressed_signatures() {
    let c = Case::new();
    let data = release();
    c.nginx.put("tool", &data);
    for (name, sig, code) in [
        ("empty", Vec::new(), "no-signature"),
        ("blank", b"\n\n  \n".to_vec(), "no-signature"),
        (
            "garbage",
            b"this is not a signature at all\x00\x01\x02".to_vec(),
            "malformed-signature",
        ),
        (
            "armored-garbage",
            b"-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n".to_vec(),
            "malformed-signature",
        ),
        (
            "inline",
            c.key.inline_signed(&data[..1000]),
            "malformed-signature",
        ),
        (
            "compressed",
            compressed_sig(&c.key.sign(&data)),
            "malformed-signature",
        ),
        ("pubkey", c.key.public_armored(), "malformed-signature"),
    ] {
        c.nginx.put(&format!("{name}/tool"), &data);
        c.nginx.put(&format!("{name}/tool.asc"), &sig);
        expect_rejected(&c, &format!("{name}/tool"), &[], 1, code);
    }
}

#[test]
fn two_signatures_one_good_one_unknown_passes_with_warning() {
    let c = Case::new();
    let data = release();
    let mallory = TestKey::fresh("mallory");
    for (i, sigs) in [
        vec![mallory.sign(&data), c.key.sign(&data)],
        vec![c.key.sign(&data), mallory.sign(&data)],
    ]
    .into_iter()
    .enumerate()
    {
        std::fs::write(&c.dest, OLD).unwrap();
        c.publish(&format!("two{i}"), &data, &armor_sigs(&sigs));
        let (code, j, _) = c.run(&format!("two{i}"), &[]);
        assert_eq!(code, 0, "{j:?}");
        assert_eq!(j.signer.as_ref().unwrap().key, c.key.subkey(0).to_hex());
        assert!(
            j.warning_codes().contains(&"ignored-signature"),
            "{:?}",
            j.warnings
        );
        assert_eq!(std::fs::read(&c.dest).unwrap(), data);
    }
}

#[test]
fn oversized_signature() {
    let c = Case::new();
    let data = release();
    let mut big = c.sig_of(&data);
    big.extend(std::iter::repeat_n(b'\n', 64 * 1024));
    c.publish("tool", &data, &big);
    expect_rejected(&c, "tool", &[], 1, "signature-too-large");
}

#[test]
fn binary_signature_file_verifies() {
    let c = Case::new();
    let data = release();
    c.nginx.put("awscli.zip", &data);
    c.nginx
        .put("awscli.zip.sig", &binary_sigs(&[c.key.sign(&data)]));
    let url = c.nginx.https("awscli.zip.sig");
    let (code, j, _) = c.run("awscli.zip", &["--sig-url", &url]);
    assert_eq!(code, 0, "{j:?}");
}

#[test]
fn redirect_to_plain_http_is_refused() {
    let (c, _) = Case::published();
    // A downgrade to plain HTTP, even on loopback, is refused.
    expect_rejected(&c, "to-plain/tool", &[], 2, "insecure-url");
    expect_rejected(&c, "to-foreign/tool", &[], 2, "insecure-url");
    // An HTTPS-to-HTTPS redirect is followed.
    let (code, j, _) = c.run("moved/tool", &[]);
    assert_eq!(code, 0, "{j:?}");
}

#[test]
fn plain_http_to_non_loopback_is_refused_before_connecting() {
    let c = Case::new();
    let args = url_args(
        "http://example.invalid/tool",
        &c.keyfile,
        &["--no-install", "--json"],
    );
    let (code, j, _) = run_json(&args);
    assert_eq!(code, 2);
    assert_eq!(j.codes(), vec!["insecure-url"]);
}

#[test]
fn missing_signature_404() {
    let c = Case::new();
    let data = release();
    c.nginx.put("tool", &data);
    expect_rejected(&c, "tool", &[], 1, "no-signature");
}

#[test]
fn missing_binary_404_is_could_not_decide() {
    let c = Case::new();
    c.nginx.put("ghost.asc", &armor_sigs(&[c.key.sign(b"x")]));
    expect_rejected(&c, "ghost", &[], 2, "not-found");
}

#[test]
fn symlinked_destination_is_refused() {
    let (c, _) = Case::published();
    let link = c.dir.path().join("bin/link");
    std::os::unix::fs::symlink(&c.dest, &link).unwrap();
    let (code, j, _) = c.run_to("tool", &link, &[]);
    assert_eq!(code, 2);
    assert_eq!(j.codes(), vec!["unsafe-destination"]);
    c.assert_untouched();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn without_ca_cert_the_test_server_is_not_trusted() {
    let (c, _) = Case::published();
    let args = url_args(
        &c.nginx.https("tool"),
        &c.keyfile,
        &["--no-install", "--retries", "0", "--json"],
    );
    let (code, j, _) = run_json(&args);
    assert_eq!(code, 2, "{j:?}");
    assert_eq!(j.codes(), vec!["download-failed"]);
}

#[test]
fn fingerprint_narrows_the_key_file() {
    let c = Case::new();
    let data = release();
    let other = TestKey::fresh("other");
    let mut both = c.key.public_armored();
    both.extend(other.public_armored());
    std::fs::write(&c.keyfile, &both).unwrap();
    c.publish_signed("tool", &data);
    // Every certificate in the file is trusted without --fingerprint.
    let (code, j, _) = c.run("tool", &[]);
    assert_eq!(code, 0, "{j:?}");
    std::fs::write(&c.dest, OLD).unwrap();
    let (code, j, _) = c.run("tool", &["--fingerprint", &c.key.fingerprint().to_hex()]);
    assert_eq!(code, 0, "{j:?}");
    // Narrowed to the other certificate: the good signature no longer counts.
    std::fs::write(&c.dest, OLD).unwrap();
    expect_rejected(
        &c,
        "tool",
        &["--fingerprint", &other.fingerprint().to_hex()],
        1,
        "unpinned-signer",
    );
    // A fingerprint that is in no key file.
    expect_rejected(
        &c,
        "tool",
        &["--fingerprint", &TestKey::fresh("x").fingerprint().to_hex()],
        2,
        "invalid-key",
    );
}

#[test]
fn key_file_that_is_not_openpgp() {
    let (c, _) = Case::published();
    std::fs::write(
        &c.keyfile,
        b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI not a pgp key",
    )
    .unwrap();
    expect_rejected(&c, "tool", &[], 2, "invalid-key");
}

#[test]
fn no_install_writes_nothing() {
    let (c, _) = Case::published();
    let args = url_args(
        &c.nginx.https("tool"),
        &c.keyfile,
        &[
            "--no-install",
            "--ca-cert",
            utf8(c.nginx.ca_cert()),
            "--json",
        ],
    );
    let (code, j, _) = run_json(&args);
    assert_eq!(code, 0, "{j:?}");
    assert!(j.installed.is_none());
    c.assert_untouched();
}

// ---------- faults a real server does not make: our own small server ----------

impl Case {
    /// Runs `verify-bin` of the fault server's `/tool`, installing to the destination, plus `extra`.
    fn run_faults(&self, fs: &FaultServer, extra: &[&str]) -> (i32, BinJson, String) {
        let mut rest = vec!["--dest", utf8(&self.dest), "--json"];
        rest.extend(extra);
        run_json(&url_args(&fs.url("/tool"), &self.keyfile, &rest))
    }
}

/// Runs against the fault server and expects `download-failed` (exit 2) with every one of `needles`
/// in its message, and the installed binary untouched.
fn expect_download_failed(c: &Case, fs: &FaultServer, extra: &[&str], needles: &[&str]) {
    let (code, j, _) = c.run_faults(fs, extra);
    assert_eq!(code, 2, "{j:?}");
    assert_eq!(j.codes(), vec!["download-failed"]);
    let message = &j.reasons[0].message;
    assert!(needles.iter().all(|n| message.contains(n)), "{message}");
    c.assert_untouched();
}

#[test]
fn connection_dropped_mid_download_every_time() {
    let c = Case::new();
    let data = release();
    let fs = FaultServer::release(
        vec![Fault::CutAfter(data.clone(), 1 << 20)],
        vec![Fault::Ok(c.sig_of(&data))],
    );
    expect_download_failed(&c, &fs, &[], &[]);
    assert_eq!(fs.hits("/tool"), 4, "one attempt and three retries");
}

#[test]
fn connection_dropped_once_then_retry_recovers() {
    let c = Case::new();
    let data = release();
    let fs = FaultServer::release(
        vec![
            Fault::CutAfter(data.clone(), 2 << 20),
            Fault::Ok(data.clone()),
        ],
        vec![Fault::Ok(c.sig_of(&data))],
    );
    let (code, j, _) = c.run_faults(&fs, &[]);
    assert_eq!(code, 0, "{j:?}");
    assert_eq!(
        std::fs::read(&c.dest).unwrap(),
        data,
        "the restarted download replaced the partial one"
    );
    assert_eq!(j.size, Some(data.len() as u64));
    assert_no_temp_files(c.dest.parent().unwrap());
}

#[test]
fn truncation_without_content_length_is_caught_by_the_signature() {
    let c = Case::new();
    let data = release();
    let fs = FaultServer::release(
        vec![Fault::NoLengthCut(data.clone(), data.len() - 100)],
        vec![Fault::Ok(c.sig_of(&data))],
    );
    let (code, j, _) = c.run_faults(&fs, &[]);
    assert_eq!(code, 1, "{j:?}");
    assert_eq!(j.codes(), vec!["bad-signature"]);
    c.assert_untouched();
}

#[test]
fn server_errors_and_429_are_retried() {
    let c = Case::new();
    let data = release();
    let fs = FaultServer::release(
        vec![
            Fault::Status(503, vec![]),
            Fault::Status(429, vec![("Retry-After".into(), "0".into())]),
            Fault::Ok(data.clone()),
        ],
        vec![Fault::Status(502, vec![]), Fault::Ok(c.sig_of(&data))],
    );
    let (code, j, _) = c.run_faults(&fs, &[]);
    assert_eq!(code, 0, "{j:?}");
    assert_eq!(fs.hits("/tool"), 3);
    assert_eq!(fs.hits("/tool.asc"), 2);
}

#[test]
fn persistent_503_gives_up_with_a_clear_error() {
    let c = Case::new();
    let fs = FaultServer::start();
    fs.route("/tool.asc", vec![Fault::Status(503, vec![])]);
    expect_download_failed(&c, &fs, &[], &["503", "4 attempts"]);
}

#[test]
fn stalled_download_times_out() {
    let c = Case::new();
    let data = release();
    let fs = FaultServer::release(
        vec![Fault::Stall(Duration::from_secs(5))],
        vec![Fault::Ok(c.sig_of(&data))],
    );
    let retry_once = ["--timeout", "1", "--retries", "1"];
    expect_download_failed(&c, &fs, &retry_once, &["timed out"]);
}

#[test]
fn max_size_is_enforced() {
    let (c, _) = Case::published();
    expect_rejected(&c, "tool", &["--max-size", "1M"], 2, "too-large");
}

// ---------- local files, catalogs, mirrors ----------

/// Writes a user catalog defining `vendor-tool`, installed as an executable and pinned to the
/// vendor key's first signing subkey.
fn write_catalog(c: &Case) -> PathBuf {
    let dir = c.dir.path();
    std::fs::write(dir.join("vendor.asc"), c.key.public_armored()).unwrap();
    let toml = format!(
        r#"
[tool.vendor-tool]
description = "a test vendor tool"
url = "https://releases.vendor.invalid/dl/vendor-tool-{{os}}-{{arch}}-{{version}}"
signature = "{{url}}.asc"
platforms = ["linux/amd64", "linux/arm64"]
install = "executable"

[[tool.vendor-tool.pin]]
certificate = "vendor.asc"
fingerprint = "{fpr}"
signing_keys = ["{allowed}"]
"#,
        fpr = c.key.fingerprint().to_hex(),
        allowed = c.key.subkey(0).to_hex()
    );
    let path = dir.join("catalog.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

#[test]
fn catalog_tool_through_a_mirror_and_pinned_subkeys() {
    let c = Case::new();
    let data = release();
    let catalog = write_catalog(&c);
    c.publish_signed("m/dl/vendor-tool-linux-arm64-v2.0.1", &data);
    // A signature by the certificate's other signing subkey, which the pin does not allow.
    let by_other_subkey = c.key.sign_with(
        &c.key.subkey(1),
        &data,
        HashAlgorithm::SHA256,
        SystemTime::now() - Duration::from_secs(60),
    );
    c.publish(
        "m/dl/vendor-tool-linux-amd64-v2.0.1",
        &data,
        &armor_sigs(&[by_other_subkey]),
    );
    let home = c.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let run_version = |platform: &str, version: &str| {
        let out = shipcheck()
            .env("HOME", &home)
            .args([
                "verify-bin",
                "vendor-tool",
                "--version",
                version,
                "--platform",
                platform,
                "--json",
            ])
            .arg("--catalog")
            .arg(&catalog)
            .arg("--mirror")
            .arg(c.nginx.https("m"))
            .arg("--ca-cert")
            .arg(c.nginx.ca_cert())
            .output()
            .unwrap();
        let j: BinJson = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), j)
    };
    let run = |platform: &str| run_version(platform, "v2.0.1");
    let (code, j) = run("linux/arm64");
    assert_eq!(code, 0, "{j:?}");
    assert_eq!(j.tool.as_deref(), Some("vendor-tool"));
    assert_eq!(j.version.as_deref(), Some("v2.0.1"));
    assert_eq!(j.platform.as_deref(), Some("linux/arm64"));
    assert_eq!(
        j.url.unwrap(),
        c.nginx.https("m/dl/vendor-tool-linux-arm64-v2.0.1")
    );
    let installed = home.join(".local/bin/vendor-tool");
    assert_eq!(j.installed.unwrap(), installed.display().to_string());
    assert_eq!(std::fs::read(&installed).unwrap(), data);

    std::fs::write(&installed, OLD).unwrap();
    let (code, j) = run("linux/amd64");
    assert_eq!(code, 1, "{j:?}");
    assert_eq!(j.codes(), vec!["unpinned-subkey"]);
    assert_eq!(std::fs::read(&installed).unwrap(), OLD);

    let (code, j) = run("darwin/arm64");
    assert_eq!(code, 2);
    assert_eq!(j.codes(), vec!["unsupported-platform"]);

    // A version that could change the URL's path is the user's mistake, not the platform's.
    let (code, j) = run_version("linux/arm64", "../v2.0.1");
    assert_eq!(code, 2);
    assert_eq!(j.codes(), vec!["usage"], "{j:?}");
    assert!(
        j.reasons[0].message.contains("version `../v2.0.1`"),
        "{j:?}"
    );
}

#[test]
fn offline_local_files_with_a_catalog_tool() {
    let c = Case::new();
    let data = release();
    let catalog = write_catalog(&c);
    let file = c.dir.path().join("vendor-tool");
    let sig = c.dir.path().join("vendor-tool.asc");
    std::fs::write(&file, &data).unwrap();
    std::fs::write(&sig, c.sig_of(&data)).unwrap();
    let verify = || {
        shipcheck()
            .args(["verify-bin", "vendor-tool", "--json", "--dest"])
            .arg(&c.dest)
            .arg("--file")
            .arg(&file)
            .arg("--sig")
            .arg(&sig)
            .arg("--catalog")
            .arg(&catalog)
            .output()
            .unwrap()
    };
    let out = verify();
    let j: BinJson = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{j:?}");
    assert_eq!(std::fs::read(&c.dest).unwrap(), data);
    assert!(j.url.is_none());
    assert_eq!(j.file.unwrap(), file.display().to_string());
    assert_eq!(j.sig_file.unwrap(), sig.display().to_string());
    // Tampered local file: fails, destination keeps the good copy.
    let mut bad = data.clone();
    bad[7] ^= 0x80;
    std::fs::write(&file, &bad).unwrap();
    let out = verify();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&c.dest).unwrap(), data);
    assert_no_temp_files(c.dest.parent().unwrap());
}

#[test]
fn local_file_with_key_verifies_without_installing() {
    let c = Case::new();
    let data = release();
    let file = c.dir.path().join("f.bin");
    let sig = c.dir.path().join("f.bin.sig");
    std::fs::write(&file, &data).unwrap();
    std::fs::write(&sig, binary_sigs(&[c.key.sign(&data)])).unwrap();
    shipcheck()
        .args(["verify-bin", "--file"])
        .arg(&file)
        .arg("--sig")
        .arg(&sig)
        .arg("--key")
        .arg(&c.keyfile)
        .assert()
        .code(0)
        .stdout(predicates::str::starts_with("PASS"))
        .stdout(predicates::str::contains("not installed"));
}

#[test]
fn text_output_explains_failures_on_stderr() {
    let c = Case::new();
    let data = release();
    let mallory = TestKey::fresh("mallory");
    c.publish("tool", &data, &armor_sigs(&[mallory.sign(&data)]));
    let out = shipcheck()
        .args(["verify-bin", "--url", &c.nginx.https("tool"), "--key"])
        .arg(&c.keyfile)
        .arg("--dest")
        .arg(&c.dest)
        .arg("--ca-cert")
        .arg(c.nginx.ca_cert())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stdout.starts_with("FAIL ") && stdout.contains("unpinned-signer"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "one verdict line on stdout");
    assert!(
        stderr.contains("error: signed by")
            && stderr.contains("hint:")
            && stderr.contains("nothing was installed"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "no progress bar or colour when stderr is not a terminal"
    );
}

#[test]
fn usage_errors_exit_2_with_json() {
    let d = tempfile::tempdir().unwrap();
    let key = d.path().join("k.asc");
    std::fs::write(&key, TestKey::fresh("k").public_armored()).unwrap();
    // --url needs --dest unless --no-install.
    let out = shipcheck()
        .args([
            "verify-bin",
            "--url",
            "https://127.0.0.1:1/x",
            "--json",
            "--key",
        ])
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let j: BinJson = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j.codes(), vec!["usage"]);
    // Unknown catalog tool.
    let out = shipcheck()
        .args(["verify-bin", "no-such-tool", "--json", "--no-install"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let j: BinJson = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j.codes(), vec!["unknown-tool"]);
    // clap-level errors still give one JSON object with --json.
    let out = shipcheck()
        .args(["verify-bin", "--bogus-flag", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "error");
    assert_eq!(v["reasons"][0]["code"], "usage");
}

/// On a terminal, a progress bar is drawn on stderr; without one (every other test), nothing is.
#[test]
fn progress_bar_only_on_a_terminal() {
    common::require("script", "util-linux");
    let c = Case::new();
    let data: Vec<u8> = vec![42u8; 3000];
    let fs = FaultServer::release(
        vec![Fault::Drip(data.clone(), Duration::from_micros(500))],
        vec![Fault::Ok(c.sig_of(&data))],
    );
    let bin = assert_cmd::cargo::cargo_bin("shipcheck");
    let cmd = format!(
        "{} verify-bin --url {} --key {} --no-install >/dev/null",
        bin.display(),
        fs.url("/tool"),
        c.keyfile.display()
    );
    // `script` gives the command a pseudo-terminal and copies what it writes there to our stdout.
    let out = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(
        tty.contains("tool [") && tty.contains("B/s"),
        "no progress bar drawn on the terminal: {tty:?}"
    );
}

/// A `--catalog` tool named like a built-in one replaces it and its pins: said in a warning
/// (`catalog-override`), as every relaxation of what is pinned is reported (adversarial pass 23: a
/// catalog redefining `ecs-cli` with another key printed a plain PASS). A new tool gets no warning.
#[test]
fn a_catalog_tool_that_replaces_a_built_in_one_is_reported() {
    let c = Case::new();
    let data = release();
    let catalog = write_catalog(&c);
    let text = std::fs::read_to_string(&catalog).unwrap();
    let renamed = c.dir.path().join("renamed.toml");
    std::fs::write(&renamed, text.replace("tool.vendor-tool", "tool.ecs-cli")).unwrap();
    let file = c.dir.path().join("tool");
    let sig = c.dir.path().join("tool.asc");
    std::fs::write(&file, &data).unwrap();
    std::fs::write(&sig, c.sig_of(&data)).unwrap();
    for (tool, cat, warned) in [
        ("vendor-tool", &catalog, false),
        ("ecs-cli", &renamed, true),
    ] {
        let run = |json: &[&str]| {
            shipcheck()
                .args(["verify-bin", tool, "--no-install", "--file"])
                .arg(&file)
                .arg("--sig")
                .arg(&sig)
                .arg("--catalog")
                .arg(cat)
                .args(json)
                .output()
                .unwrap()
        };
        let out = run(&["--json"]);
        let j: BinJson = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{tool}: {j:?}");
        let w: Vec<&str> = j.warnings.iter().map(|w| w.code.as_str()).collect();
        assert_eq!(w.contains(&"catalog-override"), warned, "{tool}: {w:?}");
        let text = run(&[]);
        let err = String::from_utf8_lossy(&text.stderr);
        assert_eq!(
            err.contains("replaces the built-in entry"),
            warned,
            "{tool}: {err}"
        );
    }
}

/// Pins and fingerprints that cannot mean what was written say so (adversarial pass 26): a catalog
/// pin with `signing_keys = []` (every signature would fail `unpinned-subkey`) is `invalid-catalog`;
/// `--fingerprint` naming a subkey says it is one; `0X` works as `0x` does.
#[test]
fn pins_and_fingerprints_that_cannot_work_say_why() {
    let c = Case::new();
    let data = release();
    let catalog = write_catalog(&c);
    let text = std::fs::read_to_string(&catalog).unwrap();
    let allowed = format!("signing_keys = [\"{}\"]", c.key.subkey(0).to_hex());
    let empty = c.dir.path().join("empty-signing-keys.toml");
    std::fs::write(&empty, text.replace(&allowed, "signing_keys = []")).unwrap();
    let file = c.dir.path().join("vendor-tool");
    let sig = c.dir.path().join("vendor-tool.asc");
    std::fs::write(&file, &data).unwrap();
    std::fs::write(&sig, c.sig_of(&data)).unwrap();
    let run = |args: &[&str]| {
        let out = shipcheck()
            .args(["verify-bin", "--json", "--no-install", "--file"])
            .arg(&file)
            .arg("--sig")
            .arg(&sig)
            .args(args)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), v)
    };
    let (code, v) = run(&["vendor-tool", "--catalog", empty.to_str().unwrap()]);
    assert_eq!(
        (code, v["reasons"][0]["code"].as_str()),
        (2, Some("invalid-catalog")),
        "{v}"
    );
    assert!(
        v["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("signing_keys = []"),
        "{v}"
    );
    let key = c.dir.path().join("vendor.asc");
    let key = key.to_str().unwrap();
    let (code, v) = run(&["--key", key, "--fingerprint", &c.key.subkey(0).to_hex()]);
    assert_eq!(code, 2, "{v}");
    assert!(
        v["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("is a subkey of certificate"),
        "{v}"
    );
    let (code, v) = run(&[
        "--key",
        key,
        "--fingerprint",
        &format!("0X{}", c.key.fingerprint().to_hex()),
    ]);
    assert_eq!(code, 0, "{v}");
}
