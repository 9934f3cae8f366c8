//! verify-image against faults a real registry does not produce, from a small server of our own on
//! 127.0.0.1: bodies that do not match their digest or size, wrong content types, lying
//! Docker-Content-Digest headers, oversized manifests, 429 then success, a blob redirected to another
//! host (which must not receive the credentials), the Bearer token flow (one token, reused), schema1.

use crate::common;
use crate::common::fake_registry;
use crate::common::image_json as image_support;

use common::registry::{sha256, OCI_INDEX, OCI_MANIFEST};
use common::shipcheck;
use fake_registry::{blob_path, manifest_path, ok, serve_app, status, with_digest, Fake};
use image_support::run_json;
use serde_json::json;
use std::time::Duration;

#[test]
fn the_fake_image_verifies_when_untouched() {
    let (fake, _img, reference) = serve_app();
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "amd64,arm64", "--deep"],
        None,
    );
    run.expect(0, "");
    // The index (GET, HEAD), 2 manifests, 2 configs, 2 layer HEADs.
    assert_eq!(run.requests, 8);
    assert_eq!(fake.log().len(), 8);
}

#[test]
fn platform_manifest_not_matching_its_digest() {
    let (fake, img, reference) = serve_app();
    let mut bad = img.manifests[1].clone();
    let i = bad.iter().position(|&b| b == b'8').unwrap_or(10);
    bad[i] = b'9'; // same size, other bytes
    fake.route(
        &manifest_path(&img.manifests[1]),
        vec![ok(OCI_MANIFEST, &bad)],
    );
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "amd64,arm64"],
        None,
    );
    run.expect(1, "digest-mismatch");
    let arm = &run.json.platforms[1];
    assert_eq!(
        (arm.platform.as_str(), arm.status.as_str()),
        ("linux/arm64/v8", "failed")
    );
    assert_eq!(run.json.platforms[0].status, "verified");
}

#[test]
fn config_blob_not_matching_its_digest() {
    let (fake, img, reference) = serve_app();
    let bad = img.configs[0].to_ascii_uppercase();
    fake.route(
        &blob_path(&img.configs[0]),
        vec![ok("application/octet-stream", &bad)],
    );
    run_json(shipcheck(), &[&reference], None).expect(1, "digest-mismatch");
}

#[test]
fn wrong_sizes() {
    let (fake, img, reference) = serve_app();
    let mut longer = img.manifests[0].clone();
    longer.extend_from_slice(b"   ");
    fake.route(
        &manifest_path(&img.manifests[0]),
        vec![ok(OCI_MANIFEST, &longer)],
    );
    run_json(shipcheck(), &[&reference], None).expect(1, "size-mismatch");

    let (fake, img, reference) = serve_app();
    let shorter = &img.configs[1][..img.configs[1].len() - 1];
    fake.route(
        &blob_path(&img.configs[1]),
        vec![ok("application/octet-stream", shorter)],
    );
    run_json(shipcheck(), &[&reference], None).expect(1, "size-mismatch");

    // --deep: a layer whose HEAD reports another size.
    let (fake, img, reference) = serve_app();
    fake.route(
        &blob_path(&img.layers[0]),
        vec![ok("application/octet-stream", b"x")],
    );
    run_json(shipcheck(), &[&reference], None).expect(0, "");
    run_json(shipcheck(), &[&reference, "--deep"], None).expect(1, "size-mismatch");
    // --deep: a layer the registry does not have.
    fake.route(&blob_path(&img.layers[0]), vec![status(404, &[])]);
    run_json(shipcheck(), &[&reference, "--deep"], None).expect(1, "missing-content");
}

#[test]
fn wrong_content_types() {
    let (fake, img, reference) = serve_app();
    fake.route(
        "/v2/app/manifests/v1",
        vec![ok(common::registry::DOCKER_MANIFEST, &img.index)],
    );
    run_json(shipcheck(), &[&reference], None).expect(1, "media-type-mismatch");
    fake.route("/v2/app/manifests/v1", vec![ok("text/html", &img.index)]);
    run_json(shipcheck(), &[&reference], None).expect(1, "media-type-mismatch");
    // A platform manifest served as an index type: disagrees with its descriptor and its body.
    let (fake, img, reference) = serve_app();
    fake.route(
        &manifest_path(&img.manifests[0]),
        vec![ok(OCI_INDEX, &img.manifests[0])],
    );
    run_json(shipcheck(), &[&reference], None).expect(1, "media-type-mismatch");
}

