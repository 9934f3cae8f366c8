//! shipcheck's integration tests, as one test binary: each module below was a file of its own under
//! `tests/` (one binary each). One binary compiles the shared support in `common` once and links once
//! instead of 26 times, which took about 50 s off a clean `cargo test` build and as much off
//! `cargo clippy --all-targets` on two cores (CI: 951 s to 847 s). Run one part with `cargo test --test it verify_bin::` (module path as a filter).

mod common;

mod action;
mod cli_checks;
mod contract;
mod endpoints;
mod faults_bin;
mod fuzz_regressions;
mod hardening_bin;
mod hardening_image;
mod iam;
mod image_auth;
mod image_ecr;
mod image_faults;
mod image_registry;
mod input;
mod layer_content;
mod live_ecr;
mod live_ecs;
mod live_endpoints;
mod live_iam;
mod real_keys;
mod runtime_decode;
mod secrets;
mod smoke_tls;
mod soundness;
mod taskdef_audit;
mod text_output;
mod throttling;
mod verify_bin;
