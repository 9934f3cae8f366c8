//! `shipcheck verify-taskdef`: verify every image of an ECS task definition for the platform the task
//! runs on, report images referenced by a mutable tag, and optionally write a copy pinned by digest.
//!
//! Reads what `aws ecs register-task-definition --cli-input-json` takes, or the output of
//! `aws ecs describe-task-definition` (wrapped in `taskDefinition`). Each image goes through the same
//! code as `verify-image`.

use crate::input;
use crate::net::Http;
use crate::oci::auth::CredentialSources;
use crate::oci::cache::ContentCache;
use crate::oci::gojson::go_fold;
use crate::oci::reference::shown;
use crate::oci::verify::{self, ImageReport, ImageRequest};
use crate::oci::Reference;
use crate::report::{prefixed, verdict_of, Code, Reason, Verdict};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Fields `describe-task-definition` returns that `register-task-definition` refuses.
const READ_ONLY_FIELDS: &[&str] = &[
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
];

/// Where the task definition comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A JSON file (register-task-definition input or describe-task-definition output).
    File(PathBuf),
    /// Read with ECS `DescribeTaskDefinition`: `FAMILY`, `FAMILY:REVISION` or an ARN, in `region`
    /// (default: the configured one).
    Live {
        /// `FAMILY`, `FAMILY:REVISION` or a task definition ARN.
        id: String,
        /// The Region to read from; `None`: the configured one.
        region: Option<String>,
    },
}

impl Default for Source {
    fn default() -> Self {
        Source::File(PathBuf::new())
    }
}

impl Source {
    /// The file path or the identifier, for reports.
    pub fn describe(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Live { id, .. } => id.clone(),
        }
    }
}

/// What the checks need of a task definition, from a file or from the ECS API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinition {
    /// The task definition's `family`, when known.
    pub family: Option<String>,
    /// `taskDefinitionArn` and `revision`, when known (always for a live one).
    pub arn: Option<String>,
    /// The task definition's revision number, when known.
    pub revision: Option<i64>,
    /// The platform the task runs on (see [`platform_of`]).
    pub platform: String,
    /// Whether `runtimePlatform.cpuArchitecture` is set. When it is not, Fargate runs X86_64, but on
    /// EC2 or external capacity the container instance's architecture decides.
    pub platform_declared: bool,
    /// Whether `requiresCompatibilities` is `["FARGATE"]`: the task cannot run on EC2 or external
    /// capacity, so an undeclared architecture is X86_64.
    pub fargate_only: bool,
    /// The containers of `containerDefinitions`, in order.
    pub containers: Vec<Container>,
}

impl TaskDefinition {
    /// `family:revision` when both are known, else the family, the ARN or `fallback`.
    pub fn short_name(&self, fallback: &str) -> String {
        match (&self.family, self.revision, &self.arn) {
            (Some(f), Some(r), _) => format!("{f}:{r}"),
            (Some(f), None, _) => f.clone(),
            (None, _, Some(a)) => a.clone(),
            (None, _, None) => fallback.to_string(),
        }
    }
}

/// How images are checked: layers too (`deep`) and registry credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ImageOptions {
    /// Also check every layer blob of every image (`--deep`).
    pub deep: bool,
    /// Also download every layer and check its digests (`--content`).
    pub content: bool,
    /// Registry user name (`--username`).
    pub username: Option<String>,
    /// Registry password or token (`--password-stdin`).
    pub password: Option<String>,
    /// The registry host `username` and `password` are for (`--registry`, required with them). Images
    /// on other registries never get them.
    pub registry: Option<String>,
    /// Where credentials come from when `username` is not given.
    pub credentials: CredentialSources,
}

/// What `verify-taskdef` was asked to check.
#[derive(Debug, Clone, Default)]
pub struct TaskdefRequest {
    /// Where the task definition is read from: a file or ECS.
    pub source: Source,
    /// Write a copy with every image pinned to its verified digest (to `output`).
    pub pin: bool,
    /// Where the pinned copy is written (`--output`); required with `pin`.
    pub output: Option<PathBuf>,
    /// How the images are checked: depth and registry credentials.
    pub images: ImageOptions,
}

