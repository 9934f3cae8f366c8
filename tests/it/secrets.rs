//! Credentials never appear in output: every command, run with credentials set (Docker config,
//! --password-stdin, AWS environment variables), on success and failure paths, in JSON and text.

use crate::common;

use base64::Engine as _;
use common::registry::Registry;
use common::shipcheck;
use std::path::Path;

const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9SECRET";
const AWS_SESSION: &str = "IQoJb3JpZ2luX2VjEXAMPLEsessionSECRET";
const WRONG: &str = "totally-wrong-password-SECRET-42";

struct Setup {
    reg: Registry,
    dir: tempfile::TempDir,
    secrets: Vec<String>,
}

fn setup() -> Setup {
    let reg = Registry::tls_auth();
    reg.push_multi("team/app", "v1", true);
    let pw = reg.password.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{pw}"));
    let docker = dir.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"auths": {{"{}": {{"auth": "{b64}"}}}}}}"#, reg.host()),
    )
    .unwrap();
    let wrong_b64 = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{WRONG}"));
    let secrets = vec![
        pw,
        b64,
        WRONG.to_string(),
        wrong_b64,
        AWS_SECRET.to_string(),
        AWS_SESSION.to_string(),
    ];
    Setup { reg, dir, secrets }
}

impl Setup {
    fn cmd(&self, docker_config: bool) -> assert_cmd::Command {
        let mut c = shipcheck();
        c.env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID")
            .env("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
            .env("AWS_SESSION_TOKEN", AWS_SESSION)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("HOME", self.dir.path());
        if docker_config {
            c.env("DOCKER_CONFIG", self.dir.path().join("docker"));
        }
        c
    }

    fn check(&self, what: &str, mut c: assert_cmd::Command, expect: i32) {
        let out = c.output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(expect), "{what}: {all}");
        for s in &self.secrets {
            assert!(
                !all.contains(s.as_str()),
                "{what}: a secret appears in the output"
            );
        }
    }

    fn ca(&self) -> &Path {
        self.reg.ca.as_ref().unwrap()
    }
}

