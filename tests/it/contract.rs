//! The JSON of every command is a tested contract: the real binary's stdout is deserialised into the
//! mirror structs of common/contract.rs (unknown fields rejected, nullable fields required), on inputs
//! that fill every field, for passes, failures and errors. Covers usage errors (`CMD --bogus --json`),
//! verify-bin (local files, and as audit results), verify-taskdef and audit against a real registry
//! (Debian's docker-registry), check-iam and check-endpoints on the fixtures, and keys list on the
//! built-in catalog and on catalogs of keys made here. The exit code is checked against the verdict
//! on every run, and a first test shows that the mirrors reject extra and missing fields.

use crate::common;

use common::contract::*;
use common::faults::FaultServer;
use common::pgp::{armor_sigs, write_catalog, TestKey, DAY};
use common::registry::{Flavour, Pushed, Registry};
use common::shipcheck;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const REPO: &str = "arn:aws:ecr:us-east-1:111122223333:repository/my-app";
const VPC: &str = "vpc-0a1b2c3d4e5f67890";
/// check-iam of the documented push policy, for push to REPO.
const DOCUMENTED_PUSH: [&str; 5] = [
    "fixtures/iam/push-documented.json",
    "--for",
    "push",
    "--repository",
    REPO,
];
const VPC2: &str = "vpc-0fedcba9876543210";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(path: &str) -> PathBuf {
    root().join("fixtures").join(path)
}

/// `shipcheck ARGS` run from the crate root, so fixture paths are relative and stable.
fn cmd(args: &[&str]) -> assert_cmd::Command {
    let mut c = shipcheck();
    c.current_dir(root()).args(args);
    c
}

fn iam(args: &[&str]) -> Out<IamJson> {
    let mut a = vec!["check-iam", "--json"];
    a.extend(args);
    run(cmd(&a))
}

fn endpoints(args: &[&str]) -> Out<EndpointsJson> {
    let mut a = vec!["check-endpoints", "--json", "--region", "us-east-1"];
    a.extend(args);
    run(cmd(&a))
}

// ---------------------------------------------------------------------------------------------------
// The mirrors themselves

/// The contract checks can fail: an extra field anywhere, a missing nullable field, an unknown
/// status, or an audit result whose fields are another command's, are all rejected.
#[test]
fn the_mirrors_reject_extra_missing_and_unknown_values() {
    let out = iam(&DOCUMENTED_PUSH);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let parses = |v: &Value| serde_json::from_value::<IamJson>(v.clone()).is_ok();
    assert!(parses(&v), "the real output is the contract");

    let mut extra = v.clone();
    extra["new_field"] = Value::Bool(true);
    assert!(!parses(&extra), "an unknown top-level field is rejected");

    let mut nested = v.clone();
    nested["actions"][0]["extra"] = Value::Null;
    assert!(!parses(&nested), "an unknown nested field is rejected");

    let mut missing = v.clone();
    missing.as_object_mut().unwrap().remove("repository");
    assert!(!parses(&missing), "a nullable field is still required");

    let mut status = v.clone();
    status["actions"][0]["status"] = Value::String("allowed".into());
    assert!(!parses(&status), "an unknown action status is rejected");

    let mut verdict = v.clone();
    verdict["verdict"] = Value::String("ok".into());
    assert!(!parses(&verdict), "an unknown verdict is rejected");

    // An audit result must be exactly the contract of its kind.
    let image = serde_json::json!({
        "kind": "image", "target": "x", "verdict": "pass", "reasons": [], "warnings": [],
        "reference": null, "digest": null, "media_type": null, "platforms": [], "missing": [],
        "attestations": []
    });
    assert!(serde_json::from_value::<AuditResultJson>(image.clone()).is_ok());
    let mut as_taskdef = image.clone();
    as_taskdef["kind"] = Value::String("taskdef".into());
    assert!(serde_json::from_value::<AuditResultJson>(as_taskdef).is_err());
    let mut with_family = image;
    with_family["family"] = Value::Null;
    assert!(serde_json::from_value::<AuditResultJson>(with_family).is_err());
}

// ---------------------------------------------------------------------------------------------------
// Usage errors

