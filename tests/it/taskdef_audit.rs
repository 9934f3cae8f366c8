//! verify-taskdef and audit against a real registry (Debian's docker-registry), through the binary.

use crate::common;

use common::registry::{Flavour, Registry};
use common::{codes_at, shipcheck};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A registry with `team/app:v1` (amd64 + arm64 with attestations) and `solo:v1` (amd64 only).
fn registry() -> Registry {
    let reg = Registry::plain();
    reg.push_multi("team/app", "v1", true);
    reg.push_image("solo", "linux/amd64", Flavour::Oci, Some("v1"));
    reg
}

/// A fixture task definition with REGISTRY replaced by the test registry's host.
fn taskdef(dir: &Path, fixture: &str, reg: &Registry) -> PathBuf {
    let text = std::fs::read_to_string(format!(
        "{}/fixtures/taskdef/{fixture}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let path = dir.join(fixture);
    std::fs::write(&path, text.replace("REGISTRY", &reg.host())).unwrap();
    path
}

fn run(args: &[&str], paths: &[&Path]) -> (i32, Value) {
    let out = shipcheck().args(args).args(paths).output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), v)
}

#[test]
fn arm64_task_catches_an_amd64_only_image() {
    let reg = registry();
    let d = tempfile::tempdir().unwrap();
    let td = taskdef(d.path(), "fargate-arm64.json", &reg);
    let (code, v) = run(&["verify-taskdef", "--json"], &[&td]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["platform"], "linux/arm64");
    assert_eq!(v["family"], "webapp-arm64");
    let cs = v["containers"].as_array().unwrap();
    assert_eq!(cs[0]["name"], "web");
    assert_eq!(cs[0]["verdict"], "pass");
    assert_eq!(cs[1]["name"], "sidecar");
    assert_eq!(cs[1]["verdict"], "fail");
    assert_eq!(codes_at(&v, "reasons"), vec!["missing-platform"]);
    assert!(v["reasons"][0]["message"]
        .as_str()
        .unwrap()
        .contains("container `sidecar`"));
    assert_eq!(
        codes_at(&v, "warnings")
            .iter()
            .filter(|c| *c == "mutable-tag")
            .count(),
        2
    );
    // The nested check is the verify-image result for that container.
    assert_eq!(cs[1]["check"]["missing"][0], "linux/arm64");
}

#[test]
fn x86_task_passes_and_pins_by_digest() {
    let reg = registry();
    let d = tempfile::tempdir().unwrap();
    let td = taskdef(d.path(), "describe-x86.json", &reg);
    let pinned = d.path().join("pinned.json");
    let (code, v) = run(
        &["verify-taskdef", "--json", "--pin", "--output"],
        &[&pinned, &td],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["platform"], "linux/amd64");
    assert_eq!(v["pinned_output"], pinned.display().to_string());
    let out: Value = serde_json::from_slice(&std::fs::read(&pinned).unwrap()).unwrap();
    // Unwrapped and without describe-only fields, so register-task-definition accepts it.
    assert!(
        out.get("taskDefinition").is_none()
            && out.get("revision").is_none()
            && out.get("taskDefinitionArn").is_none()
    );
    assert_eq!(out["family"], "webapp");
    for (i, c) in v["containers"].as_array().unwrap().iter().enumerate() {
        let digest = c["digest"].as_str().unwrap();
        assert!(digest.starts_with("sha256:"));
        assert_eq!(c["check"]["digest"], digest);
        let img = out["containerDefinitions"][i]["image"].as_str().unwrap();
        assert!(
            img.ends_with(&format!("@{digest}")) && !img.contains(":v1"),
            "{img}"
        );
    }
    // The pinned copy verifies, without mutable-tag warnings.
    let (code, v) = run(&["verify-taskdef", "--json"], &[&pinned]);
    assert_eq!(code, 0, "{v:#}");
    assert!(!codes_at(&v, "warnings").contains(&"mutable-tag".to_string()));
    // Written like every file shipcheck places: readable (0644), never through a symlink.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&pinned).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        let target = d.path().join("elsewhere.json");
        std::fs::write(&target, "untouched").unwrap();
        let link = d.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let (code, v) = run(
            &["verify-taskdef", "--json", "--pin", "--output"],
            &[&link, &td],
        );
        assert_eq!(code, 2, "{v:#}");
        assert!(codes_at(&v, "reasons").contains(&"unsafe-destination".to_string()));
        // The hint names this command's option (it said --dest, verify-bin's).
        let out = shipcheck()
            .args(["verify-taskdef", "--pin", "--output"])
            .args([&link, &td])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains("--output") && !text.contains("--dest"),
            "{text}"
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched");
    }
}

