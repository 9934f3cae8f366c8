//! ECS services read live: every service of a cluster (or of every cluster in the Region), the task
//! definitions it runs and rolls to (its own and its deployments'), each checked exactly as
//! `verify-taskdef` checks a file, for the platform of its `runtimePlatform`. One report per service.
//!
//! A task definition used by several services is read and checked once per audit and [`ImageOptions`]
//! ([`TaskdefMemo`]); images shared between task definitions reuse verified content through the
//! audit's cache.

use crate::aws::ecs::{Ecs, Service};
use crate::ecs::taskdef::{self, ImageOptions, TaskdefReport};
use crate::net::Http;
use crate::oci::cache::ContentCache;
use crate::report::{prefixed, verdict_of, Code, Reason, Verdict};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// What to check: `cluster` (name, ARN or `*` for every cluster in the Region) and optionally only
/// some of its services (names or ARNs).
#[derive(Debug, Clone, Default)]
pub struct ServicesRequest {
    pub cluster: String,
    pub services: Option<Vec<String>>,
    pub images: ImageOptions,
}

/// The result for one service (an `ecs` audit result).
#[derive(Debug, Clone, Serialize)]
pub struct ServiceReport {
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    pub warnings: Vec<Reason>,
    pub region: String,
    /// The cluster's name and the service's name (`*` when the cluster could not be listed).
    pub cluster: String,
    pub service: String,
    /// One `verify-taskdef` report per task definition the service runs or is deploying.
    pub task_definitions: Vec<TaskdefReport>,
}

impl ServiceReport {
    fn new(region: &str, cluster: &str, service: &str) -> Self {
        ServiceReport {
            verdict: Verdict::Error,
            reasons: Vec::new(),
            warnings: Vec::new(),
            region: region.to_string(),
            cluster: cluster.to_string(),
            service: service.to_string(),
            task_definitions: Vec::new(),
        }
    }

    /// A report for a target that could not be checked at all.
    pub fn failed(region: &str, cluster: &str, service: &str, r: Reason) -> Self {
        let mut rep = ServiceReport::new(region, cluster, service);
        rep.reasons.push(r);
        rep.verdict = verdict_of(&rep.reasons);
        rep
    }

    /// `cluster/service`, the audit's name for this result.
    pub fn target(&self) -> String {
        format!("{}/{}", self.cluster, self.service)
    }
}

/// Task definition checks shared by an audit: one per task definition ARN and way of checking its
/// images (a `deep = true` target never reuses the result of a target that skipped the layers).
#[derive(Debug, Default)]
pub struct TaskdefMemo(Mutex<HashMap<MemoKey, Arc<OnceCell<TaskdefReport>>>>);

/// A task definition ARN and how its images are checked.
type MemoKey = (String, ImageOptions);

impl TaskdefMemo {
    fn cell(&self, arn: &str, images: &ImageOptions) -> Arc<OnceCell<TaskdefReport>> {
        let mut map = self.0.lock().expect("memo lock");
        map.entry((arn.to_string(), images.clone()))
            .or_default()
            .clone()
    }
}

/// The last part of an ARN (`.../NAME`), or the text itself.
fn short(arn_or_name: &str) -> &str {
    arn_or_name.rsplit('/').next().unwrap_or(arn_or_name)
}

/// Checks the services `req` names; one report per service, in cluster and service order.
pub async fn run(
    req: &ServicesRequest,
    ecs: &Ecs,
    http: &Http,
    cache: &ContentCache,
    memo: &TaskdefMemo,
) -> Vec<ServiceReport> {
    let region = ecs.region().to_string();
    if region.is_empty() {
        let r = crate::aws::no_region(&format!("[[ecs]] cluster `{}`", req.cluster));
        return vec![ServiceReport::failed("", short(&req.cluster), "*", r)];
    }
    let every = req.cluster == "*";
    let clusters = if every {
        match ecs.clusters().await {
            Ok(c) => c,
            Err(r) => return vec![ServiceReport::failed(&region, "*", "*", r)],
        }
    } else {
        vec![req.cluster.clone()]
    };
    let per_cluster = clusters
        .iter()
        .map(|c| cluster_services(req, c, ecs, http, cache, memo));
    let mut out: Vec<ServiceReport> = futures_util::future::join_all(per_cluster)
        .await
        .into_iter()
        .flatten()
        .collect();
    if out.is_empty() {
        let what = if every {
            format!("no ECS cluster in {region}")
        } else {
            format!("ECS cluster `{}` in {region} has no services", req.cluster)
        };
        out.push(ServiceReport::failed(
            &region,
            short(&req.cluster),
            "*",
            Reason::new(Code::NotFound, what)
                .hint("an audit target with nothing to check cannot pass: check the cluster and the Region"),
        ));
    }
    out
}

