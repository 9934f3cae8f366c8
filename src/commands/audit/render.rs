//! The audit's report in its four formats: text, JSON, JUnit XML and GitHub workflow commands.

use super::{AuditReport, Format};
use crate::report::{code_list, esc, Verdict};

/// XML text and attribute escaping. Unsafe characters are first written as escapes ([`esc`]):
/// newlines too, so no input starts a line of its own in a CI log, and nothing XML 1.0 forbids
/// (C0 controls, U+FFFE, U+FFFF) reaches the document.
fn xml_escape(s: &str) -> String {
    let s = esc(s);
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

/// GitHub workflow-command escaping for messages (`%`, CR, LF) and properties (also `:` and `,`).
fn gh_escape(s: &str, property: bool) -> String {
    let mut o = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        o = o.replace(':', "%3A").replace(',', "%2C");
    }
    o
}

/// Renders the report in `format`: (stdout, stderr).
pub fn render(r: &AuditReport, format: Format, quiet: bool) -> (String, String) {
    let mut err = crate::report::explain(&r.reasons, &r.warnings, quiet);
    let out = match format {
        Format::Json => crate::report::to_json_text(r),
        Format::Text => text(r, quiet, &mut err),
        Format::Junit => junit(r),
        Format::Github => github(r),
    };
    (out, err)
}

/// One line per target and a summary on stdout; explanations added to `err`.
fn text(r: &AuditReport, quiet: bool, err: &mut String) -> String {
    let mut out = String::new();
    let s = &r.summary;
    for t in &r.results {
        let v = t.report.verdict();
        if quiet && v == Verdict::Pass {
            continue;
        }
        let codes = code_list(t.report.reasons());
        out.push_str(&format!(
            "{:5} {:7} {}{}\n",
            v.as_str().to_uppercase(),
            t.kind,
            esc(&t.target),
            if codes.is_empty() {
                String::new()
            } else {
                format!("  ({codes})")
            }
        ));
        for reason in t.report.reasons() {
            err.push_str(&format!(
                "error: {} {}: {}\n",
                t.kind,
                esc(&t.target),
                reason.message
            ));
        }
        if !quiet {
            for w in t.report.warnings() {
                err.push_str(&format!(
                    "warning: {} {}: {}\n",
                    t.kind,
                    esc(&t.target),
                    w.message
                ));
            }
        }
    }
    out.push_str(&format!(
        "audit {}: {} targets, {} pass, {} fail, {} error{}\n",
        r.verdict.as_str().to_uppercase(),
        s.total,
        s.pass,
        s.fail,
        s.error,
        r.shard
            .as_ref()
            .map(|x| format!(" (shard {x})"))
            .unwrap_or_default()
    ));
    out
}

/// JUnit XML: one `testcase` per target, a `failure` or `error` with the reason codes as `type`.
fn junit(r: &AuditReport) -> String {
    let mut out = String::new();
    let s = &r.summary;
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"shipcheck audit\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        s.total, s.fail, s.error
    ));
    out.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\">\n",
        xml_escape(&r.file),
        s.total,
        s.fail,
        s.error
    ));
    for t in &r.results {
        out.push_str(&format!(
            "    <testcase classname=\"shipcheck.{}\" name=\"{}\"",
            t.kind,
            xml_escape(&t.target)
        ));
        let v = t.report.verdict();
        if v == Verdict::Pass {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        let tag = if v == Verdict::Fail {
            "failure"
        } else {
            "error"
        };
        let reasons = t.report.reasons();
        let first = reasons.first().map(|x| x.message.as_str()).unwrap_or("");
        let codes: Vec<&str> = reasons.iter().map(|x| x.code.as_str()).collect();
        let body: Vec<String> = reasons
            .iter()
            .map(|x| xml_escape(&format!("{}: {}", x.code, x.message)))
            .collect();
        out.push_str(&format!(
            "      <{tag} type=\"{}\" message=\"{}\">{}</{tag}>\n",
            xml_escape(&codes.join(",")),
            xml_escape(first),
            body.join("\n")
        ));
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// GitHub Actions workflow commands: one `::error` / `::warning` per reason and warning.
fn github(r: &AuditReport) -> String {
    let mut out = String::new();
    let s = &r.summary;
    for t in &r.results {
        let title = gh_escape(&format!("shipcheck {} {}", t.kind, t.target), true);
        let level = if t.report.verdict() == Verdict::Pass {
            None
        } else {
            Some("error")
        };
        if let Some(level) = level {
            for reason in t.report.reasons() {
                out.push_str(&format!(
                    "::{level} title={title}::{}\n",
                    gh_escape(&format!("{} ({})", reason.message, reason.code), false)
                ));
            }
        }
        for w in t.report.warnings() {
            out.push_str(&format!(
                "::warning title={title}::{}\n",
                gh_escape(&format!("{} ({})", w.message, w.code), false)
            ));
        }
    }
    for reason in &r.reasons {
        out.push_str(&format!(
            "::error title=shipcheck audit::{}\n",
            gh_escape(&reason.message, false)
        ));
    }
    out.push_str(&format!(
        "shipcheck audit: {} targets, {} pass, {} fail, {} error\n",
        s.total, s.pass, s.fail, s.error
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        // `&#1;` would be invalid XML 1.0; control characters, newlines and non-characters are
        // written as visible escapes instead.
        assert_eq!(
            xml_escape("a<b>&\"c'\u{1}\n::x\u{ffff}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\\u{1}\\n::x\\u{ffff}"
        );
        assert_eq!(gh_escape("50%\nnext", false), "50%25%0Anext");
        assert_eq!(gh_escape("a:b,c", true), "a%3Ab%2Cc");
    }
}
