//! Platforms (`os/arch[/variant]`), normalised and matched as containerd does.

use std::fmt;

/// A platform `os/arch[/variant]`, with architecture aliases normalised as containerd does
/// (`x86_64` = `amd64`, `aarch64` = `arm64`, `i386` = `386`, `armhf` = `arm/v7`, `armel` = `arm/v6`).
/// An empty `os` (allowed in index entries) means "the host's", as containerd reads it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    /// Operating system, lowercase (`linux`); empty for "the host's".
    pub os: String,
    /// Architecture, lowercase and normalised (`amd64`, `arm64`).
    pub arch: String,
    /// Architecture variant (`v8`), when given or implied by an alias.
    pub variant: Option<String>,
    /// `os.version`: the Windows build an image is for (`10.0.17763.6054`), or a Windows host
    /// requires (`10.0.17763`); compared only for Windows, as containerd does.
    pub os_version: Option<String>,
}

/// containerd's `normalizeArch`: architecture aliases, and the variant some aliases imply.
fn norm_arch(arch: &str, variant: Option<&str>) -> (String, Option<String>) {
    let a = arch.to_ascii_lowercase();
    let v = variant
        .filter(|v| !v.is_empty())
        .map(|v| v.to_ascii_lowercase());
    match a.as_str() {
        "i386" => ("386".into(), None),
        "x86_64" | "x86-64" => ("amd64".into(), v),
        "aarch64" => ("arm64".into(), v),
        "armhf" => ("arm".into(), Some("v7".into())),
        "armel" => ("arm".into(), Some("v6".into())),
        _ => (a, v),
    }
}

/// containerd's `normalizeOS`: lowercase, `macos` = `darwin`.
fn norm_os(os: &str) -> String {
    match os.to_ascii_lowercase().as_str() {
        "macos" => "darwin".into(),
        o => o.into(),
    }
}

/// Why a platform is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// A field of an index entry or image config holds more than one token (see
    /// [`valid_platform_token`]).
    #[error("platform field `{field}` is {value:?}, which is not a single token (no `/`, whitespace or control characters)")]
    NotAToken {
        /// `os`, `architecture` or `variant`.
        field: &'static str,
        /// The field's value.
        value: String,
    },
    /// A required platform the user wrote is not one.
    #[error("`{0}` is not a platform (examples: amd64, arm64, arm/v7, linux/arm64/v8)")]
    NotAPlatform(String),
}

/// True when `s` can be one field of a platform (os, architecture or variant) as a registry or image
/// config writes it: no `/` (which would make `arm64/v8` read as two fields), no whitespace, no
/// control characters.
pub fn valid_platform_token(s: &str) -> bool {
    !s.chars()
        .any(|c| c == '/' || c.is_whitespace() || c.is_control())
}

impl Platform {
    /// A platform from its fields, normalised (lowercase, architecture and OS aliases) but not checked.
    pub fn new(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        let (arch, variant) = norm_arch(arch, variant);
        Platform {
            os: norm_os(os),
            arch,
            variant,
            os_version: None,
        }
    }

    /// This platform with `os.version` (empty: none).
    pub fn with_os_version(mut self, v: Option<&str>) -> Platform {
        self.os_version = v.filter(|v| !v.is_empty()).map(str::to_string);
        self
    }

    /// Builds a platform from the fields of an index entry or image config, refusing fields that are
    /// not single tokens (see [`valid_platform_token`]).
    pub fn from_fields(
        os: &str,
        arch: &str,
        variant: Option<&str>,
    ) -> Result<Platform, PlatformError> {
        for (name, v) in [
            ("os", Some(os)),
            ("architecture", Some(arch)),
            ("variant", variant),
        ] {
            if let Some(v) = v.filter(|v| !valid_platform_token(v)) {
                return Err(PlatformError::NotAToken {
                    field: name,
                    value: v.to_string(),
                });
            }
        }
        Ok(Platform::new(os, arch, variant))
    }

