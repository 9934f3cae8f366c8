//! OCI distribution registries for `verify-image`: image references (Docker's rules), platforms and how
//! they match, digests (sha256, sha512), manifest and index parsing with media-type checks, credentials
//! (Docker config, credential helpers, `--password-stdin`), and a registry client that speaks HTTP Basic
//! and the Bearer token flow over the shared [`Http`] client and counts its requests.
//!
//! Nothing here trusts a header alone: callers hash the bodies they receive.

use crate::fetch::{check_url, classify, is_loopback_host, FetchError, Http};
use crate::report::{Code, Reason};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;
use sha2::{Digest as _, Sha256, Sha512};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use url::Url;

/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker manifest list (schema 2).
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image manifest (schema 2).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker schema 1 manifests (rejected).
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
/// The `Accept` header for manifests: all four understood types, so the registry never converts.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// Largest manifest or index read (containerd uses about 4 MiB).
pub const MAX_MANIFEST: u64 = 4 << 20;
/// Largest image configuration read.
pub const MAX_CONFIG: u64 = 8 << 20;
/// Most entries accepted in one index.
pub const MAX_INDEX_ENTRIES: usize = 1024;
/// Deepest nesting of indexes followed (the top index is depth 0).
pub const MAX_DEPTH: usize = 4;
/// Most entries read from the indexes of one reference, the top index and nested ones together.
pub const MAX_TOTAL_ENTRIES: usize = 4096;
/// Most nested indexes fetched for one reference.
pub const MAX_NESTED_INDEXES: usize = 64;

// ------------------------------------------------------------------------------------------------
// Digests

/// A digest algorithm shipcheck verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algo {
    Sha256,
    Sha512,
}

impl Algo {
    pub fn as_str(self) -> &'static str {
        match self {
            Algo::Sha256 => "sha256",
            Algo::Sha512 => "sha512",
        }
    }
    fn hex_len(self) -> usize {
        match self {
            Algo::Sha256 => 64,
            Algo::Sha512 => 128,
        }
    }
}

/// A content digest `algo:hex` (lowercase hex, exact length for the algorithm).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    pub algo: Algo,
    pub hex: String,
}

