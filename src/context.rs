//! What a run needs from its surroundings, read once at start: the printer, the async runtime, and
//! the environment variables shipcheck honours. Nothing below the commands reads the environment
//! (but the AWS SDK, for its credential chain, Region and endpoints).
//! Nothing is kept process-wide: what a run learns about registries (verified content, the scheme
//! of loopback registries, ECR logins) lives in its [`crate::oci::cache::ContentCache`].

use crate::cli::NetArgs;
use crate::net::{FetchError, Http, HttpOptions};
use crate::oci::auth::CredentialSources;
use crate::output::Printer;
use crate::report::{Code, Reason, Verdict};
use std::future::Future;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// The environment variables shipcheck honours.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `SHIPCHECK_RETRY_DELAY_MS`: the first backoff delay (tests shorten it).
    pub retry_delay: Option<Duration>,
    /// `SHIPCHECK_TRACE_REQUESTS=1`: print registry requests (verify-image) or the reuse count
    /// (audit) to stderr.
    pub trace_requests: bool,
    /// `HOME`, for `~/.local/bin` and `~/.docker/config.json`.
    pub home: Option<PathBuf>,
    /// Where registry credentials come from: the Docker config file (`$DOCKER_CONFIG/config.json`,
    /// else `~/.docker/config.json`) and the hosts declared as ECR in `SHIPCHECK_ECR_REGISTRIES`.
    pub credentials: CredentialSources,
}

impl Env {
    /// Reads the process environment.
    pub fn from_process() -> Env {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let home = var("HOME").map(PathBuf::from);
        let docker_config = match var("DOCKER_CONFIG") {
            Some(d) => Some(PathBuf::from(d).join("config.json")),
            None => home.as_ref().map(|h| h.join(".docker").join("config.json")),
        };
        let ecr_registries = var(crate::oci::auth::ecr::DECLARE_ENV)
            .map(|v| crate::oci::auth::ecr::declared(&v.to_string_lossy()))
            .unwrap_or_default();
        Env {
            retry_delay: var("SHIPCHECK_RETRY_DELAY_MS")
                .and_then(|v| v.to_str()?.parse().ok())
                .map(Duration::from_millis),
            trace_requests: var("SHIPCHECK_TRACE_REQUESTS").is_some_and(|v| v == "1"),
            home,
            credentials: CredentialSources {
                docker_config,
                ecr_registries,
            },
        }
    }
}

/// One run: where output goes, the runtime commands block on (started on first use), and the
/// environment.
pub struct Context {
    pub printer: Printer,
    pub env: Env,
    rt: OnceLock<std::io::Result<tokio::runtime::Runtime>>,
}

impl Context {
    pub fn new(printer: Printer, env: Env) -> Context {
        Context {
            printer,
            env,
            rt: OnceLock::new(),
        }
    }

    /// Runs `fut` to completion on the run's multi-threaded runtime (two workers, network and
    /// timers), started on first use; `Err` when it cannot start (a limit on threads or files).
    pub fn block_on<F: Future>(&self, fut: F) -> Result<F::Output, Reason> {
        let rt = self.rt.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
        });
        match rt {
            Ok(rt) => Ok(rt.block_on(fut)),
            Err(e) => Err(Reason::new(
                Code::Io,
                format!("cannot start the async runtime: {e}"),
            )),
        }
    }

    /// Runs `fut` on the calling thread, with no worker threads and no network or timer drivers:
    /// for work that only reads local files (verifying `--file` against `--sig`). `signals`: with
    /// the I/O driver that [`Interrupts`] needs (work that places a file watches SIGINT and SIGTERM).
    pub fn block_on_here<F: Future>(&self, signals: bool, fut: F) -> Result<F::Output, Reason> {
        let mut b = tokio::runtime::Builder::new_current_thread();
        if signals {
            b.enable_io();
        }
        let rt = b
            .build()
            .map_err(|e| Reason::new(Code::Io, format!("cannot start the async runtime: {e}")))?;
        Ok(rt.block_on(fut))
    }

    /// The shared HTTP client from the command line's transport options.
    pub fn http(&self, args: &NetArgs) -> Result<Http, FetchError> {
        let defaults = HttpOptions::default();
        Http::new(HttpOptions {
            ca_certs: args.ca_cert.clone(),
            timeout: Duration::from_secs(args.timeout.max(1)),
            retries: args.retries,
            max_download: args.max_size,
            max_per_host: args.max_per_host,
            retry_delay: self.env.retry_delay.unwrap_or(defaults.retry_delay),
            ..defaults
        })
    }

    /// Prints a report (JSON, or its text as `(stdout, stderr)`) and returns its exit code: the one
    /// place commands' output goes.
    pub fn emit<T: serde::Serialize>(
        &self,
        report: &T,
        text: (String, String),
        verdict: Verdict,
    ) -> i32 {
        let (out, err) = text;
        if self.printer.json {
            self.printer.json(report);
        } else {
            self.printer.out(&out);
        }
        self.printer.err(&err);
        verdict.exit_code()
    }
}

/// SIGINT, SIGTERM and SIGHUP, watched from the moment [`Interrupts::watch`] returns (it must run
/// inside a runtime with its I/O driver): from then on they no longer end the process, and
/// [`Interrupts::recv`] names the first one. A command that races its work against `recv` drops the
/// work on a signal, so that what the work holds (a temp file beside the destination) is cleaned up
/// before the process exits. Watching starts before the work does, so no signal falls in between.
/// SIGHUP is the terminal or SSH session closing (adversarial pass 39: it ended the run and left
/// the temp file behind).
pub struct Interrupts(Option<[tokio::signal::unix::Signal; 3]>);

impl Interrupts {
    /// Starts watching; where signals cannot be watched, [`Interrupts::recv`] never returns.
    pub fn watch() -> Interrupts {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(int), Ok(term), Ok(hup)) => Interrupts(Some([int, term, hup])),
            _ => Interrupts(None),
        }
    }

    /// Waits for SIGINT, SIGTERM or SIGHUP and names it.
    pub async fn recv(&mut self) -> &'static str {
        match &mut self.0 {
            Some([int, term, hup]) => tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
                _ = hup.recv() => "SIGHUP",
            },
            None => std::future::pending().await,
        }
    }
}
