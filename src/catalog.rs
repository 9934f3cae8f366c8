//! The catalog of vendor tools: release URL templates, platforms and pinned certificates.
//!
//! The built-in catalog (`keys/catalog.toml` and the certificates beside it) is compiled in. A user
//! catalog given with `--catalog FILE` has the same format; its tools replace built-in ones of the
//! same name, and its certificate paths are relative to the catalog file.

use crate::input::ReadError;
use crate::pgp::{self, Pin};
use crate::report::Code;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use url::Url;

/// Largest catalog file accepted.
const MAX_CATALOG: u64 = 1 << 20;
const BUILTIN_CATALOG: &str = include_str!("../keys/catalog.toml");
const BUILTIN_CERTS: &[(&str, &[u8])] = &[
    (
        "amazon-ecs-cli.asc",
        include_bytes!("../keys/amazon-ecs-cli.asc"),
    ),
    ("aws-cli-v2.asc", include_bytes!("../keys/aws-cli-v2.asc")),
    (
        "aws-session-manager-plugin.asc",
        include_bytes!("../keys/aws-session-manager-plugin.asc"),
    ),
];

/// Why a catalog cannot be used (reason code `invalid-catalog`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The catalog file is over 1 MiB.
    #[error("catalog {path} is larger than 1 MiB")]
    TooLarge {
        /// The file.
        path: String,
    },
    /// The path is a directory.
    #[error("catalog {path} is a directory, not a file")]
    Directory {
        /// The path.
        path: String,
    },
    /// The file cannot be read.
    #[error("cannot read catalog {path}: {why}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// The file is not UTF-8.
    #[error("catalog {path} is not UTF-8 text")]
    NotUtf8 {
        /// The file.
        path: String,
    },
    /// Not TOML of the catalog's schema.
    #[error("{what}: {why}")]
    Toml {
        /// The catalog.
        what: String,
        /// The TOML parser's message.
        why: String,
    },
    /// One tool's entry is invalid.
    #[error("{what}: tool `{name}`: {problem}")]
    Tool {
        /// The catalog.
        what: String,
        /// The tool.
        name: String,
        /// What is wrong with it.
        problem: ToolProblem,
    },
}

