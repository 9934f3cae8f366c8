//! No wrong pass: the attacks of the soundness review, each as a user would meet it. Key files and
//! catalogs that hold several copies of a certificate, index entries that hide or fake platforms,
//! nested indexes, walk budgets, credentials in URLs and registry text on the terminal. Images are
//! pushed to the real docker-registry; signatures and keys are made by sequoia in the test.

use crate::common;
use crate::common::fake_registry;
use crate::common::image_json as image_support;

use common::faults::{Fault, FaultServer};
use common::nginx::Nginx;
use common::pgp::{armor_sigs, binary_sigs, TestKey, DAY};
use common::registry::{Flavour, Pushed, Registry, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST};
use common::{codes, shipcheck};
use image_support::run_json;
use sequoia_openpgp::types::HashAlgorithm;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A signature that names no key (no Issuer, no Issuer Fingerprint) is refused, as sqv, Sequoia's
/// own verifier and gpg refuse it (adversarial pass 26: shipcheck tried every pinned key and
/// passed); one without a creation time is malformed, not "the file was modified".
#[test]
fn a_signature_naming_no_key_or_no_time_is_malformed() {
    let key = TestKey::fresh("vendor");
    let dir = tempfile::tempdir().unwrap();
    let data = b"#!/bin/sh\necho release\n".to_vec();
    let file = dir.path().join("tool");
    std::fs::write(&file, &data).unwrap();
    let cert = dir.path().join("vendor.asc");
    std::fs::write(&cert, key.public_armored()).unwrap();
    for (name, sig, needle) in [
        ("good", key.sign(&data), ""),
        (
            "noissuer",
            key.sign_without_issuer(&data),
            "names no signing key",
        ),
        (
            "notime",
            key.sign_without_creation_time(&data),
            "no creation time",
        ),
    ] {
        let path = dir.path().join(format!("{name}.asc"));
        std::fs::write(&path, armor_sigs(&[sig])).unwrap();
        let out = shipcheck()
            .args(["verify-bin", "--json", "--file"])
            .arg(&file)
            .arg("--sig")
            .arg(&path)
            .arg("--key")
            .arg(&cert)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        if needle.is_empty() {
            assert_eq!(out.status.code(), Some(0), "{name}: {text}");
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{name}: {text}");
        assert!(
            codes(&serde_json::from_str(&text).unwrap())
                .contains(&"malformed-signature".to_string())
                && text.contains(needle),
            "{name}: {text}"
        );
    }
}

// ---------- 1. several copies of one certificate ----------

/// A signed release on disk and the two copies of the vendor's certificate: `old` (as first
/// published) and `new` (after the vendor's update: revocation, new expiry).
struct Keys {
    dir: tempfile::TempDir,
    data: PathBuf,
    sig: PathBuf,
    old: PathBuf,
    new: PathBuf,
    fpr: String,
}

impl Keys {
    /// Signs with subkey 0 at `signed`, writes the old copy, applies `update` and writes the new one.
    fn new(mut key: TestKey, signed: SystemTime, update: impl FnOnce(&mut TestKey)) -> Keys {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("tool");
        std::fs::write(&data, b"#!/bin/sh\necho release\n").unwrap();
        let sig = dir.path().join("tool.asc");
        let s = key.sign_with(
            &key.subkey(0),
            &std::fs::read(&data).unwrap(),
            HashAlgorithm::SHA512,
            signed,
        );
        std::fs::write(&sig, armor_sigs(&[s])).unwrap();
        let old = dir.path().join("old.asc");
        std::fs::write(&old, key.public_armored()).unwrap();
        update(&mut key);
        let new = dir.path().join("new.asc");
        std::fs::write(&new, key.public_armored()).unwrap();
        let fpr = key.fingerprint().to_hex();
        Keys {
            dir,
            data,
            sig,
            old,
            new,
            fpr,
        }
    }

    /// A key file holding the copies in the order given.
    fn combined(&self, first: &Path, second: &Path) -> PathBuf {
        let mut bytes = std::fs::read(first).unwrap();
        bytes.extend(std::fs::read(second).unwrap());
        let p = self.dir.path().join(format!(
            "{}+{}",
            first.file_name().unwrap().to_string_lossy(),
            second.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// `verify-bin --file --sig --no-install --json` plus `args`: (exit code, reason codes).
    fn verify(&self, args: &[String]) -> (i32, Vec<String>) {
        let out = shipcheck()
            .args(["verify-bin", "--no-install", "--json", "--file"])
            .arg(&self.data)
            .arg("--sig")
            .arg(&self.sig)
            .args(args)
            .output()
            .unwrap();
        let j: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap(), codes(&j))
    }

    fn with_keys(&self, files: &[&Path]) -> (i32, Vec<String>) {
        let mut args = Vec::new();
        for f in files {
            args.push("--key".to_string());
            args.push(f.display().to_string());
        }
        self.verify(&args)
    }

    /// A user catalog whose tool pins the certificate through `files` (one `[[pin]]` each).
    fn with_catalog(&self, files: &[&Path]) -> (i32, Vec<String>) {
        let mut toml = String::from(
            "[tool.vendor-tool]\nurl = \"https://releases.vendor.invalid/{os}-{arch}\"\nplatforms = [\"linux/amd64\", \"linux/arm64\"]\n",
        );
        for f in files {
            toml.push_str(&format!(
                "[[tool.vendor-tool.pin]]\ncertificate = \"{}\"\nfingerprint = \"{}\"\n",
                f.file_name().unwrap().to_string_lossy(),
                self.fpr
            ));
        }
        let cat = self.dir.path().join("catalog.toml");
        std::fs::write(&cat, toml).unwrap();
        self.verify(&[
            "vendor-tool".into(),
            "--catalog".into(),
            cat.display().to_string(),
        ])
    }

    /// Every way of handing shipcheck both copies, in both orders, gives `expected`.
    fn assert_every_order(&self, expected: (i32, &str)) {
        let (old, new) = (self.old.as_path(), self.new.as_path());
        let cases: Vec<(String, (i32, Vec<String>))> = vec![
            (
                "file old+new".into(),
                self.with_keys(&[&self.combined(old, new)]),
            ),
            (
                "file new+old".into(),
                self.with_keys(&[&self.combined(new, old)]),
            ),
            ("--key old --key new".into(), self.with_keys(&[old, new])),
            ("--key new --key old".into(), self.with_keys(&[new, old])),
            (
                "catalog file old+new".into(),
                self.with_catalog(&[&self.combined(old, new)]),
            ),
            (
                "catalog file new+old".into(),
                self.with_catalog(&[&self.combined(new, old)]),
            ),
            (
                "catalog pins old, new".into(),
                self.with_catalog(&[old, new]),
            ),
            (
                "catalog pins new, old".into(),
                self.with_catalog(&[new, old]),
            ),
        ];
        for (what, (code, codes)) in cases {
            assert_eq!(code, expected.0, "{what}: {codes:?}");
            if expected.1.is_empty() {
                assert!(codes.is_empty(), "{what}: {codes:?}");
            } else {
                assert!(codes.iter().any(|c| c == expected.1), "{what}: {codes:?}");
            }
        }
    }
}

fn a_minute_ago() -> SystemTime {
    SystemTime::now() - Duration::from_secs(60)
}

#[test]
fn a_revocation_in_any_copy_of_the_certificate_applies() {
    let k = Keys::new(TestKey::fresh("vendor"), a_minute_ago(), |k| k.revoke());
    // Each copy alone: the old one passes (the vendor had not revoked yet), the new one does not.
    assert_eq!(k.with_keys(&[&k.old]), (0, vec![]));
    assert_eq!(k.with_keys(&[&k.new]).0, 1);
    k.assert_every_order((1, "key-revoked"));
}

/// A copy appended in binary after an armored one is not read by the armor reader (nor by sqv's
/// or gpg's): a key file with binary data beside its armored blocks is refused (`invalid-key`,
/// exit 2). Adversarial pass 39: the revoked key passed. Text around the blocks (comments) is
/// still read as before.
#[test]
fn a_binary_copy_appended_to_an_armored_key_file_is_refused() {
    use sequoia_openpgp::parse::Parse as _;
    use sequoia_openpgp::serialize::SerializeInto as _;
    let k = Keys::new(TestKey::fresh("vendor"), a_minute_ago(), |k| k.revoke());
    let armored_new = std::fs::read(&k.new).unwrap();
    let binary_new = sequoia_openpgp::Cert::from_bytes(&armored_new)
        .unwrap()
        .to_vec()
        .unwrap();
    let file = k.dir.path().join("old-then-binary-new.asc");
    let mut bytes = std::fs::read(&k.old).unwrap();
    bytes.extend_from_slice(&binary_new);
    std::fs::write(&file, &bytes).unwrap();
    assert_eq!(k.with_keys(&[&file]), (2, vec!["invalid-key".to_string()]));
    // Comments around armored copies are text, read as before: the revocation applies.
    let commented = k.dir.path().join("commented.asc");
    let mut bytes = b"Vendor key, updated 2026 (revoked)\n".to_vec();
    bytes.extend_from_slice(&std::fs::read(&k.old).unwrap());
    bytes.extend_from_slice("nächste Kopie:\n".as_bytes());
    bytes.extend_from_slice(&armored_new);
    bytes.extend_from_slice(b"\n-- end\n");
    std::fs::write(&commented, &bytes).unwrap();
    assert_eq!(
        k.with_keys(&[&commented]),
        (1, vec!["key-revoked".to_string()])
    );
}

/// A certificate revoked by its designated revoker fails (`key-revoked`) when the revoker's
/// certificate is in the trust set, in the same key file or another `--key`; sqv and gpgv ignore
/// such revocations (gpg warns). Without the revoker's certificate the revocation cannot be checked
/// and is ignored, as by sqv. A revocation by a key the certificate does not designate is ignored.
/// Adversarial pass 39: the revoked certificate passed with its revoker at hand.
#[test]
fn a_revocation_by_a_designated_revoker_applies_when_the_revoker_is_pinned() {
    let revoker = TestKey::fresh("vendor-security");
    let stranger = TestKey::fresh("stranger");
    let key = TestKey::with_designated_revoker("vendor", &revoker);
    let k = Keys::new(key, a_minute_ago(), |k| k.revoke_by(&revoker));
    let write = |name: &str, certs: &[&[u8]]| {
        let p = k.dir.path().join(name);
        std::fs::write(&p, certs.concat()).unwrap();
        p
    };
    let revoker_file = write("revoker.asc", &[&revoker.public_armored()]);
    let new = std::fs::read(&k.new).unwrap();
    let both = write("both.asc", &[&new, &revoker.public_armored()]);
    assert_eq!(k.with_keys(&[&k.old]), (0, vec![]));
    assert_eq!(k.with_keys(&[&k.new]), (0, vec![]), "revoker not held");
    for files in [
        vec![&both],
        vec![&k.new, &revoker_file],
        vec![&revoker_file, &k.new],
    ] {
        assert_eq!(
            k.with_keys(&files.iter().map(|p| p.as_path()).collect::<Vec<_>>()),
            (1, vec!["key-revoked".to_string()]),
            "{files:?}"
        );
    }
    // The same revocation made by a key the certificate does not designate.
    let key = TestKey::with_designated_revoker("vendor", &revoker);
    let k = Keys::new(key, a_minute_ago(), |k| k.revoke_by(&stranger));
    let stranger_file = k.dir.path().join("stranger.asc");
    std::fs::write(&stranger_file, stranger.public_armored()).unwrap();
    assert_eq!(k.with_keys(&[&k.new, &stranger_file]), (0, vec![]));
}

#[test]
fn a_revoked_signing_subkey_in_any_copy_applies() {
    let k = Keys::new(TestKey::fresh("vendor"), a_minute_ago(), |k| {
        k.revoke_subkey(0)
    });
    assert_eq!(k.with_keys(&[&k.old]), (0, vec![]));
    k.assert_every_order((1, "key-revoked"));
}

#[test]
fn an_extended_expiry_in_any_copy_applies() {
    // Valid for 380 days from 400 days ago: expired 20 days ago; signed 30 days ago.
    let key = TestKey::new("vendor", SystemTime::now() - 400 * DAY, Some(380 * DAY));
    let k = Keys::new(key, SystemTime::now() - 30 * DAY, |k| {
        k.set_expiry(SystemTime::now() + 365 * DAY)
    });
    assert_eq!(
        k.with_keys(&[&k.old]),
        (1, vec!["key-expired-since-signing".to_string()])
    );
    k.assert_every_order((0, ""));
}

#[test]
fn a_key_bound_to_two_pinned_certificates_passes_if_either_binding_holds_in_any_order() {
    // The vendor binds its signing subkey to a second certificate, then revokes it in the first.
    let mut first = TestKey::fresh("vendor");
    let mut second = TestKey::fresh("vendor-2");
    second.adopt_subkey(&first, 0);
    // Signed after the second binding was made (a key bound later did not sign earlier).
    std::thread::sleep(Duration::from_millis(1100));
    let k = Keys::new(
        TestKey {
            cert: first.cert.clone(),
        },
        SystemTime::now(),
        |_| {},
    );
    first.revoke_subkey(0);
    let a = k.dir.path().join("first.asc");
    let b = k.dir.path().join("second.asc");
    std::fs::write(&a, first.public_armored()).unwrap();
    std::fs::write(&b, second.public_armored()).unwrap();
    assert_eq!(k.with_keys(&[&a]).0, 1, "revoked in the first certificate");
    assert_eq!(k.with_keys(&[&b]), (0, vec![]), "bound to the second");
    // sqv accepts a signature that any certificate of the keyring validates; so does shipcheck,
    // whatever the order of the certificates.
    assert_eq!(k.with_keys(&[&a, &b]), (0, vec![]));
    assert_eq!(k.with_keys(&[&b, &a]), (0, vec![]));
    assert_eq!(k.with_keys(&[&k.combined(&a, &b)]), (0, vec![]));
}

/// A signature dated before its key existed is refused as sqv refuses it (no key was bound then),
/// and is not reported as a modified file: Sequoia does not look at the data of such a signature.
#[test]
fn a_signature_dated_before_its_key_is_refused_for_its_date() {
    let key = TestKey::new("vendor", SystemTime::now() - 10 * DAY, None);
    let k = Keys::new(key, SystemTime::now() - 20 * DAY, |_| {});
    let out = shipcheck()
        .args(["verify-bin", "--no-install", "--json", "--file"])
        .arg(&k.data)
        .arg("--sig")
        .arg(&k.sig)
        .arg("--key")
        .arg(&k.old)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["reasons"][0]["code"], "key-invalid", "{v}");
    let msg = v["reasons"][0]["message"].as_str().unwrap();
    assert!(msg.contains("before its key"), "{msg}");
    assert!(!msg.contains("modified"), "{msg}");
}

/// A version 3 signature by a pinned key over the right bytes: sqv (Sequoia's standard policy)
/// rejects the packet version ("Signature Packet v3 is not considered secure since 2007"), and so
/// must shipcheck. (It passed: only the signature's hash was checked against the policy, not the
/// packet.) The same key's v4 signature over the same file passes, so the version is what fails.
#[test]
fn a_version_3_signature_is_refused_as_sqv_refuses_it() {
    let key = TestKey::fresh("vendor");
    let dir = tempfile::tempdir().unwrap();
    let data = b"#!/bin/sh\necho release\n";
    let file = dir.path().join("tool");
    std::fs::write(&file, data).unwrap();
    let keyfile = dir.path().join("vendor.asc");
    std::fs::write(&keyfile, key.public_armored()).unwrap();
    let v3 = dir.path().join("tool.v3.sig");
    std::fs::write(&v3, key.sign_v3(data)).unwrap();
    let v4 = dir.path().join("tool.v4.sig");
    std::fs::write(&v4, binary_sigs(&[key.sign(data)])).unwrap();
    let run = |sig: &Path| {
        let out = shipcheck()
            .args(["verify-bin", "--json", "--file"])
            .arg(&file)
            .arg("--sig")
            .arg(sig)
            .arg("--key")
            .arg(&keyfile)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), v)
    };
    let (code, v) = run(&v4);
    assert_eq!(code, 0, "the v4 control: {v}");
    let (code, v) = run(&v3);
    assert_eq!(code, 1, "{v}");
    assert_eq!(codes(&v), vec!["policy-rejected"], "{v}");
    let message = v["reasons"][0]["message"].as_str().unwrap();
    assert!(message.contains("version 3"), "{message}");
    // Beside a good version 4 signature, in either order: sqv refuses the whole file (differential
    // pass against sqv: shipcheck passed it, ignoring the v3 packet with a warning).
    for (name, parts) in [
        (
            "v3-v4.sig",
            [key.sign_v3(data), binary_sigs(&[key.sign(data)])],
        ),
        (
            "v4-v3.sig",
            [binary_sigs(&[key.sign(data)]), key.sign_v3(data)],
        ),
    ] {
        let both = dir.path().join(name);
        std::fs::write(&both, parts.concat()).unwrap();
        let (code, v) = run(&both);
        assert_eq!(code, 1, "{name}: {v}");
        assert_eq!(codes(&v), vec!["policy-rejected"], "{name}: {v}");
    }
}

