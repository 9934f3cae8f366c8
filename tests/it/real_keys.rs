//! The real vendor certificates: what the catalog pins, under which policy, and how their expiry reads.

use crate::common;

use sequoia_openpgp::Fingerprint;
use serde_json::Value;
use shipcheck::catalog::Catalog;
use shipcheck::pgp::{self, Pin};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ECS_PRIMARY: &str = "F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F";
const ECS_CLI_SUBKEY: &str = "EB3DF841E2C9212A2BD42232DE3CBD61ADAF8B8E";
const ECS_AGENT_SUBKEY: &str = "D64BB6F90CF377E9B5FB346F50DECCC4710E61AF";
const AWS_CLI: &str = "FB5DB77FD5C118B80511ADA8A6310ACC4672475C";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn pin_from(bytes: &[u8], relaxed: bool, signing: Option<&str>) -> Pin {
    let cert = pgp::parse_certs(bytes).unwrap().remove(0);
    Pin {
        source: "test".into(),
        cert,
        signing_keys: signing.map(|s| vec![s.parse::<Fingerprint>().unwrap()]),
        allow_sha1_self_signatures: relaxed,
    }
}

#[test]
fn ecs_certificate_loads_with_its_relaxation_and_lists_the_signing_subkey() {
    let cat = Catalog::load(None).unwrap();
    let pins = cat.get("ecs-cli").unwrap().pins().unwrap();
    assert_eq!(pins.len(), 1);
    let pin = &pins[0];
    assert_eq!(pin.fingerprint().to_hex(), ECS_PRIMARY);
    assert!(pin.allow_sha1_self_signatures);
    let info = pgp::inspect(pin, SystemTime::now());
    assert!(info.valid, "{:?}", info.problem);
    assert_eq!(info.expires, None, "the ECS key does not expire");
    let may_sign: Vec<&str> = info
        .keys
        .iter()
        .filter(|k| k.pinned)
        .map(|k| k.fingerprint.as_str())
        .collect();
    assert_eq!(may_sign, vec![ECS_CLI_SUBKEY]);
    // The primary can sign too ([SC]) but is not pinned.
    let primary = info.keys.iter().find(|k| k.role == "primary").unwrap();
    assert!(primary.signing && !primary.pinned);
}

#[test]
fn ecs_certificate_without_the_relaxation_is_rejected() {
    let cat = Catalog::load(None).unwrap();
    let mut pin = cat.get("ecs-cli").unwrap().pins().unwrap().remove(0);
    pin.allow_sha1_self_signatures = false;
    let info = pgp::inspect(&pin, SystemTime::now());
    assert!(!info.valid);
    let problem = info.problem.unwrap();
    assert!(
        problem.to_lowercase().contains("sha1")
            || problem.contains("SHA-1")
            || problem.contains("binding"),
        "{problem}"
    );
}

#[test]
fn ecs_docs_copy_has_the_agent_subkey_which_is_not_pinned_for_ecs_cli() {
    let pin = pin_from(
        &fixture("amazon-ecs-full-awsdocs.asc"),
        true,
        Some(ECS_CLI_SUBKEY),
    );
    let info = pgp::inspect(&pin, SystemTime::now());
    assert!(info.valid, "{:?}", info.problem);
    let signing: Vec<&str> = info
        .keys
        .iter()
        .filter(|k| k.signing && k.role == "subkey")
        .map(|k| k.fingerprint.as_str())
        .collect();
    assert!(
        signing.contains(&ECS_CLI_SUBKEY) && signing.contains(&ECS_AGENT_SUBKEY),
        "{signing:?}"
    );
    let agent = info
        .keys
        .iter()
        .find(|k| k.fingerprint == ECS_AGENT_SUBKEY)
        .unwrap();
    assert!(!agent.pinned);
}