/// The JSON object `verify-taskdef --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct TaskdefReport {
    /// `pass`, `fail` or `error` (exit 0, 1, 2).
    pub verdict: Verdict,
    /// Why the check did not pass, each prefixed with the container; empty on a pass.
    pub reasons: Vec<Reason>,
    /// Findings that never change the verdict: `mutable-tag`, `not-pinned`, and each image's warnings
    /// prefixed with its container.
    pub warnings: Vec<Reason>,
    /// The file read, or the family, revision or ARN asked for.
    pub path: String,
    /// The task definition's family, or null when the file does not hold it.
    pub family: Option<String>,
    /// The task definition's ARN and revision (read live, or present in the file).
    pub arn: Option<String>,
    /// The task definition's revision, or null when the file does not hold it.
    pub revision: Option<i64>,
    /// The platform the task runs on, from `runtimePlatform`.
    pub platform: Option<String>,
    /// One entry per container definition, in order.
    pub containers: Vec<ContainerReport>,
    /// Where the pinned copy was written (with `--pin --output`), else null.
    pub pinned_output: Option<String>,
    /// Whether the task definition declares its CPU architecture (see [`TaskDefinition`]).
    #[serde(skip)]
    pub platform_declared: bool,
}

/// The result for one container of a task definition.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerReport {
    /// The container's `name`.
    pub name: String,
    /// The container's `image`, as the task definition names it (a user name and password written
    /// into it, which make it invalid, shown as `***`: [`shown`]).
    pub image: String,
    /// Whether the task definition already names the image by digest.
    pub by_digest: bool,
    /// The verdict of this container's image check.
    pub verdict: Verdict,
    /// The digest verified for this image (what `--pin` writes).
    pub digest: Option<String>,
    /// The image pinned to the verified digest (`repo@sha256:...`), or null unless it verified.
    pub pinned_image: Option<String>,
    /// The full `verify-image` result for this container's image.
    pub check: ImageReport,
}

/// Why a task definition cannot be checked (reason code `invalid-input`); the message names the JSON
/// path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskdefError {
    /// The document is not a JSON object.
    #[error("expected a JSON object (a task definition)")]
    NotAnObject,
    /// A `runtimePlatform` field that is not a string.
    #[error("$.runtimePlatform.{0}: expected a string")]
    NotAString(&'static str),
    /// `runtimePlatform` is not an object.
    #[error(
        "$.runtimePlatform: expected an object with cpuArchitecture and operatingSystemFamily"
    )]
    RuntimePlatformNotAnObject,
    /// A key of `runtimePlatform` ECS does not know (keys are case-sensitive).
    #[error(
        "$.runtimePlatform.{0}: unknown key (ECS knows cpuArchitecture and operatingSystemFamily)"
    )]
    RuntimePlatformKey(String),
    /// `requiresCompatibilities` is not a list of strings.
    #[error("$.requiresCompatibilities: expected a list of strings (EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES)")]
    Compatibilities,
    /// A Windows family with another architecture than X86_64.
    #[error("$.runtimePlatform.cpuArchitecture: `{cpu}` is not supported with {os} (only X86_64)")]
    WindowsArch {
        /// The `operatingSystemFamily`.
        os: String,
        /// The `cpuArchitecture`.
        cpu: String,
    },
    /// A Linux architecture ECS does not run.
    #[error("$.runtimePlatform.cpuArchitecture: expected X86_64 or ARM64, found `{0}`")]
    Arch(String),
    /// An operating system family ECS does not run.
    #[error(
        "$.runtimePlatform.operatingSystemFamily: expected LINUX or a WINDOWS_SERVER_* family ECS documents (2016_FULL, 2019_CORE/FULL, 2004_CORE, 20H2_CORE, 2022_CORE/FULL, 2025_CORE/FULL), found `{0}`"
    )]
    Os(String),
    /// Both a `taskDefinition` wrapper and task definition keys beside it: the AWS CLI's
    /// `--cli-input-json` refuses the wrapper and tools that register a bare task definition read
    /// the keys beside it, while shipcheck would read the wrapper.
    #[error("$.{0}: beside `taskDefinition`: the file is both describe-task-definition output and a bare task definition, and tools differ on which they register")]
    WrappedAndBare(&'static str),
    /// Another spelling of a key shipcheck reads (`RuntimePlatform`, `Image`), or two keys equal
    /// but for case.
    #[error("{path}: key `{key}` is another spelling of `{known}`: tools that read task definitions with Go's JSON decoder (ecspresso, Terraform's AWS provider) take it as `{known}`, and the AWS CLI refuses it")]
    KeySpelling {
        /// The object's JSON path (`$`, `$.taskDefinition`, `$.containerDefinitions[0]`).
        path: String,
        /// The key as written (first 64 characters).
        key: String,
        /// The key it folds to.
        known: &'static str,
    },
    /// An image reference longer than ECS registers.
    #[error("$.containerDefinitions[{index}].image: {len} characters{before_at}, more than the 255 ECS registers (RegisterTaskDefinition refuses it: \"Container.image should be 255 characters or less\")")]
    ImageTooLong {
        /// The container's index.
        index: usize,
        /// The length ECS counts.
        len: usize,
        /// ` before the @` for a reference by digest.
        before_at: &'static str,
    },
    /// A container definition that is not a JSON object.
    #[error("$.containerDefinitions[{0}]: expected a container definition (a JSON object)")]
    ContainerNotAnObject(usize),
    /// `containerDefinitions` is `[]`.
    #[error("$.containerDefinitions: the list is empty")]
    NoContainers,
    /// `containerDefinitions` is not a list.
    #[error("$.containerDefinitions: expected a list of container definitions")]
    ContainersNotAList,
    /// No `containerDefinitions`: probably not a task definition at all.
    #[error("$.containerDefinitions: missing; expected an ECS task definition (register-task-definition input or describe-task-definition output)")]
    ContainersMissing,
    /// A container's `name` or `image` is not a non-empty string.
    #[error("$.containerDefinitions[{index}].{field}: expected a non-empty string")]
    ContainerField {
        /// The container's index.
        index: usize,
        /// `name` or `image`.
        field: &'static str,
    },
    /// A container without `name` or `image`.
    #[error("$.containerDefinitions[{index}].{field}: missing")]
    ContainerFieldMissing {
        /// The container's index.
        index: usize,
        /// `name` or `image`.
        field: &'static str,
    },
}