#[test]
fn one_certificate_pinned_twice_with_different_rules_is_refused() {
    let k = Keys::new(TestKey::fresh("vendor"), a_minute_ago(), |_| {});
    let toml = format!(
        "[tool.vendor-tool]\nurl = \"https://releases.vendor.invalid/{{os}}-{{arch}}\"\nplatforms = [\"linux/amd64\"]\n\
         [[tool.vendor-tool.pin]]\ncertificate = \"old.asc\"\nfingerprint = \"{fpr}\"\n\
         [[tool.vendor-tool.pin]]\ncertificate = \"new.asc\"\nfingerprint = \"{fpr}\"\nallow_sha1_self_signatures = true\n",
        fpr = k.fpr
    );
    let cat = k.dir.path().join("twice.toml");
    std::fs::write(&cat, toml).unwrap();
    let (code, codes) = k.verify(&[
        "vendor-tool".into(),
        "--catalog".into(),
        cat.display().to_string(),
    ]);
    assert_eq!((code, codes), (2, vec!["invalid-catalog".to_string()]));
}

// ---------- 2-4, 6. index entries, platforms, nested indexes, budgets ----------

fn verify_image(r: &Registry, repo_tag: &str, platforms: Option<&str>) -> image_support::Run {
    let reference = format!("{}/{repo_tag}", r.host());
    let mut args = vec![reference.as_str()];
    if let Some(p) = platforms {
        args.extend(["--platforms", p]);
    }
    run_json(shipcheck(), &args, None)
}

/// Pushes an OCI index of `entries` as `repo_tag` (`repo:tag`).
fn oci_index(r: &Registry, repo_tag: &str, entries: Vec<Value>) -> Pushed {
    let (repo, tag) = repo_tag.split_once(':').unwrap();
    r.push_index(repo, tag, entries, false)
}

/// An index entry for `img` claiming `platform` (a JSON object written as a pusher wrote it).
fn entry_with(img: &Pushed, platform: Value) -> Value {
    json!({"mediaType": img.media_type, "digest": img.digest, "size": img.size, "platform": platform})
}

#[test]
fn an_attestation_annotation_does_not_hide_a_real_platform() {
    let r = Registry::plain();
    let amd = r.push_image("att/app", "linux/amd64", Flavour::Oci, None);
    let arm = r.push_image("att/app", "linux/arm64/v8", Flavour::Oci, None);
    let mut disguised = amd.entry("linux/arm64/v8");
    disguised["annotations"] = json!({
        "vnd.docker.reference.type": "attestation-manifest",
        "vnd.docker.reference.digest": amd.digest,
    });
    let genuine_att = r.push_attestation("att/app", &amd);
    oci_index(
        &r,
        "att/app:v1",
        vec![
            disguised,
            amd.entry("linux/amd64"),
            arm.entry("linux/arm64/v8"),
            genuine_att,
        ],
    );
    for platforms in [Some("amd64,arm64"), Some("arm64"), None] {
        let run = verify_image(&r, "att/app:v1", platforms);
        run.expect(1, "platform-mismatch");
        // The disguised entry is a platform candidate; only the real attestation is listed as one.
        assert_eq!(run.json.attestations.len(), 1, "{platforms:?}");
        assert_eq!(
            run.json.platform_names(),
            ["linux/arm64/v8", "linux/amd64", "linux/arm64/v8"]
        );
    }
}

#[test]
fn a_slash_or_space_inside_a_platform_field_is_invalid() {
    let r = Registry::plain();
    let amd = r.push_image("slash/app", "linux/amd64", Flavour::Oci, None);
    // Entry and config both say architecture "arm64/v8".
    let fake = r.push_image_with_config(
        "slash/app",
        &json!({"os": "linux", "architecture": "arm64/v8"}),
        Flavour::Oci,
        None,
    );
    oci_index(
        &r,
        "slash/app:both",
        vec![
            amd.entry("linux/amd64"),
            entry_with(&fake, json!({"os": "linux", "architecture": "arm64/v8"})),
        ],
    );
    let run = verify_image(&r, "slash/app:both", Some("arm64"));
    run.expect(2, "invalid-manifest");
    // Only the config says it (the entry is honest about nothing): still invalid.
    oci_index(
        &r,
        "slash/app:config",
        vec![entry_with(
            &fake,
            json!({"os": "linux", "architecture": "arm64"}),
        )],
    );
    verify_image(&r, "slash/app:config", Some("arm64")).expect(2, "invalid-manifest");
    // As a single manifest.
    r.put_manifest("slash/app", "single", OCI_MANIFEST, &fake.body);
    verify_image(&r, "slash/app:single", Some("arm64")).expect(2, "invalid-manifest");
    // Whitespace and control characters in any field.
    for bad in [
        json!({"os": "linux", "architecture": "arm64 "}),
        json!({"os": "linux\n", "architecture": "arm64"}),
        json!({"os": "linux", "architecture": "arm64", "variant": "v8\u{1b}"}),
    ] {
        oci_index(&r, "slash/app:ws", vec![entry_with(&amd, bad.clone())]);
        verify_image(&r, "slash/app:ws", Some("amd64")).expect(2, "invalid-manifest");
    }
}

#[test]
fn a_nested_index_under_another_platform_is_not_reached() {
    let r = Registry::plain();
    let amd = r.push_image("nest/app", "linux/amd64", Flavour::Oci, None);
    let arm = r.push_image("nest/app", "linux/arm64", Flavour::Oci, None);
    let inner = oci_index(&r, "nest/app:inner", vec![arm.entry("linux/arm64")]);
    let inner_entry = json!({"mediaType": OCI_INDEX, "digest": inner.digest, "size": inner.size,
               "platform": {"os": "linux", "architecture": "amd64"}});
    oci_index(
        &r,
        "nest/app:v1",
        vec![amd.entry("linux/amd64"), inner_entry.clone()],
    );
    let run = verify_image(&r, "nest/app:v1", Some("amd64,arm64"));
    run.expect(1, "missing-platform")
        .says(&["holds a linux/arm64 image, but not where the container runtime selects one"]);
    assert_eq!(run.json.missing, ["linux/arm64"]);
    // amd64 alone passes: the runtime takes the amd64 image, listed first.
    verify_image(&r, "nest/app:v1", Some("amd64")).expect(0, "");
    // Without --platforms, the platforms the index lists are judged the same way: the arm64 image
    // it holds is out of the runtime's reach.
    let run = verify_image(&r, "nest/app:v1", None);
    run.expect(1, "missing-platform");
    assert_eq!(run.json.missing, ["linux/arm64"]);
    // With the nested index first, the runtime enters it for amd64 too, and finds no amd64 there.
    oci_index(
        &r,
        "nest/app:v2",
        vec![inner_entry, amd.entry("linux/amd64")],
    );
    let run = verify_image(&r, "nest/app:v2", Some("amd64"));
    run.expect(1, "missing-platform");
    // A nested index without a platform is entered like containerd does.
    let open = json!({"mediaType": OCI_INDEX, "digest": inner.digest, "size": inner.size});
    oci_index(&r, "nest/app:v3", vec![amd.entry("linux/amd64"), open]);
    verify_image(&r, "nest/app:v3", Some("amd64,arm64")).expect(0, "");
}

#[test]
fn the_first_matching_entry_must_be_usable() {
    let r = Registry::plain();
    let amd = r.push_image("first/app", "linux/amd64", Flavour::Oci, None);
    let arm = r.push_image("first/app", "linux/arm64", Flavour::Oci, None);
    let mut odd = arm.entry("linux/arm64");
    odd["mediaType"] = json!("application/vnd.example.unknown.v1+json");
    oci_index(
        &r,
        "first/app:v1",
        vec![amd.entry("linux/amd64"), odd, arm.entry("linux/arm64")],
    );
    let run = verify_image(&r, "first/app:v1", Some("amd64,arm64"));
    run.expect(1, "unusable-entry");
    assert_eq!(run.json.missing, ["linux/arm64"]);
    // Not required: only a warning, as before.
    let run = verify_image(&r, "first/app:v1", Some("amd64"));
    run.expect(0, "");
    assert_eq!(run.json.warning_codes(), ["unknown-entry"]);
    // Without --platforms every listed platform is required, arm64 included: the pull fails there.
    let run = verify_image(&r, "first/app:v1", None);
    run.expect(1, "unusable-entry");
    assert_eq!(run.json.missing, ["linux/arm64"]);
}

