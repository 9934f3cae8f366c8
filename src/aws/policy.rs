//! IAM identity policies and what they allow for ECR workflows (`check-iam`): does a policy let a
//! principal pull from or push to Amazon ECR, and does it grant more than that?
//!
//! Pure and offline: reads policy files (a bare policy document, `aws iam get-policy-version` output or
//! `aws iam get-role-policy` / `get-user-policy` output, with the document as an object or as the
//! URL-encoded string the API returns), evaluates the documented IAM rules that matter here (explicit Deny
//! wins, `NotAction` / `NotResource`, `*` and `?` wildcards, case-insensitive action names,
//! case-sensitive resource ARNs) and reports one status per required action.
//!
//! With an identity read live, its permissions boundary caps what its policies allow (an action must
//! be allowed by both, and a Deny in either wins), and "any repository" means any in the identity's
//! partition (`aws` for policy files).
//!
//! Not evaluated: `Condition` blocks (an Allow with a Condition counts as granted, a Deny with a Condition
//! does not count as a denial; both are reported as `not-evaluated` warnings), policy variables
//! (`${aws:username}`), SCPs, session policies and repository policies.

use crate::aws::iam::NamedDocument;
use crate::input;
use crate::input::StrList;
use crate::report::{verdict_of, Code, Reason, Verdict};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// What the principal is meant to do with ECR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Workflow {
    /// `docker pull` / ECS and Fargate image pulls.
    Pull,
    /// `docker push` of a single-platform image (AWS's documented push policy).
    Push,
    /// `docker buildx build --push` of a multi-platform image.
    BuildxPush,
}

impl Workflow {
    /// The name used on the command line (`--for`) and in JSON: `pull`, `push` or `buildx-push`.
    pub fn as_str(self) -> &'static str {
        match self {
            Workflow::Pull => "pull",
            Workflow::Push => "push",
            Workflow::BuildxPush => "buildx-push",
        }
    }

    /// The actions this workflow needs, in report order.
    pub fn required_actions(self) -> &'static [&'static str] {
        const PULL: &[&str] = &[
            "ecr:GetAuthorizationToken",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
        ];
        const PUSH: &[&str] = &[
            "ecr:GetAuthorizationToken",
            "ecr:BatchCheckLayerAvailability",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage",
            "ecr:BatchGetImage",
        ];
        const BUILDX: &[&str] = &[
            "ecr:GetAuthorizationToken",
            "ecr:BatchCheckLayerAvailability",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
        ];
        match self {
            Workflow::Pull => PULL,
            Workflow::Push => PUSH,
            Workflow::BuildxPush => BUILDX,
        }
    }
}

/// Why buildx-push needs `ecr:GetDownloadUrlForLayer` (shown in the report).
pub const BUILDX_LAYER_NOTE: &str = "docker buildx reads existing layers and manifests from the repository \
while it pushes a multi-platform index (cross-repository mounts, cache and index assembly); pushes have been \
reported to fail without ecr:GetDownloadUrlForLayer";

/// The action that is not scoped to a repository: IAM evaluates it against Resource `*`.
const AUTH_TOKEN: &str = "ecr:GetAuthorizationToken";

/// A glob that matches every ECR repository ARN of `partition`, in every region and account: the
/// repositories a principal of that partition can reach. Region and name are never empty and an
/// account is 12 characters, so a grant on `arn:aws:ecr::ACCOUNT:repository/app` (no region) or
/// `…:repository/` matches no repository.
fn any_repository(partition: &str) -> String {
    format!("arn:{partition}:ecr:?*:????????????:repository/?*")
}

/// ECR (private registry) actions from the AWS service authorization reference, with whether they are
/// read-only. Used to name the extra actions a wildcard or list grants.
const ECR_ACTIONS: &[(&str, bool)] = &[
    ("BatchCheckLayerAvailability", true),
    ("BatchDeleteImage", false),
    ("BatchGetImage", true),
    ("BatchGetRepositoryScanningConfiguration", true),
    ("BatchImportUpstreamImage", false),
    ("CompleteLayerUpload", false),
    ("CreatePullThroughCacheRule", false),
    ("CreateRepository", false),
    ("CreateRepositoryCreationTemplate", false),
    ("DeleteLifecyclePolicy", false),
    ("DeletePullThroughCacheRule", false),
    ("DeleteRegistryPolicy", false),
    ("DeleteRepository", false),
    ("DeleteRepositoryCreationTemplate", false),
    ("DeleteRepositoryPolicy", false),
    ("DescribeImageReplicationStatus", true),
    ("DescribeImageScanFindings", true),
    ("DescribeImages", true),
    ("DescribePullThroughCacheRules", true),
    ("DescribeRegistry", true),
    ("DescribeRepositories", true),
    ("DescribeRepositoryCreationTemplates", true),
    ("GetAccountSetting", true),
    ("GetAuthorizationToken", true),
    ("GetDownloadUrlForLayer", true),
    ("GetLifecyclePolicy", true),
    ("GetLifecyclePolicyPreview", true),
    ("GetRegistryPolicy", true),
    ("GetRegistryScanningConfiguration", true),
    ("GetRepositoryPolicy", true),
    ("InitiateLayerUpload", false),
    ("ListImages", true),
    ("ListTagsForResource", true),
    ("PutAccountSetting", false),
    ("PutImage", false),
    ("PutImageScanningConfiguration", false),
    ("PutImageTagMutability", false),
    ("PutLifecyclePolicy", false),
    ("PutRegistryPolicy", false),
    ("PutRegistryScanningConfiguration", false),
    ("PutReplicationConfiguration", false),
    ("ReplicateImage", false),
    ("SetRepositoryPolicy", false),
    ("StartImageScan", false),
    ("StartLifecyclePolicyPreview", false),
    ("TagResource", false),
    ("UntagResource", false),
    ("UpdatePullThroughCacheRule", false),
    ("UpdateRepositoryCreationTemplate", false),
    ("UploadLayerPart", false),
    ("ValidatePullThroughCacheRule", true),
];