/// The platform a task runs on: `runtimePlatform.cpuArchitecture` (`X86_64` default, `ARM64`) and
/// `operatingSystemFamily` (`LINUX` default; `WINDOWS_SERVER_2019_*` map to windows/amd64 of build
/// 10.0.17763, `windows(10.0.17763)/amd64`, and so on for the other releases).
pub fn task_platform(td: &Value) -> Result<String, TaskdefError> {
    // ECS refuses anything else; read loosely, a misspelled key would silently mean X86_64.
    let rp = match td.get("runtimePlatform") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => {
            if let Some(k) = o
                .keys()
                .find(|k| !["cpuArchitecture", "operatingSystemFamily"].contains(&k.as_str()))
            {
                return Err(TaskdefError::RuntimePlatformKey(k.clone()));
            }
            td.get("runtimePlatform")
        }
        Some(_) => return Err(TaskdefError::RuntimePlatformNotAnObject),
    };
    let get = |k: &'static str| -> Result<Option<String>, TaskdefError> {
        match rp.and_then(|r| r.get(k)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(TaskdefError::NotAString(k)),
        }
    };
    platform_of(
        get("operatingSystemFamily")?.as_deref(),
        get("cpuArchitecture")?.as_deref(),
    )
}

/// The platform for `runtimePlatform`'s `operatingSystemFamily` and `cpuArchitecture` (absent:
/// `LINUX`, `X86_64`), as a file or the ECS API gives them.
pub fn platform_of(os: Option<&str>, cpu: Option<&str>) -> Result<String, TaskdefError> {
    let os = os.unwrap_or("LINUX");
    let cpu = cpu.unwrap_or("X86_64");
    match (os, cpu) {
        ("LINUX", "X86_64") => Ok("linux/amd64".into()),
        ("LINUX", "ARM64") => Ok("linux/arm64".into()),
        // A family ECS may add later names a build shipcheck does not know: refused, never read
        // as "any Windows build".
        (w, "X86_64") if w.starts_with("WINDOWS_SERVER_") => match windows_build(w) {
            Some(build) => Ok(format!("windows({build})/amd64")),
            None => Err(TaskdefError::Os(w.to_string())),
        },
        (w, c) if w.starts_with("WINDOWS_SERVER_") => Err(TaskdefError::WindowsArch {
            os: w.to_string(),
            cpu: c.to_string(),
        }),
        ("LINUX", c) => Err(TaskdefError::Arch(c.to_string())),
        (o, _) => Err(TaskdefError::Os(o.to_string())),
    }
}

