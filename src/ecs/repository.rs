//! ECR repositories read live: the repositories whose names match an `[[ecr]]` target's patterns,
//! their images listed with `DescribeImages`, and each tag that matches the target's tag patterns
//! verified as `verify-image` verifies it, against the registry (native ECR authentication), with
//! the digest ECR lists for the tag cross-checked against the bytes served. One report per
//! repository, with its tag mutability setting.

use crate::aws::ecr::{Ecr, Repository};
use crate::net::Http;
use crate::oci::auth::CredentialSources;
use crate::oci::cache::ContentCache;
use crate::oci::verify::{self, ImageReport, ImageRequest};
use crate::report::{prefixed, verdict_of, Code, Reason, Verdict};
use serde::Serialize;

/// What to check.
#[derive(Debug, Clone, Default)]
pub struct RepositoriesRequest {
    /// Repository names or glob patterns (`*`, `?`).
    pub repositories: Vec<String>,
    /// Tag names or glob patterns.
    pub tags: Vec<String>,
    /// Platforms every matching image must hold.
    pub platforms: Vec<String>,
    /// Read images from this registry host instead of the repository URI's (an ECR pull-through
    /// proxy or a private DNS name).
    pub registry: Option<String>,
    pub deep: bool,
    /// Also download every layer (`content = true`).
    pub content: bool,
    /// Where registry credentials come from (see [`crate::context::Env`]).
    pub credentials: CredentialSources,
}

/// The result for one repository (an `ecr` audit result).
#[derive(Debug, Clone, Serialize)]
pub struct RepositoryReport {
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    pub warnings: Vec<Reason>,
    pub region: String,
    /// The repository's name (or the pattern, when none matched) and URI.
    pub repository: String,
    pub uri: Option<String>,
    /// `imageTagMutability` (`MUTABLE` is a warning).
    pub tag_mutability: Option<String>,
    /// Images without a tag, not verified. ECR lists the platform manifests of a multi-platform
    /// image as untagged images too.
    pub untagged_images: usize,
    /// One entry per tag that matched, verified.
    pub images: Vec<TaggedImage>,
}

/// A tag, the digest ECR lists for it, and the `verify-image` report of `REPOSITORY_URI:TAG`.
#[derive(Debug, Clone, Serialize)]
pub struct TaggedImage {
    pub tag: String,
    pub listed_digest: String,
    pub check: ImageReport,
}

impl RepositoryReport {
    fn new(region: &str, repository: &str) -> Self {
        RepositoryReport {
            verdict: Verdict::Error,
            reasons: Vec::new(),
            warnings: Vec::new(),
            region: region.to_string(),
            repository: repository.to_string(),
            uri: None,
            tag_mutability: None,
            untagged_images: 0,
            images: Vec::new(),
        }
    }

    fn failed(region: &str, repository: &str, r: Reason) -> Self {
        let mut rep = RepositoryReport::new(region, repository);
        rep.reasons.push(r);
        rep.verdict = verdict_of(&rep.reasons);
        rep
    }
}

/// Whether `text` matches the glob `pattern` (`*` any run of characters, `?` one character).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// Checks the repositories `req` names; one report per repository, in name order.
pub async fn run(
    req: &RepositoriesRequest,
    ecr: &Ecr,
    http: &Http,
    cache: &ContentCache,
) -> Vec<RepositoryReport> {
    let region = ecr.region();
    if region.is_empty() {
        let r = crate::aws::no_region("[[ecr]]");
        return vec![RepositoryReport::failed(region, "*", r)];
    }
    if req.repositories.is_empty() || req.tags.is_empty() {
        return vec![RepositoryReport::failed(
            region,
            "*",
            Reason::new(
                Code::InvalidInput,
                "an [[ecr]] target needs at least one repository and one tag pattern",
            ),
        )];
    }
    let all = match ecr.repositories().await {
        Ok(r) => r,
        Err(r) => {
            return vec![RepositoryReport::failed(
                region,
                &req.repositories.join(","),
                r,
            )]
        }
    };
    let mut matched: Vec<&Repository> = all
        .iter()
        .filter(|r| req.repositories.iter().any(|p| glob_match(p, &r.name)))
        .collect();
    matched.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out: Vec<RepositoryReport> = futures_util::future::join_all(
        matched.iter().map(|r| repository(req, r, ecr, http, cache)),
    )
    .await;
    for p in &req.repositories {
        if !matched.iter().any(|r| glob_match(p, &r.name)) {
            let what = if is_glob(p) {
                format!("no ECR repository in {region} matches `{p}`")
            } else {
                format!("ECR has no repository `{p}` in {region}")
            };
            out.push(RepositoryReport::failed(
                region,
                p,
                Reason::new(Code::NotFound, what).hint(
                    "check the repository names and the Region (`aws ecr describe-repositories`)",
                ),
            ));
        }
    }
    out
}

