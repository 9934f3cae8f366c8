//! Amazon ECS read live: task definitions, clusters and services with their deployments, every page.
//!
//! Calls run concurrently up to [`MAX_IN_FLIGHT`] per client; the SDK retries throttling
//! (`ThrottlingException`) with its standard retry strategy (exponential backoff with jitter).

#[cfg(feature = "aws")]
use super::api_error;
use crate::ecs::taskdef::TaskDefinition;
#[cfg(feature = "aws")]
use crate::ecs::taskdef::{platform_of, Container};
#[cfg(feature = "aws")]
use crate::report::Code;
use crate::report::Reason;
#[cfg(feature = "aws")]
use aws_sdk_ecs::Client;
use tokio::sync::Semaphore;

/// ECS API calls in flight at once per audit. ECS meters its API per account and Region with
/// token buckets (sustained rates of tens of requests per second for the read actions); 8 calls in
/// flight at a few tens of milliseconds each stays within them, and the SDK backs off on throttling.
pub const MAX_IN_FLIGHT: usize = 8;

/// `DescribeServices` takes at most this many services per call.
const DESCRIBE_SERVICES_BATCH: usize = 10;

/// An ECS client with a limit on calls in flight.
#[derive(Debug)]
pub struct Ecs {
    #[cfg(feature = "aws")]
    client: Client,
    limit: Semaphore,
    region: String,
}

/// A service as `DescribeServices` returns it: what it runs now and what its deployments run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub arn: Option<String>,
    /// The service's task definition (ARN); none under an external deployment controller.
    pub task_definition: Option<String>,
    /// Task definitions (ARNs) of its deployments (`PRIMARY` and `ACTIVE`: new and draining) and
    /// of its task sets (blue/green and external deployments).
    pub deployments: Vec<String>,
    /// Whether its tasks run on Fargate (launch type `FARGATE`, or only `FARGATE*` capacity
    /// providers), where a task definition without a CPU architecture runs X86_64.
    pub on_fargate: bool,
    /// `ACTIVE`, `DRAINING` (being deleted: it may still run tasks) or `INACTIVE` (deleted; ECS
    /// still describes it for a while).
    pub status: String,
}

impl Service {
    /// Deleted: ECS describes it, but it runs nothing.
    pub fn inactive(&self) -> bool {
        self.status.eq_ignore_ascii_case("INACTIVE")
    }

    /// Being deleted: its tasks are stopping, and may still run.
    pub fn draining(&self) -> bool {
        self.status.eq_ignore_ascii_case("DRAINING")
    }
}

impl Service {
    /// The task definitions this service runs or is rolling to, the service's own first, each once.
    pub fn task_definitions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in self.task_definition.iter().chain(&self.deployments) {
            if !out.contains(t) {
                out.push(t.clone());
            }
        }
        out
    }
}

/// The answer for a list of services: those found, and those ECS reports as failures (`MISSING`).
#[derive(Debug, Clone, Default)]
pub struct Services {
    pub found: Vec<Service>,
    pub missing: Vec<(String, String)>,
}

/// Without the `aws` feature: the same client, every call refused (exit 2).
#[cfg(not(feature = "aws"))]
impl Ecs {
    pub fn new(conf: &super::SdkConfig) -> Ecs {
        Ecs {
            limit: Semaphore::new(MAX_IN_FLIGHT),
            region: conf.region().unwrap_or_default().to_string(),
        }
    }

    /// The Region the client would call.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Refused: built without AWS support.
    pub async fn task_definition(&self, _id: &str) -> Result<TaskDefinition, Reason> {
        let _ = (&self.limit, DESCRIBE_SERVICES_BATCH);
        Err(super::unavailable("ecs:DescribeTaskDefinition"))
    }

    /// Refused: built without AWS support.
    pub async fn clusters(&self) -> Result<Vec<String>, Reason> {
        Err(super::unavailable("ecs:ListClusters"))
    }

    /// Refused: built without AWS support.
    pub async fn service_arns(&self, _cluster: &str) -> Result<Vec<String>, Reason> {
        Err(super::unavailable("ecs:ListServices"))
    }

    /// Refused: built without AWS support.
    pub async fn services(&self, _cluster: &str, _names: &[String]) -> Result<Services, Reason> {
        Err(super::unavailable("ecs:DescribeServices"))
    }
}

#[cfg(feature = "aws")]
impl Ecs {
    pub fn new(conf: &aws_config::SdkConfig) -> Ecs {
        Ecs {
            client: Client::new(conf),
            limit: Semaphore::new(MAX_IN_FLIGHT),
            region: conf.region().map(|r| r.to_string()).unwrap_or_default(),
        }
    }

    /// The Region the client calls.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// `DescribeTaskDefinition` for `FAMILY`, `FAMILY:REVISION` or an ARN.
    pub async fn task_definition(&self, id: &str) -> Result<TaskDefinition, Reason> {
        let _permit = self.limit.acquire().await.expect("semaphore open");
        let out = self
            .client
            .describe_task_definition()
            .task_definition(id)
            .send()
            .await
            .map_err(|e| {
                let client_error = e
                    .as_service_error()
                    .is_some_and(|s| s.is_client_exception());
                if client_error {
                    // ECS answers ClientException "Unable to describe task definition." for a
                    // family or revision it does not hold.
                    Reason::new(
                        Code::NotFound,
                        format!(
                            "ECS has no task definition `{id}` in {}: {}",
                            self.region,
                            aws_sdk_ecs::error::DisplayErrorContext(&e)
                        ),
                    )
                    .hint("check the family, revision or ARN and --region (`aws ecs list-task-definitions`)")
                } else {
                    api_error("ecs:DescribeTaskDefinition", &e)
                }
            })?;
        let td = out.task_definition.ok_or_else(|| {
            Reason::new(
                Code::InvalidInput,
                format!("ECS DescribeTaskDefinition `{id}`: the answer holds no task definition"),
            )
        })?;
        convert(id, td)
    }