/// The Windows build (`os.version` prefix) of an ECS Windows platform family: the container host
/// runs images of that build (process isolation), as containerd's Windows matcher decides. Only the
/// families ECS's `RuntimePlatform` documents; any other is refused by the caller.
fn windows_build(family: &str) -> Option<&'static str> {
    Some(match family {
        "WINDOWS_SERVER_2016_FULL" => "10.0.14393",
        "WINDOWS_SERVER_2019_CORE" | "WINDOWS_SERVER_2019_FULL" => "10.0.17763",
        "WINDOWS_SERVER_2004_CORE" => "10.0.19041",
        "WINDOWS_SERVER_20H2_CORE" => "10.0.19042",
        "WINDOWS_SERVER_2022_CORE" | "WINDOWS_SERVER_2022_FULL" => "10.0.20348",
        "WINDOWS_SERVER_2025_CORE" | "WINDOWS_SERVER_2025_FULL" => "10.0.26100",
        _ => return None,
    })
}

/// The image name with its tag removed and `@digest` appended (`repo:tag` -> `repo@sha256:...`).
pub fn pin_image(image: &str, digest: &str) -> String {
    if image.contains('@') {
        return image.to_string();
    }
    let name = match image.rfind(':') {
        Some(i) if !image[i + 1..].contains('/') => &image[..i],
        _ => image,
    };
    format!("{name}@{digest}")
}

/// A container's name and image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// The container's `name`.
    pub name: String,
    /// The container's `image`, as written.
    pub image: String,
}

/// The keys shipcheck reads from a task definition (or its `describe-task-definition` wrapper) and
/// from each container definition.
const TASKDEF_KEYS: &[&str] = &[
    "taskDefinition",
    "family",
    "taskDefinitionArn",
    "revision",
    "runtimePlatform",
    "requiresCompatibilities",
    "containerDefinitions",
];
const CONTAINER_KEYS: &[&str] = &["name", "image"];