impl Digest {
    pub fn parse(s: &str) -> Result<Digest, String> {
        let (algo, hex) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}` is not a digest (expected sha256:<64 hex digits>)"))?;
        let algo = match algo {
            "sha256" => Algo::Sha256,
            "sha512" => Algo::Sha512,
            other => {
                return Err(format!(
                    "digest algorithm `{other}` is not supported (sha256 and sha512 are)"
                ))
            }
        };
        let ok = hex.len() == algo.hex_len()
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !ok {
            return Err(format!(
                "`{s}` is not a valid {} digest ({} lowercase hex digits expected)",
                algo.as_str(),
                algo.hex_len()
            ));
        }
        Ok(Digest {
            algo,
            hex: hex.to_string(),
        })
    }

    /// The digest of `data` with `algo`.
    pub fn of(algo: Algo, data: &[u8]) -> Digest {
        let hex = match algo {
            Algo::Sha256 => hex::encode(Sha256::digest(data)),
            Algo::Sha512 => hex::encode(Sha512::digest(data)),
        };
        Digest { algo, hex }
    }

    /// True when `data` hashes to this digest.
    pub fn matches(&self, data: &[u8]) -> bool {
        Digest::of(self.algo, data) == *self
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algo.as_str(), self.hex)
    }
}

// ------------------------------------------------------------------------------------------------
// References

/// An image reference, normalised like Docker: `docker.io/library/alpine:latest` for `alpine`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry host as written (with port), `docker.io` for Docker Hub.
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

fn valid_path_component(c: &str) -> bool {
    // [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn valid_tag(t: &str) -> bool {
    let w = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    let b = t.as_bytes();
    !b.is_empty() && b.len() <= 128 && w(b[0]) && b.iter().all(|&x| w(x) || x == b'.' || x == b'-')
}

fn valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, p)) => {
                if h.parse::<std::net::Ipv6Addr>().is_err() {
                    return false;
                }
                let port = match p.strip_prefix(':') {
                    Some(port) => Some(port),
                    None if p.is_empty() => None,
                    None => return false,
                };
                (None, port)
            }
            None => return false,
        }
    } else {
        match d.rsplit_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(d), None),
        }
    };
    if let Some(p) = port {
        if p.is_empty()
            || p.len() > 5
            || !p.bytes().all(|b| b.is_ascii_digit())
            || p.parse::<u32>().map_or(true, |n| n > 65535)
        {
            return false;
        }
    }
    match host {
        None => true,
        Some(h) => {
            !h.is_empty()
                && h.split('.').all(|l| {
                    !l.is_empty()
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        }
    }
}

impl Reference {
    /// Parses `[host[:port]/]path[:tag][@digest]` with Docker's normalisation.
    pub fn parse(s: &str) -> Result<Reference, String> {
        let bad = |why: &str| format!("`{s}` is not an image reference: {why}");
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if s.len() > 512 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it is too long or holds whitespace"));
        }
        if s.contains("://") {
            return Err(bad(
                "write it without a URL scheme, like registry.example.com/team/app:v1",
            ));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(Digest::parse(d).map_err(|e| bad(&e))?)),
            None => (s, None),
        };
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(t) = tag {
            if !valid_tag(t) {
                return Err(bad(&format!("`{t}` is not a valid tag")));
            }
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, remainder))
                if first.contains('.')
                    || first.contains(':')
                    || first == "localhost"
                    || first.bytes().any(|b| b.is_ascii_uppercase()) =>
            {
                (first.to_string(), remainder.to_string())
            }
            _ => ("docker.io".to_string(), name.to_string()),
        };
        if !valid_domain(&registry) {
            return Err(bad(&format!("`{registry}` is not a valid registry host")));
        }
        let registry = if registry == "index.docker.io" {
            "docker.io".to_string()
        } else {
            registry
        };
        let path = if registry == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        if path.is_empty() || !path.split('/').all(valid_path_component) {
            return Err(bad(&format!(
                "repository `{path}` is not valid (lowercase letters, digits and separators . _ __ - between them, components joined by /)"
            )));
        }
        if registry.len() + 1 + path.len() > 255 {
            return Err(bad("the name is longer than 255 characters"));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, None) => Some("latest".to_string()),
            (None, Some(_)) => None,
        };
        Ok(Reference {
            registry,
            repository: path,
            tag,
            digest,
        })
    }

    /// The host the API is served from (Docker Hub's API is on registry-1.docker.io).
    pub fn api_host(&self) -> &str {
        if self.registry == "docker.io" {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }

    /// The manifest reference used in the URL: the digest when given, else the tag.
    pub fn manifest_ref(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".into(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------------
// Platforms

/// A platform `os/arch[/variant]`, with architecture aliases normalised as containerd does
/// (`x86_64` = `amd64`, `aarch64` = `arm64`, `i386` = `386`, `armhf` = `arm/v7`, `armel` = `arm/v6`).
/// An empty `os` (allowed in index entries) means "the host's", as containerd reads it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
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

/// True when `s` can be one field of a platform (os, architecture or variant) as a registry or image
/// config writes it: no `/` (which would make `arm64/v8` read as two fields), no whitespace, no
/// control characters.
pub fn valid_platform_token(s: &str) -> bool {
    !s.chars()
        .any(|c| c == '/' || c.is_whitespace() || c.is_control())
}

impl Platform {
    pub fn new(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        let (arch, variant) = norm_arch(arch, variant);
        Platform {
            os: norm_os(os),
            arch,
            variant,
        }
    }

    /// Builds a platform from the fields of an index entry or image config, refusing fields that are
    /// not single tokens (see [`valid_platform_token`]).
    pub fn from_fields(os: &str, arch: &str, variant: Option<&str>) -> Result<Platform, String> {
        for (name, v) in [
            ("os", Some(os)),
            ("architecture", Some(arch)),
            ("variant", variant),
        ] {
            if let Some(v) = v.filter(|v| !valid_platform_token(v)) {
                return Err(format!(
                    "platform field `{name}` is {v:?}, which is not a single token (no `/`, whitespace or control characters)"
                ));
            }
        }
        Ok(Platform::new(os, arch, variant))
    }

    /// Parses a required platform: `amd64` (linux/amd64), `arm64`, `arm/v7`, or `os/arch[/variant]`.
    pub fn parse(s: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = s.trim().split('/').collect();
        let bad =
            || format!("`{s}` is not a platform (examples: amd64, arm64, arm/v7, linux/arm64/v8)");
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

    /// True when `other` is this platform after containerd's normalisation: same os (an empty os
    /// stands for the host's, so it matches any), same architecture, and the same variant where a
    /// missing variant means the architecture's default (arm64 = v8, arm = v7, amd64 = v1).
    pub fn matches(&self, other: &Platform) -> bool {
        (self.os == other.os || self.os.is_empty() || other.os.is_empty())
            && self.arch == other.arch
            && self.effective_variant() == other.effective_variant()
    }

    /// Where containerd's default matcher for this (required) platform ranks `other`: `Some(0)` for
    /// the platform itself, a higher rank for a platform containerd falls back to on such a host
    /// (an older variant of the same architecture, 32-bit arm on arm64, 386 on amd64), `None` when
    /// containerd would not run it here at all. Mirrors `platforms.Only` (containerd 2.x).
    pub fn runtime_rank(&self, other: &Platform) -> Option<usize> {
        self.fallbacks().iter().position(|p| p.matches(other))
    }

    /// `unknown/unknown`, the platform buildx gives attestation manifests.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" && self.arch == "unknown"
    }

    /// This platform followed by what containerd's `platforms.Only` accepts in its place, best first.
    fn fallbacks(&self) -> Vec<Platform> {
        let at = |arch: &str, v: String| Platform {
            os: self.os.clone(),
            arch: arch.into(),
            variant: Some(v),
        };
        let num = |v: &str| -> Option<u32> { v.strip_prefix('v')?.split('.').next()?.parse().ok() };
        let mut out = vec![self.clone()];
        let v = self.effective_variant().unwrap_or_default();
        match self.arch.as_str() {
            "amd64" => {
                for n in (1..num(&v).unwrap_or(1)).rev() {
                    out.push(at("amd64", format!("v{n}")));
                }
                out.push(Platform::new(&self.os, "386", None));
            }
            "arm64" => {
                let n = num(&v).unwrap_or(8);
                for k in (8..n).rev() {
                    out.push(at("arm64", format!("v{k}")));
                }
                for k in (5..=8).rev() {
                    out.push(at("arm", format!("v{k}")));
                }
            }
            "arm" => {
                for k in (5..num(&v).unwrap_or(7)).rev() {
                    out.push(at("arm", format!("v{k}")));
                }
            }
            _ => {}
        }
        out
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------------
// Manifests

/// A platform object in an index entry, as written.
#[derive(Debug, Clone, Deserialize)]
struct PlatformJson {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawDescriptor {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    digest: String,
    size: u64,
    #[serde(default)]
    platform: Option<PlatformJson>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    urls: Option<Vec<String>>,
}

/// A content descriptor with a parsed digest.
#[derive(Debug, Clone)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    /// The entry's platform (index entries), each field a single token.
    pub platform: Option<Platform>,
    pub annotations: BTreeMap<String, String>,
    /// Foreign (non-distributable) layers carry URLs.
    pub urls: Vec<String>,
}

impl Descriptor {
    fn from_raw(r: RawDescriptor, what: &str) -> Result<Descriptor, String> {
        let digest = Digest::parse(&r.digest).map_err(|e| format!("{what}: {e}"))?;
        let platform = r
            .platform
            .map(|p| Platform::from_fields(&p.os, &p.architecture, p.variant.as_deref()))
            .transpose()
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(Descriptor {
            media_type: r.media_type.unwrap_or_default(),
            digest,
            size: r.size,
            platform,
            annotations: r.annotations.unwrap_or_default(),
            urls: r.urls.unwrap_or_default(),
        })
    }

    /// A buildx attestation entry: annotated `vnd.docker.reference.type: attestation-manifest` and
    /// with no real platform (`unknown/unknown` or none). An entry with a real platform is a platform
    /// candidate whatever its annotations say, because the runtime selects by platform alone.
    pub fn is_attestation(&self) -> bool {
        self.annotations
            .get("vnd.docker.reference.type")
            .is_some_and(|t| t == "attestation-manifest")
            && self.platform.as_ref().is_none_or(Platform::is_unknown)
    }
}

/// A parsed manifest: an index (OCI index or Docker list) or an image manifest.
#[derive(Debug, Clone)]
pub enum Manifest {
    Index {
        media_type: String,
        manifests: Vec<Descriptor>,
    },
    Image {
        media_type: String,
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
}

impl Manifest {
    pub fn media_type(&self) -> &str {
        match self {
            Manifest::Index { media_type, .. } | Manifest::Image { media_type, .. } => media_type,
        }
    }
}

pub fn is_index_type(t: &str) -> bool {
    t == OCI_INDEX || t == DOCKER_LIST
}

pub fn is_image_type(t: &str) -> bool {
    t == OCI_MANIFEST || t == DOCKER_MANIFEST
}

fn is_schema1(t: &str) -> bool {
    t == DOCKER_SCHEMA1 || t == DOCKER_SCHEMA1_SIGNED
}

/// The media type of a Content-Type header value, without parameters, lowercased.
pub fn bare_media_type(ct: &str) -> String {
    ct.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Parses a manifest body. The body's `mediaType` (optional), the `Content-Type` header and the JSON
/// shape must agree; `expected` is the media type the referring descriptor claims (if any).
/// `what` names the manifest in messages.
pub fn parse_manifest(
    body: &[u8],
    content_type: Option<&str>,
    expected: Option<&str>,
    what: &str,
) -> Result<Manifest, Reason> {
    let invalid = |why: String| {
        Reason::new(Code::InvalidManifest, format!("{what}: {why}"))
            .hint("the registry served something that is not an OCI or Docker v2 manifest")
    };
    let ct = content_type.map(bare_media_type).filter(|c| !c.is_empty());
    let schema1 = || {
        Reason::new(
            Code::UnsupportedMediaType,
            format!("{what} is a Docker schema 1 manifest, which shipcheck does not verify (it has no content-addressed config and is deprecated)"),
        )
        .hint("push the image again with a current Docker or buildx (schema 2 or OCI)")
    };
    if ct.as_deref().is_some_and(is_schema1) {
        return Err(schema1());
    }
    let v = parse_json_strict(body).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| invalid("not a JSON object".into()))?;
    let schema_version = obj.get("schemaVersion").and_then(|s| s.as_u64());
    let body_type = match obj.get("mediaType") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid("`mediaType` is not a string".into())),
    };
    if schema_version == Some(1) || body_type.as_deref().is_some_and(is_schema1) {
        return Err(schema1());
    }
    if schema_version != Some(2) {
        return Err(invalid(format!(
            "`schemaVersion` is {}, expected 2",
            obj.get("schemaVersion")
                .map(|s| s.to_string())
                .unwrap_or_else(|| "missing".into())
        )));
    }
    let shape_index = obj.contains_key("manifests");
    let shape_image = obj.contains_key("config") || obj.contains_key("layers");
    if shape_index == shape_image {
        return Err(invalid(
            "its JSON is neither an index (`manifests`) nor an image manifest (`config`, `layers`)"
                .into(),
        ));
    }
    let known = |t: &str| is_index_type(t) || is_image_type(t);
    let mismatch = |msg: String| {
        Reason::new(Code::MediaTypeMismatch, format!("{what}: {msg}"))
            .hint("the registry or the pushing tool produced an inconsistent manifest; push the image again")
    };
    if let Some(bt) = &body_type {
        if !known(bt) {
            return Err(Reason::new(
                Code::UnsupportedMediaType,
                format!("{what} has media type `{bt}`, which is not an image index or manifest"),
            )
            .hint("shipcheck understands OCI image indexes and manifests and Docker v2 manifests and lists"));
        }
        if is_index_type(bt) != shape_index {
            return Err(mismatch(format!(
                "its `mediaType` says `{bt}` but its JSON is {}",
                if shape_index {
                    "an index"
                } else {
                    "an image manifest"
                }
            )));
        }
    }
    // A generic or missing Content-Type says nothing; any specific one must agree.
    let ct_specific = ct
        .as_deref()
        .filter(|c| *c != "application/json" && *c != "application/octet-stream");
    if let Some(c) = ct_specific {
        if !known(c) {
            return Err(mismatch(format!(
                "the registry sent Content-Type `{c}`, which is not a manifest media type"
            )));
        }
        if let Some(bt) = &body_type {
            if bt != c {
                return Err(mismatch(format!(
                    "Content-Type is `{c}` but the body's `mediaType` is `{bt}`"
                )));
            }
        }
        if is_index_type(c) != shape_index {
            return Err(mismatch(format!(
                "Content-Type is `{c}` but the JSON is {}",
                if shape_index {
                    "an index"
                } else {
                    "an image manifest"
                }
            )));
        }
    }
    let effective = body_type
        .clone()
        .or_else(|| ct_specific.map(str::to_string))
        .or_else(|| expected.map(str::to_string))
        .unwrap_or_else(|| {
            if shape_index {
                OCI_INDEX.into()
            } else {
                OCI_MANIFEST.into()
            }
        });
    if let Some(e) = expected.filter(|e| !e.is_empty()) {
        if e != effective {
            return Err(mismatch(format!(
                "the referring descriptor says `{e}` but the registry served `{effective}`"
            )));
        }
    }
    if shape_index {
        #[derive(Deserialize)]
        struct RawIndex {
            manifests: Vec<RawDescriptor>,
        }
        let raw: RawIndex =
            serde_json::from_value(v).map_err(|e| invalid(format!("bad index: {e}")))?;
        if raw.manifests.len() > MAX_INDEX_ENTRIES {
            return Err(Reason::new(
                Code::ManifestTooLarge,
                format!(
                    "{what} lists {} manifests, more than the limit of {MAX_INDEX_ENTRIES}",
                    raw.manifests.len()
                ),
            ));
        }
        let manifests = raw
            .manifests
            .into_iter()
            .enumerate()
            .map(|(i, d)| Descriptor::from_raw(d, &format!("entry {i}")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        Ok(Manifest::Index {
            media_type: effective,
            manifests,
        })
    } else {
        #[derive(Deserialize)]
        struct RawImage {
            config: RawDescriptor,
            #[serde(default)]
            layers: Vec<RawDescriptor>,
        }
        let raw: RawImage =
            serde_json::from_value(v).map_err(|e| invalid(format!("bad image manifest: {e}")))?;
        let config = Descriptor::from_raw(raw.config, "config").map_err(invalid)?;
        let layers = raw
            .layers
            .into_iter()
            .enumerate()
            .map(|(i, d)| Descriptor::from_raw(d, &format!("layer {i}")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        Ok(Manifest::Image {
            media_type: effective,
            config,
            layers,
        })
    }
}

/// Parses JSON like `serde_json::from_slice::<Value>`, but refuses duplicate object keys: parsers
/// disagree on which duplicate wins, so such a manifest could mean one thing to shipcheck and another
/// to the runtime that pulls it. serde_json's nesting limit (128) applies.
fn parse_json_strict(body: &[u8]) -> Result<serde_json::Value, serde_json::Error> {
    use serde::de::{Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
    use serde_json::Value;
    struct Strict(Value);
    struct V;
    impl<'de> Deserialize<'de> for Strict {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(V).map(Strict)
        }
    }
    impl<'de> Visitor<'de> for V {
        type Value = Value;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_string()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
            let mut out = Vec::new();
            while let Some(Strict(v)) = a.next_element()? {
                out.push(v);
            }
            Ok(Value::Array(out))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
            let mut out = serde_json::Map::new();
            while let Some(k) = a.next_key::<String>()? {
                if out.contains_key(&k) {
                    let shown: String = k.chars().take(64).collect();
                    return Err(A::Error::custom(format!("duplicate key `{shown}`")));
                }
                let Strict(v) = a.next_value()?;
                out.insert(k, v);
            }
            Ok(Value::Object(out))
        }
    }
    serde_json::from_slice::<Strict>(body).map(|s| s.0)
}

/// The platform an image configuration declares.
pub fn config_platform(body: &[u8]) -> Result<Platform, String> {
    #[derive(Deserialize)]
    struct Cfg {
        #[serde(default)]
        architecture: String,
        #[serde(default)]
        os: String,
        #[serde(default)]
        variant: Option<String>,
    }
    // Strict like manifests: duplicate keys and nesting past serde_json's limit are refused, also in
    // fields shipcheck ignores (a runtime may not ignore them).
    let c: Cfg = parse_json_strict(body)
        .and_then(serde_json::from_value)
        .map_err(|e| format!("not an image config: {e}"))?;
    if c.os.is_empty() || c.architecture.is_empty() {
        return Err("the image config names no `os` or `architecture`".into());
    }
    Platform::from_fields(&c.os, &c.architecture, c.variant.as_deref())
}

// ------------------------------------------------------------------------------------------------
// Credentials

/// A username and secret. Debug never shows the secret.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    secret: String,
    /// Where they came from, for messages (never the secret).
    pub source: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Credentials({}, <redacted>, {})",
            self.username, self.source
        )
    }
}

impl Credentials {
    pub fn new(username: &str, secret: &str, source: &str) -> Credentials {
        Credentials {
            username: username.into(),
            secret: secret.into(),
            source: source.into(),
        }
    }

    fn basic(&self) -> HeaderValue {
        use base64::Engine as _;
        let enc = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.username, self.secret));
        let mut v = HeaderValue::from_str(&format!("Basic {enc}"))
            .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
        v.set_sensitive(true);
        v
    }
}

/// The Docker config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("config.json"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// The key under which Docker stores credentials for `registry`.
fn server_key(registry: &str) -> String {
    if registry == "docker.io" {
        "https://index.docker.io/v1/".into()
    } else {
        registry.into()
    }
}

/// `https://host/v1/` or `host` -> `host` (how Docker matches `auths` keys).
fn key_host(k: &str) -> String {
    let k = k
        .strip_prefix("https://")
        .or_else(|| k.strip_prefix("http://"))
        .unwrap_or(k);
    let host = k.split('/').next().unwrap_or(k).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        _ => host,
    }
}