async fn cluster_services(
    req: &ServicesRequest,
    cluster: &str,
    ecs: &Ecs,
    http: &Http,
    cache: &ContentCache,
    memo: &TaskdefMemo,
) -> Vec<ServiceReport> {
    let region = ecs.region();
    let name = short(cluster);
    let named = req.services.is_some();
    let mut wanted = match &req.services {
        Some(s) => s.clone(),
        None => match ecs.service_arns(cluster).await {
            Ok(s) => s,
            Err(r) => return vec![ServiceReport::failed(region, name, "*", r)],
        },
    };
    // A service named twice is asked for, checked and reported once.
    let mut seen = std::collections::HashSet::new();
    wanted.retain(|w| seen.insert(w.clone()));
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut found = match ecs.services(cluster, &wanted).await {
        Ok(f) => f,
        Err(r) => return vec![ServiceReport::failed(region, name, "*", r)],
    };
    // Once each also when named both by name and by ARN.
    let mut seen = std::collections::HashSet::new();
    found
        .found
        .retain(|s| seen.insert(s.arn.clone().unwrap_or_else(|| s.name.clone())));
    // A deleted (INACTIVE) service runs nothing. Named, it is not found, as a service ECS does not
    // know; listed (ListServices does not list deleted services), it was deleted since, and is left out.
    let (inactive, live): (Vec<Service>, Vec<Service>) =
        found.found.into_iter().partition(Service::inactive);
    let mut out: Vec<ServiceReport> = futures_util::future::join_all(
        live.iter()
            .map(|s| service_report(s, name, ecs, &req.images, http, cache, memo)),
    )
    .await;
    for s in inactive.iter().filter(|_| named) {
        out.push(ServiceReport::failed(
            region,
            name,
            &s.name,
            Reason::new(
                Code::NotFound,
                format!(
                    "ECS service `{}` in cluster `{name}` is INACTIVE: it was deleted and runs nothing",
                    s.name
                ),
            )
            .hint("remove it from the audit file's `services`, or check the name (`aws ecs list-services`)"),
        ));
    }
    for (arn, why) in &found.missing {
        out.push(ServiceReport::failed(
            region,
            name,
            short(arn),
            Reason::new(
                Code::NotFound,
                format!(
                    "ECS has no service `{}` in cluster `{name}` ({why})",
                    short(arn)
                ),
            )
            .hint("check the service names in the audit file (`aws ecs list-services`)"),
        ));
    }
    out
}

async fn service_report(
    s: &Service,
    cluster: &str,
    ecs: &Ecs,
    images: &ImageOptions,
    http: &Http,
    cache: &ContentCache,
    memo: &TaskdefMemo,
) -> ServiceReport {
    let mut rep = ServiceReport::new(ecs.region(), cluster, &s.name);
    let arns = s.task_definitions();
    if arns.is_empty() {
        return ServiceReport::failed(
            ecs.region(),
            cluster,
            &s.name,
            Reason::new(
                Code::NotFound,
                format!("service `{}` names no task definition, in itself, its deployments or its task sets", s.name),
            ),
        );
    }
    let checks = arns.iter().map(|arn| async move {
        memo.cell(arn, images)
            .get_or_init(|| async {
                match ecs.task_definition(arn).await {
                    Ok(def) => taskdef::check(&def, images, http, cache).await,
                    Err(r) => TaskdefReport::unreadable(short(arn), r),
                }
            })
            .await
            .clone()
    });
    rep.task_definitions = futures_util::future::join_all(checks).await;
    if s.draining() {
        rep.warnings.push(
            Reason::new(
                Code::ServiceDraining,
                format!(
                    "service `{}` is DRAINING: it is being deleted, and its tasks may still run, so it was checked",
                    s.name
                ),
            )
            .hint("once its tasks have stopped, ECS marks it INACTIVE and it is no longer checked"),
        );
    }
    for t in &rep.task_definitions {
        let name = &t.path;
        if !t.platform_declared && !s.on_fargate && t.revision.is_some() {
            rep.warnings.push(
                Reason::new(
                    Code::NotEvaluated,
                    format!(
                        "service `{}` does not run only on Fargate and task definition {name} declares no runtimePlatform.cpuArchitecture: its images were checked for {} only, but the container instances' architecture decides what runs",
                        s.name,
                        t.platform.as_deref().unwrap_or("linux/amd64")
                    ),
                )
                .hint("declare runtimePlatform.cpuArchitecture (X86_64 or ARM64) in the task definition"),
            );
        }
        let prefix = format!("task definition {name}: ");
        rep.reasons.extend(prefixed(&t.reasons, &prefix));
        rep.warnings.extend(prefixed(&t.warnings, &prefix));
    }
    rep.verdict = verdict_of(&rep.reasons);
    rep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_runs_its_own_and_its_deployments_task_definitions_once_each() {
        let s = Service {
            name: "web".into(),
            arn: None,
            task_definition: Some("arn:td/web:2".into()),
            deployments: vec!["arn:td/web:2".into(), "arn:td/web:1".into()],
            on_fargate: true,
            status: "ACTIVE".into(),
        };
        assert_eq!(s.task_definitions(), vec!["arn:td/web:2", "arn:td/web:1"]);
        assert_eq!(short("arn:aws:ecs:us-east-1:1:cluster/prod"), "prod");
        assert_eq!(short("prod"), "prod");
    }
}