/// Refuses, in one object of a task definition file, a key that is another spelling of a key
/// shipcheck reads (`RuntimePlatform`, `Image`: Go's JSON decoder, which ecspresso and Terraform's
/// AWS provider read task definitions with, matches keys case-insensitively, so such a file
/// registers an ARM64 task that shipcheck would check as X86_64), and two keys equal under that
/// folding (Go takes the last, shipcheck the exact one).
fn key_spellings(v: &Value, known: &[&'static str], path: &str) -> Result<(), TaskdefError> {
    let Some(obj) = v.as_object() else {
        return Ok(());
    };
    let mut folded = std::collections::HashSet::new();
    for k in obj.keys() {
        let f = go_fold(k);
        let first = folded.insert(f.clone());
        if let Some(&known) = known.iter().find(|n| go_fold(n) == f) {
            if known != k || !first {
                return Err(TaskdefError::KeySpelling {
                    path: path.to_string(),
                    key: k.chars().take(64).collect(),
                    known,
                });
            }
        }
    }
    Ok(())
}

/// A task definition file's JSON, read strictly: tools that register it disagree on a byte order
/// mark (the AWS CLI and Go's decoder refuse one) and on duplicate keys (Python keeps the last
/// value; Go decoding into a struct merges two objects, so `runtimePlatform` given twice can mean
/// ARM64 to one tool and X86_64 to another): both are refused, naming the place.
fn taskdef_json(path: &Path, text: &str, bom: bool) -> Result<Value, Reason> {
    let invalid =
        |why: String| Reason::new(Code::InvalidInput, format!("{}: {why}", path.display()));
    if bom {
        return Err(invalid(
            "starts with a byte order mark, which the AWS CLI (\"Unexpected UTF-8 BOM\") and Go's JSON decoder refuse".into(),
        )
        .hint("save the file as UTF-8 without a BOM"));
    }
    crate::oci::manifest::strict_json_value(text.as_bytes())
        .map_err(|e| invalid(format!("is not JSON shipcheck can read unambiguously: {e}")))
}

/// What a task definition asks for: family, platform and containers. `doc` may be the bare task
/// definition or `describe-task-definition` output; errors name the JSON path.
pub fn plan(doc: &Value) -> Result<TaskDefinition, TaskdefError> {
    key_spellings(doc, TASKDEF_KEYS, "$")?;
    let td = doc.get("taskDefinition").unwrap_or(doc);
    if !td.is_object() {
        return Err(TaskdefError::NotAnObject);
    }
    if doc.get("taskDefinition").is_some() {
        // Adversarial pass 39: containers beside the wrapper were never checked.
        if let Some(k) = TASKDEF_KEYS[1..].iter().find(|k| doc.get(**k).is_some()) {
            return Err(TaskdefError::WrappedAndBare(k));
        }
        key_spellings(td, TASKDEF_KEYS, "$.taskDefinition")?;
    }
    let text = |k: &str| td.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(TaskDefinition {
        family: text("family"),
        arn: text("taskDefinitionArn"),
        revision: td.get("revision").and_then(Value::as_i64),
        platform: task_platform(td)?,
        platform_declared: td
            .get("runtimePlatform")
            .and_then(|r| r.get("cpuArchitecture"))
            .is_some_and(Value::is_string),
        fargate_only: fargate_only(td)?,
        containers: containers(td)?,
    })
}

/// Whether `requiresCompatibilities` names FARGATE and nothing else (absent: EC2, as ECS defaults).
fn fargate_only(td: &Value) -> Result<bool, TaskdefError> {
    match td.get("requiresCompatibilities") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Array(a)) => {
            let names: Option<Vec<&str>> = a.iter().map(Value::as_str).collect();
            let names = names.ok_or(TaskdefError::Compatibilities)?;
            Ok(!names.is_empty() && names.iter().all(|n| *n == "FARGATE"))
        }
        Some(_) => Err(TaskdefError::Compatibilities),
    }
}

/// The containers of a task definition's `containerDefinitions`, each with a non-empty `name` and `image`; errors name the JSON path.
pub fn containers(td: &Value) -> Result<Vec<Container>, TaskdefError> {
    let list = match td.get("containerDefinitions") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) => return Err(TaskdefError::NoContainers),
        Some(_) => return Err(TaskdefError::ContainersNotAList),
        None => return Err(TaskdefError::ContainersMissing),
    };
    let mut out = Vec::new();
    for (index, c) in list.iter().enumerate() {
        if !c.is_object() {
            return Err(TaskdefError::ContainerNotAnObject(index));
        }
        key_spellings(
            c,
            CONTAINER_KEYS,
            &format!("$.containerDefinitions[{index}]"),
        )?;
        let s = |field: &'static str| match c.get(field) {
            Some(Value::String(v)) if !v.trim().is_empty() => Ok(v.clone()),
            Some(_) => Err(TaskdefError::ContainerField { index, field }),
            None => Err(TaskdefError::ContainerFieldMissing { index, field }),
        };
        let image = s("image")?;
        // ECS counts a reference by digest up to its `@`, any other whole.
        let (counted, before_at) = match image.split_once('@') {
            Some((name, _)) => (name, " before the @"),
            None => (image.as_str(), ""),
        };
        let len = counted.chars().count();
        if len > 255 {
            return Err(TaskdefError::ImageTooLong {
                index,
                len,
                before_at,
            });
        }
        out.push(Container {
            name: s("name")?,
            image,
        });
    }
    Ok(out)
}

impl TaskdefReport {
    fn new(path: String) -> Self {
        TaskdefReport {
            verdict: Verdict::Error,
            reasons: Vec::new(),
            warnings: Vec::new(),
            path,
            family: None,
            arn: None,
            revision: None,
            platform: None,
            containers: Vec::new(),
            pinned_output: None,
            platform_declared: false,
        }
    }

    /// A report for a request that could not start (for example, a bad `--ca-cert`).
    pub fn failed(req: &TaskdefRequest, r: Reason) -> Self {
        TaskdefReport::new(req.source.describe()).fail(r)
    }

