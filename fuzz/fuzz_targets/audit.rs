//! The audit file parser: never panic on any TOML.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = shipcheck::input::parse_toml::<shipcheck::commands::audit::AuditFile>("fuzz.toml", text);
    if let Ok(s) = text.parse::<shipcheck::commands::audit::Shard>() {
        let _ = s.owns(text);
    }
});