#[test]
fn lying_docker_content_digest_header() {
    let (fake, img, reference) = serve_app();
    let mut r = ok(OCI_INDEX, &img.index);
    r.headers
        .push(("Docker-Content-Digest".into(), sha256(b"something else")));
    fake.route("/v2/app/manifests/v1", vec![r]);
    let run = run_json(shipcheck(), &[&reference], None);
    run.expect(1, "digest-mismatch");
    assert!(run.json.reasons[0]
        .message
        .contains("Docker-Content-Digest"));
    // Without the header, the body's own hash is what counts.
    fake.route("/v2/app/manifests/v1", vec![ok(OCI_INDEX, &img.index)]);
    run_json(shipcheck(), &[&reference], None).expect(0, "");
}

#[test]
fn body_not_matching_the_reference_digest() {
    let (fake, img, _) = serve_app();
    let claimed = sha256(b"the index we were promised");
    fake.route(
        &format!("/v2/app/manifests/{claimed}"),
        vec![ok(OCI_INDEX, &img.index)],
    );
    let run = run_json(
        shipcheck(),
        &[&format!("{}/app@{claimed}", fake.host())],
        None,
    );
    run.expect(1, "digest-mismatch");
    assert!(
        run.json.platforms.is_empty(),
        "nothing is verified below a mismatched top"
    );
}

#[test]
fn oversized_manifest_is_refused() {
    let (fake, _img, reference) = serve_app();
    let mut huge = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"x":""#.to_vec();
    huge.extend(std::iter::repeat_n(b'a', 5 << 20));
    huge.extend_from_slice(b"\"}");
    fake.route("/v2/app/manifests/v1", vec![ok(OCI_INDEX, &huge)]);
    let run = run_json(shipcheck(), &[&reference], None);
    run.expect(2, "manifest-too-large");
    assert_eq!(run.json.verdict, "error");
}

#[test]
fn schema1_is_rejected_clearly() {
    let (fake, _img, reference) = serve_app();
    let body = br#"{"schemaVersion":1,"name":"app","tag":"v1","architecture":"amd64","fsLayers":[],"history":[]}"#;
    fake.route(
        "/v2/app/manifests/v1",
        vec![ok(
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            body,
        )],
    );
    let run = run_json(shipcheck(), &[&reference], None);
    run.expect(2, "unsupported-media-type");
    assert!(run.json.reasons[0].message.contains("schema 1"));
}

#[test]
fn throttled_then_success_honours_retry_after() {
    let (fake, img, reference) = serve_app();
    let path = manifest_path(&img.manifests[0]);
    fake.route(
        &path,
        vec![
            status(429, &[("Retry-After", "1")]),
            with_digest(ok(OCI_MANIFEST, &img.manifests[0]), &img.manifests[0]),
        ],
    );
    let start = std::time::Instant::now();
    let run = run_json(shipcheck(), &[&reference], None);
    run.expect(0, "");
    assert_eq!(fake.hits(&path), 2);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(run.requests, 7, "the retry is counted: {}", run.stderr);
    // Throttled for good: an error naming the registry, after bounded retries.
    fake.route(&path, vec![status(503, &[])]);
    let run = run_json(shipcheck(), &[&reference, "--retries", "2"], None);
    run.expect(2, "download-failed");
    assert!(run.json.reasons[0].message.contains(&fake.host()));
    assert!(
        run.json.reasons[0]
            .message
            .contains("gave up after 3 attempts"),
        "{:?}",
        run.json.reasons
    );
}

#[test]
fn blob_redirect_to_another_host_gets_no_credentials() {
    let (fake, img, reference) = serve_app();
    let other = Fake::start();
    let cfg = &img.configs[0];
    other.route("/s3/config", vec![ok("application/octet-stream", cfg)]);
    fake.route(
        &blob_path(cfg),
        vec![status(
            307,
            &[(
                "Location",
                &format!(
                    "http://localhost:{}/s3/config?X-Amz-Signature=abc",
                    other.port
                ),
            )],
        )],
    );
    let secret = "redirect-secret-token";
    // Declared as ECR: credentials go with every request at once (another registry gets them only
    // when it asks).
    let mut cmd = shipcheck();
    cmd.env("SHIPCHECK_ECR_REGISTRIES", fake.host());
    let run = run_json(
        cmd,
        &[&reference, "--username", "AWS", "--password-stdin"],
        Some(secret),
    );
    run.expect(0, "");
    assert_eq!(other.hits("/s3/config"), 1);
    // The registry got the credentials on every request; the other host never did.
    assert!(fake
        .log()
        .iter()
        .all(|l| l.headers.iter().any(|(k, _)| k == "authorization")));
    for l in other.log() {
        assert!(
            !l.headers
                .iter()
                .any(|(k, _)| k == "authorization" || k == "cookie"),
            "credentials forwarded to {}: {:?}",
            l.target,
            l.headers
        );
    }
}