    /// A report for the task definition `name` that could not be read.
    pub fn unreadable(name: &str, r: Reason) -> Self {
        TaskdefReport::new(name.to_string()).fail(r)
    }

    /// This report with `r` added to its reasons.
    pub fn fail(mut self, r: Reason) -> Self {
        self.reasons.push(r);
        self.verdict = verdict_of(&self.reasons);
        self
    }
}

/// Runs `verify-taskdef`.
pub async fn run(req: &TaskdefRequest, http: &Http) -> TaskdefReport {
    run_with(req, http, &ContentCache::default()).await
}

/// Like [`run`], sharing verified content with the rest of the run (an audit).
pub async fn run_with(req: &TaskdefRequest, http: &Http, cache: &ContentCache) -> TaskdefReport {
    let rep = TaskdefReport::new(req.source.describe());
    if req.pin && req.output.is_none() {
        return rep.fail(Reason::new(
            Code::Usage,
            "--pin needs --output FILE for the pinned copy",
        ));
    }
    let (doc, def) = match &req.source {
        Source::File(path) => {
            let doc: Value =
                match input::read_text_bom(path).and_then(|(t, bom)| taskdef_json(path, &t, bom)) {
                    Ok(v) => v,
                    Err(r) => return rep.fail(r),
                };
            match plan(&doc) {
                Ok(def) => (Some(doc), def),
                Err(e) => {
                    return rep.fail(Reason::new(
                        Code::InvalidInput,
                        format!("{}: {e}", path.display()),
                    ))
                }
            }
        }
        Source::Live { id, region } => {
            let timeout = crate::aws::Timeout(http.opts.timeout);
            let conf = crate::aws::config(region.as_deref(), timeout).await;
            if conf.region().is_none() {
                return rep.fail(crate::aws::no_region("verify-taskdef --family"));
            }
            let ecs = crate::aws::ecs::Ecs::new(&conf);
            match ecs.task_definition(id).await {
                Ok(def) => (None, def),
                Err(r) => return rep.fail(r),
            }
        }
    };
    let mut rep = check(&def, &req.images, http, cache).await;
    rep.path = req.source.describe();
    if !def.platform_declared && !def.fargate_only {
        rep.warnings.push(
            Reason::new(
                Code::NotEvaluated,
                format!(
                    "the task definition declares no runtimePlatform.cpuArchitecture and can run on EC2 or external capacity (requiresCompatibilities is not [\"FARGATE\"]): its images were checked for {} only, but the container instances' architecture decides what runs",
                    def.platform
                ),
            )
            .hint("declare runtimePlatform.cpuArchitecture (X86_64 or ARM64) in the task definition"),
        );
    }

    if req.pin {
        let out = req.output.as_ref().expect("checked above");
        let Some(doc) = doc else {
            return rep.fail(Reason::usage(
                "--pin writes a copy of a task definition file; save it first with `aws ecs describe-task-definition`",
            ));
        };
        let td = doc.get("taskDefinition").unwrap_or(&doc);
        if rep.verdict != Verdict::Pass {
            rep.warnings.push(Reason::new(
                Code::NotPinned,
                format!(
                    "no pinned copy written to {}: not every image verified",
                    out.display()
                ),
            ));
        } else {
            match write_pinned(td, &rep.containers, out) {
                Ok(()) => rep.pinned_output = Some(out.display().to_string()),
                Err(r) => rep = rep.fail(r),
            }
        }
    }
    rep
}

/// The registry host (as image references name it, lowercase) of an image reference, if it parses.
fn registry_of(image: &str) -> Option<String> {
    Reference::parse(image)
        .ok()
        .map(|r| r.registry.to_ascii_lowercase())
}

