//! Hostile content and install safety for verify-bin: bounded time and memory, a clear reason, no
//! panic, and an installed binary that is either the old file or the new verified one.

use crate::common;

use common::codes;
use common::faults::{Fault, FaultServer};
use common::pgp::{armor_sigs, TestKey};
use openpgp::serialize::stream::{Armorer, Compressor, LiteralWriter, Message};
use openpgp::serialize::SerializeInto;
use openpgp::types::CompressionAlgorithm;
use sequoia_openpgp as openpgp;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Env {
    dir: tempfile::TempDir,
    key: TestKey,
    keyfile: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let key = TestKey::fresh("vendor");
        let keyfile = dir.path().join("vendor.asc");
        std::fs::write(&keyfile, key.public_armored()).unwrap();
        Env { dir, key, keyfile }
    }

    fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    /// Writes `payload` as `name` and the vendor's detached signature of it as `name.asc`.
    fn signed(&self, name: &str, payload: &[u8]) -> (PathBuf, PathBuf) {
        let data = self.file(name, payload);
        let sig = self.file(
            &format!("{name}.asc"),
            &armor_sigs(&[self.key.sign(payload)]),
        );
        (data, sig)
    }

    /// Serves 4 KiB at `/tool` trickling out in `interval` steps, and its good signature at
    /// `/tool.asc`.
    fn serve_drip(&self, fs: &FaultServer, interval: Duration) {
        fs.route("/tool", vec![Fault::Drip(vec![7u8; 4096], interval)]);
        fs.route(
            "/tool.asc",
            vec![Fault::Ok(armor_sigs(&[self.key.sign(&[7u8; 4096])]))],
        );
    }

    /// `verify-bin` of the local `data` against `sig` with the vendor key (installing to `dest`
    /// when given), under [`run_bounded`]'s limits.
    fn verify_files(
        &self,
        data: &Path,
        sig: &Path,
        dest: Option<&Path>,
        deadline: Duration,
    ) -> (i32, Value) {
        let mut paths = vec![
            Path::new("--file"),
            data,
            Path::new("--sig"),
            sig,
            Path::new("--key"),
            &self.keyfile,
        ];
        if let Some(dest) = dest {
            paths.extend([Path::new("--dest"), dest]);
        }
        run_bounded(&["verify-bin"], &paths, deadline)
    }

    /// `verify-bin --no-install <flags> --url <url>` with the vendor key, under [`run_bounded`]'s
    /// limits.
    fn verify_url(&self, flags: &[&str], url: &str, deadline: Duration) -> (i32, Value) {
        let args: Vec<&str> = ["verify-bin", "--no-install"]
            .into_iter()
            .chain(flags.iter().copied())
            .chain(["--url", url])
            .collect();
        run_bounded(&args, &[Path::new("--key"), &self.keyfile], deadline)
    }
}

/// Peak memory any hostile input may cost (the streaming design stays near 15 MiB).
const MAX_RSS_KIB: u64 = 64 * 1024;

/// Runs shipcheck with `args` and `--json`, asserting it finishes within `deadline` and stays under
/// [`MAX_RSS_KIB`] of resident memory.
fn run_bounded(args: &[&str], paths: &[&Path], deadline: Duration) -> (i32, Value) {
    // Under GNU time, to measure the peak resident set size as well.
    let time = common::require("time", "time");
    let rss = tempfile::NamedTempFile::new().unwrap();
    let start = Instant::now();
    let out = assert_cmd::Command::new(time)
        .args(["-f", "%M", "-o"])
        .arg(rss.path())
        .arg(assert_cmd::cargo::cargo_bin("shipcheck"))
        .env("SHIPCHECK_RETRY_DELAY_MS", "20")
        .args(args)
        .args(paths)
        .arg("--json")
        .timeout(deadline)
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(took < deadline, "took {took:?}, deadline {deadline:?}");
    let peak_kib: u64 = std::fs::read_to_string(rss.path())
        .unwrap()
        .trim()
        .lines()
        .last()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        peak_kib < MAX_RSS_KIB,
        "peak RSS {peak_kib} KiB, limit {MAX_RSS_KIB} KiB"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}); status {:?}, stderr {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().expect("exited, not killed"), v)
}

