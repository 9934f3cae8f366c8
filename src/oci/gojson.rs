//! JSON as the container runtimes' Go decoders read it. containerd (Fargate, Docker's containerd
//! image store) and Docker decode indexes, manifests and image configs with Go's `encoding/json` into
//! typed structs, and a value of the wrong type in any field those structs know fails the whole
//! decode, and so the pull: a number among `annotations`, a `size` of `1.5`, a `created` that is not
//! an RFC 3339 time, `data` that is not base64, `Cmd` as a string. shipcheck reads only a few of these
//! fields, so it checks the types of all of them against the union of the structs the runtimes
//! decode into (the OCI image-spec structs containerd uses, Docker's distribution and image
//! structs): where one runtime refuses a value, the verdict fails. `null` is every type's zero value
//! to Go and passes; keys no struct knows are ignored, as Go ignores them. Keys Go would read as
//! another key than shipcheck does (another spelling, a case twin) are refused.

use serde_json::Value;
use std::collections::HashSet;

/// A Go type as `encoding/json` decodes into it.
#[derive(Clone, Copy)]
pub enum Go {
    /// `string` (also `digest.Digest` and other string types).
    Str,
    /// `int`, `int64`, `time.Duration`: an integer literal within 64 bits (no fraction, no exponent).
    Int,
    /// `bool`.
    Bool,
    /// `time.Time`: a string holding an RFC 3339 time.
    Time,
    /// `[]byte`: a string in standard base64 with padding.
    Bytes,
    /// A slice.
    List(&'static Go),
    /// A `map[string]T`.
    Map(&'static Go),
    /// A struct: its fields by JSON name.
    Struct(&'static [(&'static str, Go)]),
}

const STRINGS: Go = Go::List(&Go::Str);
const STRING_MAP: Go = Go::Map(&Go::Str);
/// `map[string]struct{}` (ports, volumes).
const SET: Go = Go::Map(&Go::Struct(&[]));

const PLATFORM: &[(&str, Go)] = &[
    ("architecture", Go::Str),
    ("os", Go::Str),
    ("os.version", Go::Str),
    ("os.features", STRINGS),
    ("variant", Go::Str),
    // Docker's manifest list platform.
    ("features", STRINGS),
];

const DESCRIPTOR_FIELDS: &[(&str, Go)] = &[
    ("mediaType", Go::Str),
    ("digest", Go::Str),
    ("size", Go::Int),
    ("urls", STRINGS),
    ("annotations", STRING_MAP),
    ("data", Go::Bytes),
    ("platform", Go::Struct(PLATFORM)),
    ("artifactType", Go::Str),
];
const DESCRIPTOR: Go = Go::Struct(DESCRIPTOR_FIELDS);

/// An OCI index or a Docker manifest list.
pub const INDEX: Go = Go::Struct(&[
    ("schemaVersion", Go::Int),
    ("mediaType", Go::Str),
    ("artifactType", Go::Str),
    ("manifests", Go::List(&DESCRIPTOR)),
    ("subject", DESCRIPTOR),
    ("annotations", STRING_MAP),
]);

/// An OCI or Docker image manifest.
pub const MANIFEST: Go = Go::Struct(&[
    ("schemaVersion", Go::Int),
    ("mediaType", Go::Str),
    ("artifactType", Go::Str),
    ("config", DESCRIPTOR),
    ("layers", Go::List(&DESCRIPTOR)),
    ("subject", DESCRIPTOR),
    ("annotations", STRING_MAP),
]);

