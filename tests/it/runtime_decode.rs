//! What the runtime's Go decoder and unpacker refuse (adversarial pass 20): an image config whose
//! `rootfs` does not name the manifest's layers, values of a type Go's `encoding/json` refuses in
//! fields the runtime decodes, and descriptors whose embedded `data` is not the content. A real
//! containerd 1.6 (`ctr images pull`) fails each such pull; shipcheck passed them. Images go to the
//! real docker-registry where it stores them; manifests it refuses to store (its own Go decoder
//! fails on them) are served by the scripted registry.

use crate::common;
use common::fake_registry::{self, blob_path, index_of, manifest_path, ok, with_digest, Fake};
use common::image_json::run_json;
use common::registry::{sha256, Flavour, Pushed, Registry, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST};
use common::shipcheck;
use serde_json::{json, Value};

/// Pushes a linux/amd64 image of `layers` layers whose config is `{"architecture": "amd64", "os":
/// "linux", "config": {}}` with `rootfs` as given (absent for `None`).
fn push_with_rootfs(r: &Registry, repo: &str, rootfs: Option<Value>, layers: usize) -> Pushed {
    let mut descs = Vec::new();
    for i in 0..layers {
        let blob = format!("layer {i} of {repo} {rootfs:?}").into_bytes();
        let digest = r.put_blob(repo, &blob);
        descs.push(json!({"mediaType": OCI_LAYER, "digest": digest, "size": blob.len()}));
    }
    let mut config = json!({"architecture": "amd64", "os": "linux", "config": {}});
    if let Some(rootfs) = rootfs {
        config["rootfs"] = rootfs;
    }
    push_config(r, repo, &serde_json::to_vec(&config).unwrap(), descs)
}

/// Pushes an image manifest of `config` (bytes as given) and `layers` (descriptors).
fn push_config(r: &Registry, repo: &str, config: &[u8], layers: Vec<Value>) -> Pushed {
    let config_digest = r.put_blob(repo, config);
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": layers,
    }))
    .unwrap();
    r.put_manifest(repo, &sha256(&body), OCI_MANIFEST, &body)
}

fn verify(r: &Registry, repo_tag: &str, platforms: &str) -> common::image_json::Run {
    let reference = format!("{}/{repo_tag}", r.host());
    run_json(shipcheck(), &[&reference, "--platforms", platforms], None)
}

fn layer_digest(n: u8) -> String {
    format!("sha256:{}", hex::encode([n; 32]))
}

