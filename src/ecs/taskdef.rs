//! `shipcheck verify-taskdef`: verify every image of an ECS task definition for the platform the task
//! runs on, report images referenced by a mutable tag, and optionally write a copy pinned by digest.
//!
//! Reads what `aws ecs register-task-definition --cli-input-json` takes, or the output of
//! `aws ecs describe-task-definition` (wrapped in `taskDefinition`). Each image goes through the same
//! code as `verify-image`.

use crate::input;
use crate::net::Http;
use crate::oci::cache::ContentCache;
use crate::oci::verify::{self, ImageReport, ImageRequest};
use crate::oci::Reference;
use crate::report::{verdict_of, Code, Reason, Verdict};
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

#[derive(Debug, Clone, Default)]
pub struct TaskdefRequest {
    pub path: PathBuf,
    /// Write a copy with every image pinned to its verified digest (to `output`).
    pub pin: bool,
    pub output: Option<PathBuf>,
    pub deep: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The Docker config file to read credentials from (see [`crate::context::Env`]).
    pub docker_config: Option<PathBuf>,
}

/// The JSON object `verify-taskdef --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct TaskdefReport {
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    pub warnings: Vec<Reason>,
    pub path: String,
    pub family: Option<String>,
    /// The platform the task runs on, from `runtimePlatform`.
    pub platform: Option<String>,
    pub containers: Vec<ContainerReport>,
    /// Where the pinned copy was written (with `--pin --output`), else null.
    pub pinned_output: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContainerReport {
    pub name: String,
    pub image: String,
    /// Whether the task definition already names the image by digest.
    pub by_digest: bool,
    pub verdict: Verdict,
    /// The digest verified for this image (what `--pin` writes).
    pub digest: Option<String>,
    pub pinned_image: Option<String>,
    /// The full `verify-image` result for this container's image.
    pub check: ImageReport,
}

/// The platform a task runs on: `runtimePlatform.cpuArchitecture` (`X86_64` default, `ARM64`) and
/// `operatingSystemFamily` (`LINUX` default; `WINDOWS_SERVER_*` map to windows/amd64).
pub fn task_platform(td: &Value) -> Result<String, String> {
    let rp = td.get("runtimePlatform");
    let get = |k: &str| -> Result<Option<String>, String> {
        match rp.and_then(|r| r.get(k)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("$.runtimePlatform.{k}: expected a string")),
        }
    };
    let os = get("operatingSystemFamily")?.unwrap_or_else(|| "LINUX".into());
    let cpu = get("cpuArchitecture")?.unwrap_or_else(|| "X86_64".into());
    match (os.as_str(), cpu.as_str()) {
        ("LINUX", "X86_64") => Ok("linux/amd64".into()),
        ("LINUX", "ARM64") => Ok("linux/arm64".into()),
        (w, "X86_64") if w.starts_with("WINDOWS_SERVER_") => Ok("windows/amd64".into()),
        (w, c) if w.starts_with("WINDOWS_SERVER_") => {
            Err(format!("$.runtimePlatform.cpuArchitecture: `{c}` is not supported with {w} (only X86_64)"))
        }
        ("LINUX", c) => Err(format!("$.runtimePlatform.cpuArchitecture: expected X86_64 or ARM64, found `{c}`")),
        (o, _) => Err(format!(
            "$.runtimePlatform.operatingSystemFamily: expected LINUX or WINDOWS_SERVER_*, found `{o}`"
        )),
    }
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
    pub name: String,
    pub image: String,
}

/// What a task definition asks for: family, platform and containers. `doc` may be the bare task
/// definition or `describe-task-definition` output; errors name the JSON path.
pub fn plan(doc: &Value) -> Result<(Option<String>, String, Vec<Container>), String> {
    let td = doc.get("taskDefinition").unwrap_or(doc);
    if !td.is_object() {
        return Err("expected a JSON object (a task definition)".into());
    }
    let family = td.get("family").and_then(Value::as_str).map(str::to_string);
    Ok((family, task_platform(td)?, containers(td)?))
}