/// What the user asked for, independent of how it was parsed.
#[derive(Debug, Clone)]
pub struct IamRequest {
    /// One or more policy files; their statements are evaluated together, as IAM does for all the
    /// policies attached to one principal.
    pub policies: Vec<PathBuf>,
    /// The workflow whose required ECR actions are checked (`--for`).
    pub workflow: Workflow,
    /// Repository ARN (`arn:aws:ecr:REGION:ACCOUNT:repository/NAME`) or repository URI
    /// (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`). `None`: any repository.
    pub repository: Option<String>,
    /// Policies read live from IAM (`--role`, `--user`), evaluated with the files.
    pub documents: Vec<NamedDocument>,
    /// The identity's permissions boundary, read live: it caps what the policies allow.
    pub boundary: Option<NamedDocument>,
    /// The identity the documents were read for (`role NAME`): with one, no policy at all is a
    /// failure (nothing is allowed), not a usage error.
    pub identity: Option<String>,
    /// The identity's partition, for "any repository" (default `aws`).
    pub partition: Option<String>,
}

impl IamRequest {
    /// A request for policy files (none yet read from IAM).
    pub fn new(policies: Vec<PathBuf>, workflow: Workflow, repository: Option<String>) -> Self {
        IamRequest {
            policies,
            workflow,
            repository,
            documents: Vec::new(),
            boundary: None,
            identity: None,
            partition: None,
        }
    }

    /// Adds what IAM holds for the identity `who` (`role NAME`): its policies, boundary and partition.
    pub fn set_identity(&mut self, who: &str, found: crate::aws::iam::IdentityPolicies) {
        self.identity = Some(who.to_string());
        self.documents = found.documents;
        self.boundary = found.boundary;
        self.partition = Some(found.partition);
    }
}

/// The JSON object `check-iam --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct IamReport {
    /// `pass`, `fail` or `error` (exit 0, 1, 2).
    pub verdict: Verdict,
    /// Why the check did not pass; empty on a pass.
    pub reasons: Vec<Reason>,
    /// Findings that never change the verdict (`broader-than-needed`, `not-evaluated`).
    pub warnings: Vec<Reason>,
    /// Each policy evaluated: the file path, or for policies read from IAM `inline:NAME` or the managed policy's ARN and version.
    pub files: Vec<String>,
    /// The workflow checked (`pull`, `push` or `buildx-push`).
    pub workflow: Workflow,
    /// The repository ARN evaluated, or `null` for "any repository".
    pub repository: Option<String>,
    /// One entry per action the workflow needs, in the workflow's order.
    pub actions: Vec<ActionCheck>,
}

/// The outcome for one required action.
#[derive(Debug, Clone, Serialize)]
pub struct ActionCheck {
    /// The required action, e.g. `ecr:BatchGetImage`.
    pub action: String,
    /// Whether the policies allow the action on the resource.
    pub status: ActionStatus,
    /// The statement that decided (its Sid, or `Statement[i]`), if any.
    pub statement: Option<String>,
    /// The resource pattern of that statement that matched (or did not).
    pub resource: Option<String>,
    /// Granted only under a Condition that shipcheck does not evaluate.
    pub conditional: bool,
    /// A sentence explaining the status.
    pub why: String,
}

/// Whether the policies allow one required action on the resource checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionStatus {
    /// An Allow statement covers the action on the resource, and no Deny does.
    Granted,
    /// No statement allows the action.
    Missing,
    /// An explicit Deny applies to the action on the resource.
    Denied,
    /// The action is allowed, but only on resources that do not match.
    WrongResource,
}

impl ActionStatus {
    /// The JSON and text form: `granted`, `missing`, `denied` or `wrong-resource`.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Granted => "granted",
            ActionStatus::Missing => "missing",
            ActionStatus::Denied => "denied",
            ActionStatus::WrongResource => "wrong-resource",
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Input shapes

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Deserialize)]
struct Statement {
    #[serde(rename = "Sid")]
    sid: Option<String>,
    #[serde(rename = "Effect")]
    effect: Effect,
    #[serde(rename = "Action")]
    action: Option<StrList>,
    #[serde(rename = "NotAction")]
    not_action: Option<StrList>,
    #[serde(rename = "Resource")]
    resource: Option<StrList>,
    #[serde(rename = "NotResource")]
    not_resource: Option<StrList>,
    #[serde(rename = "Condition")]
    condition: Option<serde_json::Value>,
    #[serde(rename = "Principal")]
    principal: Option<serde_json::Value>,
    #[serde(rename = "NotPrincipal")]
    not_principal: Option<serde_json::Value>,
}

/// `Statement`: one object or a list of them. The index is `None` for a single object.
#[derive(Debug)]
struct Statements(Vec<(Option<usize>, Statement)>);