/// containerd refuses to unpack an image whose config lists another number of `diff_ids` than the
/// manifest has layers ("mismatched image rootfs and manifest layers"), or a diff_id that is not the
/// sha256 it computes on extraction; Docker refuses a config without `rootfs`. Each failed only where
/// the runtime selects the image: an entry it never selects is a warning.
#[test]
fn a_config_whose_rootfs_does_not_name_the_layers_fails_where_the_runtime_unpacks_it() {
    let r = Registry::plain();
    let arm = r.push_image("rootfs/app", "linux/arm64", Flavour::Oci, None);
    let good = push_with_rootfs(
        &r,
        "rootfs/app",
        Some(json!({"type": "layers", "diff_ids": [layer_digest(1)]})),
        1,
    );
    let sha512 = format!("sha512:{}", "a".repeat(128));
    let cases: Vec<(&str, Option<Value>, usize, i32, &str)> = vec![
        (
            "good",
            Some(json!({"type": "layers", "diff_ids": [layer_digest(1)]})),
            1,
            0,
            "",
        ),
        (
            "two-layers",
            Some(json!({"type": "layers", "diff_ids": [layer_digest(1), layer_digest(2)]})),
            2,
            0,
            "",
        ),
        (
            "no-layers",
            Some(json!({"type": "layers", "diff_ids": []})),
            0,
            0,
            "",
        ),
        (
            "nodiffids",
            Some(json!({"type": "layers", "diff_ids": []})),
            1,
            1,
            "unusable-entry",
        ),
        ("norootfs", None, 1, 1, "unusable-entry"),
        ("nullrootfs", Some(Value::Null), 1, 1, "unusable-entry"),
        (
            "twodiffids",
            Some(json!({"type": "layers", "diff_ids": [layer_digest(1), layer_digest(2)]})),
            1,
            1,
            "unusable-entry",
        ),
        (
            "baddiffid",
            Some(json!({"type": "layers", "diff_ids": ["not-a-digest"]})),
            1,
            1,
            "unusable-entry",
        ),
        (
            "sha512diffid",
            Some(json!({"type": "layers", "diff_ids": [sha512]})),
            1,
            1,
            "unusable-entry",
        ),
        (
            "nulldiffid",
            Some(json!({"type": "layers", "diff_ids": [null]})),
            1,
            1,
            "unusable-entry",
        ),
        // Neither containerd nor Docker reads `rootfs.type` on pull (pass 21 against ctr).
        (
            "notype",
            Some(json!({"diff_ids": [layer_digest(1)]})),
            1,
            0,
            "",
        ),
        (
            "othertype",
            Some(json!({"type": "Layers", "diff_ids": [layer_digest(1)]})),
            1,
            0,
            "",
        ),
    ];
    for (tag, rootfs, layers, exit, code) in cases {
        let img = push_with_rootfs(&r, "rootfs/app", rootfs, layers);
        r.push_index(
            "rootfs/app",
            tag,
            vec![img.entry("linux/amd64"), arm.entry("linux/arm64")],
            false,
        );
        let run = verify(&r, &format!("rootfs/app:{tag}"), "amd64,arm64");
        run.expect(exit, code);
        // Alone, as a single-platform image.
        r.put_manifest(
            "rootfs/app",
            &format!("{tag}-alone"),
            OCI_MANIFEST,
            &img.body,
        );
        verify(&r, &format!("rootfs/app:{tag}-alone"), "amd64").expect(exit, code);
        if exit == 0 {
            continue;
        }
        // After a good entry for the same platform the runtime never unpacks it: a warning.
        r.push_index(
            "rootfs/app",
            &format!("{tag}-second"),
            vec![
                good.entry("linux/amd64"),
                img.entry("linux/amd64"),
                arm.entry("linux/arm64"),
            ],
            false,
        );
        let run = verify(&r, &format!("rootfs/app:{tag}-second"), "amd64,arm64");
        run.expect(0, "");
        assert!(
            run.json
                .warnings
                .iter()
                .any(|w| w.message.contains(&img.digest) && w.message.contains("rootfs")),
            "{tag}: {:?}",
            run.json.warnings
        );
    }
}

