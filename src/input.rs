//! Loading user input files (JSON and TOML) with errors people can act on.
//!
//! Every failure is a [`Reason`] of the "could not decide" class (exit 2) that names the file, where in it
//! the problem is (a JSON path such as `Statement[1].Effect`, and line:column) and what was expected.
//! Missing or unreadable files are [`Code::Io`]; everything about the contents is [`Code::InvalidInput`].
//!
//! Whether unknown keys are an error is decided by the target type: shipcheck's own formats use
//! `#[serde(deny_unknown_fields)]`; types that model AWS CLI output must not, because AWS documents carry
//! many fields shipcheck does not read.

use crate::report::{Code, Reason};
use serde::de::DeserializeOwned;
use std::io::Read;
use std::path::Path;

/// Largest input file accepted. Policies, task definitions and describe-* outputs are far smaller.
pub const MAX_INPUT_SIZE: u64 = 16 * 1024 * 1024;

fn invalid(path: &Path, msg: impl std::fmt::Display) -> Reason {
    Reason::new(Code::InvalidInput, format!("{}: {msg}", path.display()))
}

/// Why a file could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{}", io_text(.0))]
    Io(#[from] std::io::Error),
    /// The path is a directory.
    #[error("is a directory, expected a file")]
    Directory,
    /// More than the cap (the size when the file system says it, else cap + 1).
    #[error("is {0} bytes or more, over the cap")]
    TooLarge(u64),
}

fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Reads a whole file of at most `max` bytes: refuses directories, and files over `max` before
/// reading when their size is known, while reading otherwise (pipes, devices, `/dev/stdin`,
/// `<(command)`), so no input can make shipcheck read without bound. The one way shipcheck reads a
/// local file whole.
pub fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(ReadError::Directory);
    }
    if meta.len() > max {
        return Err(ReadError::TooLarge(meta.len()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::IsADirectory {
                ReadError::Directory
            } else {
                ReadError::Io(e)
            }
        })?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads a whole input file as UTF-8 text: refuses directories, empty files, files over
/// [`MAX_INPUT_SIZE`], UTF-16 (what Windows PowerShell's `>` writes) and invalid UTF-8. A UTF-8 byte
/// order mark is skipped.
pub fn read_text(path: &Path) -> Result<String, Reason> {
    read_text_bom(path).map(|(text, _)| text)
}

/// [`read_text`], also saying whether the file started with a UTF-8 byte order mark (which is
/// not part of the text returned).
pub fn read_text_bom(path: &Path) -> Result<(String, bool), Reason> {
    let bytes = read_capped(path, MAX_INPUT_SIZE).map_err(|e| match e {
        ReadError::Io(e) => Reason::new(
            Code::Io,
            format!("{}: cannot read: {}", path.display(), io_text(&e)),
        ),
        ReadError::Directory => invalid(path, "is a directory, expected a file")
            .hint("give the path of the file itself"),
        ReadError::TooLarge(n) => invalid(
            path,
            format!(
                "is {n} bytes or more, more than the {} MiB accepted for an input file",
                MAX_INPUT_SIZE / (1024 * 1024)
            ),
        ),
    })?;
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(invalid(path, "is UTF-16 text, expected UTF-8").hint(
            "Windows PowerShell `>` writes UTF-16; save the file as UTF-8 (e.g. `| Out-File -Encoding utf8`)",
        ));
    }
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = std::str::from_utf8(body).map_err(|e| {
        invalid(
            path,
            format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    if text.trim().is_empty() {
        return Err(invalid(path, "is empty, expected a document")
            .hint("was the command that wrote it successful?"));
    }
    Ok((text.to_owned(), bom))
}

/// Reads and deserializes a JSON file. See the module documentation for the errors.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, Reason> {
    let text = read_text(path)?;
    parse_json(&path.display().to_string(), &text)
}

/// Reads and deserializes a TOML file. See the module documentation for the errors.
pub fn read_toml<T: DeserializeOwned>(path: &Path) -> Result<T, Reason> {
    let text = read_text(path)?;
    parse_toml(&path.display().to_string(), &text)
}

/// Renders a serde_path_to_error path for messages: `the top level` or `Statement[1].Effect`.
fn path_text(p: &serde_path_to_error::Path) -> String {
    let s = p.to_string();
    if s == "." {
        "the top level".into()
    } else {
        format!("`{s}`")
    }
}

/// Deserializes JSON text; `name` (a file name, or e.g. `policy.json: PolicyDocument`) starts every
/// error message.
pub fn parse_json<T: DeserializeOwned>(name: &str, text: &str) -> Result<T, Reason> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = path_text(e.path());
        let inner = e.inner();
        let full = inner.to_string();
        let suffix = format!(" at line {} column {}", inner.line(), inner.column());
        let msg = full.strip_suffix(&suffix).unwrap_or(&full);
        use serde_json::error::Category;
        let (what, hint) = match inner.classify() {
            Category::Syntax => (
                format!("is not valid JSON: {msg}"),
                Some("check for a missing comma, quote or bracket near that position"),
            ),
            Category::Eof => (
                format!("ends early, the JSON is incomplete: {msg}"),
                Some("the file looks truncated"),
            ),
            Category::Data => (format!("at {path}: {msg}"), None),
            Category::Io => (msg.to_string(), None),
        };
        let r = Reason::new(
            Code::InvalidInput,
            format!(
                "{name}: {what} (line {}, column {})",
                inner.line(),
                inner.column()
            ),
        );
        match hint {
            Some(h) => r.hint(h),
            None => r,
        }
    })?;
    de.end().map_err(|e| {
        Reason::new(
            Code::InvalidInput,
            format!(
                "{name}: unexpected text after the JSON document (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
        .hint("a file holds one JSON document; were two outputs concatenated?")
    })?;
    Ok(value)
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Deserializes TOML text; `name` starts every error message.
pub fn parse_toml<T: DeserializeOwned>(name: &str, text: &str) -> Result<T, Reason> {
    let located = |span: Option<std::ops::Range<usize>>| match span {
        Some(s) => {
            let (l, c) = line_col(text, s.start);
            format!("(line {l}, column {c})")
        }
        None => String::new(),
    };
    let de = toml::Deserializer::parse(text).map_err(|e| {
        let msg = e.message().trim().to_string();
        Reason::new(
            Code::InvalidInput,
            format!("{name}: is not valid TOML: {msg} {}", located(e.span()))
                .trim_end()
                .to_string(),
        )
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = path_text(e.path());
        let inner = e.inner();
        let msg = inner.message().trim().to_string();
        Reason::new(
            Code::InvalidInput,
            format!("{name}: at {path}: {msg} {}", located(inner.span()))
                .trim_end()
                .to_string(),
        )
    })
}

/// `platforms = [...]` in an audit file: a list of platforms, never an empty one. An empty list (as a
/// template with an unset variable writes) must not switch the platform check off, as
/// `--platforms ""` does not; leaving the key out checks every platform the index lists.
pub fn platform_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = <Vec<String> as serde::Deserialize>::deserialize(d)?;
    if v.is_empty() {
        return Err(serde::de::Error::custom(
            "`platforms = []` names no platform: give platforms such as [\"amd64\", \"arm64\"], or leave `platforms` out to check every platform the index lists",
        ));
    }
    Ok(v)
}

/// `"x"` or `["x", "y"]`.
#[derive(Debug, Clone, Default)]
pub struct StrList(pub Vec<String>);

const EMPTY_LIST: &str = "`[]` names nothing: leave the key out for its default, or list at least one value (an empty list never means \"any\")";

/// An audit file's list that must name something: `[]` (an unfilled template, an unset variable)
/// is refused rather than read as "no narrowing" (`fingerprint = []` would trust every certificate in
/// `key`) or "nothing to check" (`tags = []`).
pub fn nonempty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<StrList, D::Error> {
    let l = <StrList as serde::Deserialize>::deserialize(d)?;
    if l.0.is_empty() {
        return Err(serde::de::Error::custom(EMPTY_LIST));
    }
    Ok(l)
}

/// [`nonempty`] for an optional key.
pub fn some_nonempty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<StrList>, D::Error> {
    nonempty(d).map(Some)
}

impl<'de> serde::Deserialize<'de> for StrList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = StrList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<StrList, E> {
                Ok(StrList(vec![s.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<StrList, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    v.push(s);
                }
                Ok(StrList(v))
            }
        }
        d.deserialize_any(V)
    }
}