#[test]
fn an_entry_without_a_platform_is_judged_by_its_config_when_selected() {
    let r = Registry::plain();
    let amd = r.push_image("bare/app", "linux/amd64", Flavour::Oci, None);
    let arm = r.push_image("bare/app", "linux/arm64", Flavour::Oci, None);
    let bare =
        |img: &Pushed| json!({"mediaType": img.media_type, "digest": img.digest, "size": img.size});
    // No arm64 entry with a platform: the runtime takes the platform-less entry and reads its config.
    oci_index(
        &r,
        "bare/app:good",
        vec![amd.entry("linux/amd64"), bare(&arm)],
    );
    let run = verify_image(&r, "bare/app:good", Some("amd64,arm64"));
    run.expect(0, "");
    assert_eq!(run.json.platform_names(), ["linux/amd64", "linux/arm64"]);
    oci_index(
        &r,
        "bare/app:bad",
        vec![amd.entry("linux/amd64"), bare(&amd)],
    );
    verify_image(&r, "bare/app:bad", Some("amd64,arm64")).expect(1, "missing-platform");
    // A platform-less attestation is not an arm64 image either.
    let att = r.push_attestation("bare/app", &amd);
    let mut att_bare = att.clone();
    att_bare.as_object_mut().unwrap().remove("platform");
    oci_index(&r, "bare/app:att", vec![amd.entry("linux/amd64"), att_bare]);
    verify_image(&r, "bare/app:att", Some("arm64")).expect(1, "missing-platform");
    let run = verify_image(&r, "bare/app:att", Some("amd64"));
    run.expect(0, "");
    assert_eq!(run.json.attestations.len(), 1);
}

#[test]
fn an_entry_without_an_os_must_have_the_required_os_in_its_config() {
    // containerd reads an entry's missing or empty os as its host's: on a Linux host it would run
    // this Windows image.
    let r = Registry::plain();
    let win = r.push_image("noos/app", "windows/amd64", Flavour::Oci, None);
    let lin = r.push_image("noos/app", "linux/amd64", Flavour::Oci, None);
    let arm = r.push_image("noos/app", "linux/arm64", Flavour::Oci, None);
    for (tag, platform) in [
        ("empty", json!({"os": "", "architecture": "amd64"})),
        ("absent", json!({"architecture": "amd64"})),
    ] {
        let reference = format!("noos/app:{tag}");
        let entries = vec![entry_with(&win, platform.clone()), arm.entry("linux/arm64")];
        oci_index(&r, &reference, entries);
        let run = verify_image(&r, &reference, Some("amd64,arm64"));
        run.expect(1, "missing-platform");
        assert_eq!(run.json.missing, ["linux/amd64"], "{tag}");
        // For a Windows host the same entry is right.
        verify_image(&r, &reference, Some("windows/amd64")).expect(0, "");
        // And a Linux image without an os in its entry is right for Linux, not for Windows.
        oci_index(&r, "noos/app:lin", vec![entry_with(&lin, platform)]);
        verify_image(&r, "noos/app:lin", Some("amd64")).expect(0, "");
        verify_image(&r, "noos/app:lin", Some("windows/amd64")).expect(1, "missing-platform");
    }
}

/// Go's JSON decoder (containerd, Docker) matches keys case-insensitively and takes the last: a
/// second spelling of a key would be what the runtime reads. Found by the second adversarial round.
#[test]
fn keys_the_runtime_reads_differently_are_invalid() {
    let r = Registry::plain();
    let amd = r.push_image("fold/app", "linux/amd64", Flavour::Oci, None);
    let arm = r.push_image("fold/app", "linux/arm64", Flavour::Oci, None);
    let mut two = amd.entry("linux/amd64");
    two["platform"]["Architecture"] = json!("arm64");
    let mut other = amd.entry("linux/amd64");
    other["Digest"] = json!(arm.digest);
    other["Size"] = json!(arm.size);
    let mut platform_spelled = amd.entry("linux/amd64");
    let p = platform_spelled
        .as_object_mut()
        .unwrap()
        .remove("platform")
        .unwrap();
    platform_spelled["Platform"] = p;
    for (tag, entry) in [
        ("two", two),
        ("other", other),
        ("spelled", platform_spelled),
    ] {
        let reference = format!("fold/app:{tag}");
        oci_index(&r, &reference, vec![entry, amd.entry("linux/amd64")]);
        verify_image(&r, &reference, Some("amd64")).expect(2, "invalid-manifest");
    }
    // In the image config too.
    let cfg = r.push_image_with_config(
        "fold/app",
        &json!({"architecture": "amd64", "os": "linux", "Architecture": "arm64"}),
        Flavour::Oci,
        Some("cfg"),
    );
    let _ = cfg;
    verify_image(&r, "fold/app:cfg", Some("amd64")).expect(2, "invalid-manifest");
    // Labels are a map, not a struct: `Author` there is fine.
    r.push_image_with_config(
        "fold/app",
        &json!({"architecture": "amd64", "os": "linux", "config": {"Labels": {"Author": "a", "author": "b"}}}),
        Flavour::Oci,
        Some("labels"),
    );
    verify_image(&r, "fold/app:labels", Some("amd64")).expect(0, "");
}

/// One manifest listed 1024 times, with an 8 MiB config that is slow to parse: checked once per
/// reference, not once per entry (it took over 300 s before). A deadline, not a speed target.
#[test]
fn an_index_that_repeats_one_manifest_costs_one_check() {
    let r = Registry::plain();
    let mut pad = String::with_capacity(8 << 20);
    pad.push('[');
    while pad.len() < (8 << 20) - 4096 {
        pad.push_str("[],");
    }
    pad.push_str("[]]");
    let fields: Value = serde_json::from_str(&format!(
        r#"{{"architecture":"amd64","os":"linux","pad":{pad}}}"#
    ))
    .unwrap();
    let img = r.push_image_with_config("rep/app", &fields, Flavour::Oci, None);
    oci_index(&r, "rep/app:many", vec![img.entry("linux/amd64"); 1024]);
    let start = std::time::Instant::now();
    let run = verify_image(&r, "rep/app:many", Some("amd64"));
    run.expect(0, "");
    assert_eq!(run.json.platforms.len(), 1024);
    assert!(run.requests <= 3 + 4, "{} requests", run.requests);
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
}

/// Pushes an image manifest (by digest) with a config of `config_type` holding `platform` and one
/// layer of each of `layer_types` (`repeat` times each: the same blob named again and again).
fn push_packed(
    r: &Registry,
    repo: &str,
    config_type: &str,
    layer_types: &[&str],
    repeat: usize,
) -> Pushed {
    let mut layers = Vec::new();
    for (i, mt) in layer_types.iter().enumerate() {
        let blob = format!("layer {i} of type {mt}").into_bytes();
        let digest = r.put_blob(repo, &blob);
        for _ in 0..repeat {
            layers.push(json!({"mediaType": mt, "digest": digest, "size": blob.len()}));
        }
    }
    let diff_ids: Vec<Value> = layers.iter().map(|l| l["digest"].clone()).collect();
    let config = serde_json::to_vec(
        &json!({"architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}}),
    )
    .unwrap();
    let config_digest = r.put_blob(repo, &config);
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config_type, "digest": config_digest, "size": config.len()},
        "layers": layers,
    }))
    .unwrap();
    r.put_manifest(repo, &common::registry::sha256(&body), OCI_MANIFEST, &body)
}

/// An image manifest that packs an artifact (a Helm chart's config and layer, a plugin's config, a
/// layer type no runtime unpacks) is not an image the runtime can run, even when its config names
/// the platform: the pull fails (Docker refuses the config, containerd cannot unpack the layers).
/// (These passed: only the config's JSON was read.) Every layer type containerd unpacks passes.
#[test]
fn an_image_manifest_that_packs_an_artifact_is_unusable() {
    let r = Registry::plain();
    let arm = r.push_image("art/app", "linux/arm64", Flavour::Oci, None);
    let cases: [(&str, &str, &[&str]); 7] = [
        (
            "helm",
            "application/vnd.cncf.helm.config.v1+json",
            &["application/vnd.cncf.helm.chart.content.v1.tar+gzip"],
        ),
        (
            "plugin",
            "application/vnd.docker.plugin.v1+json",
            &[OCI_LAYER],
        ),
        ("empty", "application/vnd.oci.empty.v1+json", &[OCI_LAYER]),
        (
            "layer",
            OCI_CONFIG,
            &[OCI_LAYER, "application/x-not-a-layer"],
        ),
        // A compression containerd does not know, and an encryption neither Docker nor Fargate
        // can undo.
        (
            "suffix",
            OCI_CONFIG,
            &["application/vnd.oci.image.layer.v1.tar+helm"],
        ),
        (
            "encrypted",
            OCI_CONFIG,
            &["application/vnd.oci.image.layer.v1.tar+gzip+encrypted"],
        ),
        // containerd 1.6 has no decompressor for this Docker-style name of zstd (pass 21, ctr:
        // "unrecognised mediatype"); OCI's `+zstd` it has.
        (
            "docker-zstd",
            OCI_CONFIG,
            &["application/vnd.docker.image.rootfs.diff.tar.zstd"],
        ),
    ];
    for (tag, config_type, layers) in cases {
        let packed = push_packed(&r, "art/app", config_type, layers, 1);
        oci_index(
            &r,
            &format!("art/app:{tag}"),
            vec![packed.entry("linux/amd64"), arm.entry("linux/arm64")],
        );
        let run = verify_image(&r, &format!("art/app:{tag}"), Some("amd64,arm64"));
        run.expect(1, "unusable-entry");
        // Alone, under a tag of its own.
        r.put_manifest(
            "art/app",
            &format!("{tag}-alone"),
            OCI_MANIFEST,
            &packed.body,
        );
        let run = verify_image(&r, &format!("art/app:{tag}-alone"), Some("amd64"));
        run.expect(1, "unusable-entry");
    }
    let all_layer_types = [
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
    ];
    for config_type in [OCI_CONFIG, common::registry::DOCKER_CONFIG] {
        let good = push_packed(&r, "art/app", config_type, &all_layer_types, 1);
        r.put_manifest("art/app", "layers", OCI_MANIFEST, &good.body);
        verify_image(&r, "art/app:layers", Some("amd64")).expect(0, "");
    }
}

/// A SOCI index (what `soci convert` adds for lazy loading on Fargate): an image manifest of the
/// image's platform whose config and layers are not an image's, after the image in the index. The
/// runtime selects the image, so the index passes and the SOCI entry is a warning; placed first,
/// the runtime would select it, and the pull fails.
#[test]
fn artifacts_fail_only_where_the_runtime_selects_them() {
    let r = Registry::plain();
    let amd = r.push_image("soci/app", "linux/amd64", Flavour::Oci, None);
    let arm = r.push_image("soci/app", "linux/arm64", Flavour::Oci, None);
    let soci = push_packed(
        &r,
        "soci/app",
        "application/vnd.amazon.soci.index.v2+json",
        &["application/octet-stream"],
        1,
    );
    oci_index(
        &r,
        "soci/app:v1",
        vec![
            amd.entry("linux/amd64"),
            soci.entry("linux/amd64"),
            arm.entry("linux/arm64"),
        ],
    );
    for platforms in [Some("amd64,arm64"), None] {
        let run = verify_image(&r, "soci/app:v1", platforms);
        run.expect(0, "");
        let warned = run
            .json
            .warnings
            .iter()
            .any(|w| w.code == "unknown-entry" && w.message.contains(&soci.digest));
        assert!(warned, "{:?}", run.json.warnings);
    }
    // With --deep, a part missing from the SOCI index the runtime never fetches is no failure.
    let ztoc = b"layer 0 of type application/octet-stream";
    r.delete_blob("soci/app", &common::registry::sha256(ztoc));
    let reference = format!("{}/soci/app:v1", r.host());
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "amd64,arm64", "--deep"],
        None,
    );
    run.expect(0, "");
    oci_index(
        &r,
        "soci/app:first",
        vec![
            soci.entry("linux/amd64"),
            amd.entry("linux/amd64"),
            arm.entry("linux/arm64"),
        ],
    );
    let run = verify_image(&r, "soci/app:first", Some("amd64,arm64"));
    run.expect(1, "unusable-entry");
    // Selected, it is missing, once, with the entry named.
    assert_eq!(run.json.missing, vec!["linux/amd64"]);
    let unusable: Vec<_> = run
        .json
        .reasons
        .iter()
        .filter(|r| r.code == "unusable-entry")
        .collect();
    assert_eq!(unusable.len(), 1, "{unusable:?}");
    assert!(unusable[0].message.contains(&soci.digest), "{unusable:?}");
    // The same artifact listed again later is not also "another entry" the runtime skips.
    oci_index(
        &r,
        "soci/app:twice",
        vec![
            soci.entry("linux/amd64"),
            amd.entry("linux/amd64"),
            soci.entry("linux/amd64"),
        ],
    );
    let run = verify_image(&r, "soci/app:twice", Some("amd64"));
    run.expect(1, "unusable-entry");
    assert!(run.json.warnings.is_empty(), "{:?}", run.json.warnings);
    // Configs of the types Docker's legacy pull takes for an image's: containerd (Fargate) cannot
    // unpack such an image (containerd#10628). (They passed for a while.)
    for config_type in ["application/octet-stream", "application/json", ""] {
        let img = push_packed(&r, "soci/app", config_type, &[OCI_LAYER], 1);
        r.put_manifest("soci/app", "legacy", OCI_MANIFEST, &img.body);
        let run = verify_image(&r, "soci/app:legacy", Some("amd64"));
        run.expect(1, "unusable-entry");
        assert!(run.stdout.contains("containerd#10628"), "{}", run.stdout);
    }
}