/// The `config` of an image config: the OCI `ImageConfig` and Docker's `container.Config` together.
const RUN_CONFIG: Go = Go::Struct(&[
    ("User", Go::Str),
    ("ExposedPorts", SET),
    ("Env", STRINGS),
    // Docker reads these three as a string or a list; containerd only as a list.
    ("Entrypoint", STRINGS),
    ("Cmd", STRINGS),
    ("Shell", STRINGS),
    ("Volumes", SET),
    ("WorkingDir", Go::Str),
    ("Labels", STRING_MAP),
    ("StopSignal", Go::Str),
    ("ArgsEscaped", Go::Bool),
    ("Hostname", Go::Str),
    ("Domainname", Go::Str),
    ("AttachStdin", Go::Bool),
    ("AttachStdout", Go::Bool),
    ("AttachStderr", Go::Bool),
    ("Tty", Go::Bool),
    ("OpenStdin", Go::Bool),
    ("StdinOnce", Go::Bool),
    (
        "Healthcheck",
        Go::Struct(&[
            ("Test", STRINGS),
            ("Interval", Go::Int),
            ("Timeout", Go::Int),
            ("StartPeriod", Go::Int),
            ("StartInterval", Go::Int),
            ("Retries", Go::Int),
        ]),
    ),
    ("Image", Go::Str),
    ("NetworkDisabled", Go::Bool),
    ("MacAddress", Go::Str),
    ("OnBuild", STRINGS),
    ("StopTimeout", Go::Int),
]);

/// An image configuration: OCI's `Image` and Docker's `image.Image` (with its `V1Image` fields).
pub const IMAGE_CONFIG: Go = Go::Struct(&[
    ("created", Go::Time),
    ("author", Go::Str),
    ("architecture", Go::Str),
    ("os", Go::Str),
    ("os.version", Go::Str),
    ("os.features", STRINGS),
    ("variant", Go::Str),
    ("config", RUN_CONFIG),
    (
        "rootfs",
        Go::Struct(&[("type", Go::Str), ("diff_ids", STRINGS)]),
    ),
    (
        "history",
        Go::List(&Go::Struct(&[
            ("created", Go::Time),
            ("created_by", Go::Str),
            ("author", Go::Str),
            ("comment", Go::Str),
            ("empty_layer", Go::Bool),
        ])),
    ),
    ("id", Go::Str),
    ("parent", Go::Str),
    ("comment", Go::Str),
    ("container", Go::Str),
    ("container_config", RUN_CONFIG),
    ("docker_version", Go::Str),
    ("size", Go::Int),
]);

/// A value Go's decoder refuses for its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}` is {found} where Go's JSON decoder (containerd, Docker) needs {needs}: the runtime cannot decode this document, so the pull fails")]
pub struct TypeError {
    /// Where: `manifests[0].annotations.x` (keys cut at 64 characters).
    pub path: String,
    /// What the value is (`a number`, `the string "yesterday"`).
    pub found: String,
    /// What the field needs.
    pub needs: &'static str,
}

/// A key as Go's `encoding/json` compares it with a field name (`bytes.EqualFold`): ASCII case
/// folded, and the two non-ASCII letters whose case orbit holds an ASCII letter (`ſ` = s, the
/// Kelvin sign = k) folded too.
pub fn go_fold(k: &str) -> String {
    k.chars()
        .map(|c| match c {
            '\u{17F}' => 's',
            '\u{212A}' => 'k',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// A JSON key that a runtime's Go decoder reads differently from shipcheck.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Another spelling of a known key (`Digest`, `digeſt`).
    #[error(
        "key `{key}` is `{known}` to Go's JSON decoder (container runtimes), but not its spelling"
    )]
    Spelling {
        /// The key (first 64 characters).
        key: String,
        /// The key Go reads it as.
        known: &'static str,
    },
    /// Two keys equal under Go's case folding.
    #[error(
        "key `{0}` differs from another key only in case (Go's JSON decoder reads them as one)"
    )]
    Case(String),
}

/// The object keys of the OCI and Docker image formats that runtimes read. Go's `encoding/json`
/// (containerd, Docker, the registry) matches keys case-insensitively, so `Digest` or `digeſt` is
/// `digest` to the runtime while it is an unknown key to shipcheck: such spellings are refused.
const KNOWN_KEYS: &[&str] = &[
    "schemaVersion",
    "mediaType",
    "artifactType",
    "manifests",
    "config",
    "layers",
    "subject",
    "annotations",
    "digest",
    "size",
    "urls",
    "data",
    "platform",
    "architecture",
    "os",
    "os.version",
    "os.features",
    "variant",
    "features",
    "rootfs",
    "diff_ids",
    "history",
    "created",
    "author",
];

