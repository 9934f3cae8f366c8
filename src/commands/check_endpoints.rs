//! `shipcheck check-endpoints --region R [ENDPOINTS.json [--security-groups SGS.json]]`: the check of
//! [`crate::aws::endpoints`] on files, or live from EC2 without them; its report as text.

use crate::aws::endpoints::{self, EndpointsReport, EndpointsRequest};
use crate::cli::CheckEndpointsArgs;
use crate::context::Context;
use crate::report::{code_list, esc, verdict_line, Verdict};

/// Text output: stdout the verdict line and one table per VPC; stderr the explanations.
pub fn render_text(r: &EndpointsReport, quiet: bool) -> (String, String) {
    let mut out = String::new();
    let mut err = String::new();
    let what = format!("check-endpoints {}", esc(&r.region));
    match r.verdict {
        Verdict::Pass => out.push_str(&verdict_line(
            r.verdict,
            &what,
            &format!(
                "required endpoints present and usable in {} VPC(s){}",
                r.vpcs.len(),
                unchecked(r)
            ),
        )),
        v => out.push_str(&verdict_line(v, &what, &code_list(&r.reasons))),
    }
    if !(quiet && r.verdict == Verdict::Pass) {
        for v in &r.vpcs {
            out.push_str(&format!(
                "{}\n",
                esc(v.vpc_id.as_deref().unwrap_or("(no endpoints in the file)"))
            ));
            let w = v
                .endpoints
                .iter()
                .map(|e| e.service.len())
                .max()
                .unwrap_or(0);
            for e in &v.endpoints {
                out.push_str(&format!(
                    "  {:w$}  {:9}  {:22}  {}\n",
                    esc(&e.service),
                    e.required_type.to_ascii_lowercase(),
                    esc(e.endpoint_id.as_deref().unwrap_or("-")),
                    e.status
                ));
            }
        }
        for v in &r.unchecked_vpcs {
            out.push_str(&format!("{}\n  no VPC endpoint: not checked\n", esc(v)));
        }
    }
    err.push_str(&crate::report::explain(&r.reasons, &r.warnings, quiet));
    (out, err)
}

/// What the pass line adds for the VPCs read live that have no endpoint and were not checked.
fn unchecked(r: &EndpointsReport) -> String {
    match r.unchecked_vpcs.len() {
        0 => String::new(),
        n => format!(" checked; {n} VPC(s) without endpoints not checked"),
    }
}

/// `shipcheck check-endpoints`: files, or EC2 read live when no file is given.
pub fn run_command(a: CheckEndpointsArgs, ctx: &Context) -> i32 {
    let req = EndpointsRequest {
        region: a.region,
        endpoints: a.endpoints,
        security_groups: a.security_groups,
        with_ssm: a.with_ssm,
        with_secretsmanager: a.with_secretsmanager,
        vpc: a.vpc,
    };
    let report = if req.endpoints.is_some() {
        endpoints::run(&req)
    } else {
        ctx.block_on(async {
            let conf = crate::aws::config(Some(&req.region), a.timeout.into()).await;
            endpoints::run_live(&req, &crate::aws::ec2::Ec2::new(&conf)).await
        })
        .unwrap_or_else(|r| endpoints::failed(&req.region, r))
    };
    let text = render_text(&report, ctx.printer.quiet);
    ctx.emit(&report, text, report.verdict)
}
