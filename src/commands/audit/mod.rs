//! `shipcheck audit FILE`: many binaries, images and task definitions at once, concurrently, with one
//! result per target through the same code paths as the single commands, and the worst verdict as the
//! exit code. Output as text, JSON, JUnit XML or GitHub Actions annotations; `--shard K/N` splits a
//! large audit over CI jobs.

use crate::aws::endpoints::{self, EndpointsReport, EndpointsRequest};
use crate::aws::iam::Identity;
use crate::aws::policy::{self, IamReport, IamRequest, Workflow};
use crate::aws::Clients;
use crate::cli::AuditArgs;
use crate::context::Context;
use crate::ecs::repository::{self, RepositoriesRequest, RepositoryReport};
use crate::ecs::service::{self, ServiceReport, ServicesRequest, TaskdefMemo};
use crate::ecs::taskdef::{self, ImageOptions, Source, TaskdefReport, TaskdefRequest};
use crate::input::{self, StrList};
use crate::net::{Http, NoProgress, Progress};
use crate::oci::auth::CredentialSources;
use crate::oci::cache::ContentCache;
use crate::oci::verify::{self, ImageReport, ImageRequest};
use crate::release::{self, BinReport, BinRequest};
use crate::report::{Code, Reason, Verdict};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Default number of targets checked at once. What reaches each host is limited per request by
/// the HTTP client's adaptive per-host limit (`--max-per-host`, see [`crate::net::limit`]).
pub const DEFAULT_CONCURRENCY: usize = 256;

/// The audit file (TOML). Unknown keys are errors.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditFile {
    /// `[[bin]]` targets: release files verified as `verify-bin` does, never installed.
    #[serde(default)]
    pub bin: Vec<BinTarget>,
    /// `[[image]]` targets: image references verified as `verify-image` does.
    #[serde(default)]
    pub image: Vec<ImageTarget>,
    /// `[[taskdef]]` targets: task definition files verified as `verify-taskdef` does.
    #[serde(default)]
    pub taskdef: Vec<TaskdefTarget>,
    /// `[[iam]]` targets: IAM roles, users or policy files checked as `check-iam` does.
    #[serde(default)]
    pub iam: Vec<IamTarget>,
    /// `[[ecs]]` targets: ECS services read live, one result per service.
    #[serde(default)]
    pub ecs: Vec<EcsTarget>,
    /// `[[ecr]]` targets: ECR repositories and tags read live, one result per repository.
    #[serde(default)]
    pub ecr: Vec<EcrTarget>,
    /// `[[endpoints]]` targets: VPC endpoints checked as `check-endpoints` does.
    #[serde(default)]
    pub endpoints: Vec<EndpointsTarget>,
}

/// `[[endpoints]]`: the VPC endpoints Fargate tasks in private subnets need, read live (or from
/// `describe-vpc-endpoints` / `describe-security-groups` files).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointsTarget {
    /// Default: the configured Region.
    pub region: Option<String>,
    /// `vpc`: check only this VPC (default: every VPC in `endpoints_file`; live, every VPC of the
    /// Region with an endpoint, each VPC without one named in a `not-evaluated` warning).
    pub vpc: Option<String>,
    /// `ssm`: also require the `ssm` endpoint (tasks read SSM parameters).
    #[serde(default)]
    pub ssm: bool,
    /// `secretsmanager`: also require the `secretsmanager` endpoint (tasks read Secrets Manager secrets).
    #[serde(default)]
    pub secretsmanager: bool,
    /// Files instead of the live account.
    pub endpoints_file: Option<PathBuf>,
    /// `security_groups_file`: `aws ec2 describe-security-groups` output, used with `endpoints_file`.
    pub security_groups_file: Option<PathBuf>,
}

