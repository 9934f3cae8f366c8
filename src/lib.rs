//! shipcheck: release verification and supply-chain checks.
//!
//! The binary is a thin wrapper around [`run`]. Data flows one way: arguments (`cli`) -> a command
//! ([`commands`], one module per command) -> the domain code it plans and runs: release files
//! (`release`: [`net`] to fetch and hash, [`pgp`] to verify, `install` to place), images
//! ([`oci`]: references, platforms, manifests, the registry client, [`oci::verify`]), task
//! definitions and live ECS/ECR reads ([`ecs`]), the AWS side ([`aws`]: SDK calls, the IAM and VPC
//! endpoint evaluators), the [`catalog`] of pinned vendor keys and [`input`] files -> a report
//! ([`report`]: verdicts, reason codes, escaping) -> text or JSON written by the printer (`output`)
//! -> the exit code.

#![warn(clippy::print_stdout, clippy::print_stderr, clippy::exit)]
#![warn(missing_docs)]

pub mod aws;
pub(crate) mod binfmt;
pub mod catalog;
pub(crate) mod cli;
pub mod commands;
pub(crate) mod context;
pub mod ecs;
pub mod input;
pub(crate) mod install;
pub mod net;
pub mod oci;
pub(crate) mod output;
pub mod pgp;
pub(crate) mod release;
pub mod report;
pub(crate) mod timefmt;

use clap::Parser;
use cli::Cli;
use output::Printer;
use report::{Code, Reason, Verdict};

#[derive(serde::Serialize)]
struct UsageReport<'a> {
    verdict: Verdict,
    reasons: &'a [Reason],
    warnings: [Reason; 0],
}

/// Parses the arguments, runs the command and returns the exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    2
                } else {
                    0
                };
            }
            if args.iter().any(|a| a == "--json") {
                let p = Printer::new(true, false);
                let msg = e.kind().to_string();
                let reasons = [Reason::new(
                    Code::Usage,
                    format!("invalid arguments: {msg}"),
                )];
                p.json(&UsageReport {
                    verdict: Verdict::Error,
                    reasons: &reasons,
                    warnings: [],
                });
            }
            let _ = e.print();
            return 2;
        }
    };
    let printer = Printer::new(cli.json, cli.quiet);
    let ctx = context::Context::new(printer, context::Env::from_process());
    undecided_on_panic(&Printer::new(cli.json, cli.quiet), || {
        commands::run(cli.command, &ctx)
    })
}

/// Runs `command`; a panic (a bug in shipcheck or a library it uses) is "could not decide", exit 2,
/// with a line saying so after the panic message, instead of the runtime's exit code 101. Files being
/// installed are still removed on the way out (the unwinding runs their clean-up).
fn undecided_on_panic(printer: &Printer, command: impl FnOnce() -> i32) -> i32 {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(command)) {
        Ok(code) => code,
        Err(_) => {
            printer.err(
                "shipcheck: internal error (the panic message above): no verdict, exit 2. This is \
                 a bug in shipcheck; please report it with the command that caused it.\n",
            );
            2
        }
    }
}

#[cfg(test)]
mod panic_tests {
    use super::*;

    #[test]
    fn a_panic_is_could_not_decide() {
        let p = Printer::new(false, true);
        assert_eq!(undecided_on_panic(&p, || panic!("a test panic")), 2);
        assert_eq!(undecided_on_panic(&p, || 1), 1);
        assert_eq!(undecided_on_panic(&p, || 0), 0);
    }
}