/// A registry whose first config redirects to `storage_host` (on `other`), which answers 401 with
/// `challenge`: the run, with credentials for the registry (declared as ECR: sent at once).
fn redirected_to_a_401(
    other: &Fake,
    storage_host: &str,
    challenge: &str,
) -> common::image_json::Run {
    let (fake, img, reference) = serve_app();
    other.route(
        "/s3/config",
        vec![status(401, &[("WWW-Authenticate", challenge)])],
    );
    let location = format!("http://{storage_host}:{}/s3/config", other.port);
    fake.route(
        &blob_path(&img.configs[0]),
        vec![status(307, &[("Location", &location)])],
    );
    let mut cmd = shipcheck();
    cmd.env("SHIPCHECK_ECR_REGISTRIES", fake.host());
    let run = run_json(
        cmd,
        &[&reference, "--username", "AWS", "--password-stdin"],
        Some("secret"),
    );
    run.expect(2, "unauthorized");
    let message = &run.json.reasons[0].message;
    assert!(
        message.contains("redirected") && message.contains(storage_host),
        "{message}"
    );
    run
}

/// The redirect's host answers 401 (storage that wants credentials it never gets): the message
/// names that host and says credentials are not sent there, where it blamed the registry's own
/// credentials (found by adversarial pass 15), and its challenge is not answered.
#[test]
fn a_401_from_a_redirects_host_names_that_host() {
    let other = Fake::start();
    redirected_to_a_401(&other, "localhost", "Basic realm=\"storage\"");
    assert_eq!(other.hits("/s3/config"), 1, "the challenge was answered");

    // The same host on another port is another host: its Bearer challenge is not answered, so the
    // registry's credentials never reach the token service it names (found by adversarial pass 17).
    let other = Fake::start();
    other.route("/token", vec![ok("application/json", br#"{"token":"t"}"#)]);
    let realm = format!("Bearer realm=\"http://127.0.0.1:{}/token\"", other.port);
    redirected_to_a_401(&other, "127.0.0.1", &realm);
    assert_eq!(
        other.hits("/token"),
        0,
        "credentials went to the token service"
    );
}

#[test]
fn bearer_token_is_fetched_once_and_reused() {
    let (fake, _img, reference) = serve_app();
    let challenge = format!(
        r#"Bearer realm="http://127.0.0.1:{}/token",service="fake-registry",scope="repository:app:pull""#,
        fake.port
    );
    let token = "tok-123";
    fake.route(
        "/token",
        vec![ok(
            "application/json",
            format!(r#"{{"token":"{token}","expires_in":300}}"#).as_bytes(),
        )],
    );
    // Every registry request without the token gets the challenge.
    fake.require_bearer(token, &challenge);
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "amd64,arm64"],
        None,
    );
    run.expect(0, "");
    assert_eq!(
        fake.hits("/token"),
        1,
        "the token is fetched once for the repository"
    );
    // 2 challenges (the index's GET and HEAD, at once) + 1 token + index (GET, HEAD) + 2
    // manifests + 2 configs
    assert_eq!(run.requests, 9, "{}", run.stderr);
    let log = fake.log();
    let token_req = &log
        .iter()
        .find(|l| l.target.starts_with("/token"))
        .unwrap()
        .target;
    assert!(
        token_req.contains("service=fake-registry")
            && token_req.contains("scope=repository%3Aapp%3Apull"),
        "{token_req}"
    );
    let with_token = log
        .iter()
        .filter(|l| {
            l.target.starts_with("/v2/")
                && l.headers
                    .iter()
                    .any(|(k, v)| k == "authorization" && v == &format!("Bearer {token}"))
        })
        .count();
    // The index (GET, HEAD), 2 manifests, 2 configs.
    assert_eq!(with_token, 6);
    assert!(!run.stdout.contains(token) && !run.stderr.contains(token));
}

#[test]
fn nested_index_is_followed() {
    let (fake, img, _) = serve_app();
    let nested = serde_json::to_vec(
        &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_INDEX, "digest": sha256(&img.index), "size": img.index.len()},
            {"mediaType": "application/vnd.example.unknown+json", "digest": sha256(b"x"), "size": 1,
             "platform": {"os": "linux", "architecture": "riscv64"}},
        ]}),
    )
    .unwrap();
    fake.route("/v2/app/manifests/nested", vec![ok(OCI_INDEX, &nested)]);
    fake.route(&manifest_path(&img.index), vec![ok(OCI_INDEX, &img.index)]);
    let run = run_json(
        shipcheck(),
        &[
            &format!("{}/app:nested", fake.host()),
            "--platforms",
            "amd64,arm64",
        ],
        None,
    );
    run.expect(0, "");
    assert_eq!(run.json.platforms.len(), 2);
    assert_eq!(run.json.warning_codes(), ["unknown-entry"]);
    // An index that refers to itself again is refused (loop detection).
    let looped = serde_json::to_vec(
        &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_INDEX, "digest": sha256(&nested), "size": nested.len()},
            {"mediaType": OCI_INDEX, "digest": sha256(&nested), "size": nested.len()},
        ]}),
    )
    .unwrap();
    fake.route("/v2/app/manifests/loop", vec![ok(OCI_INDEX, &looped)]);
    fake.route(&manifest_path(&nested), vec![ok(OCI_INDEX, &nested)]);
    run_json(shipcheck(), &[&format!("{}/app:loop", fake.host())], None)
        .expect(2, "invalid-manifest");
}