/// An armored message: a compressed packet holding `inner_mib` MiB of zeros as literal data.
fn compression_bomb(inner_mib: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let m = Message::new(&mut out);
    let m = Armorer::new(m)
        .kind(openpgp::armor::Kind::Signature)
        .build()
        .unwrap();
    let m = Compressor::new(m)
        .algo(CompressionAlgorithm::BZip2)
        .build()
        .unwrap();
    let mut w = LiteralWriter::new(m).build().unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..inner_mib {
        w.write_all(&zeros).unwrap();
    }
    w.finalize().unwrap();
    out
}

#[test]
fn compression_bomb_in_the_signature_is_refused_unopened() {
    let e = Env::new();
    let bomb = compression_bomb(256);
    assert!(
        bomb.len() < 16 * 1024,
        "the bomb fits under the signature cap: {} bytes",
        bomb.len()
    );
    let data = e.file("tool", b"data");
    let sig = e.file("tool.asc", &bomb);
    let (code, v) = e.verify_files(&data, &sig, None, Duration::from_secs(10));
    assert_eq!(code, 1, "{v}");
    assert_eq!(codes(&v), vec!["malformed-signature"]);
}

#[test]
fn nested_compressed_packets_are_not_descended() {
    let e = Env::new();
    // Compressed inside compressed inside compressed... around a real signature.
    let sig = e.key.sign(b"data");
    let mut layer = openpgp::Packet::from(sig).to_vec().unwrap();
    for _ in 0..200 {
        let mut out = Vec::new();
        let m = Message::new(&mut out);
        let mut c = Compressor::new(m)
            .algo(CompressionAlgorithm::Zip)
            .build()
            .unwrap();
        // The previous layer, as raw packet bytes, is the container's content.
        c.write_all(&layer).unwrap();
        c.finalize().unwrap();
        layer = out;
    }
    let data = e.file("tool", b"data");
    let sigf = e.file("tool.sig", &layer);
    let (code, v) = e.verify_files(&data, &sigf, None, Duration::from_secs(10));
    assert_eq!(code, 1, "{v}");
    assert_eq!(codes(&v), vec!["malformed-signature"]);
}

#[test]
fn megabytes_of_signature_file_are_refused() {
    let e = Env::new();
    let data = e.file("tool", b"data");
    let mut big = armor_sigs(&[e.key.sign(b"data")]);
    big.resize(8 << 20, b'A');
    let sig = e.file("tool.asc", &big);
    let (code, v) = e.verify_files(&data, &sig, None, Duration::from_secs(10));
    assert_eq!(code, 1);
    assert_eq!(codes(&v), vec!["signature-too-large"]);
    // Over HTTP: a Content-Length of megabytes is refused before reading, and so is a body without one.
    let fs = FaultServer::start();
    fs.route("/a.asc", vec![Fault::HugeLength(8 << 20)]);
    fs.route("/b.asc", vec![Fault::Endless]);
    for name in ["a", "b"] {
        let url = fs.url(&format!("/{name}"));
        let (code, v) = e.verify_url(&[], &url, Duration::from_secs(10));
        assert_eq!(code, 1, "{v}");
        assert_eq!(codes(&v), vec!["signature-too-large"]);
    }
}

#[test]
fn endless_and_huge_bodies_stop_at_the_download_limit() {
    let e = Env::new();
    let fs = FaultServer::start();
    let sig = armor_sigs(&[e.key.sign(b"whatever")]);
    fs.route("/endless", vec![Fault::Endless]);
    fs.route("/endless.asc", vec![Fault::Ok(sig.clone())]);
    fs.route("/huge", vec![Fault::HugeLength(5 << 30)]);
    fs.route("/huge.asc", vec![Fault::Ok(sig)]);
    for name in ["endless", "huge"] {
        let url = fs.url(&format!("/{name}"));
        let (code, v) = e.verify_url(&["--max-size", "32M"], &url, Duration::from_secs(20));
        assert_eq!(code, 2, "{v}");
        assert_eq!(codes(&v), vec!["too-large"], "{name}");
    }
    // The default limit (4 GiB) is finite too: a 5 GiB Content-Length is refused before reading.
    let url = fs.url("/huge");
    let (code, v) = e.verify_url(&[], &url, Duration::from_secs(20));
    assert_eq!(code, 2);
    assert_eq!(codes(&v), vec!["too-large"]);
}