/// `--deep` asks the registry about each layer once: an index that lists one manifest 20 times,
/// whose manifest names one layer 50 times, costs one HEAD (it cost 1000).
#[test]
fn deep_checks_each_layer_once() {
    let r = Registry::plain();
    let img = push_packed(&r, "deep/app", OCI_CONFIG, &[OCI_LAYER], 50);
    oci_index(&r, "deep/app:many", vec![img.entry("linux/amd64"); 20]);
    let reference = format!("{}/deep/app:many", r.host());
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "amd64", "--deep"],
        None,
    );
    run.expect(0, "");
    // The index, the manifest, the config and one HEAD, and the loopback HTTPS probe.
    assert!(run.requests <= 4 + 4, "{} requests", run.requests);
}

/// `--deep` asks about at most 4096 distinct layers per reference: a manifest naming 4100 (none of
/// them in the registry) costs 4096 HEADs, then `manifest-too-large`.
#[test]
fn deep_stops_at_the_layer_budget() {
    use common::registry::sha256;
    use fake_registry::{blob_path, ok, with_digest, Fake};
    let fake = Fake::start();
    let layers: Vec<Value> = (0..4100u32)
        .map(|i| json!({"mediaType": OCI_LAYER, "digest": format!("sha256:{i:064x}"), "size": 1}))
        .collect();
    let diff_ids: Vec<Value> = layers.iter().map(|l| l["digest"].clone()).collect();
    let cfg = &serde_json::to_vec(&json!({"os": "linux", "architecture": "amd64",
        "rootfs": {"type": "layers", "diff_ids": diff_ids}}))
    .unwrap()[..];
    let m = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(cfg), "size": cfg.len()},
        "layers": layers,
    }))
    .unwrap();
    fake.route(
        "/v2/app/manifests/v1",
        vec![with_digest(ok(OCI_MANIFEST, &m), &m)],
    );
    fake.route(&blob_path(cfg), vec![ok("application/octet-stream", cfg)]);
    let reference = format!("{}/app:v1", fake.host());
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "amd64", "--deep"],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let codes = run.json.codes();
    assert!(codes.contains(&"manifest-too-large"), "{codes:?}");
    assert_eq!(
        codes.iter().filter(|c| **c == "missing-content").count(),
        4096
    );
    let heads = fake
        .log()
        .iter()
        .filter(|l| l.method == "HEAD" && l.target.contains("/blobs/"))
        .count();
    assert_eq!(heads, 4096);
}

#[test]
fn an_index_that_only_has_a_fallback_platform_is_missing_the_required_one() {
    let r = Registry::plain();
    let v7 = r.push_image("fb/app", "linux/arm/v7", Flavour::Oci, None);
    oci_index(&r, "fb/app:v1", vec![v7.entry("linux/arm/v7")]);
    let run = verify_image(&r, "fb/app:v1", Some("arm64"));
    run.expect(1, "missing-platform");
    let msg = &run.json.reasons[0].message;
    assert!(msg.contains("fall back to the linux/arm/v7 entry"), "{msg}");
}

/// containerd runs arm64/v8.2 images on an arm64/v8.2 host, and falls back to v8.1 and v8 (v9.x to
/// v9.{x-1..0} and v8.{x+5..0}) before entries without a platform: such a fallback is missing.
#[test]
fn minor_arm64_variants_fall_back_as_containerd_orders_them() {
    let r = Registry::plain();
    let v8 = r.push_image("minor/app", "linux/arm64/v8", Flavour::Oci, None);
    let v82 = r.push_image("minor/app", "linux/arm64/v8.2", Flavour::Oci, None);
    let open = json!({"mediaType": v82.media_type, "digest": v82.digest, "size": v82.size});
    oci_index(&r, "minor/app:v1", vec![v8.entry("linux/arm64/v8"), open]);
    for required in ["arm64/v8.2", "arm64/v9.1"] {
        let run = verify_image(&r, "minor/app:v1", Some(required));
        run.expect(1, "missing-platform");
        let msg = &run.json.reasons[0].message;
        assert!(
            msg.contains("fall back to the linux/arm64/v8 entry"),
            "{msg}"
        );
    }
    verify_image(&r, "minor/app:v1", Some("arm64")).expect(0, "");
    // With its own entry, v8.2 passes.
    oci_index(
        &r,
        "minor/app:v2",
        vec![v8.entry("linux/arm64/v8"), v82.entry("linux/arm64/v8.2")],
    );
    verify_image(&r, "minor/app:v2", Some("arm64/v8.2,arm64")).expect(0, "");
}

/// A Windows host runs only images of its own build (containerd's Windows matcher; process
/// isolation, as on Fargate): a task for Windows Server 2019 cannot run a Server 2022 image, and in an
/// index of several builds the runtime takes the entry of its build.
#[test]
fn windows_images_are_matched_by_their_build() {
    let r = Registry::plain();
    let win = json!({"os": "windows", "architecture": "amd64"});
    let img = r.push_image_with_config("win/app", &win, Flavour::Oci, None);
    let with_build = |v: &str| {
        let mut p = win.clone();
        p["os.version"] = json!(v);
        entry_with(&img, p)
    };
    oci_index(&r, "win/app:ltsc2022", vec![with_build("10.0.20348.2527")]);
    oci_index(
        &r,
        "win/app:both",
        vec![with_build("10.0.20348.2527"), with_build("10.0.17763.6054")],
    );
    let run = verify_image(&r, "win/app:ltsc2022", Some("windows(10.0.17763)/amd64"));
    run.expect(1, "missing-platform");
    verify_image(&r, "win/app:ltsc2022", Some("windows(10.0.20348)/amd64")).expect(0, "");
    // Without a build, any Windows image matches, as before.
    verify_image(&r, "win/app:ltsc2022", Some("windows/amd64")).expect(0, "");
    verify_image(&r, "win/app:both", Some("windows(10.0.17763)/amd64")).expect(0, "");
    // Two builds required are two platforms: the one the index lacks is missing. (The second was
    // dropped as the same platform as the first, and these passed.)
    for required in [
        "windows(10.0.20348)/amd64,windows(10.0.17763)/amd64",
        "windows/amd64,windows(10.0.17763)/amd64",
    ] {
        let run = verify_image(&r, "win/app:ltsc2022", Some(required));
        run.expect(1, "missing-platform");
    }
    verify_image(
        &r,
        "win/app:both",
        Some("windows(10.0.20348)/amd64,windows(10.0.17763)/amd64"),
    )
    .expect(0, "");
    // Through a task definition: the platform family names the build.
    for (family, tag, exit) in [
        ("WINDOWS_SERVER_2019_CORE", "ltsc2022", 1),
        ("WINDOWS_SERVER_2022_CORE", "ltsc2022", 0),
        ("WINDOWS_SERVER_2019_FULL", "both", 0),
    ] {
        let (code, v) = taskdef_exit(&r, &format!("win/app:{tag}"), family);
        assert_eq!(code, exit, "{family} {tag}: {v:#}");
    }
}

// ---------- Windows builds and realistic indexes without --platforms ----------

fn win(build: &str) -> Value {
    json!({"os": "windows", "architecture": "amd64", "os.version": build})
}