/// `--deep` and layers that name `urls`: containerd fetches such a layer from its URLs first (the
/// registry only after a 404), so a layer with URLs is undecided (`external-content`: hosts the
/// manifest names are never fetched), whether the registry holds it or not (adversarial pass 20: it
/// passed when the registry held it), and whatever its type: a foreign (non-distributable) layer is
/// fetched from its URLs too (adversarial pass 23: it passed, also on a Linux image). Only a foreign
/// layer may be missing from the registry (a warning beside the reason). A distributable layer
/// missing from the registry is also reported (every layer with URLs was once skipped).
#[test]
fn deep_layers_with_urls_are_undecided_and_only_foreign_ones_may_be_missing() {
    const FOREIGN: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    const LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    let fake = Fake::start();
    let reference = format!("{}/app:v1", fake.host());
    let layer = b"a layer that names urls".to_vec();
    let cfg = serde_json::to_vec(
        &json!({"os": "linux", "architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": [sha256(&layer)]}}),
    )
    .unwrap();
    for (media_type, in_registry, exit, code, warned) in [
        (FOREIGN, false, 2, "external-content", true),
        (FOREIGN, true, 2, "external-content", false),
        // containerd fetches any layer with http(s) URLs from them first: undecided, whatever the
        // registry holds (with --deep, a missing one is reported too).
        (LAYER, true, 2, "external-content", false),
        (LAYER, false, 2, "missing-content", false),
        (
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            false,
            2,
            "external-content",
            true,
        ),
        // Only the foreign types themselves: a type that merely contains `.foreign.` is a layer
        // the registry must hold.
        (
            "application/vnd.acme.foreign.layer",
            false,
            2,
            "missing-content",
            false,
        ),
        (
            "application/vnd.oci.image.layer.v1.tar+gzip.foreign.x",
            false,
            2,
            "missing-content",
            false,
        ),
    ] {
        let m = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&cfg), "size": cfg.len()},
            "layers": [{"mediaType": media_type, "digest": sha256(&layer), "size": layer.len(),
                        "urls": ["https://127.0.0.1:1/nowhere"]}],
        }))
        .unwrap();
        fake.route(
            "/v2/app/manifests/v1",
            vec![with_digest(ok(OCI_MANIFEST, &m), &m)],
        );
        fake.route(&blob_path(&cfg), vec![ok("application/octet-stream", &cfg)]);
        fake.route(
            &blob_path(&layer),
            vec![if in_registry {
                ok("application/octet-stream", &layer)
            } else {
                status(404, &[])
            }],
        );
        let run = run_json(shipcheck(), &[&reference, "--deep"], None);
        run.expect(exit, code);
        let warned_now = run
            .json
            .warnings
            .iter()
            .any(|w| w.message.contains("foreign layer"));
        assert_eq!(
            warned_now, warned,
            "{media_type} in registry: {in_registry}: {:?}",
            run.json.warnings
        );
    }
}

/// A single-platform image whose config cannot be read: the reason says why, and the platform is
/// not also reported missing (it is undecided, not absent).
#[test]
fn an_unreadable_config_is_not_also_a_missing_platform() {
    let fake = Fake::start();
    let reference = format!("{}/app:v1", fake.host());
    let cfg = br#"{"os":"linux","architecture":"amd64"}"#.to_vec();
    let layer = b"layer".to_vec();
    let m = fake_registry::manifest_for(&cfg, &layer);
    fake.route(
        "/v2/app/manifests/v1",
        vec![with_digest(ok(OCI_MANIFEST, &m), &m)],
    );
    fake.route(&blob_path(&cfg), vec![status(404, &[])]);
    let run = run_json(shipcheck(), &[&reference, "--platforms", "amd64"], None);
    run.expect(1, "missing-content");
    assert_eq!(
        run.json.codes(),
        ["missing-content"],
        "{:?}",
        run.json.reasons
    );
}
