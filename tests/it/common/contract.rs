//! The JSON contract of every command, as mirror structs that reject what the contract does not name.
//!
//! Each struct mirrors a `Serialize` struct of the binary (the reports of `src/commands/*`, `src/oci/verify.rs`,
//! `src/ecs/*`, `src/aws/*`, `src/pgp/inspect.rs` and `src/report`) with `#[serde(deny_unknown_fields)]`,
//! so an added or renamed field fails to deserialise. Fields that may be `null` use [`nullable`], which
//! makes them required all the same: a field that disappears fails too (serde would otherwise take a
//! missing `Option` as `None`). Closed sets of values (verdicts, platform, action and endpoint
//! statuses, key roles) are enums, so a new spelling fails as well. These are the only mirror
//! structs: image_json.rs runs verify-image and deserialises into [`ImageJson`] here.
#![allow(dead_code)]

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// A field that is always present and may be `null` (absent is an error, unlike a plain `Option`).
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// `verdict`: `pass`, `fail` or `error` (src/report.rs `Verdict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Error,
}

impl Verdict {
    /// As the JSON spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }

    /// The exit code the binary documents for this verdict.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Error => 2,
        }
    }
}

impl PartialEq<&str> for Verdict {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// What every command's JSON starts with.
pub trait Verdicted {
    fn verdict(&self) -> Verdict;
    fn reasons(&self) -> &[CodeJson];
    fn warnings(&self) -> &[CodeJson];
    fn codes(&self) -> Vec<&str> {
        self.reasons().iter().map(|r| r.code.as_str()).collect()
    }
    fn warning_codes(&self) -> Vec<&str> {
        self.warnings().iter().map(|r| r.code.as_str()).collect()
    }
}

macro_rules! verdicted {
    ($($t:ty),*) => {$(
        impl Verdicted for $t {
            fn verdict(&self) -> Verdict { self.verdict }
            fn reasons(&self) -> &[CodeJson] { &self.reasons }
            fn warnings(&self) -> &[CodeJson] { &self.warnings }
        }
    )*};
}
verdicted!(
    UsageJson,
    BinJson,
    ImageJson,
    TaskdefJson,
    AuditJson,
    IamJson,
    EndpointsJson,
    KeysJson,
    ServiceJson,
    RepositoryJson
);

/// One reason or warning (src/report.rs `Reason`): the hint is not part of the JSON.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeJson {
    pub code: String,
    pub message: String,
}

// ---- usage errors (src/lib.rs UsageReport) ----

/// What `shipcheck CMD --bogus --json` prints: a usage error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageJson {
    pub verdict: Verdict,
    pub reasons: Vec<CodeJson>,
    pub warnings: Vec<CodeJson>,
}

// ---- verify-bin (src/verify_bin.rs BinReport), as audit results carry it ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinJson {
    pub verdict: Verdict,
    pub reasons: Vec<CodeJson>,
    pub warnings: Vec<CodeJson>,
    #[serde(deserialize_with = "nullable")]
    pub tool: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub version: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub platform: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub url: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub sig_url: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub file: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub sig_file: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub size: Option<u64>,
    #[serde(deserialize_with = "nullable")]
    pub sha256: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub signer: Option<SignerJson>,
    #[serde(deserialize_with = "nullable")]
    pub signature: Option<SignatureJson>,
    #[serde(deserialize_with = "nullable")]
    pub installed: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerJson {
    pub fingerprint: String,
    pub key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureJson {
    pub created: String,
    pub hash_algorithm: String,
}

// ---- verify-image (src/verify_image.rs ImageReport), as taskdefs and audits carry it ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageJson {
    pub verdict: Verdict,
    pub reasons: Vec<CodeJson>,
    pub warnings: Vec<CodeJson>,
    #[serde(deserialize_with = "nullable")]
    pub reference: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub digest: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub media_type: Option<String>,
    pub platforms: Vec<PlatformJson>,
    pub missing: Vec<String>,
    pub attestations: Vec<AttestationJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformJson {
    pub platform: String,
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    #[serde(deserialize_with = "nullable")]
    pub config_digest: Option<String>,
    pub status: PlatformStatus,
}

/// `verified` or `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformStatus {
    Verified,
    Failed,
}