/// Credentials for `registry` from the Docker config (`credHelpers`, then `credsStore`, then
/// `auths`). `Ok(None)` means anonymous. Errors name the file, never a secret.
pub fn docker_config_credentials(registry: &str) -> Result<Option<Credentials>, Reason> {
    let Some(path) = docker_config_path() else {
        return Ok(None);
    };
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Reason::new(
                Code::Io,
                format!("cannot read the Docker config {}: {e}", path.display()),
            ))
        }
    };
    credentials_from_config(&text, registry, &path.display().to_string(), &helper_get)
}

type HelperFn<'a> = dyn Fn(&str, &str) -> Result<Option<(String, String)>, String> + 'a;

fn credentials_from_config(
    text: &[u8],
    registry: &str,
    file: &str,
    helper: &HelperFn,
) -> Result<Option<Credentials>, Reason> {
    #[derive(Deserialize)]
    struct AuthEntry {
        #[serde(default)]
        auth: Option<String>,
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        password: Option<String>,
        #[serde(default)]
        identitytoken: Option<String>,
    }
    #[derive(Deserialize)]
    struct Config {
        #[serde(default)]
        auths: BTreeMap<String, AuthEntry>,
        #[serde(rename = "credsStore", default)]
        creds_store: Option<String>,
        #[serde(rename = "credHelpers", default)]
        cred_helpers: BTreeMap<String, String>,
    }
    let bad = |why: String| {
        Reason::new(Code::Usage, format!("Docker config {file}: {why}"))
            .hint("fix the file, or point DOCKER_CONFIG at a directory with a valid config.json")
    };
    let cfg: Config =
        serde_json::from_slice(text).map_err(|e| bad(format!("not valid JSON ({e})")))?;
    let host = key_host(registry);
    let run_helper = |h: &str, which: &str| -> Result<Option<Credentials>, Reason> {
        match helper(h, &server_key(registry)) {
            Ok(Some((u, s))) => Ok(Some(Credentials::new(
                &u,
                &s,
                &format!("credential helper docker-credential-{h} ({which} in {file})"),
            ))),
            Ok(None) => Ok(None),
            Err(e) => Err(Reason::new(
                Code::Unauthorized,
                format!("credential helper docker-credential-{h} failed for {registry}: {e}"),
            )
            .hint(format!("check that docker-credential-{h} is installed and logged in, or remove `{which}` from {file}"))),
        }
    };
    if let Some((_, h)) = cfg.cred_helpers.iter().find(|(k, _)| key_host(k) == host) {
        return run_helper(h, "credHelpers");
    }
    if let Some(h) = cfg.creds_store.as_deref().filter(|h| !h.is_empty()) {
        if let Some(c) = run_helper(h, "credsStore")? {
            return Ok(Some(c));
        }
    }
    let Some((_, entry)) = cfg.auths.iter().find(|(k, _)| key_host(k) == host) else {
        return Ok(None);
    };
    if entry
        .identitytoken
        .as_deref()
        .is_some_and(|t| !t.is_empty())
    {
        return Err(bad(format!(
            "the `auths` entry for {registry} holds an identity token, which shipcheck does not support"
        )));
    }
    if let Some(a) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(a.trim())
            .map_err(|_| bad(format!("the `auth` value for {registry} is not base64")))?;
        let raw = String::from_utf8(raw)
            .map_err(|_| bad(format!("the `auth` value for {registry} is not UTF-8")))?;
        let (u, p) = raw.split_once(':').ok_or_else(|| {
            bad(format!(
                "the `auth` value for {registry} is not base64 of `user:password`"
            ))
        })?;
        return Ok(Some(Credentials::new(u, p, &format!("`auths` in {file}"))));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) if !u.is_empty() => {
            Ok(Some(Credentials::new(u, p, &format!("`auths` in {file}"))))
        }
        _ => Ok(None),
    }
}

