//! `check-iam --role` / `--user`: an identity's policies read live through the AWS SDK, against
//! moto's IAM (started here on 127.0.0.1): inline policies on more than one page, customer-managed
//! and AWS-managed attached policies, a Deny, a missing role, and a caller without permission.

use crate::common;

use common::moto::{aws_env, xml_field, Moto};
use common::{codes, shipcheck};
use serde_json::Value;

const KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const REPO: &str = "arn:aws:ecr:us-east-1:123456789012:repository/app";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn iam(moto: &Moto, params: &[(&str, &str)]) -> String {
    let mut all = params.to_vec();
    all.push(("Version", "2010-05-08"));
    let (status, body) = moto.query("iam", KEY, &all);
    assert_eq!(status, 200, "{params:?}: {body}");
    body
}

/// The IAM user `name` with AWS's managed `AmazonEC2ContainerRegistryReadOnly` attached (moto must
/// load managed policies).
fn read_only_user(moto: &Moto, name: &str) {
    iam(moto, &[("Action", "CreateUser"), ("UserName", name)]);
    iam(
        moto,
        &[
            ("Action", "AttachUserPolicy"),
            ("UserName", name),
            (
                "PolicyArn",
                "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
            ),
        ],
    );
}

fn policy(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

/// `shipcheck check-iam ARGS --json` against moto with `access_key`: (exit code, JSON).
fn check(moto: &Moto, access_key: (&str, &str), args: &[&str]) -> (i32, Value) {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = shipcheck();
    aws_env(&mut cmd, &[("IAM", &moto.url())], access_key, home.path());
    run_check(cmd, args)
}

/// Runs `check-iam --json ARGS` with `cmd`'s environment: (exit code, JSON).
fn run_check(mut cmd: assert_cmd::Command, args: &[&str]) -> (i32, Value) {
    let out = cmd
        .args(["check-iam", "--json"])
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), v)
}

/// Creates the role `name` (assumable by ECS tasks).
fn create_role(moto: &Moto, name: &str) {
    iam(
        moto,
        &[
            ("Action", "CreateRole"),
            ("RoleName", name),
            ("AssumeRolePolicyDocument", TRUST),
        ],
    );
}

/// Puts the inline policy `name` holding `statements` on the role `deploy`.
fn put_deploy_policy(moto: &Moto, name: &str, statements: &str) {
    put_inline(moto, "Role", "deploy", name, statements);
}

/// Puts the inline policy `name` holding `statements` on `holder`, a `kind` (`Role`, `User` or
/// `Group`).
fn put_inline(moto: &Moto, kind: &str, holder: &str, name: &str, statements: &str) {
    let (action, holder_key) = (format!("Put{kind}Policy"), format!("{kind}Name"));
    let document = policy(statements);
    iam(
        moto,
        &[
            ("Action", &action),
            (&holder_key, holder),
            ("PolicyName", name),
            ("PolicyDocument", &document),
        ],
    );
}

/// Makes `user` a member of `group`.
fn join(moto: &Moto, user: &str, group: &str) {
    iam(
        moto,
        &[
            ("Action", "AddUserToGroup"),
            ("GroupName", group),
            ("UserName", user),
        ],
    );
}

/// `check-iam --role deploy --for pull --repository REPO` with the test key.
fn check_deploy_pull(moto: &Moto) -> (i32, Value) {
    check(
        moto,
        (KEY, SECRET),
        &["--role", "deploy", "--for", "pull", "--repository", REPO],
    )
}

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

#[test]
fn a_role_read_live_is_evaluated_like_files() {
    let moto = Moto::start();
    create_role(&moto, "deploy");
    // 101 inline policies: the one that grants the pull comes on the second page.
    for i in 0..100 {
        put_deploy_policy(
            &moto,
            &format!("p{i:03}"),
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#,
        );
    }
    put_deploy_policy(
        &moto,
        "zz-pull",
        &format!(
            r#"{{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"{REPO}"}}"#
        ),
    );
    // The login comes from a customer-managed policy.
    let created = iam(
        &moto,
        &[
            ("Action", "CreatePolicy"),
            ("PolicyName", "ecr-login"),
            (
                "PolicyDocument",
                &policy(
                    r#"{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}"#,
                ),
            ),
        ],
    );
    let arn = xml_field(&created, "Arn");
    iam(
        &moto,
        &[
            ("Action", "AttachRolePolicy"),
            ("RoleName", "deploy"),
            ("PolicyArn", &arn),
        ],
    );
    let (code, v) = check_deploy_pull(&moto);
    assert_eq!(code, 0, "{v:#}");
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 102, "{files:?}");
    assert!(files.contains(&"inline:zz-pull"));
    assert!(files.iter().any(|f| f.starts_with(&arn)));

    // Without the managed policy the login is missing.
    iam(
        &moto,
        &[
            ("Action", "DetachRolePolicy"),
            ("RoleName", "deploy"),
            ("PolicyArn", &arn),
        ],
    );
    let (code, v) = check_deploy_pull(&moto);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(codes(&v), ["missing-permission"]);

    // An explicit Deny among the inline policies wins, as in IAM.
    iam(
        &moto,
        &[
            ("Action", "AttachRolePolicy"),
            ("RoleName", "deploy"),
            ("PolicyArn", &arn),
        ],
    );
    put_deploy_policy(
        &moto,
        "no-pull",
        r#"{"Effect":"Deny","Action":"ecr:BatchGetImage","Resource":"*"}"#,
    );
    let (code, v) = check_deploy_pull(&moto);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(codes(&v), ["denied-permission"]);
}