/// What is wrong with one tool's catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolProblem {
    /// The name holds other characters.
    #[error("tool names may hold only letters, digits, '-', '_' and '.'")]
    Name,
    /// `platforms = []`.
    #[error("`platforms` is empty")]
    NoPlatforms,
    /// No `[[tool.pin]]`.
    #[error("no `pin`: every tool needs at least one pinned certificate")]
    NoPin,
    /// A platform that is not `os/arch`.
    #[error(transparent)]
    Platform(#[from] PlatformFormError),
    /// A URL template that does not expand.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A URL template that expands to something other than a URL.
    #[error("`{template}` does not expand to a URL: {why}")]
    NotAUrl {
        /// The template.
        template: String,
        /// The URL parser's message.
        why: String,
    },
    /// `vars` for a platform the tool does not list.
    #[error("`vars` names platform `{0}`, which is not in `platforms`")]
    VarsPlatform(String),
    /// A pinned fingerprint that is not one.
    #[error(transparent)]
    Fingerprint(#[from] pgp::FingerprintError),
    /// `file_name` is not a plain file name.
    #[error("`file_name` `{0}` must be a plain file name")]
    FileName(String),
    /// `default_version` is not a version `--version` would accept.
    #[error("`default_version`: {0}")]
    DefaultVersion(#[from] VersionError),
}

/// A release platform that is not `os/arch`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("platform `{0}` is not of the form os/arch (for example linux/amd64)")]
pub struct PlatformFormError(pub String);

/// A URL template that cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{` without its `}`.
    #[error("unclosed `{{` in `{0}`")]
    Unclosed(String),
    /// A placeholder with no value for the platform.
    #[error("placeholder `{{{name}}}` in `{template}` is not defined for {platform}")]
    Undefined {
        /// The placeholder.
        name: String,
        /// The template.
        template: String,
        /// The platform.
        platform: String,
    },
}

/// A version that could change a URL's path or host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("version `{0}` may hold only letters, digits, '.', '_', '-' and '+'")]
pub struct VersionError(pub String);

/// Why a tool's release URLs cannot be made for a platform and version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// The version is refused.
    #[error(transparent)]
    Version(#[from] VersionError),
    /// The tool is not published for the platform.
    #[error("{tool} is not published for {platform}; platforms: {platforms}")]
    NotPublished {
        /// The tool.
        tool: String,
        /// The platform asked for.
        platform: String,
        /// The platforms it is published for, joined by ", ".
        platforms: String,
    },
    /// The platform is not `os/arch`.
    #[error(transparent)]
    Platform(#[from] PlatformFormError),
    /// A template does not expand.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The expansion is not a URL.
    #[error("bad URL {url}: {why}")]
    BadUrl {
        /// The expansion.
        url: String,
        /// The URL parser's message.
        why: String,
    },
}

impl UrlError {
    /// The reason code: a refused `--version` is a usage error, a platform the tool is not published
    /// for is `unsupported-platform`, and a template that does not make a URL is the catalog's fault.
    pub fn code(&self) -> Code {
        match self {
            UrlError::Version(_) => Code::Usage,
            UrlError::NotPublished { .. } | UrlError::Platform(_) => Code::UnsupportedPlatform,
            UrlError::Template(_) | UrlError::BadUrl { .. } => Code::InvalidCatalog,
        }
    }
}

/// Why a tool's pinned certificates cannot be loaded (reason code `invalid-catalog`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// A built-in pin names a certificate that is not compiled in.
    #[error("built-in certificate {0} is missing")]
    BuiltinMissing(String),
    /// The certificate file cannot be read.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// The pinned fingerprint is not one.
    #[error(transparent)]
    Fingerprint(#[from] pgp::FingerprintError),
    /// The certificate file is not usable OpenPGP.
    #[error("certificate {certificate}: {source}")]
    Cert {
        /// The certificate file.
        certificate: String,
        /// Why.
        source: pgp::CertError,
    },
    /// The file does not hold the pinned primary.
    #[error("certificate {certificate} does not hold the pinned fingerprint {fingerprint}")]
    NotInCert {
        /// The certificate file.
        certificate: String,
        /// The pinned fingerprint.
        fingerprint: String,
    },
    /// A pinned signing key that is not a key of the certificate.
    #[error("pinned signing key {key} is not a key of certificate {fingerprint}")]
    SigningKey {
        /// The signing key's fingerprint.
        key: String,
        /// The certificate's.
        fingerprint: String,
    },
    /// `signing_keys = []`: a pin whose every signature would fail.
    #[error("the pin of certificate {0} lists no signing key (`signing_keys = []`): leave the key out to allow every signing-capable key, or list the keys")]
    NoSigningKeys(String),
    /// Pins of one certificate that cannot be merged.
    #[error(transparent)]
    Merge(#[from] pgp::CertError),
}

/// Why a key file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// Over [`pgp::MAX_CERT_FILE`].
    #[error("{path} is larger than {} bytes", pgp::MAX_CERT_FILE)]
    TooLarge {
        /// The file.
        path: String,
    },
    /// A directory.
    #[error("{path} is a directory, not a key file")]
    Directory {
        /// The path.
        path: String,
    },
    /// Unreadable.
    #[error("cannot read {path}: {why}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    tool: BTreeMap<String, ToolSpec>,
}

/// How a verified file is placed at its destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InstallKind {
    /// An executable: default destination `~/.local/bin/<tool>`, mode 0755.
    #[default]
    Executable,
    /// A package or archive: default destination `./<file_name>`, mode 0644.
    File,
}

/// One tool as written in a catalog file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    /// What the tool is, shown by `keys list`.
    #[serde(default)]
    pub description: Option<String>,
    /// Release URL template, with `{os}`, `{arch}`, `{version}` and the `vars` placeholders.
    pub url: String,
    /// URL template used instead of `url` when the version is `latest`.
    #[serde(default)]
    pub url_latest: Option<String>,
    /// Signature URL template; `{url}` is the expanded release URL (default `{url}.asc`).
    #[serde(default = "default_signature")]
    pub signature: String,
    /// Platforms the tool is published for, as `os/arch`.
    pub platforms: Vec<String>,
    /// How the verified file is installed: an executable or a package/archive file.
    #[serde(default)]
    pub install: InstallKind,
    /// Default destination file name for `install = "file"`.
    #[serde(default)]
    pub file_name: Option<String>,
    /// Version used when none is given (default `latest`).
    #[serde(default = "default_version")]
    pub default_version: String,
    /// Per-platform placeholder values (`os/arch` -> name -> value); may override `{os}` and `{arch}`.
    #[serde(default)]
    pub vars: BTreeMap<String, BTreeMap<String, String>>,
    /// The certificates pinned for this tool; at least one.
    pub pin: Vec<PinSpec>,
}

