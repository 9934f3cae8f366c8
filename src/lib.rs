//! shipcheck: release verification and supply-chain checks.
//!
//! The binary is a thin wrapper around [`run`]. Modules by responsibility: [`cli`] (clap definitions),
//! [`verify_bin`] and [`keys_cmd`] (one per command), [`pgp`] (verification), [`fetch`] (HTTP),
//! [`install`] (atomic placement), [`catalog`], [`report`] (verdicts and codes), [`output`] (printer).

#![warn(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

pub mod audit;
pub mod catalog;
pub mod cli;
pub mod endpoints;
pub mod iam;
pub mod input;
pub mod install;
pub mod keys_cmd;
pub mod net;
pub mod oci;
pub mod output;
pub mod pgp;
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
pub fn http_from(args: &NetArgs) -> Result<net::Http, net::FetchError> {
    let defaults = net::HttpOptions::default();
    // SHIPCHECK_RETRY_DELAY_MS: the first backoff delay (tests shorten it); read here, once.
    let retry_delay = std::env::var("SHIPCHECK_RETRY_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(defaults.retry_delay);
    let opts = net::HttpOptions {
        ca_certs: args.ca_cert.clone(),
        timeout: Duration::from_secs(args.timeout.max(1)),
        retries: args.retries,
        max_download: args.max_size,
        retry_delay,
        ..defaults
    };
    net::Http::new(opts)
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
    dispatch(cli.command, &printer, &rt)
}

/// Prints a report (JSON or text) and returns its exit code: the one place commands' output goes.
fn emit<T: serde::Serialize>(
    printer: &Printer,
    report: &T,
    text: (String, String),
    verdict: Verdict,
) -> i32 {
    let (out, err) = text;
    if printer.json {
        printer.json(report);
    } else {
        printer.out(&out);
    }
    printer.err(&err);
    verdict.exit_code()
}

/// What a registry command needs before it starts: the HTTP client and the `--password-stdin`
/// password (read when asked for), or why it cannot start.
/// `SHIPCHECK_TRACE_REQUESTS=1`: print the registry requests (verify-image) or the reuse count (audit)
/// to stderr.
fn trace_requests() -> bool {
    std::env::var_os("SHIPCHECK_TRACE_REQUESTS").is_some_and(|v| v == "1")
}

fn registry_setup(
    net: &NetArgs,
    auth: &cli::RegistryAuthArgs,
) -> Result<(net::Http, Option<String>), Reason> {
    let password = if auth.password_stdin {
        Some(verify_image::read_password_stdin()?)
    } else {
        None
    };
    let http = http_from(net).map_err(|e| e.reason())?;
    Ok((http, password))
}

fn dispatch(command: Command, printer: &Printer, rt: &tokio::runtime::Runtime) -> i32 {
    match command {
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
            let text = verify_bin::render_text(&report, printer.quiet);
            emit(printer, &report, text, report.verdict)
        }
        Command::VerifyImage(a) => {
            let mut req = verify_image::ImageRequest {
                reference: a.reference,
                platforms: a.platforms,
                digest: a.digest,
                deep: a.deep,
                username: a.auth.username.clone(),
                password: None,
            };
            let report = match registry_setup(&a.net, &a.auth) {
                Err(r) => verify_image::ImageReport::failed(&req, r),
                Ok((http, p)) => {
                    req.password = p;
                    rt.block_on(verify_image::run(&req, &http))
                }
            };
            if trace_requests() {
                let mut t = report.trace.join("\n");
                t.push_str(&format!("\nshipcheck: {} HTTP requests\n", report.requests));
                printer.err(&t);
            }
            let text = verify_image::render_text(&report, printer.quiet);
            emit(printer, &report, text, report.verdict)
        }
        Command::VerifyTaskdef(a) => {
            let mut req = taskdef::TaskdefRequest {
                path: a.taskdef,
                pin: a.pin,
                output: a.output,
                deep: a.deep,
                username: a.auth.username.clone(),
                password: None,
            };
            let report = match registry_setup(&a.net, &a.auth) {
                Err(r) => taskdef::TaskdefReport::failed(&req, r),
                Ok((http, p)) => {
                    req.password = p;
                    rt.block_on(taskdef::run(&req, &http))
                }
            };
            let text = taskdef::render_text(&report, printer.quiet);
            emit(printer, &report, text, report.verdict)
        }
        Command::Audit(a) => {
            let format = if printer.json {
                audit::Format::Json
            } else {
                a.format
            };
            let req = audit::AuditRequest {
                path: a.file,
                concurrency: a.concurrency,
                shard: a.shard,
            };
            let report = match http_from(&a.net) {
                Ok(http) => {
                    let bar = printer.counter();
                    rt.block_on(audit::run(&req, &http, bar.as_ref()))
                }
                Err(e) => audit::AuditReport::failed(&req, e.reason()),
            };
            if trace_requests() {
                printer.err(&format!(
                    "shipcheck: {} manifests and configs reused from earlier targets\n",
                    report.reused
                ));
            }
            // The audit renders every format itself; JSON is one of them.
            let (out, err) = audit::render(&report, format, printer.quiet);
            printer.out(&out);
            printer.err(&err);
            report.verdict.exit_code()
        }
        Command::CheckIam(a) => {
            let req = iam::IamRequest {
                policies: a.policies,
                workflow: a.workflow,
                repository: a.repository,
            };
            let report = iam::run(&req);
            let text = iam::render_text(&report, printer.quiet);
            emit(printer, &report, text, report.verdict)
        }
        Command::CheckEndpoints(a) => {
            let req = endpoints::EndpointsRequest {
                region: a.region,
                endpoints: a.endpoints,
                security_groups: a.security_groups,
                with_ssm: a.with_ssm,
                with_secretsmanager: a.with_secretsmanager,
                vpc: a.vpc,
            };
            let report = endpoints::run(&req);
            let text = endpoints::render_text(&report, printer.quiet);
            emit(printer, &report, text, report.verdict)
        }
        Command::Keys {
            command: KeysCommand::List { catalog },
        } => {
            let report = keys_cmd::run(catalog.as_deref(), std::time::SystemTime::now());
            let text = keys_cmd::render_text(&report, printer.quiet);
            emit(printer, &report, text, report.verdict)
        }
    }
}