/// Checks the keys of one JSON object that a runtime decodes into a Go struct (a manifest, an index,
/// a descriptor, a platform, an image config): no two keys equal under Go's case folding
/// (`architecture` and `Architecture`: Go takes the last, shipcheck the exact one), and no other
/// spelling of a known key (`Digest`, `digeſt`). Maps (annotations, labels) are not structs to Go
/// and are not checked.
pub fn go_struct_keys(obj: &serde_json::Map<String, Value>) -> Result<(), KeyError> {
    let mut folded = HashSet::new();
    for k in obj.keys() {
        let shown: String = k.chars().take(64).collect();
        let f = go_fold(k);
        if let Some(known) = KNOWN_KEYS.iter().find(|n| go_fold(n) == f && *n != k) {
            return Err(KeyError::Spelling { key: shown, known });
        }
        if !folded.insert(f) {
            return Err(KeyError::Case(shown));
        }
    }
    Ok(())
}

/// [`go_struct_keys`] on a manifest or index and the descriptors and platforms in it.
pub fn go_manifest_keys(v: &Value) -> Result<(), KeyError> {
    let Some(root) = v.as_object() else {
        return Ok(());
    };
    go_struct_keys(root)?;
    let descriptors = root
        .get("manifests")
        .into_iter()
        .chain(root.get("layers"))
        .filter_map(|l| l.as_array())
        .flatten()
        .chain(root.get("config"))
        .chain(root.get("subject"));
    for d in descriptors.filter_map(|d| d.as_object()) {
        go_struct_keys(d)?;
        if let Some(p) = d.get("platform").and_then(|p| p.as_object()) {
            go_struct_keys(p)?;
        }
    }
    Ok(())
}

/// Checks that Go decodes `v` into `t` without error. `escaped` holds the strings that were written
/// with JSON escapes: Go reads a `time.Time` from the raw bytes of its string, where an escape is
/// never part of a time.
pub fn check(v: &Value, t: Go, escaped: &HashSet<String>) -> Result<(), TypeError> {
    let mut path = String::new();
    walk(v, t, &mut path, escaped)
}

fn walk(v: &Value, t: Go, path: &mut String, escaped: &HashSet<String>) -> Result<(), TypeError> {
    let ok = match (t, v) {
        (_, Value::Null) => true,
        (Go::Str, Value::String(_)) | (Go::Bool, Value::Bool(_)) => true,
        (Go::Int, Value::Number(n)) => n.is_i64(),
        (Go::Time, Value::String(s)) => is_rfc3339(s) && !escaped.contains(s),
        (Go::Bytes, Value::String(s)) => go_base64(s).is_some(),
        (Go::List(e), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, *e, path, escaped)?;
                path.truncate(len);
            }
            true
        }
        (Go::Map(e), Value::Object(o)) => {
            for (k, item) in o {
                let len = path.len();
                push_key(path, k);
                walk(item, *e, path, escaped)?;
                path.truncate(len);
            }
            true
        }
        (Go::Struct(fields), Value::Object(o)) => {
            for (k, item) in o {
                // Go takes the field of the exact name, else one equal under its case folding.
                let field = fields.iter().find(|(n, _)| n == k).or_else(|| {
                    let f = go_fold(k);
                    fields.iter().find(|(n, _)| go_fold(n) == f)
                });
                if let Some((_, ft)) = field {
                    let len = path.len();
                    push_key(path, k);
                    walk(item, *ft, path, escaped)?;
                    path.truncate(len);
                }
            }
            true
        }
        _ => false,
    };
    if ok {
        return Ok(());
    }
    Err(TypeError {
        path: if path.is_empty() {
            "the document".to_string()
        } else {
            path.clone()
        },
        found: describe(v),
        needs: t.needs(),
    })
}

fn push_key(path: &mut String, k: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.extend(k.chars().take(64));
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => {
            let shown: String = s.chars().take(64).collect();
            let more = if s.chars().count() > 64 { "..." } else { "" };
            format!("the string \"{shown}{more}\"")
        }
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

impl Go {
    /// What a value of this type must be, for messages.
    fn needs(self) -> &'static str {
        match self {
            Go::Str => "a string",
            Go::Int => "an integer (no fraction or exponent, within 64 bits)",
            Go::Bool => "a boolean",
            Go::Time => "an RFC 3339 time (2006-01-02T15:04:05Z)",
            Go::Bytes => "base64 (standard alphabet, padded)",
            Go::List(_) => "a list",
            Go::Map(_) | Go::Struct(_) => "an object",
        }
    }
}