#[test]
fn slow_drip_is_cut_off() {
    let e = Env::new();
    let fs = FaultServer::start();
    e.serve_drip(&fs, Duration::from_millis(100));
    let url = fs.url("/tool");
    let (code, v) = e.verify_url(
        &["--timeout", "1", "--retries", "1"],
        &url,
        Duration::from_secs(20),
    );
    assert_eq!(code, 2, "{v}");
    assert_eq!(codes(&v), vec!["download-failed"]);
    assert!(
        v["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too slow"),
        "{v}"
    );
}

/// Ctrl-C or SIGTERM during a download: the temp file beside the destination is removed, the old
/// destination is untouched, and the run says it was interrupted (exit 2). (The temp file stayed:
/// nothing caught the signal, so nothing dropped it.)
#[test]
fn an_interrupted_download_leaves_no_temp_file() {
    let e = Env::new();
    let fs = FaultServer::start();
    e.serve_drip(&fs, Duration::from_millis(20));
    interrupted_install(&e, &["--url", &fs.url("/tool")], "-TERM");
}

/// The same for SIGHUP, the terminal or SSH session closing (adversarial pass 39: the run died of it,
/// exit 129, and left the temp file of unverified bytes beside the destination).
#[test]
fn a_download_cut_by_a_hangup_leaves_no_temp_file() {
    let e = Env::new();
    let fs = FaultServer::start();
    e.serve_drip(&fs, Duration::from_millis(20));
    interrupted_install(&e, &["--url", &fs.url("/tool")], "-HUP");
}

/// The same for a local file being copied into place (`--file` with `--dest`): a 1 GiB file (sparse)
/// takes seconds to hash and copy, and SIGTERM stops the copy between chunks. (The process died of
/// the signal and left its temp file.)
#[test]
fn an_interrupted_local_install_leaves_no_temp_file() {
    let e = Env::new();
    let data = e.dir.path().join("big");
    std::fs::File::create(&data)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let sig = e.file("big.asc", &armor_sigs(&[e.key.sign(b"other")]));
    interrupted_install(
        &e,
        &[
            "--file",
            data.to_str().unwrap(),
            "--sig",
            sig.to_str().unwrap(),
        ],
        "-TERM",
    );
}

/// A FIFO as `--file` (`<(curl ...)`) whose writer stalls: SIGTERM still ends the run at once, as
/// it did before signals were watched (the read is blocked, not between chunks, so watching would
/// leave the run deaf to it). The destination is untouched.
#[test]
fn a_stalled_pipe_as_local_file_still_ends_on_sigterm() {
    use std::os::unix::process::ExitStatusExt;
    let e = Env::new();
    let fifo = e.dir.path().join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let sig = e.file("pipe.asc", &armor_sigs(&[e.key.sign(b"data")]));
    let (mut child, _dir, dest) = spawn_install(
        &e,
        &[
            "--file",
            fifo.to_str().unwrap(),
            "--sig",
            sig.to_str().unwrap(),
        ],
    );
    // Opening the writing end waits for the run to open the reading end.
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writer.write_all(b"partial").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            panic!("SIGTERM did not end a run blocked on a stalled pipe");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(writer);
    assert_eq!(status.signal(), Some(15), "{status}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"old");
}

/// Starts `verify-bin --json SOURCE --key KEY --dest DIR/tool` over an old `DIR/tool` (`old`);
/// returns the run, DIR and the destination.
fn spawn_install(e: &Env, source: &[&str]) -> (std::process::Child, PathBuf, PathBuf) {
    let dir = e.dir.path().join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    let dest = dir.join("tool");
    std::fs::write(&dest, b"old").unwrap();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("shipcheck"))
        .args(["verify-bin", "--json"])
        .args(source)
        .arg("--key")
        .arg(&e.keyfile)
        .arg("--dest")
        .arg(&dest)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    (child, dir, dest)
}

