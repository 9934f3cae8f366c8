//! `shipcheck check-iam`: the evaluation of [`crate::aws::policy`] on policy files and, with
//! `--role` or `--user`, on the identity's policies read from IAM; its report as text.

use crate::aws::iam::Identity;
use crate::aws::policy::{run, ActionStatus, IamReport, IamRequest};
use crate::cli::CheckIamArgs;
use crate::context::Context;
use crate::report::{code_list, esc, verdict_line, Verdict};

/// `shipcheck check-iam`: policy files, and with `--role` or `--user` the identity's policies read
/// from IAM.
pub fn run_command(a: CheckIamArgs, ctx: &Context) -> i32 {
    let mut req = IamRequest::new(a.policies, a.workflow, a.repository);
    let who = match (a.role, a.user) {
        (Some(r), None) => Some(Identity::Role(r)),
        (None, Some(u)) => Some(Identity::User(u)),
        _ => None,
    };
    let who_name = who.as_ref().map(Identity::describe).unwrap_or_default();
    let live = who.map(|who| {
        ctx.block_on(async {
            let conf = crate::aws::global_config(a.region.as_deref(), a.timeout.into()).await;
            crate::aws::iam::identity_policies(&conf, &who).await
        })
        .and_then(|r| r)
    });
    let report = match live {
        Some(Err(r)) => IamReport::failed(&req, r),
        Some(Ok(found)) => {
            req.set_identity(&who_name, found);
            run(&req)
        }
        None => run(&req),
    };
    let text = render_text(&report, ctx.printer.quiet);
    ctx.emit(&report, text, report.verdict)
}

/// Text output: stdout gets the verdict line and the per-action table; stderr the explanations.
pub fn render_text(r: &IamReport, quiet: bool) -> (String, String) {
    let mut out = String::new();
    let mut err = String::new();
    let repo = r
        .repository
        .clone()
        .unwrap_or_else(|| "any repository".to_string());
    let what = format!("check-iam {} on {}", r.workflow.as_str(), esc(&repo));
    match r.verdict {
        Verdict::Pass => out.push_str(&verdict_line(
            r.verdict,
            &what,
            &format!("all {} required actions are allowed", r.actions.len()),
        )),
        v => out.push_str(&verdict_line(v, &what, &code_list(&r.reasons))),
    }
    if !r.actions.is_empty() && (!quiet || r.verdict != Verdict::Pass) {
        let w = r.actions.iter().map(|a| a.action.len()).max().unwrap_or(0);
        for a in &r.actions {
            let st = match a.status {
                ActionStatus::Granted if a.conditional => "granted (conditional)".to_string(),
                s => s.as_str().to_string(),
            };
            let by = match (&a.statement, &a.resource) {
                (Some(s), Some(res)) => format!("  {}  {}", esc(s), esc(res)),
                (Some(s), None) => format!("  {}", esc(s)),
                _ => String::new(),
            };
            let line = format!("  {:w$}  {st:14}{by}", esc(&a.action));
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    if r.repository.is_none() && r.verdict != Verdict::Error && !quiet {
        err.push_str("note: no --repository given: repository actions were checked against any ECR repository ARN\n");
    }
    err.push_str(&crate::report::explain(&r.reasons, &r.warnings, quiet));
    (out, err)
}
