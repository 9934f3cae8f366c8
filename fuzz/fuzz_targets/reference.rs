//! Image reference, platform and digest parsing: never panic; a parsed reference prints as text that
//! parses back to the same reference.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shipcheck::oci::{Digest, Platform, Reference};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = Reference::parse(s) {
        let again = Reference::parse(&r.to_string()).expect("a printed reference parses");
        assert_eq!(again, r);
        let _ = r.api_host();
        let _ = r.manifest_ref();
    }
    if let Ok(p) = Platform::parse(s) {
        assert!(p.matches(&p), "a platform matches itself");
    }
    if let Ok(d) = Digest::parse(s) {
        let _ = d.matches(data);
    }
});
