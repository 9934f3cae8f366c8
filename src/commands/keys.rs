//! `shipcheck keys list`: the catalog's tools with their pinned certificates, validity and expiry.

use crate::catalog::Catalog;
use crate::context::Context;
use crate::pgp::{self, CertInfo};
use crate::report::{esc, Code, Reason, Verdict};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Warn when a pinned certificate expires within this many days.
pub const EXPIRY_WARNING_DAYS: u64 = 60;

#[derive(Debug, Serialize)]
pub struct KeysReport {
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    pub warnings: Vec<Reason>,
    pub tools: Vec<ToolKeys>,
}

#[derive(Debug, Serialize)]
pub struct ToolKeys {
    pub tool: String,
    pub description: Option<String>,
    pub platforms: Vec<String>,
    pub pins: Vec<CertInfo>,
}

pub fn run(catalog: Option<&Path>, now: SystemTime) -> KeysReport {
    let mut report = KeysReport {
        verdict: Verdict::Pass,
        reasons: Vec::new(),
        warnings: Vec::new(),
        tools: Vec::new(),
    };
    let cat = match Catalog::load(catalog) {
        Ok(c) => c,
        Err(e) => {
            report
                .reasons
                .push(Reason::new(Code::InvalidCatalog, e.to_string()));
            report.verdict = Verdict::Error;
            return report;
        }
    };
    for tool in cat.tools.values() {
        let pins = match tool.pins() {
            Ok(p) => p,
            Err(e) => {
                report.reasons.push(Reason::new(
                    Code::InvalidCatalog,
                    format!("tool `{}`: {e}", tool.name),
                ));
                continue;
            }
        };
        let mut infos = Vec::new();
        for pin in &pins {
            let info = pgp::inspect(pin, now);
            if let Some(exp) = info.expires_at {
                let soon = now + Duration::from_secs(EXPIRY_WARNING_DAYS * 86_400);
                if info.valid && exp <= soon {
                    report.warnings.push(Reason::new(
                        Code::KeyExpiresSoon,
                        format!(
                            "{}: pinned certificate {} expires on {}",
                            tool.name,
                            info.fingerprint,
                            info.expires.clone().unwrap_or_default()
                        ),
                    ));
                }
            }
            if !info.valid {
                report.warnings.push(Reason::new(
                    Code::CertificateInvalid,
                    format!(
                        "{}: pinned certificate {} is not valid today: {}",
                        tool.name,
                        info.fingerprint,
                        info.problem.clone().unwrap_or_default()
                    ),
                ));
            }
            if info.sha1_self_signatures_accepted {
                report.warnings.push(Reason::new(
                    Code::PolicyRelaxed,
                    format!("{}: certificate {} is accepted with SHA-1 self-signatures (per-pin relaxation)", tool.name, info.fingerprint),
                ));
            }
            infos.push(info);
        }
        report.tools.push(ToolKeys {
            tool: tool.name.clone(),
            description: tool.spec.description.clone(),
            platforms: tool.spec.platforms.clone(),
            pins: infos,
        });
    }
    if !report.reasons.is_empty() {
        report.verdict = Verdict::Error;
    }
    report
}

pub fn render_text(r: &KeysReport, quiet: bool) -> (String, String) {
    let mut out = String::new();
    let mut err = String::new();
    for t in &r.tools {
        out.push_str(&format!(
            "{}  ({})\n",
            esc(&t.tool),
            esc(&t.platforms.join(", "))
        ));
        for p in &t.pins {
            let state = if p.valid {
                "valid".to_string()
            } else {
                format!("INVALID: {}", p.problem.clone().unwrap_or_default())
            };
            let exp = p.expires.clone().unwrap_or_else(|| "never".into());
            out.push_str(&format!(
                "  certificate {}  {}, expires {exp}  [{}]\n",
                p.fingerprint,
                esc(&state),
                esc(&p.source)
            ));
            for k in &p.keys {
                let mark = if k.pinned && k.valid {
                    "may sign"
                } else if k.pinned {
                    "pinned, but revoked or expired now: may not sign"
                } else if k.signing {
                    "signing-capable, NOT pinned"
                } else {
                    "not for signing"
                };
                out.push_str(&format!("    {:7} {}  {mark}\n", k.role, k.fingerprint));
            }
        }
    }
    err.push_str(&crate::report::explain(&r.reasons, &r.warnings, quiet));
    (out, err)
}

/// `shipcheck keys list`.
pub fn run_command(catalog: Option<&Path>, ctx: &Context) -> i32 {
    let report = run(catalog, SystemTime::now());
    let text = render_text(&report, ctx.printer.quiet);
    ctx.emit(&report, text, report.verdict)
}