#[test]
fn aws_cli_copies_report_their_expiry() {
    let now = SystemTime::now();
    let current = pgp::inspect(
        &pin_from(
            &std::fs::read(format!(
                "{}/keys/aws-cli-v2.asc",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
            false,
            None,
        ),
        now,
    );
    assert_eq!(current.fingerprint, AWS_CLI);
    assert!(current.valid, "{:?}", current.problem);
    assert!(
        current
            .expires
            .as_deref()
            .unwrap()
            .starts_with("2027-07-01"),
        "{:?}",
        current.expires
    );
    for (file, date) in [
        ("aws-cli-v2-exp2026-07-07.asc", "2026-07-07"),
        ("aws-cli-v2-2019-original.asc", "2023-09-17"),
    ] {
        let info = pgp::inspect(&pin_from(&fixture(file), false, None), now);
        assert_eq!(info.fingerprint, AWS_CLI, "same key, another copy");
        assert!(!info.valid, "{file} should be expired");
        assert!(
            info.problem.as_deref().unwrap().starts_with("expired"),
            "{:?}",
            info.problem
        );
        assert!(
            info.expires.as_deref().unwrap().starts_with(date),
            "{file}: {:?}",
            info.expires
        );
    }
}

#[test]
fn keys_list_json_contract_and_expiry_warnings() {
    let out = common::shipcheck()
        .args(["keys", "list", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "pass");
    let tools: Vec<&str> = v["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tool"].as_str().unwrap())
        .collect();
    for t in ["ecs-cli", "aws-cli", "session-manager-plugin"] {
        assert!(tools.contains(&t), "{tools:?}");
    }
    let ecs = v["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tool"] == "ecs-cli")
        .unwrap();
    assert_eq!(ecs["pins"][0]["fingerprint"], ECS_PRIMARY);
    assert_eq!(ecs["pins"][0]["sha1_self_signatures_accepted"], true);
    let warnings: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(warnings.contains(&"policy-relaxed"));
    // The AWS CLI copy expires 2027-07-01: a warning appears only within 60 days of that.
    let soon = SystemTime::now() + Duration::from_secs(60 * 86_400)
        >= UNIX_EPOCH + Duration::from_secs(1_814_904_778);
    assert_eq!(warnings.contains(&"key-expires-soon"), soon);
}

#[test]
fn keys_list_flags_a_stale_pinned_copy() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("old.asc"),
        fixture("aws-cli-v2-exp2026-07-07.asc"),
    )
    .unwrap();
    std::fs::write(
        d.path().join("catalog.toml"),
        format!(
            r#"[tool.aws-cli]
url = "https://awscli.amazonaws.com/awscli-exe-{{os}}-{{arch}}.zip"
signature = "{{url}}.sig"
platforms = ["linux/amd64"]
install = "file"
[[tool.aws-cli.pin]]
certificate = "old.asc"
fingerprint = "{AWS_CLI}"
"#
        ),
    )
    .unwrap();
    let out = common::shipcheck()
        .args(["keys", "list", "--catalog"])
        .arg(d.path().join("catalog.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stdout.contains(&format!(
            "certificate {AWS_CLI}  INVALID: expired 2026-07-07"
        )),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning: aws-cli: pinned certificate")
            && stderr.contains("not valid today"),
        "{stderr}"
    );
}

/// A catalog's `default_version` is checked when the catalog loads, as `--version` is: a value that
/// could change the URL's path is an `invalid-catalog`, not a usage error the user did not make. And
/// `--version` is checked with `--file` too (it builds no URL there, but is reported as the version).
#[test]
fn a_catalog_default_version_and_a_version_with_file_are_checked() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("k.asc"),
        fixture("aws-cli-v2-exp2026-07-07.asc"),
    )
    .unwrap();
    let path = d.path().join("c.toml");
    let catalog = |default_version: &str| {
        std::fs::write(
            &path,
            format!(
                "[tool.x]\nurl = \"https://example.com/x-{{version}}-{{os}}-{{arch}}\"\nplatforms = [\"linux/amd64\"]\ndefault_version = \"{default_version}\"\n[[tool.x.pin]]\ncertificate = \"k.asc\"\nfingerprint = \"{AWS_CLI}\"\n"
            ),
        )
        .unwrap();
    };
    let run = |extra: &[&str]| {
        let out = common::shipcheck()
            .args(["verify-bin", "x", "--no-install", "--json", "--catalog"])
            .arg(&path)
            .args(extra)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), v)
    };
    catalog("../../etc");
    let (code, v) = run(&[]);
    assert_eq!(code, 2, "{v}");
    assert_eq!(v["reasons"][0]["code"], "invalid-catalog", "{v}");
    assert!(v["reasons"][0]["message"]
        .as_str()
        .unwrap()
        .contains("default_version"));
    catalog("latest");
    let f = d.path().join("f");
    std::fs::write(&f, b"x").unwrap();
    let (code, v) = run(&[
        "--file",
        f.to_str().unwrap(),
        "--sig",
        f.to_str().unwrap(),
        "--version",
        "../../x?#@evil",
    ]);
    assert_eq!(code, 2, "{v}");
    assert_eq!(v["reasons"][0]["code"], "usage", "{v}");
}

#[test]
fn catalog_with_wrong_fingerprint_or_unknown_field_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("k.asc"),
        fixture("aws-cli-v2-exp2026-07-07.asc"),
    )
    .unwrap();
    let base = r#"[tool.x]
url = "https://example.com/x-{os}-{arch}"
platforms = ["linux/amd64"]
[[tool.x.pin]]
certificate = "k.asc"
"#;
    for (extra, needle) in [
        (
            format!("fingerprint = \"{ECS_PRIMARY}\"\n"),
            "does not hold the pinned fingerprint",
        ),
        (
            format!("fingerprint = \"{AWS_CLI}\"\ncolour = \"blue\"\n"),
            "unknown field",
        ),
        (
            "fingerprint = \"DE3CBD61ADAF8B8E\"\n".to_string(),
            "not a full fingerprint",
        ),
        // One `0x` prefix at most.
        (
            format!("fingerprint = \"0x0x{AWS_CLI}\"\n"),
            "not a full fingerprint",
        ),
    ] {
        let path = d.path().join("c.toml");
        std::fs::write(&path, format!("{base}{extra}")).unwrap();
        let out = common::shipcheck()
            .args(["verify-bin", "x", "--no-install", "--json", "--catalog"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["reasons"][0]["code"], "invalid-catalog");
        assert!(
            v["reasons"][0]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{}",
            v["reasons"][0]["message"]
        );
    }
}
