//! Credentials never appear in output: every command, run with credentials set (Docker config,
//! --password-stdin, AWS environment variables), on success and failure paths, in JSON and text.

mod common;

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

#[test]
fn no_command_prints_a_credential() {
    let s = setup();
    let image = format!("{}/team/app:v1", s.reg.host());
    let pw = s.reg.password.clone().unwrap();
    for json in [true, false] {
        let j: &[&str] = if json { &["--json"] } else { &[] };
        // verify-image: Docker config (pass), --password-stdin (pass), wrong password (exit 2),
        // missing platform (exit 1).
        let mut c = s.cmd(true);
        c.args([
            "verify-image",
            &image,
            "--platforms",
            "amd64,arm64",
            "--ca-cert",
        ])
        .arg(s.ca())
        .args(j);
        s.check("verify-image docker config", c, 0);
        let mut c = s.cmd(false);
        c.args([
            "verify-image",
            &image,
            "--username",
            "AWS",
            "--password-stdin",
            "--ca-cert",
        ])
        .arg(s.ca())
        .args(j)
        .write_stdin(format!("{pw}\n"));
        s.check("verify-image password-stdin", c, 0);
        let mut c = s.cmd(false);
        c.args([
            "verify-image",
            &image,
            "--username",
            "AWS",
            "--password-stdin",
            "--ca-cert",
        ])
        .arg(s.ca())
        .args(j)
        .write_stdin(WRONG);
        s.check("verify-image wrong password", c, 2);
        let mut c = s.cmd(true);
        c.args(["verify-image", &image, "--platforms", "arm/v7", "--ca-cert"])
            .arg(s.ca())
            .args(j);
        s.check("verify-image missing platform", c, 1);

        // verify-taskdef and audit with the Docker config.
        let td = s.dir.path().join("td.json");
        std::fs::write(
            &td,
            format!(
                r#"{{"family":"f","containerDefinitions":[{{"name":"a","image":"{image}"}}]}}"#
            ),
        )
        .unwrap();
        let mut c = s.cmd(true);
        c.args(["verify-taskdef", "--ca-cert"])
            .arg(s.ca())
            .arg(&td)
            .args(j);
        s.check("verify-taskdef", c, 0);
        let mut c = s.cmd(false);
        c.args([
            "verify-taskdef",
            "--username",
            "AWS",
            "--password-stdin",
            "--ca-cert",
        ])
        .arg(s.ca())
        .arg(&td)
        .args(j)
        .write_stdin(WRONG);
        s.check("verify-taskdef wrong password", c, 2);
        let audit = s.dir.path().join("a.toml");
        std::fs::write(&audit, format!("[[image]]\nref = \"{image}\"\n\n[[image]]\nref = \"{image}\"\nplatforms = [\"s390x\"]\n")).unwrap();
        let mut c = s.cmd(true);
        c.args(["audit", "--ca-cert"])
            .arg(s.ca())
            .arg(&audit)
            .args(j);
        s.check("audit", c, 1);
        for format in ["junit", "github"] {
            let mut c = s.cmd(true);
            c.args(["audit", "--format", format, "--ca-cert"])
                .arg(s.ca())
                .arg(&audit);
            s.check(format, c, 1);
        }

        // The other commands with the same environment.
        let mut c = s.cmd(true);
        c.args([
            "verify-bin",
            "--url",
            "http://127.0.0.1:1/x",
            "--no-install",
            "--retries",
            "0",
            "--key",
        ])
        .arg(format!(
            "{}/keys/aws-cli-v2.asc",
            env!("CARGO_MANIFEST_DIR")
        ))
        .args(j);
        s.check("verify-bin", c, 2);
        let mut c = s.cmd(true);
        c.args(["check-iam", "--for", "pull"])
            .arg(format!(
                "{}/fixtures/iam/push-documented.json",
                env!("CARGO_MANIFEST_DIR")
            ))
            .args(j);
        s.check("check-iam", c, 1);
        let mut c = s.cmd(true);
        c.args(["check-endpoints", "--region", "us-east-1"])
            .arg(format!(
                "{}/fixtures/endpoints/all.json",
                env!("CARGO_MANIFEST_DIR")
            ))
            .args(j);
        s.check("check-endpoints", c, 0);
        let mut c = s.cmd(true);
        c.args(["keys", "list"]).args(j);
        s.check("keys list", c, 0);
    }
}
