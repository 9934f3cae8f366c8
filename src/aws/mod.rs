//! Reading a live AWS account through the official AWS SDK for Rust, with the standard credential
//! chain (environment, profiles with `AWS_PROFILE`, SSO, web identity, container and instance
//! credentials). Endpoints follow the SDK's `AWS_ENDPOINT_URL_<SERVICE>` / `AWS_ENDPOINT_URL`
//! (tests point them at moto).

#[cfg(feature = "aws")]
pub(crate) mod ec2;
/// Without the `aws` feature: EC2 refuses every call.
#[cfg(not(feature = "aws"))]
pub(crate) mod ec2 {
    use super::endpoints::{SecurityGroup, VpcEndpoint};
    use crate::report::Reason;
    use std::collections::{BTreeMap, BTreeSet};

    /// The stand-in EC2 client.
    #[derive(Debug)]
    pub struct Ec2;

    impl Ec2 {
        pub fn new(_conf: &super::SdkConfig) -> Ec2 {
            Ec2
        }

        /// Refused: built without AWS support.
        pub async fn vpcs(&self, _vpc: Option<&str>) -> Result<Vec<String>, Reason> {
            Err(super::unavailable("ec2:DescribeVpcs"))
        }

        /// Refused: built without AWS support.
        pub async fn vpc_endpoints(&self, _vpc: Option<&str>) -> Result<Vec<VpcEndpoint>, Reason> {
            Err(super::unavailable("ec2:DescribeVpcEndpoints"))
        }

        /// Refused: built without AWS support.
        pub async fn security_groups(
            &self,
            _ids: &BTreeSet<String>,
        ) -> Result<BTreeMap<String, SecurityGroup>, Reason> {
            Err(super::unavailable("ec2:DescribeSecurityGroups"))
        }
    }
}
pub(crate) mod ecr;
pub(crate) mod ecs;
pub(crate) mod endpoint_policy;
pub mod endpoints;
pub mod iam;
pub mod policy;

use crate::report::{Code, Reason};
#[cfg(feature = "aws")]
pub use aws_config::SdkConfig;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

type PerRegion<T> = Mutex<HashMap<Option<String>, Arc<OnceCell<T>>>>;

fn cell<T>(map: &PerRegion<T>, region: Option<&str>) -> Arc<OnceCell<T>> {
    let mut map = map.lock().expect("per-region lock");
    map.entry(region.map(str::to_string)).or_default().clone()
}

/// SDK configurations and clients made once per Region for a whole run (an audit), so that every
/// target shares credentials, connections and each client's limit on calls in flight.
#[derive(Debug, Default)]
pub struct Clients {
    timeout: Timeout,
    configs: PerRegion<SdkConfig>,
    ecs: PerRegion<Arc<ecs::Ecs>>,
    ecr: PerRegion<Arc<ecr::Ecr>>,
}

impl Clients {
    /// Clients whose API calls wait at most `timeout` (see [`Timeout`]).
    pub fn new(timeout: Timeout) -> Clients {
        Clients {
            timeout,
            ..Clients::default()
        }
    }

    /// The configuration for `region` (`None`: the configured Region).
    pub async fn config(&self, region: Option<&str>) -> SdkConfig {
        cell(&self.configs, region)
            .get_or_init(|| config(region, self.timeout))
            .await
            .clone()
    }

    /// The configuration for IAM calls (global: us-east-1 when no Region is configured).
    pub async fn global_config(&self) -> SdkConfig {
        let conf = self.config(None).await;
        if conf.region().is_some() {
            return conf;
        }
        global_config(None, self.timeout).await
    }

    /// The ECS client for `region`.
    pub async fn ecs(&self, region: Option<&str>) -> Arc<ecs::Ecs> {
        let conf = self.config(region).await;
        cell(&self.ecs, region)
            .get_or_init(|| async { Arc::new(ecs::Ecs::new(&conf)) })
            .await
            .clone()
    }

    /// The ECR client for `region`.
    pub async fn ecr(&self, region: Option<&str>) -> Arc<ecr::Ecr> {
        let conf = self.config(region).await;
        cell(&self.ecr, region)
            .get_or_init(|| async { Arc::new(ecr::Ecr::new(&conf)) })
            .await
            .clone()
    }
}

/// How long API calls may take: from the command's `--timeout` (default 30 s), one attempt of a call
/// waits at most that long (its connection at most 10 s of it), and a call with the SDK's retries
/// of throttling, 5xx and timeouts at most three times that. An endpoint that stops answering
/// makes the check undecided (exit 2) instead of hanging a scheduled audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout(pub std::time::Duration);

impl Default for Timeout {
    fn default() -> Self {
        Timeout(std::time::Duration::from_secs(30))
    }
}

impl From<u64> for Timeout {
    /// A timeout of `secs` seconds (`--timeout`).
    fn from(secs: u64) -> Self {
        Timeout(std::time::Duration::from_secs(secs))
    }
}

#[cfg(feature = "aws")]
impl Timeout {
    /// The SDK's timeout settings for this timeout.
    pub fn config(self) -> aws_config::timeout::TimeoutConfig {
        let attempt = self.0.max(std::time::Duration::from_millis(1));
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(attempt.min(std::time::Duration::from_secs(10)))
            .operation_attempt_timeout(attempt)
            .operation_timeout(attempt.saturating_mul(3))
            .build()
    }
}

