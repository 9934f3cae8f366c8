//! The catalog parser and URL expansion: never panic on any TOML.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cat) =
        shipcheck::catalog::Catalog::parse_str(text, std::path::Path::new("/nonexistent"))
    else {
        return;
    };
    for tool in cat.tools.values() {
        for p in &tool.spec.platforms {
            let _ = tool.urls(p, "latest");
            let _ = tool.urls(p, "v1.2.3");
        }
    }
});
