//! Native ECR authentication: GetAuthorizationToken through the AWS SDK against moto (started here on
//! 127.0.0.1), with the token it returns accepted by the htpasswd registry, which is declared as ECR.

use crate::common;

use common::moto::Moto;
use common::registry::Registry;
use common::shipcheck;
use serde_json::Value;
use std::io::{Read, Write};
use std::time::Duration;

/// What GetAuthorizationToken returns (moto does not check signatures), decoded: the password.
fn token_password(moto: &Moto) -> String {
    let body = "{}";
    let mut s = std::net::TcpStream::connect(("127.0.0.1", moto.port)).unwrap();
    write!(
            s,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken\r\n\
             Content-Type: application/x-amz-json-1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let json = &resp[resp.find("\r\n\r\n").unwrap() + 4..];
    let v: Value = serde_json::from_str(json.trim()).unwrap();
    let token = v["authorizationData"][0]["authorizationToken"]
        .as_str()
        .unwrap();
    use base64::Engine as _;
    let decoded = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(token)
            .unwrap(),
    )
    .unwrap();
    decoded.strip_prefix("AWS:").unwrap().to_string()
}

fn aws_env(cmd: &mut assert_cmd::Command, moto: &Moto, reg: &Registry, declare: &str) {
    let home = tempfile::tempdir().unwrap().keep();
    cmd.env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLESESSIONTOKEN")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_ECR", moto.url())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("HOME", &home)
        .env("SHIPCHECK_ECR_REGISTRIES", declare)
        .arg("--ca-cert")
        .arg(reg.ca.as_ref().unwrap());
}

#[test]
fn ecr_token_from_the_sdk_opens_the_registry() {
    let moto = Moto::start();
    let password = token_password(&moto);
    assert!(!password.is_empty());
    let reg = Registry::tls_auth_with(&password);
    reg.push_multi("team/app", "v1", true);
    let reference = format!("{}/team/app:v1", reg.host());

    // Declared as ECR: the SDK fetches the token from moto (whose expiresAt is in 2015) and the
    // registry accepts it; one token call, not a loop.
    let mut cmd = shipcheck();
    cmd.args([
        "verify-image",
        &reference,
        "--platforms",
        "amd64,arm64",
        "--json",
    ]);
    aws_env(&mut cmd, &moto, &reg, &format!("{}=us-east-1", reg.host()));
    let out = cmd.timeout(Duration::from_secs(120)).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for secret in [
        password.as_str(),
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "FwoGZXIvYXdzEXAMPLESESSIONTOKEN",
    ] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "a secret leaked into the output"
        );
    }

    // Not declared as ECR: anonymous, and the registry says no.
    let mut cmd = shipcheck();
    cmd.args(["verify-image", &reference, "--platforms", "amd64", "--json"]);
    aws_env(&mut cmd, &moto, &reg, "");
    let out = cmd.timeout(Duration::from_secs(120)).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reasons"][0]["code"], "unauthorized", "{v:#}");
}

#[test]
fn ecr_token_is_fetched_once_for_a_whole_audit() {
    let moto = Moto::start();
    let reg = Registry::tls_auth_with(&token_password(&moto));
    reg.push_multi("team/app", "v1", false);
    let d = tempfile::tempdir().unwrap();
    let mut audit = String::new();
    for _ in 0..6 {
        audit.push_str(&format!(
            "[[image]]\nref = \"{}/team/app:v1\"\nplatforms = [\"amd64\", \"arm64\"]\n\n",
            reg.host()
        ));
    }
    let file = d.path().join("audit.toml");
    std::fs::write(&file, audit).unwrap();
    // Count the token calls with a proxy in front of moto.
    let proxy = common::proxy::Proxy::start(moto.port);
    let mut cmd = shipcheck();
    cmd.args(["audit", "--json"]).arg(&file);
    aws_env(&mut cmd, &moto, &reg, &reg.host());
    cmd.env("AWS_ENDPOINT_URL_ECR", proxy.url(""));
    let out = cmd.timeout(Duration::from_secs(120)).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["summary"]["pass"], 6);
    let token_calls = proxy
        .log()
        .iter()
        .filter(|r| {
            r.headers.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("x-amz-target") && v.ends_with("GetAuthorizationToken")
            })
        })
        .count();
    assert_eq!(
        token_calls, 1,
        "one GetAuthorizationToken for six images of one registry"
    );
}

#[test]
fn no_aws_credentials_is_unauthorized_not_a_hang() {
    let moto = Moto::start();
    let reg = Registry::tls_auth_with(&token_password(&moto));
    reg.push_multi("team/app", "v1", false);
    let home = tempfile::tempdir().unwrap();
    let out = shipcheck()
        .args([
            "verify-image",
            &format!("{}/team/app:v1", reg.host()),
            "--json",
            "--ca-cert",
        ])
        .arg(reg.ca.as_ref().unwrap())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("HOME", home.path())
        .env("AWS_ENDPOINT_URL_ECR", moto.url())
        .env("SHIPCHECK_ECR_REGISTRIES", reg.host())
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reasons"][0]["code"], "unauthorized", "{v:#}");
    assert!(
        v["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("GetAuthorizationToken"),
        "{v:#}"
    );
}
