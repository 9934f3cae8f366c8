//! Native Amazon ECR authentication: when no Docker credentials exist for an ECR registry, call ECR
//! `GetAuthorizationToken` through the official AWS SDK for Rust with the standard credential chain
//! (environment variables, shared config and credentials files with profiles, web identity as GitHub
//! OIDC uses, SSO, container and instance metadata), and log in with HTTP Basic `AWS:<token>`.
//!
//! The SDK honours `AWS_ENDPOINT_URL_ECR` / `AWS_ENDPOINT_URL`, so tests point it at moto. A registry
//! host is ECR when it looks like `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`, or when it is
//! declared in `SHIPCHECK_ECR_REGISTRIES` (`host[=region]`, comma-separated) for ECR behind a proxy or a
//! private DNS name, and for tests.
//!
//! One token is fetched per registry per run and reused; its `expiresAt` is not consulted again
//! (tokens last 12 hours, far longer than a run), so a token reported as already expired, as moto's
//! is, cannot cause a request loop.

use crate::oci::auth::Credentials;
use crate::report::{Code, Reason};
#[cfg(feature = "aws")]
use std::time::Duration;

/// Environment variable that declares extra ECR registry hosts.
pub const DECLARE_ENV: &str = "SHIPCHECK_ECR_REGISTRIES";

/// An ECR registry: its account (from the host name) and region (from the host name or declaration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrRegistry {
    /// The AWS account ID from the host name; `None` for a host declared in `SHIPCHECK_ECR_REGISTRIES`.
    pub account: Option<String>,
    /// The Region from the host name or the declaration; `None`: the SDK's configured Region.
    pub region: Option<String>,
}

/// Parses `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`.
fn parse_ecr_host(host: &str) -> Option<EcrRegistry> {
    let host = host.to_ascii_lowercase();
    let rest = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let mut parts = rest.split('.');
    let account = parts.next()?;
    let (dkr, ecr, region) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
        || dkr != "dkr"
        || !(ecr == "ecr" || ecr == "ecr-fips")
        || region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return None;
    }
    Some(EcrRegistry {
        account: Some(account.to_string()),
        region: Some(region.to_string()),
    })
}

/// A registry host declared as ECR in [`DECLARE_ENV`], with its Region if given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Declared {
    /// The host as written in image references (with port).
    pub host: String,
    /// `host=region`'s Region.
    pub region: Option<String>,
}

/// Parses the value of [`DECLARE_ENV`]: `host[=region]`, comma-separated.
pub fn declared(value: &str) -> Vec<Declared> {
    value
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let (host, region) = match d.split_once('=') {
                Some((h, r)) => (h.trim(), Some(r.trim().to_string())),
                None => (d, None),
            };
            Declared {
                host: host.to_string(),
                region,
            }
        })
        .collect()
}

/// Whether `host` (as in the image reference, with port) is an ECR registry, and which: by its name,
/// or because it is among the `declared` hosts.
pub fn ecr_registry(host: &str, declared: &[Declared]) -> Option<EcrRegistry> {
    if let Some(r) = parse_ecr_host(host) {
        return Some(r);
    }
    declared
        .iter()
        .find(|d| d.host.eq_ignore_ascii_case(host))
        .map(|d| EcrRegistry {
            account: None,
            region: d.region.clone(),
        })
}

type Cached = crate::oci::cache::EcrLogin;

/// Credentials for the ECR registry `host`: one `GetAuthorizationToken` per host per run (`login`
/// is the run's cell for the host, shared by concurrent callers: an audit of 200 images in one
/// repository makes one call). A failure is kept too, so it is reported once per image without
/// calling 200 times.
pub async fn credentials(
    host: &str,
    reg: &EcrRegistry,
    login: &tokio::sync::OnceCell<Cached>,
    timeout: crate::aws::Timeout,
) -> Result<Credentials, Reason> {
    login
        .get_or_init(|| fetch(host, reg, timeout))
        .await
        .clone()
}