    /// Parses a required platform: `amd64` (linux/amd64), `arm64`, `arm/v7`, or `os/arch[/variant]`.
    pub fn parse(s: &str) -> Result<Platform, PlatformError> {
        // containerd's `os(os.version)/arch` form: `windows(10.0.17763)/amd64`.
        let t = s.trim();
        if let Some((os, rest)) = t.split_once('(') {
            let (version, tail) = rest
                .split_once(')')
                .ok_or_else(|| PlatformError::NotAPlatform(s.to_string()))?;
            let ok = !version.is_empty()
                && version.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && tail.starts_with('/');
            if !ok || os.contains('/') {
                return Err(PlatformError::NotAPlatform(s.to_string()));
            }
            let p = Platform::parse(&format!("{os}{tail}"))?;
            if !os.eq_ignore_ascii_case(&p.os) {
                return Err(PlatformError::NotAPlatform(s.to_string()));
            }
            return Ok(p.with_os_version(Some(version)));
        }
        let parts: Vec<&str> = t.split('/').collect();
        let bad = || PlatformError::NotAPlatform(s.to_string());
        if parts.iter().any(|p| {
            p.is_empty()
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        }) {
            return Err(bad());
        }
        const OSES: &[&str] = &[
            "linux",
            "windows",
            "darwin",
            "macos",
            "freebsd",
            "netbsd",
            "openbsd",
            "solaris",
            "illumos",
            "aix",
            "android",
            "ios",
            "plan9",
            "js",
            "wasip1",
            "dragonfly",
        ];
        let is_os = |p: &str| OSES.contains(&p.to_ascii_lowercase().as_str());
        // `unknown` is what buildx writes on attestations; no runtime runs on it.
        if parts.iter().any(|p| p.eq_ignore_ascii_case("unknown")) {
            return Err(bad());
        }
        match parts.as_slice() {
            [arch] if !is_os(arch) => Ok(Platform::new("linux", arch, None)),
            [os, arch] if is_os(os) => Ok(Platform::new(os, arch, None)),
            [arch, variant] => Ok(Platform::new("linux", arch, Some(variant))),
            [os, arch, variant] if is_os(os) => Ok(Platform::new(os, arch, Some(variant))),
            _ => Err(bad()),
        }
    }

    /// The variant with containerd's normalisation and the architecture's default spelled out:
    /// amd64 = v1, arm64 = v8 (`8`, `v8.0` too; `9`, `9.0`, `v9.0` = v9), arm = v7 (`5`..`8` = `v5`..`v8`).
    pub fn effective_variant(&self) -> Option<String> {
        let v = self.variant.as_deref();
        let s = match (self.arch.as_str(), v) {
            ("amd64", None) => "v1",
            ("arm64", None | Some("8" | "v8.0")) => "v8",
            ("arm64", Some("9" | "9.0" | "v9.0")) => "v9",
            ("arm", None | Some("7")) => "v7",
            ("arm", Some(d @ ("5" | "6" | "8"))) => return Some(format!("v{d}")),
            (_, v) => return v.map(str::to_string),
        };
        Some(s.into())
    }