/// Decodes `[]byte` as Go's `encoding/json` does: standard base64 with padding, carriage returns
/// and newlines ignored; `None` where Go's decoder fails.
pub fn go_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use base64::Engine as _;
    // Go's StdEncoding is not Strict: non-zero trailing bits in the last character are accepted.
    const GO_STD: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
            .with_decode_allow_trailing_bits(true),
    );
    let clean: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    GO_STD.decode(clean).ok()
}

/// A time as Go's `time.Time` reads it from JSON: `time.Parse(time.RFC3339, s)` (the stricter checks
/// of Go 1.20's `parseStrictRFC3339` are disabled in every release, go.dev/issue/54580). That is a
/// four-digit year, `-`, a two-digit month and day, `T`, a one- or two-digit hour, `:`, two-digit
/// minutes and seconds, an optional fraction after `.` or `,`, then `Z` or `+hh:mm`/`-hh:mm` with an
/// offset of up to 24 hours and 60 minutes; the month, day (for its month and year), hour (below
/// 24), minute and second (below 60) in range. `t`, `z` and leap seconds are refused, as Go does.
pub fn is_rfc3339(s: &str) -> bool {
    let mut rest = s.as_bytes();
    let parsed = (|| {
        let year = digits(&mut rest, 4, false)?;
        let month = literal(&mut rest, b'-').then(|| digits(&mut rest, 2, false))??;
        let day = literal(&mut rest, b'-').then(|| digits(&mut rest, 2, false))??;
        let hour = literal(&mut rest, b'T').then(|| digits(&mut rest, 2, true))??;
        let min = literal(&mut rest, b':').then(|| digits(&mut rest, 2, false))??;
        let sec = literal(&mut rest, b':').then(|| digits(&mut rest, 2, false))??;
        Some((year, month, day, hour, min, sec))
    })();
    let Some((year, month, day, hour, min, sec)) = parsed else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days || hour > 23 || min > 59 || sec > 59 {
        return false;
    }
    if matches!(rest.first(), Some(b'.' | b',')) && rest.get(1).is_some_and(u8::is_ascii_digit) {
        rest = &rest[1..];
        let _ = digits(&mut rest, usize::MAX, true);
    }
    if rest == b"Z" {
        return true;
    }
    let Some((&sign, mut zone)) = rest.split_first() else {
        return false;
    };
    let offset = (|| {
        let h = digits(&mut zone, 2, false)?;
        let m = literal(&mut zone, b':').then(|| digits(&mut zone, 2, false))??;
        zone.is_empty().then_some((h, m))
    })();
    (sign == b'+' || sign == b'-') && offset.is_some_and(|(h, m)| h <= 24 && m <= 60)
}

/// Takes up to `n` ASCII digits from the front of `b` (exactly `n` unless `loose`, then at least one).
fn digits(b: &mut &[u8], n: usize, loose: bool) -> Option<u32> {
    let k = b.iter().take(n).take_while(|c| c.is_ascii_digit()).count();
    if k == 0 || (k < n && !loose) {
        return None;
    }
    let v = b[..k].iter().fold(0u32, |v, d| {
        v.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    });
    *b = &b[k..];
    Some(v)
}