/// Without the `aws` feature: no native ECR login (Docker's config still works).
#[cfg(not(feature = "aws"))]
async fn fetch(host: &str, _reg: &EcrRegistry, _timeout: crate::aws::Timeout) -> Cached {
    Err(Reason::new(
        Code::Unauthorized,
        format!("{host}: no credentials, and this shipcheck was built without AWS support (the `aws` cargo feature) for the native ECR login"),
    )
    .hint("log in first: aws ecr get-login-password | docker login --username AWS --password-stdin HOST"))
}

#[cfg(feature = "aws")]
async fn fetch(host: &str, reg: &EcrRegistry, timeout: crate::aws::Timeout) -> Cached {
    let fail = |why: String| {
        Reason::new(Code::Unauthorized, format!("{host}: ECR GetAuthorizationToken failed: {why}")).hint(
            "configure AWS credentials (environment, profile, web identity) with ecr:GetAuthorizationToken, \
             or log in first: aws ecr get-login-password | docker login --username AWS --password-stdin HOST",
        )
    };
    let mut loader = crate::aws::loader().timeout_config(timeout.config());
    if let Some(r) = &reg.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    let conf = loader.load().await;
    if conf.region().is_none() {
        return Err(fail("no AWS region: set AWS_REGION, or declare it as host=region in SHIPCHECK_ECR_REGISTRIES".into()));
    }
    let client = aws_sdk_ecr::Client::new(&conf);
    #[allow(deprecated)]
    let op = match &reg.account {
        Some(a) => client.get_authorization_token().registry_ids(a.clone()),
        None => client.get_authorization_token(),
    };
    let out = match tokio::time::timeout(Duration::from_secs(60), op.send()).await {
        Err(_) => return Err(fail("no answer within 60 s".into())),
        Ok(Err(e)) => {
            return Err(fail(
                aws_sdk_ecr::error::DisplayErrorContext(&e).to_string(),
            ))
        }
        Ok(Ok(o)) => o,
    };
    let token = out
        .authorization_data()
        .first()
        .and_then(|d| d.authorization_token())
        .ok_or_else(|| fail("the answer holds no authorization token".into()))?;
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| fail("the token is not base64".into()))?;
    let decoded = String::from_utf8(decoded).map_err(|_| fail("the token is not text".into()))?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| fail("the token is not user:password".into()))?;
    let region = conf.region().map(|r| r.to_string()).unwrap_or_default();
    Ok(Credentials::new(
        user,
        password,
        &format!("ECR GetAuthorizationToken ({region})"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_hosts() {
        let r = parse_ecr_host("123456789012.dkr.ecr.us-east-1.amazonaws.com").unwrap();
        assert_eq!(r.account.as_deref(), Some("123456789012"));
        assert_eq!(r.region.as_deref(), Some("us-east-1"));
        assert!(parse_ecr_host("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com").is_some());
        assert!(parse_ecr_host("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn").is_some());
        for h in [
            "public.ecr.aws",
            "12345.dkr.ecr.us-east-1.amazonaws.com",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com",
            "registry.example.com",
            "123456789012.s3.us-east-1.amazonaws.com",
        ] {
            assert!(parse_ecr_host(h).is_none(), "{h}");
        }
    }

    #[test]
    fn declared_hosts() {
        let d = declared(" 127.0.0.1:5000=eu-west-1, ecr.internal ,,");
        assert_eq!(
            d,
            [
                Declared {
                    host: "127.0.0.1:5000".into(),
                    region: Some("eu-west-1".into())
                },
                Declared {
                    host: "ecr.internal".into(),
                    region: None
                },
            ]
        );
        let r = ecr_registry("ECR.internal", &d).unwrap();
        assert_eq!((r.account, r.region), (None, None));
        assert_eq!(
            ecr_registry("127.0.0.1:5000", &d)
                .unwrap()
                .region
                .as_deref(),
            Some("eu-west-1")
        );
        assert!(ecr_registry("127.0.0.1:5001", &d).is_none());
        assert!(ecr_registry("registry.example.com", &[]).is_none());
        let named = ecr_registry("123456789012.dkr.ecr.us-east-1.amazonaws.com", &[]).unwrap();
        assert_eq!(named.account.as_deref(), Some("123456789012"));
    }
}