    /// Every cluster's ARN in the Region (`ListClusters`, every page).
    pub async fn clusters(&self) -> Result<Vec<String>, Reason> {
        let _permit = self.limit.acquire().await.expect("semaphore open");
        let mut out = Vec::new();
        let mut pages = self.client.list_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("ecs:ListClusters", &e))?;
            out.extend(page.cluster_arns.unwrap_or_default());
        }
        Ok(out)
    }

    /// Every service's ARN in `cluster` (`ListServices`, every page).
    pub async fn service_arns(&self, cluster: &str) -> Result<Vec<String>, Reason> {
        let _permit = self.limit.acquire().await.expect("semaphore open");
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_services()
            .cluster(cluster)
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.cluster_error("ecs:ListServices", cluster, &e))?;
            out.extend(page.service_arns.unwrap_or_default());
        }
        Ok(out)
    }

    /// `DescribeServices` for `names` (names or ARNs) in `cluster`, ten per call, calls concurrent.
    pub async fn services(&self, cluster: &str, names: &[String]) -> Result<Services, Reason> {
        let calls = names
            .chunks(DESCRIBE_SERVICES_BATCH)
            .map(|batch| async move {
                let _permit = self.limit.acquire().await.expect("semaphore open");
                self.client
                    .describe_services()
                    .cluster(cluster)
                    .set_services(Some(batch.to_vec()))
                    .send()
                    .await
                    .map_err(|e| self.cluster_error("ecs:DescribeServices", cluster, &e))
            });
        let mut out = Services::default();
        for answer in futures_util::future::join_all(calls).await {
            let answer = answer?;
            for s in answer.services.unwrap_or_default() {
                out.found.push(Service {
                    name: s.service_name.clone().unwrap_or_default(),
                    arn: s.service_arn.clone(),
                    task_definition: s.task_definition.clone(),
                    on_fargate: on_fargate(&s),
                    status: s.status.clone().unwrap_or_default(),
                    // Task sets (CODE_DEPLOY and EXTERNAL deployment controllers) are deployments too.
                    deployments: s
                        .deployments
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|d| d.task_definition)
                        .chain(
                            s.task_sets
                                .unwrap_or_default()
                                .into_iter()
                                .filter_map(|t| t.task_definition),
                        )
                        .collect(),
                });
            }
            for f in answer.failures.unwrap_or_default() {
                out.missing.push((
                    f.arn.unwrap_or_default(),
                    f.reason.unwrap_or_else(|| "unknown".into()),
                ));
            }
        }
        Ok(out)
    }

    fn cluster_error<E>(
        &self,
        action: &str,
        cluster: &str,
        e: &aws_sdk_ecs::error::SdkError<E>,
    ) -> Reason
    where
        E: aws_sdk_ecs::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
        if code == "ClusterNotFoundException" {
            return Reason::new(
                Code::NotFound,
                format!("ECS has no cluster `{cluster}` in {}", self.region),
            )
            .hint("check the cluster name and the Region (--region, AWS_REGION or the audit's `region`)");
        }
        api_error(action, e)
    }
}

#[cfg(feature = "aws")]
fn on_fargate(s: &aws_sdk_ecs::types::Service) -> bool {
    if let Some(t) = s.launch_type() {
        return t.as_str() == "FARGATE";
    }
    let providers = s.capacity_provider_strategy();
    !providers.is_empty()
        && providers
            .iter()
            .all(|p| p.capacity_provider().starts_with("FARGATE"))
}

/// The SDK's task definition as what the checks need; `id` names it in errors.
#[cfg(feature = "aws")]
fn convert(id: &str, td: aws_sdk_ecs::types::TaskDefinition) -> Result<TaskDefinition, Reason> {
    let bad = |m: String| Reason::new(Code::InvalidInput, format!("task definition `{id}`: {m}"));
    let rp = td.runtime_platform.as_ref();
    let platform = platform_of(
        rp.and_then(|r| r.operating_system_family())
            .map(|o| o.as_str()),
        rp.and_then(|r| r.cpu_architecture()).map(|c| c.as_str()),
    )
    .map_err(|e| bad(e.to_string()))?;
    let compat = td.requires_compatibilities();
    let fargate_only = !compat.is_empty()
        && compat
            .iter()
            .all(|c| *c == aws_sdk_ecs::types::Compatibility::Fargate);
    let mut containers = Vec::new();
    for (i, c) in td
        .container_definitions
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let name = c.name.filter(|n| !n.trim().is_empty());
        let image = c.image.filter(|n| !n.trim().is_empty());
        match (name, image) {
            (Some(name), Some(image)) => containers.push(Container { name, image }),
            _ => {
                return Err(bad(format!(
                    "container definition {i} has no name or no image"
                )))
            }
        }
    }
    if containers.is_empty() {
        return Err(bad("no container definitions".into()));
    }
    let platform_declared = rp.and_then(|r| r.cpu_architecture()).is_some();
    Ok(TaskDefinition {
        platform_declared,
        fargate_only,
        family: td.family,
        arn: td.task_definition_arn,
        revision: Some(i64::from(td.revision)),
        platform,
        containers,
    })
}