/// Takes `c` from the front of `b`, if it is there.
fn literal(b: &mut &[u8], c: u8) -> bool {
    let ok = b.first() == Some(&c);
    if ok {
        *b = &b[1..];
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_go_refuses_fail_and_null_passes() {
        let ok = json!({"schemaVersion": 2, "manifests": [{"digest": "x", "size": 3,
            "annotations": {"a": "b", "n": null}, "data": "YWJj", "platform": null}],
            "Annotations": {"a": "b"}, "unknown": [1, 2]});
        assert_eq!(check(&ok, INDEX, &HashSet::new()), Ok(()));
        let path = |v: Value, t: Go| check(&v, t, &HashSet::new()).unwrap_err().path;
        assert_eq!(
            path(json!({"manifests": [{"size": 1.5}]}), INDEX),
            "manifests[0].size"
        );
        assert_eq!(
            path(json!({"manifests": [{"size": 1e3}]}), INDEX),
            "manifests[0].size"
        );
        assert_eq!(
            path(
                json!({"manifests": [{"size": 9223372036854775808u64}]}),
                INDEX
            ),
            "manifests[0].size"
        );
        assert_eq!(
            path(json!({"annotations": {"a": 1}}), INDEX),
            "annotations.a"
        );
        // Go matches keys case-insensitively, so `ANNOTATIONS` is checked as `annotations`.
        assert_eq!(
            path(json!({"ANNOTATIONS": {"a": 1}}), MANIFEST),
            "ANNOTATIONS.a"
        );
        assert_eq!(
            path(json!({"schemaVersion": "2"}), MANIFEST),
            "schemaVersion"
        );
        assert_eq!(
            path(json!({"config": {"data": "not base64!"}}), MANIFEST),
            "config.data"
        );
        assert_eq!(
            path(json!({"layers": [{"urls": "http://x"}]}), MANIFEST),
            "layers[0].urls"
        );
        assert_eq!(
            path(
                json!({"manifests": [{"platform": {"os.features": "x"}}]}),
                INDEX
            ),
            "manifests[0].platform.os.features"
        );
        assert_eq!(
            path(json!({"created": "yesterday"}), IMAGE_CONFIG),
            "created"
        );
        assert_eq!(
            path(json!({"config": {"Cmd": "sh"}}), IMAGE_CONFIG),
            "config.Cmd"
        );
        assert_eq!(
            path(
                json!({"config": {"ExposedPorts": {"80/tcp": 1}}}),
                IMAGE_CONFIG
            ),
            "config.ExposedPorts.80/tcp"
        );
        assert_eq!(
            path(json!({"history": [{"empty_layer": "true"}]}), IMAGE_CONFIG),
            "history[0].empty_layer"
        );
        assert_eq!(path(json!([]), IMAGE_CONFIG), "the document");
        let cfg = json!({"created": "2024-02-29T23:59:59.123456789+05:30", "architecture": "arm64",
            "os": "linux", "config": {"Env": ["A=b"], "ExposedPorts": {"80/tcp": {}}, "Cmd": null},
            "rootfs": {"type": "layers", "diff_ids": []}, "history": [{"created": "2024-01-01T00:00:00Z"}]});
        assert_eq!(check(&cfg, IMAGE_CONFIG, &HashSet::new()), Ok(()));
    }

    #[test]
    fn rfc3339_as_go_reads_it() {
        for ok in [
            "2024-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "2024-02-29T12:00:00-07:00",
            "2024-01-01T00:00:00.5Z",
            "2024-12-31T23:59:59.000000000123+23:59",
            // Go's time.Parse(RFC3339) also takes these (its strict checks are disabled).
            "2024-01-01T00:00:00,5Z",
            "2024-01-01T3:04:05Z",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00+01:60",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "",
            "yesterday",
            "2024-01-01",
            "2024-01-01 00:00:00Z",
            "2024-01-01t00:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00z",
            "2023-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:60Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+25:00",
            "2024-01-01T00:00:00+01:61",
            "2024-01-01T00:00:00+0100",
            "2024-01-01T000:00:00Z",
            "2024-1-01T00:00:00Z",
            "+2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00Z ",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn base64_as_go_reads_it() {
        assert_eq!(go_base64("YWJj").unwrap(), b"abc");
        assert_eq!(go_base64("YW\r\nJj").unwrap(), b"abc");
        assert_eq!(go_base64("YQ==").unwrap(), b"a");
        assert_eq!(go_base64("").unwrap(), b"");
        // Go's StdEncoding accepts non-zero trailing bits.
        assert_eq!(go_base64("YR==").unwrap(), b"a");
        for bad in ["YQ", "YQ=", "Y", "YW Jj", "YW-j", "YW_j", "YQ==YQ=="] {
            assert!(go_base64(bad).is_none(), "{bad}");
        }
    }
}
