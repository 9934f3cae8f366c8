//! Image references, by Docker's rules: `host[:port]/path[:tag][@digest]`.

use super::{Digest, DigestError};
use std::fmt;

/// Why a string is not an image reference (reason code `invalid-reference` where users wrote it).
/// Its message shows the input as [`shown`] does: never a user name and password written into it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ReferenceError {
    /// The reference as written.
    pub input: String,
    /// What is wrong with it.
    pub problem: ReferenceProblem,
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = shown(&self.input);
        if shown != self.input {
            // What follows the `@` may hold the end of a password that has an `@` in it.
            return write!(
                f,
                "`{shown}` is not an image reference: what follows `@` is not a digest, and a user \
                 name and password do not belong in an image reference (registries get them from \
                 `docker login` or --username/--password-stdin)"
            );
        }
        write!(f, "`{shown}` is not an image reference: {}", self.problem)
    }
}

/// An image reference as written, fit to print. A reference cannot hold credentials, but one written
/// like a URL's authority (`user:password@registry.example.com/app:v1`, `TOKEN@ghcr.io/org/app`)
/// fails to parse, its `@` taken for a digest's: such a text is shown with everything up to its last
/// `@` replaced by `***`. It is recognised by what follows the first `@` (a host and path, with a
/// `/` or another `@`, where a digest has neither) or by a `user:password` before it (a `:` with no
/// `/`); a mistyped digest (`app@sha256:abc`) is shown as written.
pub fn shown(s: &str) -> String {
    let Some((before, after)) = s.split_once('@') else {
        return s.to_string();
    };
    if Digest::parse(after).is_ok() {
        return s.to_string();
    }
    let credential_like = !digest_like(after)
        || after.contains(['/', '@'])
        || (before.contains(':') && !before.contains('/'));
    match s.rfind('@') {
        Some(last) if credential_like => format!("***{}", &s[last..]),
        _ => s.to_string(),
    }
}

/// Whether `s` reads as a mistyped digest (`sha256:abc`: an algorithm name, then encoded bytes) rather
/// than a host (`ghcr.io`, `localhost:5000`, `registry:5000`: a dot, `localhost` or a port number),
/// as what follows a token written before a registry (`TOKEN@ghcr.io`) would be.
fn digest_like(s: &str) -> bool {
    let Some((alg, enc)) = s.split_once(':') else {
        return false;
    };
    let alg_ok = !alg.is_empty()
        && alg != "localhost"
        && alg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+_-".contains(&b));
    let enc_ok = !enc.is_empty()
        && enc
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b))
        && !(enc.len() <= 5 && enc.bytes().all(|b| b.is_ascii_digit()));
    alg_ok && enc_ok
}

/// What is wrong with an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceProblem {
    /// The empty string.
    #[error("it is empty")]
    Empty,
    /// Over 512 characters, or whitespace or control characters in it.
    #[error("it is too long or holds whitespace")]
    TooLongOrWhitespace,
    /// Written as a URL.
    #[error("write it without a URL scheme, like registry.example.com/team/app:v1")]
    Scheme,
    /// The `@digest` part is not a digest.
    #[error("{0}")]
    Digest(DigestError),
    /// The tag breaks Docker's tag grammar.
    #[error("`{0}` is not a valid tag")]
    Tag(String),
    /// The registry part is not a host name with an optional port.
    #[error("`{0}` is not a valid registry host")]
    Registry(String),
    /// A host URL parsers read as an IPv4 address that container runtimes look up as a DNS name.
    #[error("registry host `{0}` is not written as four decimal numbers (like 127.0.0.1): container runtimes look it up as a DNS name, while URL parsers read it as an IP address, so the registry checked could differ from the one the runtime pulls from; write the address in full")]
    NumericHost(String),
    /// The repository path breaks Docker's path grammar.
    #[error("repository `{0}` is not valid (lowercase letters, digits and separators . _ __ - between them, components joined by /)")]
    Repository(String),
    /// Registry and repository together are over 255 characters.
    #[error("the name is longer than 255 characters")]
    NameTooLong,
}

/// An image reference, normalised like Docker: `docker.io/library/alpine:latest` for `alpine`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry host as written (with port), `docker.io` for Docker Hub.
    pub registry: String,
    /// Repository path within the registry (`library/alpine` for Docker Hub's `alpine`).
    pub repository: String,
    /// The tag; `latest` when neither a tag nor a digest is given, `None` with a digest alone.
    pub tag: Option<String>,
    /// The `@digest`, when given.
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
                // Docker's grammar: hex digits and colons only (no embedded IPv4, which its
                // rules exclude on purpose: `[::ffff:127.0.0.1]`; no zone).
                if h.parse::<std::net::Ipv6Addr>().is_err()
                    || !h.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
                {
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
        // Leading zeros are allowed, as Go reads a port (`:080` is port 80).
        if p.is_empty()
            || p.trim_start_matches('0').len() > 5
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

/// Whether the host of `registry` (`host[:port]`) ends in a number (decimal, or `0x` hex), which URL
/// parsers (the WHATWG URL standard, followed by the `url` crate) read as an IPv4 address in any of
/// its short forms (`127.1`, `0x7f.1`, `2130706433`, `0177.0.0.1`), without being four decimal
/// numbers of at most 255 with no leading zero, the only IPv4 form Go's `net.ParseIP` reads (since
/// Go 1.17): containerd and Docker look such a host up as a DNS name, so the registry shipcheck
/// would reach is not the one the runtime pulls from (adversarial pass 39).
fn ambiguous_ipv4(registry: &str) -> bool {
    if registry.starts_with('[') {
        return false;
    }
    let host = registry.rsplit_once(':').map_or(registry, |(h, _)| h);
    let last = host.rsplit('.').next().unwrap_or_default();
    let hex = last.len() >= 2
        && last[..2].eq_ignore_ascii_case("0x")
        && last[2..].bytes().all(|b| b.is_ascii_hexdigit());
    let numeric = !last.is_empty() && (last.bytes().all(|b| b.is_ascii_digit()) || hex);
    let octet = |p: &str| {
        !p.is_empty()
            && p.len() <= 3
            && p.bytes().all(|b| b.is_ascii_digit())
            && (p.len() == 1 || !p.starts_with('0'))
            && p.parse::<u16>().is_ok_and(|n| n <= 255)
    };
    let dotted_quad = host.split('.').count() == 4 && host.split('.').all(octet);
    numeric && !dotted_quad
}

/// A registry host as image references name it: lowercase, and Docker Hub by any of its names
/// (`index.docker.io`, `registry-1.docker.io`) as `docker.io`.
pub fn canonical_host(host: &str) -> String {
    let h = host.to_ascii_lowercase();
    match h.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        _ => h,
    }
}