/// Which registry the command-line credentials are for: the one `--registry` names, always given
/// with them (as `docker login HOST` names it). The task definition never chooses: one under review
/// could otherwise name an image on a host of its choosing and receive the password.
fn credentials_registry(opts: &ImageOptions) -> Result<Option<String>, Reason> {
    if opts.username.is_none() {
        return Ok(None);
    }
    let Some(given) = &opts.registry else {
        return Err(Reason::usage(
            "--username/--password-stdin need --registry HOST: the registry the credentials are for",
        )
        .hint("add --registry with the host as image references write it (e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com); images on other registries use Docker's config, native ECR or no credentials"));
    };
    // Docker Hub by any of its names is `docker.io`, as image references name it.
    let h = crate::oci::reference::canonical_host(given.trim().trim_end_matches('/'));
    if h == "docker.io" {
        return Ok(Some(h));
    }
    // `host[:port]`, recognised as a host the way image references recognise one.
    match registry_of(&format!("{h}/x")) {
        Some(r) if !h.contains('/') && r == h => Ok(Some(r)),
        _ => Err(Reason::usage(format!(
            "--registry `{}` is not a registry host",
            crate::report::esc(&shown(given))
        ))
        .hint("give the host as image references write it, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com or 127.0.0.1:5000")),
    }
}

/// Checks every container's image of `def` for its platform (concurrently, sharing `cache`) and
/// warns about images named by a mutable tag. The report's `path` is the task definition's name.
pub async fn check(
    def: &TaskDefinition,
    opts: &ImageOptions,
    http: &Http,
    cache: &ContentCache,
) -> TaskdefReport {
    let mut rep = TaskdefReport::new(def.short_name("task definition"));
    rep.family = def.family.clone();
    rep.arn = def.arn.clone();
    rep.revision = def.revision;
    rep.platform = Some(def.platform.clone());
    rep.platform_declared = def.platform_declared;

    let creds_for = match credentials_registry(opts) {
        Ok(h) => h,
        Err(r) => {
            rep.reasons.push(r);
            rep.verdict = verdict_of(&rep.reasons);
            return rep;
        }
    };
    if let Some(h) = creds_for.as_deref().filter(|h| {
        !def.containers
            .iter()
            .any(|c| registry_of(&c.image).as_deref() == Some(*h))
    }) {
        rep.warnings.push(Reason::new(
            Code::NotEvaluated,
            format!("no image of the task definition is on registry {h} (--registry): the --username/--password-stdin credentials were not used"),
        ));
    }
    let checks = futures_util::future::join_all(def.containers.iter().map(|c| {
        // Command-line credentials go to their registry only (as `docker login HOST` scopes them).
        let mine = creds_for.is_some() && registry_of(&c.image) == creds_for;
        let ireq = ImageRequest {
            reference: c.image.clone(),
            platforms: vec![def.platform.clone()],
            digest: None,
            deep: opts.deep,
            content: opts.content,
            username: opts.username.clone().filter(|_| mine),
            password: opts.password.clone().filter(|_| mine),
            credentials: opts.credentials.clone(),
        };
        async move { verify::run_with(&ireq, http, cache).await }
    }))
    .await;

    for (c, check) in def.containers.iter().zip(checks) {
        add_container(&mut rep, c, check);
    }
    rep.verdict = verdict_of(&rep.reasons);
    rep
}

/// Adds one container's image check to the task definition's report: its reasons and warnings
/// (named after the container), a warning when the image is named by a mutable tag, and the
/// digest to pin on a pass.
fn add_container(rep: &mut TaskdefReport, c: &Container, check: ImageReport) {
    let by_digest = Reference::parse(&c.image)
        .map(|r| r.digest.is_some())
        .unwrap_or(false);
    // An image that is not a reference at all has its error already; no tag to warn about.
    let by_tag = Reference::parse(&c.image).is_ok_and(|r| r.digest.is_none());
    if by_tag {
        rep.warnings.push(
            Reason::new(
                Code::MutableTag,
                format!("container `{}` uses `{}` by tag: a later push to that tag changes what the task runs", c.name, c.image),
            )
            .hint("pin images by digest: `shipcheck verify-taskdef FILE --pin --output pinned.json`"),
        );
    }
    rep.reasons.extend(prefixed(
        &check.reasons,
        &format!("container `{}` ({}): ", c.name, shown(&c.image)),
    ));
    rep.warnings.extend(prefixed(
        &check.warnings,
        &format!("container `{}`: ", c.name),
    ));
    let digest = (check.verdict == Verdict::Pass)
        .then(|| check.digest.clone())
        .flatten();
    rep.containers.push(ContainerReport {
        pinned_image: digest.as_ref().map(|d| pin_image(&c.image, d)),
        name: c.name.clone(),
        image: shown(&c.image),
        by_digest,
        verdict: check.verdict,
        digest,
        check,
    });
}

