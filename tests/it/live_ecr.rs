//! `[[ecr]]` audit targets: repositories and images listed live through the AWS SDK from moto
//! (behind a proxy that pages long lists as ECR does), each matching tag verified against the real
//! docker-registry (TLS, htpasswd) declared as ECR, logged into with the token moto's ECR hands out.

use crate::common;

use common::aws_pager::Pager;
use common::contract::{run, AuditJson, Verdict, Verdicted};
use common::moto::{aws_env, Moto, KEY};
use common::registry::{Flavour, Pushed, Registry};
use common::shipcheck;
use serde_json::json;

const ECR: &str = "AmazonEC2ContainerRegistry_V20150921";

/// The password in the token moto's GetAuthorizationToken returns (moto does not check signatures).
fn token_password(moto: &Moto) -> String {
    let v = moto.json(&format!("{ECR}.GetAuthorizationToken"), &json!({}));
    let token = v["authorizationData"][0]["authorizationToken"]
        .as_str()
        .unwrap();
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .unwrap();
    String::from_utf8(decoded)
        .unwrap()
        .strip_prefix("AWS:")
        .unwrap()
        .to_string()
}

fn repo(moto: &Moto, name: &str, mutability: &str) {
    moto.json(
        &format!("{ECR}.CreateRepository"),
        &json!({"repositoryName": name, "imageTagMutability": mutability}),
    );
}

/// Records `pushed` in moto's ECR under `tag` (or untagged) with `digest` (default: its own).
fn put(moto: &Moto, name: &str, pushed: &Pushed, tag: Option<&str>, digest: Option<&str>) {
    let mut body = json!({
        "repositoryName": name,
        "imageManifest": String::from_utf8(pushed.body.clone()).unwrap(),
        "imageManifestMediaType": pushed.media_type,
        "imageDigest": digest.unwrap_or(&pushed.digest),
    });
    if let Some(t) = tag {
        body["imageTag"] = json!(t);
    }
    moto.json(&format!("{ECR}.PutImage"), &body);
}

fn audit(pager: &Pager, reg: &Registry, text: &str) -> common::contract::Out<AuditJson> {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("audit.toml");
    std::fs::write(&file, text).unwrap();
    let mut cmd = shipcheck();
    aws_env(&mut cmd, &[("ECR", &pager.url())], KEY, d.path());
    cmd.env(
        "SHIPCHECK_ECR_REGISTRIES",
        format!("{}=us-east-1", reg.host()),
    )
    .args(["audit", "--json", "--ca-cert"])
    .arg(reg.ca.as_ref().unwrap())
    .arg(&file);
    run(cmd)
}