#[test]
fn a_user_with_an_aws_managed_policy() {
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    read_only_user(&moto, "ci");
    let (code, v) = check(&moto, (KEY, SECRET), &["--user", "ci", "--for", "pull"]);
    assert_eq!(code, 0, "{v:#}");
    // Read-only does not push.
    let (code, v) = check(&moto, (KEY, SECRET), &["--user", "ci", "--for", "push"]);
    assert_eq!(code, 1, "{v:#}");
    // A role that does not exist: could not decide.
    let (code, v) = check(&moto, (KEY, SECRET), &["--role", "nobody", "--for", "pull"]);
    assert_eq!(code, 2, "{v:#}");
}

#[test]
fn a_caller_without_permission_is_told_which_action_it_needs() {
    // moto enforces IAM permissions after the first 3 calls (the set-up below).
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]);
    let (id, secret) = moto.user_with_key("auditor");
    create_role(&moto, "deploy");
    let (code, v) = check(
        &moto,
        (&id, &secret),
        &["--role", "deploy", "--for", "pull"],
    );
    assert_eq!(code, 2, "{v:#}");
    assert_eq!(codes(&v), ["access-denied"], "{v:#}");
    let msg = v["reasons"][0]["message"].as_str().unwrap();
    assert!(msg.contains("iam:GetRole"), "{msg}");
}

