//! Registry credentials: `--username`/`--password-stdin`, Docker's config file (`auths`,
//! `credsStore`, `credHelpers`).

use crate::input::ReadError;
use crate::report::{Code, Reason};
use reqwest::header::HeaderValue;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// A username and secret. Debug never shows the secret.
#[derive(Clone)]
pub struct Credentials {
    /// The user name (`AWS` for ECR).
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
    /// Credentials for `username` with `secret` (password or token); `source` says where they came from, for messages.
    pub fn new(username: &str, secret: &str, source: &str) -> Credentials {
        Credentials {
            username: username.into(),
            secret: secret.into(),
            source: source.into(),
        }
    }

    pub(crate) fn basic(&self) -> HeaderValue {
        use base64::Engine as _;
        let enc = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.username, self.secret));
        let mut v = HeaderValue::from_str(&format!("Basic {enc}"))
            .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
        v.set_sensitive(true);
        v
    }
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
    crate::oci::reference::canonical_host(k.split('/').next().unwrap_or(k))
}

/// Credentials for `registry` from the Docker config (`credHelpers`, then `credsStore`, then
/// `auths`). `Ok(None)` means anonymous. Errors name the file, never a secret.
pub fn docker_config_credentials(
    config: Option<&Path>,
    registry: &str,
) -> Result<Option<Credentials>, Reason> {
    let Some(path) = config else {
        return Ok(None);
    };
    let text = match crate::input::read_capped(path, crate::input::MAX_INPUT_SIZE) {
        Ok(t) => t,
        Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Reason::new(
                Code::Io,
                format!("cannot read the Docker config {}: {e}", path.display()),
            ))
        }
    };
    credentials_from_config(&text, registry, &path.display().to_string(), &helper_get)
}

type HelperFn<'a> = dyn Fn(&str, &str) -> Result<Option<(String, String)>, HelperError> + 'a;

/// Why a Docker credential helper gave no credentials (reason code `unauthorized`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelperError {
    /// The configured helper name could run something other than a `docker-credential-*` program.
    #[error("`{0}` is not a credential helper name")]
    BadName(String),
    /// The helper program could not be started or waited for.
    #[error("cannot run {program}: {why}")]
    Run {
        /// `docker-credential-NAME`.
        program: String,
        /// The operating system's reason.
        why: String,
    },
    /// The helper failed (its own message, first 200 characters).
    #[error("{program} exited with {status}: {message}")]
    Failed {
        /// `docker-credential-NAME`.
        program: String,
        /// Its exit status.
        status: String,
        /// What it printed.
        message: String,
    },
    /// The helper's stdout is not its JSON answer.
    #[error("{0} printed something that is not its JSON answer")]
    NotJson(String),
    /// An identity token, which shipcheck does not exchange.
    #[error("{0} returned an identity token, which shipcheck does not support")]
    IdentityToken(String),
}

// Long: Docker's lookup order (credHelpers, credsStore, auths under each host spelling) as one sequence, so it reads as Docker's.
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
    // serde's messages quote the offending value, which in this file can be a credential: only the
    // kind of error and its position are shown.
    let cfg: Config = serde_json::from_slice(text).map_err(|e| {
        use serde_json::error::Category;
        let what = match e.classify() {
            Category::Syntax | Category::Eof => "not valid JSON",
            Category::Data => "a value has the wrong type (`auths` maps each registry to an object such as {\"auth\": \"<base64 of user:password>\"})",
            Category::Io => "unreadable",
        };
        bad(format!("{what} at line {}, column {}", e.line(), e.column()))
    })?;
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
fn helper_get(helper: &str, server: &str) -> Result<Option<(String, String)>, HelperError> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    if !helper
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(HelperError::BadName(helper.to_string()));
    }
    let prog = format!("docker-credential-{helper}");
    let mut child = Command::new(&prog)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| HelperError::Run {
            program: prog.clone(),
            why: e.to_string(),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| HelperError::Run {
        program: prog.clone(),
        why: e.to_string(),
    })?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        if msg.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        // The helper's own message; helpers do not print secrets on failure. Keep it short.
        let short: String = msg.trim().chars().take(200).collect();
        return Err(HelperError::Failed {
            program: prog,
            status: out.status.to_string(),
            message: short,
        });
    }
    #[derive(Deserialize)]
    struct HelperOut {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let h: HelperOut =
        serde_json::from_slice(&out.stdout).map_err(|_| HelperError::NotJson(prog.clone()))?;
    if h.username == "<token>" {
        return Err(HelperError::IdentityToken(prog));
    }
    Ok(Some((h.username, h.secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let failing: &HelperFn = &|_, _| Err(HelperError::NotJson("boom".into()));
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

    /// serde's messages quote values: a malformed entry must not print the credential it holds.
    #[test]
    fn a_malformed_config_does_not_print_its_credentials() {
        let none: &HelperFn = &|_, _| Ok(None);
        for cfg in [
            r#"{"auths":{"127.0.0.1:5999":"dXNlcjpzM2NyM3RQQVNT"}}"#,
            r#"{"auths":{"h":{"auth":"dXNlcjpzM2NyM3RQQVNT","password":7}}}"#,
            r#"{"auths":{"h":{"password":"s3cr3tPASS"}},"credsStore":["s3cr3tPASS"]}"#,
            r#"{"auths":{"h":{"password":"s3cr3tPASS" "#,
        ] {
            let r = credentials_from_config(cfg.as_bytes(), "h", "f", none).unwrap_err();
            let text = format!("{} {}", r.message, r.hint.unwrap_or_default());
            assert!(
                !text.contains("dXNlcjpz") && !text.contains("s3cr3t"),
                "{text}"
            );
            assert!(text.contains("line 1, column"), "{text}");
        }
    }
}