/// Writes the task definition (unwrapped, without read-only fields) with pinned images, atomically.
fn write_pinned(td: &Value, containers: &[ContainerReport], out: &Path) -> Result<(), Reason> {
    let mut copy = td.clone();
    if let Some(obj) = copy.as_object_mut() {
        for f in READ_ONLY_FIELDS {
            obj.remove(*f);
        }
    }
    if let Some(Value::Array(list)) = copy.get_mut("containerDefinitions") {
        for (c, report) in list.iter_mut().zip(containers) {
            if let Some(p) = &report.pinned_image {
                c["image"] = Value::String(p.clone());
            }
        }
    }
    let mut text = serde_json::to_string_pretty(&copy).map_err(|e| {
        Reason::new(
            Code::InstallFailed,
            format!("cannot write {}: {e}", out.display()),
        )
    })?;
    text.push('\n');
    crate::install::write_file(out, "--output", text.as_bytes(), 0o644)
}

/// Text rendering: (stdout, stderr).
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn platforms_from_runtime_platform() {
        assert_eq!(task_platform(&json!({})).unwrap(), "linux/amd64");
        assert_eq!(
            task_platform(&json!({"runtimePlatform": {"cpuArchitecture": "ARM64"}})).unwrap(),
            "linux/arm64"
        );
        assert_eq!(
            task_platform(
                &json!({"runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"}})
            )
            .unwrap(),
            "windows(10.0.20348)/amd64"
        );
        assert_eq!(
            task_platform(
                &json!({"runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2019_FULL"}})
            )
            .unwrap(),
            "windows(10.0.17763)/amd64"
        );
        // A family shipcheck does not know the build of is refused (it was read as any build, so
        // an image for another build passed; found by adversarial pass 17).
        for unknown in [
            "WINDOWS_SERVER_2031_CORE",
            "WINDOWS_SERVER_LTSC_CORE",
            "WINDOWS_SERVER_2019_NANO",
            "WINDOWS_SERVER_2016_CORE",
            "WINDOWS_SERVER_20H2_FULL",
        ] {
            let td = json!({"runtimePlatform": {"operatingSystemFamily": unknown}});
            assert!(task_platform(&td).is_err(), "{unknown}");
        }
        assert!(task_platform(&json!({"runtimePlatform": {"cpuArchitecture": "RISCV"}})).is_err());
        assert!(
            task_platform(&json!({"runtimePlatform": {"operatingSystemFamily": "PLAN9"}})).is_err()
        );
        assert!(task_platform(&json!({"runtimePlatform": {"cpuArchitecture": 64}})).is_err());
    }

    /// A file that is both describe-task-definition output and a bare task definition is refused
    /// (adversarial pass 39: the containers beside the wrapper were never checked).
    #[test]
    fn a_wrapper_with_task_definition_keys_beside_it_is_refused() {
        let inner =
            json!({"family": "web", "containerDefinitions": [{"name": "a", "image": "app:v1"}]});
        assert!(plan(&json!({"taskDefinition": inner, "tags": []})).is_ok());
        for k in [
            "containerDefinitions",
            "runtimePlatform",
            "family",
            "requiresCompatibilities",
        ] {
            let mut doc = json!({"taskDefinition": inner});
            doc[k] = json!([]);
            let e = plan(&doc).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("$.{k}: beside `taskDefinition`")),
                "{e}"
            );
        }
    }

    #[test]
    fn pinning_replaces_the_tag() {
        let d = "sha256:0123";
        assert_eq!(
            pin_image("123.dkr.ecr.us-east-1.amazonaws.com/app:v1", d),
            "123.dkr.ecr.us-east-1.amazonaws.com/app@sha256:0123"
        );
        assert_eq!(
            pin_image("localhost:5000/team/app", d),
            "localhost:5000/team/app@sha256:0123"
        );
        assert_eq!(pin_image("nginx:1.27", d), "nginx@sha256:0123");
        assert_eq!(pin_image("app@sha256:abcd", d), "app@sha256:abcd");
    }
}
