//! check-endpoints at library level: describe-vpc-endpoints / describe-security-groups outputs from
//! fixtures/endpoints (see gen.py there).

use shipcheck::aws::endpoints::{self, EndpointsReport, EndpointsRequest};
use shipcheck::report::{Code, Verdict};
use std::path::{Path, PathBuf};

const VPC: &str = "vpc-0a1b2c3d4e5f67890";

fn fx(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/endpoints")
        .join(name)
}

fn req(file: &str) -> EndpointsRequest {
    EndpointsRequest {
        region: "us-east-1".into(),
        endpoints: Some(fx(file)),
        ..Default::default()
    }
}

fn codes(r: &EndpointsReport) -> Vec<Code> {
    r.reasons.iter().map(|x| x.code).collect()
}

fn status<'a>(r: &'a EndpointsReport, vpc: &str, suffix: &str) -> &'a str {
    let v = r
        .vpcs
        .iter()
        .find(|v| v.vpc_id.as_deref() == Some(vpc))
        .unwrap_or_else(|| panic!("{vpc} not in {r:#?}"));
    let e = v
        .endpoints
        .iter()
        .find(|e| e.service == format!("com.amazonaws.us-east-1.{suffix}"))
        .unwrap_or_else(|| panic!("{suffix} not in {v:#?}"));
    &e.status
}

#[test]
fn all_endpoints_pass() {
    let r = endpoints::run(&req("all.json"));
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    assert_eq!(r.vpcs.len(), 1);
    assert_eq!(r.vpcs[0].vpc_id.as_deref(), Some(VPC));
    // ecr.api, ecr.dkr, s3, logs; ssm only on request.
    assert_eq!(r.vpcs[0].endpoints.len(), 4);
    for s in ["ecr.api", "ecr.dkr", "s3", "logs"] {
        assert_eq!(status(&r, VPC, s), "ok", "{s}");
    }
    let s3 = r.vpcs[0]
        .endpoints
        .iter()
        .find(|e| e.service.ends_with(".s3"))
        .unwrap();
    assert_eq!(s3.required_type, "Gateway");
    assert_eq!(s3.endpoint_id.as_deref(), Some("vpce-00000000000000013"));
    let mut q = req("all.json");
    q.with_ssm = true;
    let r = endpoints::run(&q);
    assert_eq!(r.verdict, Verdict::Pass);
    assert_eq!(status(&r, VPC, "ssm"), "ok");
}

#[test]
fn secretsmanager_missing_when_asked() {
    let mut q = req("all.json");
    q.with_secretsmanager = true;
    let r = endpoints::run(&q);
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(codes(&r), vec![Code::MissingEndpoint]);
    assert_eq!(status(&r, VPC, "secretsmanager"), "missing");
}

#[test]
fn missing_dkr_fails() {
    let r = endpoints::run(&req("missing-dkr.json"));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.verdict.exit_code(), 1);
    assert_eq!(codes(&r), vec![Code::MissingEndpoint]);
    assert_eq!(status(&r, VPC, "ecr.dkr"), "missing");
    assert_eq!(status(&r, VPC, "ecr.api"), "ok");
    assert!(r.reasons[0]
        .message
        .contains("com.amazonaws.us-east-1.ecr.dkr"));
    assert!(r.reasons[0]
        .hint
        .as_deref()
        .unwrap()
        .contains("create-vpc-endpoint"));
}

#[test]
fn pending_endpoint_fails() {
    let r = endpoints::run(&req("pending.json"));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(codes(&r), vec![Code::EndpointNotAvailable]);
    assert_eq!(status(&r, VPC, "ecr.api"), "not-available");
    assert!(r.reasons[0].message.contains("`pending`"));
}

#[test]
fn private_dns_off_fails() {
    let r = endpoints::run(&req("private-dns-off.json"));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(codes(&r), vec![Code::PrivateDnsDisabled]);
    assert_eq!(status(&r, VPC, "ecr.dkr"), "private-dns-disabled");
    // The S3 gateway endpoint has PrivateDnsEnabled false, which is normal for gateways.
    assert_eq!(status(&r, VPC, "s3"), "ok");
}