/// A file of this crate, by its path from the crate's root.
fn crate_file(rel: &str) -> String {
    format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn no_command_prints_a_credential() {
    let s = setup();
    let image = format!("{}/team/app:v1", s.reg.host());
    let pw = s.reg.password.clone().unwrap();
    let ca = s.ca().to_str().unwrap();
    let td = s.dir.path().join("td.json");
    let td = td.to_str().unwrap();
    let audit = s.dir.path().join("a.toml");
    let audit = audit.to_str().unwrap();
    let key = crate_file("keys/aws-cli-v2.asc");
    let iam_policy = crate_file("fixtures/iam/push-documented.json");
    let endpoints = crate_file("fixtures/endpoints/all.json");
    for json in [true, false] {
        let j: &[&str] = if json { &["--json"] } else { &[] };
        // `args` then `j`, with the Docker config or not, `stdin` written to the command: exits
        // with `expect`, and no secret is in the output.
        let run = |what: &str, docker_config: bool, args: &[&str], stdin: Option<&str>, expect| {
            let mut c = s.cmd(docker_config);
            c.args(args).args(j);
            if let Some(stdin) = stdin {
                c.write_stdin(stdin);
            }
            s.check(what, c, expect);
        };
        // verify-image: Docker config (pass), --password-stdin (pass), wrong password (exit 2),
        // missing platform (exit 1).
        let with_password = ["--username", "AWS", "--password-stdin", "--ca-cert", ca];
        let right = format!("{pw}\n");
        run(
            "verify-image docker config",
            true,
            &[
                "verify-image",
                &image,
                "--platforms",
                "amd64,arm64",
                "--ca-cert",
                ca,
            ],
            None,
            0,
        );
        run(
            "verify-image password-stdin",
            false,
            &[&["verify-image", &image][..], &with_password].concat(),
            Some(&right),
            0,
        );
        run(
            "verify-image wrong password",
            false,
            &[&["verify-image", &image][..], &with_password].concat(),
            Some(WRONG),
            2,
        );
        run(
            "verify-image missing platform",
            true,
            &[
                "verify-image",
                &image,
                "--platforms",
                "arm/v7",
                "--ca-cert",
                ca,
            ],
            None,
            1,
        );

        // verify-taskdef and audit with the Docker config.
        std::fs::write(
            td,
            format!(
                r#"{{"family":"f","containerDefinitions":[{{"name":"a","image":"{image}"}}]}}"#
            ),
        )
        .unwrap();
        run(
            "verify-taskdef",
            true,
            &["verify-taskdef", "--ca-cert", ca, td],
            None,
            0,
        );
        run(
            "verify-taskdef wrong password",
            false,
            &[&["verify-taskdef"][..], &with_password, &[td]].concat(),
            Some(WRONG),
            2,
        );
        std::fs::write(audit, format!("[[image]]\nref = \"{image}\"\n\n[[image]]\nref = \"{image}\"\nplatforms = [\"s390x\"]\n")).unwrap();
        run("audit", true, &["audit", "--ca-cert", ca, audit], None, 1);
        for format in ["junit", "github"] {
            let mut c = s.cmd(true);
            c.args(["audit", "--format", format, "--ca-cert", ca, audit]);
            s.check(format, c, 1);
        }

        // The other commands with the same environment.
        run(
            "verify-bin",
            true,
            &[
                "verify-bin",
                "--url",
                "http://127.0.0.1:1/x",
                "--no-install",
                "--retries",
                "0",
                "--key",
                &key,
            ],
            None,
            2,
        );
        run(
            "check-iam",
            true,
            &["check-iam", "--for", "pull", &iam_policy],
            None,
            1,
        );
        run(
            "check-endpoints",
            true,
            &["check-endpoints", "--region", "us-east-1", &endpoints],
            None,
            0,
        );
        run("keys list", true, &["keys", "list"], None, 0);
    }
}

/// A user name and password written into an image reference as into a URL
/// (`user:password@host/app:v1`) make it invalid, and are never echoed: not in the
/// `invalid-reference` message, the audit target or a task definition's container line, in any
/// format (adversarial pass 31 found the reference printed as written).
#[test]
fn credentials_written_into_an_image_reference_are_not_printed() {
    let dir = tempfile::tempdir().unwrap();
    let refs = [
        "alice:S3CRET-1@registry.example.com/app:v1",
        "alice:p@ss-S3CRET-2@registry.example.com/app",
        "ghp_S3CRET-3@ghcr.io/org/app:v1",
        // Adversarial pass 39: a token before a registry with no path was printed as written.
        "ghp_S3CRET-4@ghcr.io",
        "S3CRET-5@localhost:5000",
    ];
    let audit = dir.path().join("a.toml");
    let td = dir.path().join("td.json");
    std::fs::write(
        &audit,
        refs.iter()
            .map(|r| format!("[[image]]\nref = \"{r}\"\nplatforms = [\"amd64\"]\n"))
            .collect::<String>(),
    )
    .unwrap();
    let containers: Vec<String> = refs
        .iter()
        .enumerate()
        .map(|(i, r)| format!(r#"{{"name":"c{i}","image":"{r}"}}"#))
        .collect();
    std::fs::write(
        &td,
        format!(
            r#"{{"family":"f","containerDefinitions":[{}]}}"#,
            containers.join(",")
        ),
    )
    .unwrap();
    let (audit, td) = (audit.to_str().unwrap(), td.to_str().unwrap());
    let mut runs: Vec<Vec<&str>> = Vec::new();
    for r in refs {
        runs.push(vec!["verify-image", r, "--platforms", "amd64"]);
        runs.push(vec!["--json", "verify-image", r, "--platforms", "amd64"]);
    }
    runs.push(vec!["verify-taskdef", td]);
    runs.push(vec!["--json", "verify-taskdef", td]);
    for format in ["text", "json", "github", "junit"] {
        runs.push(vec!["audit", "--format", format, audit]);
    }
    for args in runs {
        let out = shipcheck().args(&args).output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
        assert!(
            all.contains("invalid-reference") || all.contains("is not an image reference"),
            "{args:?}: {all}"
        );
        assert!(
            !all.contains("S3CRET") && !all.contains("alice") && !all.contains("p@ss"),
            "{args:?}: {all}"
        );
        assert!(
            [
                "***@registry.example.com/app",
                "***@ghcr.io",
                "***@localhost:5000"
            ]
            .iter()
            .any(|s| all.contains(s)),
            "{args:?}: {all}"
        );
    }
    // `verify-taskdef --registry` with credentials written into the host (pass 39: echoed).
    let out = shipcheck()
        .args(["verify-taskdef", td, "--username", "u", "--password-stdin"])
        .args(["--registry", "alice:S3CRET-6@127.0.0.1:5000"])
        .write_stdin("pw\n")
        .output()
        .unwrap();
    let all = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("`***@127.0.0.1:5000` is not a registry host"),
        "{all}"
    );
    assert!(!all.contains("S3CRET") && !all.contains("alice"), "{all}");
}
