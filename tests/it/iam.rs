//! check-iam at library level: real policy shapes from fixtures/iam (see gen.py there).

use shipcheck::aws::policy::{
    self as iam, ActionCheck, ActionStatus, IamReport, IamRequest, Workflow,
};
use shipcheck::report::{Code, Verdict};
use std::path::PathBuf;

const REPO: &str = "arn:aws:ecr:us-east-1:111122223333:repository/my-app";

fn fx(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/iam")
        .join(name)
}

fn check(files: &[&str], workflow: Workflow, repo: Option<&str>) -> IamReport {
    iam::run(&IamRequest::new(
        files.iter().map(|f| fx(f)).collect(),
        workflow,
        repo.map(str::to_string),
    ))
}

/// check-iam of one policy document, written to a temp file.
fn check_doc(doc: &str, workflow: Workflow, repo: Option<&str>) -> IamReport {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("policy.json");
    std::fs::write(&file, doc).unwrap();
    iam::run(&IamRequest::new(
        vec![file],
        workflow,
        repo.map(str::to_string),
    ))
}

/// The report's line for `action`.
fn action<'a>(r: &'a IamReport, action: &str) -> &'a ActionCheck {
    r.actions
        .iter()
        .find(|a| a.action == action)
        .unwrap_or_else(|| panic!("{action} not in report: {r:#?}"))
}

fn status(r: &IamReport, name: &str) -> ActionStatus {
    action(r, name).status
}

/// Whether a warning with `code` has a message containing `text`.
fn has_warning(r: &IamReport, code: Code, text: &str) -> bool {
    r.warnings
        .iter()
        .any(|w| w.code == code && w.message.contains(text))
}

fn codes(r: &IamReport) -> Vec<Code> {
    r.reasons.iter().map(|x| x.code).collect()
}

fn warning_codes(r: &IamReport) -> Vec<Code> {
    r.warnings.iter().map(|x| x.code).collect()
}

#[test]
fn documented_push_policy_passes_push_for_its_repository() {
    let r = check(&["push-documented.json"], Workflow::Push, Some(REPO));
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    assert_eq!(r.actions.len(), 7);
    assert!(r.actions.iter().all(|a| a.status == ActionStatus::Granted));
    let put = action(&r, "ecr:PutImage");
    assert_eq!(put.statement.as_deref(), Some("Statement[0]"));
    assert_eq!(put.resource.as_deref(), Some(REPO));
    let tok = action(&r, "ecr:GetAuthorizationToken");
    assert_eq!(tok.statement.as_deref(), Some("Statement[1]"));
    assert!(r.warnings.is_empty(), "{:#?}", r.warnings);
}

#[test]
fn documented_push_policy_fails_on_another_repository() {
    let other = "arn:aws:ecr:us-east-1:111122223333:repository/other";
    let r = check(&["push-documented.json"], Workflow::Push, Some(other));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(status(&r, "ecr:PutImage"), ActionStatus::WrongResource);
    assert_eq!(
        status(&r, "ecr:GetAuthorizationToken"),
        ActionStatus::Granted
    );
    assert_eq!(
        codes(&r)
            .iter()
            .filter(|c| **c == Code::WrongResource)
            .count(),
        6
    );
}

#[test]
fn documented_push_policy_lacks_layer_download_for_buildx() {
    let r = check(&["push-documented.json"], Workflow::BuildxPush, Some(REPO));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(codes(&r), vec![Code::MissingPermission]);
    let a = action(&r, "ecr:GetDownloadUrlForLayer");
    assert_eq!(a.status, ActionStatus::Missing);
    assert!(a.why.contains("buildx"), "{}", a.why);
    // Pull from the push policy: the layer download is missing too.
    let r = check(&["push-documented.json"], Workflow::Pull, None);
    assert_eq!(
        status(&r, "ecr:GetDownloadUrlForLayer"),
        ActionStatus::Missing
    );
    assert_eq!(status(&r, "ecr:BatchGetImage"), ActionStatus::Granted);
}

