//! verify-image against a real registry over TLS (test CA) with htpasswd Basic auth for user `AWS`,
//! like ECR: credentials from a Docker config file and from --password-stdin, wrong and missing
//! credentials, and an untrusted certificate. No credential may appear in any output.

use crate::common;
use crate::common::image_json as image_support;

use base64::Engine as _;
use common::registry::Registry;
use common::shipcheck;
use image_support::run_json;
use std::path::Path;

/// A TLS + htpasswd registry holding `team/app:v1`, one per test: it stops when the test ends.
fn reg() -> Registry {
    let r = Registry::tls_auth();
    r.push_multi("team/app", "v1", true);
    r
}

fn reference(r: &Registry) -> String {
    format!("{}/team/app:v1", r.host())
}

fn ca(r: &Registry) -> String {
    r.ca.as_ref().unwrap().display().to_string()
}

/// A Docker config dir whose `auths` entry for the registry holds base64 `user:password`.
fn docker_config(dir: &Path, key: &str, user: &str, password: &str) {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    std::fs::write(
        dir.join("config.json"),
        format!(r#"{{"auths":{{"{key}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
}

/// `verify-image team/app:v1 --ca-cert <test CA>` plus `extra`, run by `cmd` with the Docker
/// config in `dir`.
fn run_with_config(
    mut cmd: assert_cmd::Command,
    dir: &Path,
    r: &Registry,
    extra: &[&str],
) -> image_support::Run {
    cmd.env("DOCKER_CONFIG", dir);
    let (reference, ca) = (reference(r), ca(r));
    let mut args = vec![reference.as_str(), "--ca-cert", &ca];
    args.extend(extra);
    run_json(cmd, &args, None)
}

fn assert_no_secret(run: &image_support::Run, secret: &str) {
    assert!(
        !run.stdout.contains(secret),
        "secret on stdout:\n{}",
        run.stdout
    );
    assert!(
        !run.stderr.contains(secret),
        "secret on stderr:\n{}",
        run.stderr
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{secret}"));
    assert!(!run.stdout.contains(&b64) && !run.stderr.contains(&b64));
}

#[test]
fn docker_config_auths_basic_auth_passes_with_credentials_sent_when_asked() {
    let r = reg();
    let dir = tempfile::tempdir().unwrap();
    docker_config(
        dir.path(),
        &format!("https://{}", r.host()),
        "AWS",
        r.password.as_ref().unwrap(),
    );
    let both = ["--platforms", "amd64,arm64"];
    let run = run_with_config(shipcheck(), dir.path(), &r, &both);
    run.expect(0, "");
    assert_eq!(run.json.platforms.len(), 2);
    assert_eq!(run.json.attestations.len(), 2);
    // Credentials go to the registry once it asks for them (its Basic challenge), as Docker sends
    // them: a 401 for the index's GET, then 2 + 2 + 2 with credentials. The HEAD goes out beside
    // the GET: a 401 too when it leaves before the GET's answer is back, else with credentials (a
    // loaded machine); 6 would mean credentials sent before the registry asked.
    assert!(matches!(run.requests, 7 | 8), "{}", run.stderr);
    assert_no_secret(&run, r.password.as_ref().unwrap());

    // For an ECR registry (here declared as one), which always answers Basic, they are sent at once:
    // 2 + 2 + 2, no 401 first.
    let mut cmd = shipcheck();
    cmd.env("SHIPCHECK_ECR_REGISTRIES", r.host());
    let run = run_with_config(cmd, dir.path(), &r, &both);
    run.expect(0, "");
    assert_eq!(run.requests, 6, "{}", run.stderr);
    assert_no_secret(&run, r.password.as_ref().unwrap());
}

#[test]
fn password_stdin_passes() {
    let r = reg();
    let pw = format!("{}\n", r.password.as_ref().unwrap());
    let run = run_json(
        shipcheck(),
        &[
            &reference(&r),
            "--platforms",
            "amd64,arm64",
            "--ca-cert",
            &ca(&r),
            "--username",
            "AWS",
            "--password-stdin",
            "--deep",
        ],
        Some(&pw),
    );
    run.expect(0, "");
    assert_no_secret(&run, r.password.as_ref().unwrap());
}

#[test]
fn wrong_password_is_unauthorized_and_never_printed() {
    let r = reg();
    let secret = "wrong-Pa55word-must-not-leak";
    let (reference, ca) = (reference(&r), ca(&r));
    let args = [
        reference.as_str(),
        "--ca-cert",
        &ca,
        "--username",
        "AWS",
        "--password-stdin",
    ];
    let run = run_json(shipcheck(), &args, Some(secret));
    run.expect(2, "unauthorized");
    assert_eq!(run.json.verdict, "error");
    assert!(run.json.reasons[0]
        .message
        .contains("refused the credentials from --username/--password-stdin"));
    assert_no_secret(&run, secret);
    // Text mode too.
    let out = shipcheck()
        .arg("verify-image")
        .args(args)
        .write_stdin(secret)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains("unauthorized") && all.contains("hint:"),
        "{all}"
    );
    assert!(!all.contains(secret), "{all}");

    // The same through a Docker config file.
    let dir = tempfile::tempdir().unwrap();
    docker_config(dir.path(), &r.host(), "AWS", secret);
    let run = run_with_config(shipcheck(), dir.path(), &r, &[]);
    run.expect(2, "unauthorized");
    assert!(
        run.json.reasons[0].message.contains("config.json"),
        "{:?}",
        run.json.reasons
    );
    assert_no_secret(&run, secret);
}

#[test]
fn no_credentials_is_unauthorized_with_advice() {
    let r = reg();
    let dir = tempfile::tempdir().unwrap(); // an empty Docker config dir: anonymous
    let run = run_with_config(shipcheck(), dir.path(), &r, &[]);
    run.expect(2, "unauthorized");
    assert!(run.json.reasons[0]
        .message
        .contains("no credentials were found"));
    assert!(run.stderr.contains("--password-stdin"), "{}", run.stderr);
}

#[test]
fn untrusted_certificate_is_an_error_not_a_downgrade() {
    let r = reg();
    let run = run_json(
        shipcheck(),
        &[
            &reference(&r),
            "--username",
            "AWS",
            "--password-stdin",
            "--retries",
            "0",
        ],
        Some(r.password.as_ref().unwrap()),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.json.verdict, "error");
    assert!(run.json.platforms.is_empty());
    assert_eq!(run.json.codes(), ["download-failed"]);
    assert!(
        run.json.reasons[0].message.contains("certificate"),
        "{:?}",
        run.json.reasons
    );
    assert!(run.stderr.contains("--ca-cert"), "{}", run.stderr);
    // No fallback to plain HTTP: nothing was sent over http://, so no credential either. (The
    // index's HEAD, which waited for the HTTPS probe, is refused by TLS too.)
    assert!(!run.stderr.contains("http://"), "{}", run.stderr);
    assert!(run.requests <= 1, "{}", run.requests);
    assert_no_secret(&run, r.password.as_ref().unwrap());
}

#[test]
fn malformed_docker_config_is_an_error() {
    let r = reg();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), "{ not json").unwrap();
    let run = run_with_config(shipcheck(), dir.path(), &r, &[]);
    run.expect(2, "usage");
    assert_eq!(run.requests, 0);
}

