//! `shipcheck verify-taskdef`: the report of [`crate::ecs::taskdef`] as text.

use crate::cli::VerifyTaskdefArgs;
use crate::context::Context;
use crate::ecs::taskdef::TaskdefReport;
use crate::ecs::taskdef::{self, ImageOptions, Source, TaskdefRequest};
use crate::report::{esc, verdict_line, Verdict};

/// `shipcheck verify-taskdef`.
pub fn run(a: VerifyTaskdefArgs, ctx: &Context) -> i32 {
    let source = match (a.family, a.taskdef) {
        (Some(id), _) => Source::Live {
            id,
            region: a.region,
        },
        (None, Some(p)) if p.to_string_lossy().starts_with("arn:") => Source::Live {
            id: p.to_string_lossy().into_owned(),
            region: a.region,
        },
        (None, p) => Source::File(p.unwrap_or_default()),
    };
    let mut req = TaskdefRequest {
        source,
        pin: a.pin,
        output: a.output,
        images: ImageOptions {
            deep: a.deep,
            content: a.content,
            username: a.auth.username.clone(),
            password: None,
            registry: a.registry.clone(),
            credentials: ctx.env.credentials.clone(),
        },
    };
    let report = super::registry_setup(ctx, &a.net, &a.auth)
        .and_then(|(http, p)| {
            req.images.password = p;
            ctx.block_on(taskdef::run(&req, &http))
        })
        .unwrap_or_else(|r| TaskdefReport::failed(&req, r));
    let text = render_text(&report, ctx.printer.quiet);
    ctx.emit(&report, text, report.verdict)
}

pub fn render_text(r: &TaskdefReport, quiet: bool) -> (String, String) {
    let mut out = String::new();
    let mut err = String::new();
    let what = match (&r.family, r.revision) {
        (Some(f), Some(rev)) => format!("{f}:{rev}"),
        (Some(f), None) => f.clone(),
        (None, _) => r.path.clone(),
    };
    let what = esc(&what);
    let platform = r.platform.clone().unwrap_or_default();
    if r.verdict != Verdict::Pass || !quiet {
        out.push_str(&verdict_line(
            r.verdict,
            &format!("task definition {what} ({platform})"),
            &format!("{} container(s)", r.containers.len()),
        ));
        for c in &r.containers {
            out.push_str(&format!(
                "  {:5} {:20} {}  {}\n",
                c.verdict.as_str(),
                esc(&c.name),
                esc(&c.image),
                c.digest.clone().unwrap_or_else(|| "-".into())
            ));
        }
        if let Some(p) = &r.pinned_output {
            out.push_str(&format!("  pinned copy written to {}\n", esc(p)));
        }
    }
    err.push_str(&crate::report::explain(&r.reasons, &r.warnings, quiet));
    (out, err)
}