#[test]
fn audits_repositories_and_tags_by_pattern() {
    let moto = Moto::start();
    let pager = Pager::start(moto.port);
    let reg = Registry::tls_auth_with(&token_password(&moto));
    let h = reg.host();

    // team-app (immutable tags): v1 two platforms, v2 amd64 only, v3 listed by ECR as v2's digest
    // while the registry serves v1 under it; v1's arm64 manifest untagged (as ECR lists the
    // platform manifests of a multi-platform image); build-7 not matched. Four images: two pages.
    let (v1, platforms) = reg.push_multi("team-app", "v1", false);
    let v2 = reg.push_image("team-app", "linux/amd64", Flavour::Oci, Some("v2"));
    reg.put_manifest("team-app", "v3", &v1.media_type, &v1.body);
    repo(&moto, "team-app", "IMMUTABLE");
    put(&moto, "team-app", &v1, Some("v1"), None);
    put(&moto, "team-app", &v2, Some("v2"), None);
    put(&moto, "team-app", &v2, Some("v3"), None);
    put(&moto, "team-app", &platforms[1], None, None);
    let other = reg.push_image("team-app", "linux/s390x", Flavour::Oci, Some("build-7"));
    put(&moto, "team-app", &other, Some("build-7"), None);
    // team-web (mutable tags): latest verifies; team-empty: nothing; other: not matched.
    let (web, _) = reg.push_multi("team-web", "latest", false);
    repo(&moto, "team-web", "MUTABLE");
    put(&moto, "team-web", &web, Some("latest"), None);
    repo(&moto, "team-empty", "IMMUTABLE");
    repo(&moto, "other", "MUTABLE");

    let out = audit(
        &pager,
        &reg,
        &format!(
            "[[ecr]]\nrepositories = [\"team-*\"]\ntags = [\"v*\", \"latest\"]\nplatforms = [\"amd64\", \"arm64\"]\nregistry = \"{h}\"\n"
        ),
    );
    let j = out.exit(1);
    let targets: Vec<&str> = j.results.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        ["team-app", "team-empty", "team-web"],
        "{}",
        out.stdout
    );

    let app = j.results[0].ecr();
    assert_eq!(app.verdict, Verdict::Fail);
    let mut codes = app.codes();
    codes.sort();
    assert_eq!(
        codes,
        ["digest-mismatch", "missing-platform", "missing-tag"],
        "{:?}",
        app.images
            .iter()
            .map(|i| (&i.tag, &i.listed_digest, &i.check.digest))
            .collect::<Vec<_>>()
    );
    let tags: Vec<&str> = app.images.iter().map(|i| i.tag.as_str()).collect();
    assert_eq!(tags, ["v1", "v2", "v3"]);
    assert_eq!(app.images[0].check.verdict, Verdict::Pass);
    assert_eq!(app.images[0].listed_digest, v1.digest);
    assert_eq!(app.untagged_images, 1);
    assert_eq!(app.tag_mutability.as_deref(), Some("IMMUTABLE"));
    assert!(app.warnings.is_empty(), "{:?}", app.warnings);
    let msg = |code: &str| {
        app.reasons
            .iter()
            .find(|r| r.code == code)
            .unwrap()
            .message
            .clone()
    };
    assert!(
        msg("missing-platform").starts_with("team-app:v2: "),
        "{}",
        msg("missing-platform")
    );
    assert!(
        msg("digest-mismatch").contains(&v2.digest),
        "{}",
        msg("digest-mismatch")
    );
    assert!(
        msg("missing-tag").contains("`latest`"),
        "{}",
        msg("missing-tag")
    );

    let empty = j.results[1].ecr();
    assert_eq!(empty.codes(), ["missing-tag"]);
    let web = j.results[2].ecr();
    assert_eq!(web.verdict, Verdict::Pass);
    assert_eq!(web.warning_codes(), ["mutable-tag"]);
    assert_eq!(web.images.len(), 1);

    assert_eq!(
        pager.calls("DescribeRepositories"),
        2,
        "4 repositories in pages of 3"
    );
    assert!(
        pager.calls("DescribeImages") >= 4,
        "team-app's 4 images take 2 pages"
    );
    assert_eq!(pager.calls("GetAuthorizationToken"), 1);

    // Names that match nothing cannot pass; the default tag is `latest`.
    let out = audit(
        &pager,
        &reg,
        &format!("[[ecr]]\nrepositories = [\"team-web\", \"nope\"]\nplatforms = [\"arm64\"]\nregistry = \"{h}\"\n"),
    );
    let j = out.exit(2);
    assert_eq!(j.results.len(), 2);
    assert_eq!(j.results[0].target, "team-web");
    assert_eq!(j.results[0].verdict(), Verdict::Pass);
    assert_eq!(j.results[1].target, "nope");
    assert_eq!(j.results[1].codes(), ["not-found"]);
}

/// `tags = ["*"]` in a repository where cosign stores signatures (`sha256-DIGEST.sig`): those tags
/// hold artifacts, not images; a pattern does not select them (a warning lists them), where each
/// was verified as an image and failed the audit (found by adversarial pass 16). Named literally,
/// such a tag is verified.
#[test]
fn patterns_skip_cosign_tags_literal_names_do_not() {
    let moto = Moto::start();
    let pager = Pager::start(moto.port);
    let reg = Registry::tls_auth_with(&token_password(&moto));
    let h = reg.host();
    let (app, _) = reg.push_multi("signed", "v1", false);
    let hex = app.digest.strip_prefix("sha256:").unwrap();
    let sig_tag = format!("sha256-{hex}.sig");
    // The signature tag holds an amd64-only image here: verified, it fails arm64.
    let sig = reg.push_image("signed", "linux/amd64", Flavour::Oci, Some(&sig_tag));
    repo(&moto, "signed", "IMMUTABLE");
    put(&moto, "signed", &app, Some("v1"), None);
    put(&moto, "signed", &sig, Some(&sig_tag), None);
    let target = |tags: &str| {
        format!("[[ecr]]\nrepositories = [\"signed\"]\ntags = {tags}\nplatforms = [\"amd64\", \"arm64\"]\nregistry = \"{h}\"\n")
    };
    let out = audit(&pager, &reg, &target("[\"*\"]"));
    let j = out.exit(0);
    let signed = j.results[0].ecr();
    let tags: Vec<&str> = signed.images.iter().map(|i| i.tag.as_str()).collect();
    assert_eq!(tags, ["v1"]);
    assert_eq!(signed.warning_codes(), ["not-evaluated"]);
    assert!(signed.warnings[0].message.contains(&sig_tag));
    let out = audit(&pager, &reg, &target(&format!("[\"*\", \"{sig_tag}\"]")));
    let j = out.exit(1);
    assert_eq!(j.results[0].ecr().codes(), ["missing-platform"]);
}
