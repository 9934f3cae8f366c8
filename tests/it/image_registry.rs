//! verify-image as users run it, against a real registry (Debian's docker-registry, distribution 2.8)
//! on 127.0.0.1 over plain HTTP. Images are pushed through the registry API by the tests. Every case
//! asserts the exit code, the reason codes of the JSON contract and, where it matters, the number of
//! HTTP requests.

use crate::common;
use crate::common::image_json as image_support;

use common::registry::{Flavour, Registry, DOCKER_LIST, OCI_INDEX, OCI_MANIFEST};
use common::shipcheck;
use image_support::run_json;

/// A registry of the test's own (starting one takes ~0.1 s); it stops when the test ends. (A shared
/// one in a static is never dropped, so its process outlived the test binary.)
fn reg() -> Registry {
    Registry::plain()
}

#[test]
fn oci_index_with_attestations_passes_in_minimal_requests() {
    let r = reg();
    let (index, imgs) = r.push_multi("att/app", "v1", true);
    let reference = format!("{}/att/app:v1", r.host());
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "amd64,arm64"],
        None,
    );
    run.expect(0, "");
    let j = &run.json;
    assert_eq!(j.verdict, "pass");
    assert_eq!(j.reference.as_deref(), Some(reference.as_str()));
    assert_eq!(j.digest.as_deref(), Some(index.digest.as_str()));
    assert_eq!(j.media_type.as_deref(), Some(OCI_INDEX));
    assert_eq!(j.platform_names(), ["linux/amd64", "linux/arm64/v8"]);
    assert!(j.platforms.iter().all(|p| p.status == "verified"));
    assert_eq!(j.platforms[0].digest, imgs[0].digest);
    assert_eq!(j.platforms[1].size, imgs[1].size);
    assert_eq!(j.platforms[0].media_type, OCI_MANIFEST);
    assert!(j.platforms[0]
        .config_digest
        .as_deref()
        .unwrap()
        .starts_with("sha256:"));
    assert!(j.missing.is_empty());
    // Attestations are listed, never platforms, never failures.
    assert_eq!(j.attestations.len(), 2);
    assert_eq!(
        j.attestations[0].refers_to.as_deref(),
        Some(imgs[0].digest.as_str())
    );
    assert_eq!(
        j.attestations[1].refers_to.as_deref(),
        Some(imgs[1].digest.as_str())
    );
    assert!(j.warnings.is_empty(), "{:?}", j.warnings);
    // 1 index (GET, and HEAD as runtimes resolve it) + 2 platform manifests + 2 configs; no auth
    // round trip on an open registry.
    assert_eq!(run.requests, 6, "{}", run.stderr);

    // Without --platforms: whatever the index lists (attestations do not count).
    let run = run_json(shipcheck(), &[&reference], None);
    run.expect(0, "");
    assert_eq!(run.json.platforms.len(), 2);

    // By digest, and with --digest naming the same bytes; and arm64 written in full.
    let by_digest = format!("{}/att/app@{}", r.host(), index.digest);
    run_json(
        shipcheck(),
        &[
            &by_digest,
            "--platforms",
            "linux/amd64,linux/arm64/v8",
            "--digest",
            &index.digest,
        ],
        None,
    )
    .expect(0, "");
}

#[test]
fn text_output_has_a_table_and_a_verdict_line() {
    let r = reg();
    let (index, imgs) = r.push_multi("text/app", "v1", false);
    let reference = format!("{}/text/app:v1", r.host());
    let out = shipcheck()
        .args(["verify-image", &reference, "--platforms", "amd64,arm64"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("PLATFORM"), "{stdout}");
    assert!(stdout.contains("linux/amd64     verified"), "{stdout}");
    assert!(stdout.contains(&imgs[1].digest), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "PASS {reference} ({}): linux/amd64, linux/arm64/v8 verified",
            index.digest
        )),
        "{stdout}"
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // --quiet: nothing on success.
    shipcheck()
        .args(["verify-image", &reference, "--quiet"])
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
}

#[test]
fn index_without_attestations_and_deep_check() {
    let r = reg();
    r.push_multi("plain/app", "v2", false);
    let reference = format!("{}/plain/app:v2", r.host());
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "arm64,amd64", "--deep"],
        None,
    );
    run.expect(0, "");
    assert!(run.json.attestations.is_empty());
    // + one HEAD per layer with --deep
    assert_eq!(run.requests, 8, "{}", run.stderr);
}

#[test]
fn amd64_only_fails_when_arm64_is_required() {
    let r = reg();
    let amd = r.push_image("single/app", "linux/amd64", Flavour::Oci, None);
    r.push_index("single/app", "v1", vec![amd.entry("linux/amd64")], false);
    let reference = format!("{}/single/app:v1", r.host());
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "amd64,arm64"],
        None,
    );
    run.expect(1, "missing-platform");
    assert_eq!(run.json.verdict, "fail");
    assert_eq!(run.json.missing, ["linux/arm64"]);
    assert_eq!(run.json.platform_names(), ["linux/amd64"]);
    assert_eq!(run.json.platforms[0].status, "verified");
    // Text: the verdict line on stdout, the reason and a hint on stderr.
    let out = shipcheck()
        .args(["verify-image", &reference, "--platforms", "amd64,arm64"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stdout.contains(&format!("FAIL {reference}")), "{stdout}");
    assert!(stdout.contains("missing-platform"), "{stdout}");
    assert!(stderr.contains("has no linux/arm64 image"), "{stderr}");
    assert!(stderr.contains("hint: "), "{stderr}");
}