#[test]
fn security_groups_with_443_pass() {
    let mut q = req("all.json");
    q.security_groups = Some(fx("sgs-443.json"));
    let r = endpoints::run(&q);
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    let api = &r.vpcs[0].endpoints[0];
    assert!(api.why.contains("10.0.0.0/16"), "{}", api.why);
    q.security_groups = Some(fx("sgs-all-traffic.json"));
    let r = endpoints::run(&q);
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
}

#[test]
fn security_groups_without_443_fail() {
    let mut q = req("all.json");
    q.security_groups = Some(fx("sgs-no-443.json"));
    let r = endpoints::run(&q);
    assert_eq!(r.verdict, Verdict::Fail);
    // ecr.api, ecr.dkr, logs: interface endpoints; the S3 gateway has no security group.
    assert_eq!(codes(&r), vec![Code::Port443Blocked; 3]);
    assert_eq!(status(&r, VPC, "ecr.dkr"), "port-443-blocked");
    assert_eq!(status(&r, VPC, "s3"), "ok");
}

#[test]
fn unknown_security_group_is_a_warning() {
    let mut q = req("unknown-sg.json");
    q.security_groups = Some(fx("sgs-443.json"));
    let r = endpoints::run(&q);
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    assert_eq!(status(&r, VPC, "ecr.dkr"), "unverified");
    assert!(r.warnings.iter().any(
        |w| w.code == Code::UnknownSecurityGroup && w.message.contains("sg-0999999999999999f")
    ));
}

#[test]
fn several_vpcs_are_reported_separately() {
    let r = endpoints::run(&req("two-vpcs.json"));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.vpcs.len(), 2);
    let other = "vpc-0fedcba9876543210";
    assert_eq!(status(&r, VPC, "ecr.dkr"), "ok");
    assert_eq!(status(&r, other, "s3"), "ok");
    assert_eq!(status(&r, other, "ecr.dkr"), "missing");
    assert_eq!(codes(&r), vec![Code::MissingEndpoint; 3]);
    assert!(r.reasons.iter().all(|x| x.message.contains(other)));
    // --vpc narrows the check to one VPC.
    let mut q = req("two-vpcs.json");
    q.vpc = Some(VPC.into());
    let r = endpoints::run(&q);
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    assert_eq!(r.vpcs.len(), 1);
}

#[test]
fn no_endpoints_at_all() {
    let r = endpoints::run(&req("empty.json"));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.vpcs.len(), 1);
    assert_eq!(r.vpcs[0].vpc_id, None);
    assert_eq!(codes(&r), vec![Code::MissingEndpoint; 4]);
}

#[test]
fn wrong_region_warns_and_fails() {
    let mut q = req("all.json");
    q.region = "eu-west-1".into();
    let r = endpoints::run(&q);
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.warnings.iter().any(|w| w.message.contains("us-east-1")));
    q.region = "not a region".into();
    let r = endpoints::run(&q);
    assert_eq!(r.verdict, Verdict::Error);
    assert_eq!(codes(&r), vec![Code::Usage]);
}

#[test]
fn bad_inputs_are_exit_2_with_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("eps.json");
    std::fs::write(
        &p,
        r#"{"VpcEndpoints":[{"VpcEndpointId":"vpce-1","VpcEndpointType":"Interface"}]}"#,
    )
    .unwrap();
    let mut q = req("all.json");
    q.endpoints = Some(p.clone());
    let r = endpoints::run(&q);
    assert_eq!(r.verdict, Verdict::Error);
    assert_eq!(codes(&r), vec![Code::InvalidInput]);
    let m = &r.reasons[0].message;
    assert!(
        m.contains("eps.json")
            && m.contains("`VpcEndpoints[0]`")
            && m.contains("missing field `ServiceName`"),
        "{m}"
    );
    // The security groups of the wrong command.
    q.endpoints = Some(fx("all.json"));
    q.security_groups = Some(fx("all.json"));
    let r = endpoints::run(&q);
    assert_eq!(r.verdict, Verdict::Error);
    let m = &r.reasons[0].message;
    assert!(
        m.contains("all.json") && m.contains("missing field `SecurityGroups`"),
        "{m}"
    );
    assert!(r.reasons[0]
        .hint
        .as_deref()
        .unwrap()
        .contains("describe-security-groups"));
    // A directory.
    q.security_groups = None;
    q.endpoints = Some(dir.path().to_path_buf());
    let r = endpoints::run(&q);
    assert_eq!(r.verdict.exit_code(), 2);
    assert!(
        r.reasons[0].message.contains("is a directory"),
        "{}",
        r.reasons[0].message
    );
}