#[test]
fn usage_errors_are_json_for_every_command() {
    let commands: &[&[&str]] = &[
        &["verify-bin"],
        &["verify-image", "127.0.0.1:1/x:v1"],
        &["verify-taskdef", "td.json"],
        &["audit", "audit.toml"],
        &["check-iam", "p.json", "--for", "pull"],
        &["check-endpoints", "--region", "us-east-1", "e.json"],
        &["keys", "list"],
    ];
    for args in commands {
        let mut a = args.to_vec();
        a.extend(["--bogus", "--json"]);
        let out: Out<UsageJson> = run(cmd(&a));
        let j = out.exit(2);
        assert_eq!(j.verdict, Verdict::Error, "{args:?}");
        assert_eq!(j.codes(), vec!["usage"], "{args:?}");
        assert!(j.warnings.is_empty());
        assert!(
            j.reasons[0].message.starts_with("invalid arguments: "),
            "{args:?}: {}",
            j.reasons[0].message
        );
        assert!(out.stderr.contains("'--bogus'"), "{args:?}: {}", out.stderr);

        // Without --json, nothing on stdout.
        let mut a = args.to_vec();
        a.push("--bogus");
        let plain = cmd(&a).output().unwrap();
        assert_eq!(plain.status.code(), Some(2));
        assert!(plain.stdout.is_empty(), "{args:?}");
    }
    // A missing required argument is a usage error as well.
    let out: Out<UsageJson> = run(cmd(&["verify-image", "--json"]));
    assert_eq!(out.exit(2).codes(), vec!["usage"]);
}

// ---------------------------------------------------------------------------------------------------
// verify-bin (local files)

/// A release, its signature and two keys (the vendor's and another) in a temp dir.
struct Release {
    dir: tempfile::TempDir,
    vendor: TestKey,
    data: Vec<u8>,
    file: PathBuf,
    sig: PathBuf,
    vendor_key: PathBuf,
    other_key: PathBuf,
}

const DATA: &[u8] = b"#!/bin/sh\necho release 1.2.3\n";

impl Release {
    fn new() -> Release {
        let dir = tempfile::tempdir().unwrap();
        let vendor = TestKey::fresh("vendor");
        let other = TestKey::fresh("other");
        let file = dir.path().join("tool");
        let sig = dir.path().join("tool.asc");
        let vendor_key = dir.path().join("vendor.asc");
        let other_key = dir.path().join("other.asc");
        std::fs::write(&file, DATA).unwrap();
        std::fs::write(&sig, armor_sigs(&[vendor.sign(DATA)])).unwrap();
        std::fs::write(&vendor_key, vendor.public_armored()).unwrap();
        std::fs::write(&other_key, other.public_armored()).unwrap();
        Release {
            dir,
            vendor,
            data: DATA.to_vec(),
            file,
            sig,
            vendor_key,
            other_key,
        }
    }

    fn sha256(&self) -> String {
        common::registry::sha256(&self.data)[7..].to_string()
    }

    /// `verify-bin --json --file <file> --sig <the signature> --key <key>` and then `rest`.
    fn verify(&self, file: &Path, key: &Path, rest: &[&str]) -> Out<BinJson> {
        let mut c = cmd(&["verify-bin", "--json", "--file"]);
        c.arg(file)
            .arg("--sig")
            .arg(&self.sig)
            .arg("--key")
            .arg(key)
            .args(rest);
        run(c)
    }
}

#[test]
fn verify_bin_contract_for_local_files() {
    let r = Release::new();
    let dest = r.dir.path().join("installed-tool");
    let s = |p: &Path| p.display().to_string();
    let out = r.verify(&r.file, &r.vendor_key, &["--dest", &s(&dest)]);
    let j = out.exit(0);
    assert_eq!(j.verdict, Verdict::Pass);
    assert!(j.reasons.is_empty() && j.warnings.is_empty(), "{j:?}");
    assert_eq!((&j.tool, &j.version, &j.platform), (&None, &None, &None));
    assert_eq!((&j.url, &j.sig_url), (&None, &None));
    assert_eq!(j.file.as_deref(), Some(s(&r.file).as_str()));
    assert_eq!(j.sig_file.as_deref(), Some(s(&r.sig).as_str()));
    assert_eq!(j.size, Some(DATA.len() as u64));
    assert_eq!(j.sha256.as_deref(), Some(r.sha256().as_str()));
    let signer = j.signer.as_ref().unwrap();
    assert_eq!(signer.fingerprint, r.vendor.fingerprint().to_hex());
    assert_eq!(signer.key, r.vendor.subkey(0).to_hex());
    let sig = j.signature.as_ref().unwrap();
    assert_eq!(sig.hash_algorithm, "SHA512");
    assert!(sig.created.ends_with('Z'), "{}", sig.created);
    assert_eq!(j.installed.as_deref(), Some(s(&dest).as_str()));
    assert_eq!(std::fs::read(&dest).unwrap(), DATA);

    // Another key: fails, nothing installed, no signer.
    let dest2 = r.dir.path().join("never");
    let out = r.verify(&r.file, &r.other_key, &["--dest", &s(&dest2)]);
    let j = out.exit(1);
    assert_eq!(j.codes(), vec!["unpinned-signer"]);
    assert!(j.signer.is_none() && j.signature.is_none() && j.installed.is_none());
    assert!(!dest2.exists());

    // A missing file: could not decide.
    let out = r.verify(
        &r.dir.path().join("absent"),
        &r.vendor_key,
        &["--no-install"],
    );
    let j = out.exit(2);
    assert_eq!(j.codes(), vec!["io-error"]);
    assert!(j.sha256.is_none() && j.size.is_none());
}