fn default_signature() -> String {
    "{url}.asc".into()
}
fn default_version() -> String {
    "latest".into()
}

/// A pinned certificate as written in a catalog file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinSpec {
    /// Certificate file: a built-in name for the built-in catalog, a path relative to the catalog file
    /// otherwise.
    pub certificate: String,
    /// The certificate's primary fingerprint; the file must hold exactly this certificate.
    pub fingerprint: String,
    /// Keys allowed to make the signature (default: any signing-capable key of the certificate).
    #[serde(default)]
    pub signing_keys: Option<Vec<String>>,
    /// Accept SHA-1 self-signatures on this certificate (reported as a warning); SHA-1 data signatures are still rejected.
    #[serde(default)]
    pub allow_sha1_self_signatures: bool,
}

/// A tool with the directory its certificate paths are relative to (`None`: built in).
#[derive(Debug, Clone)]
pub struct Tool {
    /// The tool's name in the catalog.
    pub name: String,
    /// The tool as written in its catalog file.
    pub spec: ToolSpec,
    /// Directory the pinned certificate paths are relative to; `None` for the built-in catalog.
    pub base: Option<PathBuf>,
    /// A user catalog's tool that replaced the built-in tool of this name (and its pins).
    pub replaced_builtin: bool,
}

/// The tools of the built-in catalog merged with an optional user catalog.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The tools by name.
    pub tools: BTreeMap<String, Tool>,
}

impl Catalog {
    /// The built-in catalog, merged with `user` if given.
    pub fn load(user: Option<&Path>) -> Result<Catalog, CatalogError> {
        let mut cat = Catalog::default();
        cat.merge(BUILTIN_CATALOG, None, "built-in catalog")?;
        if let Some(path) = user {
            let shown = path.display().to_string();
            let bytes = crate::input::read_capped(path, MAX_CATALOG).map_err(|e| match e {
                ReadError::TooLarge(_) => CatalogError::TooLarge {
                    path: shown.clone(),
                },
                ReadError::Directory => CatalogError::Directory {
                    path: shown.clone(),
                },
                e => CatalogError::Read {
                    path: shown.clone(),
                    why: e.to_string(),
                },
            })?;
            let text =
                String::from_utf8(bytes).map_err(|_| CatalogError::NotUtf8 { path: shown })?;
            let base = path
                .parent()
                .map(|p| {
                    if p.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        p
                    }
                })
                .map(Path::to_path_buf);
            cat.merge(
                &text,
                Some(base.unwrap_or_else(|| PathBuf::from("."))),
                &path.display().to_string(),
            )?;
        }
        Ok(cat)
    }

    /// Parses catalog text as a user catalog relative to `base` (no built-in tools); used by fuzzing.
    pub fn parse_str(text: &str, base: &Path) -> Result<Catalog, CatalogError> {
        let mut cat = Catalog::default();
        cat.merge(text, Some(base.to_path_buf()), "catalog")?;
        Ok(cat)
    }

    fn merge(&mut self, text: &str, base: Option<PathBuf>, what: &str) -> Result<(), CatalogError> {
        let file: CatalogFile = toml::from_str(text).map_err(|e| CatalogError::Toml {
            what: what.to_string(),
            why: e.to_string(),
        })?;
        for (name, spec) in file.tool {
            validate(&name, &spec).map_err(|problem| CatalogError::Tool {
                what: what.to_string(),
                name: name.clone(),
                problem,
            })?;
            let replaced_builtin =
                base.is_some() && self.tools.get(&name).is_some_and(|t| t.base.is_none());
            self.tools.insert(
                name.clone(),
                Tool {
                    name,
                    spec,
                    base: base.clone(),
                    replaced_builtin,
                },
            );
        }
        Ok(())
    }

    /// The tool named `name`, if the catalog has it.
    pub fn get(&self, name: &str) -> Option<&Tool> {
        self.tools.get(name)
    }
}

