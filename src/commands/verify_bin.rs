//! `shipcheck verify-bin`: the report of [`crate::release`] as text.

use crate::cli::VerifyBinArgs;
use crate::context::{Context, Interrupts};
use crate::net::NoProgress;
use crate::release::BinReport;
use crate::release::{self, BinRequest};
use crate::report::{code_list, esc, verdict_line, Code, Reason, Verdict};

/// `shipcheck verify-bin`.
pub fn run(a: VerifyBinArgs, ctx: &Context) -> i32 {
    let req = BinRequest {
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
        home: ctx.env.home.clone(),
        max_size: a.net.max_size,
    };
    // Local files need no HTTP client (no TLS roots read) and no worker threads; they watch
    // signals only where a file may be placed, and only for a regular file: a read from a pipe or
    // FIFO that stalls is not between chunks, and there SIGINT and SIGTERM keep ending the run.
    let report = if let Some(file) = &req.file {
        let regular = std::fs::metadata(file).is_ok_and(|m| m.is_file());
        let installs = regular && !req.no_install && (req.dest.is_some() || req.tool.is_some());
        ctx.block_on_here(installs, async {
            if installs {
                interruptible(&req, release::run(&req, None, &NoProgress)).await
            } else {
                release::run(&req, None, &NoProgress).await
            }
        })
    } else {
        ctx.http(&a.net).map_err(|e| e.reason()).and_then(|http| {
            let progress = ctx.printer.progress();
            ctx.block_on(interruptible(
                &req,
                release::run(&req, Some(&http), progress.as_ref()),
            ))
        })
    }
    .unwrap_or_else(|r| BinReport::failed(&req, r));
    let text = render_text(&report, ctx.printer.quiet);
    ctx.emit(&report, text, report.verdict)
}

/// Ctrl-C or SIGTERM while `work` runs (a download, or a local file's copy): the work is dropped,
/// and with it the temp file beside the destination, before the process exits. Signals are watched
/// before the work starts.
async fn interruptible(
    req: &BinRequest,
    work: impl std::future::Future<Output = BinReport>,
) -> BinReport {
    let mut stop = Interrupts::watch();
    tokio::select! {
        r = work => r,
        sig = stop.recv() => BinReport::failed(
            req,
            Reason::new(Code::Interrupted, format!("interrupted by {sig}; nothing was installed"))
                .hint("run it again; the destination is untouched and the temp file beside it was removed"),
        ),
    }
}

/// Text rendering: (stdout, stderr).
pub fn render_text(r: &BinReport, quiet: bool) -> (String, String) {
    let what = match (&r.tool, &r.version, &r.platform) {
        (Some(t), Some(v), Some(p)) => format!("{t} {v} {p}"),
        (Some(t), _, _) => t.clone(),
        _ => r
            .url
            .clone()
            .or_else(|| r.file.clone())
            .unwrap_or_else(|| "file".into()),
    };
    let what = esc(&what);
    let mut out = String::new();
    let mut err = String::new();
    match r.verdict {
        Verdict::Pass => {
            if !quiet {
                let signer = r.signer.as_ref().map(|s| {
                    if s.key == s.fingerprint {
                        format!("signed by {}", s.fingerprint)
                    } else {
                        format!("signed by {} (key {})", s.fingerprint, s.key)
                    }
                });
                let installed = match &r.installed {
                    Some(p) => format!("; installed {}", esc(p)),
                    None => "; not installed".into(),
                };
                out.push_str(&verdict_line(
                    r.verdict,
                    &what,
                    &format!(
                        "{}, sha256 {}{installed}",
                        signer.unwrap_or_default(),
                        r.sha256.clone().unwrap_or_default()
                    ),
                ));
            }
        }
        v => {
            out.push_str(&verdict_line(v, &what, &code_list(&r.reasons)));
            err.push_str(&crate::report::explain(&r.reasons, &[], quiet));
            if v == Verdict::Fail || r.installed.is_none() {
                if let Some(dest) = &r.installed {
                    err.push_str(&format!("  note: {} was installed\n", esc(dest)));
                } else {
                    err.push_str("  note: nothing was installed\n");
                }
            }
        }
    }
    err.push_str(&crate::report::explain(&[], &r.warnings, quiet));
    (out, err)
}