impl PlatformStatus {
    /// As the JSON spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformStatus::Verified => "verified",
            PlatformStatus::Failed => "failed",
        }
    }
}

impl PartialEq<&str> for PlatformStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationJson {
    pub digest: String,
    #[serde(deserialize_with = "nullable")]
    pub refers_to: Option<String>,
}

impl ImageJson {
    /// The reason codes (as [`Verdicted::codes`], without importing the trait).
    pub fn codes(&self) -> Vec<&str> {
        Verdicted::codes(self)
    }
    /// The warning codes.
    pub fn warning_codes(&self) -> Vec<&str> {
        Verdicted::warning_codes(self)
    }
    pub fn platform_names(&self) -> Vec<&str> {
        self.platforms.iter().map(|p| p.platform.as_str()).collect()
    }
}

// ---- verify-taskdef (src/taskdef.rs TaskdefReport) ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskdefJson {
    pub verdict: Verdict,
    pub reasons: Vec<CodeJson>,
    pub warnings: Vec<CodeJson>,
    pub path: String,
    #[serde(deserialize_with = "nullable")]
    pub family: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub arn: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub revision: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    pub platform: Option<String>,
    pub containers: Vec<ContainerJson>,
    #[serde(deserialize_with = "nullable")]
    pub pinned_output: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerJson {
    pub name: String,
    pub image: String,
    pub by_digest: bool,
    pub verdict: Verdict,
    #[serde(deserialize_with = "nullable")]
    pub digest: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub pinned_image: Option<String>,
    /// The verify-image result for this container's image.
    pub check: ImageJson,
}

// ---- audit [[ecs]] results (src/ecs/service.rs ServiceReport) ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceJson {
    pub verdict: Verdict,
    pub reasons: Vec<CodeJson>,
    pub warnings: Vec<CodeJson>,
    pub region: String,
    pub cluster: String,
    pub service: String,
    pub task_definitions: Vec<TaskdefJson>,
}

// ---- audit [[ecr]] results (src/ecs/repository.rs RepositoryReport) ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositoryJson {
    pub verdict: Verdict,
    pub reasons: Vec<CodeJson>,
    pub warnings: Vec<CodeJson>,
    pub region: String,
    pub repository: String,
    #[serde(deserialize_with = "nullable")]
    pub uri: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub tag_mutability: Option<String>,
    pub untagged_images: usize,
    pub images: Vec<TaggedImageJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaggedImageJson {
    pub tag: String,
    pub listed_digest: String,
    pub check: ImageJson,
}

// ---- audit (src/audit.rs AuditReport) ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditJson {
    pub verdict: Verdict,
    pub reasons: Vec<CodeJson>,
    pub warnings: Vec<CodeJson>,
    pub file: String,
    #[serde(deserialize_with = "nullable")]
    pub shard: Option<String>,
    pub summary: SummaryJson,
    pub results: Vec<AuditResultJson>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SummaryJson {
    pub total: usize,
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
}

/// One audit result: `kind` and `target` with the single command's report flattened beside them.
/// The report must be exactly the contract of the command that `kind` names.
#[derive(Debug)]
pub struct AuditResultJson {
    pub kind: String,
    pub target: String,
    pub report: TargetJson,
}

#[derive(Debug)]
pub enum TargetJson {
    Bin(BinJson),
    Image(ImageJson),
    Taskdef(TaskdefJson),
    Iam(IamJson),
    Ecs(ServiceJson),
    Ecr(RepositoryJson),
    Endpoints(EndpointsJson),
}

