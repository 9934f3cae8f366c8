//! Replays the fuzzing seeds and every kept crash input (fixtures/fuzz-regressions/TARGET/) through the
//! same code the fuzz targets drive, so a fixed crash stays fixed without nightly.

use shipcheck::oci::{self, Digest, Platform, Reference};
use std::path::Path;

fn inputs(dirs: &[&str]) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(root.join(d)) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_file() {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

#[test]
fn signature_inputs_never_verify_against_the_ecs_pin() {
    let cert = shipcheck::pgp::parse_certs(include_bytes!("../../keys/amazon-ecs-cli.asc"))
        .unwrap()
        .remove(0);
    let pins = vec![shipcheck::pgp::Pin {
        source: "ecs".into(),
        cert,
        signing_keys: None,
        allow_sha1_self_signatures: true,
    }];
    let all = inputs(&[
        "fuzz/seeds/signature",
        "fixtures/fuzz-regressions/signature",
    ]);
    assert!(all.len() >= 5);
    let mut parsed = 0;
    for (name, data) in all {
        let Ok(sigs) = shipcheck::pgp::parse_detached(&data) else {
            continue;
        };
        parsed += 1;
        let mut h = shipcheck::pgp::DataHasher::new(&sigs);
        h.update(b"the data that was signed");
        let (_, ctxs) = h.finish();
        let out = shipcheck::pgp::verify(&sigs, ctxs, &pins, std::time::SystemTime::now());
        assert!(out.good.is_none(), "{name} verified");
        assert!(
            !out.problems.is_empty(),
            "{name}: a failure always has a reason"
        );
    }
    assert!(parsed >= 3, "the detached-signature seeds parse");
}

#[test]
fn reference_and_manifest_inputs() {
    for (name, data) in inputs(&[
        "fuzz/seeds/reference",
        "fixtures/fuzz-regressions/reference",
    ]) {
        let s = String::from_utf8_lossy(&data);
        if let Ok(r) = Reference::parse(&s) {
            assert_eq!(Reference::parse(&r.to_string()).unwrap(), r, "{name}");
        }
        let _ = Platform::parse(&s);
        let _ = Digest::parse(&s);
    }
    for (_, data) in inputs(&["fuzz/seeds/manifest", "fixtures/fuzz-regressions/manifest"]) {
        let Some((_, body)) = data.split_first() else {
            continue;
        };
        let _ = oci::parse_config(body);
        let _ = oci::parse_manifest(body, None, None, "regression");
    }
}

#[test]
fn file_format_inputs() {
    for (name, data) in inputs(&["fixtures/audit", "fixtures/fuzz-regressions/audit"]) {
        let _ = shipcheck::input::parse_toml::<shipcheck::commands::audit::AuditFile>(
            &name,
            &String::from_utf8_lossy(&data),
        );
    }
    for (name, data) in inputs(&["fixtures/taskdef", "fixtures/fuzz-regressions/taskdef"]) {
        if let Ok(doc) = shipcheck::input::parse_json::<serde_json::Value>(
            &name,
            &String::from_utf8_lossy(&data),
        ) {
            let _ = shipcheck::ecs::taskdef::plan(&doc);
        }
    }
    for (name, text) in inputs(&["keys", "fixtures/fuzz-regressions/catalog"]) {
        if name.ends_with(".toml") {
            let _ = shipcheck::catalog::Catalog::parse_str(
                &String::from_utf8_lossy(&text),
                Path::new("/nonexistent"),
            );
        }
    }
}
