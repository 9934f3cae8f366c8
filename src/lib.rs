//! shipcheck: release verification and supply-chain checks.
//!
//! The binary is a thin wrapper around [`run`]. Modules by responsibility: [`cli`] (clap definitions),
//! [`verify_bin`] and [`keys_cmd`] (one per command), [`pgp`] (verification), [`fetch`] (HTTP),
//! [`install`] (atomic placement), [`catalog`], [`report`] (verdicts and codes), [`output`] (printer).

pub mod audit;
pub mod catalog;
pub mod cli;
pub mod endpoints;
pub mod fetch;
pub mod iam;
pub mod input;
pub mod install;
pub mod keys_cmd;
pub mod output;
pub mod pgp;
pub mod registry;
pub mod report;
pub mod taskdef;
pub mod timefmt;
pub mod verify_bin;
pub mod verify_image;

use clap::Parser;
use cli::{Cli, Command, KeysCommand, NetArgs};
use output::Printer;
use report::{Code, Reason, Verdict};
use std::time::Duration;

/// Builds the shared HTTP client from the command line's transport options.
pub fn http_from(net: &NetArgs) -> Result<fetch::Http, fetch::FetchError> {
    let opts = fetch::HttpOptions {
        ca_certs: net.ca_cert.clone(),
        timeout: Duration::from_secs(net.timeout.max(1)),
        retries: net.retries,
        max_download: net.max_size,
        ..fetch::HttpOptions::default()
    };
    fetch::Http::new(opts)
}

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
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            printer.err(&format!("error: cannot start the async runtime: {e}\n"));
            return 2;
        }
    };
    match cli.command {
        Command::VerifyBin(a) => {
            let req = verify_bin::BinRequest {
                tool: a.tool,
                version: a.version,
                platform: a.platform,
                url: a.url,
                sig_url: a.sig_url,
                file: a.file,
                sig: a.sig,
                keys: a.key,
                fingerprints: a.fingerprint,
                dest: a.dest,
                no_install: a.no_install,
                mirror: a.mirror,
                catalog: a.catalog,
                allow_sha1_self_signatures: a.allow_sha1_self_signatures,
            };
            let report = match http_from(&a.net) {
                Ok(http) => {
                    let progress = printer.progress();
                    rt.block_on(verify_bin::run(&req, &http, progress.as_ref()))
                }
                Err(e) => verify_bin::BinReport::failed(&req, e.reason()),
            };
            if printer.json {
                printer.json(&report);
            }
            let (out, err) = verify_bin::render_text(&report, printer.quiet);
            if !printer.json {
                printer.out(&out);
            }
            printer.err(&err);
            report.verdict.exit_code()
        }
        Command::VerifyImage(a) => {
            let mut req = verify_image::ImageRequest {
                reference: a.reference,
                platforms: a.platforms,
                digest: a.digest,
                deep: a.deep,
                username: a.username,
                password: None,
            };
            let password = if a.password_stdin {
                verify_image::read_password_stdin().map(Some)
            } else {
                Ok(None)
            };
            let report = match (password, http_from(&a.net)) {
                (Err(r), _) => verify_image::ImageReport::failed(&req, r),
                (_, Err(e)) => verify_image::ImageReport::failed(&req, e.reason()),
                (Ok(p), Ok(http)) => {
                    req.password = p;
                    rt.block_on(verify_image::run(&req, &http))
                }
            };
            if std::env::var_os("SHIPCHECK_TRACE_REQUESTS").is_some_and(|v| v == "1") {
                let mut t = report.trace.join("\n");
                t.push_str(&format!("\nshipcheck: {} HTTP requests\n", report.requests));
                printer.err(&t);
            }
            if printer.json {
                printer.json(&report);
            }
            let (out, err) = verify_image::render_text(&report, printer.quiet);
            if !printer.json {
                printer.out(&out);
            }
            printer.err(&err);
            report.verdict.exit_code()
        }
        Command::Keys {
            command: KeysCommand::List { catalog },
        } => {
            let report = keys_cmd::run(catalog.as_deref(), std::time::SystemTime::now());
            let (out, err) = keys_cmd::render_text(&report, printer.quiet);
            if printer.json {
                printer.json(&report);
            } else {
                printer.out(&out);
            }
            printer.err(&err);
            report.verdict.exit_code()
        }
    }
}
