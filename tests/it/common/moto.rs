//! moto's server on 127.0.0.1 (a free port) playing AWS APIs for the SDK, stopped when dropped.
//! `INITIAL_NO_AUTH_ACTION_COUNT` makes it enforce IAM permissions after that many calls.

use super::{free_port, require, wait_for_port};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// Starts moto with extra environment variables.
    pub fn start_with(env: &[(&str, &str)]) -> Moto {
        let prog = require("moto_server", "python3-pip && pip install 'moto[server]'");
        let port = free_port();
        let mut cmd = Command::new(prog);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        wait_for_port(port, Duration::from_secs(30));
        // The port opens before the application answers: wait for a whole HTTP answer.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let answered = std::net::TcpStream::connect(("127.0.0.1", port))
                .and_then(|mut s| {
                    s.set_read_timeout(Some(Duration::from_secs(5)))?;
                    write!(
                        s,
                        "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    )?;
                    let mut resp = String::new();
                    s.read_to_string(&mut resp)?;
                    Ok(resp.starts_with("HTTP/1.") && resp.contains("\r\n\r\n"))
                })
                .unwrap_or(false);
            if answered {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "moto did not answer within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Calls a query-protocol API (IAM: `service` "iam") with form parameters, as `key`; returns
    /// the HTTP status and the body. moto routes by the credential scope and does not check the
    /// signature unless it enforces permissions (then the caller must be allowed).
    pub fn query(&self, service: &str, key: &str, params: &[(&str, &str)]) -> (u16, String) {
        let mut body = String::new();
        for (i, (k, v)) in params.iter().enumerate() {
            if i > 0 {
                body.push('&');
            }
            body.push_str(k);
            body.push('=');
            body.push_str(&percent_encode(v));
        }
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={key}/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let status = resp
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = resp
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

fn percent_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Calls a JSON-protocol API (ECS, ECR) as `target` (`X-Amz-Target`, e.g.
    /// `AmazonEC2ContainerServiceV20141113.CreateCluster`) with `body`; panics unless moto answers 200.
    pub fn json(&self, target: &str, body: &serde_json::Value) -> serde_json::Value {
        let service = if target.starts_with("AmazonEC2ContainerRegistry") {
            "ecr"
        } else {
            "ecs"
        };
        let body = body.to_string();
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: {target}\r\n\
             Content-Type: application/x-amz-json-1.1\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let (head, text) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
        assert!(head.contains(" 200 "), "{target} {body}: {resp}");
        serde_json::from_str(text.trim()).unwrap_or(serde_json::Value::Null)
    }
}

/// Access keys moto accepts (it checks signatures only when it enforces permissions).
pub const KEY: (&str, &str) = (
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
);

/// Points `cmd`'s AWS SDK at moto: `endpoints` as (`SERVICE`, URL) for `AWS_ENDPOINT_URL_SERVICE`,
/// the access key `key`, us-east-1, and nothing from the machine (no profile, config or credentials
/// file, instance metadata); `home` is HOME.
pub fn aws_env(
    cmd: &mut assert_cmd::Command,
    endpoints: &[(&str, &str)],
    key: (&str, &str),
    home: &std::path::Path,
) {
    for (service, url) in endpoints {
        cmd.env(format!("AWS_ENDPOINT_URL_{service}"), url);
    }
    cmd.env("AWS_ACCESS_KEY_ID", key.0)
        .env("AWS_SECRET_ACCESS_KEY", key.1)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("HOME", home)
        .env_remove("AWS_PROFILE");
}

/// The text of the first `<name>` element of an XML answer (IAM and EC2 answer in XML).
pub fn xml_field(xml: &str, name: &str) -> String {
    xml.split(&format!("<{name}>"))
        .nth(1)
        .and_then(|s| s.split(&format!("</{name}>")).next())
        .unwrap_or_else(|| panic!("no <{name}> in {xml}"))
        .to_string()
}

impl Moto {
    /// Creates the IAM user `name` with an access key and no policy, and returns the key (id,
    /// secret): a caller without permissions once moto enforces them (`INITIAL_NO_AUTH_ACTION_COUNT`
    /// counts these two calls).
    pub fn user_with_key(&self, name: &str) -> (String, String) {
        let call = |action: &str| {
            let (status, body) = self.query(
                "iam",
                KEY.0,
                &[
                    ("Action", action),
                    ("UserName", name),
                    ("Version", "2010-05-08"),
                ],
            );
            assert_eq!(status, 200, "{action}: {body}");
            body
        };
        call("CreateUser");
        let key = call("CreateAccessKey");
        (
            xml_field(&key, "AccessKeyId"),
            xml_field(&key, "SecretAccessKey"),
        )
    }
}