#[cfg(feature = "aws")]
/// The SDK's HTTPS client as the SDK builds its default one (proxy settings from the environment,
/// the SDK's connector settings and sleep), but over rustls with ring, the TLS stack the rest of
/// shipcheck uses, instead of aws-lc.
fn https_client() -> aws_sdk_ecs::config::SharedHttpClient {
    use aws_smithy_http_client::{proxy::ProxyConfig, tls, Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ));
        conn.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            conn.set_sleep_impl(c.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

#[cfg(feature = "aws")]
/// The SDK's configuration loader: the standard credential chain, the latest behaviour version and
/// [`https_client`]. Every SDK client shipcheck makes starts here.
pub fn loader() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client())
}

/// The SDK configuration from the credential chain; `region` overrides the configured one. With no
/// Region anywhere, none is made up: a regional call (ECS, ECR, EC2) then fails, exit 2, instead of
/// auditing a Region nobody chose.
#[cfg(feature = "aws")]
pub async fn config(region: Option<&str>, timeout: Timeout) -> SdkConfig {
    let mut loader = loader().timeout_config(timeout.config());
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_string()));
    }
    loader.load().await
}

/// The SDK configuration for IAM, which is global: any Region works, us-east-1 when none is
/// configured.
#[cfg(feature = "aws")]
pub async fn global_config(region: Option<&str>, timeout: Timeout) -> SdkConfig {
    let conf = config(region, timeout).await;
    if conf.region().is_some() {
        return conf;
    }
    conf.into_builder()
        .region(aws_config::Region::new("us-east-1"))
        .build()
}

/// A regional target with no Region configured anywhere (exit 2): shipcheck does not pick one.
pub fn no_region(what: &str) -> Reason {
    Reason::new(
        Code::Usage,
        format!("{what}: no AWS Region is configured, and shipcheck does not pick one"),
    )
    .hint("set `region` on the target, pass --region, or set AWS_REGION (or a region in the AWS profile)")
}

/// A failed API call as a reason: `AccessDenied` names the action the caller needs (exit 2, the
/// check could not be made); anything else is a failed download of that call's answer.
#[cfg(feature = "aws")]
pub fn api_error<E>(action: &str, e: &aws_sdk_iam::error::SdkError<E>) -> Reason
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
    // IAM answers 403 AccessDenied; some endpoints' error bodies do not parse, the status does.
    let forbidden = e.raw_response().is_some_and(|r| r.status().as_u16() == 403);
    if code.contains("AccessDenied") || code == "UnauthorizedOperation" || forbidden {
        let code = if code.is_empty() { "HTTP 403" } else { code };
        return Reason::new(
            Code::AccessDenied,
            format!("the AWS caller may not call {action} ({code})"),
        )
        .hint(format!(
            "allow `{action}` to the role or user shipcheck runs as (README: \"Least-privilege policy for audits\")"
        ));
    }
    let detail = aws_sdk_iam::error::DisplayErrorContext(e).to_string();
    Reason::new(Code::DownloadFailed, format!("{action} failed: {detail}"))
        .hint("check AWS credentials (AWS_PROFILE, AWS_REGION) and the network path to AWS")
}

/// Without the `aws` feature: what the configuration would name (its Region); every client made from
/// it refuses its calls with [`unavailable`].
#[cfg(not(feature = "aws"))]
#[derive(Debug, Clone, Default)]
pub struct SdkConfig {
    region: Option<String>,
}

/// Without the `aws` feature: a configuration for `region` (no credentials are looked for).
#[cfg(not(feature = "aws"))]
pub async fn config(region: Option<&str>, _timeout: Timeout) -> SdkConfig {
    SdkConfig {
        region: region.map(str::to_string),
    }
}

/// Without the `aws` feature: a configuration for IAM (no credentials are looked for).
#[cfg(not(feature = "aws"))]
pub async fn global_config(region: Option<&str>, timeout: Timeout) -> SdkConfig {
    config(region, timeout).await
}

/// Without the `aws` feature: why `action` cannot be called (exit 2).
#[cfg(not(feature = "aws"))]
pub fn unavailable(action: &str) -> Reason {
    Reason::new(
        Code::Usage,
        format!("{action}: this shipcheck was built without AWS support (the `aws` cargo feature)"),
    )
    .hint("build it with the default features: cargo install --path . (or cargo build --features aws)")
}

#[cfg(not(feature = "aws"))]
impl SdkConfig {
    /// The Region it names.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
}

#[cfg(all(test, feature = "aws"))]
mod tests {
    use super::Timeout;
    use std::time::Duration;

    #[test]
    fn a_timeout_bounds_the_connection_each_attempt_and_the_call() {
        let t = Timeout::default().config();
        assert_eq!(t.connect_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(30)));
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(90)));
        let t = Timeout::from(2).config();
        assert_eq!(t.connect_timeout(), Some(Duration::from_secs(2)));
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(2)));
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(6)));
        // `--timeout 0` does not mean "no timeout".
        let t = Timeout::from(0).config();
        assert_eq!(
            t.operation_attempt_timeout(),
            Some(Duration::from_millis(1))
        );
    }
}