#[test]
fn single_manifest_without_media_type_satisfies_only_its_platform() {
    let r = reg();
    let img = r.push_image(
        "umoci/app",
        "linux/arm64",
        Flavour::OciNoMediaType,
        Some("v1"),
    );
    assert!(!String::from_utf8_lossy(&img.body)
        .contains("mediaType\": \"application/vnd.oci.image.manifest"));
    let reference = format!("{}/umoci/app:v1", r.host());
    let run = run_json(shipcheck(), &[&reference, "--platforms", "arm64"], None);
    run.expect(0, "");
    assert_eq!(run.json.media_type.as_deref(), Some(OCI_MANIFEST));
    assert_eq!(run.json.platform_names(), ["linux/arm64"]);
    assert_eq!(run.json.digest.as_deref(), Some(img.digest.as_str()));
    // 1 manifest (GET, and HEAD as runtimes resolve it) + 1 config
    assert_eq!(run.requests, 3);
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "amd64,arm64"],
        None,
    );
    run.expect(1, "missing-platform");
    assert_eq!(run.json.missing, ["linux/amd64"]);
}

#[test]
fn docker_manifest_list_with_docker_v2_manifests() {
    let r = reg();
    let amd = r.push_image("docker/app", "linux/amd64", Flavour::Docker, None);
    let arm = r.push_image("docker/app", "linux/arm/v7", Flavour::Docker, None);
    r.push_index(
        "docker/app",
        "v1",
        vec![amd.entry("linux/amd64"), arm.entry("linux/arm/v7")],
        true,
    );
    let reference = format!("{}/docker/app:v1", r.host());
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "amd64,arm/v7"],
        None,
    );
    run.expect(0, "");
    assert_eq!(run.json.media_type.as_deref(), Some(DOCKER_LIST));
    assert_eq!(
        run.json.platforms[0].media_type,
        common::registry::DOCKER_MANIFEST
    );
    let run = run_json(shipcheck(), &[&reference, "--platforms", "arm64"], None);
    run.expect(1, "missing-platform");
}

#[test]
fn nested_repository_name() {
    let r = reg();
    r.push_multi("team/sub/app", "v1.4.2", true);
    let reference = format!("{}/team/sub/app:v1.4.2", r.host());
    run_json(
        shipcheck(),
        &[&reference, "--platforms", "amd64,arm64"],
        None,
    )
    .expect(0, "");
    r.push_multi("team/app", "v1", false);
    run_json(shipcheck(), &[&format!("{}/team/app:v1", r.host())], None).expect(0, "");
}

#[test]
fn arm64_entry_pointing_at_the_amd64_image_is_a_platform_mismatch() {
    let r = reg();
    let amd = r.push_image("liar/app", "linux/amd64", Flavour::Oci, None);
    // The registry accepts this index: it only checks that the referenced manifests exist.
    r.push_index(
        "liar/app",
        "v1",
        vec![amd.entry("linux/amd64"), amd.entry("linux/arm64")],
        false,
    );
    let reference = format!("{}/liar/app:v1", r.host());
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "amd64,arm64"],
        None,
    );
    run.expect(1, "platform-mismatch");
    assert_eq!(run.json.codes(), ["platform-mismatch"]);
    let arm = run
        .json
        .platforms
        .iter()
        .find(|p| p.platform == "linux/arm64")
        .unwrap();
    assert_eq!(arm.status, "failed");
    let a = run
        .json
        .platforms
        .iter()
        .find(|p| p.platform == "linux/amd64")
        .unwrap();
    assert_eq!(a.status, "verified");
    assert!(run.json.reasons[0]
        .message
        .contains("image config says linux/amd64"));
}

#[test]
fn moved_tag_is_caught_by_digest() {
    let r = reg();
    let (first, _) = r.push_multi("moved/app", "v1", false);
    let reference = format!("{}/moved/app:v1", r.host());
    run_json(shipcheck(), &[&reference, "--digest", &first.digest], None).expect(0, "");
    let (second, _) = r.push_multi("moved/app", "v1", true);
    assert_ne!(first.digest, second.digest);
    let run = run_json(shipcheck(), &[&reference, "--digest", &first.digest], None);
    run.expect(1, "digest-mismatch");
    assert_eq!(run.json.digest.as_deref(), Some(second.digest.as_str()));
    assert!(run.json.reasons[0].message.contains(&first.digest));
    // The old digest itself still verifies.
    run_json(
        shipcheck(),
        &[&format!("{}/moved/app@{}", r.host(), first.digest)],
        None,
    )
    .expect(0, "");
}

#[test]
fn unknown_tag_and_repository_are_not_found() {
    let r = reg();
    r.push_multi("nf/app", "v1", false);
    run_json(shipcheck(), &[&format!("{}/nf/app:v9", r.host())], None).expect(2, "not-found");
    run_json(shipcheck(), &[&format!("{}/nope/app:v1", r.host())], None).expect(2, "not-found");
}

#[test]
fn usage_errors_exit_2() {
    let r = reg();
    let reference = format!("{}/u/app:v1", r.host());
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "linux/arm 64"],
        None,
    );
    run.expect(2, "usage");
    assert_eq!(run.requests, 0);
    run_json(shipcheck(), &[&reference, "--digest", "sha256:abc"], None).expect(2, "usage");
    run_json(shipcheck(), &["Bad//Ref"], None).expect(2, "invalid-reference");
}
