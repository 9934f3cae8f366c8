//! The signature-file front end: parse a detached signature, hash some data for it, and verify it
//! against a fixed pinned certificate. Must never panic, and must never pass (the fuzzer cannot forge
//! a signature by the pinned key over the fixed data).
#![no_main]
use libfuzzer_sys::fuzz_target;
use shipcheck::pgp::{self, DataHasher, Pin};
use std::sync::OnceLock;

fn pins() -> &'static Vec<Pin> {
    static PINS: OnceLock<Vec<Pin>> = OnceLock::new();
    PINS.get_or_init(|| {
        let cert = pgp::parse_certs(include_bytes!("../../keys/amazon-ecs-cli.asc"))
            .unwrap()
            .remove(0);
        vec![Pin {
            source: "ecs".into(),
            cert,
            signing_keys: None,
            allow_sha1_self_signatures: true,
        }]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(sigs) = pgp::parse_detached(data) else {
        return;
    };
    let mut h = DataHasher::new(&sigs);
    h.update(b"the data that was signed");
    let (_sha, ctxs) = h.finish();
    let out = pgp::verify(&sigs, ctxs, pins(), std::time::SystemTime::now());
    assert!(out.good.is_none(), "a fuzzed signature verified");
});