impl Reference {
    /// Parses `[host[:port]/]path[:tag][@digest]` with Docker's normalisation.
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        let bad = |problem: ReferenceProblem| ReferenceError {
            input: s.to_string(),
            problem,
        };
        if s.is_empty() {
            return Err(bad(ReferenceProblem::Empty));
        }
        if s.len() > 512 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(ReferenceProblem::TooLongOrWhitespace));
        }
        if s.contains("://") {
            return Err(bad(ReferenceProblem::Scheme));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (
                r,
                Some(Digest::parse(d).map_err(|e| bad(ReferenceProblem::Digest(e)))?),
            ),
            None => (s, None),
        };
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(t) = tag {
            if !valid_tag(t) {
                return Err(bad(ReferenceProblem::Tag(t.to_string())));
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
            return Err(bad(ReferenceProblem::Registry(registry)));
        }
        if ambiguous_ipv4(&registry) {
            return Err(bad(ReferenceProblem::NumericHost(registry)));
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
            return Err(bad(ReferenceProblem::Repository(path)));
        }
        if registry.len() + 1 + path.len() > 255 {
            return Err(bad(ReferenceProblem::NameTooLong));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// Adversarial pass 31: a user name and password written into a reference were echoed in the
    /// `invalid-reference` message (stderr, JSON, audit lines).
    #[test]
    fn credentials_written_into_a_reference_are_not_shown() {
        for (input, shown_as) in [
            (
                "alice:S3CRET@registry.example.com/app:v1",
                "***@registry.example.com/app:v1",
            ),
            (
                "alice:p@ss:S3CRET@registry.example.com/app",
                "***@registry.example.com/app",
            ),
            ("ghp_S3CRET@ghcr.io/org/app", "***@ghcr.io/org/app"),
            ("alice:S3CRET@localhost:5000", "***@localhost:5000"),
            // Adversarial pass 39: a token before a registry with no path was shown.
            ("ghp_S3CRET@ghcr.io", "***@ghcr.io"),
            ("S3CRET@localhost:5000", "***@localhost:5000"),
            ("S3CRET@registry:5000", "***@registry:5000"),
            ("S3CRET@localhost", "***@localhost"),
        ] {
            assert_eq!(shown(input), shown_as);
            let e = Reference::parse(input).unwrap_err().to_string();
            assert!(!e.contains("S3CRET") && !e.contains("p@ss"), "{e}");
            assert!(e.contains(shown_as) && e.contains("docker login"), "{e}");
        }
        let hex = "a".repeat(64);
        for plain in [
            "app@sha256:abc".to_string(),
            "registry.example.com/app@md5:abc".to_string(),
            format!("team/app:v1@sha256:{hex}"),
            "app:v1".to_string(),
        ] {
            assert_eq!(shown(&plain), plain);
        }
        let e = Reference::parse("app@sha256:abc").unwrap_err().to_string();
        assert!(
            e.starts_with("`app@sha256:abc` is not an image reference: "),
            "{e}"
        );
        assert!(!e.contains("docker login"), "{e}");
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
        assert_eq!(r("127.0.0.1:00054117/app").registry, "127.0.0.1:00054117");
        assert_eq!(r("10.0.0.1/app").registry, "10.0.0.1");
        assert_eq!(r("0.0.0.0:5000/app").registry, "0.0.0.0:5000");
        assert_eq!(
            r("[::ffff:7f00:1]:5000/app").registry,
            "[::ffff:7f00:1]:5000"
        );
        assert_eq!(r("host1.example/app").registry, "host1.example");
        let e = Reference::parse("127.1:5000/app").unwrap_err().to_string();
        assert!(e.contains("DNS name") && e.contains("127.0.0.1"), "{e}");
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
            // Adversarial pass 39: hosts URL parsers read as 127.0.0.1 and Go as DNS names.
            "127.1:5000/app",
            "0x7f.1/app",
            "0X7F000001:5000/app",
            "2130706433:5000/app",
            "0177.0.0.1:5000/app",
            "127.000.000.001/app",
            "127.0.1/app",
            "127.0.0.256/app",
            "1.2.3.4.5/app",
            "[::ffff:127.0.0.1]:5000/app",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