/// Values of a type Go's decoder refuses, in an image config (a blob: the real registry stores it).
/// containerd decodes the config into the OCI image struct, Docker into its own: a `created` that
/// is not RFC 3339, `Cmd` as a string, a port set with a number, a string where a boolean goes.
#[test]
fn a_config_field_of_a_type_go_refuses_is_invalid() {
    let r = Registry::plain();
    let arm = r.push_image("types/app", "linux/arm64", Flavour::Oci, None);
    let cases: Vec<(&str, Value, i32, &str, &str)> = vec![
        (
            "fine",
            json!({"created": "2024-01-02T03:04:05.123456789Z", "config": {"Cmd": ["sh"], "ExposedPorts": {"80/tcp": {}}}, "history": [{"created": "2024-01-02T03:04:05+01:00", "empty_layer": true}]}),
            0,
            "",
            "",
        ),
        // What Go's time.Parse(RFC3339) also takes, as containerd does (pass 21 against ctr).
        (
            "loose-times",
            json!({"created": "2024-01-02T03:04:05,5Z", "history": [{"created": "2024-01-02T3:04:05+24:00"}]}),
            0,
            "",
            "",
        ),
        (
            "created",
            json!({"created": "yesterday"}),
            2,
            "invalid-manifest",
            "`created`",
        ),
        (
            "created-date",
            json!({"created": "2024-01-02"}),
            2,
            "invalid-manifest",
            "`created`",
        ),
        (
            "cmd",
            json!({"config": {"Cmd": "sh -c run"}}),
            2,
            "invalid-manifest",
            "`config.Cmd`",
        ),
        // Go matches keys case-insensitively.
        (
            "env-case",
            json!({"config": {"env": "A=b"}}),
            2,
            "invalid-manifest",
            "`config.env`",
        ),
        (
            "ports",
            json!({"config": {"ExposedPorts": {"80/tcp": 1}}}),
            2,
            "invalid-manifest",
            "`config.ExposedPorts.80/tcp`",
        ),
        (
            "labels",
            json!({"config": {"Labels": {"n": 1}}}),
            2,
            "invalid-manifest",
            "`config.Labels.n`",
        ),
        (
            "history",
            json!({"history": [{"empty_layer": "true"}]}),
            2,
            "invalid-manifest",
            "`history[0].empty_layer`",
        ),
        (
            "history-created",
            json!({"history": [{"created": 1700000000}]}),
            2,
            "invalid-manifest",
            "`history[0].created`",
        ),
        (
            "size",
            json!({"size": 1.5}),
            2,
            "invalid-manifest",
            "`size`",
        ),
        (
            "features",
            json!({"os.features": "sse4"}),
            2,
            "invalid-manifest",
            "`os.features`",
        ),
    ];
    for (tag, extra, exit, code, path) in cases {
        let mut config = json!({"architecture": "amd64", "os": "linux", "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest(1)]}});
        for (k, v) in extra.as_object().unwrap() {
            config[k] = v.clone();
        }
        let blob = format!("layer of {tag}").into_bytes();
        let digest = r.put_blob("types/app", &blob);
        let img = push_config(
            &r,
            "types/app",
            &serde_json::to_vec(&config).unwrap(),
            vec![json!({"mediaType": OCI_LAYER, "digest": digest, "size": blob.len()})],
        );
        r.push_index(
            "types/app",
            tag,
            vec![img.entry("linux/amd64"), arm.entry("linux/arm64")],
            false,
        );
        let run = verify(&r, &format!("types/app:{tag}"), "amd64,arm64");
        run.expect(exit, code);
        if exit == 1 {
            run.says(&[path, "Go's JSON decoder"]);
        }
    }
}

/// Go's `time.Time` reads its JSON string without unescaping it: a `created` written with an escape
/// (`\u005a` for `Z`) is a valid time to shipcheck's JSON parser but not to the runtime.
#[test]
fn an_escaped_time_is_not_a_time_to_go() {
    let r = Registry::plain();
    let arm = r.push_image("esc/app", "linux/arm64", Flavour::Oci, None);
    let blob = b"layer of an escaped time".to_vec();
    let digest = r.put_blob("esc/app", &blob);
    for (tag, created, exit) in [
        ("plain", "2024-01-02T03:04:05Z", 0),
        ("escaped", "2024-01-02T03:04:05\\u005a", 2),
        ("escaped-digit", "2024-01-02T03:04:0\\u0035Z", 2),
    ] {
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{}},"created":"{created}","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
            layer_digest(1)
        );
        let img = push_config(
            &r,
            "esc/app",
            config.as_bytes(),
            vec![json!({"mediaType": OCI_LAYER, "digest": digest, "size": blob.len()})],
        );
        r.push_index(
            "esc/app",
            tag,
            vec![img.entry("linux/amd64"), arm.entry("linux/arm64")],
            false,
        );
        let run = verify(&r, &format!("esc/app:{tag}"), "amd64,arm64");
        if exit == 0 {
            run.expect(0, "");
        } else {
            run.expect(exit, "invalid-manifest");
            run.says(&["`created`"]);
        }
    }
}