// ---------------------------------------------------------------------------------------------------
// verify-taskdef

/// A registry with `team/app:v1` (amd64 + arm64 with attestations) and `solo:v1` (amd64 only).
fn registry() -> (Registry, Pushed) {
    let reg = Registry::plain();
    let (index, _) = reg.push_multi("team/app", "v1", true);
    reg.push_image("solo", "linux/amd64", Flavour::Oci, Some("v1"));
    (reg, index)
}

/// A fixture task definition with REGISTRY replaced by the test registry's host.
fn taskdef(dir: &Path, fixture_name: &str, reg: &Registry) -> PathBuf {
    let text = std::fs::read_to_string(fixture(&format!("taskdef/{fixture_name}"))).unwrap();
    let path = dir.join(fixture_name);
    std::fs::write(&path, text.replace("REGISTRY", &reg.host())).unwrap();
    path
}

fn taskdef_run(args: &[&str], path: &Path) -> Out<TaskdefJson> {
    let mut c = cmd(&["verify-taskdef", "--json"]);
    c.args(args).arg(path);
    run(c)
}

#[test]
fn verify_taskdef_contract() {
    let (reg, index) = registry();
    let d = tempfile::tempdir().unwrap();
    let h = reg.host();

    // Pass, pinned: every container verified, by tag, with its digest and pinned image.
    let td = taskdef(d.path(), "describe-x86.json", &reg);
    let pinned = d.path().join("pinned.json");
    let out = taskdef_run(&["--pin", "--output", &pinned.display().to_string()], &td);
    let j = out.exit(0);
    assert_eq!(j.path, td.display().to_string());
    assert_eq!(j.family.as_deref(), Some("webapp"));
    assert_eq!(j.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(
        j.pinned_output.as_deref(),
        Some(pinned.display().to_string().as_str())
    );
    assert!(pinned.is_file());
    assert_eq!(j.warning_codes(), vec!["mutable-tag", "mutable-tag"]);
    let names: Vec<&str> = j.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["web", "sidecar"]);
    for c in &j.containers {
        assert_eq!(c.verdict, Verdict::Pass, "{c:?}");
        assert!(!c.by_digest);
        let digest = c.digest.as_deref().unwrap();
        assert_eq!(c.check.digest.as_deref(), Some(digest));
        assert_eq!(c.check.verdict, Verdict::Pass);
        assert!(c
            .check
            .platforms
            .iter()
            .all(|p| p.status == PlatformStatus::Verified && p.config_digest.is_some()));
        assert!(c.check.platform_names().contains(&"linux/amd64"), "{c:?}");
        let img = c.pinned_image.as_deref().unwrap();
        assert!(
            img.ends_with(&format!("@{digest}")) && !img.contains(":v1"),
            "{img}"
        );
    }
    assert_eq!(
        j.containers[0].digest.as_deref(),
        Some(index.digest.as_str())
    );
    let att = &j.containers[0].check.attestations;
    assert_eq!(att.len(), 2);
    let platform_digests: Vec<&str> = j.containers[0]
        .check
        .platforms
        .iter()
        .map(|p| p.digest.as_str())
        .collect();
    for a in att {
        assert!(
            platform_digests.contains(&a.refers_to.as_deref().unwrap()),
            "{a:?}"
        );
    }
    assert_eq!(
        j.containers[0].image,
        format!("{h}/team/app:v1"),
        "the image as the task definition names it"
    );

    // Fail: an arm64 task without a family, one container by digest (passes, pinned as it is), one
    // amd64-only image (fails); --pin writes nothing.
    let by_digest = format!("{h}/team/app@{}", index.digest);
    let text = serde_json::json!({
        "runtimePlatform": {"cpuArchitecture": "ARM64"},
        "containerDefinitions": [
            {"name": "app", "image": by_digest},
            {"name": "solo", "image": format!("{h}/solo:v1")},
        ]
    });
    let td = d.path().join("arm.json");
    std::fs::write(&td, text.to_string()).unwrap();
    let pinned = d.path().join("never.json");
    let out = taskdef_run(&["--pin", "--output", &pinned.display().to_string()], &td);
    let j = out.exit(1);
    assert_eq!(j.family, None);
    assert_eq!(j.platform.as_deref(), Some("linux/arm64"));
    assert_eq!(j.codes(), vec!["missing-platform"]);
    assert_eq!(j.warning_codes(), vec!["mutable-tag", "not-pinned"]);
    assert_eq!(j.pinned_output, None);
    assert!(!pinned.exists());
    let (app, solo) = (&j.containers[0], &j.containers[1]);
    assert!(app.by_digest && app.verdict == Verdict::Pass);
    assert_eq!(app.pinned_image.as_deref(), Some(by_digest.as_str()));
    assert!(!solo.by_digest && solo.verdict == Verdict::Fail);
    assert_eq!((&solo.digest, &solo.pinned_image), (&None, &None));
    assert_eq!(solo.check.missing, vec!["linux/arm64"]);

    // Error: not a task definition; nothing but the path is known.
    let bad = d.path().join("bad.json");
    std::fs::write(&bad, "{\"family\": \"x\"}").unwrap();
    let out = taskdef_run(&[], &bad);
    let j = out.exit(2);
    assert_eq!(j.codes(), vec!["invalid-input"]);
    assert_eq!(j.path, bad.display().to_string());
    assert_eq!((&j.family, &j.platform), (&None, &None));
    assert!(j.containers.is_empty() && j.pinned_output.is_none());
}