/// A Basic registry's challenge is answered once per run: the run's later images send the
/// credentials with their first request (one 401 in all, not one per image of an audit).
#[test]
fn a_run_meets_a_basic_registrys_challenge_once() {
    use shipcheck::oci::cache::ContentCache;
    use shipcheck::oci::verify::{run_with, ImageRequest};
    let r = reg();
    r.push_multi("team/other", "v1", false);
    let http = shipcheck::net::Http::new(shipcheck::net::HttpOptions {
        ca_certs: r.ca.iter().cloned().collect(),
        ..Default::default()
    })
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cache = ContentCache::default();
    let req = |repo: &str| ImageRequest {
        reference: format!("{}/{repo}:v1", r.host()),
        username: Some("AWS".into()),
        password: r.password.clone(),
        ..Default::default()
    };
    let first = rt.block_on(run_with(&req("team/app"), &http, &cache));
    assert!(first.reasons.is_empty(), "{:?}", first.reasons);
    // The index (GET and HEAD), its 2 platform manifests, 2 configs; the first two requests (the
    // index's GET and HEAD, at once) were refused with the Basic challenge and sent again.
    assert_eq!(first.requests, 2 + 6, "{:#?}", first.trace);
    let second = rt.block_on(run_with(&req("team/other"), &http, &cache));
    assert!(second.reasons.is_empty(), "{:?}", second.reasons);
    assert_eq!(second.requests, 6, "no 401 again: {:#?}", second.trace);
    // Without the run's memory (another run), the challenge comes again.
    let third = rt.block_on(run_with(
        &req("team/other"),
        &http,
        &ContentCache::default(),
    ));
    assert_eq!(third.requests, 2 + 6, "{:#?}", third.trace);
}