/// Runs `verify-bin` as [`spawn_install`] does, sends `signal` once the temp file beside the
/// destination exists, and checks what the run leaves.
fn interrupted_install(e: &Env, source: &[&str], signal: &str) {
    let (child, dir, dest) = spawn_install(e, source);
    let temps = || {
        std::fs::read_dir(&dir)
            .unwrap()
            .filter(|f| {
                f.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".shipcheck-")
            })
            .count()
    };
    let start = Instant::now();
    while temps() == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no temp file appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no JSON ({}); stderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(out.status.code(), Some(2), "{v}");
    assert_eq!(codes(&v), vec!["interrupted"], "{v}");
    assert_eq!(temps(), 0, "temp file left behind");
    assert_eq!(std::fs::read(&dest).unwrap(), b"old");
}

#[test]
fn certificate_with_thousands_of_signatures_loads_in_bounded_time() {
    use openpgp::packet::signature::SignatureBuilder;
    use openpgp::types::SignatureType;
    let e = Env::new();
    let signer = TestKey::fresh("certifier");
    let mut kp = signer
        .cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap();
    let uid = e.key.cert.userids().next().unwrap().userid().clone();
    let mut sigs = Vec::new();
    for _ in 0..3000 {
        let s = SignatureBuilder::new(SignatureType::GenericCertification)
            .sign_userid_binding(&mut kp, e.key.cert.primary_key().key(), &uid)
            .unwrap();
        sigs.push(openpgp::Packet::from(s));
    }
    let flooded = e.key.cert.clone().insert_packets(sigs).unwrap().0;
    let armored = flooded.armored().to_vec().unwrap();
    assert!(armored.len() < 1 << 20, "{} bytes", armored.len());
    std::fs::write(&e.keyfile, &armored).unwrap();
    let (data, sig) = e.signed("tool", b"payload");
    let (code, v) = e.verify_files(&data, &sig, None, Duration::from_secs(30));
    assert_eq!(code, 0, "{v}");
    // Over the key-file cap: refused, not parsed.
    let mut huge = armored.clone();
    while huge.len() <= 1 << 20 {
        huge.extend_from_slice(&armored);
    }
    std::fs::write(&e.keyfile, &huge).unwrap();
    let (code, v) = e.verify_files(&data, &sig, None, Duration::from_secs(30));
    assert_eq!(code, 2, "{v}");
    assert_eq!(codes(&v), vec!["invalid-key"]);
}

// ---------- install safety ----------

struct Mount(PathBuf);
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// Mounts a tmpfs with `opts` at `dir`; None when this machine does not allow it.
fn tmpfs(dir: &Path, opts: &str) -> Option<Mount> {
    std::fs::create_dir_all(dir).unwrap();
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    ok.then(|| Mount(dir.to_path_buf()))
}

fn verify_local(e: &Env, data: &Path, sig: &Path, dest: &Path) -> (i32, Value) {
    e.verify_files(data, sig, Some(dest), Duration::from_secs(60))
}