impl<'de> Deserialize<'de> for AuditResultJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut m = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let mut take = |k: &str| match m.remove(k) {
            Some(serde_json::Value::String(s)) => Ok(s),
            other => Err(D::Error::custom(format!(
                "audit result: `{k}` must be a string, found {other:?}"
            ))),
        };
        let (kind, target) = (take("kind")?, take("target")?);
        let rest = serde_json::Value::Object(m);
        let e = |e: serde_json::Error| D::Error::custom(format!("audit result ({kind}): {e}"));
        let report = match kind.as_str() {
            "bin" => TargetJson::Bin(serde_json::from_value(rest).map_err(e)?),
            "image" => TargetJson::Image(serde_json::from_value(rest).map_err(e)?),
            "taskdef" => TargetJson::Taskdef(serde_json::from_value(rest).map_err(e)?),
            "iam" => TargetJson::Iam(serde_json::from_value(rest).map_err(e)?),
            "ecs" => TargetJson::Ecs(serde_json::from_value(rest).map_err(e)?),
            "ecr" => TargetJson::Ecr(serde_json::from_value(rest).map_err(e)?),
            "endpoints" => TargetJson::Endpoints(serde_json::from_value(rest).map_err(e)?),
            other => {
                return Err(D::Error::custom(format!(
                    "audit result: unknown kind `{other}`"
                )))
            }
        };
        Ok(AuditResultJson {
            kind,
            target,
            report,
        })
    }
}

impl AuditJson {
    /// The result for `target`; panics with the results' targets when there is none.
    pub fn result(&self, target: &str) -> &AuditResultJson {
        self.results
            .iter()
            .find(|r| r.target == target)
            .unwrap_or_else(|| {
                let all: Vec<&str> = self.results.iter().map(|r| r.target.as_str()).collect();
                panic!("no audit result for `{target}` among {all:?}")
            })
    }
}

impl AuditResultJson {
    pub fn verdict(&self) -> Verdict {
        match &self.report {
            TargetJson::Bin(r) => r.verdict,
            TargetJson::Taskdef(r) => r.verdict,
            TargetJson::Image(r) => r.verdict,
            TargetJson::Iam(r) => r.verdict,
            TargetJson::Ecs(r) => r.verdict,
            TargetJson::Ecr(r) => r.verdict,
            TargetJson::Endpoints(r) => r.verdict,
        }
    }
    pub fn codes(&self) -> Vec<&str> {
        match &self.report {
            TargetJson::Bin(r) => r.codes(),
            TargetJson::Taskdef(r) => r.codes(),
            TargetJson::Image(r) => r.codes(),
            TargetJson::Iam(r) => r.codes(),
            TargetJson::Ecs(r) => r.codes(),
            TargetJson::Ecr(r) => r.codes(),
            TargetJson::Endpoints(r) => r.codes(),
        }
    }
    pub fn ecr(&self) -> &RepositoryJson {
        match &self.report {
            TargetJson::Ecr(r) => r,
            r => panic!("expected an ecr result, got {r:?}"),
        }
    }
    pub fn ecs(&self) -> &ServiceJson {
        match &self.report {
            TargetJson::Ecs(r) => r,
            r => panic!("expected an ecs result, got {r:?}"),
        }
    }
    pub fn endpoints(&self) -> &EndpointsJson {
        match &self.report {
            TargetJson::Endpoints(r) => r,
            r => panic!("expected an endpoints result, got {r:?}"),
        }
    }
    pub fn bin(&self) -> &BinJson {
        match &self.report {
            TargetJson::Bin(r) => r,
            r => panic!("expected a bin result, got {r:?}"),
        }
    }
    pub fn image(&self) -> &ImageJson {
        match &self.report {
            TargetJson::Image(r) => r,
            r => panic!("expected an image result, got {r:?}"),
        }
    }
    pub fn taskdef(&self) -> &TaskdefJson {
        match &self.report {
            TargetJson::Taskdef(r) => r,
            r => panic!("expected a taskdef result, got {r:?}"),
        }
    }
}

