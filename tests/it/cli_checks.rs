//! check-iam and check-endpoints as users run them: exit codes, JSON on stdout, explanations on stderr.

use crate::common;

use common::{codes, shipcheck};
use serde_json::Value;

fn fixture(p: &str) -> String {
    format!("{}/fixtures/{p}", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (i32, Value, String) {
    let out = shipcheck().args(args).arg("--json").output().unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (
        out.status.code().unwrap(),
        v,
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn documented_push_policy_pushes_but_cannot_buildx_push() {
    let p = fixture("iam/push-documented.json");
    let (code, v, _) = run(&["check-iam", &p, "--for", "push"]);
    assert_eq!(code, 0, "{v:#}");
    let (code, v, _) = run(&["check-iam", &p, "--for", "buildx-push"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(codes(&v), vec!["missing-permission"]);
    assert!(v["reasons"][0]["message"]
        .as_str()
        .unwrap()
        .contains("GetDownloadUrlForLayer"));
    // Text mode: verdict on stdout, explanation on stderr.
    let out = shipcheck()
        .args(["check-iam", &p, "--for", "buildx-push"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GetDownloadUrlForLayer"));
}

#[test]
fn iam_bad_input_exits_2() {
    let (code, v, _) = run(&[
        "check-iam",
        &fixture("iam/bad-malformed.json"),
        "--for",
        "pull",
    ]);
    assert_eq!(code, 2, "{v:#}");
    assert_eq!(codes(&v), vec!["invalid-input"]);
    let (code, _, _) = run(&["check-iam", &fixture("iam"), "--for", "pull"]);
    assert_eq!(code, 2);
    // An invalid --for value is a usage error (clap), still one JSON object with --json.
    let (code, v, _) = run(&[
        "check-iam",
        &fixture("iam/push-documented.json"),
        "--for",
        "teleport",
    ]);
    assert_eq!(code, 2);
    assert_eq!(codes(&v), vec!["usage"]);
}

/// `check-endpoints --region us-east-1 fixtures/endpoints/<file>` plus `extra`.
fn endpoints(file: &str, extra: &[&str]) -> (i32, Value, String) {
    let file = fixture(&format!("endpoints/{file}"));
    let mut args = vec!["check-endpoints", "--region", "us-east-1", &file];
    args.extend(extra);
    run(&args)
}

#[test]
fn endpoints_all_present_and_one_missing() {
    let (code, v, _) = endpoints(
        "all.json",
        &["--security-groups", &fixture("endpoints/sgs-443.json")],
    );
    assert_eq!(code, 0, "{v:#}");
    let (code, v, _) = endpoints("missing-dkr.json", &[]);
    assert_eq!(code, 1, "{v:#}");
    assert!(codes(&v).contains(&"missing-endpoint".to_string()));
    assert!(v["reasons"].to_string().contains("ecr.dkr"));
    let (code, v, _) = endpoints(
        "all.json",
        &["--security-groups", &fixture("endpoints/sgs-no-443.json")],
    );
    assert_eq!(code, 1, "{v:#}");
    assert!(codes(&v).contains(&"port-443-blocked".to_string()));
}