pub fn containers(td: &Value) -> Result<Vec<Container>, String> {
    let list = match td.get("containerDefinitions") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) => return Err("$.containerDefinitions: the list is empty".into()),
        Some(_) => return Err("$.containerDefinitions: expected a list of container definitions".into()),
        None => {
            return Err("$.containerDefinitions: missing; expected an ECS task definition (register-task-definition input or describe-task-definition output)".into())
        }
    };
    let mut out = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let s = |k: &str| match c.get(k) {
            Some(Value::String(v)) if !v.trim().is_empty() => Ok(v.clone()),
            Some(_) => Err(format!(
                "$.containerDefinitions[{i}].{k}: expected a non-empty string"
            )),
            None => Err(format!("$.containerDefinitions[{i}].{k}: missing")),
        };
        out.push(Container {
            name: s("name")?,
            image: s("image")?,
        });
    }
    Ok(out)
}

impl TaskdefReport {
    fn new(path: &Path) -> Self {
        TaskdefReport {
            verdict: Verdict::Error,
            reasons: Vec::new(),
            warnings: Vec::new(),
            path: path.display().to_string(),
            family: None,
            platform: None,
            containers: Vec::new(),
            pinned_output: None,
        }
    }

    /// A report for a request that could not start (for example, a bad `--ca-cert`).
    pub fn failed(req: &TaskdefRequest, r: Reason) -> Self {
        TaskdefReport::new(&req.path).fail(r)
    }

    fn fail(mut self, r: Reason) -> Self {
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
    let mut rep = TaskdefReport::new(&req.path);
    if req.pin && req.output.is_none() {
        return rep.fail(Reason::new(
            Code::Usage,
            "--pin needs --output FILE for the pinned copy",
        ));
    }
    let doc: Value = match input::read_json(&req.path) {
        Ok(v) => v,
        Err(r) => return rep.fail(r),
    };
    let bad = |m: String| Reason::new(Code::InvalidInput, format!("{}: {m}", req.path.display()));
    let (family, platform, list) = match plan(&doc) {
        Ok(p) => p,
        Err(e) => return rep.fail(bad(e)),
    };
    let td = doc.get("taskDefinition").unwrap_or(&doc);
    rep.family = family;
    rep.platform = Some(platform.clone());

    let checks = futures_util::future::join_all(list.iter().map(|c| {
        let ireq = ImageRequest {
            reference: c.image.clone(),
            platforms: vec![platform.clone()],
            digest: None,
            deep: req.deep,
            username: req.username.clone(),
            password: req.password.clone(),
            docker_config: req.docker_config.clone(),
        };
        async move { verify::run_with(&ireq, http, cache).await }
    }))
    .await;

    for (c, check) in list.into_iter().zip(checks) {
        let by_digest = Reference::parse(&c.image)
            .map(|r| r.digest.is_some())
            .unwrap_or(false);
        if !by_digest {
            rep.warnings.push(
                Reason::new(
                    Code::MutableTag,
                    format!("container `{}` uses `{}` by tag: a later push to that tag changes what the task runs", c.name, c.image),
                )
                .hint("pin images by digest: `shipcheck verify-taskdef FILE --pin --output pinned.json`"),
            );
        }
        for r in &check.reasons {
            let mut r2 = r.clone();
            r2.message = format!("container `{}` ({}): {}", c.name, c.image, r.message);
            rep.reasons.push(r2);
        }
        for w in &check.warnings {
            let mut w2 = w.clone();
            w2.message = format!("container `{}`: {}", c.name, w.message);
            rep.warnings.push(w2);
        }
        let digest = (check.verdict == Verdict::Pass)
            .then(|| check.digest.clone())
            .flatten();
        rep.containers.push(ContainerReport {
            pinned_image: digest.as_ref().map(|d| pin_image(&c.image, d)),
            name: c.name,
            image: c.image,
            by_digest,
            verdict: check.verdict,
            digest,
            check,
        });
    }
    rep.verdict = verdict_of(&rep.reasons);

    if req.pin {
        let out = req.output.as_ref().expect("checked above");
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
                Err(r) => {
                    rep.reasons.push(r);
                    rep.verdict = verdict_of(&rep.reasons);
                }
            }
        }
    }
    rep
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
    crate::install::write_file(out, text.as_bytes(), 0o644)
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
            "windows/amd64"
        );
        assert!(task_platform(&json!({"runtimePlatform": {"cpuArchitecture": "RISCV"}})).is_err());
        assert!(
            task_platform(&json!({"runtimePlatform": {"operatingSystemFamily": "PLAN9"}})).is_err()
        );
        assert!(task_platform(&json!({"runtimePlatform": {"cpuArchitecture": 64}})).is_err());
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