/// `[[ecr]]`: the repositories whose names match, listed live; every tag that matches `tags`
/// (default `latest`) verified for `platforms`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcrTarget {
    /// `repositories`: repository names or globs (`*` and `?`).
    #[serde(deserialize_with = "input::nonempty")]
    pub repositories: StrList,
    /// `tags`: tag names or globs to verify (default `["latest"]`).
    #[serde(default, deserialize_with = "input::some_nonempty")]
    pub tags: Option<StrList>,
    /// `platforms`: platforms every verified image must hold (never an empty list).
    #[serde(default, deserialize_with = "input::platform_list")]
    pub platforms: Vec<String>,
    /// `region`: the Region (default: `AWS_REGION` / the profile's).
    pub region: Option<String>,
    /// Read images from this registry host instead of the repository URI's.
    pub registry: Option<String>,
    /// `deep`: also check every layer blob.
    #[serde(default)]
    pub deep: bool,
    /// `content`: also download every layer and check its digest and `rootfs.diff_ids` entry.
    #[serde(default)]
    pub content: bool,
}

/// `[[ecs]]`: every service of a cluster (`"*"`: of every cluster in the Region), or only the
/// services named, read live and checked for the platform each runs on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcsTarget {
    /// `cluster`: the cluster's name or ARN; `"*"`: every cluster in the Region.
    pub cluster: String,
    /// `services`: only these services (default: every service of the cluster).
    #[serde(default, deserialize_with = "input::some_nonempty")]
    pub services: Option<StrList>,
    /// `region`: the Region (default: `AWS_REGION` / the profile's).
    pub region: Option<String>,
    /// `deep`: also check every layer blob.
    #[serde(default)]
    pub deep: bool,
    /// `content`: also download every layer and check its digest and `rootfs.diff_ids` entry.
    #[serde(default)]
    pub content: bool,
}

/// `[[iam]]`: can this role or user (read live from IAM), or these policy files, do the workflow?
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamTarget {
    /// `role`: an IAM role whose inline and attached policies are read live.
    pub role: Option<String>,
    /// `user`: an IAM user whose inline and attached policies, and its groups' policies, are read
    /// live (a target names a role or a user, not both).
    pub user: Option<String>,
    /// `for`: the workflow to check: `pull`, `push` or `buildx-push`.
    #[serde(rename = "for")]
    pub workflow: Workflow,
    /// `repository`: the repository ARN or URI the actions must be allowed on (default: any repository).
    pub repository: Option<String>,
    /// `policies`: policy files, evaluated with the identity's policies.
    #[serde(default, deserialize_with = "input::some_nonempty")]
    pub policies: Option<StrList>,
}

/// `[[bin]]`: a release file and its signature, verified as `verify-bin --no-install` does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinTarget {
    /// `tool`: a catalog entry; or give `url`.
    pub tool: Option<String>,
    /// `version`: the tool's version (default: the catalog's `default_version`, usually `latest`).
    pub version: Option<String>,
    /// `platform`: `os/arch` (default: the host's).
    pub platform: Option<String>,
    /// `url`: the file's URL, instead of a catalog `tool`.
    pub url: Option<String>,
    /// `sig_url`: the signature's URL (default: `url` plus `.asc`).
    pub sig_url: Option<String>,
    /// `key`: certificate files to trust, instead of the catalog's pins.
    #[serde(default, deserialize_with = "input::some_nonempty")]
    pub key: Option<StrList>,
    /// `fingerprint`: primary fingerprints that narrow the certificates in `key`.
    #[serde(default, deserialize_with = "input::some_nonempty")]
    pub fingerprint: Option<StrList>,
    /// `mirror`: a base URL that replaces the scheme, host and port of the download URLs.
    pub mirror: Option<String>,
    /// `catalog`: a catalog file merged over the built-in one.
    pub catalog: Option<PathBuf>,
}

/// `[[image]]`: an image reference, verified as `verify-image` does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageTarget {
    /// `ref`: the image reference (`host/path:tag` or `@digest`).
    #[serde(rename = "ref")]
    pub reference: String,
    /// `platforms`: required platforms (default: every platform the index lists; never an empty list).
    #[serde(default, deserialize_with = "input::platform_list")]
    pub platforms: Vec<String>,
    /// `digest`: the digest the reference must resolve to (the tag must still point here).
    pub digest: Option<String>,
    /// `deep`: also check every layer blob.
    #[serde(default)]
    pub deep: bool,
    /// `content`: also download every layer and check its digest and `rootfs.diff_ids` entry.
    #[serde(default)]
    pub content: bool,
}

