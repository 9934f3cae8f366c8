//! `shipcheck verify-image`: the report of [`crate::oci::verify`] as text.

use crate::cli::VerifyImageArgs;
use crate::context::Context;
use crate::oci::verify::ImageReport;
use crate::oci::verify::{self, ImageRequest};
use crate::report::{code_list, verdict_line, Verdict};

/// `shipcheck verify-image`.
pub fn run(a: VerifyImageArgs, ctx: &Context) -> i32 {
    let mut req = ImageRequest {
        reference: a.reference,
        platforms: a.platforms,
        digest: a.digest,
        deep: a.deep,
        content: a.content,
        username: a.auth.username.clone(),
        password: None,
        credentials: ctx.env.credentials.clone(),
    };
    let report = super::registry_setup(ctx, &a.net, &a.auth)
        .and_then(|(http, p)| {
            req.password = p;
            ctx.block_on(verify::run(&req, &http))
        })
        .unwrap_or_else(|r| ImageReport::failed(&req, r));
    if ctx.env.trace_requests {
        let mut t = report.trace.join("\n");
        t.push_str(&format!("\nshipcheck: {} HTTP requests\n", report.requests));
        ctx.printer.err(&t);
    }
    let text = render_text(&report, ctx.printer.quiet);
    ctx.emit(&report, text, report.verdict)
}

/// Text output: a table of platforms and a verdict line on stdout, reasons with hints on stderr.
pub fn render_text(r: &ImageReport, quiet: bool) -> (String, String) {
    let what = r.reference.clone().unwrap_or_else(|| "image".into());
    let mut out = String::new();
    let mut err = String::new();
    if !quiet && !r.platforms.is_empty() {
        let w = r
            .platforms
            .iter()
            .map(|p| p.platform.len())
            .max()
            .unwrap_or(8)
            .max(8);
        out.push_str(&format!(
            "{:<w$}  {:<9}  {:>6}  DIGEST\n",
            "PLATFORM", "STATUS", "SIZE"
        ));
        for p in &r.platforms {
            out.push_str(&format!(
                "{:<w$}  {:<9}  {:>6}  {}\n",
                p.platform, p.status, p.size, p.digest
            ));
        }
    }
    let digest = r
        .digest
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    match r.verdict {
        Verdict::Pass => {
            if !quiet {
                let names: Vec<&str> = r.platforms.iter().map(|p| p.platform.as_str()).collect();
                let att = match r.attestations.len() {
                    0 => String::new(),
                    1 => "; 1 attestation listed".into(),
                    n => format!("; {n} attestations listed"),
                };
                out.push_str(&verdict_line(
                    r.verdict,
                    &format!("{what}{digest}"),
                    &format!("{} verified{att}", names.join(", ")),
                ));
            }
        }
        v => {
            out.push_str(&verdict_line(
                v,
                &format!("{what}{digest}"),
                &code_list(&r.reasons),
            ));
            err.push_str(&crate::report::explain(&r.reasons, &[], quiet));
        }
    }
    err.push_str(&crate::report::explain(&[], &r.warnings, quiet));
    (out, err)
}