// Long: one repository's report step by step: list images, tag mutability, tag selection, verification, digest cross-check.
async fn repository(
    req: &RepositoriesRequest,
    repo: &Repository,
    ecr: &Ecr,
    http: &Http,
    cache: &ContentCache,
) -> RepositoryReport {
    let mut rep = RepositoryReport::new(ecr.region(), &repo.name);
    rep.uri = Some(repo.uri.clone());
    rep.tag_mutability = Some(repo.tag_mutability.clone());
    let images = match ecr.images(&repo.name).await {
        Ok(i) => i,
        Err(r) => {
            rep.reasons.push(r);
            rep.verdict = verdict_of(&rep.reasons);
            return rep;
        }
    };
    if repo.tag_mutability != "IMMUTABLE" {
        rep.warnings.push(
            Reason::new(
                Code::MutableTag,
                format!(
                    "repository {} lets a push move a tag (imageTagMutability {}): what a tag deploys can change after it was verified",
                    repo.name, repo.tag_mutability
                ),
            )
            .hint(format!(
                "aws ecr put-image-tag-mutability --repository-name {} --image-tag-mutability IMMUTABLE, and deploy by digest",
                repo.name
            )),
        );
    }
    rep.untagged_images = images.iter().filter(|i| i.tags.is_empty()).count();
    let tagged = images
        .iter()
        .flat_map(|i| i.tags.iter().map(move |t| (t.clone(), i.digest.clone())));
    // A literal tag is always verified; a pattern does not select cosign's artifacts.
    let (mut selected, mut artifacts): (Vec<TagDigest>, Vec<TagDigest>) = tagged
        .filter(|(t, _)| req.tags.iter().any(|p| glob_match(p, t)))
        .partition(|(t, _)| !is_cosign_tag(t) || req.tags.iter().any(|p| p == t));
    selected.sort();
    selected.dedup();
    artifacts.sort();
    artifacts.dedup();
    if !artifacts.is_empty() {
        rep.warnings.push(
            Reason::new(
                Code::NotEvaluated,
                format!(
                    "repository {}: {} tag(s) matched by a pattern are cosign signatures, attestations or SBOMs (sha256-DIGEST.sig, .att, .sbom), not images, and were not verified: {}",
                    repo.name,
                    artifacts.len(),
                    artifacts.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
            .hint("name such a tag in `tags` to verify it as an image"),
        );
    }
    for p in req.tags.iter().filter(|p| !is_glob(p)) {
        if !selected.iter().any(|(t, _)| t == p) {
            rep.reasons.push(
                Reason::new(
                    Code::MissingTag,
                    format!("repository {} has no image tagged `{p}`", repo.name),
                )
                .hint("push the image, or change the audit's `tags`"),
            );
        }
    }
    if selected.is_empty() && rep.reasons.is_empty() {
        rep.reasons.push(Reason::new(
            Code::MissingTag,
            format!(
                "repository {} has no tag matching {} ({} untagged image(s))",
                repo.name,
                req.tags.join(", "),
                rep.untagged_images
            ),
        ));
    }
    let host = req
        .registry
        .clone()
        .unwrap_or_else(|| repo.uri.split('/').next().unwrap_or_default().to_string());
    let checks = selected.iter().map(|(tag, _)| {
        let ireq = ImageRequest {
            reference: format!("{host}/{}:{tag}", repo.name),
            platforms: req.platforms.clone(),
            digest: None,
            deep: req.deep,
            content: req.content,
            username: None,
            password: None,
            credentials: req.credentials.clone(),
        };
        async move { verify::run_with(&ireq, http, cache).await }
    });
    let checks = futures_util::future::join_all(checks).await;
    for ((tag, listed), check) in selected.into_iter().zip(checks) {
        let name = format!("{}:{tag}", repo.name);
        let prefix = format!("{name}: ");
        rep.reasons.extend(prefixed(&check.reasons, &prefix));
        rep.warnings.extend(prefixed(&check.warnings, &prefix));
        if let Some(served) = check.digest.as_deref().filter(|d| *d != listed) {
            rep.reasons.push(
                Reason::new(
                    Code::DigestMismatch,
                    format!("{name}: the registry served {served}, but ECR DescribeImages lists {listed} for this tag"),
                )
                .hint("the tag moved while the audit ran, or something between you and the registry altered the answer; run the audit again"),
            );
        }
        rep.images.push(TaggedImage {
            tag,
            listed_digest: listed,
            check,
        });
    }
    rep.verdict = verdict_of(&rep.reasons);
    rep
}

/// A tag and the digest ECR lists for it.
type TagDigest = (String, String);

/// Whether `tag` is one cosign stores beside an image: `sha256-<64 hex>.sig` (a signature), `.att`
/// (an attestation) or `.sbom`; such tags hold artifacts, not images.
fn is_cosign_tag(tag: &str) -> bool {
    tag.strip_prefix("sha256-")
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(hex, kind)| {
            hex.len() == 64
                && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                && matches!(kind, "sig" | "att" | "sbom")
        })
}

#[cfg(test)]
mod tests {
    use super::{glob_match, is_cosign_tag};

    #[test]
    fn cosign_tags() {
        let hex = "a".repeat(64);
        for kind in ["sig", "att", "sbom"] {
            assert!(is_cosign_tag(&format!("sha256-{hex}.{kind}")));
        }
        assert!(!is_cosign_tag(&format!("sha256-{hex}.tar")));
        assert!(!is_cosign_tag(&format!("sha256-{}.sig", "A".repeat(64))));
        assert!(!is_cosign_tag("sha256-abc.sig"));
        assert!(!is_cosign_tag("v1.sig"));
    }

    #[test]
    fn globs() {
        for (p, t, m) in [
            ("team-*", "team-app", true),
            ("team-*", "team-", true),
            ("team-*", "other", false),
            ("*", "", true),
            ("v?", "v1", true),
            ("v?", "v10", false),
            ("*-arm*", "app-arm64", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("latest", "latest", true),
            ("latest", "latest2", false),
        ] {
            assert_eq!(glob_match(p, t), m, "{p} {t}");
        }
    }
}