/// `[[taskdef]]`: a task definition file, verified as `verify-taskdef` does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskdefTarget {
    /// `path`: the task definition JSON file.
    pub path: PathBuf,
}

/// The output format of an audit (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line per target and a summary; explanations on stderr.
    Text,
    /// One JSON document ([`AuditReport`]).
    Json,
    /// JUnit XML: one `testcase` per target.
    Junit,
    /// GitHub Actions `::error` / `::warning` workflow commands, plus a summary line.
    Github,
}

/// An `--format` value that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a format: text, json, junit or github")]
pub struct FormatError(String);

impl std::str::FromStr for Format {
    type Err = FormatError;
    fn from_str(s: &str) -> Result<Self, FormatError> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "junit" => Ok(Format::Junit),
            "github" => Ok(Format::Github),
            _ => Err(FormatError(s.to_string())),
        }
    }
}

/// `K/N`: this job's share (1-based K) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This job's shard, from 1 to `n`.
    pub k: u32,
    /// The number of shards.
    pub n: u32,
}

/// A `--shard` value that is not `K/N` with 1 <= K <= N.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a shard: write K/N with 1 <= K <= N, e.g. 2/5")]
pub struct ShardError(String);

impl std::str::FromStr for Shard {
    type Err = ShardError;
    fn from_str(s: &str) -> Result<Self, ShardError> {
        let bad = || ShardError(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

impl Shard {
    /// Whether the target with this identity belongs to this shard: a stable hash (FNV-1a, 64 bit) of
    /// the identity, so a target stays in its shard whatever else the file holds or in which order.
    pub fn owns(&self, identity: &str) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in identity.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        (h % self.n as u64) as u32 == self.k - 1
    }
}

/// What `audit` was asked to do.
#[derive(Debug, Clone)]
pub struct AuditRequest {
    /// The audit file.
    pub path: PathBuf,
    /// How many targets are checked at once (`--concurrency`).
    pub concurrency: usize,
    /// Audit only this shard of the targets (`--shard K/N`).
    pub shard: Option<Shard>,
    /// The home directory and Docker config file (see `Env` in the context module).
    pub home: Option<PathBuf>,
    /// Where registry credentials come from.
    pub credentials: CredentialSources,
}

/// The result of one target: its kind, its identity and the single command's report (flattened).
#[derive(Debug, Clone, Serialize)]
pub struct TargetResult {
    /// The target's kind: `bin`, `image`, `taskdef`, `iam`, `ecs`, `ecr` or `endpoints`.
    pub kind: &'static str,
    /// What was checked: the tool, URL, reference or path; `CLUSTER/SERVICE` for `ecs`, the repository for `ecr`.
    pub target: String,
    /// The single command's report; its fields appear at the top level of the result.
    #[serde(flatten)]
    pub report: TargetReport,
}

/// The report of one target, by kind (serialized as the single command's JSON).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum TargetReport {
    /// A `[[bin]]` target: the `verify-bin` report.
    Bin(BinReport),
    /// An `[[image]]` target: the `verify-image` report.
    Image(ImageReport),
    /// A `[[taskdef]]` target: the `verify-taskdef` report.
    Taskdef(TaskdefReport),
    /// An `[[iam]]` target: the `check-iam` report.
    Iam(IamReport),
    /// One service of an `[[ecs]]` target.
    Ecs(ServiceReport),
    /// One repository of an `[[ecr]]` target.
    Ecr(RepositoryReport),
    /// An `[[endpoints]]` target: the `check-endpoints` report.
    Endpoints(EndpointsReport),
}

impl TargetReport {
    /// The target's verdict.
    pub fn verdict(&self) -> Verdict {
        match self {
            TargetReport::Bin(r) => r.verdict,
            TargetReport::Image(r) => r.verdict,
            TargetReport::Taskdef(r) => r.verdict,
            TargetReport::Iam(r) => r.verdict,
            TargetReport::Ecs(r) => r.verdict,
            TargetReport::Ecr(r) => r.verdict,
            TargetReport::Endpoints(r) => r.verdict,
        }
    }
    /// Why the target did not pass.
    pub fn reasons(&self) -> &[Reason] {
        match self {
            TargetReport::Bin(r) => &r.reasons,
            TargetReport::Image(r) => &r.reasons,
            TargetReport::Taskdef(r) => &r.reasons,
            TargetReport::Iam(r) => &r.reasons,
            TargetReport::Ecs(r) => &r.reasons,
            TargetReport::Ecr(r) => &r.reasons,
            TargetReport::Endpoints(r) => &r.reasons,
        }
    }
    /// The target's warnings.
    pub fn warnings(&self) -> &[Reason] {
        match self {
            TargetReport::Bin(r) => &r.warnings,
            TargetReport::Image(r) => &r.warnings,
            TargetReport::Taskdef(r) => &r.warnings,
            TargetReport::Iam(r) => &r.warnings,
            TargetReport::Ecs(r) => &r.warnings,
            TargetReport::Ecr(r) => &r.warnings,
            TargetReport::Endpoints(r) => &r.warnings,
        }
    }
}

/// How many results ended with each verdict.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Results in all (one per target; one per service or repository for `ecs` and `ecr`).
    pub total: usize,
    /// Results that passed.
    pub pass: usize,
    /// Results that failed (exit 1).
    pub fail: usize,
    /// Results that could not be decided (exit 2).
    pub error: usize,
}