fn validate(name: &str, spec: &ToolSpec) -> Result<(), ToolProblem> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        || name.starts_with('.')
    {
        return Err(ToolProblem::Name);
    }
    if spec.platforms.is_empty() {
        return Err(ToolProblem::NoPlatforms);
    }
    if spec.pin.is_empty() {
        return Err(ToolProblem::NoPin);
    }
    for p in &spec.platforms {
        let (os, arch) = split_platform(p)?;
        for t in [Some(&spec.url), spec.url_latest.as_ref()]
            .into_iter()
            .flatten()
        {
            let u = expand(t, spec, os, arch, p, "1.0.0", None)?;
            Url::parse(&u).map_err(|e| ToolProblem::NotAUrl {
                template: t.clone(),
                why: e.to_string(),
            })?;
        }
        expand(
            &spec.signature,
            spec,
            os,
            arch,
            p,
            "1.0.0",
            Some("https://example.invalid/x"),
        )?;
    }
    for k in spec.vars.keys() {
        if !spec.platforms.contains(k) {
            return Err(ToolProblem::VarsPlatform(k.clone()));
        }
    }
    for pin in &spec.pin {
        pgp::parse_fingerprint(&pin.fingerprint)?;
        for k in pin.signing_keys.iter().flatten() {
            pgp::parse_fingerprint(k)?;
        }
    }
    if let Some(f) = &spec.file_name {
        if f.is_empty() || f.contains('/') || f.contains('\\') || f == "." || f == ".." {
            return Err(ToolProblem::FileName(f.clone()));
        }
    }
    check_version(&spec.default_version)?;
    Ok(())
}

/// Splits `os/arch` (no variant for release files).
pub fn split_platform(p: &str) -> Result<(&str, &str), PlatformFormError> {
    let token = |t: &str| !t.is_empty() && crate::oci::platform::valid_platform_token(t);
    match p.split_once('/') {
        Some((os, arch)) if token(os) && token(arch) => Ok((os, arch)),
        _ => Err(PlatformFormError(p.to_string())),
    }
}

fn expand(
    t: &str,
    spec: &ToolSpec,
    os: &str,
    arch: &str,
    platform: &str,
    version: &str,
    url: Option<&str>,
) -> Result<String, TemplateError> {
    let vars = spec.vars.get(platform);
    let mut out = String::new();
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let end = rest[i..]
            .find('}')
            .ok_or_else(|| TemplateError::Unclosed(t.to_string()))?
            + i;
        let name = &rest[i + 1..end];
        let value = match vars.and_then(|v| v.get(name)) {
            Some(v) => v.as_str(),
            None => match name {
                "os" => os,
                "arch" => arch,
                "version" => version,
                "url" if url.is_some() => url.unwrap_or_default(),
                _ => {
                    return Err(TemplateError::Undefined {
                        name: name.to_string(),
                        template: t.to_string(),
                        platform: platform.to_string(),
                    })
                }
            },
        };
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The platform shipcheck runs on, as `os/arch`.
pub fn host_platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        o => o,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    };
    format!("{os}/{arch}")
}

