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
    commands::run(cli.command, &ctx)
}