#[test]
fn text_and_json_shapes() {
    let r = endpoints::run(&req("missing-dkr.json"));
    let (out, err) = shipcheck::commands::check_endpoints::render_text(&r, false);
    assert!(
        out.starts_with("FAIL check-endpoints us-east-1: missing-endpoint\n"),
        "{out}"
    );
    assert!(out.contains(VPC));
    let dkr = out.lines().find(|l| l.contains("ecr.dkr")).unwrap();
    assert!(dkr.contains("missing"), "{out}");
    assert!(
        err.contains("error: no Interface endpoint for com.amazonaws.us-east-1.ecr.dkr"),
        "{err}"
    );
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["verdict"], "fail");
    assert_eq!(j["region"], "us-east-1");
    assert_eq!(j["vpcs"][0]["vpc_id"], VPC);
    assert_eq!(j["reasons"][0]["code"], "missing-endpoint");
}

/// all.json with the policy of the endpoint for `suffix` replaced by `policy`.
fn with_policy(dir: &Path, suffix: &str, policy: &str) -> PathBuf {
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fx("all.json")).unwrap()).unwrap();
    let mut found = false;
    for e in doc["VpcEndpoints"].as_array_mut().unwrap() {
        if e["ServiceName"] == format!("com.amazonaws.us-east-1.{suffix}") {
            e["PolicyDocument"] = policy.into();
            found = true;
        }
    }
    assert!(found, "{suffix}");
    let p = dir.join(format!("{suffix}.json"));
    std::fs::write(&p, doc.to_string()).unwrap();
    p
}