/// Accepts versions like `latest`, `v1.21.0`, `2.15.3`, `1.2.707.0`: nothing that could change the
/// URL's path or host.
pub fn check_version(v: &str) -> Result<(), VersionError> {
    if v.is_empty()
        || v.len() > 64
        || v.starts_with('.')
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-+".contains(c))
    {
        return Err(VersionError(v.to_string()));
    }
    Ok(())
}

impl Tool {
    /// Expands the binary and signature URLs for `platform` and `version`.
    pub fn urls(&self, platform: &str, version: &str) -> Result<(Url, Url), UrlError> {
        check_version(version)?;
        if !self.spec.platforms.iter().any(|p| p == platform) {
            return Err(UrlError::NotPublished {
                tool: self.name.clone(),
                platform: platform.to_string(),
                platforms: self.spec.platforms.join(", "),
            });
        }
        let (os, arch) = split_platform(platform)?;
        let template = match (&self.spec.url_latest, version) {
            (Some(t), "latest") => t,
            _ => &self.spec.url,
        };
        let bin = expand(template, &self.spec, os, arch, platform, version, None)?;
        let sig = expand(
            &self.spec.signature,
            &self.spec,
            os,
            arch,
            platform,
            version,
            Some(&bin),
        )?;
        let bad = |url: &str, e: url::ParseError| UrlError::BadUrl {
            url: url.to_string(),
            why: e.to_string(),
        };
        let bin = Url::parse(&bin).map_err(|e| bad(&bin, e))?;
        let sig = Url::parse(&sig).map_err(|e| bad(&sig, e))?;
        Ok((bin, sig))
    }