    /// True when `other` is this platform after containerd's normalisation: same os, same
    /// architecture, and the same variant where a missing variant means the architecture's default
    /// (arm64 = v8, arm = v7, amd64 = v1).
    pub fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.arch == other.arch
            && self.effective_variant() == other.effective_variant()
    }

    /// True when an index entry claiming this platform truthfully describes an image whose config
    /// says `config`. An entry without an `os` claims no os (the runtime reads it as its host's, so
    /// which os the image must have is decided per required platform, see
    /// [`crate::oci::selection`]).
    /// A Windows entry that names a build must name the config's (major.minor.build).
    pub fn claims(&self, config: &Platform) -> bool {
        if self.os == "windows" {
            if let (Some(e), Some(c)) = (&self.os_version, &config.os_version) {
                let build = |v: &str| v.split('.').take(3).collect::<Vec<_>>().join(".");
                if build(e) != build(c) {
                    return false;
                }
            }
        }
        if self.os.is_empty() {
            let mut c = config.clone();
            c.os.clear();
            return self.matches(&c);
        }
        self.matches(config)
    }

    /// Where containerd's default matcher for this (required) platform ranks `other`: `Some(0)` for
    /// the platform itself, a higher rank for a platform containerd falls back to on such a host
    /// (an older variant of the same architecture, 32-bit arm on arm64, 386 on amd64), `None` when
    /// containerd would not run it here at all. Mirrors `platforms.Only` (containerd 2.x).
    pub fn runtime_rank(&self, other: &Platform) -> Option<usize> {
        // containerd's normalizeOS: an entry without an os is taken for the host's.
        let mut other = other.clone();
        if other.os.is_empty() {
            other.os = self.os.clone();
        }
        if !self.windows_build_runs(&other) {
            return None;
        }
        self.fallbacks().iter().position(|p| p.matches(&other))
    }

    /// containerd's Windows matcher: when both a Windows host (`self`) and an image name their
    /// `os.version`, the host runs the image only on the same major.minor and a compatible build
    /// (the same build before Windows Server 2022; from 2022 on, any build from the previous LTSC
    /// up to the host's). Without either version, any build matches (as for Hyper-V isolation).
    pub fn windows_build_runs(&self, image: &Platform) -> bool {
        if self.os != "windows" || image.os != "windows" {
            return true;
        }
        let (Some(host), Some(ctr)) = (&self.os_version, &image.os_version) else {
            return true;
        };
        let parse = |v: &str| -> Option<(u32, u32, u32)> {
            let mut it = v.split('.').map(str::parse::<u32>);
            Some((it.next()?.ok()?, it.next()?.ok()?, it.next()?.ok()?))
        };
        let Some(h) = parse(host) else {
            return false;
        };
        // An os.version that is not numbers: containerd 1.6 matches it by prefix (`HasPrefix` of
        // the host's major.minor.build), so `10.0.17763a.7` is taken for a 17763 host.
        let Some(c) = parse(ctr) else {
            return ctr.starts_with(&format!("{}.{}.{}", h.0, h.1, h.2));
        };
        if (h.0, h.1) != (c.0, c.1) {
            return false;
        }
        const LTSC2022: u32 = 20348;
        const LTSCS: [u32; 2] = [LTSC2022, 26100];
        if h.2 < LTSC2022 {
            return h.2 == c.2;
        }
        let oldest = LTSCS
            .iter()
            .rev()
            .find(|&&l| h.2 > l)
            .copied()
            .unwrap_or(LTSC2022);
        oldest <= c.2 && c.2 <= h.2
    }

    /// `unknown/unknown`, the platform buildx gives attestation manifests.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" && self.arch == "unknown"
    }

    /// This platform followed by what containerd's `platforms.Only` accepts in its place, best first
    /// (`platformVector` in containerd/platforms `compare.go`, quirks included: variant numbers
    /// are read with Go's `Atoi` after an optional `v`, and arm64 minor versions only as one digit).
    fn fallbacks(&self) -> Vec<Platform> {
        let at = |arch: &str, v: String| Platform {
            os: self.os.clone(),
            arch: arch.into(),
            variant: Some(v),
            os_version: self.os_version.clone(),
        };
        let atoi = |v: &str| -> Option<i64> { v.strip_prefix('v').unwrap_or(v).parse().ok() };
        let mut out = vec![self.clone()];
        let v = self.effective_variant().unwrap_or_default();
        match self.arch.as_str() {
            "amd64" => {
                if let Some(n) = atoi(&v).filter(|&n| n > 1) {
                    out.extend((1..n).rev().map(|k| at("amd64", format!("v{k}"))));
                }
                out.push(
                    Platform::new(&self.os, "386", None)
                        .with_os_version(self.os_version.as_deref()),
                );
            }
            "arm" => {
                if let Some(n) = atoi(&v).filter(|&n| n > 5) {
                    out.extend((5..n).rev().map(|k| at("arm", format!("v{k}"))));
                }
            }
            "arm64" => {
                // arm64/v9.x also runs v9.{x-1..0} and v8.{x+5..0}; v8.x runs v8.{x-1..0}.
                let (major, minor) = v.split_once('.').unwrap_or((&v, ""));
                if let Some(mut major) = atoi(major).filter(|&m| m >= 8) {
                    let mut minor: i64 = if v.len() == 4 {
                        minor.parse().unwrap_or(0)
                    } else {
                        0
                    };
                    let name = |major: i64, m: i64| match m {
                        0 => format!("v{major}"),
                        m => format!("v{major}.{m}"),
                    };
                    if major == 9 {
                        out.extend((0..minor).rev().map(|m| at("arm64", name(9, m))));
                        minor += 5;
                        major = 8;
                        out.push(at("arm64", format!("v8.{minor}")));
                    }
                    out.extend((0..minor).rev().map(|m| at("arm64", name(major, m))));
                }
                // Then 32-bit arm, from arm/v8 down (arm/v9 for arm64/v9: containerd's spelling).
                let arm = if v.starts_with("v8.") || v.starts_with("v9.") {
                    "v8".to_string()
                } else {
                    v.clone()
                };
                out.extend(at("arm", arm).fallbacks());
            }
            _ => {}
        }
        out
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.os)?;
        if let Some(v) = &self.os_version {
            write!(f, "({v})")?;
        }
        write!(f, "/{}", self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// containerd's Windows host/image compatibility (`checkWindowsHostAndContainerCompat`).
    #[test]
    fn windows_builds_as_containerd_matches_them() {
        let p = |s: &str| Platform::parse(s).unwrap();
        let host2019 = p("windows(10.0.17763)/amd64");
        assert_eq!(host2019.to_string(), "windows(10.0.17763)/amd64");
        let img = |v: &str| Platform::new("windows", "amd64", None).with_os_version(Some(v));
        assert!(host2019.windows_build_runs(&img("10.0.17763.6054")));
        assert!(!host2019.windows_build_runs(&img("10.0.20348.2527")));
        assert!(!host2019.windows_build_runs(&img("10.0.14393.1")));
        assert!(host2019.windows_build_runs(&Platform::new("windows", "amd64", None)));
        let host2022 = p("windows(10.0.20348)/amd64");
        assert!(host2022.windows_build_runs(&img("10.0.20348.2527")));
        assert!(!host2022.windows_build_runs(&img("10.0.17763.6054")));
        let host2025 = p("windows(10.0.26100)/amd64");
        assert!(host2025.windows_build_runs(&img("10.0.20348.2527")));
        assert!(host2025.windows_build_runs(&img("10.0.26100.1")));
        assert!(!host2025.windows_build_runs(&img("10.0.17763.6054")));
        assert!(!host2019.windows_build_runs(&img("ten")));
        assert_eq!(host2019.runtime_rank(&img("10.0.20348.1")), None);
        assert_eq!(host2019.runtime_rank(&img("10.0.17763.1")), Some(0));
        // Linux ignores os.version.
        assert_eq!(
            p("amd64")
                .runtime_rank(&Platform::new("linux", "amd64", None).with_os_version(Some("1"))),
            Some(0)
        );
        for bad in [
            "windows(x)/amd64",
            "windows()/amd64",
            "windows(10.0)",
            "amd64(10.0)/x",
            "windows(10/amd64",
        ] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }

    /// The vectors containerd's `platforms.Only` builds (containerd/platforms `compare.go`).
    #[test]
    fn fallbacks_follow_containerds_platform_vector() {
        let vector = |s: &str| -> Vec<String> {
            let p = Platform::parse(s).unwrap();
            p.fallbacks().iter().map(|f| f.to_string()).collect()
        };
        let arm32 = [
            "linux/arm/v8",
            "linux/arm/v7",
            "linux/arm/v6",
            "linux/arm/v5",
        ];
        let mut want = vec!["linux/arm64"];
        want.extend(arm32);
        assert_eq!(vector("arm64"), want);
        let mut want = vec!["linux/arm64/v8.2", "linux/arm64/v8.1", "linux/arm64/v8"];
        want.extend(arm32);
        assert_eq!(vector("arm64/v8.2"), want);
        let mut want: Vec<String> = [
            "v9.1", "v9", "v8.6", "v8.5", "v8.4", "v8.3", "v8.2", "v8.1", "v8",
        ]
        .iter()
        .map(|v| format!("linux/arm64/{v}"))
        .collect();
        want.extend(arm32.map(String::from));
        assert_eq!(vector("arm64/v9.1"), want);
        let v9 = vector("arm64/v9");
        assert_eq!(
            v9[..7],
            [
                "linux/arm64/v9",
                "linux/arm64/v8.5",
                "linux/arm64/v8.4",
                "linux/arm64/v8.3",
                "linux/arm64/v8.2",
                "linux/arm64/v8.1",
                "linux/arm64/v8"
            ]
        );
        assert_eq!(v9[7], "linux/arm/v9");
        assert_eq!(
            vector("amd64/v3"),
            [
                "linux/amd64/v3",
                "linux/amd64/v2",
                "linux/amd64/v1",
                "linux/386"
            ]
        );
        assert_eq!(vector("amd64"), ["linux/amd64", "linux/386"]);
        assert_eq!(
            vector("arm/v7"),
            ["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]
        );
        // Go's Atoi reads the whole variant: amd64/v3.5 falls back to 386 only.
        assert_eq!(vector("amd64/v3.5"), ["linux/amd64/v3.5", "linux/386"]);
        let p = Platform::parse("arm64/v8.2").unwrap();
        assert_eq!(
            p.runtime_rank(&Platform::new("linux", "arm64", Some("v8"))),
            Some(2)
        );
        assert_eq!(
            p.runtime_rank(&Platform::new("linux", "arm64", Some("v8.3"))),
            None
        );
    }

    #[test]
    fn platforms_parse_and_match() {
        let p = |s: &str| Platform::parse(s).unwrap();
        let cfg = |o: &str, a: &str, v: Option<&str>| Platform::new(o, a, v);
        assert_eq!(p("amd64"), cfg("linux", "amd64", None));
        assert_eq!(p("arm/v7"), cfg("linux", "arm", Some("v7")));
        assert_eq!(p("linux/arm64/v8"), cfg("linux", "arm64", Some("v8")));
        assert_eq!(p("windows/amd64"), cfg("windows", "amd64", None));
        assert!(p("arm64").matches(&cfg("linux", "arm64", None)));
        assert!(p("arm64").matches(&cfg("linux", "arm64", Some("v8"))));
        assert!(p("linux/arm64/v8").matches(&cfg("linux", "arm64", None)));
        assert!(!p("arm64").matches(&cfg("linux", "arm64", Some("v9"))));
        assert!(!p("arm64").matches(&cfg("linux", "amd64", None)));
        assert!(!p("arm/v7").matches(&cfg("linux", "arm", Some("v6"))));
        assert!(p("arm/v7").matches(&cfg("linux", "arm", None)));
        assert!(!p("amd64").matches(&cfg("windows", "amd64", None)));
        assert!(p("amd64").matches(&cfg("linux", "x86_64", None)));
        assert!(!p("amd64").matches(&cfg("linux", "amd64", Some("v3"))));
        for bad in [
            "",
            "/",
            "linux/",
            "a/b/c/d",
            "linux/arm 64",
            "freebsd/amd64/v1/x",
            "unknown",
            "linux/unknown",
            "unknown/unknown",
        ] {
            assert!(Platform::parse(bad).is_err(), "{bad:?}");
        }
    }
}