/// Runs `docker-credential-<helper> get` with the server URL on stdin. "Not found" means anonymous.
fn helper_get(helper: &str, server: &str) -> Result<Option<(String, String)>, String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    if !helper
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(format!("`{helper}` is not a credential helper name"));
    }
    let prog = format!("docker-credential-{helper}");
    let mut child = Command::new(&prog)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {prog}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{prog} failed: {e}"))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        if msg.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        // The helper's own message; helpers do not print secrets on failure. Keep it short.
        let short: String = msg.trim().chars().take(200).collect();
        return Err(format!("{prog} exited with {}: {short}", out.status));
    }
    #[derive(Deserialize)]
    struct HelperOut {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let h: HelperOut = serde_json::from_slice(&out.stdout)
        .map_err(|_| format!("{prog} printed something that is not its JSON answer"))?;
    if h.username == "<token>" {
        return Err(format!(
            "{prog} returned an identity token, which shipcheck does not support"
        ));
    }
    Ok(Some((h.username, h.secret)))
}

// ------------------------------------------------------------------------------------------------
// WWW-Authenticate

/// A parsed authentication challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

/// Parses the first challenge of a `WWW-Authenticate` value: `Bearer realm="...",service="...",scope="..."`.
pub fn parse_challenge(v: &str) -> Option<Challenge> {
    let v = v.trim();
    let (scheme, rest) = match v.find(char::is_whitespace) {
        Some(i) => (&v[..i], v[i..].trim_start()),
        None => (v, ""),
    };
    if scheme.is_empty() {
        return None;
    }
    let mut params = BTreeMap::new();
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b',' || b[i] == b' ') {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let key = rest[ks..i].trim().to_ascii_lowercase();
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        let mut val = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let ch = rest[i..].chars().next()?;
                val.push(ch);
                i += ch.len_utf8();
            }
            i += 1;
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            val = rest[vs..i].trim().to_string();
        }
        if !key.is_empty() {
            params.insert(key, val);
        }
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