// ---------------------------------------------------------------------------------------------------
// audit

/// Writes an audit file in `dir` with every kind of target: two releases served over loopback HTTP
/// (one signed by the pinned key, one by another), a passing and a failing image, `extra`, and a task
/// definition. Targets are in kind order (bin, image, taskdef), which is also the order of results.
fn write_audit(dir: &Path, reg: &Registry, files: &FaultServer, extra: &str) -> PathBuf {
    let vendor = TestKey::fresh("vendor");
    let other = TestKey::fresh("other");
    std::fs::write(dir.join("vendor.asc"), vendor.public_armored()).unwrap();
    files.signed("/good", DATA, &vendor);
    files.signed("/bad", DATA, &other);
    let td = taskdef(dir, "describe-x86.json", reg);
    let h = reg.host();
    let text = format!(
        r#"[[bin]]
url = "{good}"
key = "vendor.asc"
fingerprint = "{fpr}"

[[bin]]
url = "{bad}"
sig_url = "{bad}.asc"
key = ["vendor.asc"]

[[image]]
ref = "{h}/team/app:v1"
platforms = ["linux/amd64", "linux/arm64"]
deep = true

[[image]]
ref = "{h}/solo:v1"
platforms = ["amd64", "arm64"]
{extra}
[[taskdef]]
path = "{td}"
"#,
        good = files.url("/good"),
        bad = files.url("/bad"),
        fpr = vendor.fingerprint().to_hex(),
        td = td.file_name().unwrap().to_string_lossy(),
    );
    let p = dir.join("audit.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn audit_contract_with_every_kind_of_target() {
    let (reg, index) = registry();
    let files = FaultServer::start();
    let d = tempfile::tempdir().unwrap();
    let file = write_audit(
        d.path(),
        &reg,
        &files,
        "\n[[image]]\nref = \"127.0.0.1:1/nothing:v1\"\n",
    );
    let args = |format: &[&'static str]| {
        let mut c = cmd(&["audit", "--retries", "0"]);
        c.args(format).arg(&file);
        c
    };
    let out: Out<AuditJson> = run(args(&["--format", "json"]));
    let j = out.exit(2);
    assert_eq!(j.verdict, Verdict::Error, "the worst result");
    assert!(j.reasons.is_empty() && j.warnings.is_empty(), "{j:?}");
    assert_eq!(j.file, file.display().to_string());
    assert_eq!(j.shard, None);
    assert_eq!(
        j.summary,
        SummaryJson {
            total: 6,
            pass: 3,
            fail: 2,
            error: 1
        }
    );
    let kinds: Vec<&str> = j.results.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec!["bin", "bin", "image", "image", "image", "taskdef"]
    );
    let verdicts: Vec<Verdict> = j.results.iter().map(|r| r.verdict()).collect();
    let (p, f, e) = (Verdict::Pass, Verdict::Fail, Verdict::Error);
    assert_eq!(verdicts, vec![p, f, p, f, e, p]);

    let good = j.results[0].bin();
    assert_eq!(j.results[0].target, files.url("/good"));
    assert_eq!(good.url.as_deref(), Some(files.url("/good").as_str()));
    assert_eq!(
        good.sig_url.as_deref(),
        Some(files.url("/good.asc").as_str())
    );
    assert_eq!((&good.file, &good.sig_file), (&None, &None));
    assert_eq!(good.size, Some(DATA.len() as u64));
    assert!(good.signer.is_some() && good.signature.is_some());
    assert_eq!(good.installed, None, "an audit never installs");
    assert_eq!(j.results[1].codes(), vec!["unpinned-signer"]);
    assert!(j.results[1].bin().signer.is_none());

    let app = j.results[2].image();
    assert_eq!(j.results[2].target, format!("{}/team/app:v1", reg.host()));
    assert_eq!(app.digest.as_deref(), Some(index.digest.as_str()));
    assert_eq!(app.platform_names(), vec!["linux/amd64", "linux/arm64/v8"]);
    assert_eq!(j.results[3].image().missing, vec!["linux/arm64"]);
    assert_eq!(j.results[4].codes(), vec!["download-failed"]);
    let td = j.results[5].taskdef();
    assert_eq!(td.family.as_deref(), Some("webapp"));
    assert_eq!(td.containers.len(), 2);

    // --json is the same document as --format json.
    let again = args(&["--json"]).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(String::from_utf8(again.stdout).unwrap(), out.stdout);
}