impl<'de> Deserialize<'de> for Statements {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Statements;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a statement object or a list of statement objects")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Statements, A::Error> {
                let s = Statement::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Statements(vec![(None, s)]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Statements, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<Statement>()? {
                    v.push((Some(v.len()), s));
                }
                Ok(Statements(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
struct PolicyDoc {
    #[serde(rename = "Version")]
    version: Option<String>,
    #[serde(rename = "Statement")]
    statement: Statements,
}

/// A document embedded in CLI/API output: an object, or a (usually URL-encoded) JSON string.
#[derive(Debug)]
enum DocField {
    Text(String),
    Doc(PolicyDoc),
}

impl<'de> Deserialize<'de> for DocField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DocField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a policy document (an object, or a URL-encoded JSON string)")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<DocField, E> {
                Ok(DocField::Text(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DocField, A::Error> {
                Ok(DocField::Doc(PolicyDoc::deserialize(
                    de::value::MapAccessDeserializer::new(map),
                )?))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
struct PolicyVersionOut {
    #[serde(rename = "Document")]
    document: DocField,
}

/// Any of the accepted file shapes; AWS outputs carry more fields, which are ignored.
#[derive(Debug, Deserialize)]
struct PolicyFile {
    #[serde(rename = "Version")]
    version: Option<String>,
    #[serde(rename = "Statement")]
    statement: Option<Statements>,
    #[serde(rename = "PolicyVersion")]
    policy_version: Option<PolicyVersionOut>,
    #[serde(rename = "PolicyDocument")]
    policy_document: Option<DocField>,
}

/// A statement ready for evaluation.
#[derive(Debug, Clone)]
struct Stmt {
    label: String,
    allow: bool,
    /// Lower-cased action patterns.
    actions: Vec<String>,
    not_action: bool,
    resources: Vec<String>,
    not_resource: bool,
    conditional: bool,
    uses_variables: bool,
}

fn load_doc(source: &str, where_: &str, field: DocField) -> Result<PolicyDoc, Reason> {
    match field {
        DocField::Doc(d) => Ok(d),
        DocField::Text(t) => {
            let trimmed = t.trim();
            let (text, how) = if trimmed.starts_with('{') {
                (trimmed.to_string(), "JSON string")
            } else {
                let decoded = percent_encoding::percent_decode_str(trimmed)
                    .decode_utf8()
                    .map_err(|_| {
                        Reason::new(
                            Code::InvalidInput,
                            format!(
                                "{source}: at `{where_}`: the URL-encoded document is not UTF-8"
                            ),
                        )
                    })?;
                (decoded.into_owned(), "URL-decoded document")
            };
            input::parse_json::<PolicyDoc>(&format!("{source}: `{where_}` ({how})"), &text)
        }
    }
}

/// Reads one policy file into statements (labels prefixed with the file name when `prefix`).
fn load_policy(
    path: &std::path::Path,
    prefix: bool,
    warnings: &mut Vec<Reason>,
) -> Result<Vec<Stmt>, Reason> {
    let source = path.display().to_string();
    let file: PolicyFile = input::read_json(path)?;
    let shapes = [
        file.statement.is_some(),
        file.policy_version.is_some(),
        file.policy_document.is_some(),
    ];
    if shapes.iter().filter(|b| **b).count() != 1 {
        let what = if shapes.iter().any(|b| *b) {
            "holds more than one of `Statement`, `PolicyVersion` and `PolicyDocument`"
        } else {
            "holds no policy"
        };
        return Err(Reason::new(
            Code::InvalidInput,
            format!(
                "{source}: {what}: expected a policy document (with `Statement`), `aws iam get-policy-version` \
                 output (`PolicyVersion.Document`) or `aws iam get-role-policy` output (`PolicyDocument`)"
            ),
        )
        .hint("policy JSON keys are case-sensitive: `Statement`, `Effect`, `Action`, `Resource`"));
    }
    let doc = if let Some(st) = file.statement {
        PolicyDoc {
            version: file.version,
            statement: st,
        }
    } else if let Some(pv) = file.policy_version {
        load_doc(&source, "PolicyVersion.Document", pv.document)?
    } else if let Some(pd) = file.policy_document {
        load_doc(&source, "PolicyDocument", pd)?
    } else {
        unreachable!("one shape is present")
    };
    let fname = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    statements(&source, &fname, doc, prefix, warnings)
}

/// A policy read live from IAM (URL-encoded JSON, as the API returns it) into statements.
fn load_document(
    d: &NamedDocument,
    prefix: bool,
    warnings: &mut Vec<Reason>,
) -> Result<Vec<Stmt>, Reason> {
    let doc = load_doc(
        &d.name,
        "PolicyDocument",
        DocField::Text(d.document.clone()),
    )?;
    statements(&d.name, &d.name, doc, prefix, warnings)
}

/// The statements of one policy document, ready for evaluation (labels prefixed with `short` when
/// `prefix`: several policies are evaluated together).
fn statements(
    source: &str,
    short: &str,
    doc: PolicyDoc,
    prefix: bool,
    warnings: &mut Vec<Reason>,
) -> Result<Vec<Stmt>, Reason> {
    let mut out = Vec::new();
    for (idx, s) in doc.statement.0 {
        let mut label = match (&s.sid, idx) {
            (Some(sid), _) if !sid.is_empty() => sid.clone(),
            (_, Some(i)) => format!("Statement[{i}]"),
            (_, None) => "Statement".to_string(),
        };
        if prefix {
            label = format!("{short}:{label}");
        }
        let bad = |msg: &str| {
            Reason::new(
                Code::InvalidInput,
                format!("{source}: statement `{label}`: {msg}"),
            )
        };
        let (actions, not_action) = match (s.action, s.not_action) {
            (Some(a), None) => (a.0, false),
            (None, Some(n)) => (n.0, true),
            (Some(_), Some(_)) => return Err(bad("has both `Action` and `NotAction`")),
            (None, None) => return Err(bad("has neither `Action` nor `NotAction`")),
        };
        let (resources, not_resource) = match (s.resource, s.not_resource) {
            (Some(r), None) => (r.0, false),
            (None, Some(n)) => (n.0, true),
            (Some(_), Some(_)) => return Err(bad("has both `Resource` and `NotResource`")),
            (None, None) => {
                warnings.push(Reason::new(
                    Code::NotEvaluated,
                    format!(
                        "statement `{label}` has no `Resource`: it is not an identity-policy statement \
                         (repository policies are not evaluated) and is ignored"
                    ),
                ));
                continue;
            }
        };
        if s.principal.is_some() || s.not_principal.is_some() {
            warnings.push(Reason::new(
                Code::NotEvaluated,
                format!(
                    "statement `{label}` names a Principal: it looks like a resource-based policy; check-iam \
                     evaluates identity policies and ignores the Principal"
                ),
            ));
        }
        let uses_variables = resources.iter().any(|r| r.contains("${"));
        if uses_variables {
            let v = doc.version.as_deref().unwrap_or("2008-10-17 (no Version)");
            warnings.push(Reason::new(
                Code::NotEvaluated,
                format!(
                    "statement `{label}` uses a policy variable in its resources; shipcheck does not \
                     substitute it: an Allow through it is not counted, a Deny through it is (policy Version {v})"
                ),
            ));
        }
        out.push(Stmt {
            label,
            allow: s.effect == Effect::Allow,
            actions: actions.iter().map(|a| a.to_ascii_lowercase()).collect(),
            not_action,
            resources,
            not_resource,
            conditional: s.condition.as_ref().is_some_and(has_condition),
            uses_variables,
        });
    }
    Ok(out)
}

/// Whether a `Condition` block tests anything: `null`, `{}` and operators with no keys
/// (`{"StringEquals": {}}`) test nothing, so the statement applies unconditionally (a Deny with
/// such a block denies).
pub(crate) fn has_condition(c: &serde_json::Value) -> bool {
    match c {
        serde_json::Value::Null => false,
        serde_json::Value::Object(ops) => ops.values().any(|keys| match keys {
            serde_json::Value::Object(k) => !k.is_empty(),
            serde_json::Value::Null => false,
            _ => true,
        }),
        _ => true,
    }
}

// ---------------------------------------------------------------------------------------------------
// Matching

/// Glob match where `single(pattern_char, text_char)` decides single-character matches and `*` in the
/// pattern matches any sequence.
fn glob_with(p: &[char], s: &[char], single: impl Fn(char, char) -> bool) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<usize> = None;
    let mut mark = 0usize;
    while si < s.len() {
        if pi < p.len() && p[pi] != '*' && single(p[pi], s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// IAM wildcard match: `*` any sequence, `?` any one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = text.chars().collect();
    glob_with(&p, &s, |pc, sc| pc == '?' || pc == sc)
}

/// Whether every string `inner` matches is matched by `outer` (a sound, not complete, check: `inner`'s
/// wildcards must be absorbed by `*` in `outer`, or `?` by `?`).
pub fn glob_covers(outer: &str, inner: &str) -> bool {
    let p: Vec<char> = outer.chars().collect();
    let s: Vec<char> = inner.chars().collect();
    glob_with(&p, &s, |pc, sc| {
        sc != '*' && (pc == '?' || (pc == sc && sc != '?'))
    })
}

/// Whether some string matches both globs.
pub fn globs_intersect(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut seen = vec![false; (a.len() + 1) * (b.len() + 1)];
    let mut todo = vec![(0usize, 0usize)];
    while let Some((i, j)) = todo.pop() {
        let k = i * (b.len() + 1) + j;
        if seen[k] {
            continue;
        }
        seen[k] = true;
        if i == a.len() && j == b.len() {
            return true;
        }
        let (ai, bj) = (a.get(i).copied(), b.get(j).copied());
        if ai == Some('*') {
            todo.push((i + 1, j));
        }
        if bj == Some('*') {
            todo.push((i, j + 1));
        }
        // Consume one character on both sides.
        if let (Some(x), Some(y)) = (ai, bj) {
            let ni = if x == '*' { i } else { i + 1 };
            let nj = if y == '*' { j } else { j + 1 };
            let lit = |c: char| c != '*' && c != '?';
            let compatible = !(lit(x) && lit(y)) || x == y;
            if compatible && (ni, nj) != (i, j) {
                todo.push((ni, nj));
            }
        }
    }
    false
}

/// Splits an ARN pattern into its six segments (the last one may hold colons); `None` when it has fewer.
fn arn_segments(p: &str) -> Option<Vec<&str>> {
    let v: Vec<&str> = p.splitn(6, ':').collect();
    (v.len() == 6).then_some(v)
}

/// Applies a glob relation segment by segment when both sides are full ARNs (IAM does not let `*` in
/// the region or account cross a `:`), else to the whole strings.
fn arn_rel(a: &str, b: &str, rel: fn(&str, &str) -> bool) -> bool {
    match (arn_segments(a), arn_segments(b)) {
        (Some(x), Some(y)) => x.iter().zip(&y).all(|(p, q)| rel(p, q)),
        _ => rel(a, b),
    }
}

fn arn_match(p: &str, arn: &str) -> bool {
    arn_rel(p, arn, glob_match)
}

fn arn_intersect(a: &str, b: &str) -> bool {
    arn_rel(a, b, globs_intersect)
}

fn arn_covers(outer: &str, inner: &str) -> bool {
    arn_rel(outer, inner, glob_covers)
}

fn action_matches(patterns: &[String], action_lc: &str) -> Option<String> {
    patterns.iter().find(|p| glob_match(p, action_lc)).cloned()
}

impl Stmt {
    /// Whether the statement covers the action (taking NotAction into account).
    fn covers_action(&self, action_lc: &str) -> bool {
        let m = action_matches(&self.actions, action_lc).is_some();
        m != self.not_action
    }
}

/// The resource an action is evaluated against.
#[derive(Debug, Clone)]
enum Target {
    /// A concrete ARN, or `*` for actions that are not resource-scoped.
    Exact(String),
    /// Some ECR repository ARN (no `--repository`): the glob of every repository of the partition.
    AnyRepository(String),
}

/// Which resource pattern of the statement applies to the target, as text for the report; `None` when
/// the statement does not apply to it.
fn applies_to(s: &Stmt, t: &Target) -> Option<String> {
    if s.not_resource {
        let excluded = s.resources.iter().any(|p| {
            // A policy variable may make an exclusion cover the target: for an Allow, it is taken to
            // (the Allow is not counted); for a Deny, matched literally it never does (the Deny counts).
            let p = if s.allow {
                variables_as_wildcards(p)
            } else {
                p.clone()
            };
            match t {
                Target::Exact(arn) => arn_match(&p, arn),
                Target::AnyRepository(any) => arn_covers(&p, any),
            }
        });
        if excluded {
            None
        } else {
            Some(resource_text(s))
        }
    } else {
        s.resources
            .iter()
            .find(|p| {
                if s.allow && p.contains("${") {
                    return false;
                }
                let p = variables_as_wildcards(p);
                match t {
                    Target::Exact(arn) => arn_match(&p, arn),
                    Target::AnyRepository(any) => arn_intersect(&p, any),
                }
            })
            .cloned()
    }
}

/// A statement's resources as reports show them (`NotResource ...` for an exclusion).
fn resource_text(s: &Stmt) -> String {
    if s.not_resource {
        format!("NotResource {}", s.resources.join(", "))
    } else {
        s.resources.join(", ")
    }
}

/// `${...}` policy variables become `*` (used where that makes the verdict conservative: a Deny's
/// resources, an Allow's exclusions).
fn variables_as_wildcards(p: &str) -> String {
    let mut out = String::new();
    let mut rest = p;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push('*');
                rest = &rest[start + end + 1..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// In "any repository" mode (`any`: every repository of the partition): whether the Deny statement
/// `d` removes the grant made through pattern `a`.
fn deny_kills(d: &Stmt, a: &str, any: &str) -> bool {
    if d.not_resource {
        !d.resources
            .iter()
            .any(|nr| arn_intersect(nr, a) && arn_intersect(nr, any))
    } else {
        d.resources.iter().any(|p| {
            let p = variables_as_wildcards(p);
            arn_covers(&p, a) || arn_covers(&p, any)
        })
    }
}

const NAME_RULE: &str =
    "not an ECR repository name (2 to 256 characters: lowercase letters and digits, \
components separated by `/`, each joined by single `.`, `_` or `-`)";

/// Whether `name` is an ECR repository name: `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`,
/// 2 to 256 characters (a trailing `/`, say, names no repository, and matched against policies it
/// could dodge a Deny written for the real name).
fn valid_repository_name(name: &str) -> bool {
    let component = |c: &str| {
        !c.is_empty()
            && c.split(['.', '_', '-']).all(|run| {
                !run.is_empty()
                    && run
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
    };
    (2..=256).contains(&name.len()) && name.split('/').all(component)
}

/// Parses `--repository`: an ECR repository ARN, or a repository URI
/// (`ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]/NAME[:TAG|@DIGEST]`) turned into its ARN.
pub fn parse_repository(s: &str) -> Result<String, Reason> {
    let usage = |why: &str| {
        Reason::new(Code::Usage, format!("--repository `{s}`: {why}")).hint(
            "give an ARN like arn:aws:ecr:us-east-1:123456789012:repository/app (no wildcards)",
        )
    };
    if s.contains('*') || s.contains('?') {
        return Err(usage("wildcards are not accepted; name one repository"));
    }
    if s.starts_with("arn:") {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        if parts.len() != 6 {
            return Err(usage(
                "not an ARN of the form arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME",
            ));
        }
        if !parts[1].starts_with("aws") || parts[2] != "ecr" {
            return Err(usage("not an ECR ARN (expected arn:aws:ecr:...)"));
        }
        if !real_region(parts[3]) {
            return Err(usage("the region is not a Region name (such as us-east-1)"));
        }
        if !real_account(parts[4]) {
            return Err(usage("the account must be 12 digits"));
        }
        match parts[5].strip_prefix("repository/") {
            Some(name) if valid_repository_name(name) => Ok(s.to_string()),
            Some(name) if !name.is_empty() => Err(usage(NAME_RULE)),
            _ => Err(usage("the resource must be repository/NAME")),
        }
    } else {
        let (host, path) = s
            .split_once('/')
            .ok_or_else(|| usage("not an ARN or a repository URI"))?;
        let labels: Vec<&str> = host.split('.').collect();
        let is_ecr = labels.len() >= 6
            && labels[1] == "dkr"
            && (labels[2] == "ecr" || labels[2] == "ecr-fips")
            && labels[4] == "amazonaws";
        if !is_ecr || !real_account(labels[0]) {
            return Err(usage(
                "not an ARN or an ECR repository URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME)",
            ));
        }
        let region = labels[3];
        if !real_region(region) {
            return Err(usage("the region is not a Region name (such as us-east-1)"));
        }
        let partition = if host.ends_with(".amazonaws.com.cn") {
            "aws-cn"
        } else if region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        };
        let name = path.split('@').next().unwrap_or(path);
        let name = match name.rsplit_once(':') {
            Some((n, _tag)) => n,
            None => name,
        };
        if name.is_empty() {
            return Err(usage("the repository name is empty"));
        }
        if !valid_repository_name(name) {
            return Err(usage(NAME_RULE));
        }
        Ok(format!(
            "arn:{partition}:ecr:{region}:{}:repository/{name}",
            labels[0]
        ))
    }
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

// Long: IAM's evaluation order for one action (explicit Deny, Allow, NotAction / NotResource, conditions, variables) in one place, so it reads as the documented rules.
fn evaluate(action: &str, stmts: &[Stmt], target: &Target) -> ActionCheck {
    let lc = action.to_ascii_lowercase();
    let relevant: Vec<&Stmt> = stmts.iter().filter(|s| s.covers_action(&lc)).collect();
    let check = |status, st: Option<&Stmt>, res: Option<String>, why: String| ActionCheck {
        action: action.to_string(),
        status,
        statement: st.map(|s| s.label.clone()),
        resource: res,
        conditional: false,
        why,
    };
    let target_text = match target {
        Target::Exact(t) if t == "*" => "\"*\"".to_string(),
        Target::Exact(t) => t.clone(),
        Target::AnyRepository(any) => format!("any repository ({any})"),
    };
    // Allows that apply (unconditional first).
    let mut allows: Vec<(&Stmt, String)> = relevant
        .iter()
        .filter(|s| s.allow)
        .filter_map(|s| applies_to(s, target).map(|r| (*s, r)))
        .collect();
    allows.sort_by_key(|(s, _)| s.conditional);
    let denies: Vec<&Stmt> = relevant
        .iter()
        .filter(|s| !s.allow && !s.conditional)
        .copied()
        .collect();

    // Explicit deny.
    let denial: Option<(&Stmt, String)> = match target {
        Target::Exact(_) => denies
            .iter()
            .find_map(|d| applies_to(d, target).map(|r| (*d, r))),
        Target::AnyRepository(any) => {
            // Denied everywhere, or every grant is removed by some Deny.
            let everywhere = denies.iter().find(|d| deny_kills(d, any, any));
            let grant = |s: &Stmt, r: &str| {
                if s.not_resource {
                    any.clone()
                } else {
                    variables_as_wildcards(r)
                }
            };
            let killer = |s: &Stmt, a: &str| {
                let g = grant(s, a);
                denies.iter().find(|d| deny_kills(d, &g, any)).copied()
            };
            let all_killed =
                !allows.is_empty() && allows.iter().all(|(s, a)| killer(s, a).is_some());
            everywhere
                .copied()
                .or_else(|| {
                    if all_killed {
                        killer(allows[0].0, &allows[0].1)
                    } else {
                        None
                    }
                })
                .map(|d| (d, resource_text(d)))
        }
    };
    if let Some((d, res)) = denial {
        return check(
            ActionStatus::Denied,
            Some(d),
            Some(res.clone()),
            format!(
                "explicitly denied on {target_text} by statement `{}` (Deny, resource {res}); an explicit Deny overrides every Allow",
                d.label
            ),
        );
    }
    if let Some((s, res)) = allows.first() {
        let mut c = check(
            ActionStatus::Granted,
            Some(s),
            Some(res.clone()),
            format!(
                "allowed on {target_text} by statement `{}` (resource {res})",
                s.label
            ),
        );
        if s.conditional {
            c.conditional = true;
            c.why
                .push_str(", only when its Condition holds (not evaluated)");
        }
        return c;
    }
    // An Allow for the action on other resources only.
    if let Some(s) = relevant.iter().find(|s| s.allow) {
        let res = resource_text(s);
        let why = if action == AUTH_TOKEN {
            format!(
                "statement `{}` allows it only on {res}; ecr:GetAuthorizationToken is not scoped to a \
                 repository and must be granted on Resource \"*\"",
                s.label
            )
        } else if s.uses_variables {
            format!(
                "statement `{}` allows it only through a policy variable ({res}), which shipcheck does not substitute",
                s.label
            )
        } else {
            format!(
                "statement `{}` allows it only on {res}, which does not match {target_text}",
                s.label
            )
        };
        return check(ActionStatus::WrongResource, Some(s), Some(res), why);
    }
    check(
        ActionStatus::Missing,
        None,
        None,
        "no statement allows it".to_string(),
    )
}

/// The identity policies' verdict `c` for one action, capped by the permissions boundary's verdict
/// `b` (named `name`): IAM allows an action only when both allow it, and a Deny in either wins.
fn capped(mut c: ActionCheck, b: ActionCheck, name: &str) -> ActionCheck {
    if c.status != ActionStatus::Granted {
        return c;
    }
    let granted_by = c.statement.clone().unwrap_or_default();
    let refused = |mut c: ActionCheck, status, why: String| {
        c.status = status;
        c.why = why;
        c.statement = b.statement.clone().or_else(|| Some(name.to_string()));
        c.resource = b.resource.clone();
        c.conditional = false;
        c
    };
    match b.status {
        ActionStatus::Denied => refused(
            c,
            ActionStatus::Denied,
            format!("statement `{granted_by}` allows it, but the permissions boundary {name} denies it: {}", b.why),
        ),
        ActionStatus::Missing | ActionStatus::WrongResource => refused(
            c,
            ActionStatus::Missing,
            format!("statement `{granted_by}` allows it, but the permissions boundary {name} does not ({}); a boundary caps what the identity's policies grant", b.why),
        ),
        ActionStatus::Granted => {
            // Without --repository, whether the two overlap is judged with the other actions
            // (`one_repository`).
            if b.conditional {
                c.conditional = true;
                c.why.push_str(&format!(
                    "; the permissions boundary {name} allows it only when its Condition holds (not evaluated)"
                ));
            }
            c
        }
    }
}

/// Without `--repository`: the workflow needs one repository on which every repository action is
/// allowed (by the policies and, when there is one, by the boundary) and not denied. Each action
/// was judged against "some repository" on its own; here candidate repositories are tried as if
/// given with `--repository`, exactly: one for each resource pattern the statements name (its
/// wildcards filled in) and one that no specific pattern names. `None` when one candidate has every
/// action; else the first action that fails on the candidate with the most, and why.
fn one_repository(
    actions: &[ActionCheck],
    identity: &[Stmt],
    boundary: Option<&[Stmt]>,
    any: &str,
) -> Option<(usize, String)> {
    let needed: Vec<usize> = (0..actions.len())
        .filter(|&i| actions[i].status == ActionStatus::Granted && actions[i].action != AUTH_TOKEN)
        .collect();
    if needed.is_empty() {
        return None;
    }
    let statements = identity.iter().chain(boundary.into_iter().flatten());
    let mut patterns: Vec<String> = statements
        .flat_map(|s| s.resources.iter())
        .map(|p| variables_as_wildcards(p))
        .collect();
    patterns.push(any.to_string());
    patterns.sort();
    patterns.dedup();
    let mut candidates = witnesses(&patterns, any);
    candidates.sort();
    candidates.dedup();
    let mut best: Option<(usize, usize, String)> = None;
    for w in &candidates {
        let target = Target::Exact(w.clone());
        let mut granted = 0;
        let mut first_refused = None;
        for &i in &needed {
            let action = &actions[i].action;
            let mine = evaluate(action, identity, &target);
            let theirs = boundary.map(|b| evaluate(action, b, &target));
            let why = if mine.status != ActionStatus::Granted {
                Some(mine.why)
            } else {
                match theirs {
                    Some(b) if b.status != ActionStatus::Granted => {
                        Some(format!("the permissions boundary: {}", b.why))
                    }
                    _ => None,
                }
            };
            match why {
                None => granted += 1,
                Some(why) => {
                    first_refused.get_or_insert((i, why));
                }
            }
        }
        // Every action granted on this candidate: the workflow has its repository.
        let (i, why) = first_refused?;
        if best.as_ref().is_none_or(|(g, _, _)| granted > *g) {
            best = Some((granted, i, format!("on {w}, {why}")));
        }
    }
    best.map(|(_, i, why)| {
        (
            i,
            format!(
                "no repository is allowed every action of the workflow; where most are ({why})"
            ),
        )
    })
}

/// Real Region names candidate repositories are placed in when a pattern's region is a wildcard.
const REGIONS: &[&str] = &[
    "us-east-1",
    "eu-west-1",
    "ap-southeast-2",
    "ca-central-1",
    "sa-east-1",
    "me-south-1",
    "af-south-1",
    "il-central-1",
    "mx-central-1",
    "us-gov-west-1",
    "cn-north-1",
];

/// Whether `a` is an AWS account ID: 12 digits.
fn real_account(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `r` is shaped like an AWS Region name (`us-east-1`, `us-gov-west-1`): a resource in any
/// other "region" (`us-east1`, `US-EAST-1`) names no repository.
fn real_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// At most this many candidate repositories are tried (a policy of a hundred patterns gives about
/// 10,000; the first this many are kept).
const MAX_WITNESSES: usize = 4096;

/// Candidate repository ARNs for "some repository": each pattern with its wildcards filled in
/// several ways (`*` as nothing, `x`, `x-x`, or any other pattern's name filled in with `x`, so
/// that `team-*` and `*-prod` meet in `team-x-prod`; `?` as `x` or `0`), keeping only real
/// repository ARNs: `any`'s shape, a 12-digit account and an ECR repository name.
fn witnesses(patterns: &[String], any: &str) -> Vec<String> {
    let name_of = |p: &str| -> Option<String> {
        let seg = arn_segments(p)?;
        Some(
            seg[5]
                .strip_prefix("repository/")
                .unwrap_or(seg[5])
                .to_string(),
        )
    };
    let mut star_fills: Vec<String> = vec![String::new(), "x".into(), "x-x".into()];
    star_fills.extend(
        patterns
            .iter()
            .filter_map(|p| name_of(p))
            .map(|n| n.replace(['*', '?'], "x")),
    );
    star_fills.sort();
    star_fills.dedup();
    let mut out = Vec::new();
    for p in patterns {
        let Some(seg) = arn_segments(p).or_else(|| (p == "*").then(|| arn_segments(any))?) else {
            continue;
        };
        // Regions and accounts: the pattern's own, or for a wildcard two real ones it matches.
        let pick = |pattern: &str, known: &[&str]| -> Vec<String> {
            if !pattern.contains(['*', '?']) {
                return vec![pattern.to_string()];
            }
            known
                .iter()
                .filter(|k| glob_match(pattern, k))
                .take(2)
                .map(|k| k.to_string())
                .collect()
        };
        let regions = pick(seg[3], REGIONS);
        let accounts = pick(seg[4], &["000000000000", "123456789012"]);
        let partition = if seg[1].contains(['*', '?']) {
            any.split(':').nth(1).unwrap_or("aws")
        } else {
            seg[1]
        };
        let service = if seg[2].contains(['*', '?']) {
            "ecr"
        } else {
            seg[2]
        };
        let name_pattern = seg[5].strip_prefix("repository/").unwrap_or(seg[5]);
        for star in &star_fills {
            for q in ["x", "0"] {
                let name = if name_pattern == "*" {
                    "shipcheck-witness".to_string()
                } else {
                    name_pattern.replace('*', star).replace('?', q)
                };
                if !valid_repository_name(&name) {
                    continue;
                }
                for region in regions.iter().filter(|r| real_region(r)) {
                    for account in accounts.iter().filter(|a| real_account(a)) {
                        let w = format!(
                            "arn:{partition}:{service}:{region}:{account}:repository/{name}"
                        );
                        if glob_match(any, &w) {
                            out.push(w);
                        }
                        if out.len() >= MAX_WITNESSES {
                            return out;
                        }
                    }
                }
            }
        }
    }
    out
}

/// Least-privilege warnings for one Allow statement.
// Long: one check per kind of breadth (wildcard actions, NotAction, resource wildcards, write actions not needed), each a few lines.
fn breadth_warnings(s: &Stmt, workflow: Workflow, repository: Option<&str>, out: &mut Vec<Reason>) {
    let required: Vec<String> = workflow
        .required_actions()
        .iter()
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let label = &s.label;
    let mut wildcard = false;
    if s.not_action {
        wildcard = true;
        out.push(
            Reason::new(
                Code::BroaderThanNeeded,
                format!(
                    "statement `{label}` allows every action except {} (Allow with NotAction)",
                    s.actions.join(", ")
                ),
            )
            .hint("list the actions the workflow needs in `Action` instead"),
        );
    } else if s.actions.iter().any(|a| a == "*") {
        wildcard = true;
        out.push(Reason::new(
            Code::BroaderThanNeeded,
            format!("statement `{label}` allows every action of every service (\"*\")"),
        ));
    } else if s.actions.iter().any(|a| a == "ecr:*") {
        wildcard = true;
        out.push(Reason::new(
            Code::BroaderThanNeeded,
            format!(
                "statement `{label}` allows every ECR action (\"ecr:*\"), including deleting repositories and images and changing repository policies"
            ),
        ));
    }
    if !wildcard {
        let extra: Vec<&str> = ECR_ACTIONS
            .iter()
            .filter(|(_, read)| !read)
            .map(|(n, _)| *n)
            .filter(|n| {
                let lc = format!("ecr:{}", n.to_ascii_lowercase());
                !required.contains(&lc) && s.covers_action(&lc)
            })
            .collect();
        if !extra.is_empty() {
            out.push(Reason::new(
                Code::BroaderThanNeeded,
                format!(
                    "statement `{label}` allows write actions a {} workflow does not need: {}",
                    workflow.as_str(),
                    extra
                        .iter()
                        .map(|n| format!("ecr:{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    // Repository actions granted on more resources than needed.
    if s.not_resource {
        return;
    }
    let repo_actions: Vec<&str> = workflow
        .required_actions()
        .iter()
        .copied()
        .filter(|a| *a != AUTH_TOKEN && s.covers_action(&a.to_ascii_lowercase()))
        .collect();
    if repo_actions.is_empty() {
        return;
    }
    for p in &s.resources {
        let broad = if p == "*" {
            Some("all resources (\"*\")".to_string())
        } else if let Some(arn) = repository {
            if (p.contains('*') || p.contains('?')) && arn_match(p, arn) {
                Some(format!("`{p}`, which matches more repositories than {arn}"))
            } else {
                None
            }
        } else {
            None
        };
        if let Some(what) = broad {
            let scope = repository.unwrap_or("arn:aws:ecr:REGION:ACCOUNT:repository/NAME");
            out.push(
                Reason::new(
                    Code::BroaderThanNeeded,
                    format!(
                        "statement `{label}` grants {} on {what}",
                        repo_actions.join(", ")
                    ),
                )
                .hint(format!(
                    "scope repository actions to {scope}; only ecr:GetAuthorizationToken needs \"*\""
                )),
            );
            break;
        }
    }
}

/// Runs the check. Pure: reads the policy files, no network.
// Long: reads every file and identity document, then evaluates each required action and the breadth of each statement; the steps share the parsed statements and the report.
pub fn run(req: &IamRequest) -> IamReport {
    let mut report = IamReport {
        verdict: Verdict::Error,
        reasons: Vec::new(),
        warnings: Vec::new(),
        files: req
            .policies
            .iter()
            .map(|p| p.display().to_string())
            .chain(req.documents.iter().map(|d| d.name.clone()))
            .chain(req.boundary.iter().map(|d| d.name.clone()))
            .collect(),
        workflow: req.workflow,
        repository: None,
        actions: Vec::new(),
    };
    let fail = |mut report: IamReport, r: Reason| {
        report.reasons.push(r);
        report.verdict = verdict_of(&report.reasons);
        report
    };
    if req.policies.is_empty() && req.documents.is_empty() && req.identity.is_none() {
        return fail(
            report,
            Reason::new(
                Code::Usage,
                "give at least one policy file, or --role / --user to read them from IAM",
            ),
        );
    }
    if let Some(r) = &req.repository {
        match parse_repository(r) {
            Ok(arn) => report.repository = Some(arn),
            Err(e) => return fail(report, e),
        }
    }
    let mut stmts = Vec::new();
    let prefix = req.policies.len() + req.documents.len() > 1;
    for p in &req.policies {
        match load_policy(p, prefix, &mut report.warnings) {
            Ok(s) => stmts.extend(s),
            Err(e) => return fail(report, e),
        }
    }
    for d in &req.documents {
        match load_document(d, prefix, &mut report.warnings) {
            Ok(s) => stmts.extend(s),
            Err(e) => return fail(report, e),
        }
    }
    let boundary = match &req.boundary {
        Some(d) => match load_document(d, true, &mut report.warnings) {
            Ok(s) => Some(s),
            Err(e) => return fail(report, e),
        },
        None => None,
    };
    let any = any_repository(req.partition.as_deref().unwrap_or("aws"));
    // A Deny in the boundary is an explicit Deny like any other.
    let identity: Vec<Stmt> = stmts
        .iter()
        .chain(boundary.iter().flatten().filter(|s| !s.allow))
        .cloned()
        .collect();
    let repo_target = match &report.repository {
        Some(arn) => Target::Exact(arn.clone()),
        None => Target::AnyRepository(any.clone()),
    };
    for action in req.workflow.required_actions() {
        let target = if *action == AUTH_TOKEN {
            Target::Exact("*".into())
        } else {
            repo_target.clone()
        };
        let mut c = evaluate(action, &identity, &target);
        if let (Some(b), Some(name)) = (&boundary, req.boundary.as_ref().map(|d| &d.name)) {
            c = capped(c, evaluate(action, b, &target), name);
        }
        if req.workflow == Workflow::BuildxPush && *action == "ecr:GetDownloadUrlForLayer" {
            c.why
                .push_str(&format!(" (needed because {BUILDX_LAYER_NOTE})"));
        }
        // The boundary decided: its statement labels carry its name.
        let by_boundary = c
            .statement
            .as_deref()
            .is_some_and(|s| s.starts_with("boundary:"));
        let reason = match c.status {
            ActionStatus::Granted => None,
            ActionStatus::Missing => Some(
                Reason::new(
                    Code::MissingPermission,
                    format!("{} is not allowed: {}", c.action, c.why),
                )
                .hint(if by_boundary {
                    "allow it in the permissions boundary too (or remove the boundary)".to_string()
                } else if *action == AUTH_TOKEN {
                    "add it to an Allow statement with Resource \"*\"".to_string()
                } else {
                    format!(
                        "add it to an Allow statement with Resource {}",
                        report
                            .repository
                            .as_deref()
                            .unwrap_or("arn:aws:ecr:REGION:ACCOUNT:repository/NAME")
                    )
                }),
            ),
            ActionStatus::Denied => Some(
                Reason::new(
                    Code::DeniedPermission,
                    format!("{} is denied: {}", c.action, c.why),
                )
                .hint(if by_boundary {
                    "narrow the Deny statement of the permissions boundary, or exclude this action or resource from it"
                } else {
                    "narrow the Deny statement, or exclude this action or resource from it"
                }),
            ),
            ActionStatus::WrongResource => Some(
                Reason::new(
                    Code::WrongResource,
                    format!("{} is allowed on the wrong resource: {}", c.action, c.why),
                )
                .hint(if *action == AUTH_TOKEN {
                    "grant ecr:GetAuthorizationToken in its own statement with Resource \"*\""
                        .to_string()
                } else {
                    format!(
                        "make the statement's Resource match {}",
                        report.repository.as_deref().unwrap_or("the repository ARN")
                    )
                }),
            ),
        };
        report.reasons.extend(reason);
        report.actions.push(c);
    }
    if let Target::AnyRepository(any) = &repo_target {
        if let Some((i, why)) = one_repository(&report.actions, &identity, boundary.as_deref(), any)
        {
            let c = &mut report.actions[i];
            c.status = ActionStatus::WrongResource;
            c.why = why;
            report.reasons.push(
                Reason::new(
                    Code::WrongResource,
                    format!("{} is allowed on the wrong resource: {}", c.action, c.why),
                )
                .hint("grant every action of the workflow on the same repositories (give --repository ARN to check one)"),
            );
        }
    }
    // Conditions: one warning per statement that matters to the workflow (the boundary's too).
    for s in stmts.iter().chain(boundary.iter().flatten()) {
        if !s.conditional {
            continue;
        }
        let touched: Vec<&str> = req
            .workflow
            .required_actions()
            .iter()
            .copied()
            .filter(|a| s.covers_action(&a.to_ascii_lowercase()))
            .collect();
        if touched.is_empty() {
            continue;
        }
        let msg = if s.allow {
            format!(
                "statement `{}` has a Condition that shipcheck does not evaluate; it is counted as allowing {} (true only when the condition holds)",
                s.label,
                touched.join(", ")
            )
        } else {
            format!(
                "statement `{}` denies {} under a Condition that shipcheck does not evaluate; it is not counted (when the condition holds, these actions are denied)",
                s.label,
                touched.join(", ")
            )
        };
        report.warnings.push(Reason::new(Code::NotEvaluated, msg));
    }
    // Partial denials in "any repository" mode.
    if report.repository.is_none() {
        for c in report
            .actions
            .iter()
            .filter(|c| c.status == ActionStatus::Granted)
        {
            if c.action == AUTH_TOKEN {
                continue;
            }
            let lc = c.action.to_ascii_lowercase();
            for d in stmts
                .iter()
                .chain(boundary.iter().flatten())
                .filter(|d| !d.allow && !d.conditional && d.covers_action(&lc))
            {
                if applies_to(d, &repo_target).is_some() {
                    report.warnings.push(Reason::new(
                        Code::NotEvaluated,
                        format!(
                            "statement `{}` denies {} on some repositories; give --repository ARN to check a specific one",
                            d.label, c.action
                        ),
                    ));
                }
            }
        }
    }
    for s in stmts.iter().filter(|s| s.allow) {
        breadth_warnings(
            s,
            req.workflow,
            report.repository.as_deref(),
            &mut report.warnings,
        );
    }
    report.verdict = verdict_of(&report.reasons);
    report
}

impl IamReport {
    /// A report for a request that could not start (the identity's policies could not be read).
    pub fn failed(req: &IamRequest, r: Reason) -> IamReport {
        IamReport {
            verdict: verdict_of(std::slice::from_ref(&r)),
            reasons: vec![r],
            warnings: Vec::new(),
            files: Vec::new(),
            workflow: req.workflow,
            repository: req.repository.clone(),
            actions: Vec::new(),
        }
    }
}
