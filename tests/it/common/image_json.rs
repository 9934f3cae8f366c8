//! Running `verify-image --json` for the image_* tests. The contract itself is
//! [`ImageJson`](crate::common::contract::ImageJson), the one definition every test deserialises into.
#![allow(dead_code)]

pub use crate::common::contract::ImageJson;

/// One run of the binary: exit code, parsed JSON, stderr, and the request count from
/// `SHIPCHECK_TRACE_REQUESTS=1`.
pub struct Run {
    pub code: i32,
    pub json: ImageJson,
    pub stdout: String,
    pub stderr: String,
    pub requests: usize,
}

/// Runs `shipcheck verify-image --json ARGS` with request tracing, optionally feeding stdin.
pub fn run_json(mut cmd: assert_cmd::Command, args: &[&str], stdin: Option<&str>) -> Run {
    cmd.env("SHIPCHECK_TRACE_REQUESTS", "1")
        .arg("verify-image")
        .arg("--json")
        .args(args);
    if let Some(s) = stdin {
        cmd.write_stdin(s.to_string());
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let json: ImageJson = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("stdout is not the JSON contract ({e}):\n{stdout}\nstderr:\n{stderr}")
    });
    let requests = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("shipcheck: ")
                .and_then(|r| r.strip_suffix(" HTTP requests"))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or_else(|| panic!("no request count on stderr:\n{stderr}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        json,
        stdout,
        stderr,
        requests,
    }
}

impl Run {
    /// Asserts the exit code and that `code` is among the reasons, with context on failure.
    pub fn expect(&self, exit: i32, code: &str) -> &Self {
        assert_eq!(
            self.code, exit,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        if code.is_empty() {
            assert!(self.json.reasons.is_empty(), "{:?}", self.json.reasons);
        } else {
            assert!(
                self.json.codes().contains(&code),
                "expected reason {code}, got {:?}",
                self.json.reasons
            );
        }
        self
    }

    /// Asserts that one reason's message holds every one of `needles`, with context on failure.
    pub fn says(&self, needles: &[&str]) -> &Self {
        assert!(
            self.json
                .reasons
                .iter()
                .any(|r| needles.iter().all(|n| r.message.contains(n))),
            "no reason says {needles:?}: {:?}\nstdout:\n{}",
            self.json.reasons,
            self.stdout
        );
        self
    }
}