    /// Loads the pinned certificates, checking each file holds the pinned primary fingerprint. Copies
    /// of one certificate (in one file or pinned twice) are merged ([`pgp::merge_pins`]).
    pub fn pins(&self) -> Result<Vec<Pin>, PinError> {
        let pins = self
            .spec
            .pin
            .iter()
            .map(|p| self.load_pin(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pgp::merge_pins(pins)?)
    }

    fn load_pin(&self, spec: &PinSpec) -> Result<Pin, PinError> {
        let bytes: Vec<u8> = match &self.base {
            None => BUILTIN_CERTS
                .iter()
                .find(|(n, _)| *n == spec.certificate)
                .map(|(_, b)| b.to_vec())
                .ok_or_else(|| PinError::BuiltinMissing(spec.certificate.clone()))?,
            Some(base) => {
                let path = base.join(&spec.certificate);
                read_key_file(&path)?
            }
        };
        let fpr = pgp::parse_fingerprint(&spec.fingerprint)?;
        let certs = pgp::parse_certs(&bytes).map_err(|source| PinError::Cert {
            certificate: spec.certificate.clone(),
            source,
        })?;
        let cert = certs
            .into_iter()
            .find(|c| c.fingerprint() == fpr)
            .ok_or_else(|| PinError::NotInCert {
                certificate: spec.certificate.clone(),
                fingerprint: fpr.to_string(),
            })?;
        let signing_keys = match &spec.signing_keys {
            None => None,
            Some(list) if list.is_empty() => return Err(PinError::NoSigningKeys(fpr.to_string())),
            Some(list) => Some(
                list.iter()
                    .map(|k| pgp::parse_fingerprint(k))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        for k in signing_keys.iter().flatten() {
            if !cert.keys().any(|ka| &ka.key().fingerprint() == k) {
                return Err(PinError::SigningKey {
                    key: k.to_string(),
                    fingerprint: fpr.to_string(),
                });
            }
        }
        Ok(Pin {
            source: spec.certificate.clone(),
            cert,
            signing_keys,
            allow_sha1_self_signatures: spec.allow_sha1_self_signatures,
        })
    }
}

/// Reads a key file with the size cap ([`pgp::MAX_CERT_FILE`]), refusing directories; the cap holds
/// for pipes and devices too (`--key <(curl ...)`).
pub fn read_key_file(path: &Path) -> Result<Vec<u8>, KeyFileError> {
    let shown = path.display().to_string();
    crate::input::read_capped(path, pgp::MAX_CERT_FILE).map_err(|e| match e {
        ReadError::TooLarge(_) => KeyFileError::TooLarge { path: shown },
        ReadError::Directory => KeyFileError::Directory { path: shown },
        e => KeyFileError::Read {
            path: shown,
            why: e.to_string(),
        },
    })
}

/// Applies `--mirror`: the mirror's scheme, host and port replace the URL's; the mirror's path is put
/// in front of the URL's path. The URL's query is not sent to the mirror: it can be a credential of
/// the URL's own host (a presigned URL's signature), and the mirror serves files by path.
pub fn apply_mirror(url: &Url, mirror: &Url) -> Url {
    let mut out = mirror.clone();
    let prefix = mirror.path().trim_end_matches('/');
    out.set_path(&format!("{prefix}{}", url.path()));
    out.set_fragment(None);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_loads_and_expands() {
        let cat = Catalog::load(None).unwrap();
        let ecs = cat.get("ecs-cli").unwrap();
        let (b, s) = ecs.urls("linux/amd64", "latest").unwrap();
        assert_eq!(
            b.as_str(),
            "https://amazon-ecs-cli.s3.amazonaws.com/ecs-cli-linux-amd64-latest"
        );
        assert_eq!(
            s.as_str(),
            "https://amazon-ecs-cli.s3.amazonaws.com/ecs-cli-linux-amd64-latest.asc"
        );
        let (b, _) = ecs.urls("windows/amd64", "v1.21.0").unwrap();
        assert_eq!(
            b.as_str(),
            "https://amazon-ecs-cli.s3.amazonaws.com/ecs-cli-windows-amd64-v1.21.0.exe"
        );
        assert!(ecs.urls("darwin/arm64", "latest").is_err());
        assert!(ecs.urls("linux/amd64", "../x").is_err());
        let aws = cat.get("aws-cli").unwrap();
        let (b, s) = aws.urls("linux/arm64", "latest").unwrap();
        assert_eq!(
            b.as_str(),
            "https://awscli.amazonaws.com/awscli-exe-linux-aarch64.zip"
        );
        assert_eq!(
            s.as_str(),
            "https://awscli.amazonaws.com/awscli-exe-linux-aarch64.zip.sig"
        );
        let (b, _) = aws.urls("linux/amd64", "2.15.0").unwrap();
        assert_eq!(
            b.as_str(),
            "https://awscli.amazonaws.com/awscli-exe-linux-x86_64-2.15.0.zip"
        );
        let smp = cat.get("session-manager-plugin").unwrap();
        let (b, s) = smp.urls("linux/arm64", "1.2.707.0").unwrap();
        assert_eq!(b.as_str(), "https://s3.amazonaws.com/session-manager-downloads/plugin/1.2.707.0/linux_arm64/session-manager-plugin.rpm");
        assert_eq!(s.as_str(), "https://s3.amazonaws.com/session-manager-downloads/plugin/1.2.707.0/linux_arm64/session-manager-plugin.rpm.sig");
        for t in cat.tools.values() {
            assert!(!t.pins().unwrap().is_empty());
        }
    }

    #[test]
    fn mirror_rewrites_scheme_host_port_and_prefixes_path() {
        let u = Url::parse("https://amazon-ecs-cli.s3.amazonaws.com/ecs-cli-linux-amd64-latest")
            .unwrap();
        let m = Url::parse("http://127.0.0.1:8080/m").unwrap();
        assert_eq!(
            apply_mirror(&u, &m).as_str(),
            "http://127.0.0.1:8080/m/ecs-cli-linux-amd64-latest"
        );
        let m = Url::parse("https://mirror.example/").unwrap();
        assert_eq!(
            apply_mirror(&u, &m).as_str(),
            "https://mirror.example/ecs-cli-linux-amd64-latest"
        );
        // The URL's query and fragment stay with the URL's host.
        let u = Url::parse("https://vendor.example/a/tool?X-Amz-Signature=abc#frag").unwrap();
        assert_eq!(
            apply_mirror(&u, &m).as_str(),
            "https://mirror.example/a/tool"
        );
    }
}