fn taskdef_exit(r: &Registry, image: &str, family: &str) -> (i32, Value) {
    let d = tempfile::tempdir().unwrap();
    let td = d.path().join("td.json");
    std::fs::write(
        &td,
        json!({
            "family": "win",
            "requiresCompatibilities": ["FARGATE"],
            "runtimePlatform": {"operatingSystemFamily": family, "cpuArchitecture": "X86_64"},
            "containerDefinitions": [{"name": "app", "image": format!("{}/{image}", r.host())}],
        })
        .to_string(),
    )
    .unwrap();
    let out = shipcheck()
        .args(["verify-taskdef", "--json"])
        .arg(&td)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

/// A single-platform Windows Server 2022 image (no index: what `docker build` + `docker push` on a
/// 2022 build agent makes). A Windows Server 2019 host cannot run it (process isolation); shipcheck
/// reads the build from the config.
#[test]
fn a_single_windows_image_of_another_build_is_missing() {
    let r = Registry::plain();
    r.push_image_with_config(
        "single/win",
        &win("10.0.20348.2527"),
        Flavour::Docker,
        Some("ltsc2022"),
    );
    let run = verify_image(&r, "single/win:ltsc2022", Some("windows(10.0.17763)/amd64"));
    let (code, v) = taskdef_exit(&r, "single/win:ltsc2022", "WINDOWS_SERVER_2019_CORE");
    assert_eq!(
        (run.code, code),
        (1, 1),
        "verify-image: {}\nverify-taskdef: {v:#}",
        run.stdout
    );
}

/// An index entry that claims the 2019 build for an image whose config says 2022 (a hand-annotated
/// manifest list): the claim is not what the image is; a 2019 host pulls it and cannot start it.
#[test]
fn a_windows_entry_claiming_another_build_than_its_config_is_a_mismatch() {
    let r = Registry::plain();
    let img = r.push_image_with_config("lie/win", &win("10.0.20348.2527"), Flavour::Docker, None);
    r.push_index(
        "lie/win",
        "v1",
        vec![entry_with(&img, win("10.0.17763.6054"))],
        true,
    );
    let run = verify_image(&r, "lie/win:v1", Some("windows(10.0.17763)/amd64"));
    assert_eq!(run.code, 1, "{}", run.stdout);
}

/// Realistic mcr.microsoft.com shape: Linux entries plus three Windows builds, with os.version in
/// index and configs; without --platforms it must pass, and each ECS family must pass.
#[test]
fn a_windows_and_linux_index_of_several_builds_passes_without_platforms() {
    let r = Registry::plain();
    let mut entries = Vec::new();
    for p in ["linux/amd64", "linux/arm/v7", "linux/arm64/v8"] {
        let img = r.push_image("mcr/app", p, Flavour::Docker, None);
        entries.push(img.entry(p));
    }
    for b in ["10.0.17763.6054", "10.0.20348.2527", "10.0.26100.1742"] {
        let img = r.push_image_with_config("mcr/app", &win(b), Flavour::Docker, None);
        entries.push(entry_with(&img, win(b)));
    }
    r.push_index("mcr/app", "8.0", entries, true);
    let run = verify_image(&r, "mcr/app:8.0", None);
    assert_eq!(run.code, 0, "{}", run.stdout);
    for f in [
        "WINDOWS_SERVER_2019_CORE",
        "WINDOWS_SERVER_2022_FULL",
        "WINDOWS_SERVER_2025_CORE",
    ] {
        let (code, v) = taskdef_exit(&r, "mcr/app:8.0", f);
        assert_eq!(code, 0, "{f}: {v:#}");
    }
}

/// Docker Hub official image shape: nine platforms plus attestations, without --platforms.
#[test]
fn official_image_shaped_indexes_pass_without_platforms() {
    let r = Registry::plain();
    let mut entries = Vec::new();
    let mut imgs = Vec::new();
    for p in [
        "linux/amd64",
        "linux/arm/v5",
        "linux/arm/v7",
        "linux/arm64/v8",
        "linux/386",
        "linux/mips64le",
        "linux/ppc64le",
        "linux/riscv64",
        "linux/s390x",
    ] {
        let img = r.push_image("hub/app", p, Flavour::Oci, None);
        entries.push(img.entry(p));
        imgs.push(img);
    }
    for img in &imgs {
        entries.push(r.push_attestation("hub/app", img));
    }
    oci_index(&r, "hub/app:latest", entries);
    let run = verify_image(&r, "hub/app:latest", None);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // Same with alpine's arm/v6 + arm/v7 and an arm64 without variant in the index but v8 in config.
    let mut entries = Vec::new();
    for (claim, cfg) in [
        ("linux/amd64", "linux/amd64"),
        ("linux/arm/v6", "linux/arm/v6"),
        ("linux/arm/v7", "linux/arm/v7"),
        ("linux/arm64", "linux/arm64/v8"),
    ] {
        let img = r.push_image("alp/app", cfg, Flavour::Docker, None);
        entries.push(img.entry(claim));
    }
    r.push_index("alp/app", "3", entries, true);
    let run = verify_image(&r, "alp/app:3", None);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// An empty platform list (an unset CI variable in `--platforms "$PLATFORMS"`) is a usage error, not
/// "whatever the index holds".
#[test]
fn an_empty_platform_list_is_refused() {
    let r = Registry::plain();
    let amd = r.push_image("empty/app", "linux/amd64", Flavour::Oci, None);
    oci_index(&r, "empty/app:v1", vec![amd.entry("linux/amd64")]);
    for p in ["", ",", " ", " , "] {
        let run = verify_image(&r, "empty/app:v1", Some(p));
        run.expect(2, "usage");
    }
    // An empty item beside real ones (`amd64,$EXTRA` with EXTRA unset) is refused too, not
    // dropped with the platform it was meant to require (adversarial pass 27: exit 0); as
    // containerd's `platforms.Parse("")` and buildx refuse it.
    for p in ["amd64,", ",amd64", "amd64, ,arm64"] {
        verify_image(&r, "empty/app:v1", Some(p))
            .expect(2, "usage")
            .says(&["empty item"]);
    }
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.toml");
    std::fs::write(
        &audit,
        format!(
            "[[image]]\nref = \"{}/empty/app:v1\"\nplatforms = [\"linux/amd64\", \"\"]\n",
            r.host()
        ),
    )
    .unwrap();
    let out = shipcheck()
        .args(["audit", "--json"])
        .arg(&audit)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("empty item") && text.contains("audit file"),
        "{text}"
    );
}

/// The differential table: every required spelling against an index holding one platform spelled
/// as pushers write it. The expected verdict follows containerd's `platforms.Normalize` (aliases,
/// default variants: amd64 = v1, arm64 = v8, arm = v7; `8`, `v8.0` = v8; armhf = arm/v7,
/// armel = arm/v6, i386 = 386) and exact matching; a fallback containerd would take instead (32-bit
/// arm on arm64, 386 on amd64, an older variant) is reported missing.
#[test]
fn platform_spellings_match_as_containerd_normalises_them() {
    // (spelling in the index entry and config, the platform containerd normalises it to)
    let index: &[(&str, &str)] = &[
        ("linux/amd64", "amd64"),
        ("linux/x86_64", "amd64"),
        ("linux/x86-64", "amd64"),
        ("linux/amd64/v1", "amd64"),
        ("linux/amd64/v3", "amd64v3"),
        ("linux/arm64", "arm64"),
        ("linux/arm64/v8", "arm64"),
        ("linux/aarch64", "arm64"),
        ("linux/arm64/8", "arm64"),
        ("linux/arm64/v8.0", "arm64"),
        ("linux/arm64/v9", "arm64v9"),
        ("linux/arm64/9.0", "arm64v9"),
        ("linux/arm64/v8.2", "arm64v8.2"),
        ("linux/arm", "arm7"),
        ("linux/arm/v7", "arm7"),
        ("linux/arm/7", "arm7"),
        ("linux/armhf", "arm7"),
        ("linux/armel", "arm6"),
        ("linux/arm/v6", "arm6"),
        ("linux/i386", "386"),
        ("linux/386", "386"),
        ("windows/amd64", "win"),
        ("linux/AMD64", "amd64"),
    ];
    // (spelling given to --platforms, its class)
    let required: &[(&str, &str)] = &[
        ("amd64", "amd64"),
        ("x86_64", "amd64"),
        ("linux/amd64/v1", "amd64"),
        ("amd64/v3", "amd64v3"),
        ("arm64", "arm64"),
        ("aarch64", "arm64"),
        ("linux/arm64/v8", "arm64"),
        ("arm64/v9", "arm64v9"),
        ("arm64/v8.2", "arm64v8.2"),
        ("arm", "arm7"),
        ("arm/v7", "arm7"),
        ("armhf", "arm7"),
        ("armel", "arm6"),
        ("arm/v6", "arm6"),
        ("386", "386"),
        ("i386", "386"),
        ("windows/amd64", "win"),
    ];
    let r = Registry::plain();
    let mut failures = Vec::new();
    for (i, (spelling, class)) in index.iter().enumerate() {
        let f: Vec<&str> = spelling.split('/').collect();
        let mut fields = json!({"os": f[0], "architecture": f[1]});
        if let Some(v) = f.get(2) {
            fields["variant"] = json!(v);
        }
        let img = r.push_image_with_config("table/app", &fields, Flavour::Oci, None);
        let tag = format!("t{i}");
        let reference = format!("table/app:{tag}");
        oci_index(&r, &reference, vec![entry_with(&img, fields)]);
        for (req, req_class) in required {
            let run = verify_image(&r, &reference, Some(req));
            let expected = if class == req_class { 0 } else { 1 };
            let codes = run.json.codes();
            let ok = run.code == expected
                && (expected == 0 || codes.iter().all(|c| *c == "missing-platform"));
            if !ok {
                failures.push(format!(
                    "index {spelling} x --platforms {req}: expected exit {expected}, got {} {codes:?}",
                    run.code
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn nested_indexes_have_a_walk_budget() {
    let r = Registry::plain();
    let amd = r.push_image("wide/app", "linux/amd64", Flavour::Oci, None);
    // Five nested indexes of 1000 entries each: 5005 entries in all, past the budget of 4096.
    let mut nested = Vec::new();
    for n in 0..5 {
        let entries: Vec<Value> = (0..1000)
            .map(|i| {
                let mut e = amd.entry("linux/amd64");
                e["annotations"] = json!({"n": format!("{n}-{i}")});
                e
            })
            .collect();
        let idx = r.push_index("wide/app", &format!("n{n}"), entries, false);
        nested.push(json!({"mediaType": OCI_INDEX, "digest": idx.digest, "size": idx.size}));
    }
    oci_index(&r, "wide/app:wide", nested);
    let run = verify_image(&r, "wide/app:wide", Some("amd64"));
    run.expect(2, "manifest-too-large");
    assert!(run.requests <= 7, "{} requests", run.requests);
    // Many small nested indexes: past the budget of 64 index fetches.
    let many: Vec<Value> = (0..70)
        .map(|i| {
            let idx = r.push_index(
                "wide/app",
                &format!("s{i}"),
                vec![{
                    let mut e = amd.entry("linux/amd64");
                    e["annotations"] = json!({"i": i.to_string()});
                    e
                }],
                false,
            );
            json!({"mediaType": OCI_INDEX, "digest": idx.digest, "size": idx.size})
        })
        .collect();
    oci_index(&r, "wide/app:many", many);
    let run = verify_image(&r, "wide/app:many", Some("amd64"));
    run.expect(2, "manifest-too-large");
    assert!(run.requests <= 66, "{} requests", run.requests);
}

// ---------- a mirror serving another file the vendor signed ----------

/// The first bytes of an ELF executable for `machine` (62 x86-64, 183 AArch64), then `body`.
fn elf(machine: u16, body: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2;
    h[5] = 1;
    h[18..20].copy_from_slice(&machine.to_le_bytes());
    h.extend_from_slice(body);
    h
}

/// A detached signature binds the signer, not the file name: a hostile mirror can serve the vendor's
/// signed arm64 build (or its deb) where the amd64 build (or the rpm) was asked for. shipcheck knows
/// what a catalog tool's file must be and refuses a verified file that is recognisably another
/// platform's executable or another package; nothing is installed.
#[test]
fn a_mirror_serving_another_platforms_signed_file_is_refused() {
    let nginx = Nginx::start();
    let key = TestKey::fresh("vendor");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("vendor.asc"), key.public_armored()).unwrap();
    let catalog = dir.path().join("catalog.toml");
    std::fs::write(
        &catalog,
        format!(
            "[tool.vtool]\nurl = \"https://releases.vendor.invalid/vtool-{{os}}-{{arch}}\"\nplatforms = [\"linux/amd64\", \"linux/arm64\"]\n\
             [[tool.vtool.pin]]\ncertificate = \"vendor.asc\"\nfingerprint = \"{fpr}\"\n\n\
             [tool.vpkg]\nurl = \"https://releases.vendor.invalid/vpkg-{{arch}}.rpm\"\nplatforms = [\"linux/amd64\"]\ninstall = \"file\"\n\
             [[tool.vpkg.pin]]\ncertificate = \"vendor.asc\"\nfingerprint = \"{fpr}\"\n",
            fpr = key.fingerprint().to_hex()
        ),
    )
    .unwrap();
    let arm = elf(183, b"arm64 build");
    let deb = b"!<arch>\ndebian-binary   the deb".to_vec();
    // The mirror serves the arm64 build (and the deb) under the amd64 (and rpm) names.
    for (name, data) in [
        ("vtool-linux-amd64", &arm),
        ("vtool-linux-arm64", &arm),
        ("vpkg-amd64.rpm", &deb),
    ] {
        nginx.put(name, data);
        nginx.put(&format!("{name}.asc"), &armor_sigs(&[key.sign(data)]));
    }
    let dest = dir.path().join("installed");
    let verify = |tool: &str, platform: &str| {
        let out = shipcheck()
            .args(["verify-bin", tool, "--json", "--platform", platform])
            .arg("--catalog")
            .arg(&catalog)
            .args(["--mirror", &nginx.https("")])
            .arg("--ca-cert")
            .arg(nginx.ca_cert())
            .arg("--dest")
            .arg(&dest)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), v)
    };
    let (code, v) = verify("vtool", "linux/amd64");
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["reasons"][0]["code"], "unexpected-file", "{v:#}");
    let msg = v["reasons"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("linux executable for arm64, not for linux/amd64"),
        "{msg}"
    );
    assert!(!dest.exists(), "nothing is installed");
    let (code, v) = verify("vpkg", "linux/amd64");
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["reasons"][0]["code"], "unexpected-file", "{v:#}");
    assert!(!dest.exists(), "nothing is installed");
    // The file asked for passes and is installed.
    let (code, v) = verify("vtool", "linux/arm64");
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(std::fs::read(&dest).unwrap(), arm);
}

/// The check makes no false alarm on genuine builds: Go's other architectures (big-endian s390x,
/// ppc64le, riscv64) pass for their platform, and a local file for another machine than this one
/// fails with a hint to name its platform, then passes with `--platform`.
#[test]
fn genuine_builds_for_any_platform_pass() {
    let key = TestKey::fresh("vendor");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("vendor.asc"), key.public_armored()).unwrap();
    let catalog = dir.path().join("catalog.toml");
    std::fs::write(
        &catalog,
        format!(
            "[tool.vtool]\nurl = \"https://releases.vendor.invalid/vtool-{{os}}-{{arch}}\"\n\
             platforms = [\"linux/amd64\", \"linux/arm64\", \"linux/s390x\", \"linux/ppc64le\", \"linux/riscv64\"]\n\
             [[tool.vtool.pin]]\ncertificate = \"vendor.asc\"\nfingerprint = \"{}\"\n",
            key.fingerprint().to_hex()
        ),
    )
    .unwrap();
    let verify = |data: &[u8], platform: Option<&str>| {
        let file = dir.path().join("vtool");
        std::fs::write(&file, data).unwrap();
        std::fs::write(dir.path().join("vtool.asc"), armor_sigs(&[key.sign(data)])).unwrap();
        let mut cmd = shipcheck();
        cmd.args(["verify-bin", "vtool", "--json", "--no-install", "--file"])
            .arg(&file)
            .arg("--sig")
            .arg(dir.path().join("vtool.asc"))
            .arg("--catalog")
            .arg(&catalog);
        if let Some(p) = platform {
            cmd.args(["--platform", p]);
        }
        let out = cmd.output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), v, out.stderr)
    };
    let mut s390x = elf(0, b"s390x build");
    s390x[5] = 2;
    s390x[18..20].copy_from_slice(&22u16.to_be_bytes());
    for (data, platform) in [
        (s390x, "linux/s390x"),
        (elf(21, b"ppc64le build"), "linux/ppc64le"),
        (elf(243, b"riscv64 build"), "linux/riscv64"),
    ] {
        let (code, v, _) = verify(&data, Some(platform));
        assert_eq!(code, 0, "{platform}: {v:#}");
    }
    let (other, machine) = if std::env::consts::ARCH == "aarch64" {
        ("linux/amd64", 62)
    } else {
        ("linux/arm64", 183)
    };
    let build = elf(machine, b"the other machine's build");
    let (code, v, stderr) = verify(&build, None);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["reasons"][0]["code"], "unexpected-file", "{v:#}");
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(stderr.contains("pass --platform"), "{stderr}");
    let (code, v, _) = verify(&build, Some(other));
    assert_eq!(code, 0, "{v:#}");
}

// ---------- 5. credentials in URLs ----------