#[test]
fn audit_contract_for_shards_and_errors() {
    let (reg, _) = registry();
    let files = FaultServer::start();
    let d = tempfile::tempdir().unwrap();
    let file = write_audit(d.path(), &reg, &files, "");

    // Three shards: each names itself, together they hold every target once.
    let mut total = 0;
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let mut c = cmd(&["audit", "--json", "--shard", &shard]);
        c.arg(&file);
        let out: Out<AuditJson> = run(c);
        let j = &out.json;
        assert_eq!(j.shard.as_deref(), Some(shard.as_str()));
        assert_eq!(j.summary.total, j.results.len());
        total += j.results.len();
    }
    assert_eq!(total, 5);

    // A shard that holds no target passes with an empty-shard warning.
    let one = d.path().join("one.toml");
    std::fs::write(
        &one,
        format!("[[image]]\nref = \"{}/solo:v1\"\n", reg.host()),
    )
    .unwrap();
    let mut empty = 0;
    for k in 1..=2 {
        let mut c = cmd(&["audit", "--json", "--shard", &format!("{k}/2")]);
        c.arg(&one);
        let out: Out<AuditJson> = run(c);
        let j = out.exit(0);
        if j.results.is_empty() {
            empty += 1;
            assert_eq!(j.warning_codes(), vec!["empty-shard"]);
            assert_eq!(j.summary.total, 0);
        } else {
            assert!(j.warnings.is_empty());
        }
    }
    assert_eq!(empty, 1, "one target: exactly one of two shards is empty");

    // An audit file with no target: an error of the audit itself, no results.
    let none = d.path().join("none.toml");
    std::fs::write(&none, "# nothing\n").unwrap();
    let mut c = cmd(&["audit", "--format", "json"]);
    c.arg(&none);
    let out: Out<AuditJson> = run(c);
    let j = out.exit(2);
    assert_eq!(j.codes(), vec!["invalid-input"]);
    assert!(j.results.is_empty());
    assert_eq!(
        j.summary,
        SummaryJson {
            total: 0,
            pass: 0,
            fail: 0,
            error: 0
        }
    );
}

// ---------------------------------------------------------------------------------------------------
// check-iam