// ------------------------------------------------------------------------------------------------
// The client

fn e_with_ca_hint(r: Reason, host: &str) -> Reason {
    let mut r = r;
    if !r.message.contains(host) {
        r.message = format!("registry {host}: {}", r.message);
    }
    r.hint(
        "the registry's TLS certificate is not trusted; pass --ca-cert with the CA that issued it",
    )
}

#[derive(Clone)]
enum AuthState {
    None,
    Basic,
    Bearer(HeaderValue),
}

/// Talks to one registry: resolves the scheme (HTTPS; loopback hosts may fall back to plain HTTP),
/// authenticates (Basic, Bearer with one token per repository scope), and counts requests.
pub struct Client {
    http: Http,
    host: String,
    creds: Option<Credentials>,
    /// `None` until decided (loopback hosts only); otherwise "https" or "http".
    scheme: Mutex<Option<&'static str>>,
    https_error: Mutex<Option<String>>,
    auth: Mutex<HashMap<String, AuthState>>,
    requests: AtomicUsize,
    trace: Mutex<Vec<String>>,
    started: std::time::Instant,
}

/// What a GET returned: the body and the headers that matter.
pub struct Fetched {
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    pub digest_header: Option<String>,
}

/// Why a fetch through the client failed: a reason, or a cap that was exceeded (the caller decides
/// which code a cap means).
#[derive(Debug)]
pub enum GetError {
    Reason(Reason),
    TooLarge { url: String, limit: u64 },
}

impl From<Reason> for GetError {
    fn from(r: Reason) -> Self {
        GetError::Reason(r)
    }
}

/// The scheme decided for each loopback registry in this process (with why HTTPS failed, if it did),
/// so that the many images of an audit probe a plain-HTTP registry once, not once per image.
/// Per host: the scheme, and why HTTPS failed when it fell back to plain HTTP.
type SchemeMap = Mutex<HashMap<String, (&'static str, Option<String>)>>;

fn loopback_schemes() -> &'static SchemeMap {
    static S: std::sync::OnceLock<SchemeMap> = std::sync::OnceLock::new();
    S.get_or_init(Default::default)
}

impl Client {
    pub fn new(http: Http, host: &str, creds: Option<Credentials>) -> Client {
        let loopback = Url::parse(&format!("https://{host}/"))
            .ok()
            .and_then(|u| u.host_str().map(is_loopback_host))
            .unwrap_or(false);
        let (scheme, https_error) = if loopback {
            match loopback_schemes().lock().unwrap().get(host) {
                Some((s, e)) => (Some(*s), e.clone()),
                None => (None, None),
            }
        } else {
            (Some("https"), None)
        };
        Client {
            http,
            host: host.to_string(),
            creds,
            scheme: Mutex::new(scheme),
            https_error: Mutex::new(https_error),
            auth: Mutex::new(HashMap::new()),
            requests: AtomicUsize::new(0),
            trace: Mutex::new(Vec::new()),
            started: std::time::Instant::now(),
        }
    }

    /// HTTP requests sent so far (each attempt counts, token requests included).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// One line per request: method, URL, and the attempt's outcome is not recorded (no secrets).
    pub fn trace(&self) -> Vec<String> {
        self.trace.lock().unwrap().clone()
    }

    fn count(&self, method: &Method, url: &Url) {
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let ms = self.started.elapsed().as_secs_f64() * 1000.0;
        self.trace
            .lock()
            .unwrap()
            .push(format!("request {n} (+{ms:.1} ms): {method} {url}"));
    }

    fn url(&self, scheme: &str, path: &str) -> Result<Url, Reason> {
        Url::parse(&format!("{scheme}://{}{path}", self.host)).map_err(|e| {
            Reason::new(
                Code::InvalidReference,
                format!("cannot build a URL for registry {}: {e}", self.host),
            )
        })
    }

    fn auth_header(&self, repo: &str) -> Option<HeaderValue> {
        let state =
            self.auth
                .lock()
                .unwrap()
                .get(repo)
                .cloned()
                .unwrap_or(if self.creds.is_some() {
                    // Credentials were given for this registry: send them at once (ECR speaks Basic),
                    // which saves the 401 round trip.
                    AuthState::Basic
                } else {
                    AuthState::None
                });
        match state {
            AuthState::None => None,
            AuthState::Basic => self.creds.as_ref().map(Credentials::basic),
            AuthState::Bearer(h) => Some(h),
        }
    }

