//! IAM policy parsing and evaluation for every workflow: never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shipcheck::aws::policy::{IamRequest, Workflow};
use std::sync::OnceLock;

fn path() -> &'static std::path::PathBuf {
    static P: OnceLock<std::path::PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        std::env::temp_dir().join(format!("shipcheck-fuzz-iam-{}.json", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    std::fs::write(path(), data).unwrap();
    for workflow in [Workflow::Pull, Workflow::Push, Workflow::BuildxPush] {
        for repository in [
            None,
            Some("arn:aws:ecr:us-east-1:123456789012:repository/app".to_string()),
        ] {
            let r = shipcheck::aws::policy::run(&IamRequest::new(
                vec![path().clone()],
                workflow,
                repository,
            ));
            let _ = shipcheck::commands::check_iam::render_text(&r, false);
        }
    }
});