#[test]
fn check_iam_contract() {
    // Pass: every action granted by a named statement on a resource.
    let out = iam(&DOCUMENTED_PUSH);
    let j = out.exit(0);
    assert_eq!(j.files, vec!["fixtures/iam/push-documented.json"]);
    assert_eq!(j.workflow, Workflow::Push);
    assert_eq!(j.repository.as_deref(), Some(REPO));
    assert_eq!(j.actions.len(), 7);
    for a in &j.actions {
        assert_eq!(a.status, ActionStatus::Granted, "{a:?}");
        assert!(a.statement.is_some() && a.resource.is_some() && !a.conditional);
        assert!(!a.why.is_empty());
    }
    assert_eq!(
        j.action("ecr:GetAuthorizationToken").resource.as_deref(),
        Some("*")
    );

    // Fail: buildx needs a read the push policy lacks (no deciding statement).
    let out = iam(&[
        "fixtures/iam/push-documented.json",
        "--for",
        "buildx-push",
        "--repository",
        REPO,
    ]);
    let j = out.exit(1);
    assert_eq!(j.workflow, Workflow::BuildxPush);
    assert_eq!(j.codes(), vec!["missing-permission"]);
    let a = j.action("ecr:GetDownloadUrlForLayer");
    assert_eq!(a.status, ActionStatus::Missing);
    assert_eq!((&a.statement, &a.resource), (&None, &None));

    // Denied and wrong-resource, any repository (null), two policies evaluated together.
    let secret = "arn:aws:ecr:eu-west-1:111122223333:repository/secret-keys";
    let out = iam(&[
        "fixtures/iam/deny-secret-repos.json",
        "--for",
        "pull",
        "--repository",
        secret,
    ]);
    let j = out.exit(1);
    assert!(j.codes().contains(&"denied-permission"), "{:?}", j.reasons);
    assert!(j.actions.iter().any(|a| a.status == ActionStatus::Denied));
    let out = iam(&["fixtures/iam/auth-token-scoped.json", "--for", "pull"]);
    let j = out.exit(1);
    assert_eq!(j.repository, None);
    assert_eq!(
        j.action("ecr:GetAuthorizationToken").status,
        ActionStatus::WrongResource
    );
    let out = iam(&[
        "fixtures/iam/role-policy-pull.json",
        "fixtures/iam/push-documented.json",
        "--for",
        "pull",
    ]);
    assert_eq!(
        out.exit(0).files,
        vec![
            "fixtures/iam/role-policy-pull.json",
            "fixtures/iam/push-documented.json"
        ]
    );

    // Conditional grants pass with a not-evaluated warning.
    let out = iam(&["fixtures/iam/conditional.json", "--for", "pull"]);
    let j = out.exit(0);
    assert!(j.action("ecr:BatchGetImage").conditional);
    assert!(!j.action("ecr:GetAuthorizationToken").conditional);
    assert!(
        j.warning_codes().contains(&"not-evaluated"),
        "{:?}",
        j.warnings
    );

    // Error: a malformed policy; nothing evaluated.
    let out = iam(&["fixtures/iam/bad-effect-case.json", "--for", "pull"]);
    let j = out.exit(2);
    assert_eq!(j.codes(), vec!["invalid-input"]);
    assert!(j.actions.is_empty());
    assert_eq!(j.workflow, Workflow::Pull);
}

// ---------------------------------------------------------------------------------------------------
// check-endpoints