#[test]
fn managed_readonly_policy_pulls_but_is_broad() {
    for f in [
        "readonly-managed-version.json",
        "readonly-managed-urlencoded.json",
    ] {
        let r = check(&[f], Workflow::Pull, Some(REPO));
        assert_eq!(r.verdict, Verdict::Pass, "{f}: {r:#?}");
        assert!(
            warning_codes(&r).contains(&Code::BroaderThanNeeded),
            "{f}: Resource * for repository actions must be flagged: {:#?}",
            r.warnings
        );
        let r = check(&[f], Workflow::Push, Some(REPO));
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(status(&r, "ecr:PutImage"), ActionStatus::Missing);
        assert_eq!(
            status(&r, "ecr:BatchCheckLayerAvailability"),
            ActionStatus::Granted
        );
    }
}

#[test]
fn role_policy_output_least_privilege_pull() {
    let r = check(&["role-policy-pull.json"], Workflow::Pull, Some(REPO));
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    assert!(r.warnings.is_empty(), "{:#?}", r.warnings);
    let a = action(&r, "ecr:BatchGetImage");
    assert_eq!(a.statement.as_deref(), Some("Pull"));
    // Without --repository: any repository; still granted.
    let r = check(&["role-policy-pull.json"], Workflow::Pull, None);
    assert_eq!(r.verdict, Verdict::Pass);
    assert_eq!(r.repository, None);
}

#[test]
fn auth_token_on_repository_arn_is_wrong_resource() {
    let r = check(&["auth-token-scoped.json"], Workflow::Pull, Some(REPO));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(codes(&r), vec![Code::WrongResource]);
    assert_eq!(
        status(&r, "ecr:GetAuthorizationToken"),
        ActionStatus::WrongResource
    );
    assert_eq!(status(&r, "ecr:BatchGetImage"), ActionStatus::Granted);
    assert!(
        r.reasons[0].message.contains("\"*\""),
        "{}",
        r.reasons[0].message
    );
    // Statement given as a single object: labelled `Statement`.
    assert_eq!(r.actions[0].statement.as_deref(), Some("Statement"));
}

#[test]
fn explicit_deny_wins_over_allow() {
    let secret = "arn:aws:ecr:eu-west-1:111122223333:repository/secret-keys";
    let r = check(&["deny-secret-repos.json"], Workflow::Pull, Some(secret));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(status(&r, "ecr:BatchGetImage"), ActionStatus::Denied);
    assert_eq!(
        status(&r, "ecr:GetDownloadUrlForLayer"),
        ActionStatus::Denied
    );
    // The Deny is on repositories only: GetAuthorizationToken (Resource "*") is unaffected.
    assert_eq!(
        status(&r, "ecr:GetAuthorizationToken"),
        ActionStatus::Granted
    );
    assert_eq!(
        codes(&r),
        vec![Code::DeniedPermission, Code::DeniedPermission]
    );
    let d = action(&r, "ecr:BatchGetImage");
    assert_eq!(d.statement.as_deref(), Some("NoSecrets"));

    let r = check(&["deny-secret-repos.json"], Workflow::Pull, Some(REPO));
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    // Any repository: some repositories stay pullable; the partial deny is reported.
    let r = check(&["deny-secret-repos.json"], Workflow::Pull, None);
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    assert!(
        has_warning(&r, Code::NotEvaluated, "NoSecrets"),
        "{:#?}",
        r.warnings
    );
}

#[test]
fn deny_with_notaction_blocks_writes_only() {
    let r = check(
        &["deny-notaction-readonly.json"],
        Workflow::Pull,
        Some(REPO),
    );
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    let r = check(
        &["deny-notaction-readonly.json"],
        Workflow::Push,
        Some(REPO),
    );
    assert_eq!(r.verdict, Verdict::Fail);
    for a in [
        "ecr:PutImage",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
    ] {
        assert_eq!(status(&r, a), ActionStatus::Denied, "{a}");
    }
    assert_eq!(
        status(&r, "ecr:BatchCheckLayerAvailability"),
        ActionStatus::Granted
    );
    assert_eq!(status(&r, "ecr:BatchGetImage"), ActionStatus::Granted);
    // Without --repository the Deny on "*" covers every repository.
    let r = check(&["deny-notaction-readonly.json"], Workflow::Push, None);
    assert_eq!(status(&r, "ecr:PutImage"), ActionStatus::Denied);
    // ecr:* is flagged.
    assert!(
        has_warning(&r, Code::BroaderThanNeeded, "ecr:*"),
        "{:#?}",
        r.warnings
    );
}