#[test]
fn full_disk_leaves_the_old_binary_and_no_temp_file() {
    let e = Env::new();
    let payload: Vec<u8> = (0..3 << 20).map(|i: u32| (i * 7) as u8).collect();
    let (data, sig) = e.signed("tool", &payload);
    let mnt = e.dir.path().join("small");
    let Some(_m) = tmpfs(&mnt, "size=1m") else {
        eprintln!("NOTE: cannot mount a tmpfs here (not root?); the full-disk case runs only where mount works");
        assert!(!is_root(), "root but mount failed");
        return;
    };
    let dest = mnt.join("tool");
    std::fs::write(&dest, b"old").unwrap();
    let (code, v) = verify_local(&e, &data, &sig, &dest);
    assert_eq!(code, 2, "{v}");
    assert_eq!(codes(&v), vec!["install-failed"]);
    assert!(
        v["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("No space left"),
        "{v}"
    );
    assert_eq!(std::fs::read(&dest).unwrap(), b"old");
    assert_eq!(
        std::fs::read_dir(&mnt).unwrap().count(),
        1,
        "temp file left behind"
    );
}

#[test]
fn unwritable_destination_directory() {
    let e = Env::new();
    let (data, sig) = e.signed("tool", b"payload");
    let ro = e.dir.path().join("ro");
    let _m;
    if is_root() {
        _m = tmpfs(&ro, "ro,size=1m").expect("root can mount a read-only tmpfs");
    } else {
        std::fs::create_dir_all(&ro).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let (code, v) = verify_local(&e, &data, &sig, &ro.join("tool"));
    assert_eq!(code, 2, "{v}");
    assert_eq!(codes(&v), vec!["install-failed"]);
    assert!(!ro.join("tool").exists());
}

#[test]
fn directory_destination_is_refused() {
    let e = Env::new();
    let (data, sig) = e.signed("tool", b"payload");
    let d = e.dir.path().join("adir");
    std::fs::create_dir_all(&d).unwrap();
    let (code, v) = verify_local(&e, &data, &sig, &d);
    assert_eq!(code, 2);
    assert_eq!(codes(&v), vec!["unsafe-destination"]);
    assert!(d.is_dir());
}

/// The temp file is named after the destination, not the source: a source whose name is near the
/// file system's limit (255 bytes) installs to a short destination.
#[test]
fn a_long_source_name_installs_to_a_short_destination() {
    let e = Env::new();
    let data = e.file(&"a".repeat(240), b"payload");
    let sig = e.file("tool.asc", &armor_sigs(&[e.key.sign(b"payload")]));
    let dest = e.dir.path().join("short");
    let (code, v) = verify_local(&e, &data, &sig, &dest);
    assert_eq!(code, 0, "{v}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"payload");
}

/// A destination ending in `/` names a directory: refused before anything is read or downloaded.
#[test]
fn a_destination_ending_in_a_slash_is_refused() {
    let e = Env::new();
    let (data, sig) = e.signed("tool", b"payload");
    let dest = PathBuf::from(format!("{}/nonexistent/", e.dir.path().display()));
    let (code, v) = verify_local(&e, &data, &sig, &dest);
    assert_eq!(code, 2, "{v}");
    assert_eq!(codes(&v), vec!["unsafe-destination"]);
    assert!(v["reasons"][0]["message"]
        .as_str()
        .unwrap()
        .contains("ends with `/`"));
}

#[test]
fn concurrent_installs_leave_one_whole_verified_file() {
    let e = Env::new();
    let v1: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    let v2: Vec<u8> = (0..5 << 20).map(|i: u32| (i % 241) as u8).collect();
    let (d1, s1) = e.signed("v1", &v1);
    let (d2, s2) = e.signed("v2", &v2);
    let bindir = e.dir.path().join("bin");
    std::fs::create_dir_all(&bindir).unwrap();
    let dest = bindir.join("tool");
    for round in 0..5 {
        std::fs::write(&dest, b"old").unwrap();
        let spawn = |d: &Path, s: &Path| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("shipcheck"))
                .args(["verify-bin", "--quiet", "--file"])
                .arg(d)
                .arg("--sig")
                .arg(s)
                .arg("--key")
                .arg(&e.keyfile)
                .arg("--dest")
                .arg(&dest)
                .spawn()
                .unwrap()
        };
        let (mut a, mut b) = (spawn(&d1, &s1), spawn(&d2, &s2));
        assert!(
            a.wait().unwrap().success() && b.wait().unwrap().success(),
            "round {round}"
        );
        let got = std::fs::read(&dest).unwrap();
        assert!(
            got == v1 || got == v2,
            "round {round}: the destination is a mix ({} bytes)",
            got.len()
        );
        let names: Vec<_> = std::fs::read_dir(&bindir)
            .unwrap()
            .map(|x| x.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "temp files left: {names:?}");
    }
}

/// A key on a curve the crypto backend cannot compute with (secp256k1, made by GnuPG, which gpgv
/// accepts): `unsupported-signature`, naming the curve, never "the file was modified" (adversarial
/// pass 23 found that wrong diagnosis).
#[test]
fn a_key_on_an_unsupported_curve_is_unsupported_not_modified() {
    expect_unsupported_fixture("secp256k1", "1.3.132.0.10");
}

/// The machine's OpenSSL configuration (Sequoia's crypto backend) does not reach the verdict: a
/// file named by `OPENSSL_CONF` that activates only OpenSSL's `null` provider (no algorithms at all)
/// made Sequoia panic while parsing the key (exit 101); a good signature still passes, and a
/// tampered file still fails, whatever the configuration says.
#[test]
fn the_openssl_configuration_file_does_not_change_the_verdict() {
    let e = Env::new();
    let (data, sig) = e.signed("tool", b"release bytes");
    let conf = e.file(
        "openssl.cnf",
        b"openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n\
          [provider_sect]\nnull = null_sect\n[null_sect]\nactivate = 1\n",
    );
    let run = |data: &Path| {
        let out = common::shipcheck()
            .env("OPENSSL_CONF", &conf)
            .args(["verify-bin", "--json", "--file"])
            .arg(data)
            .arg("--sig")
            .arg(&sig)
            .arg("--key")
            .arg(&e.keyfile)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), v)
    };
    let (rc, v) = run(&data);
    assert_eq!(rc, Some(0), "{v}");
    assert_eq!(v["verdict"], "pass", "{v}");
    let tampered = e.file("tampered", b"release bytez");
    let (rc, v) = run(&tampered);
    assert_eq!(rc, Some(1), "{v}");
    assert_eq!(codes(&v), ["bad-signature"], "{v}");
}