#[test]
fn check_endpoints_contract() {
    // Pass with security groups: every field of an endpoint that was found.
    let out = endpoints(&[
        "fixtures/endpoints/all.json",
        "--security-groups",
        "fixtures/endpoints/sgs-443.json",
        "--with-ssm",
    ]);
    let j = out.exit(0);
    assert_eq!(j.region, "us-east-1");
    assert_eq!(j.vpcs.len(), 1);
    assert_eq!(j.vpcs[0].endpoints.len(), 5);
    let dkr = j.endpoint(VPC, "ecr.dkr");
    assert_eq!(dkr.service, "com.amazonaws.us-east-1.ecr.dkr");
    assert_eq!(dkr.required_type, EndpointType::Interface);
    assert_eq!(dkr.status, EndpointStatus::Ok);
    assert_eq!(dkr.endpoint_id.as_deref(), Some("vpce-00000000000000012"));
    assert_eq!(dkr.endpoint_type.as_deref(), Some("Interface"));
    assert_eq!(dkr.state.as_deref(), Some("available"));
    assert_eq!(dkr.private_dns, Some(true));
    assert_eq!(dkr.security_groups, vec!["sg-0123456789abcdef0"]);
    assert!(dkr.why.contains("443"), "{}", dkr.why);
    let s3 = j.endpoint(VPC, "s3");
    assert_eq!(s3.required_type, EndpointType::Gateway);
    assert_eq!(s3.endpoint_type.as_deref(), Some("Gateway"));
    assert!(s3.security_groups.is_empty());

    // Each failing status, with its reason code.
    for (file, extra, suffix, status, code) in [
        (
            "missing-dkr.json",
            None,
            "ecr.dkr",
            EndpointStatus::Missing,
            "missing-endpoint",
        ),
        (
            "pending.json",
            None,
            "ecr.api",
            EndpointStatus::NotAvailable,
            "endpoint-not-available",
        ),
        (
            "private-dns-off.json",
            None,
            "ecr.dkr",
            EndpointStatus::PrivateDnsDisabled,
            "private-dns-disabled",
        ),
        (
            "all.json",
            Some("fixtures/endpoints/sgs-no-443.json"),
            "logs",
            EndpointStatus::Port443Blocked,
            "port-443-blocked",
        ),
    ] {
        let path = format!("fixtures/endpoints/{file}");
        let mut args = vec![path.as_str()];
        if let Some(sgs) = extra {
            args.extend(["--security-groups", sgs]);
        }
        let out = endpoints(&args);
        let j = out.exit(1);
        assert_eq!(j.endpoint(VPC, suffix).status, status, "{file}");
        assert!(
            j.codes().iter().all(|c| *c == code),
            "{file}: {:?}",
            j.reasons
        );
    }
    // A missing endpoint has nothing but what was required.
    let j = endpoints(&["fixtures/endpoints/missing-dkr.json"]);
    let m = j.json.endpoint(VPC, "ecr.dkr");
    assert_eq!(
        (&m.endpoint_id, &m.endpoint_type, &m.state, &m.private_dns),
        (&None, &None, &None, &None)
    );
    assert!(m.security_groups.is_empty());

    // Unverified (its group is not in the file): a warning, still a pass.
    let out = endpoints(&[
        "fixtures/endpoints/unknown-sg.json",
        "--security-groups",
        "fixtures/endpoints/sgs-443.json",
    ]);
    let j = out.exit(0);
    assert_eq!(
        j.endpoint(VPC, "ecr.dkr").status,
        EndpointStatus::Unverified
    );
    assert_eq!(j.warning_codes(), vec!["unknown-security-group"]);

    // Two VPCs, and one of them selected.
    let j = endpoints(&["fixtures/endpoints/two-vpcs.json"]);
    let ids: Vec<Option<&str>> = j.exit(1).vpcs.iter().map(|v| v.vpc_id.as_deref()).collect();
    assert_eq!(ids, vec![Some(VPC), Some(VPC2)]);
    let j = endpoints(&["fixtures/endpoints/two-vpcs.json", "--vpc", VPC]);
    assert_eq!(j.exit(0).vpcs.len(), 1);

    // No endpoint at all: one VPC entry without an id.
    let j = endpoints(&["fixtures/endpoints/empty.json"]);
    let j = j.exit(1);
    assert_eq!(j.vpcs.len(), 1);
    assert_eq!(j.vpcs[0].vpc_id, None);

    // Error: an unreadable file.
    let j = endpoints(&["fixtures/endpoints/absent.json"]);
    let j = j.exit(2);
    assert_eq!(j.codes(), vec!["io-error"]);
    assert!(j.vpcs.is_empty());
    assert_eq!(j.region, "us-east-1");
}

// ---------------------------------------------------------------------------------------------------
// keys list

fn is_fingerprint(s: &str) -> bool {
    s.len() == 40
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
}

#[test]
fn keys_list_contract_for_the_built_in_catalog() {
    let out: Out<KeysJson> = run(cmd(&["keys", "list", "--json"]));
    let j = out.exit(0);
    assert!(j.reasons.is_empty());
    let names: Vec<&str> = j.tools.iter().map(|t| t.tool.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "aws-cli",
            "ecs-cli",
            "session-manager-plugin",
            "session-manager-plugin-deb"
        ]
    );
    let ecs = j.tool("ecs-cli");
    assert_eq!(ecs.description.as_deref(), Some("Amazon ECS CLI"));
    assert!(ecs.platforms.contains(&"windows/amd64".to_string()));
    let pin = &ecs.pins[0];
    assert_eq!(pin.fingerprint, "F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F");
    assert_eq!(pin.source, "amazon-ecs-cli.asc");
    assert!(!pin.user_ids.is_empty());
    assert!(pin.sha1_self_signatures_accepted);
    assert!(j
        .warnings
        .iter()
        .any(|w| w.code == "policy-relaxed" && w.message.starts_with("ecs-cli: ")));
    assert_eq!(pin.keys[0].role, KeyRole::Primary);
    assert_eq!(pin.keys[0].fingerprint, pin.fingerprint);
    // Only the pinned subkey may sign; the primary can, but is not pinned.
    let pinned: Vec<&str> = pin
        .keys
        .iter()
        .filter(|k| k.pinned)
        .map(|k| k.fingerprint.as_str())
        .collect();
    assert_eq!(pinned, vec!["EB3DF841E2C9212A2BD42232DE3CBD61ADAF8B8E"]);
    assert!(pin.keys[0].signing && !pin.keys[0].pinned);
    for t in &j.tools {
        for p in &t.pins {
            assert!(is_fingerprint(&p.fingerprint), "{}", p.fingerprint);
            assert_eq!(p.valid, p.problem.is_none(), "{p:?}");
            for k in &p.keys {
                assert!(is_fingerprint(&k.fingerprint));
                assert!(
                    !k.pinned || k.signing,
                    "only signing keys are pinned: {k:?}"
                );
            }
        }
    }
    let aws = &j.tool("aws-cli").pins[0];
    assert!(
        aws.expires.as_deref().is_some_and(|e| e.ends_with('Z')),
        "{aws:?}"
    );
}