#[test]
fn allow_with_notaction_grants_but_is_flagged() {
    let r = check(&["allow-notaction.json"], Workflow::BuildxPush, Some(REPO));
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    assert!(
        has_warning(&r, Code::BroaderThanNeeded, "NotAction"),
        "{:#?}",
        r.warnings
    );
}

#[test]
fn wildcards_in_actions_and_resources() {
    let team = "arn:aws:ecr:eu-central-1:111122223333:repository/team-web";
    let r = check(&["wildcards-team.json"], Workflow::Pull, Some(team));
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    let a = action(&r, "ecr:BatchGetImage");
    assert_eq!(a.statement.as_deref(), Some("TeamRead"));
    // Another account does not match the resource pattern.
    let r = check(
        &["wildcards-team.json"],
        Workflow::Pull,
        Some("arn:aws:ecr:eu-central-1:444455556666:repository/team-web"),
    );
    assert_eq!(status(&r, "ecr:BatchGetImage"), ActionStatus::WrongResource);
    assert_eq!(
        status(&r, "ecr:GetAuthorizationToken"),
        ActionStatus::Granted
    );
    // Push is not covered by get*/BatchGet?mage.
    let r = check(&["wildcards-team.json"], Workflow::Push, Some(team));
    assert_eq!(status(&r, "ecr:PutImage"), ActionStatus::Missing);
    assert_eq!(status(&r, "ecr:BatchGetImage"), ActionStatus::Granted);
}