// ---- check-iam (src/iam.rs IamReport) ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamJson {
    pub verdict: Verdict,
    pub reasons: Vec<CodeJson>,
    pub warnings: Vec<CodeJson>,
    pub files: Vec<String>,
    pub workflow: Workflow,
    #[serde(deserialize_with = "nullable")]
    pub repository: Option<String>,
    pub actions: Vec<ActionJson>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workflow {
    Pull,
    Push,
    BuildxPush,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionJson {
    pub action: String,
    pub status: ActionStatus,
    #[serde(deserialize_with = "nullable")]
    pub statement: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub resource: Option<String>,
    pub conditional: bool,
    pub why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionStatus {
    Granted,
    Missing,
    Denied,
    WrongResource,
}

impl IamJson {
    pub fn action(&self, name: &str) -> &ActionJson {
        self.actions
            .iter()
            .find(|a| a.action == name)
            .unwrap_or_else(|| panic!("{name} not among {:?}", self.actions))
    }
}

// ---- check-endpoints (src/endpoints.rs EndpointsReport) ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointsJson {
    pub verdict: Verdict,
    pub reasons: Vec<CodeJson>,
    pub warnings: Vec<CodeJson>,
    pub region: String,
    pub vpcs: Vec<VpcJson>,
    pub unchecked_vpcs: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpcJson {
    #[serde(deserialize_with = "nullable")]
    pub vpc_id: Option<String>,
    pub endpoints: Vec<EndpointJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointJson {
    pub service: String,
    pub required_type: EndpointType,
    pub status: EndpointStatus,
    #[serde(deserialize_with = "nullable")]
    pub endpoint_id: Option<String>,
    /// As the describe-vpc-endpoints file spells it.
    #[serde(deserialize_with = "nullable")]
    pub endpoint_type: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub state: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub private_dns: Option<bool>,
    pub security_groups: Vec<String>,
    pub why: String,
}

/// `required_type`: what the check requires, in AWS's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum EndpointType {
    Interface,
    Gateway,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndpointStatus {
    Ok,
    Missing,
    NotAvailable,
    PrivateDnsDisabled,
    #[serde(rename = "port-443-blocked")]
    Port443Blocked,
    PolicyDenied,
    Unverified,
}

impl EndpointsJson {
    /// The check of the service whose name ends with `.suffix` in `vpc`.
    pub fn endpoint(&self, vpc: &str, suffix: &str) -> &EndpointJson {
        let v = self
            .vpcs
            .iter()
            .find(|v| v.vpc_id.as_deref() == Some(vpc))
            .unwrap_or_else(|| panic!("{vpc} not in {:?}", self.vpcs));
        v.endpoints
            .iter()
            .find(|e| e.service.ends_with(&format!(".{suffix}")))
            .unwrap_or_else(|| panic!("{suffix} not in {v:?}"))
    }
}

// ---- keys list (src/keys_cmd.rs KeysReport, src/pgp.rs CertInfo and KeyInfo) ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysJson {
    pub verdict: Verdict,
    pub reasons: Vec<CodeJson>,
    pub warnings: Vec<CodeJson>,
    pub tools: Vec<ToolKeysJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolKeysJson {
    pub tool: String,
    #[serde(deserialize_with = "nullable")]
    pub description: Option<String>,
    pub platforms: Vec<String>,
    pub pins: Vec<CertJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertJson {
    pub fingerprint: String,
    pub source: String,
    pub user_ids: Vec<String>,
    pub valid: bool,
    #[serde(deserialize_with = "nullable")]
    pub problem: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub expires: Option<String>,
    pub sha1_self_signatures_accepted: bool,
    pub keys: Vec<KeyJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyJson {
    pub fingerprint: String,
    pub role: KeyRole,
    pub signing: bool,
    pub pinned: bool,
    pub valid: bool,
    #[serde(deserialize_with = "nullable")]
    pub expires: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    Primary,
    Subkey,
}

impl KeysJson {
    pub fn tool(&self, name: &str) -> &ToolKeysJson {
        self.tools
            .iter()
            .find(|t| t.tool == name)
            .unwrap_or_else(|| panic!("{name} not among {:?}", self.tools))
    }
}

// ---- running the binary ----

/// One run: exit code, stdout parsed as `T`, and both streams for messages.
pub struct Out<T> {
    pub code: i32,
    pub json: T,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd`, parses stdout as the contract `T`, and checks that the exit code is the one the
/// verdict documents.
pub fn run<T: for<'de> Deserialize<'de> + Verdicted>(mut cmd: assert_cmd::Command) -> Out<T> {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let json: T = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("stdout is not the JSON contract ({e}):\n{stdout}\nstderr:\n{stderr}")
    });
    let code = out.status.code().unwrap_or(-1);
    assert_eq!(
        code,
        json.verdict().exit_code(),
        "the exit code is the verdict's; stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    Out {
        code,
        json,
        stdout,
        stderr,
    }
}

impl<T> Out<T> {
    /// Asserts the exit code, with both streams on failure.
    pub fn exit(&self, code: i32) -> &T {
        assert_eq!(
            self.code, code,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        &self.json
    }
}
