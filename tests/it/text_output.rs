//! Text output as people see it, snapshotted with insta (tests/snapshots/text_output__*.snap): for every
//! command a few representative runs (passes, failures, errors, warnings, and the other audit formats),
//! each snapshot holding the command line, the exit code, stdout and stderr together. Filters replace
//! what differs between runs with stable placeholders: temp paths ([TMP]), loopback ports ([PORT]),
//! fingerprints and key IDs of keys made here ([name], [name-sub0], [name-sub1], [name-sub0-id]; any
//! other as [FPR] or [KEYID]) and times ([TIME], [DATE]). Image content is built the same way every run, so its digests stay as they are.
//! keys list runs on a catalog of keys made here that replaces every built-in tool: the built-in
//! certificates' validity depends on the day the test runs.
//!
//! In CI (`CI=true`) a missing or changed snapshot fails; write them locally with
//! `INSTA_UPDATE=always cargo test --test text_output` (or `cargo insta review`) and review the diff.

use crate::common;

use common::faults::FaultServer;
use common::pgp::{armor_sigs, write_catalog, TestKey, DAY};
use common::registry::{Flavour, Registry};
use common::shipcheck;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `s` as a regex matching itself.
fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// Runs commands and snapshots their output through the filters: exact values first (in the order
/// given), then the general patterns.
struct Snap {
    exact: Vec<(String, String)>,
    /// Key IDs (the last 16 hex digits of v4 fingerprints), applied after every full fingerprint.
    key_ids: Vec<(String, String)>,
}

impl Snap {
    fn new() -> Snap {
        Snap {
            exact: Vec::new(),
            key_ids: Vec::new(),
        }
    }

    /// Replaces the path (a temp dir) with `[name]`.
    fn path(mut self, p: &Path, name: &str) -> Snap {
        self.exact
            .push((escape(&p.display().to_string()), format!("[{name}]")));
        self
    }

    /// Replaces the key's fingerprints with `[name]`, `[name-sub0]` and `[name-sub1]`, and their key
    /// IDs with the same names and `-id`.
    fn key(mut self, k: &TestKey, name: &str) -> Snap {
        let fprs = [
            (k.fingerprint().to_hex(), name.to_string()),
            (k.subkey(0).to_hex(), format!("{name}-sub0")),
            (k.subkey(1).to_hex(), format!("{name}-sub1")),
        ];
        for (fpr, label) in fprs {
            self.key_ids
                .push((fpr[fpr.len() - 16..].to_string(), format!("[{label}-id]")));
            self.exact.push((fpr, format!("[{label}]")));
        }
        self
    }

    fn settings(&self) -> insta::Settings {
        let mut s = insta::Settings::clone_current();
        s.set_omit_expression(true);
        s.set_prepend_module_to_snapshot(true);
        for (re, to) in self.exact.iter().chain(&self.key_ids) {
            s.add_filter(re, to.clone());
        }
        s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]");
        s.add_filter(r"127\.0\.0\.1(:|%3A)\d{4,5}\b", "127.0.0.1$1[PORT]");
        s.add_filter(r"\b[0-9A-F]{40}\b", "[FPR]");
        s.add_filter(r"\b[0-9A-F]{16}\b", "[KEYID]");
        s.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]");
        s.add_filter(r"\b\d{4}-\d{2}-\d{2}\b", "[DATE]");
        s
    }

    /// Runs `shipcheck ARGS` from the crate root and snapshots it as `name`.
    fn run<I, A>(&self, name: &str, args: I)
    where
        I: IntoIterator<Item = A>,
        A: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let out = shipcheck()
            .current_dir(root())
            .args(&args)
            .output()
            .unwrap();
        let line: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let text = format!(
            "$ shipcheck {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            line.join(" "),
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        );
        self.settings()
            .bind(|| insta::assert_snapshot!(name.to_string(), text));
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

// ---------------------------------------------------------------------------------------------------

const DATA: &[u8] = b"#!/bin/sh\necho release 1.2.3\n";