/// The JSON document `audit --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// The worst verdict of all results (`pass`, `fail` or `error`); `error` when the audit itself could
    /// not run.
    pub verdict: Verdict,
    /// Problems with the audit itself (unreadable file, no targets); per-target problems are in results.
    pub reasons: Vec<Reason>,
    /// Warnings about the audit itself (`empty-shard`).
    pub warnings: Vec<Reason>,
    /// The audit file.
    pub file: String,
    /// The shard audited (`K/N`), or null for all targets.
    pub shard: Option<String>,
    /// How many results passed, failed or could not be decided.
    pub summary: Summary,
    /// One result per target (per service or repository for `ecs` and `ecr`), in file order.
    pub results: Vec<TargetResult>,
    /// Manifests and configs taken from content verified for an earlier target instead of being
    /// fetched again (not in the JSON; printed to stderr with SHIPCHECK_TRACE_REQUESTS=1).
    #[serde(skip)]
    pub reused: usize,
}

enum Job {
    Bin(BinRequest),
    Image(ImageRequest),
    Taskdef(TaskdefRequest),
    /// The identity to read live, if any; `Err` for a target that names both a role and a user.
    Iam(IamRequest, Result<Option<Identity>, Reason>),
    Ecs(ServicesRequest, Option<String>),
    Ecr(RepositoriesRequest, Option<String>),
    Endpoints(EndpointsRequest),
}

struct Planned {
    kind: &'static str,
    target: String,
    job: Job,
}