/// containerd's content store verifies what it ingests with sha256 only, so content named by a
/// sha512 digest never commits: a layer, a config or an index entry named so fails the pull (against
/// ctr in pass 21); it passed.
#[test]
fn content_named_by_sha512_cannot_be_pulled() {
    use sha2::Digest as _;
    let sha512 = |b: &[u8]| format!("sha512:{}", hex::encode(sha2::Sha512::digest(b)));
    let r = Registry::plain();
    let arm = r.push_image("s512/app", "linux/arm64", Flavour::Oci, None);
    let blob = b"a layer named by sha512".to_vec();
    let layer512 = r.put_blob_as("s512/app", &blob, &sha512(&blob));
    let config = serde_json::to_vec(
        &json!({"architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest(1)]}}),
    )
    .unwrap();
    let config512 = r.put_blob_as("s512/app", &config, &sha512(&config));
    let layer256 = r.put_blob("s512/app", &blob);
    let config256 = r.put_blob("s512/app", &config);
    for (tag, config_digest, layer_digest) in [
        ("sha256", &config256, &layer256),
        ("layer", &config256, &layer512),
        ("config", &config512, &layer256),
    ] {
        let body = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": blob.len()}],
        }))
        .unwrap();
        let img = r.put_manifest("s512/app", &sha256(&body), OCI_MANIFEST, &body);
        r.push_index(
            "s512/app",
            tag,
            vec![img.entry("linux/amd64"), arm.entry("linux/arm64")],
            false,
        );
        let run = verify(&r, &format!("s512/app:{tag}"), "amd64,arm64");
        if tag == "sha256" {
            run.expect(0, "");
            continue;
        }
        run.expect(1, "unusable-entry");
        run.says(&["sha512 digest"]);
    }
    // An index entry naming a manifest by sha512 (docker-registry refuses such a manifest PUT; the
    // scripted registry serves it).
    let (_fake, reference) = serve_edited(
        |v| v["manifests"][0]["digest"] = json!(format!("sha512:{}", "a".repeat(128))),
        |_| {},
    );
    let run = run_json(
        shipcheck(),
        &[&reference, "--platforms", "amd64,arm64"],
        None,
    );
    run.expect(1, "unusable-entry");
    // A reference pinned `@sha512:`, and a tag whose HEAD (which the runtime resolves it with) names
    // a sha512 digest: the runtime pulls the manifest by that digest.
    let img = fake_registry::Image::new();
    let fake = Fake::start();
    img.serve(&fake);
    let index512 = sha512(&img.index);
    fake.route(
        &format!("/v2/app/manifests/{index512}"),
        vec![ok(common::registry::OCI_INDEX, &img.index)],
    );
    let pinned = format!("{}/app@{index512}", fake.host());
    let run = run_json(shipcheck(), &[&pinned, "--platforms", "amd64,arm64"], None);
    run.expect(1, "unusable-entry");
    let mut tagged = ok(common::registry::OCI_INDEX, &img.index);
    tagged
        .headers
        .push(("Docker-Content-Digest".into(), index512.clone()));
    fake.route("/v2/app/manifests/v1", vec![tagged]);
    let run = run_json(
        shipcheck(),
        &[
            &format!("{}/app:v1", fake.host()),
            "--platforms",
            "amd64,arm64",
        ],
        None,
    );
    run.expect(1, "unusable-entry");
    run.says(&["HEAD answer names it"]);
}

/// The scripted registry's two-platform image, with the index and the amd64 manifest edited as a
/// hostile pusher writes them (docker-registry refuses to store such manifests).
fn serve_edited(
    edit_index: impl Fn(&mut Value),
    edit_manifest: impl Fn(&mut Value),
) -> (Fake, String) {
    let img = fake_registry::Image::new();
    let fake = Fake::start();
    let mut entries = Vec::new();
    for (i, m) in img.manifests.iter().enumerate() {
        let mut v: Value = serde_json::from_slice(m).unwrap();
        if i == 0 {
            edit_manifest(&mut v);
        }
        let body = serde_json::to_vec(&v).unwrap();
        fake.route(
            &manifest_path(&body),
            vec![with_digest(ok(OCI_MANIFEST, &body), &body)],
        );
        let index: Value = serde_json::from_slice(&img.index).unwrap();
        let mut entry = index["manifests"][i].clone();
        entry["digest"] = json!(sha256(&body));
        entry["size"] = json!(body.len());
        entries.push(entry);
    }
    let mut index: Value = serde_json::from_slice(&index_of(entries)).unwrap();
    edit_index(&mut index);
    let index = serde_json::to_vec(&index).unwrap();
    fake.route(
        "/v2/app/manifests/v1",
        vec![with_digest(ok(common::registry::OCI_INDEX, &index), &index)],
    );
    for b in img.configs.iter().chain(&img.layers) {
        fake.route(&blob_path(b), vec![ok("application/octet-stream", b)]);
    }
    let reference = format!("{}/app:v1", fake.host());
    (fake, reference)
}