#[test]
fn verify_bin_text() {
    let d = tempfile::tempdir().unwrap();
    let vendor = TestKey::fresh("vendor");
    let other = TestKey::fresh("other");
    let p = |n: &str| d.path().join(n);
    std::fs::write(p("tool"), DATA).unwrap();
    std::fs::write(p("tool.asc"), armor_sigs(&[vendor.sign(DATA)])).unwrap();
    std::fs::write(
        p("two.asc"),
        armor_sigs(&[other.sign(DATA), vendor.sign(DATA)]),
    )
    .unwrap();
    std::fs::write(p("tampered"), b"#!/bin/sh\necho release 1.2.4\n").unwrap();
    std::fs::write(p("vendor.asc"), vendor.public_armored()).unwrap();
    std::fs::write(p("other.asc"), other.public_armored()).unwrap();
    std::fs::write(p("not-a-key.asc"), b"hello\n").unwrap();
    std::fs::create_dir(p("bin")).unwrap();
    let snap = Snap::new()
        .path(d.path(), "TMP")
        .key(&vendor, "vendor")
        .key(&other, "other");
    let local = |file: &str, sig: &str, key: &str| {
        vec![
            "verify-bin".to_string(),
            "--file".into(),
            s(&p(file)),
            "--sig".into(),
            s(&p(sig)),
            "--key".into(),
            s(&p(key)),
        ]
    };

    let mut args = local("tool", "tool.asc", "vendor.asc");
    args.extend(["--dest".into(), s(&p("bin/tool"))]);
    snap.run("verify_bin_pass_installs", &args);
    let mut args = local("tool", "two.asc", "vendor.asc");
    args.push("--no-install".into());
    snap.run("verify_bin_pass_with_ignored_signature", &args);
    let mut args = local("tool", "tool.asc", "vendor.asc");
    args.extend(["--no-install".into(), "--quiet".into()]);
    snap.run("verify_bin_pass_quiet", &args);
    let mut args = local("tool", "tool.asc", "other.asc");
    args.extend(["--dest".into(), s(&p("bin/other"))]);
    snap.run("verify_bin_fail_unpinned_signer", &args);
    let mut args = local("tampered", "tool.asc", "vendor.asc");
    args.push("--no-install".into());
    snap.run("verify_bin_fail_bad_signature", &args);
    let mut args = local("tool", "tool.asc", "not-a-key.asc");
    args.push("--no-install".into());
    snap.run("verify_bin_error_invalid_key", &args);
    let mut args = local("absent", "tool.asc", "vendor.asc");
    args.push("--no-install".into());
    snap.run("verify_bin_error_missing_file", &args);

    // Over loopback HTTP: the URL is what the lines name.
    let files = FaultServer::start();
    files.signed("/tool", DATA, &vendor);
    let url = |path: &str| {
        vec![
            "verify-bin".to_string(),
            "--url".into(),
            files.url(path),
            "--key".into(),
            s(&p("vendor.asc")),
            "--no-install".into(),
            "--retries".into(),
            "0".into(),
        ]
    };
    snap.run("verify_bin_url_pass", url("/tool"));
    snap.run("verify_bin_url_absent_release", url("/absent"));
}

/// A registry with `team/app:v1` (amd64 + arm64 with attestations) and `solo:v1` (amd64 only).
fn registry() -> Registry {
    let reg = Registry::plain();
    reg.push_multi("team/app", "v1", true);
    reg.push_image("solo", "linux/amd64", Flavour::Oci, Some("v1"));
    reg
}

/// A fixture task definition with REGISTRY replaced by the test registry's host.
fn taskdef(dir: &Path, fixture: &str, reg: &Registry) -> PathBuf {
    let text = std::fs::read_to_string(root().join("fixtures/taskdef").join(fixture)).unwrap();
    let path = dir.join(fixture);
    std::fs::write(&path, text.replace("REGISTRY", &reg.host())).unwrap();
    path
}

#[test]
fn verify_image_text() {
    let reg = registry();
    let h = reg.host();
    let snap = Snap::new();
    snap.run(
        "verify_image_pass",
        [
            "verify-image",
            &format!("{h}/team/app:v1"),
            "--platforms",
            "amd64,arm64",
        ],
    );
    snap.run(
        "verify_image_pass_quiet",
        ["verify-image", "-q", &format!("{h}/team/app:v1")],
    );
    snap.run(
        "verify_image_fail_missing_platform",
        [
            "verify-image",
            &format!("{h}/solo:v1"),
            "--platforms",
            "amd64,arm64",
        ],
    );
    snap.run(
        "verify_image_error_unknown_tag",
        ["verify-image", &format!("{h}/solo:v9")],
    );
    snap.run(
        "verify_image_error_unreachable",
        ["verify-image", "127.0.0.1:1/nothing:v1", "--retries", "0"],
    );
    snap.run(
        "verify_image_error_bad_reference",
        ["verify-image", "UPPER/Case:v1"],
    );
}