/// Runs shipcheck with `args`, returns (exit, stdout, stderr).
fn run(args: &[String]) -> (i32, String, String) {
    let out = shipcheck().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn userinfo_in_urls_is_never_printed() {
    let nginx = Nginx::start();
    let key = TestKey::fresh("vendor");
    let dir = tempfile::tempdir().unwrap();
    let keyfile = dir.path().join("vendor.asc");
    std::fs::write(&keyfile, key.public_armored()).unwrap();
    let data = b"#!/bin/sh\necho hi\n".to_vec();
    nginx.put("tool", &data);
    nginx.put("tool.asc", &armor_sigs(&[key.sign(&data)]));
    nginx.put("other.asc", &armor_sigs(&[key.sign(b"another file")]));
    let secret = "S3cr3tPassw0rd";
    let with_creds = |path: &str| {
        nginx
            .https(path)
            .replacen("https://", &format!("https://deploy:{secret}@"), 1)
    };
    let base: Vec<String> = vec![
        "verify-bin".into(),
        "--key".into(),
        keyfile.display().to_string(),
        "--no-install".into(),
        "--ca-cert".into(),
        nginx.ca_cert().display().to_string(),
    ];
    let mirror = format!("https://deploy:{secret}@127.0.0.1:1/");
    let cases: Vec<(i32, Vec<String>)> = vec![
        (0, vec!["--url".into(), with_creds("tool")]),
        (
            1,
            vec![
                "--url".into(),
                with_creds("tool"),
                "--sig-url".into(),
                with_creds("other.asc"),
            ],
        ),
        (1, vec!["--url".into(), with_creds("missing")]),
        (
            2,
            vec![
                "--url".into(),
                format!("https://deploy:{secret}@127.0.0.1:99999/x"),
            ],
        ),
        (
            2,
            vec![
                "--url".into(),
                with_creds("tool"),
                "--mirror".into(),
                mirror.clone(),
            ],
        ),
        (
            2,
            vec![
                "--url".into(),
                with_creds("tool"),
                "--mirror".into(),
                format!("https://deploy:{secret}@[bad/"),
            ],
        ),
    ];
    for (expected, extra) in cases {
        for json in [true, false] {
            let mut args = base.clone();
            args.extend(extra.iter().cloned());
            if json {
                args.push("--json".into());
            }
            let (code, out, err) = run(&args);
            assert!(
                code == expected || (expected == 1 && code == 2),
                "{extra:?}: exit {code}\n{out}\n{err}"
            );
            assert!(
                !out.contains(secret) && !err.contains(secret),
                "{extra:?} json={json} printed the password:\n{out}\n{err}"
            );
            assert!(
                !out.contains("deploy:") && !err.contains("deploy:"),
                "{out}\n{err}"
            );
        }
    }
    // Audit files: the bin target's name and every message.
    let audit = dir.path().join("audit.toml");
    std::fs::write(
        &audit,
        format!(
            "[[bin]]\nurl = \"{}\"\nkey = \"{}\"\n\n[[bin]]\nurl = \"{}\"\nkey = \"{}\"\n\n\
             [[bin]]\nurl = \"https://deploy:tok/{secret}@127.0.0.1:9/x\"\nkey = \"{}\"\n",
            with_creds("tool"),
            keyfile.display(),
            with_creds("missing"),
            keyfile.display(),
            keyfile.display()
        ),
    )
    .unwrap();
    for format in ["text", "json", "junit", "github"] {
        let (code, out, err) = run(&[
            "audit".into(),
            audit.display().to_string(),
            "--format".into(),
            format.into(),
            "--ca-cert".into(),
            nginx.ca_cert().display().to_string(),
        ]);
        assert_ne!(code, 0, "{out}{err}");
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "audit {format} printed the password:\n{out}\n{err}"
        );
    }
}