/// Values of a type Go's decoder refuses in an index or an image manifest: containerd cannot read
/// the document, so the pull fails, even in fields shipcheck does not otherwise read.
#[test]
fn an_index_or_manifest_field_of_a_type_go_refuses_is_invalid() {
    type Edit = fn(&mut Value);
    let none: Edit = |_| {};
    let cases: Vec<(&str, Edit, Edit, &str)> = vec![
        ("untouched", none, none, ""),
        // A `null` annotation is Go's empty string.
        (
            "null annotation",
            |v| v["manifests"][1]["annotations"] = json!({"a": null}),
            none,
            "",
        ),
        (
            "index annotations",
            |v| v["annotations"] = json!({"a": 1}),
            none,
            "`annotations.a`",
        ),
        (
            "index artifactType",
            |v| v["artifactType"] = json!(1),
            none,
            "`artifactType`",
        ),
        (
            "index subject",
            |v| v["subject"] = json!({"size": "12"}),
            none,
            "`subject.size`",
        ),
        (
            "entry urls",
            |v| v["manifests"][1]["urls"] = json!("https://x"),
            none,
            "`manifests[1].urls`",
        ),
        (
            "entry data",
            |v| v["manifests"][1]["data"] = json!("not base64!"),
            none,
            "`manifests[1].data`",
        ),
        (
            "entry os.features",
            |v| v["manifests"][1]["platform"]["os.features"] = json!("x"),
            none,
            "`manifests[1].platform.os.features`",
        ),
        (
            "entry features",
            |v| v["manifests"][1]["platform"]["features"] = json!([1]),
            none,
            "`manifests[1].platform.features[0]`",
        ),
        (
            "manifest annotations",
            none,
            |v| v["annotations"] = json!({"k": true}),
            "`annotations.k`",
        ),
        (
            "layer annotations",
            none,
            |v| v["layers"][0]["annotations"] = json!({"k": ["x"]}),
            "`layers[0].annotations.k`",
        ),
        (
            "layer urls",
            none,
            |v| v["layers"][0]["urls"] = json!([1]),
            "`layers[0].urls[0]`",
        ),
    ];
    for (name, edit_index, edit_manifest, path) in cases {
        // Every case serves `app:v1`: the case's name goes to the test's output instead.
        eprintln!("case: {name}");
        let (_fake, reference) = serve_edited(edit_index, edit_manifest);
        let run = run_json(
            shipcheck(),
            &[&reference, "--platforms", "amd64,arm64"],
            None,
        );
        if path.is_empty() {
            run.expect(0, "");
            continue;
        }
        run.expect(2, "invalid-manifest");
        run.says(&[path, "Go's JSON decoder"]);
    }
}

/// A descriptor's embedded `data` (OCI 1.1): containerd 1.7 and later use it instead of fetching the
/// content when it holds `size` bytes, and fail the pull when it does not hash to the digest. Data
/// that is the content passes; other data fails, however right the registry's bytes are.
#[test]
fn embedded_data_must_be_the_content() {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let r = Registry::plain();
    let amd = r.push_image("data/app", "linux/amd64", Flavour::Oci, None);
    let arm = r.push_image("data/app", "linux/arm64", Flavour::Oci, None);
    let mut same_size = amd.body.clone();
    same_size[0] ^= 1;
    let cases: Vec<(&str, String, i32, &str)> = vec![
        ("content", b64(&amd.body), 0, ""),
        ("other", b64(&same_size), 2, "does not hash to its digest"),
        ("short", b64(&amd.body[1..]), 2, "bytes but its size is"),
        ("empty", String::new(), 2, "bytes but its size is"),
    ];
    for (tag, data, exit, message) in cases {
        let mut entry = amd.entry("linux/amd64");
        entry["data"] = json!(data);
        r.push_index(
            "data/app",
            tag,
            vec![entry, arm.entry("linux/arm64")],
            false,
        );
        let run = verify(&r, &format!("data/app:{tag}"), "amd64,arm64");
        if exit == 0 {
            run.expect(0, "");
            continue;
        }
        run.expect(2, "invalid-manifest");
        run.says(&[message]);
    }
}