#[test]
fn verify_taskdef_text() {
    let reg = registry();
    let d = tempfile::tempdir().unwrap();
    let snap = Snap::new().path(d.path(), "TMP");
    let x86 = taskdef(d.path(), "describe-x86.json", &reg);
    let arm = taskdef(d.path(), "fargate-arm64.json", &reg);
    let pinned = d.path().join("pinned.json");
    snap.run(
        "verify_taskdef_pass_pinned",
        [
            "verify-taskdef".to_string(),
            s(&x86),
            "--pin".into(),
            "--output".into(),
            s(&pinned),
        ],
    );
    snap.run(
        "verify_taskdef_pass_pinned_copy",
        ["verify-taskdef", &s(&pinned)],
    );
    snap.run("verify_taskdef_fail_arm64", ["verify-taskdef", &s(&arm)]);
    snap.run(
        "verify_taskdef_fail_arm64_quiet",
        ["verify-taskdef", "-q", &s(&arm)],
    );
    let bad = d.path().join("bad.json");
    std::fs::write(&bad, "{\"containerDefinitions\": [{\"name\": \"a\"}]}").unwrap();
    snap.run("verify_taskdef_error_invalid", ["verify-taskdef", &s(&bad)]);
}

#[test]
fn audit_text_junit_github() {
    let reg = registry();
    let d = tempfile::tempdir().unwrap();
    let vendor = TestKey::fresh("vendor");
    let other = TestKey::fresh("other");
    std::fs::write(d.path().join("vendor.asc"), vendor.public_armored()).unwrap();
    let files = FaultServer::start();
    files.signed("/good", DATA, &vendor);
    files.signed("/bad", DATA, &other);
    let td = taskdef(d.path(), "describe-x86.json", &reg);
    let h = reg.host();
    let text = format!(
        r#"[[bin]]
url = "{good}"
key = "vendor.asc"

[[bin]]
url = "{bad}"
key = "vendor.asc"

[[image]]
ref = "{h}/team/app:v1"
platforms = ["linux/amd64", "linux/arm64"]

[[image]]
ref = "{h}/solo:v1"
platforms = ["amd64", "arm64"]

[[image]]
ref = "127.0.0.1:1/nothing:v1"

[[taskdef]]
path = "{td}"
"#,
        good = files.url("/good"),
        bad = files.url("/bad"),
        td = td.file_name().unwrap().to_string_lossy(),
    );
    let file = d.path().join("audit.toml");
    std::fs::write(&file, text).unwrap();
    let pass = d.path().join("pass.toml");
    std::fs::write(
        &pass,
        format!(
            "[[image]]\nref = \"{h}/team/app:v1\"\n\n[[taskdef]]\npath = \"describe-x86.json\"\n"
        ),
    )
    .unwrap();
    let none = d.path().join("none.toml");
    std::fs::write(&none, "# nothing to check\n").unwrap();

    let snap = Snap::new()
        .path(d.path(), "TMP")
        .key(&vendor, "vendor")
        .key(&other, "other");
    let audit = |format: &str, f: &Path| {
        vec![
            "audit".to_string(),
            "--retries".into(),
            "0".into(),
            "--format".into(),
            format.into(),
            s(f),
        ]
    };
    snap.run("audit_text_mixed", audit("text", &file));
    snap.run("audit_junit_mixed", audit("junit", &file));
    snap.run("audit_github_mixed", audit("github", &file));
    snap.run("audit_text_pass", audit("text", &pass));
    snap.run("audit_text_pass_quiet", {
        let mut a = audit("text", &pass);
        a.push("--quiet".into());
        a
    });
    // Shards are chosen by target identity, which holds the loopback ports for bins and images:
    // the shard snapshot uses task definitions (identity: the path as written) and a fixed address.
    let mut sharded = String::new();
    for name in ["a", "b", "c", "d", "e", "f"] {
        std::fs::copy(&td, d.path().join(format!("td-{name}.json"))).unwrap();
        sharded.push_str(&format!("[[taskdef]]\npath = \"td-{name}.json\"\n\n"));
    }
    taskdef(d.path(), "fargate-arm64.json", &reg);
    sharded.push_str("[[taskdef]]\npath = \"fargate-arm64.json\"\n\n");
    sharded.push_str("[[image]]\nref = \"127.0.0.1:1/nothing:v1\"\n");
    let shards = d.path().join("shards.toml");
    std::fs::write(&shards, sharded).unwrap();
    for k in 1..=3 {
        snap.run(&format!("audit_text_shard_{k}_of_3"), {
            let mut a = audit("text", &shards);
            a.extend(["--shard".into(), format!("{k}/3")]);
            a
        });
    }
    snap.run("audit_text_error_no_targets", audit("text", &none));
    snap.run("audit_github_error_no_targets", audit("github", &none));
}