/// `keys list --json --catalog <catalog>`.
fn keys_list_with_catalog(catalog: &Path) -> Out<KeysJson> {
    let mut c = cmd(&["keys", "list", "--json", "--catalog"]);
    c.arg(catalog);
    run(c)
}

#[test]
fn keys_list_contract_for_a_user_catalog() {
    let d = tempfile::tempdir().unwrap();
    let now = SystemTime::now();
    let valid = TestKey::fresh("valid");
    let soon = TestKey::new("soon", now - 300 * DAY, Some(310 * DAY));
    let expired = TestKey::new("expired", now - 400 * DAY, Some(100 * DAY));
    let file = write_catalog(
        d.path(),
        &[
            ("t-valid", &valid),
            ("t-soon", &soon),
            ("t-expired", &expired),
        ],
        &["linux/amd64"],
    );
    let out = keys_list_with_catalog(&file);
    let j = out.exit(0);
    // The built-in tools are still listed beside the catalog's.
    assert!(j.tools.iter().any(|t| t.tool == "ecs-cli"));

    let v = j.tool("t-valid");
    assert_eq!(v.description.as_deref(), Some("test tool t-valid"));
    assert_eq!(v.platforms, vec!["linux/amd64"]);
    let p = &v.pins[0];
    assert_eq!(p.fingerprint, valid.fingerprint().to_hex());
    assert!(p.source.ends_with("t-valid.asc"), "{}", p.source);
    assert_eq!(p.user_ids, vec!["valid <valid@shipcheck.test>"]);
    assert!(p.valid && p.problem.is_none() && p.expires.is_none());
    assert!(!p.sha1_self_signatures_accepted);
    let roles: Vec<KeyRole> = p.keys.iter().map(|k| k.role).collect();
    assert_eq!(
        roles,
        vec![KeyRole::Primary, KeyRole::Subkey, KeyRole::Subkey]
    );
    let pinned: Vec<&str> = p
        .keys
        .iter()
        .filter(|k| k.pinned)
        .map(|k| k.fingerprint.as_str())
        .collect();
    assert_eq!(pinned, vec![valid.subkey(1).to_hex()]);
    assert!(p.keys[1].signing && !p.keys[1].pinned && p.keys[1].valid);

    let s = &j.tool("t-soon").pins[0];
    assert!(s.valid);
    assert!(s.expires.is_some() && s.keys.iter().all(|k| k.expires.is_some()));
    let e = &j.tool("t-expired").pins[0];
    assert!(!e.valid);
    assert!(
        e.problem.as_deref().unwrap().starts_with("expired "),
        "{e:?}"
    );
    let warn = |code: &str, tool: &str| {
        j.warnings
            .iter()
            .any(|w| w.code == code && w.message.starts_with(&format!("{tool}: ")))
    };
    assert!(warn("key-expires-soon", "t-soon"), "{:?}", j.warnings);
    assert!(warn("certificate-invalid", "t-expired"), "{:?}", j.warnings);
    assert!(!warn("key-expires-soon", "t-valid") && !warn("certificate-invalid", "t-valid"));

    // Error: an invalid catalog; no tools listed.
    let bad = d.path().join("bad.toml");
    std::fs::write(&bad, "[tool.x]\n").unwrap();
    let out = keys_list_with_catalog(&bad);
    let j = out.exit(2);
    assert_eq!(j.codes(), vec!["invalid-catalog"]);
    assert!(j.tools.is_empty());
}