/// A signature packet Sequoia cannot parse (an unknown version, such as LibrePGP's 5) beside a good
/// signature, and a marker packet whose content is not "PGP", are skipped as sqv skips them (both
/// failed the whole file as `malformed-signature` until adversarial pass 31); a file holding no
/// signature that parses still fails.
#[test]
fn unparsable_signature_packets_and_odd_markers_are_skipped_as_sqv_skips_them() {
    use openpgp::Packet;
    let e = Env::new();
    let payload = b"release bytes";
    let data = e.file("tool", payload);
    let good = Packet::from(e.key.sign(payload)).to_vec().unwrap();
    // New-format packets: tag 2 (signature) of version 5, tag 10 (marker) holding "XYZ".
    let v5: &[u8] = &[0xC2, 10, 5, 0, 22, 8, 0, 0, 0, 0, 0, 0];
    let marker: &[u8] = &[0xCA, 3, b'X', b'Y', b'Z'];
    let run = |name: &str, sig: Vec<u8>| {
        let sig = e.file(name, &sig);
        e.verify_files(&data, &sig, None, Duration::from_secs(30))
    };
    let (rc, v) = run("good-v5.sig", [&good[..], v5].concat());
    assert_eq!(rc, 0, "{v}");
    let warning = v["warnings"][0]["message"].as_str().unwrap();
    assert!(warning.contains("cannot be parsed"), "{v}");
    let (rc, v) = run("v5-good.sig", [v5, &good[..]].concat());
    assert_eq!(rc, 0, "{v}");
    let (rc, v) = run("marker-good.sig", [marker, &good[..]].concat());
    assert_eq!(rc, 0, "{v}");
    assert_eq!(v["warnings"].as_array().unwrap().len(), 0, "{v}");
    let (rc, v) = run("v5.sig", v5.to_vec());
    assert_eq!(rc, 1, "{v}");
    assert_eq!(codes(&v), ["malformed-signature"], "{v}");
}

/// A version 4 signature whose signed subpackets hold a version 5 Issuer Fingerprint, which Sequoia
/// cannot encode again to hash them: `unsupported-signature`, never "the file was modified"
/// (adversarial pass 31; sqv 1.1 accepts the signature).
#[test]
fn a_version_5_issuer_fingerprint_is_unsupported_not_modified() {
    expect_unsupported_fixture("v5-issuer-fingerprint", "version 5 fingerprint");
}

/// `verify-bin` of a fixture directory's `data`, `data.sig` and `cert.pgp`: exit 1,
/// `unsupported-signature` naming `needle`, never "the file was modified".
fn expect_unsupported_fixture(fixture: &str, needle: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(fixture);
    let out = common::shipcheck()
        .args(["verify-bin", "--json", "--file"])
        .arg(dir.join("data"))
        .arg("--sig")
        .arg(dir.join("data.sig"))
        .arg("--key")
        .arg(dir.join("cert.pgp"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(codes(&v), ["unsupported-signature"], "{v}");
    let msg = v["reasons"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains(needle) && !msg.contains("the file was modified"),
        "{msg}"
    );
}