#[test]
fn check_iam_text() {
    let snap = Snap::new();
    let repo = "arn:aws:ecr:us-east-1:111122223333:repository/my-app";
    let iam = |name: &str, file: &str, rest: &[&str]| {
        let mut a = vec!["check-iam".to_string(), format!("fixtures/iam/{file}")];
        a.extend(rest.iter().map(|x| x.to_string()));
        snap.run(name, a);
    };
    iam(
        "check_iam_pass_push",
        "push-documented.json",
        &["--for", "push", "--repository", repo],
    );
    iam(
        "check_iam_pass_quiet",
        "push-documented.json",
        &["--for", "push", "--repository", repo, "--quiet"],
    );
    iam(
        "check_iam_fail_buildx",
        "push-documented.json",
        &["--for", "buildx-push", "--repository", repo],
    );
    iam(
        "check_iam_fail_denied",
        "deny-secret-repos.json",
        &[
            "--for",
            "pull",
            "--repository",
            "arn:aws:ecr:eu-west-1:111122223333:repository/secret-keys",
        ],
    );
    iam(
        "check_iam_pass_conditional_any_repository",
        "conditional.json",
        &["--for", "pull"],
    );
    iam(
        "check_iam_error_bad_effect",
        "bad-effect-case.json",
        &["--for", "pull"],
    );
    iam(
        "check_iam_error_missing_file",
        "absent.json",
        &["--for", "pull"],
    );
}

#[test]
fn check_endpoints_text() {
    let snap = Snap::new();
    let ep = |name: &str, file: &str, rest: &[&str]| {
        let mut a = vec![
            "check-endpoints".to_string(),
            "--region".into(),
            "us-east-1".into(),
            format!("fixtures/endpoints/{file}"),
        ];
        a.extend(rest.iter().map(|x| x.to_string()));
        snap.run(name, a);
    };
    ep(
        "check_endpoints_pass",
        "all.json",
        &[
            "--security-groups",
            "fixtures/endpoints/sgs-443.json",
            "--with-ssm",
        ],
    );
    ep("check_endpoints_pass_quiet", "all.json", &["--quiet"]);
    ep(
        "check_endpoints_pass_unverified_group",
        "unknown-sg.json",
        &["--security-groups", "fixtures/endpoints/sgs-443.json"],
    );
    ep("check_endpoints_fail_two_vpcs", "two-vpcs.json", &[]);
    ep(
        "check_endpoints_fail_port_443",
        "all.json",
        &["--security-groups", "fixtures/endpoints/sgs-no-443.json"],
    );
    ep("check_endpoints_fail_empty", "empty.json", &["--quiet"]);
    ep("check_endpoints_error_missing_file", "absent.json", &[]);
}

#[test]
fn keys_list_text() {
    let d = tempfile::tempdir().unwrap();
    let now = SystemTime::now();
    let keys: Vec<(&str, TestKey)> = vec![
        ("aws-cli", TestKey::fresh("aws-cli")),
        ("ecs-cli", TestKey::fresh("ecs-cli")),
        ("session-manager-plugin", TestKey::fresh("smp")),
        ("session-manager-plugin-deb", TestKey::fresh("smp-deb")),
        (
            "t-soon",
            TestKey::new("soon", now - 300 * DAY, Some(310 * DAY)),
        ),
        (
            "t-expired",
            TestKey::new("expired", now - 400 * DAY, Some(100 * DAY)),
        ),
    ];
    let refs: Vec<(&str, &TestKey)> = keys.iter().map(|(n, k)| (*n, k)).collect();
    // The catalog's tools replace every built-in one and add two more.
    let file = write_catalog(d.path(), &refs, &["linux/amd64", "linux/arm64"]);
    let mut snap = Snap::new().path(d.path(), "TMP");
    for (n, k) in &keys {
        snap = snap.key(k, n);
    }
    snap.run(
        "keys_list_pass_with_warnings",
        ["keys", "list", "--catalog", &s(&file)],
    );
    snap.run(
        "keys_list_pass_quiet",
        ["keys", "list", "-q", "--catalog", &s(&file)],
    );
    let bad = d.path().join("bad.toml");
    std::fs::write(&bad, "[tool.x]\n").unwrap();
    snap.run(
        "keys_list_error_invalid_catalog",
        ["keys", "list", "--catalog", &s(&bad)],
    );
    snap.run(
        "keys_list_error_missing_catalog",
        [
            "keys",
            "list",
            "--catalog",
            &s(&d.path().join("absent.toml")),
        ],
    );
}

#[test]
fn usage_errors_text() {
    let snap = Snap::new();
    snap.run("usage_unknown_flag", ["verify-image", "--bogus"]);
    snap.run(
        "usage_unknown_flag_json",
        ["check-iam", "--bogus", "--json"],
    );
    snap.run("usage_missing_argument", ["check-endpoints", "all.json"]);
    snap.run("usage_no_command", ["keys"]);
}