#[test]
fn s3_grant_with_wildcards_is_not_a_repository_grant() {
    let r = check_doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::bucket/*"},
            {"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}"#,
        Workflow::Pull,
        None,
    );
    assert_eq!(r.verdict, Verdict::Fail, "{r:#?}");
    assert_eq!(status(&r, "ecr:BatchGetImage"), ActionStatus::WrongResource);
}

#[test]
fn conditions_are_reported_not_evaluated() {
    let r = check(&["conditional.json"], Workflow::Pull, Some(REPO));
    assert_eq!(r.verdict, Verdict::Pass);
    let a = action(&r, "ecr:BatchGetImage");
    assert!(a.conditional);
    assert!(
        has_warning(&r, Code::NotEvaluated, "PullFromVpce"),
        "{:#?}",
        r.warnings
    );
}

#[test]
fn extra_write_actions_are_flagged() {
    let r = check(&["push-with-delete.json"], Workflow::BuildxPush, Some(REPO));
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    let w: Vec<&str> = r
        .warnings
        .iter()
        .filter(|w| w.code == Code::BroaderThanNeeded)
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("ecr:DeleteRepository") && w[0].contains("ecr:BatchDeleteImage"));
    assert!(!w[0].contains("ecr:PutImage"));
}

#[test]
fn several_policy_files_combine() {
    // Pull statements in one file, the login in another.
    let r = check(
        &["wildcards-team.json", "push-documented.json"],
        Workflow::BuildxPush,
        Some(REPO),
    );
    // GetDownloadUrlForLayer comes from neither for my-app (TeamRead is for team-*).
    assert_eq!(
        status(&r, "ecr:GetDownloadUrlForLayer"),
        ActionStatus::WrongResource
    );
    assert_eq!(status(&r, "ecr:PutImage"), ActionStatus::Granted);
    let a = action(&r, "ecr:PutImage");
    assert_eq!(
        a.statement.as_deref(),
        Some("push-documented.json:Statement[0]")
    );
}

#[test]
fn repository_uri_is_accepted_as_arn() {
    let r = check(
        &["push-documented.json"],
        Workflow::Push,
        Some("111122223333.dkr.ecr.us-east-1.amazonaws.com/my-app:v1"),
    );
    assert_eq!(r.repository.as_deref(), Some(REPO));
    assert_eq!(r.verdict, Verdict::Pass);
    // The FIPS endpoint's URI names the same repository (verify-image accepts it too).
    let r = check(
        &["push-documented.json"],
        Workflow::Push,
        Some("111122223333.dkr.ecr-fips.us-east-1.amazonaws.com/my-app:v1"),
    );
    assert_eq!(r.repository.as_deref(), Some(REPO));
}

#[test]
fn bad_repository_is_usage_error() {
    for bad in [
        "arn:aws:s3:::bucket",
        "arn:aws:ecr:us-east-1:111122223333:repository/*",
        "my-app",
    ] {
        let r = check(&["push-documented.json"], Workflow::Push, Some(bad));
        assert_eq!(r.verdict, Verdict::Error, "{bad}");
        assert_eq!(codes(&r), vec![Code::Usage]);
        assert_eq!(r.verdict.exit_code(), 2);
    }
}

fn input_error(file: &str) -> String {
    let r = check(&[file], Workflow::Pull, None);
    assert_eq!(r.verdict, Verdict::Error, "{file}");
    assert_eq!(codes(&r), vec![Code::InvalidInput], "{file}");
    assert!(r.actions.is_empty());
    let m = r.reasons[0].message.clone();
    assert!(m.contains(file), "message must name the file: {m}");
    m
}

#[test]
fn bad_policy_inputs_name_file_and_path() {
    let m = input_error("bad-malformed.json");
    assert!(m.contains("not valid JSON") && m.contains("line 4"), "{m}");
    let m = input_error("bad-missing-effect.json");
    assert!(
        m.contains("`Statement[1]`") && m.contains("missing field `Effect`"),
        "{m}"
    );
    let m = input_error("bad-wrong-type.json");
    assert!(
        m.contains("`Statement[0].Action[1]`") && m.contains("expected a string"),
        "{m}"
    );
    let m = input_error("bad-effect-case.json");
    assert!(
        m.contains("`Statement[0].Effect`") && m.contains("`Allow`"),
        "{m}"
    );
    let m = input_error("bad-no-policy.json");
    assert!(
        m.contains("holds no policy") && m.contains("PolicyVersion.Document"),
        "{m}"
    );
}

#[test]
fn bad_url_encoded_document_is_reported_inside_the_field() {
    let r = check_doc(
        r#"{"PolicyVersion":{"Document":"%7B%22Version%22%3A%222012-10-17%22%7D","VersionId":"v1"}}"#,
        Workflow::Pull,
        None,
    );
    assert_eq!(r.verdict, Verdict::Error);
    let m = &r.reasons[0].message;
    assert!(
        m.contains("PolicyVersion.Document") && m.contains("missing field `Statement`"),
        "{m}"
    );
}

#[test]
fn text_rendering_lists_actions() {
    let r = check(&["auth-token-scoped.json"], Workflow::Pull, Some(REPO));
    let (out, err) = shipcheck::commands::check_iam::render_text(&r, false);
    assert!(out.starts_with("FAIL check-iam pull on "), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("ecr:GetAuthorizationToken"))
        .unwrap();
    assert!(
        line.contains("wrong-resource") && line.contains("Statement"),
        "{out}"
    );
    assert!(
        err.contains("error: ecr:GetAuthorizationToken") && err.contains("hint:"),
        "{err}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["workflow"], "pull");
    assert_eq!(json["actions"][0]["status"], "wrong-resource");
    assert_eq!(json["reasons"][0]["code"], "wrong-resource");
}

#[test]
fn glob_helpers() {
    use iam::{glob_covers, glob_match, globs_intersect};
    assert!(glob_match("ecr:get*", "ecr:getauthorizationtoken"));
    assert!(glob_match("ecr:batchget?mage", "ecr:batchgetimage"));
    assert!(!glob_match("ecr:get*", "ecr:putimage"));
    assert!(globs_intersect(
        "arn:aws:ecr:*:1:repository/a*",
        "arn:*:ecr:*:*:repository/*"
    ));
    assert!(!globs_intersect(
        "arn:aws:s3:::b",
        "arn:*:ecr:*:*:repository/*"
    ));
    // Whole-string globs let `*` cross `:`; ARN matching (in run) goes segment by segment.
    assert!(globs_intersect(
        "arn:aws:s3:::b/*",
        "arn:*:ecr:*:*:repository/*"
    ));
    assert!(globs_intersect("*", "arn:*:ecr:*:*:repository/*"));
    assert!(glob_covers(
        "arn:aws:ecr:*",
        "arn:aws:ecr:us-east-1:1:repository/a*"
    ));
    assert!(!glob_covers(
        "arn:aws:ecr:*:1:repository/a?",
        "arn:aws:ecr:x:1:repository/a*"
    ));
}

/// A Condition block that tests nothing (`{}`, an operator with no keys) is no condition: a Deny
/// with one denies (found by the adversarial review: it was ignored, and the check passed).
#[test]
fn an_empty_condition_block_does_not_soften_a_deny() {
    for cond in [r#"{}"#, r#"{"StringEquals": {}}"#, r#"null"#] {
        let policy = format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Resource":"*"}},
                {{"Sid":"NoPull","Effect":"Deny","Action":"ecr:BatchGetImage","Resource":"*","Condition":{cond}}}]}}"#
        );
        let r = check_doc(&policy, Workflow::Pull, Some(REPO));
        assert_eq!(r.verdict, Verdict::Fail, "{cond}: {r:#?}");
        assert_eq!(
            status(&r, "ecr:BatchGetImage"),
            ActionStatus::Denied,
            "{cond}"
        );
    }
}

/// An Allow with `NotResource` whose exclusion holds a policy variable: for user alice,
/// `repository/${aws:username}` excludes her own repository, so IAM does not let her pull it.
/// shipcheck does not substitute variables; the exclusion may cover the repository, so the Allow is
/// not counted (it was counted as if the variable never matched: a wrong pass).
#[test]
fn an_allow_whose_not_resource_holds_a_variable_is_not_counted() {
    let doc = r#"{"Version":"2012-10-17","Statement":[
      {"Sid":"Token","Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},
      {"Sid":"AllButOwn","Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],
       "NotResource":"arn:aws:ecr:us-east-1:111122223333:repository/${aws:username}"}]}"#;
    let alice = "arn:aws:ecr:us-east-1:111122223333:repository/alice";
    let r = check_doc(doc, Workflow::Pull, Some(alice));
    assert_eq!(r.verdict, Verdict::Fail, "{r:#?}");
    assert_eq!(status(&r, "ecr:BatchGetImage"), ActionStatus::WrongResource);
    let a = action(&r, "ecr:BatchGetImage");
    assert!(a.why.contains("policy variable"), "{}", a.why);
    assert!(warning_codes(&r).contains(&Code::NotEvaluated), "{r:#?}");
    // Another account's repository is outside the exclusion whatever the variable holds.
    let other = "arn:aws:ecr:us-east-1:444455556666:repository/alice";
    let r = check_doc(doc, Workflow::Pull, Some(other));
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
}

/// A Deny with `NotResource` is reported with its exclusion once: `NotResource arn:...`, never
/// `NotResource NotResource arn:...` (for one repository and for any repository).
#[test]
fn a_not_resource_deny_is_named_once() {
    let doc = |excluded: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[
      {{"Sid":"Token","Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}},
      {{"Sid":"Pull","Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}},
      {{"Sid":"Only","Effect":"Deny","Action":"ecr:BatchGetImage","NotResource":"{excluded}"}}]}}"#
        )
    };
    for (excluded, repo) in [
        (
            "arn:aws:ecr:us-east-1:111122223333:repository/public-*",
            Some(REPO),
        ),
        ("arn:aws:s3:::logs", None),
    ] {
        let r = check_doc(&doc(excluded), Workflow::Pull, repo);
        assert_eq!(r.verdict, Verdict::Fail, "{r:#?}");
        let a = action(&r, "ecr:BatchGetImage");
        assert_eq!(a.status, ActionStatus::Denied, "{r:#?}");
        assert_eq!(
            a.resource.as_deref(),
            Some(format!("NotResource {excluded}").as_str()),
            "{a:#?}"
        );
        assert!(!a.why.contains("NotResource NotResource"), "{}", a.why);
    }
}

/// Without `--repository`, "any repository" is any repository of the principal's partition (`aws`
/// for policy files): a Deny on every repository of the `aws` partition denies, where it was taken
/// as a partial denial (a pass with a warning; found by adversarial pass 16). An Allow only in
/// another partition is on the wrong resource.
#[test]
fn any_repository_is_any_of_the_partition() {
    let allow_all = r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"}"#;
    for deny in [
        "arn:aws:ecr:*:*:repository/*",
        "arn:aws:ecr:*:*:*",
        "arn:*:ecr:*:*:repository/*",
    ] {
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[{allow_all},{{"Effect":"Deny","Action":"ecr:*","Resource":"{deny}"}}]}}"#
        );
        let r = check_doc(&doc, Workflow::Pull, None);
        assert_eq!(r.verdict, Verdict::Fail, "{deny}: {r:#?}");
        assert_eq!(
            status(&r, "ecr:BatchGetImage"),
            ActionStatus::Denied,
            "{deny}"
        );
    }
    // A Deny on another partition's repositories leaves this one's alone.
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[{allow_all},{{"Effect":"Deny","Action":"ecr:*","Resource":"arn:aws-cn:ecr:*:*:repository/*"}}]}}"#
    );
    assert_eq!(check_doc(&doc, Workflow::Pull, None).verdict, Verdict::Pass);
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws-cn:ecr:*:*:repository/*"}]}"#;
    let r = check_doc(doc, Workflow::Pull, None);
    assert_eq!(status(&r, "ecr:BatchGetImage"), ActionStatus::WrongResource);
}

/// Without `--repository`, the workflow needs one real repository where every action is allowed:
/// grants on ARNs that match no repository (no region, no name, an account that is not one), or
/// actions allowed on different repositories, passed (found by adversarial pass 17). A trailing
/// `/` in `--repository` named no repository and dodged a Deny written for the name.
#[test]
fn any_repository_means_one_real_repository_for_every_action() {
    let pull = |resource_get: &str, resource_layer: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}},
            {{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"{resource_get}"}},
            {{"Effect":"Allow","Action":"ecr:GetDownloadUrlForLayer","Resource":"{resource_layer}"}}]}}"#
        )
    };
    let acct = "arn:aws:ecr:us-east-1:111122223333:repository";
    for bad in [
        "arn:aws:ecr::111122223333:repository/app",
        "arn:aws:ecr:us-east-1:111122223333:repository/",
        "arn:aws:ecr:us-east-1:prod:repository/app",
    ] {
        let r = check_doc(&pull(bad, bad), Workflow::Pull, None);
        assert_eq!(r.verdict, Verdict::Fail, "{bad}: {r:#?}");
    }
    let r = check_doc(
        &pull(&format!("{acct}/app-a"), &format!("{acct}/app-b")),
        Workflow::Pull,
        None,
    );
    assert_eq!(r.verdict, Verdict::Fail, "{r:#?}");
    assert_eq!(codes(&r), vec![Code::WrongResource]);
    assert!(action(&r, "ecr:GetDownloadUrlForLayer")
        .why
        .contains("no repository is allowed every action"));
    let r = check_doc(
        &pull(&format!("{acct}/a"), &format!("{acct}/*")),
        Workflow::Pull,
        None,
    );
    assert_eq!(
        r.verdict,
        Verdict::Fail,
        "repository/a is not a repository name: {r:#?}"
    );
    let r = check_doc(
        &pull(&format!("{acct}/app"), &format!("{acct}/*")),
        Workflow::Pull,
        None,
    );
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    // Patterns that only meet in a repository neither names (adversarial pass 18: these failed).
    let r = check_doc(
        &pull(&format!("{acct}/team-*"), &format!("{acct}/*-prod")),
        Workflow::Pull,
        None,
    );
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    for (allow, deny) in [("myapp*", "myapp"), ("a*b", "ab"), ("a?b", "a0b")] {
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"ecr:*","Resource":"{acct}/{allow}"}},
            {{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}},
            {{"Effect":"Deny","Action":"ecr:*","Resource":"{acct}/{deny}"}}]}}"#
        );
        let r = check_doc(&doc, Workflow::Pull, None);
        assert_eq!(r.verdict, Verdict::Pass, "{allow} less {deny}: {r:#?}");
    }
    // Regions no repository is in, and a Deny of every real region (adversarial pass 19).
    for bad in ["us-east1", "US-EAST-1", "us_east_1"] {
        let arn = format!("arn:aws:ecr:{bad}:111122223333:repository/app");
        let r = check_doc(&pull(&arn, &arn), Workflow::Pull, None);
        assert_eq!(r.verdict, Verdict::Fail, "{bad}: {r:#?}");
        let r = check(&["push-documented.json"], Workflow::Push, Some(&arn));
        assert_eq!(codes(&r), vec![Code::Usage], "{bad}");
    }
    let doc = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"ecr:*","Resource":"*"},
        {"Effect":"Deny","Action":"ecr:*","Resource":"arn:aws:ecr:*-*:*:*"}]}"#;
    assert_eq!(check_doc(doc, Workflow::Pull, None).verdict, Verdict::Fail);
    // Names and accounts no repository can have (adversarial pass 18: these passed).
    for bad in [
        format!("{acct}/App"),
        "arn:aws:ecr:us-east-1:abcdefghijkl:repository/app".to_string(),
        format!("{acct}/-*"),
    ] {
        let r = check_doc(&pull(&bad, &bad), Workflow::Pull, None);
        assert_eq!(r.verdict, Verdict::Fail, "{bad}: {r:#?}");
    }
    // A Deny of one action on the only repository the other is allowed on.
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Action":"ecr:*","Resource":"*"}},
        {{"Effect":"Allow","Action":"ecr:GetDownloadUrlForLayer","Resource":"{acct}/app-b"}},
        {{"Effect":"Deny","Action":"ecr:GetDownloadUrlForLayer","NotResource":"{acct}/app-b"}},
        {{"Effect":"Deny","Action":"ecr:BatchGetImage","Resource":"{acct}/app-b"}}]}}"#
    );
    assert_eq!(check_doc(&doc, Workflow::Pull, None).verdict, Verdict::Fail);

    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("p.json");
    let deny_app = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"ecr:*","Resource":"*"}},{{"Effect":"Deny","Action":"ecr:*","Resource":"{acct}/app"}}]}}"#
    );
    std::fs::write(&file, deny_app).unwrap();
    for bad in [
        "111122223333.dkr.ecr.us-east-1.amazonaws.com/app/",
        "arn:aws:ecr:us-east-1:111122223333:repository/app/",
        "arn:aws:ecr:us-east-1:111122223333:repository/App",
        "arn:aws:ecr:us-east-1:111122223333:repository/a--b",
    ] {
        let r = iam::run(&IamRequest::new(
            vec![file.clone()],
            Workflow::Pull,
            Some(bad.into()),
        ));
        assert_eq!(codes(&r), vec![Code::Usage], "{bad}");
    }
}

/// A permissions boundary (read live; here given directly): its Deny applies to the identity's
/// grants, and with several grants the one the boundary allows counts (a Deny-all-but-x boundary
/// over a grant on y passed; a grant on [a, b] under a boundary of b failed; adversarial pass 17).
#[test]
fn a_boundary_is_judged_with_every_grant() {
    use shipcheck::aws::iam::NamedDocument;
    let acct = "arn:aws:ecr:us-east-1:111122223333:repository";
    let login = r#"{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}"#;
    let doc = |stmts: String| NamedDocument {
        name: "inline:p".into(),
        document: format!(r#"{{"Version":"2012-10-17","Statement":[{login},{stmts}]}}"#),
    };
    let run = |policy: String, boundary: String| {
        let mut req = IamRequest::new(Vec::new(), Workflow::Pull, None);
        req.identity = Some("role r".into());
        req.documents = vec![doc(policy)];
        let mut b = doc(boundary);
        b.name = "boundary:arn:aws:iam::111122223333:policy/b (v1)".into();
        req.boundary = Some(b);
        iam::run(&req)
    };
    let allow = |res: &str| {
        format!(
            r#"{{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":{res}}}"#
        )
    };
    let r = run(
        allow(&format!(r#"["{acct}/app-a","{acct}/app-b"]"#)),
        allow(&format!(r#""{acct}/app-b""#)),
    );
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    let r = run(
        allow(&format!(r#""{acct}/app-y""#)),
        format!(
            r#"{},{{"Effect":"Deny","Action":"*","NotResource":"{acct}/app-x"}}"#,
            allow(r#""*""#)
        ),
    );
    assert_eq!(r.verdict, Verdict::Fail, "{r:#?}");
    let r = run(
        allow(&format!(r#""{acct}/app-a""#)),
        allow(&format!(r#""{acct}/app-b""#)),
    );
    assert_eq!(r.verdict, Verdict::Fail, "{r:#?}");
}