    /// Sends one request (with retries for transient failures), deciding the scheme for loopback
    /// hosts on the first request.
    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        accept: Option<&str>,
        repo: &str,
    ) -> Result<Response, Reason> {
        let auth = self.auth_header(repo);
        let build = |url: &Url| {
            let mut rb = self.http.request(method.clone(), url);
            if let Some(a) = accept {
                rb = rb.header(ACCEPT, a);
            }
            if let Some(h) = &auth {
                rb = rb.header(AUTHORIZATION, h.clone());
            }
            rb
        };
        let decided = *self.scheme.lock().unwrap();
        let scheme = match decided {
            Some(s) => s,
            None => {
                // A loopback registry: try TLS once; if no TLS server answers, use plain HTTP.
                let url = self.url("https", path)?;
                match build(&url).send().await {
                    Ok(resp) => {
                        self.count(method, &url);
                        *self.scheme.lock().unwrap() = Some("https");
                        loopback_schemes()
                            .lock()
                            .unwrap()
                            .insert(self.host.clone(), ("https", None));
                        return Ok(resp);
                    }
                    Err(e) => {
                        let fe = classify(&url, &e);
                        let text = fe.to_string();
                        if text.to_ascii_lowercase().contains("certificate") {
                            // A TLS server answered with a certificate we do not trust: no downgrade.
                            *self.scheme.lock().unwrap() = Some("https");
                            return Err(e_with_ca_hint(fe.reason(), &self.host));
                        }
                        *self.https_error.lock().unwrap() = Some(text.clone());
                        *self.scheme.lock().unwrap() = Some("http");
                        loopback_schemes()
                            .lock()
                            .unwrap()
                            .insert(self.host.clone(), ("http", Some(text)));
                        "http"
                    }
                }
            }
        };
        let url = self.url(scheme, path)?;
        let result = self
            .http
            .send(&url, &|| {
                self.count(method, &url);
                build(&url)
            })
            .await;
        result.map_err(|e| self.fetch_reason(e))
    }

    fn fetch_reason(&self, e: FetchError) -> Reason {
        let text = e.to_string().to_ascii_lowercase();
        let mut r = e.reason();
        r.message = format!("registry {}: {}", self.host, r.message);
        if text.contains("certificate") {
            r = e_with_ca_hint(r, &self.host);
        }
        self.https_hint(r)
    }

    /// After a loopback registry fell back to plain HTTP, failures mention why HTTPS was not used.
    fn https_hint(&self, r: Reason) -> Reason {
        match self.https_error.lock().unwrap().as_ref() {
            Some(h) => r.hint(format!(
                "plain HTTP was used because HTTPS failed ({h}); if the registry uses TLS, pass --ca-cert with its CA"
            )),
            None => r,
        }
    }

    fn unauthorized(&self, repo: &str, status: StatusCode) -> Reason {
        let (msg, hint) = match &self.creds {
            Some(c) => (
                format!(
                    "registry {} refused the credentials from {} for {repo} (HTTP {})",
                    self.host,
                    c.source,
                    status.as_u16()
                ),
                "check the password or token (ECR tokens expire after 12 hours; run `aws ecr get-login-password` again) and that it may pull this repository".to_string(),
            ),
            None => (
                format!(
                    "registry {} requires authentication for {repo} (HTTP {}) and no credentials were found",
                    self.host,
                    status.as_u16()
                ),
                format!(
                    "log in (`docker login {}`, or amazon-ecr-login in CI), or pass --username with --password-stdin",
                    self.host
                ),
            ),
        };
        Reason::new(Code::Unauthorized, msg).hint(hint)
    }

    /// Fetches a Bearer token for `repo` as the challenge asks and stores it for the repository.
    async fn fetch_token(&self, repo: &str, ch: &Challenge) -> Result<(), Reason> {
        let realm = ch.params.get("realm").cloned().unwrap_or_default();
        let mut url = Url::parse(&realm).map_err(|_| {
            Reason::new(
                Code::Unauthorized,
                format!(
                    "registry {} sent a Bearer challenge without a usable realm URL",
                    self.host
                ),
            )
        })?;
        check_url(&url).map_err(|e| self.fetch_reason(e))?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = ch.params.get("service") {
                q.append_pair("service", s);
            }
            let scope = ch
                .params
                .get("scope")
                .cloned()
                .unwrap_or_else(|| format!("repository:{repo}:pull"));
            for s in scope.split(' ').filter(|s| !s.is_empty()) {
                q.append_pair("scope", s);
            }
        }
        let basic = self.creds.as_ref().map(Credentials::basic);
        let resp = self
            .http
            .send(&url, &|| {
                self.count(&Method::GET, &url);
                let rb = self.http.request(Method::GET, &url);
                match &basic {
                    Some(b) => rb.header(AUTHORIZATION, b.clone()),
                    None => rb,
                }
            })
            .await
            .map_err(|e| self.fetch_reason(e))?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(self.unauthorized(repo, status));
        }
        let resp = crate::fetch::ok_status(&url, resp).map_err(|e| self.fetch_reason(e))?;
        let body = crate::fetch::read_capped_within(&url, resp, 1 << 20, self.http.opts.timeout)
            .await
            .map_err(|e| self.fetch_reason(e))?;
        #[derive(Deserialize)]
        struct Token {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let t: Token = serde_json::from_slice(&body).map_err(|_| {
            Reason::new(
                Code::Unauthorized,
                format!(
                    "the token service of {} answered without a token",
                    self.host
                ),
            )
        })?;
        let token = t
            .token
            .filter(|t| !t.is_empty())
            .or(t.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| {
                Reason::new(
                    Code::Unauthorized,
                    format!(
                        "the token service of {} answered without a token",
                        self.host
                    ),
                )
            })?;
        let mut h = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            Reason::new(
                Code::Unauthorized,
                format!("the token service of {} sent an unusable token", self.host),
            )
        })?;
        h.set_sensitive(true);
        self.auth
            .lock()
            .unwrap()
            .insert(repo.to_string(), AuthState::Bearer(h));
        Ok(())
    }

    /// Sends a request to the registry, answering one authentication challenge if needed. Returns a
    /// 2xx response; 401/403 become `unauthorized`, 404 `not-found`, other statuses `download-failed`.
    pub async fn execute(
        &self,
        method: Method,
        path: &str,
        accept: Option<&str>,
        repo: &str,
        what: &str,
    ) -> Result<Response, Reason> {
        let mut answered = false;
        loop {
            let resp = self.send_once(&method, path, accept, repo).await?;
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED && !answered {
                answered = true;
                let ch = resp
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_challenge);
                match ch {
                    Some(c) if c.scheme == "bearer" => {
                        self.fetch_token(repo, &c).await?;
                        continue;
                    }
                    _ => return Err(self.unauthorized(repo, status)),
                }
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(self.unauthorized(repo, status));
            }
            if status == StatusCode::NOT_FOUND {
                return Err(Reason::new(
                    Code::NotFound,
                    format!("registry {}: {what} not found (HTTP 404)", self.host),
                )
                .hint("check the repository name and tag, and that the image was pushed to this registry"));
            }
            if !status.is_success() {
                return Err(self.https_hint(Reason::new(
                    Code::DownloadFailed,
                    format!("registry {}: {what}: HTTP {status}", self.host),
                )));
            }
            return Ok(resp);
        }
    }

    /// GETs a manifest (`reference` is a tag or a digest), reading at most `cap` bytes.
    pub async fn get_manifest(
        &self,
        repo: &str,
        reference: &str,
        cap: u64,
    ) -> Result<Fetched, GetError> {
        let path = format!("/v2/{repo}/manifests/{reference}");
        let what = format!("manifest {repo}:{reference}");
        self.get(&path, Some(MANIFEST_ACCEPT), repo, &what, cap)
            .await
    }

    /// GETs a blob, reading at most `cap` bytes (redirects to other hosts get no credentials).
    pub async fn get_blob(
        &self,
        repo: &str,
        digest: &Digest,
        cap: u64,
    ) -> Result<Fetched, GetError> {
        let path = format!("/v2/{repo}/blobs/{digest}");
        let what = format!("blob {digest} in {repo}");
        self.get(&path, None, repo, &what, cap).await
    }

    /// HEADs a blob and returns its Content-Length (None when the registry sends none).
    pub async fn head_blob(&self, repo: &str, digest: &Digest) -> Result<Option<u64>, Reason> {
        let path = format!("/v2/{repo}/blobs/{digest}");
        let what = format!("blob {digest} in {repo}");
        let resp = self.execute(Method::HEAD, &path, None, repo, &what).await?;
        Ok(resp
            .headers()
            .get(reqwest::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok()))
    }

    async fn get(
        &self,
        path: &str,
        accept: Option<&str>,
        repo: &str,
        what: &str,
        cap: u64,
    ) -> Result<Fetched, GetError> {
        // A body that breaks off (reset, truncation, stall, slow drip) is a connection error: the
        // request is sent again, like any other, at most --retries times.
        let mut attempt = 0;
        loop {
            let resp = self.execute(Method::GET, path, accept, repo, what).await?;
            let header = |n: &str| {
                resp.headers()
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let content_type = header(CONTENT_TYPE.as_str());
            let digest_header = header("docker-content-digest");
            let url = resp.url().clone();
            // The low-speed window is --timeout, as for every other transfer.
            match crate::fetch::read_capped_within(&url, resp, cap, self.http.opts.timeout).await {
                Ok(body) => {
                    return Ok(Fetched {
                        body,
                        content_type,
                        digest_header,
                    })
                }
                Err(FetchError::TooLarge { url, limit }) => {
                    return Err(GetError::TooLarge { url, limit })
                }
                Err(FetchError::Network { .. } | FetchError::Truncated { .. })
                    if attempt < self.http.opts.retries =>
                {
                    let o = &self.http.opts;
                    let wait = o.retry_delay.saturating_mul(1u32 << attempt.min(16));
                    tokio::time::sleep(wait.min(o.max_retry_wait)).await;
                    attempt += 1;
                }
                Err(e @ (FetchError::Network { .. } | FetchError::Truncated { .. }))
                    if attempt > 0 =>
                {
                    let mut r = self.fetch_reason(e);
                    r.message = format!("{} (gave up after {} attempts)", r.message, attempt + 1);
                    return Err(GetError::Reason(r));
                }
                Err(e) => return Err(GetError::Reason(self.fetch_reason(e))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn references_follow_docker_rules() {
        let a = r("alpine");
        assert_eq!(
            (a.registry.as_str(), a.repository.as_str(), a.tag.as_deref()),
            ("docker.io", "library/alpine", Some("latest"))
        );
        assert_eq!(a.api_host(), "registry-1.docker.io");
        let b = r("team/app:v1");
        assert_eq!(
            (b.registry.as_str(), b.repository.as_str()),
            ("docker.io", "team/app")
        );
        let c = r("localhost/app");
        assert_eq!(
            (c.registry.as_str(), c.repository.as_str()),
            ("localhost", "app")
        );
        let d = r("127.0.0.1:5000/team/app:v1.4.2");
        assert_eq!(d.registry, "127.0.0.1:5000");
        assert_eq!(d.repository, "team/app");
        assert_eq!(d.tag.as_deref(), Some("v1.4.2"));
        let hex = "a".repeat(64);
        let e = r(&format!(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:{hex}"
        ));
        assert_eq!(e.registry, "123456789012.dkr.ecr.us-east-1.amazonaws.com");
        assert_eq!(e.tag, None);
        assert_eq!(e.manifest_ref(), format!("sha256:{hex}"));
        let f = r(&format!("registry.example.com:443/a/b/c:t@sha256:{hex}"));
        assert_eq!(f.tag.as_deref(), Some("t"));
        assert!(f.digest.is_some());
        assert_eq!(r("index.docker.io/library/nginx").registry, "docker.io");
        assert_eq!(r("Registry/app").registry, "Registry");
        assert_eq!(r("[::1]:5000/app").registry, "[::1]:5000");
        assert_eq!(r("a__b/c-d--e.f_g").repository, "a__b/c-d--e.f_g");
        for bad in [
            "",
            "App",
            "app:",
            "app:-x",
            "app@sha256:abc",
            "app@md5:0123",
            "https://registry/app",
            "registry.example.com/",
            "registry.example.com/a//b",
            "a/.b",
            "a/b_",
            "a___b",
            "host:99999/app",
            "app name",
            "-bad.host/app",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn digests() {
        let d = Digest::of(Algo::Sha256, b"");
        assert_eq!(
            d.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(d.matches(b""));
        assert!(!d.matches(b"x"));
        let s = Digest::of(Algo::Sha512, b"abc");
        assert!(s.hex.starts_with("ddaf35a193617aba"));
        assert_eq!(Digest::parse(&s.to_string()).unwrap(), s);
        assert!(Digest::parse(&format!("sha256:{}", "A".repeat(64))).is_err());
        assert!(Digest::parse(&format!("sha256:{}", "a".repeat(63))).is_err());
        assert!(Digest::parse(&format!("sha384:{}", "a".repeat(96))).is_err());
        assert!(Digest::parse("sha256").is_err());
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

    fn d(n: u8) -> String {
        format!("sha256:{}", hex::encode([n; 32]))
    }

    #[test]
    fn manifests_shape_media_type_and_header_must_agree() {
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":7,"platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}}]}}"#,
            d(1)
        );
        let m = parse_manifest(index.as_bytes(), Some(OCI_INDEX), None, "x").unwrap();
        match m {
            Manifest::Index { manifests, .. } => {
                assert_eq!(manifests.len(), 1);
                assert_eq!(manifests[0].size, 7);
                assert_eq!(
                    manifests[0].platform.as_ref().unwrap().to_string(),
                    "linux/arm64/v8"
                );
            }
            _ => panic!("not an index"),
        }
        let code = |b: &str, ct: Option<&str>, exp: Option<&str>| {
            parse_manifest(b.as_bytes(), ct, exp, "x").unwrap_err().code
        };
        assert_eq!(
            code(&index, Some(DOCKER_MANIFEST), None),
            Code::MediaTypeMismatch
        );
        assert_eq!(
            code(&index, Some(DOCKER_LIST), None),
            Code::MediaTypeMismatch
        );
        assert_eq!(
            code(&index, Some("text/html"), None),
            Code::MediaTypeMismatch
        );
        assert_eq!(
            code(&index, Some(OCI_INDEX), Some(OCI_MANIFEST)),
            Code::MediaTypeMismatch
        );
        // mediaType is optional: the header and the shape decide.
        let image = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":2}},"layers":[]}}"#,
            d(2)
        );
        let m = parse_manifest(image.as_bytes(), Some(OCI_MANIFEST), None, "x").unwrap();
        assert_eq!(m.media_type(), OCI_MANIFEST);
        let m = parse_manifest(image.as_bytes(), Some("application/json"), None, "x").unwrap();
        assert_eq!(m.media_type(), OCI_MANIFEST);
        assert_eq!(code(&image, Some(OCI_INDEX), None), Code::MediaTypeMismatch);
        let wrong_body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","config":{{"digest":"{}","size":2}}}}"#,
            d(2)
        );
        assert_eq!(code(&wrong_body, None, None), Code::MediaTypeMismatch);
        let schema1 = r#"{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}"#;
        assert_eq!(code(schema1, None, None), Code::UnsupportedMediaType);
        assert_eq!(
            code("{}", Some(DOCKER_SCHEMA1_SIGNED), None),
            Code::UnsupportedMediaType
        );
        let artifact = r#"{"schemaVersion":2,"mediaType":"application/vnd.cncf.helm.config.v1+json","layers":[]}"#;
        assert_eq!(code(artifact, None, None), Code::UnsupportedMediaType);
        assert_eq!(code("not json", None, None), Code::InvalidManifest);
        assert_eq!(
            code(r#"{"schemaVersion":2}"#, None, None),
            Code::InvalidManifest
        );
        let bad_digest = r#"{"schemaVersion":2,"manifests":[{"digest":"sha256:xyz","size":1}]}"#;
        assert_eq!(code(bad_digest, None, None), Code::InvalidManifest);
        let neg = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"digest":"{}","size":-1}}]}}"#,
            d(1)
        );
        assert_eq!(code(&neg, None, None), Code::InvalidManifest);
    }

    #[test]
    fn config_platform_reads_os_arch_variant() {
        let p =
            config_platform(br#"{"os":"linux","architecture":"arm","variant":"v7","rootfs":{}}"#)
                .unwrap();
        assert_eq!(p.to_string(), "linux/arm/v7");
        assert!(config_platform(br#"{"os":"linux"}"#).is_err());
        assert!(config_platform(b"[]").is_err());
    }

    #[test]
    fn challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["scope"], "repository:library/alpine:pull,push");
        let b = parse_challenge(r#"Basic realm="https://1.dkr.ecr.us-east-1.amazonaws.com",service="ecr.amazonaws.com""#).unwrap();
        assert_eq!(b.scheme, "basic");
        assert_eq!(b.params["service"], "ecr.amazonaws.com");
        assert_eq!(parse_challenge("Basic").unwrap().params.len(), 0);
    }

    #[test]
    fn docker_config_lookup() {
        use base64::Engine as _;
        let auth = base64::engine::general_purpose::STANDARD.encode("AWS:s3cret-token");
        let cfg = format!(
            r#"{{"auths":{{"https://127.0.0.1:5000/v2/":{{"auth":"{auth}"}},"https://index.docker.io/v1/":{{"username":"u","password":"p"}}}},"credHelpers":{{"1.dkr.ecr.us-east-1.amazonaws.com":"ecr-login"}}}}"#
        );
        let no_helper: &HelperFn = &|_, _| panic!("no helper expected");
        let c = credentials_from_config(cfg.as_bytes(), "127.0.0.1:5000", "f", no_helper)
            .unwrap()
            .unwrap();
        assert_eq!(c.username, "AWS");
        assert_eq!(c.secret, "s3cret-token");
        assert!(!format!("{c:?}").contains("s3cret"));
        let hub = credentials_from_config(cfg.as_bytes(), "docker.io", "f", no_helper)
            .unwrap()
            .unwrap();
        assert_eq!(hub.username, "u");
        assert!(
            credentials_from_config(cfg.as_bytes(), "other.example", "f", no_helper)
                .unwrap()
                .is_none()
        );
        let helper: &HelperFn = &|h, server| {
            assert_eq!(
                (h, server),
                ("ecr-login", "1.dkr.ecr.us-east-1.amazonaws.com")
            );
            Ok(Some(("AWS".into(), "from-helper".into())))
        };
        let e = credentials_from_config(
            cfg.as_bytes(),
            "1.dkr.ecr.us-east-1.amazonaws.com",
            "f",
            helper,
        )
        .unwrap()
        .unwrap();
        assert_eq!(e.secret, "from-helper");
        assert!(e.source.contains("docker-credential-ecr-login"));
        let store = r#"{"credsStore":"pass","auths":{"h.example":{"auth":"dTpw"}}}"#;
        let none: &HelperFn = &|_, _| Ok(None);
        let fallback = credentials_from_config(store.as_bytes(), "h.example", "f", none)
            .unwrap()
            .unwrap();
        assert_eq!(
            (fallback.username.as_str(), fallback.secret.as_str()),
            ("u", "p")
        );
        let failing: &HelperFn = &|_, _| Err("boom".into());
        assert_eq!(
            credentials_from_config(store.as_bytes(), "h.example", "f", failing)
                .unwrap_err()
                .code,
            Code::Unauthorized
        );
        assert!(credentials_from_config(b"{", "h", "f", none).is_err());
        let not_b64 = r#"{"auths":{"h":{"auth":"!!!"}}}"#;
        assert!(credentials_from_config(not_b64.as_bytes(), "h", "f", none).is_err());
    }
}