/// `[[iam]]` in an audit file: a role read live next to policy files, one result each.
#[test]
fn audits_check_iam_targets() {
    let moto = Moto::start();
    create_role(&moto, "puller");
    iam(
        &moto,
        &[
            ("Action", "PutRolePolicy"),
            ("RoleName", "puller"),
            ("PolicyName", "pull"),
            (
                "PolicyDocument",
                &policy(
                    r#"{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}"#,
                ),
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("login-only.json"),
        policy(r#"{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}"#),
    )
    .unwrap();
    let audit = dir.path().join("audit.toml");
    std::fs::write(
        &audit,
        "[[iam]]\nrole = \"puller\"\nfor = \"pull\"\n\n[[iam]]\npolicies = \"login-only.json\"\nfor = \"pull\"\n\n[[iam]]\nrole = \"missing\"\nfor = \"push\"\n",
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = shipcheck();
    aws_env(
        &mut cmd,
        &[("IAM", &moto.url())],
        (KEY, SECRET),
        home.path(),
    );
    let out = cmd.args(["audit", "--json"]).arg(&audit).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "{v:#}");
    let results = v["results"].as_array().unwrap();
    let verdicts: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["target"].as_str().unwrap(),
                r["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("role puller for pull", "pass"),
            ("1 policy file(s) for pull", "fail"),
            ("role missing for push", "error"),
        ],
        "{v:#}"
    );
}

/// GitHub Actions' OIDC path: no keys in the environment, only a web identity token file and a role
/// (`AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`), which the SDK's credential chain exchanges with
/// STS `AssumeRoleWithWebIdentity` (moto's STS here) before reading IAM. Without the token file the
/// chain has nothing to offer: exit 2, not a pass.
#[test]
fn web_identity_credentials_as_github_oidc_gives_them() {
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    read_only_user(&moto, "ci");
    let home = tempfile::tempdir().unwrap();
    let token = home.path().join("oidc-token");
    std::fs::write(
        &token,
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9yZy9hcHAifQ.c2ln",
    )
    .unwrap();
    let run = |token_file: &std::path::Path| {
        let mut cmd = shipcheck();
        aws_env(
            &mut cmd,
            &[("IAM", &moto.url()), ("STS", &moto.url())],
            ("unused", "unused"),
            home.path(),
        );
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_WEB_IDENTITY_TOKEN_FILE", token_file)
            .env(
                "AWS_ROLE_ARN",
                "arn:aws:iam::123456789012:role/github-audit",
            )
            .env("AWS_ROLE_SESSION_NAME", "shipcheck-nightly");
        run_check(cmd, &["--user", "ci", "--for", "pull"])
    };
    let (code, v) = run(&token);
    assert_eq!(code, 0, "{v:#}");
    let (code, v) = run(&home.path().join("no-such-token"));
    assert_eq!(code, 2, "{v:#}");
    assert!(!codes(&v).is_empty(), "{v:#}");
}

/// An IAM endpoint that accepts connections and never answers: with `--timeout 1`, `check-iam` and
/// an audit's `[[iam]]` target give up (exit 2, naming the action and the timeout) instead of
/// hanging a scheduled audit. The harness kills the process after 60 s, before the default timeout
/// (30 s per attempt, three attempts) would give up, so a timeout that is not applied fails here.
#[test]
fn an_aws_endpoint_that_never_answers_is_undecided_within_the_timeout() {
    let (port, stop) = common::serve_loopback(|s, stop| {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        drop(s);
    });
    let endpoint = format!("http://127.0.0.1:{port}");
    let home = tempfile::tempdir().unwrap();
    let silent = |cmd: &mut assert_cmd::Command| {
        aws_env(cmd, &[("IAM", &endpoint)], (KEY, SECRET), home.path());
        cmd.timeout(std::time::Duration::from_secs(60));
    };
    let mut cmd = shipcheck();
    silent(&mut cmd);
    let (code, v) = run_check(cmd, &["--role", "app", "--for", "pull", "--timeout", "1"]);
    assert_eq!(code, 2, "{v}");
    assert_eq!(codes(&v), ["download-failed"], "{v}");
    let message = v["reasons"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("iam:"), "{message}");
    assert!(message.contains("timeout"), "{message}");

    let audit = home.path().join("audit.toml");
    std::fs::write(&audit, "[[iam]]\nrole = \"app\"\nfor = \"pull\"\n").unwrap();
    let mut cmd = shipcheck();
    silent(&mut cmd);
    let out = cmd
        .args(["audit", "--json", "--timeout", "1"])
        .arg(&audit)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "{v}");
    let message = v["results"][0]["reasons"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("iam:") && message.contains("timeout"),
        "{v}"
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Creates the customer-managed policy `name` holding `statements`; returns its ARN.
fn managed(moto: &Moto, name: &str, statements: &str) -> String {
    let created = iam(
        moto,
        &[
            ("Action", "CreatePolicy"),
            ("PolicyName", name),
            ("PolicyDocument", &policy(statements)),
        ],
    );
    xml_field(&created, "Arn")
}

const PUSH: &str = r#"{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}"#;

/// A user's groups' policies are the user's too (IAM evaluates them together): a Deny in a group
/// wins over the user's own Allow, and a user whose rights all come from a group has them. Both
/// were missed: the groups were never read (a pass for a user who cannot push; found by
/// adversarial pass 16).
#[test]
fn a_users_groups_policies_count() {
    let moto = Moto::start();
    for user in ["ci", "ci2"] {
        iam(&moto, &[("Action", "CreateUser"), ("UserName", user)]);
    }
    put_inline(&moto, "User", "ci", "push", PUSH);
    for group in ["frozen", "pushers"] {
        iam(&moto, &[("Action", "CreateGroup"), ("GroupName", group)]);
    }
    join(&moto, "ci", "frozen");
    put_inline(
        &moto,
        "Group",
        "frozen",
        "freeze",
        r#"{"Effect":"Deny","Action":"ecr:*","Resource":"*"}"#,
    );
    let (code, v) = check(
        &moto,
        (KEY, SECRET),
        &["--user", "ci", "--for", "push", "--repository", REPO],
    );
    assert_eq!(code, 1, "{v:#}");
    let denied = codes(&v);
    assert!(
        denied.len() == 7 && denied.iter().all(|c| c == "denied-permission"),
        "{v:#}"
    );
    let files = v["files"].to_string();
    assert!(files.contains("group:frozen inline:freeze"), "{files}");

    // ci2's rights come only from an attached policy of its group.
    join(&moto, "ci2", "pushers");
    let arn = managed(&moto, "push", PUSH);
    iam(
        &moto,
        &[
            ("Action", "AttachGroupPolicy"),
            ("GroupName", "pushers"),
            ("PolicyArn", &arn),
        ],
    );
    let (code, v) = check(
        &moto,
        (KEY, SECRET),
        &["--user", "ci2", "--for", "push", "--repository", REPO],
    );
    assert_eq!(code, 0, "{v:#}");
    assert!(
        v["files"]
            .to_string()
            .contains(&format!("group:pushers {arn}")),
        "{v:#}"
    );
}

/// A permissions boundary caps what a role's policies allow: an Allow the boundary does not repeat
/// is not a permission, and a Deny in the boundary wins. The boundary was never read (a pass;
/// found by adversarial pass 16). A role with no policies at all is a failure (nothing is allowed),
/// not a usage error.
#[test]
fn a_permissions_boundary_caps_a_roles_policies() {
    let moto = Moto::start();
    create_role(&moto, "deploy");
    let only_missing = |v: &Value| {
        let c = codes(v);
        assert!(
            !c.is_empty() && c.iter().all(|c| c == "missing-permission"),
            "{v:#}"
        );
    };
    let (code, v) = check_deploy_pull(&moto);
    assert_eq!(code, 1, "{v:#}");
    only_missing(&v);
    put_deploy_policy(&moto, "push", PUSH);
    let (code, v) = check_deploy_pull(&moto);
    assert_eq!(code, 0, "{v:#}");
    let s3_only = managed(
        &moto,
        "s3-only",
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#,
    );
    let bound = |arn: &str| {
        iam(
            &moto,
            &[
                ("Action", "PutRolePermissionsBoundary"),
                ("RoleName", "deploy"),
                ("PermissionsBoundary", arn),
            ],
        );
    };
    bound(&s3_only);
    let (code, v) = check_deploy_pull(&moto);
    assert_eq!(code, 1, "{v:#}");
    only_missing(&v);
    let message = v["reasons"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("permissions boundary boundary:"),
        "{message}"
    );
    assert!(
        v["files"]
            .to_string()
            .contains(&format!("boundary:{s3_only}")),
        "{v:#}"
    );
    // A boundary that allows ECR but denies the layer download.
    let ecr = managed(
        &moto,
        "ecr-but-layers",
        r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"},{"Effect":"Deny","Action":"ecr:GetDownloadUrlForLayer","Resource":"*"}"#,
    );
    bound(&ecr);
    let (code, v) = check_deploy_pull(&moto);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(codes(&v), ["denied-permission"], "{v:#}");
    // A boundary that allows what the policies allow: a pass.
    let all_ecr = managed(
        &moto,
        "ecr",
        r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"}"#,
    );
    bound(&all_ecr);
    let (code, v) = check_deploy_pull(&moto);
    assert_eq!(code, 0, "{v:#}");
}

/// An `[[iam]]` target naming a role and a user checked only the role (the user was dropped; found
/// by adversarial pass 16): it is invalid input now, as `--role` with `--user` is a usage error.
#[test]
fn an_iam_target_names_one_identity() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.toml");
    std::fs::write(
        &audit,
        "[[iam]]\nrole = \"deploy\"\nuser = \"ci\"\nfor = \"pull\"\n",
    )
    .unwrap();
    let out = shipcheck()
        .args(["audit", "--json"])
        .arg(&audit)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "{v:#}");
    assert_eq!(codes(&v["results"][0]), ["invalid-input"], "{v:#}");
}

/// With no Region configured anywhere, IAM (global) is read in us-east-1, but a regional target is
/// not audited in a Region nobody chose: it was silently us-east-1 (found by adversarial pass 16).
#[test]
fn regional_targets_need_a_region_iam_does_not() {
    let moto = Moto::start();
    create_role(&moto, "deploy");
    put_deploy_policy(&moto, "push", PUSH);
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.toml");
    std::fs::write(
        &audit,
        "[[iam]]\nrole = \"deploy\"\nfor = \"pull\"\n\n[[ecs]]\ncluster = \"*\"\n",
    )
    .unwrap();
    let mut cmd = shipcheck();
    aws_env(
        &mut cmd,
        &[("IAM", &moto.url()), ("ECS", &moto.url())],
        (KEY, SECRET),
        dir.path(),
    );
    cmd.env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION");
    let out = cmd.args(["audit", "--json"]).arg(&audit).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "{v:#}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results[0]["verdict"], "pass", "{v:#}");
    assert_eq!(results[1]["verdict"], "error", "{v:#}");
    let message = results[1]["reasons"][0]["message"].as_str().unwrap();
    assert!(message.contains("no AWS Region is configured"), "{message}");
    assert!(!v.to_string().contains("us-east-1"), "{v:#}");
}