/// containerd fetches a descriptor that names http(s) `urls` from them before the registry (only a
/// 404 falls back), so an index entry or a config with URLs makes the pull depend on hosts the
/// manifest names, which shipcheck does not contact: undecided (`external-content`), where it
/// passed (adversarial pass 20, against containerd 1.6's `ctr images pull`). Other schemes are
/// skipped by containerd and pass.
#[test]
fn content_the_runtime_fetches_from_urls_is_undecided() {
    let r = Registry::plain();
    let amd = r.push_image("urls/app", "linux/amd64", Flavour::Oci, None);
    let arm = r.push_image("urls/app", "linux/arm64", Flavour::Oci, None);
    for (tag, urls, exit) in [
        ("https", json!(["https://127.0.0.1:1/unreachable"]), 2),
        ("http-upper", json!(["HTTP://127.0.0.1:1/x", "ftp://x"]), 2),
        ("ftp", json!(["ftp://127.0.0.1/x", "file:///etc/passwd"]), 0),
        ("empty", json!([]), 0),
    ] {
        let mut entry = amd.entry("linux/amd64");
        entry["urls"] = urls.clone();
        r.push_index(
            "urls/app",
            tag,
            vec![entry, arm.entry("linux/arm64")],
            false,
        );
        let run = verify(&r, &format!("urls/app:{tag}"), "amd64,arm64");
        if exit == 0 {
            run.expect(0, "");
            continue;
        }
        run.expect(exit, "external-content");
        run.says(&[&amd.digest, "127.0.0.1:1"]);
    }
    // A config descriptor with URLs.
    let blob = b"layer of a config with urls".to_vec();
    let layer = r.put_blob("urls/app", &blob);
    let config = serde_json::to_vec(
        &json!({"architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest(1)]}}),
    )
    .unwrap();
    let config_digest = r.put_blob("urls/app", &config);
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len(),
                   "urls": ["https://127.0.0.1:1/config"]},
        "layers": [{"mediaType": OCI_LAYER, "digest": layer, "size": blob.len()}],
    }))
    .unwrap();
    r.put_manifest("urls/app", "config", OCI_MANIFEST, &body);
    let run = verify(&r, "urls/app:config", "amd64");
    run.expect(2, "external-content");
    run.says(&[&config_digest, "/config"]);
}

/// containerd refuses to fetch a descriptor of size zero ("which reports content size of zero"),
/// so an image with an empty layer never pulls (differential pass 22 against ctr; it passed, also
/// with `--deep`). `null` lists are Go's empty ones: an image manifest with `"layers": null` and no
/// diff_ids pulls (it was invalid-manifest).
#[test]
fn an_empty_layer_fails_and_null_lists_are_empty() {
    let r = Registry::plain();
    let arm = r.push_image("empty/app", "linux/arm64", Flavour::Oci, None);
    let empty = r.put_blob("empty/app", b"");
    let config = serde_json::to_vec(
        &json!({"architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest(1)]}}),
    )
    .unwrap();
    let img = push_config(
        &r,
        "empty/app",
        &config,
        vec![json!({"mediaType": OCI_LAYER, "digest": empty, "size": 0})],
    );
    r.push_index(
        "empty/app",
        "v1",
        vec![img.entry("linux/amd64"), arm.entry("linux/arm64")],
        false,
    );
    for deep in [false, true] {
        let reference = format!("{}/empty/app:v1", r.host());
        let mut args = vec![reference.as_str(), "--platforms", "amd64,arm64"];
        if deep {
            args.push("--deep");
        }
        let run = run_json(shipcheck(), &args, None);
        run.expect(1, "unusable-entry");
        run.says(&["size 0"]);
    }
    // "layers": null, and an index whose "manifests" is null (no platform at all).
    let config = serde_json::to_vec(
        &json!({"architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": []}}),
    )
    .unwrap();
    let config_digest = r.put_blob("empty/app", &config);
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": null,
    }))
    .unwrap();
    r.put_manifest("empty/app", "nolayers", OCI_MANIFEST, &body);
    verify(&r, "empty/app:nolayers", "amd64").expect(0, "");
    let (_fake, reference) = serve_edited(|v| v["manifests"] = Value::Null, |_| {});
    run_json(shipcheck(), &[&reference, "--platforms", "amd64"], None)
        .expect(1, "missing-platform");
}