#[test]
fn failing_task_writes_no_pinned_copy() {
    let reg = registry();
    let d = tempfile::tempdir().unwrap();
    let td = taskdef(d.path(), "fargate-arm64.json", &reg);
    let pinned = d.path().join("pinned.json");
    let (code, v) = run(
        &["verify-taskdef", "--json", "--pin", "--output"],
        &[&pinned, &td],
    );
    assert_eq!(code, 1);
    assert!(v["pinned_output"].is_null());
    assert!(codes_at(&v, "warnings").contains(&"not-pinned".to_string()));
    assert!(!pinned.exists());
}

#[test]
fn bad_task_definitions_exit_2_naming_the_place() {
    let d = tempfile::tempdir().unwrap();
    let long_image = format!(
        "{{\"containerDefinitions\": [{{\"name\": \"a\", \"image\": \"r.example/{}:{}\"}}]}}",
        "n".repeat(245),
        "t".repeat(29)
    );
    let cases: &[(&str, &str)] = &[
        ("{\"family\": \"x\"}", "$.containerDefinitions"),
        ("{\"containerDefinitions\": [{\"name\": \"a\"}]}", "$.containerDefinitions[0].image"),
        ("{\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\"}], \"runtimePlatform\": {\"cpuArchitecture\": \"SPARC\"}}", "cpuArchitecture"),
        // ECS refuses these; read loosely they would silently mean X86_64.
        ("{\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\"}], \"runtimePlatform\": \"ARM64\"}", "$.runtimePlatform"),
        ("{\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\"}], \"runtimePlatform\": [\"ARM64\"]}", "$.runtimePlatform"),
        ("{\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\"}], \"runtimePlatform\": {\"CpuArchitecture\": \"ARM64\"}}", "CpuArchitecture"),
        ("{\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\"}], \"requiresCompatibilities\": \"FARGATE\"}", "requiresCompatibilities"),
        // Another spelling of a key shipcheck reads: Go's JSON decoder (ecspresso, Terraform's
        // provider) takes it as that key, so the task registered is not the one checked
        // (adversarial pass 27: an ARM64 task checked as X86_64 passed).
        ("{\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\"}], \"RuntimePlatform\": {\"cpuArchitecture\": \"ARM64\"}}", "`RuntimePlatform` is another spelling of `runtimePlatform`"),
        ("{\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\", \"Image\": \"y\"}]}", "$.containerDefinitions[0]: key `Image`"),
        ("{\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\"}], \"ContainerDefinitions\": [{\"name\": \"b\", \"image\": \"y\"}]}", "`ContainerDefinitions`"),
        ("{\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\"}], \"TaskDefinition\": {\"containerDefinitions\": [{\"name\": \"b\", \"image\": \"y\"}]}}", "`TaskDefinition`"),
        ("{\"taskDefinition\": {\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\"}], \"requiresCompatibilitie\u{17f}\": [\"EC2\"]}}", "$.taskDefinition: key"),
        // Longer than ECS registers (a reference Docker's grammar takes).
        (&long_image, "more than the 255 ECS registers"),
        // What tools that register the file disagree on (adversarial pass 29): a byte order mark,
        // and a key given twice (Go merges two `runtimePlatform` objects into ARM64).
        ("\u{feff}{\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\"}]}", "byte order mark"),
        ("{\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\"}], \"runtimePlatform\": {\"cpuArchitecture\": \"ARM64\"}, \"runtimePlatform\": {\"operatingSystemFamily\": \"LINUX\"}}", "duplicate key `runtimePlatform`"),
        ("{\"containerDefinitions\": [\"x\", {\"name\": \"a\", \"image\": \"x\"}]}", "$.containerDefinitions[0]: expected a container definition"),
        ("{\"containerDefinitions\": [", "line 1"),
        ("", "empty"),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        let p = d.path().join(format!("td{i}.json"));
        std::fs::write(&p, text).unwrap();
        let (code, v) = run(&["verify-taskdef", "--json"], &[&p]);
        assert_eq!(code, 2, "{v:#}");
        assert_eq!(codes_at(&v, "reasons"), vec!["invalid-input"], "{v:#}");
        let msg = v["reasons"][0]["message"].as_str().unwrap();
        assert!(
            msg.contains(needle) && msg.contains(&p.display().to_string()),
            "{needle}: {msg}"
        );
    }
    let (code, v) = run(&["verify-taskdef", "--json"], &[d.path()]);
    assert_eq!(code, 2);
    assert_eq!(codes_at(&v, "reasons"), vec!["invalid-input"]);
}