/// Endpoint policies: an S3 gateway endpoint limited to the team's own bucket blocks the image
/// layers ECR serves from its own bucket; a Deny on ecr.dkr blocks pulls; a policy that names the
/// task role, or tests conditions, is a warning (the role is not known here); AWS's documented
/// layer-bucket policy passes.
#[test]
fn endpoint_policies_that_block_tasks_fail() {
    let d = tempfile::tempdir().unwrap();
    let run = |suffix: &str, policy: &str| {
        let mut q = req("all.json");
        q.endpoints = Some(with_policy(d.path(), suffix, policy));
        endpoints::run(&q)
    };
    let own_bucket = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-app-bucket/*"}]}"#;
    let r = run("s3", own_bucket);
    assert_eq!(r.verdict, Verdict::Fail, "{r:#?}");
    assert_eq!(codes(&r), vec![Code::EndpointPolicyDenied]);
    assert_eq!(status(&r, VPC, "s3"), "policy-denied");
    let msg = &r.reasons[0].message;
    assert!(msg.contains("no statement allows s3:GetObject"), "{msg}");
    let hint = r.reasons[0].hint.as_deref().unwrap();
    assert!(
        hint.contains("prod-us-east-1-starport-layer-bucket"),
        "{hint}"
    );

    let layers = r#"{"Statement":[{"Sid":"layers","Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"]}]}"#;
    let r = run("s3", layers);
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");

    let deny = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Sid":"nopull","Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage","Resource":"*"}]}"#;
    let r = run("ecr.dkr", deny);
    assert_eq!(codes(&r), vec![Code::EndpointPolicyDenied]);
    assert!(r.reasons[0].message.contains("`nopull`"), "{r:#?}");

    let role = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/ecsTaskExecutionRole"},"Action":"*","Resource":"*"}]}"#;
    let r = run("logs", role);
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
    assert!(
        r.warnings.iter().any(|w| w.code == Code::NotEvaluated),
        "{r:#?}"
    );
}

/// all.json moved to `region` (service names `prefix`+region), with `policy` on endpoint `suffix`.
fn fixture_in(dir: &Path, region: &str, prefix: &str, suffix: &str, policy: &str) -> PathBuf {
    let text = std::fs::read_to_string(fx("all.json"))
        .unwrap()
        .replace("com.amazonaws.us-east-1.", &format!("{prefix}{region}."));
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut found = false;
    for e in doc["VpcEndpoints"].as_array_mut().unwrap() {
        if e["ServiceName"] == format!("{prefix}{region}.{suffix}") {
            e["PolicyDocument"] = policy.into();
            found = true;
        }
    }
    assert!(found);
    let p = dir.join(format!("{region}-{suffix}.json"));
    std::fs::write(&p, doc.to_string()).unwrap();
    p
}

fn run_in(region: &str, prefix: &str, suffix: &str, policy: &str) -> EndpointsReport {
    let d = tempfile::tempdir().unwrap();
    let q = EndpointsRequest {
        region: region.into(),
        endpoints: Some(fixture_in(d.path(), region, prefix, suffix, policy)),
        ..Default::default()
    };
    endpoints::run(&q)
}

/// AWS's documented layer-bucket policy passes in us-east-1.
#[test]
fn the_documented_layer_bucket_policy_passes() {
    let p = r#"{"Statement":[{"Sid":"Access-to-specific-bucket-only","Principal":"*","Action":["s3:GetObject"],"Effect":"Allow","Resource":["arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"]}]}"#;
    let r = run_in("us-east-1", "com.amazonaws.", "s3", p);
    assert_eq!(r.verdict, Verdict::Pass, "{r:#?}");
}

/// China: the same documented policy, in the aws-cn partition (ARNs start `arn:aws-cn:`). AWS allows
/// the pull; shipcheck must not fail it.
#[test]
fn china_layer_bucket_policy_is_not_denied() {
    let p = r#"{"Statement":[{"Sid":"Access-to-specific-bucket-only","Principal":"*","Action":["s3:GetObject"],"Effect":"Allow","Resource":["arn:aws-cn:s3:::prod-cn-north-1-starport-layer-bucket/*"]}]}"#;
    let r = run_in("cn-north-1", "com.amazonaws.", "s3", p);
    assert_ne!(
        codes(&r),
        vec![Code::EndpointPolicyDenied],
        "{:#?}",
        r.reasons
    );
    assert_eq!(r.verdict, Verdict::Pass, "{:#?}", r.reasons);
}

/// GovCloud: ECR restricted to the account's repositories (arn:aws-us-gov:...).
#[test]
fn govcloud_repository_policy_is_not_denied() {
    let p = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/*"}]}"#;
    let r = run_in("us-gov-west-1", "com.amazonaws.", "ecr.dkr", p);
    assert_ne!(
        codes(&r),
        vec![Code::EndpointPolicyDenied],
        "{:#?}",
        r.reasons
    );
}

/// A conditional Deny is hidden (no warning) when a principal-specific Allow precedes a general Allow.
#[test]
fn conditional_deny_warning_not_lost_by_statement_order() {
    let base = r#"{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}"#;
    let deny = r#"{"Sid":"orgonly","Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc"}}}"#;
    let role = r#"{"Sid":"role","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/x"},"Action":"*","Resource":"*"}"#;
    let without = format!(r#"{{"Statement":[{base},{deny}]}}"#);
    let with = format!(r#"{{"Statement":[{role},{base},{deny}]}}"#);
    let w = |r: &EndpointsReport| {
        r.warnings
            .iter()
            .filter(|w| w.code == Code::NotEvaluated && w.message.contains("may deny"))
            .count()
    };
    let a = run_in("us-east-1", "com.amazonaws.", "ecr.dkr", &without);
    let b = run_in("us-east-1", "com.amazonaws.", "ecr.dkr", &with);
    assert!(w(&a) > 0, "{:#?}", a.warnings);
    assert_eq!(
        w(&a),
        w(&b),
        "without: {:#?}\nwith: {:#?}",
        a.warnings,
        b.warnings
    );
}

/// ecr:GetAuthorizationToken has no resource-level permissions (its resource is `*`): an ecr.api
/// policy that allows only the account's repositories denies it for everyone.
#[test]
fn get_authorization_token_needs_resource_star() {
    let p = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:123456789012:repository/*"}]}"#;
    let r = run_in("us-east-1", "com.amazonaws.", "ecr.api", p);
    assert_eq!(
        codes(&r),
        vec![Code::EndpointPolicyDenied],
        "{:#?}\n{:#?}",
        r.reasons,
        r.warnings
    );
}

/// Realistic shapes that must not false-fail.
#[test]
fn realistic_policies_do_not_false_fail() {
    let cases = [
        (
            "s3",
            r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"s3:Get*","Resource":"arn:aws:s3:::prod-*-starport-layer-bucket/*"}]}"#,
        ),
        (
            "s3",
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"*"}]}"#,
        ),
        (
            "s3",
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"s3:*","NotResource":["arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*","arn:aws:s3:::mine/*"]}]}"#,
        ),
        (
            "ecr.dkr",
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{}}]}"#,
        ),
        (
            "logs",
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:123456789012:log-group:/ecs/*"}]}"#,
        ),
        (
            "ecr.dkr",
            r#"{"Statement":[{"Sid":"AllowPull","Principal":{"AWS":"arn:aws:iam::1234567890:role/role_name"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:GetAuthorizationToken"],"Effect":"Allow","Resource":"*"}]}"#,
        ),
        (
            "ecr.dkr",
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"*","Resource":"*"}]}"#,
        ),
    ];
    let mut bad = Vec::new();
    for (suffix, p) in cases {
        let r = run_in("us-east-1", "com.amazonaws.", suffix, p);
        if r.verdict != Verdict::Pass {
            bad.push(format!("{suffix} {p}: {:?}", r.reasons));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Two S3 gateway endpoints in one VPC (on different route tables, as AWS allows), one of them
/// limited to the team's own bucket: which one tasks use depends on their subnets' route tables,
/// which check-endpoints is not given. The verdict must not depend on the order the endpoints are
/// listed in: the denying one fails the check in either order, naming the one that passes. (The
/// first listed was judged alone: a pass when the permissive one came first.)
#[test]
fn several_gateway_endpoints_are_judged_whatever_their_order() {
    let d = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fx("all.json")).unwrap()).unwrap();
    let list = doc["VpcEndpoints"].as_array_mut().unwrap();
    let i = list
        .iter()
        .position(|e| e["ServiceName"] == "com.amazonaws.us-east-1.s3")
        .unwrap();
    let mut open = list[i].clone();
    open["VpcEndpointId"] = "vpce-0000000000000open".into();
    open["RouteTableIds"] = serde_json::json!(["rtb-0other"]);
    open["PolicyDocument"] =
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#.into();
    let mut shut = list[i].clone();
    shut["VpcEndpointId"] = "vpce-0000000000000shut".into();
    shut["RouteTableIds"] = serde_json::json!(["rtb-0tasks"]);
    shut["PolicyDocument"] = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-app-bucket/*"}]}"#.into();
    list.remove(i);
    // The fixture with the S3 endpoints `order` added last (written as `name`.json), checked.
    let run_with = |name: &str, order: [&serde_json::Value; 2]| {
        let mut doc = doc.clone();
        let list = doc["VpcEndpoints"].as_array_mut().unwrap();
        list.extend(order.iter().map(|e| (*e).clone()));
        let p = d.path().join(format!("{name}.json"));
        std::fs::write(&p, doc.to_string()).unwrap();
        let mut q = req("all.json");
        q.endpoints = Some(p);
        endpoints::run(&q)
    };
    for (name, order) in [
        ("open-first", [&open, &shut]),
        ("shut-first", [&shut, &open]),
    ] {
        let r = run_with(name, order);
        assert_eq!(r.verdict, Verdict::Fail, "{name}: {r:#?}");
        assert_eq!(codes(&r), vec![Code::EndpointPolicyDenied], "{name}");
        let msg = &r.reasons[0].message;
        assert!(
            msg.contains("vpce-0000000000000shut")
                && msg.contains("vpce-0000000000000open (route tables rtb-0other)"),
            "{name}: {msg}"
        );
    }
    // Both pass, one with a policy that cannot be read: its not-evaluated warning is reported in
    // either order (only the first listed endpoint's warnings were kept).
    let mut unread = shut.clone();
    unread["PolicyDocument"] = "{not json".into();
    for (name, order) in [
        ("unread-first", [&unread, &open]),
        ("unread-second", [&open, &unread]),
    ] {
        let r = run_with(name, order);
        assert!(
            r.warnings
                .iter()
                .any(|w| w.code == Code::NotEvaluated
                    && w.message.contains("vpce-0000000000000shut")),
            "{name}: {:#?}",
            r.warnings
        );
    }
}
