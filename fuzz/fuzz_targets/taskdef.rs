//! ECS task definition parsing (platform mapping, containers) and pinning: never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = shipcheck::input::parse_json::<serde_json::Value>("fuzz.json", text) else {
        return;
    };
    if let Ok(def) = shipcheck::ecs::taskdef::plan(&doc) {
        for c in def.containers {
            let _ = shipcheck::ecs::taskdef::pin_image(&c.image, "sha256:00");
        }
    }
});