/// Without runtimePlatform.cpuArchitecture, a task that may run on EC2 (or external) capacity runs
/// whatever the instance's architecture is: the amd64 check passes, with a warning saying so. A
/// Fargate-only task runs X86_64: no warning.
#[test]
fn an_ec2_task_without_an_architecture_is_checked_for_amd64_with_a_warning() {
    let reg = registry();
    let d = tempfile::tempdir().unwrap();
    let image = format!("{}/solo:v1", reg.host());
    for (compat, warned) in [
        (None, true),
        (Some(r#"["EC2"]"#), true),
        (Some(r#"["EC2", "FARGATE"]"#), true),
        (Some(r#"["FARGATE"]"#), false),
    ] {
        let mut td = serde_json::json!({
            "family": "web",
            "containerDefinitions": [{"name": "web", "image": image}],
        });
        if let Some(c) = compat {
            td["requiresCompatibilities"] = serde_json::from_str(c).unwrap();
        }
        let p = d.path().join("td.json");
        std::fs::write(&p, td.to_string()).unwrap();
        let (code, v) = run(&["verify-taskdef", "--json"], &[&p]);
        assert_eq!(code, 0, "{compat:?}: {v:#}");
        let warnings = codes_at(&v, "warnings");
        assert_eq!(
            warnings.contains(&"not-evaluated".to_string()),
            warned,
            "{compat:?}: {v:#}"
        );
    }
}

fn write_audit(dir: &Path, reg: &Registry, extra: &str) -> PathBuf {
    let td = taskdef(dir, "describe-x86.json", reg);
    let h = reg.host();
    let text = format!(
        r#"
[[image]]
ref = "{h}/team/app:v1"
platforms = ["linux/amd64", "linux/arm64"]

[[image]]
ref = "{h}/solo:v1"
platforms = ["amd64", "arm64"]

[[image]]
ref = "{h}/solo:v1"
platforms = ["amd64"]

[[taskdef]]
path = "{}"
{extra}"#,
        td.file_name().unwrap().to_string_lossy()
    );
    let p = dir.join("audit.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn audit_reports_every_target_and_the_worst_exit_code() {
    let reg = registry();
    let d = tempfile::tempdir().unwrap();
    let file = write_audit(d.path(), &reg, "");
    let (code, v) = run(&["audit", "--format", "json"], &[&file]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["summary"]["total"], 4);
    assert_eq!(v["summary"]["pass"], 3);
    assert_eq!(v["summary"]["fail"], 1);
    assert_eq!(v["summary"]["error"], 0);
    let results = v["results"].as_array().unwrap();
    let kinds: Vec<&str> = results
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["image", "image", "image", "taskdef"],
        "file order is kept"
    );
    // Each result carries the single command's fields.
    assert_eq!(results[1]["verdict"], "fail");
    assert_eq!(results[1]["missing"][0], "linux/arm64");
    assert!(results[0]["platforms"].as_array().unwrap().len() == 2);
    assert_eq!(results[3]["containers"].as_array().unwrap().len(), 2);

    // An unreachable registry is an error for that target only; the exit code is the worst (2).
    let file = write_audit(
        d.path(),
        &reg,
        "\n[[image]]\nref = \"127.0.0.1:1/nothing:v1\"\n",
    );
    let (code, v) = run(&["audit", "--json", "--retries", "0"], &[&file]);
    assert_eq!(code, 2, "{v:#}");
    assert_eq!(v["summary"]["error"], 1);
    assert_eq!(v["summary"]["pass"], 3);
    assert_eq!(v["summary"]["fail"], 1);
    // The file's order across kinds too: the [[image]] written after the [[taskdef]] comes after
    // it (results were grouped by kind; adversarial pass 27).
    let kinds: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["image", "image", "image", "taskdef", "image"]);
    assert_eq!(v["results"][4]["verdict"], "error");
}

#[test]
fn audit_junit_and_github_formats() {
    let reg = registry();
    let d = tempfile::tempdir().unwrap();
    let file = write_audit(d.path(), &reg, "");
    let out = shipcheck()
        .args(["audit", "--format", "junit"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 4);
    assert!(
        xml.contains("tests=\"4\" failures=\"1\" errors=\"0\""),
        "{xml}"
    );
    assert!(xml.contains("<failure type=\"missing-platform\""), "{xml}");
    let out = shipcheck()
        .args(["audit", "--format", "github"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let gh = String::from_utf8(out.stdout).unwrap();
    let errors: Vec<&str> = gh.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 1, "{gh}");
    assert!(
        errors[0].starts_with("::error title=shipcheck image 127.0.0.1%3A")
            && errors[0].contains("(missing-platform)"),
        "{gh}"
    );
    assert!(
        gh.lines()
            .any(|l| l.starts_with("::warning ") && l.contains("mutable-tag")),
        "{gh}"
    );
}

#[test]
fn audit_shards_split_the_targets_stably() {
    let reg = registry();
    let d = tempfile::tempdir().unwrap();
    let file = write_audit(d.path(), &reg, "");
    let mut all: Vec<String> = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let (_, v) = run(&["audit", "--json", "--shard", &shard], &[&file]);
        assert_eq!(v["shard"], shard);
        for r in v["results"].as_array().unwrap() {
            all.push(format!("{}|{}|{}", r["kind"], r["target"], r["verdict"]));
        }
    }
    // Identical targets (the two solo:v1 lines differ in platforms but share identity) land together.
    let (_, whole) = run(&["audit", "--json"], &[&file]);
    let mut expected: Vec<String> = whole["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}|{}|{}", r["kind"], r["target"], r["verdict"]))
        .collect();
    all.sort();
    expected.sort();
    assert_eq!(
        all, expected,
        "the shards together are the whole audit, each target once"
    );
}

#[test]
fn audit_file_errors() {
    let d = tempfile::tempdir().unwrap();
    for (text, needle) in [
        ("", "is empty"),
        ("# only a comment\n", "no targets"),
        ("[[image]]\nreff = \"x\"\n", "unknown field"),
        ("[[image]]\nref = 3\n", "ref"),
        ("[[image]\n", "line 1"),
        // An empty list never switches the platform check off (leaving the key out checks every
        // platform the index lists).
        (
            "[[image]]\nref = \"127.0.0.1:1/a:v1\"\nplatforms = []\n",
            "`platforms = []` names no platform",
        ),
        (
            "[[ecr]]\nrepositories = \"app\"\nplatforms = []\n",
            "`platforms = []` names no platform",
        ),
    ] {
        let p = d.path().join("a.toml");
        std::fs::write(&p, text).unwrap();
        let (code, v) = run(&["audit", "--json"], &[&p]);
        assert_eq!(code, 2, "{text}: {v:#}");
        let msg = v["reasons"][0]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{needle}: {msg}");
    }
    let example = PathBuf::from(format!(
        "{}/fixtures/audit/example.toml",
        env!("CARGO_MANIFEST_DIR")
    ));
    let text = std::fs::read_to_string(example).unwrap();
    let parsed: Result<shipcheck::commands::audit::AuditFile, _> = toml::from_str(&text);
    assert!(parsed.is_ok(), "the shipped example parses: {parsed:?}");
}

/// Several tags of one release fetch each platform manifest and config once per repository; the
/// reuse never crosses repositories, so an index whose arm64 manifest is gone from one repository
/// fails there even though the same digest verified in another.
#[test]
fn audit_reuses_verified_content_within_a_repository_only() {
    let reg = Registry::plain();
    let (index, images) = reg.push_multi("team/app", "v1", false);
    for tag in ["v2", "v3"] {
        reg.put_manifest("team/app", tag, &index.media_type, &index.body);
    }
    for m in &images {
        reg.copy_image("team/app", "team/copy", m);
    }
    reg.put_manifest("team/copy", "v1", &index.media_type, &index.body);

    let d = tempfile::tempdir().unwrap();
    let h = reg.host();
    let mut text = String::new();
    for r in ["team/app:v1", "team/app:v2", "team/app:v3", "team/copy:v1"] {
        text.push_str(&format!(
            "[[image]]\nref = \"{h}/{r}\"\nplatforms = [\"amd64\", \"arm64\"]\n\n"
        ));
    }
    let file = d.path().join("audit.toml");
    std::fs::write(&file, text).unwrap();
    let audit = || {
        let out = shipcheck()
            .env("SHIPCHECK_TRACE_REQUESTS", "1")
            .args(["audit", "--json"])
            .arg(&file)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            out.status.code().unwrap(),
            v,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };

    let (code, v, err) = audit();
    assert_eq!(code, 0, "{v:#}\n{err}");
    // team/app: 2 manifests + 2 configs fetched once, reused by the 2 other tags (8); team/copy
    // shares the digests but fetches its own.
    assert!(
        err.contains("shipcheck: 8 manifests and configs reused"),
        "{err}"
    );
    for r in v["results"].as_array().unwrap() {
        assert_eq!(r["digest"], index.digest.as_str(), "{r:#}");
        assert_eq!(r["platforms"].as_array().unwrap().len(), 2, "{r:#}");
    }

    reg.delete_manifest("team/copy", &images[1].digest);
    let (code, v, err) = audit();
    assert_eq!(code, 1, "{v:#}\n{err}");
    let results = v["results"].as_array().unwrap();
    for r in &results[..3] {
        assert_eq!(r["verdict"], "pass", "{r:#}");
    }
    assert_eq!(results[3]["verdict"], "fail");
    assert_eq!(codes_at(&results[3], "reasons"), vec!["missing-content"]);
}
