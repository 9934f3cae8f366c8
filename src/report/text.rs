//! Reports as people read them: the verdict line and code list every command prints, reasons with
//! their hints, and the escaping that keeps outside text from acting on a terminal or a CI log.

use super::{Reason, Verdict};
use serde::Serialize;
use std::borrow::Cow;

/// `PASS`, `FAIL` or `ERROR`.
pub fn label(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Error => "ERROR",
    }
}

/// The line every command's text output ends its verdict with: `PASS|FAIL|ERROR <what>: <detail>`.
pub fn verdict_line(v: Verdict, what: &str, detail: &str) -> String {
    format!("{} {what}: {detail}\n", label(v))
}

/// The codes of `reasons`, each once, in the order they first appear, comma-separated.
pub fn code_list(reasons: &[Reason]) -> String {
    let mut codes: Vec<&str> = Vec::new();
    for r in reasons {
        if !codes.contains(&r.code.as_str()) {
            codes.push(r.code.as_str());
        }
    }
    codes.join(", ")
}

/// True for characters that must not reach a terminal or a CI log raw: control characters (C0,
/// including newline and carriage return, DEL and C1), Unicode's bidirectional controls and
/// default-ignorable code points (invisible: zero-width characters, soft hyphen, variation
/// selectors, tag characters, fillers), the line and paragraph separators and the interlinear
/// annotation characters. Each of them can hide or reorder text.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Default_Ignorable_Code_Point (Unicode 15) and Bidi_Control.
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
                // Line and paragraph separators, interlinear annotations, non-characters.
                | '\u{2028}'..='\u{2029}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{FFFE}'..='\u{FFFF}'
        )
}

/// Text from outside (a registry, a file, a URL, a certificate) made safe to print as part of one
/// line: every unsafe character (see above) is written as its Rust escape (`\n`, `\u{1b}`), so no
/// input can colour or move around the terminal, hide text, or start a line of its own (a CI
/// workflow command such as `::add-mask::`).
pub fn esc(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A report as pretty JSON for stdout, with the unsafe characters serde_json leaves raw (DEL, C1,
/// invisible Unicode; it escapes the rest of C0 itself) written as `\uXXXX` escapes, so the JSON
/// means the same and a terminal that shows it is safe. They can only occur inside strings.
pub fn to_json_text<T: Serialize>(v: &T) -> String {
    let s = serde_json::to_string_pretty(v).expect("reports serialize");
    let mut out = String::with_capacity(s.len() + 1);
    for c in s.chars() {
        if is_unsafe(c) && c != '\n' {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out.push('\n');
    out
}

/// The last line of defence for text output: every unsafe character except the newlines that end
/// shipcheck's own lines is escaped as [`esc`] does.
pub fn esc_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let lines: Vec<Cow<str>> = s.split('\n').map(esc).collect();
    Cow::Owned(lines.join("\n"))
}

/// People's text about a report's problems, for stderr: each reason as `error: …` with its hint, then,
/// unless `quiet`, each warning as `warning: …` with its hint. Every command's text output uses it.
pub fn explain(reasons: &[Reason], warnings: &[Reason], quiet: bool) -> String {
    let mut err = String::new();
    let mut put = |label: &str, r: &Reason| {
        err.push_str(&format!("{label}: {}\n", r.message));
        if let Some(h) = &r.hint {
            err.push_str(&format!("  hint: {h}\n"));
        }
    };
    for r in reasons {
        put("error", r);
    }
    if !quiet {
        for w in warnings {
            put("warning", w);
        }
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Code;

    #[test]
    fn outside_text_is_escaped() {
        assert_eq!(esc("plain text"), "plain text");
        assert_eq!(
            esc("a\n::add-mask::x\r\u{1b}[31mred\u{7f}\u{9b}"),
            "a\\n::add-mask::x\\r\\u{1b}[31mred\\u{7f}\\u{9b}"
        );
        assert_eq!(esc("abc\u{202e}cba"), "abc\\u{202e}cba");
        for c in [
            '\u{61c}',
            '\u{ad}',
            '\u{180e}',
            '\u{fff9}',
            '\u{34f}',
            '\u{3164}',
            '\u{e0041}',
            '\u{ffff}',
        ] {
            assert!(is_unsafe(c), "{c:?}");
            assert_eq!(esc(&c.to_string()), c.escape_default().to_string());
        }
        assert!(!is_unsafe('é') && !is_unsafe('→') && !is_unsafe('日'));
        let j = to_json_text(&serde_json::json!("\u{e0041}"));
        assert_eq!(j, "\"\\udb40\\udc41\"\n");
        assert_eq!(serde_json::from_str::<String>(&j).unwrap(), "\u{e0041}");
        let r = Reason::new(Code::InvalidManifest, "x\ny").hint("h\u{1b}");
        assert_eq!(
            (r.message.as_str(), r.hint.as_deref()),
            ("x\\ny", Some("h\\u{1b}"))
        );
        assert_eq!(esc_lines("one\u{1b}\ntwo\n"), "one\\u{1b}\ntwo\n");
        let j = to_json_text(&serde_json::json!({"m": "a\u{9b}b\u{202e}\n\u{1b}"}));
        assert_eq!(j, "{\n  \"m\": \"a\\u009bb\\u202e\\n\\u001b\"\n}\n");
        let back: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(back["m"], "a\u{9b}b\u{202e}\n\u{1b}");
    }
}
