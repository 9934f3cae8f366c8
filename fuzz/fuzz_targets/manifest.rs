//! Manifest/index parsing and the platform-matching walk over an index: never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shipcheck::oci::{self, Manifest, Platform};

const TYPES: &[Option<&str>] = &[
    None,
    Some("application/vnd.oci.image.index.v1+json"),
    Some("application/vnd.oci.image.manifest.v1+json"),
    Some("application/vnd.docker.distribution.manifest.list.v2+json"),
    Some("application/vnd.docker.distribution.manifest.v2+json"),
    Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
    Some("application/json"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let ct = TYPES[sel as usize % TYPES.len()];
    let expected = TYPES[(sel as usize / TYPES.len()) % TYPES.len()];
    let _ = oci::parse_config(body);
    let wanted = [
        Platform::parse("linux/amd64").unwrap(),
        Platform::parse("linux/arm64").unwrap(),
    ];
    if let Ok(m) = oci::parse_manifest(body, ct, expected, "fuzz") {
        let _ = m.media_type();
        if let Manifest::Index { manifests, .. } = &m {
            for d in manifests {
                let _ = d.is_attestation();
                if let Some(p) = &d.platform {
                    for w in &wanted {
                        let _ = w.matches(p);
                        let _ = w.runtime_rank(p);
                    }
                }
            }
        }
    }
});