fn rel(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Where each target's table starts in the audit file, by kind in [`plan`]'s order: TOML's data
/// model groups `[[image]]` tables apart from `[[taskdef]]` tables, and results keep the file's
/// order across kinds.
#[derive(Default, Deserialize)]
struct FileOrder {
    #[serde(default)]
    bin: Vec<toml::Spanned<serde::de::IgnoredAny>>,
    #[serde(default)]
    image: Vec<toml::Spanned<serde::de::IgnoredAny>>,
    #[serde(default)]
    taskdef: Vec<toml::Spanned<serde::de::IgnoredAny>>,
    #[serde(default)]
    iam: Vec<toml::Spanned<serde::de::IgnoredAny>>,
    #[serde(default)]
    ecs: Vec<toml::Spanned<serde::de::IgnoredAny>>,
    #[serde(default)]
    ecr: Vec<toml::Spanned<serde::de::IgnoredAny>>,
    #[serde(default)]
    endpoints: Vec<toml::Spanned<serde::de::IgnoredAny>>,
}

impl FileOrder {
    /// The order of the tables in `text` (already parsed as an [`AuditFile`]).
    fn of(text: &str) -> Self {
        toml::from_str(text).unwrap_or_default()
    }

    /// Puts `planned` (one per table, in [`plan`]'s order) in the file's order.
    fn sort(self, planned: &mut Vec<Planned>) {
        let starts: Vec<usize> = [
            self.bin,
            self.image,
            self.taskdef,
            self.iam,
            self.ecs,
            self.ecr,
            self.endpoints,
        ]
        .into_iter()
        .flatten()
        .map(|t| t.span().start)
        .collect();
        if starts.len() != planned.len() {
            return;
        }
        let mut keyed: Vec<(usize, Planned)> = starts.into_iter().zip(planned.drain(..)).collect();
        keyed.sort_by_key(|(start, _)| *start);
        planned.extend(keyed.into_iter().map(|(_, p)| p));
    }
}

fn plan(file: AuditFile, base: &Path, req: &AuditRequest) -> Vec<Planned> {
    let mut out = Vec::new();
    out.extend(file.bin.into_iter().map(|b| plan_bin(b, base, req)));
    out.extend(file.image.into_iter().map(|i| plan_image(i, req)));
    out.extend(file.taskdef.into_iter().map(|t| plan_taskdef(t, base, req)));
    out.extend(file.iam.into_iter().map(|t| plan_iam(t, base)));
    out.extend(file.ecs.into_iter().map(|e| plan_ecs(e, req)));
    out.extend(file.ecr.into_iter().map(|e| plan_ecr(e, req)));
    out.extend(file.endpoints.into_iter().map(|e| plan_endpoints(e, base)));
    out
}

/// The planned check of one `[[bin]]` target.
fn plan_bin(b: BinTarget, base: &Path, req: &AuditRequest) -> Planned {
    let target = match (&b.tool, &b.url) {
        (Some(t), _) => format!(
            "{t} {} {}",
            b.version.clone().unwrap_or_else(|| "latest".into()),
            b.platform
                .clone()
                .unwrap_or_else(crate::catalog::host_platform)
        ),
        (None, Some(u)) => crate::net::redact_text(u),
        (None, None) => "(bin without tool or url)".into(),
    };
    let req = BinRequest {
        tool: b.tool,
        version: b.version,
        platform: b.platform,
        url: b.url,
        sig_url: b.sig_url,
        keys: b
            .key
            .map(|l| l.0)
            .unwrap_or_default()
            .iter()
            .map(|k| rel(base, Path::new(k)))
            .collect(),
        fingerprints: b.fingerprint.map(|l| l.0).unwrap_or_default(),
        no_install: true,
        mirror: b.mirror,
        catalog: b.catalog.map(|c| rel(base, &c)),
        home: req.home.clone(),
        max_size: crate::net::HttpOptions::default().max_download,
        ..BinRequest::default()
    };
    Planned {
        kind: "bin",
        target,
        job: Job::Bin(req),
    }
}

/// The planned check of one `[[image]]` target.
fn plan_image(i: ImageTarget, req: &AuditRequest) -> Planned {
    let req = ImageRequest {
        reference: i.reference.clone(),
        platforms: i.platforms,
        digest: i.digest,
        deep: i.deep,
        content: i.content,
        username: None,
        password: None,
        credentials: req.credentials.clone(),
    };
    Planned {
        kind: "image",
        // As written, unless it holds credentials written like a URL's (`user:password@host/...`).
        target: crate::oci::reference::shown(&i.reference),
        job: Job::Image(req),
    }
}

/// The planned check of one `[[taskdef]]` target.
fn plan_taskdef(t: TaskdefTarget, base: &Path, req: &AuditRequest) -> Planned {
    let path = rel(base, &t.path);
    let treq = TaskdefRequest {
        source: Source::File(path),
        images: ImageOptions {
            credentials: req.credentials.clone(),
            ..ImageOptions::default()
        },
        ..TaskdefRequest::default()
    };
    Planned {
        kind: "taskdef",
        target: t.path.display().to_string(),
        job: Job::Taskdef(treq),
    }
}

/// The planned check of one `[[iam]]` target.
fn plan_iam(t: IamTarget, base: &Path) -> Planned {
    let who = match (t.role, t.user) {
        (Some(r), Some(u)) => Err(Reason::new(
            Code::InvalidInput,
            format!("an [[iam]] target names both role `{r}` and user `{u}`"),
        )
        .hint("give each identity its own [[iam]] target")),
        (Some(r), None) => Ok(Some(Identity::Role(r))),
        (None, Some(u)) => Ok(Some(Identity::User(u))),
        (None, None) => Ok(None),
    };
    let policies: Vec<PathBuf> = t
        .policies
        .map(|l| l.0)
        .unwrap_or_default()
        .iter()
        .map(|p| rel(base, Path::new(p)))
        .collect();
    let target = match &who {
        Ok(Some(w)) => format!("{} for {}", w.describe(), t.workflow.as_str()),
        Err(_) => format!("role and user for {}", t.workflow.as_str()),
        Ok(None) => format!(
            "{} policy file(s) for {}",
            policies.len(),
            t.workflow.as_str()
        ),
    };
    let ireq = IamRequest::new(policies, t.workflow, t.repository);
    Planned {
        kind: "iam",
        target,
        job: Job::Iam(ireq, who),
    }
}

/// The planned check of one `[[ecs]]` target.
fn plan_ecs(e: EcsTarget, req: &AuditRequest) -> Planned {
    let target = match &e.region {
        Some(r) => format!("{} ({r})", e.cluster),
        None => e.cluster.clone(),
    };
    let sreq = ServicesRequest {
        cluster: e.cluster,
        services: e.services.map(|l| l.0),
        images: ImageOptions {
            deep: e.deep,
            content: e.content,
            credentials: req.credentials.clone(),
            ..ImageOptions::default()
        },
    };
    Planned {
        kind: "ecs",
        target,
        job: Job::Ecs(sreq, e.region),
    }
}

/// The planned check of one `[[ecr]]` target.
fn plan_ecr(e: EcrTarget, req: &AuditRequest) -> Planned {
    let repositories = e.repositories.0;
    let mut target = repositories.join(", ");
    if let Some(r) = &e.region {
        target.push_str(&format!(" ({r})"));
    }
    let rreq = RepositoriesRequest {
        repositories,
        tags: e.tags.map(|l| l.0).unwrap_or_else(|| vec!["latest".into()]),
        platforms: e.platforms,
        registry: e.registry,
        deep: e.deep,
        content: e.content,
        credentials: req.credentials.clone(),
    };
    Planned {
        kind: "ecr",
        target,
        job: Job::Ecr(rreq, e.region),
    }
}

/// The planned check of one `[[endpoints]]` target.
fn plan_endpoints(e: EndpointsTarget, base: &Path) -> Planned {
    let target = match (&e.vpc, &e.region) {
        (Some(v), Some(r)) => format!("{v} ({r})"),
        (Some(v), None) => v.clone(),
        (None, Some(r)) => format!("every VPC ({r})"),
        (None, None) => "every VPC".into(),
    };
    let ereq = EndpointsRequest {
        region: e.region.unwrap_or_default(),
        endpoints: e.endpoints_file.map(|p| rel(base, &p)),
        security_groups: e.security_groups_file.map(|p| rel(base, &p)),
        with_ssm: e.ssm,
        with_secretsmanager: e.secretsmanager,
        vpc: e.vpc,
    };
    Planned {
        kind: "endpoints",
        target,
        job: Job::Endpoints(ereq),
    }
}

/// An `[[endpoints]]` target: files, or EC2 read live in its Region (default: the configured one).
async fn run_endpoints(mut req: EndpointsRequest, aws: &Clients) -> EndpointsReport {
    if req.endpoints.is_some() {
        return endpoints::run(&req);
    }
    let region = (!req.region.is_empty()).then(|| req.region.clone());
    let conf = aws.config(region.as_deref()).await;
    if req.region.is_empty() {
        req.region = conf.region().map(|r| r.to_string()).unwrap_or_default();
    }
    endpoints::run_live(&req, &crate::aws::ec2::Ec2::new(&conf)).await
}

/// An `[[iam]]` target: the identity's policies read from IAM (the SDK configuration is made once
/// per audit), then evaluated with its files.
async fn run_iam(mut req: IamRequest, who: Option<&Identity>, aws: &Clients) -> IamReport {
    if let Some(who) = who {
        let conf = aws.global_config().await;
        match crate::aws::iam::identity_policies(&conf, who).await {
            Ok(found) => req.set_identity(&who.describe(), found),
            Err(r) => return IamReport::failed(&req, r),
        }
    }
    policy::run(&req)
}

impl AuditReport {
    fn new(req: &AuditRequest) -> Self {
        AuditReport {
            verdict: Verdict::Error,
            reasons: Vec::new(),
            warnings: Vec::new(),
            file: req.path.display().to_string(),
            shard: req.shard.map(|s| format!("{}/{}", s.k, s.n)),
            summary: Summary::default(),
            results: Vec::new(),
            reused: 0,
        }
    }

    /// A report for an audit that could not start (for example, a bad `--ca-cert`).
    pub fn failed(req: &AuditRequest, r: Reason) -> Self {
        let mut rep = AuditReport::new(req);
        rep.reasons.push(r);
        rep
    }
}

/// Runs the audit, counting finished targets on `progress` (started with their number).
pub async fn run(req: &AuditRequest, http: &Http, progress: &dyn Progress) -> AuditReport {
    let mut rep = AuditReport::new(req);
    let parsed = input::read_text(&req.path).and_then(|text| {
        let file: AuditFile = input::parse_toml(&req.path.display().to_string(), &text)?;
        Ok((file, FileOrder::of(&text)))
    });
    let (file, order) = match parsed {
        Ok(f) => f,
        Err(r) => {
            rep.reasons.push(r);
            return rep;
        }
    };
    let base = req.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut planned = plan(file, &base, req);
    order.sort(&mut planned);
    if planned.is_empty() {
        rep.reasons.push(
            Reason::new(
                Code::InvalidInput,
                format!(
                    "{}: no targets ([[bin]], [[image]], [[taskdef]], [[iam]], [[ecs]], [[ecr]] or [[endpoints]])",
                    req.path.display()
                ),
            )
            .hint("an audit with nothing to check cannot pass"),
        );
        return rep;
    }
    if let Some(s) = req.shard {
        let total = planned.len();
        planned.retain(|p| s.owns(&format!("{}\0{}", p.kind, p.target)));
        if planned.is_empty() {
            rep.warnings.push(Reason::new(
                Code::EmptyShard,
                format!("shard {}/{} holds none of the {total} targets", s.k, s.n),
            ));
        }
    }

    progress.start("targets", Some(planned.len() as u64));
    let shared = Shared {
        cache: ContentCache::default(),
        aws: Clients::new(crate::aws::Timeout(http.opts.timeout)),
        memo: TaskdefMemo::default(),
    };
    let shared = &shared;
    // At most `concurrency` targets exist at once: a target's future is created when a slot frees,
    // so an audit of thousands of targets holds the state of only those in flight (each target's
    // future is about 13 KiB; all of 1000 created up front were 13 MiB of peak memory).
    let mut done: Vec<(usize, Vec<TargetResult>)> =
        futures_util::stream::iter(planned.into_iter().enumerate())
            .map(|(i, p)| async move {
                let results = run_job(&p, http, shared).await;
                progress.advance(1);
                (i, results)
            })
            .buffer_unordered(req.concurrency.max(1))
            .collect()
            .await;
    // Results in the audit file's order, whichever finished first.
    done.sort_unstable_by_key(|(i, _)| *i);
    rep.results = done.into_iter().flat_map(|(_, r)| r).collect();
    rep.reused = shared.cache.hits();
    progress.finish();
    for r in &rep.results {
        rep.summary.total += 1;
        match r.report.verdict() {
            Verdict::Pass => rep.summary.pass += 1,
            Verdict::Fail => rep.summary.fail += 1,
            Verdict::Error => rep.summary.error += 1,
        }
    }
    rep.verdict = rep
        .results
        .iter()
        .map(|r| r.report.verdict())
        .max()
        .unwrap_or(Verdict::Pass);
    rep
}

/// What the targets of one audit share: verified content (several tags of one release, one image
/// in several task definitions; tags are still resolved for every reference), AWS configurations
/// and clients (one per Region), and task definition checks (one per ARN).
struct Shared {
    cache: ContentCache,
    aws: Clients,
    memo: TaskdefMemo,
}

/// Runs one planned target: one result, or one per service or repository it finds.
async fn run_job(p: &Planned, http: &Http, shared: &Shared) -> Vec<TargetResult> {
    let one = |report| {
        vec![TargetResult {
            kind: p.kind,
            target: p.target.clone(),
            report,
        }]
    };
    match &p.job {
        Job::Bin(r) => one(TargetReport::Bin(
            release::run(r, Some(http), &NoProgress).await,
        )),
        Job::Image(r) => one(TargetReport::Image(
            verify::run_with(r, http, &shared.cache).await,
        )),
        Job::Taskdef(r) => one(TargetReport::Taskdef(
            taskdef::run_with(r, http, &shared.cache).await,
        )),
        Job::Iam(r, who) => one(TargetReport::Iam(match who {
            Ok(who) => run_iam(r.clone(), who.as_ref(), &shared.aws).await,
            Err(reason) => IamReport::failed(r, reason.clone()),
        })),
        Job::Ecs(r, region) => {
            let ecs = shared.aws.ecs(region.as_deref()).await;
            service::run(r, &ecs, http, &shared.cache, &shared.memo)
                .await
                .into_iter()
                .map(|s| TargetResult {
                    kind: p.kind,
                    target: s.target(),
                    report: TargetReport::Ecs(s),
                })
                .collect()
        }
        Job::Endpoints(r) => one(TargetReport::Endpoints(
            run_endpoints(r.clone(), &shared.aws).await,
        )),
        Job::Ecr(r, region) => {
            let ecr = shared.aws.ecr(region.as_deref()).await;
            repository::run(r, &ecr, http, &shared.cache)
                .await
                .into_iter()
                .map(|s| TargetResult {
                    kind: p.kind,
                    target: s.repository.clone(),
                    report: TargetReport::Ecr(s),
                })
                .collect()
        }
    }
}

mod render;
pub use render::render;

/// `shipcheck audit`.
pub fn run_command(a: AuditArgs, ctx: &Context) -> i32 {
    let format = if ctx.printer.json {
        Format::Json
    } else {
        a.format
    };
    let req = AuditRequest {
        path: a.file,
        concurrency: a.concurrency,
        shard: a.shard,
        home: ctx.env.home.clone(),
        credentials: ctx.env.credentials.clone(),
    };
    let report = ctx
        .http(&a.net)
        .map_err(|e| e.reason())
        .and_then(|http| {
            let bar = ctx.printer.counter();
            ctx.block_on(run(&req, &http, bar.as_ref()))
        })
        .unwrap_or_else(|r| AuditReport::failed(&req, r));
    if ctx.env.trace_requests {
        ctx.printer.err(&format!(
            "shipcheck: {} manifests and configs reused from earlier targets\n",
            report.reused
        ));
    }
    // The audit renders every format itself; JSON is one of them.
    let (out, err) = render(&report, format, ctx.printer.quiet);
    ctx.printer.out(&out);
    ctx.printer.err(&err);
    report.verdict.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_targets() {
        let ids: Vec<String> = (0..500)
            .map(|i| format!("image\0registry.example/app{i}:v1"))
            .collect();
        let n = 4;
        let mut seen = vec![0usize; ids.len()];
        for k in 1..=n {
            let s = Shard { k, n };
            let mine = ids
                .iter()
                .enumerate()
                .filter(|(_, id)| s.owns(id))
                .map(|(i, _)| i)
                .collect::<Vec<_>>();
            assert!(
                mine.len() > 60 && mine.len() < 190,
                "shard {k} holds {}",
                mine.len()
            );
            for i in mine {
                seen[i] += 1;
            }
        }
        assert!(
            seen.iter().all(|&c| c == 1),
            "every target in exactly one shard"
        );
        assert!(
            "0/3".parse::<Shard>().is_err()
                && "4/3".parse::<Shard>().is_err()
                && "x".parse::<Shard>().is_err()
        );
        assert_eq!("2/3".parse::<Shard>().unwrap(), Shard { k: 2, n: 3 });
    }
}
