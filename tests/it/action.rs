//! The GitHub Action's argument handling (action.yml runs scripts/action-run) and audit lists that
//! name nothing: both could narrow or drop a check without a word (adversarial pass 23).

use crate::common::shipcheck;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs scripts/action-run with `args` and a stand-in binary that prints each argument on a line.
fn split(args: &str, dir: &Path) -> (i32, Vec<String>, String) {
    let echo = dir.join("echo-args");
    std::fs::write(
        &echo,
        "#!/bin/sh\nfor a in \"$@\"; do printf '<%s>\\n' \"$a\"; done\n",
    )
    .unwrap();
    std::fs::set_permissions(&echo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = Command::new(root().join("scripts/action-run"))
        .arg(&echo)
        .env("SHIPCHECK_ARGS", args)
        .current_dir(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (
        out.status.code().unwrap_or(-1),
        stdout.lines().map(String::from).collect(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_action_keeps_every_line_of_args_and_expands_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("match-me"), "").unwrap();
    // A YAML block (`args: |`): the second line narrows the check and must not be dropped (it was:
    // `read -a` stops at the first newline, so a key file's other certificate passed).
    let (code, args, _) = split(
        "verify-bin --file tool --sig tool.asc --key keys.asc\n  --fingerprint\tABCD  \n",
        dir.path(),
    );
    assert_eq!(code, 0);
    assert_eq!(
        args,
        [
            "verify-bin",
            "--file",
            "tool",
            "--sig",
            "tool.asc",
            "--key",
            "keys.asc",
            "--fingerprint",
            "ABCD"
        ]
        .map(|a| format!("<{a}>"))
    );
    // Globs, substitutions and quotes are data.
    let (_, args, _) = split("match-* $(id) `id` \"a b\" ${HOME}", dir.path());
    assert_eq!(
        args,
        [
            "<match-*>",
            "<$(id)>",
            "<`id`>",
            "<\"a>",
            "<b\">",
            "<${HOME}>"
        ]
    );
    // Nothing to run is an error, not a run of `shipcheck` without arguments.
    let (code, args, err) = split(" \n\t", dir.path());
    assert_eq!((code, args.len()), (2, 0));
    assert!(err.contains("`args` is empty"), "{err}");
    // action.yml runs exactly this script with the binary it built, and the value comes in through
    // the environment.
    let yml = std::fs::read_to_string(root().join("action.yml")).unwrap();
    assert!(
        yml.contains(r#"run: '"$GITHUB_ACTION_PATH/scripts/action-run" "$SHIPCHECK_BIN"'"#),
        "{yml}"
    );
    assert!(yml.contains("SHIPCHECK_ARGS: ${{ inputs.args }}"), "{yml}");
    assert!(!yml.contains("read -r -a"), "{yml}");
    // And with the real binary.
    let bin = assert_cmd::cargo::cargo_bin("shipcheck");
    let out = Command::new(root().join("scripts/action-run"))
        .arg(&bin)
        .env("SHIPCHECK_ARGS", "keys\nlist\n--json")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["tools"].is_array(), "{v}");
}

#[test]
fn an_audit_list_that_names_nothing_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // Read as "no narrowing", this trusted every certificate in the key file.
        (
            "bin",
            "url = \"https://example.com/tool\"\nkey = \"keys.asc\"\nfingerprint = []",
            "bin[0].fingerprint",
        ),
        (
            "bin",
            "url = \"https://example.com/tool\"\nkey = []",
            "bin[0].key",
        ),
        ("ecr", "repositories = [\"app\"]\ntags = []", "ecr[0].tags"),
        ("ecr", "repositories = []", "ecr[0].repositories"),
        (
            "ecs",
            "cluster = \"prod\"\nservices = []",
            "ecs[0].services",
        ),
        ("iam", "policies = []\nfor = \"pull\"", "iam[0].policies"),
    ];
    for (table, body, at) in cases {
        let f = dir.path().join("audit.toml");
        std::fs::write(&f, format!("[[{table}]]\n{body}\n")).unwrap();
        let out = shipcheck()
            .args(["audit", f.to_str().unwrap(), "--json"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{body}: {stdout}");
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let msg = v["reasons"][0]["message"].as_str().unwrap_or_default();
        assert_eq!(v["reasons"][0]["code"], "invalid-input", "{stdout}");
        assert!(
            msg.contains(at) && msg.contains("`[]` names nothing"),
            "{body}: {msg}"
        );
    }
}