/// A guard rather than a fix: reqwest already drops `Authorization` on a cross-origin redirect; this
/// keeps it so for credentials that come from the URL itself.
#[test]
fn url_credentials_go_only_to_their_host() {
    // The release host redirects the download to another host (another port is another origin).
    let other = FaultServer::start();
    let origin = FaultServer::start();
    let key = TestKey::fresh("vendor");
    let data = b"#!/bin/sh\necho redirected\n".to_vec();
    other.route("/dl/tool", vec![Fault::Ok(data.clone())]);
    origin.route(
        "/tool",
        vec![Fault::Redirect(format!(
            "http://127.0.0.1:{}/dl/tool",
            other.port
        ))],
    );
    origin.route("/tool.asc", vec![Fault::Ok(armor_sigs(&[key.sign(&data)]))]);
    let dir = tempfile::tempdir().unwrap();
    let keyfile = dir.path().join("vendor.asc");
    std::fs::write(&keyfile, key.public_armored()).unwrap();
    let (code, out, err) = run(&[
        "verify-bin".into(),
        "--url".into(),
        format!("http://deploy:S3cr3t@127.0.0.1:{}/tool", origin.port),
        "--key".into(),
        keyfile.display().to_string(),
        "--no-install".into(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let auth = |fs: &FaultServer| {
        fs.headers()
            .iter()
            .filter(|(_, h)| h.iter().any(|(k, _)| k == "authorization"))
            .count()
    };
    assert_eq!(
        auth(&origin),
        2,
        "the release host gets the credentials for both files"
    );
    assert_eq!(auth(&other), 0, "the redirect target never sees them");
}

/// A URL's query can be a credential of its host (a presigned URL's `X-Amz-Signature`): `--mirror`
/// sends the mirror the path only, never the query.
#[test]
fn a_mirror_never_receives_the_urls_query() {
    let mirror = FaultServer::start();
    let key = TestKey::fresh("vendor");
    let data = b"#!/bin/sh\necho mirrored\n".to_vec();
    mirror.route("/m/rel/tool", vec![Fault::Ok(data.clone())]);
    mirror.route(
        "/m/rel/tool.asc",
        vec![Fault::Ok(armor_sigs(&[key.sign(&data)]))],
    );
    let dir = tempfile::tempdir().unwrap();
    let keyfile = dir.path().join("vendor.asc");
    std::fs::write(&keyfile, key.public_armored()).unwrap();
    let (code, out, err) = run(&[
        "verify-bin".into(),
        "--url".into(),
        "https://vendor.example/rel/tool?X-Amz-Credential=AKIA&X-Amz-Signature=S3cr3tSig".into(),
        "--sig-url".into(),
        "https://vendor.example/rel/tool.asc?X-Amz-Signature=S3cr3tSig2".into(),
        "--mirror".into(),
        mirror.url("/m"),
        "--key".into(),
        keyfile.display().to_string(),
        "--no-install".into(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let mut targets: Vec<String> = mirror.headers().into_iter().map(|(t, _)| t).collect();
    targets.sort();
    assert_eq!(targets, ["/m/rel/tool", "/m/rel/tool.asc"], "{targets:?}");
    assert!(
        !out.contains("S3cr3t") && !err.contains("S3cr3t"),
        "{out}{err}"
    );
}

/// `verify-taskdef --username U --password-stdin` sends the credentials to the one registry
/// `--registry` names, as `docker login HOST` scopes them: a task definition under review must not
/// choose where the password goes, whether it names one registry of its choosing or several.
/// Without `--registry` it is a usage error before any request.
#[test]
fn task_definition_credentials_go_to_their_registry_only() {
    let ours = Registry::tls_auth();
    ours.push_multi("team/app", "v1", false);
    let theirs = fake_registry::Fake::start();
    theirs.require_bearer("never", r#"Basic realm="theirs""#);
    let dir = tempfile::tempdir().unwrap();
    let taskdef = |name: &str, images: &[String]| {
        let td = dir.path().join(name);
        let containers: Vec<Value> = images
            .iter()
            .enumerate()
            .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
            .collect();
        std::fs::write(
            &td,
            json!({"family": "web", "requiresCompatibilities": ["FARGATE"],
                   "containerDefinitions": containers})
            .to_string(),
        )
        .unwrap();
        td
    };
    let their_image = format!("{}/sidecar:v1", theirs.host());
    let only_theirs = taskdef("theirs.json", std::slice::from_ref(&their_image));
    let both = taskdef(
        "both.json",
        &[format!("{}/team/app:v1", ours.host()), their_image],
    );
    let password = ours.password.clone().unwrap();
    let run = |td: &Path, extra: &[&str]| {
        let out = shipcheck()
            .args([
                "verify-taskdef",
                "--json",
                "--username",
                "AWS",
                "--password-stdin",
            ])
            .arg(td)
            .arg("--ca-cert")
            .arg(ours.ca.as_ref().unwrap())
            .args(extra)
            .write_stdin(format!("{password}\n"))
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), v)
    };
    let leaked = || {
        theirs
            .log()
            .iter()
            .any(|l| l.headers.iter().any(|(k, _)| k == "authorization"))
    };

    // Without --registry: a usage error, whether the task definition names one registry (its own
    // choice) or several, and no request at all.
    for td in [&only_theirs, &both] {
        let (code, v) = run(td, &[]);
        assert_eq!(code, 2, "{v:#}");
        assert_eq!(v["reasons"][0]["code"], "usage", "{v:#}");
        assert!(v["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("--registry"));
        assert!(theirs.log().is_empty(), "no request before the usage error");
    }

    // Credentials for our registry: our image verifies with them; theirs asks for Basic and gets
    // nothing (unauthorized, exit 2).
    let (code, v) = run(&both, &["--registry", &ours.host()]);
    assert_eq!(code, 2, "{v:#}");
    let containers = v["containers"].as_array().unwrap();
    assert_eq!(containers[0]["verdict"], "pass", "{v:#}");
    assert_eq!(
        containers[1]["check"]["reasons"][0]["code"], "unauthorized",
        "{v:#}"
    );
    assert!(!theirs.log().is_empty());
    assert!(!leaked(), "the other registry received credentials");

    // Docker Hub by its API host's name is Docker Hub; no image there: the credentials go unused,
    // and the report says so.
    let (code, v) = run(&only_theirs, &["--registry", "registry-1.docker.io"]);
    assert_eq!(code, 2, "{v:#}");
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["message"]
                .as_str()
                .unwrap()
                .contains("docker.io (--registry)")),
        "{v:#}"
    );
    assert!(!leaked());

    // --registry must be a host.
    let (code, v) = run(&both, &["--registry", "team/app"]);
    assert_eq!(code, 2, "{v:#}");
    assert!(v["reasons"][0]["message"]
        .as_str()
        .unwrap()
        .contains("not a registry host"));
    assert!(!leaked());
}

// ---------- 7. registry and file text on the terminal ----------

#[test]
fn registry_text_reaches_the_terminal_escaped() {
    let r = Registry::plain();
    let amd = r.push_image("esc/app", "linux/amd64", Flavour::Oci, None);
    let mut odd = amd.entry("linux/amd64");
    odd["mediaType"] =
        json!("application/x\n::add-mask::secret\n::error::fake\u{1b}[31mred\u{1b}]0;title\u{7}\u{9b}2J\u{202e}");
    odd["platform"] = json!({"os": "unknown", "architecture": "unknown"});
    oci_index(&r, "esc/app:v1", vec![amd.entry("linux/amd64"), odd]);
    let reference = format!("{}/esc/app:v1", r.host());
    for json in [false, true] {
        let mut cmd = shipcheck();
        cmd.args(["verify-image", &reference, "--platforms", "amd64"]);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let (stdout, stderr) = (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        );
        for text in [&stdout, &stderr] {
            assert!(
                !text.chars().any(
                    |c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c)
                ),
                "raw control characters in output:\n{text:?}"
            );
            assert!(
                !text.lines().any(|l| l.trim_start().starts_with("::")),
                "a line of registry text became a workflow command:\n{text}"
            );
        }
        assert!(stderr.contains("::add-mask::") || stdout.contains("::add-mask::"));
        if json {
            let v: Value = serde_json::from_str(&stdout).unwrap();
            let w = v["warnings"][0]["message"].as_str().unwrap();
            assert!(w.contains("\\n::add-mask::secret"), "{w}");
        }
    }
}

#[test]
fn file_text_reaches_the_terminal_escaped() {
    // A certificate whose user ID carries escapes, pinned by a catalog with a hostile file name.
    let dir = tempfile::tempdir().unwrap();
    let key = TestKey::fresh("vendor\u{1b}[2J\n::warning::x");
    let certname = "v\u{1b}[31m\nfake.asc";
    std::fs::write(dir.path().join(certname), key.public_armored()).unwrap();
    let cat = dir.path().join("catalog.toml");
    std::fs::write(
        &cat,
        format!(
            "[tool.vendor-tool]\nurl = \"https://releases.vendor.invalid/x\"\nplatforms = [\"linux/amd64\"]\n\
             [[tool.vendor-tool.pin]]\ncertificate = {certname:?}\nfingerprint = \"{}\"\n",
            key.fingerprint().to_hex()
        )
        .replace("\\u{1b}", "\\u001b"),
    )
    .unwrap();
    for json in [false, true] {
        let mut args: Vec<String> = vec![
            "keys".into(),
            "list".into(),
            "--catalog".into(),
            cat.display().to_string(),
        ];
        if json {
            args.insert(0, "--json".into());
        }
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{out}{err}");
        for text in [&out, &err] {
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "raw control characters:\n{text:?}"
            );
            assert!(
                !text
                    .lines()
                    .any(|l| l.starts_with("::") || l.starts_with("fake")),
                "{text}"
            );
        }
    }
}

/// The four audit formats and every other text path, against names that carry newlines and workflow
/// commands (an audit file, a task definition path, an image reference, a URL, a region).
#[test]
fn no_input_starts_a_line_of_its_own_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.toml");
    std::fs::write(
        &audit,
        "[[taskdef]]\npath = \"x\\n::error title=pwned::taskdef\\n.json\"\n\
         [[image]]\nref = \"127.0.0.1:1/a:b\\n::add-mask::image\"\nplatforms = [\"amd64\"]\n\
         [[bin]]\nurl = \"http://127.0.0.1:1/f\\n::warning::bin\\u0000\\uffff\"\nkey = \"k.asc\"\n",
    )
    .unwrap();
    let mut runs = Vec::new();
    for format in ["text", "json", "junit", "github"] {
        runs.push(run(&[
            "audit".into(),
            audit.display().to_string(),
            "--format".into(),
            format.into(),
            "--retries".into(),
            "0".into(),
        ]));
    }
    runs.push(run(&[
        "check-endpoints".into(),
        "--region".into(),
        "us-east-1\n::error::region".into(),
        "fixtures/endpoints/all.json".into(),
    ]));
    for (i, (code, out, err)) in runs.iter().enumerate() {
        assert_ne!(*code, 0, "run {i}");
        for text in [out, err] {
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "run {i}: raw control characters:\n{text:?}"
            );
            assert!(
                !text.lines().any(|l| l.starts_with("::")
                    && !l.starts_with("::error title=shipcheck")
                    && !l.starts_with("::warning title=shipcheck")),
                "run {i}: a line of input became a workflow command:\n{text}"
            );
            assert!(!text.contains('\u{ffff}'), "run {i}: U+FFFF is not XML");
        }
    }
    // A catalog platform with a newline is refused, not printed.
    let cat = dir.path().join("catalog.toml");
    std::fs::write(
        &cat,
        "[tool.t]\nurl = \"https://example.invalid/x\"\nplatforms = [\"linux\\n::error::p\\n/amd64\"]\n\
         [[tool.t.pin]]\ncertificate = \"k.asc\"\nfingerprint = \"0123456789012345678901234567890123456789\"\n",
    )
    .unwrap();
    let (code, out, err) = run(&[
        "keys".into(),
        "list".into(),
        "--catalog".into(),
        cat.display().to_string(),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        !out.lines().chain(err.lines()).any(|l| l.starts_with("::")),
        "{out}{err}"
    );
}

/// `--key <(curl ...)` and `--catalog` read from pipes and devices: the size caps hold there too.
#[test]
fn key_and_catalog_files_are_capped_when_their_size_is_unknown() {
    let k = Keys::new(TestKey::fresh("vendor"), a_minute_ago(), |_| {});
    let start = std::time::Instant::now();
    let (code, codes) = k.verify(&["--key".into(), "/dev/zero".into()]);
    assert_eq!((code, codes), (2, vec!["invalid-key".to_string()]));
    let (code, codes) = k.verify(&["vendor-tool".into(), "--catalog".into(), "/dev/zero".into()]);
    assert_eq!((code, codes), (2, vec!["invalid-catalog".to_string()]));
    let (code, _, _) = run(&[
        "keys".into(),
        "list".into(),
        "--catalog".into(),
        "/dev/zero".into(),
    ]);
    assert_eq!(code, 2);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

/// containerd takes the top manifest's media type from the `Content-Type` header, up to the first
/// `;`, byte for byte, and pulls only the manifest types: a generic, missing or respelled header
/// ends the pull with "unexpected media type", whatever the body says. Such an index passed (found
/// by adversarial pass 15, checked against containerd 1.6's resolver). Children are judged by
/// their descriptors, as before.
#[test]
fn the_top_manifest_needs_the_content_type_runtimes_read() {
    use fake_registry::{ok, with_digest, Image};
    let fake = fake_registry::Fake::start();
    let img = Image::new();
    img.serve(&fake);
    let served = |tag: &str, ct: Option<&str>| {
        let mut r = with_digest(ok(ct.unwrap_or(""), &img.index), &img.index);
        if ct.is_none() {
            r.headers
                .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
        }
        fake.route(&format!("/v2/app/manifests/{tag}"), vec![r]);
        format!("{}/app:{tag}", fake.host())
    };
    let good = served("good", Some(&format!("{OCI_INDEX}; charset=utf-8")));
    run_json(shipcheck(), &[&good, "--platforms", "amd64,arm64"], None).expect(0, "");
    for (tag, ct) in [
        ("json", Some("application/json")),
        ("octet", Some("application/octet-stream")),
        ("none", None),
        ("upper", Some("Application/VND.OCI.Image.Index.v1+json")),
        (
            "space",
            Some("application/vnd.oci.image.index.v1+json ; charset=utf-8"),
        ),
    ] {
        let reference = served(tag, ct);
        let run = run_json(shipcheck(), &[&reference, "--platforms", "amd64"], None);
        run.expect(1, "media-type-mismatch");
        let message = &run.json.reasons[0].message;
        assert!(message.contains("Content-Type"), "{tag}: {message}");
    }
}

/// A registry (or a proxy in front of it) that compresses a manifest: shipcheck asks for the bytes
/// as stored (`Accept-Encoding: identity`), and an encoded answer is undecided (exit 2, naming the
/// coding), where it was `digest-mismatch` with "do not deploy" (found by adversarial pass 15;
/// containerd's Go client decodes gzip itself). The body here is the plain index: what is judged
/// is the header.
#[test]
fn an_encoded_manifest_is_undecided_not_tampered() {
    use fake_registry::{ok, with_digest, Image};
    let fake = fake_registry::Fake::start();
    let img = Image::new();
    img.serve(&fake);
    let mut r = with_digest(ok(OCI_INDEX, &img.index), &img.index);
    r.headers.push(("Content-Encoding".into(), "gzip".into()));
    fake.route("/v2/app/manifests/gz", vec![r]);
    let reference = format!("{}/app:gz", fake.host());
    let run = run_json(shipcheck(), &[&reference, "--platforms", "amd64"], None);
    run.expect(2, "download-failed");
    assert!(
        run.json.reasons[0]
            .message
            .contains("Content-Encoding `gzip`"),
        "{:?}",
        run.json.reasons
    );
    let asked: Vec<String> = fake
        .log()
        .iter()
        .map(|l| {
            l.headers
                .iter()
                .find(|(k, _)| k == "accept-encoding")
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        })
        .collect();
    assert!(
        !asked.is_empty() && asked.iter().all(|a| a == "identity"),
        "{asked:?}"
    );
}

/// A nested index listed for a fallback platform (arm/v7 for arm64) is entered, as containerd's
/// matcher keeps the fallback and enters it; the arm64 image inside is what runs. It was reported
/// missing (found by adversarial pass 15, checked against containerd 1.6).
#[test]
fn a_nested_index_under_a_fallback_platform_is_entered() {
    let r = Registry::plain();
    let arm = r.push_image("fbnest/app", "linux/arm64", Flavour::Oci, None);
    let inner = oci_index(&r, "fbnest/app:inner", vec![arm.entry("linux/arm64")]);
    let entry = json!({"mediaType": OCI_INDEX, "digest": inner.digest, "size": inner.size,
               "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}});
    oci_index(&r, "fbnest/app:v1", vec![entry]);
    verify_image(&r, "fbnest/app:v1", Some("arm64")).expect(0, "");
}

/// A Windows host takes, of the entries it matches, the one with the highest os.version (containerd
/// 1.6's and 2.x's Windows comparers; moby's too), not the first listed: an artifact listed after a
/// good image at a higher revision is what the runtime pulls (a pass before), and one listed first
/// at a lower revision is never pulled (a failure before). Found by adversarial pass 17.
#[test]
fn windows_entries_are_taken_highest_version_first() {
    let r = Registry::plain();
    let win_cfg = json!({"os": "windows", "architecture": "amd64"});
    let good = r.push_image_with_config("winord/app", &win_cfg, Flavour::Oci, None);
    let plugin = push_packed(
        &r,
        "winord/app",
        "application/vnd.example.plugin.config.v1+json",
        &[OCI_LAYER],
        1,
    );
    let at = |img: &Pushed, build: &str| entry_with(img, win(build));
    oci_index(
        &r,
        "winord/app:rev",
        vec![at(&good, "10.0.17763.100"), at(&plugin, "10.0.17763.2000")],
    );
    oci_index(
        &r,
        "winord/app:fwd",
        vec![at(&plugin, "10.0.17763.100"), at(&good, "10.0.17763.2000")],
    );
    let host = Some("windows(10.0.17763)/amd64");
    verify_image(&r, "winord/app:rev", host).expect(1, "unusable-entry");
    verify_image(&r, "winord/app:fwd", host).expect(0, "");
    // containerd reads the revision with Go's Atoi: not a number, or no fourth part, is 0, and
    // ties keep index order; an os.version that is not numbers matches by prefix (adversarial
    // pass 18 found these passing).
    for (tag, entries) in [
        (
            "nan",
            vec![at(&plugin, "10.0.17763.abc"), at(&good, "10.0.17763.0")],
        ),
        (
            "prefix",
            vec![at(&good, "10.0.17763.1"), at(&plugin, "10.0.17763a.7")],
        ),
        (
            "three",
            vec![at(&plugin, "10.0.17763"), at(&good, "10.0.17763")],
        ),
    ] {
        oci_index(&r, &format!("winord/app:{tag}"), entries);
        let run = verify_image(&r, &format!("winord/app:{tag}"), host);
        run.expect(1, "unusable-entry");
    }
    let (code, v) = taskdef_exit(&r, "winord/app:rev", "WINDOWS_SERVER_2019_CORE");
    assert_eq!(code, 1, "{v:#}");
}

/// containerd resolves a reference with HEAD: with a size and (for a tag) a `Docker-Content-Digest`
/// it pulls that digest, expects that size and takes the media type from that `Content-Type`; else
/// (or on 405) it GETs. shipcheck sends the HEAD beside its GET and judges what the runtime would
/// pull: a HEAD naming other bytes, another size or a generic type fails, a HEAD the runtime cannot
/// resolve with is undecided. These passed: only the GET was read (found by adversarial pass 17,
/// checked against containerd 1.6's resolver; the HEAD/GET divergence was a documented limit).
#[test]
fn the_runtime_resolves_with_head() {
    use fake_registry::{ok, status, with_digest, Image};
    let fake = fake_registry::Fake::start();
    let img = Image::new();
    img.serve(&fake);
    let other = &img.manifests[0];
    let case = |tag: &str, get: fake_registry::Resp, head: Option<fake_registry::Resp>| {
        let path = format!("/v2/app/manifests/{tag}");
        fake.route(&path, vec![get]);
        if let Some(h) = head {
            fake.route(&format!("HEAD {path}"), vec![h]);
        }
        let reference = format!("{}/app:{tag}", fake.host());
        run_json(shipcheck(), &[&reference, "--platforms", "amd64"], None)
    };
    let index = || with_digest(ok(OCI_INDEX, &img.index), &img.index);
    let head_of = |ct: &str, body: &[u8]| {
        let mut h = with_digest(ok(ct, body), body);
        h.body = body.to_vec();
        h
    };
    // HEAD as GET: a pass.
    case("same", index(), None).expect(0, "");
    // HEAD names another manifest: the runtime pulls what was not verified.
    let run = case("moved", index(), Some(head_of(OCI_MANIFEST, other)));
    run.expect(1, "digest-mismatch");
    assert!(
        run.json.reasons[0].message.contains("HEAD"),
        "{:?}",
        run.json.reasons
    );
    // HEAD with a generic type, GET exact: containerd takes HEAD's and refuses the pull.
    case(
        "headjson",
        index(),
        Some(head_of("application/json", &img.index)),
    )
    .expect(1, "media-type-mismatch");
    // GET generic, HEAD exact: the runtime reads HEAD's type; a pass.
    let get_json = with_digest(ok("application/json", &img.index), &img.index);
    case("getjson", get_json, Some(head_of(OCI_INDEX, &img.index))).expect(0, "");
    // HEAD without a digest: the runtime GETs, as shipcheck did; GET's type decides.
    let mut bare = ok("application/json", &img.index);
    bare.body = img.index.clone();
    case("nodigest", index(), Some(bare)).expect(0, "");
    // HEAD refused with 405: the runtime GETs.
    case("nohead", index(), Some(status(405, &[]))).expect(0, "");
    // HEAD 404: the runtime finds nothing.
    case("head404", index(), Some(status(404, &[]))).expect(2, "not-found");
    // HEAD says another size for the same digest.
    let mut longer = head_of(OCI_INDEX, &img.index);
    longer.body.push(b' ');
    case("size", index(), Some(longer)).expect(1, "size-mismatch");
    // HEAD's type must be the body's kind, and not schema 1 (containerd's validateMediaType);
    // a Content-Length Go refuses leaves the runtime unable to resolve (adversarial pass 18).
    case("kind", index(), Some(head_of(OCI_MANIFEST, &img.index))).expect(1, "media-type-mismatch");
    let schema1 = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    case("schema1", index(), Some(head_of(schema1, &img.index))).expect(1, "media-type-mismatch");
    let mut two_lengths = head_of(OCI_INDEX, &img.index);
    two_lengths
        .headers
        .push(("Content-Length".into(), "7".into()));
    case("lengths", index(), Some(two_lengths)).expect(2, "download-failed");
    // Go accepts only `chunked` as a transfer coding (adversarial pass 19).
    let mut coded = head_of(OCI_INDEX, &img.index);
    coded
        .headers
        .push(("Transfer-Encoding".into(), "gzip, chunked".into()));
    case("coded", index(), Some(coded)).expect(2, "download-failed");
}

/// Pushes an image manifest for linux/`arch` whose config and layer descriptors get `extra` fields
/// (`config` and `layer` JSON objects merged in), and returns it (by digest).
fn push_with_child_fields(
    r: &Registry,
    repo: &str,
    arch: &str,
    config_extra: Value,
    layer_extra: Value,
) -> Pushed {
    let layer = format!("layer of {repo} {arch} {layer_extra}").into_bytes();
    let ld = r.put_blob(repo, &layer);
    let config = serde_json::to_vec(&json!({"architecture": arch, "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [ld]}}))
    .unwrap();
    let cd = r.put_blob(repo, &config);
    let mut c = json!({"mediaType": OCI_CONFIG, "digest": cd, "size": config.len()});
    let mut l = json!({"mediaType": OCI_LAYER, "digest": ld, "size": layer.len()});
    for (d, extra) in [(&mut c, config_extra), (&mut l, layer_extra)] {
        for (k, v) in extra.as_object().unwrap() {
            d[k] = v.clone();
        }
    }
    let body = serde_json::to_vec(
        &json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": c, "layers": [l]}),
    )
    .unwrap();
    r.put_manifest(repo, &common::registry::sha256(&body), OCI_MANIFEST, &body)
}

/// containerd filters every child of a manifest by the pull's platform (`images.FilterPlatforms`),
/// not only index entries: a config or layer descriptor naming another platform (even `{}`, which
/// to Go is a platform) is never fetched and the pull fails (`content digest ... not found`, compared
/// with containerd 1.6's `ctr images pull`; adversarial pass 23: all passed). A matching one pulls.
#[test]
fn a_platform_on_a_config_or_layer_descriptor_filters_it_out() {
    let r = Registry::plain();
    let amd = r.push_image("child/app", "linux/amd64", Flavour::Oci, None);
    let cases: [(&str, Value, Value, i32); 5] = [
        (
            "layer-s390x",
            json!({}),
            json!({"platform": {"os": "linux", "architecture": "s390x"}}),
            1,
        ),
        (
            "config-s390x",
            json!({"platform": {"os": "linux", "architecture": "s390x"}}),
            json!({}),
            1,
        ),
        ("layer-empty", json!({}), json!({"platform": {}}), 1),
        (
            "layer-os-only",
            json!({}),
            json!({"platform": {"os": "linux"}}),
            1,
        ),
        (
            "layer-arm64-v8",
            json!({}),
            json!({"platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}),
            0,
        ),
    ];
    for (tag, config_extra, layer_extra, exit) in cases {
        let arm = push_with_child_fields(&r, "child/app", "arm64", config_extra, layer_extra);
        let repo_tag = format!("child/app:{tag}");
        oci_index(
            &r,
            &repo_tag,
            vec![amd.entry("linux/amd64"), arm.entry("linux/arm64/v8")],
        );
        let run = verify_image(&r, &repo_tag, Some("amd64,arm64"));
        if exit == 0 {
            run.expect(0, "");
        } else {
            run.expect(1, "unusable-entry")
                .says(&["filters out", "descriptor names the platform"]);
        }
        // A single manifest pinned by digest (a task definition's `@sha256:`): the same filter.
        let pinned = format!("{}/child/app@{}", r.host(), arm.digest);
        let run = run_json(shipcheck(), &[&pinned, "--platforms", "arm64"], None);
        assert_eq!(run.code, exit, "{tag} by digest: {}", run.stdout);
    }
}

/// containerd refuses any manifest or index with an `fsLayers` key (any value, any spelling Go folds
/// to it) as schema 1 (adversarial pass 23: shipcheck passed them; shipcheck read schema 1 only from
/// `schemaVersion` and the media type).
#[test]
fn an_fslayers_key_is_schema_1_to_containerd() {
    let r = Registry::plain();
    let amd = r.push_image("fsl/app", "linux/amd64", Flavour::Oci, None);
    let arm = r.push_image("fsl/app", "linux/arm64/v8", Flavour::Oci, None);
    for (i, key) in ["fsLayers", "FSLayers", "f\u{17F}Layers"]
        .iter()
        .enumerate()
    {
        let mut m: Value = serde_json::from_slice(&arm.body).unwrap();
        m[*key] = if i == 0 { json!([]) } else { Value::Null };
        let body = serde_json::to_vec(&m).unwrap();
        let bad = r.put_manifest(
            "fsl/app",
            &common::registry::sha256(&body),
            OCI_MANIFEST,
            &body,
        );
        let tag = format!("fsl/app:m{i}");
        oci_index(
            &r,
            &tag,
            vec![amd.entry("linux/amd64"), bad.entry("linux/arm64/v8")],
        );
        // Undecided, as any schema 1 manifest the runtime would select.
        verify_image(&r, &tag, Some("amd64,arm64"))
            .expect(2, "unsupported-media-type")
            .says(&["fsLayers", "schema 1"]);
    }
    // On the top index.
    let mut index = serde_json::from_slice::<Value>(
        &serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX,
            "manifests": [amd.entry("linux/amd64"), arm.entry("linux/arm64/v8")]}))
        .unwrap(),
    )
    .unwrap();
    index["FsLayers"] = Value::Null;
    let body = serde_json::to_vec(&index).unwrap();
    r.put_manifest("fsl/app", "top", OCI_INDEX, &body);
    let run = verify_image(&r, "fsl/app:top", Some("amd64,arm64"));
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(
        run.json.codes().contains(&"unsupported-media-type"),
        "{}",
        run.stdout
    );
}

/// containerd records each download under `TYPE-REFNAME@DIGEST` in its bolt database, whose keys
/// hold at most 32768 bytes: a longer `org.opencontainers.image.ref.name` on the selected entry or a
/// layer fails that platform's pull with "key too large" (ctr 1.6: 40000 bytes fail, 32000 pull;
/// adversarial pass 23: shipcheck passed).
#[test]
fn a_ref_name_longer_than_containerds_key_limit_fails_that_platform() {
    let r = Registry::plain();
    let amd = r.push_image("ref/app", "linux/amd64", Flavour::Oci, None);
    let arm = r.push_image("ref/app", "linux/arm64/v8", Flavour::Oci, None);
    for (len, exit) in [(32_000usize, 0), (40_000, 1)] {
        let name = "n".repeat(len);
        let mut entry = arm.entry("linux/arm64/v8");
        entry["annotations"] = json!({"org.opencontainers.image.ref.name": name});
        let tag = format!("ref/app:e{len}");
        oci_index(&r, &tag, vec![amd.entry("linux/amd64"), entry]);
        let run = verify_image(&r, &tag, Some("amd64,arm64"));
        assert_eq!(run.code, exit, "{len}: {}", run.stdout);
        if exit == 1 {
            run.expect(1, "unusable-entry")
                .says(&["ref.name", "key too large"]);
            verify_image(&r, &tag, Some("amd64")).expect(0, "");
        }
        // On a layer.
        let layered = push_with_child_fields(
            &r,
            "ref/app",
            "arm64",
            json!({}),
            json!({"annotations": {"org.opencontainers.image.ref.name": "l".repeat(len)}}),
        );
        let tag = format!("ref/app:l{len}");
        oci_index(
            &r,
            &tag,
            vec![amd.entry("linux/amd64"), layered.entry("linux/arm64")],
        );
        assert_eq!(
            verify_image(&r, &tag, Some("amd64,arm64")).code,
            exit,
            "layer {len}"
        );
        // On a nested index the runtime enters on its way to the arm64 image (it fetches, and
        // records, the nested index first); amd64, reached without it, still passes.
        let inner = oci_index(
            &r,
            &format!("ref/app:inner{len}"),
            vec![arm.entry("linux/arm64/v8")],
        );
        let nested = json!({"mediaType": OCI_INDEX, "digest": inner.digest, "size": inner.size,
            "annotations": {"org.opencontainers.image.ref.name": "i".repeat(len)}});
        let tag = format!("ref/app:n{len}");
        oci_index(&r, &tag, vec![amd.entry("linux/amd64"), nested]);
        let run = verify_image(&r, &tag, Some("amd64,arm64"));
        assert_eq!(run.code, exit, "nested {len}: {}", run.stdout);
        if exit == 1 {
            run.expect(1, "unusable-entry")
                .says(&["nested index", "key too large"]);
            assert_eq!(run.json.missing, ["linux/arm64"]);
            verify_image(&r, &tag, Some("amd64")).expect(0, "");
        }
    }
}

/// A document that is both an index (`manifests`) and an image manifest (`config`/`layers`), with
/// any value there (`null`, `[]`), is refused by containerd's `validateMediaType` whichever it is
/// taken for: a definite failure (`media-type-mismatch`, exit 1) that says so, not "neither" (exit 2;
/// adversarial pass 29).
#[test]
fn a_document_that_is_both_index_and_manifest_fails() {
    let r = Registry::plain();
    let amd = r.push_image("both/app", "linux/amd64", Flavour::Oci, None);
    for (tag, extra) in [
        ("layers-null", json!({"layers": null})),
        ("config-null", json!({"config": null})),
    ] {
        let mut index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX,
            "manifests": [amd.entry("linux/amd64")]});
        for (k, v) in extra.as_object().unwrap() {
            index[k] = v.clone();
        }
        let body = serde_json::to_vec(&index).unwrap();
        r.put_manifest("both/app", tag, OCI_INDEX, &body);
        verify_image(&r, &format!("both/app:{tag}"), Some("amd64"))
            .expect(1, "media-type-mismatch")
            .says(&["both an index"]);
    }
}

/// A registry host that URL parsers read as an IPv4 address in a short form (`127.1`, `0x7f.1`,
/// `2130706433`, `0177.0.0.1`) is a DNS name to containerd and Docker (Go's `net.ParseIP` reads
/// only four plain decimal numbers), so the runtime would not pull from the registry shipcheck
/// checked. Adversarial pass 39: these passed against the registry on 127.0.0.1 while `ctr` failed
/// with "no such host". They are refused (`invalid-reference`, exit 2), in `verify-image` and in a
/// task definition; the address written in full still passes, and so does a port with leading zeros
/// (Go reads `:080` as port 80).
#[test]
fn short_ipv4_spellings_of_a_registry_host_are_refused() {
    let reg = Registry::plain();
    reg.push_multi("team/app", "v1", false);
    let port = reg.host().rsplit_once(':').unwrap().1.to_string();
    for host in [
        "127.1",
        "0x7f.1",
        "2130706433",
        "0177.0.0.1",
        "127.000.000.001",
        "127.0.1",
    ] {
        let image = format!("{host}:{port}/team/app:v1");
        let out = shipcheck()
            .args([
                "--json",
                "verify-image",
                &image,
                "--platforms",
                "amd64,arm64",
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{image}: {stdout}");
        assert!(
            stdout.contains("invalid-reference") && stdout.contains("DNS name"),
            "{image}: {stdout}"
        );
        let dir = tempfile::tempdir().unwrap();
        let td = dir.path().join("td.json");
        std::fs::write(
            &td,
            json!({"family": "web", "requiresCompatibilities": ["FARGATE"],
                   "containerDefinitions": [{"name": "c", "image": image}]})
            .to_string(),
        )
        .unwrap();
        let out = shipcheck().arg("verify-taskdef").arg(&td).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{image}");
    }
    for image in [
        format!("127.0.0.1:{port}/team/app:v1"),
        format!("127.0.0.1:000{port}/team/app:v1"),
    ] {
        shipcheck()
            .args(["verify-image", &image, "--platforms", "amd64,arm64"])
            .assert()
            .code(0);
    }
}
