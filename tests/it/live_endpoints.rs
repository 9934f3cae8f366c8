//! `check-endpoints` without files and `[[endpoints]]` audit targets: VPC endpoints and security
//! groups read live through the AWS SDK from moto's EC2 (started here on 127.0.0.1): a VPC with every
//! endpoint Fargate needs, and one with an endpoint missing and port 443 closed; VPCs with no
//! endpoint; and, through the tests' pager, VPCs, endpoints and security groups on more than one
//! page, and a security group left out of EC2's answer.

use crate::common;

use common::aws_pager::{Pager, PAGE};
use common::contract::{run, AuditJson, EndpointStatus, EndpointsJson, Verdict, Verdicted};
use common::moto::{aws_env, xml_field, Moto, KEY};
use common::shipcheck;

fn ec2(moto: &Moto, params: &[(&str, &str)]) -> String {
    let mut all = params.to_vec();
    all.push(("Version", "2016-11-15"));
    let (status, body) = moto.query("ec2", KEY.0, &all);
    assert_eq!(status, 200, "{params:?}: {body}");
    body
}

fn vpc(moto: &Moto, cidr: &str) -> String {
    xml_field(
        &ec2(moto, &[("Action", "CreateVpc"), ("CidrBlock", cidr)]),
        "vpcId",
    )
}

/// A security group in `vpc`, admitting TCP 443 from `cidr` when given.
fn group(moto: &Moto, vpc: &str, name: &str, https_from: Option<&str>) -> String {
    let id = xml_field(
        &ec2(
            moto,
            &[
                ("Action", "CreateSecurityGroup"),
                ("GroupName", name),
                ("GroupDescription", name),
                ("VpcId", vpc),
            ],
        ),
        "groupId",
    );
    if let Some(cidr) = https_from {
        ec2(
            moto,
            &[
                ("Action", "AuthorizeSecurityGroupIngress"),
                ("GroupId", &id),
                ("IpPermissions.1.IpProtocol", "tcp"),
                ("IpPermissions.1.FromPort", "443"),
                ("IpPermissions.1.ToPort", "443"),
                ("IpPermissions.1.IpRanges.1.CidrIp", cidr),
            ],
        );
    }
    id
}

fn interface(moto: &Moto, vpc: &str, service: &str, sg: &str) {
    ec2(
        moto,
        &[
            ("Action", "CreateVpcEndpoint"),
            ("VpcId", vpc),
            ("VpcEndpointType", "Interface"),
            ("ServiceName", &format!("com.amazonaws.us-east-1.{service}")),
            ("PrivateDnsEnabled", "true"),
            ("SecurityGroupId.1", sg),
        ],
    );
}

fn gateway(moto: &Moto, vpc: &str) {
    gateway_with(moto, vpc, None)
}

/// The S3 gateway endpoint, with an endpoint policy when given.
fn gateway_with(moto: &Moto, vpc: &str, policy: Option<&str>) {
    let rtb = xml_field(
        &ec2(moto, &[("Action", "CreateRouteTable"), ("VpcId", vpc)]),
        "routeTableId",
    );
    let mut params = vec![
        ("Action", "CreateVpcEndpoint"),
        ("VpcId", vpc),
        ("VpcEndpointType", "Gateway"),
        ("ServiceName", "com.amazonaws.us-east-1.s3"),
        ("RouteTableId.1", &rtb),
    ];
    if let Some(p) = policy {
        params.push(("PolicyDocument", p));
    }
    ec2(moto, &params);
}

/// The S3 gateway endpoint associated with no route table.
fn gateway_on_no_route_table(moto: &Moto, vpc: &str) {
    ec2(
        moto,
        &[
            ("Action", "CreateVpcEndpoint"),
            ("VpcId", vpc),
            ("VpcEndpointType", "Gateway"),
            ("ServiceName", "com.amazonaws.us-east-1.s3"),
        ],
    );
}

/// A VPC with the interface endpoints Fargate needs (ecr.api, ecr.dkr, logs, behind a group
/// admitting 443) and no S3 endpoint.
fn vpc_with_interfaces(moto: &Moto, cidr: &str) -> String {
    let v = vpc(moto, cidr);
    let open = group(moto, &v, "endpoints-443", Some(cidr));
    for s in ["ecr.api", "ecr.dkr", "logs"] {
        interface(moto, &v, s, &open);
    }
    v
}

fn aws(cmd: &mut assert_cmd::Command, moto: &Moto, home: &std::path::Path) {
    aws_env(cmd, &[("EC2", &moto.url())], KEY, home);
}

/// `check-endpoints --region us-east-1 --json ARGS` with EC2 at `ec2_url` (moto or a proxy).
fn check_live(ec2_url: &str, args: &[&str]) -> common::contract::Out<EndpointsJson> {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = shipcheck();
    aws_env(&mut cmd, &[("EC2", ec2_url)], KEY, home.path());
    cmd.args(["check-endpoints", "--region", "us-east-1", "--json"])
        .args(args);
    run::<EndpointsJson>(cmd)
}

/// Exit 0, one VPC, every endpoint it needs in place.
fn one_vpc_passes(out: &common::contract::Out<EndpointsJson>) {
    let j = out.exit(0);
    assert_eq!(j.vpcs.len(), 1, "{}", out.stdout);
    assert!(
        j.vpcs[0]
            .endpoints
            .iter()
            .all(|e| e.status == EndpointStatus::Ok),
        "{}",
        out.stdout
    );
}

#[test]
fn endpoints_and_security_groups_read_live() {
    let moto = Moto::start();
    let good = vpc(&moto, "10.1.0.0/16");
    let open = group(&moto, &good, "endpoints-443", Some("10.1.0.0/16"));
    for s in ["ecr.api", "ecr.dkr", "logs"] {
        interface(&moto, &good, s, &open);
    }
    gateway(&moto, &good);
    // The other VPC lacks ecr.dkr and the S3 gateway, and its group admits nothing.
    let bad = vpc(&moto, "10.2.0.0/16");
    let closed = group(&moto, &bad, "closed", None);
    for s in ["ecr.api", "logs"] {
        interface(&moto, &bad, s, &closed);
    }

    let home = tempfile::tempdir().unwrap();
    let check = |args: &[&str]| {
        let mut cmd = shipcheck();
        aws(&mut cmd, &moto, home.path());
        cmd.args(["check-endpoints", "--region", "us-east-1", "--json"])
            .args(args);
        run::<EndpointsJson>(cmd)
    };

    one_vpc_passes(&check(&["--vpc", &good]));

    let out = check(&["--vpc", &bad]);
    let j = out.exit(1);
    let mut codes = j.codes();
    codes.sort();
    codes.dedup();
    assert_eq!(
        codes,
        ["missing-endpoint", "port-443-blocked"],
        "{}",
        out.stdout
    );

    // Every VPC of the Region at once.
    let out = check(&[]);
    let j = out.exit(1);
    let ids: Vec<&str> = j.vpcs.iter().filter_map(|v| v.vpc_id.as_deref()).collect();
    assert!(
        ids.contains(&good.as_str()) && ids.contains(&bad.as_str()),
        "{ids:?}"
    );

    // [[endpoints]] in an audit: one result per target.
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("audit.toml");
    std::fs::write(
        &file,
        format!("[[endpoints]]\nvpc = \"{good}\"\n\n[[endpoints]]\nregion = \"us-east-1\"\nvpc = \"{bad}\"\n"),
    )
    .unwrap();
    let mut cmd = shipcheck();
    aws(&mut cmd, &moto, home.path());
    cmd.args(["audit", "--json"]).arg(&file);
    let out = run::<AuditJson>(cmd);
    let j = out.exit(1);
    assert_eq!(j.results.len(), 2, "{}", out.stdout);
    assert_eq!(j.results[0].kind, "endpoints");
    assert_eq!(j.results[0].target, good);
    assert_eq!(j.results[0].verdict(), Verdict::Pass);
    assert_eq!(j.results[1].target, format!("{bad} (us-east-1)"));
    assert_eq!(j.results[1].verdict(), Verdict::Fail);
}

/// The endpoint policy EC2 returns is evaluated: an S3 gateway endpoint limited to another bucket
/// blocks the image layers (ECR serves them from its own bucket).
#[test]
fn an_endpoint_policy_read_live_that_blocks_layers_fails() {
    let moto = Moto::start();
    let v = vpc(&moto, "10.3.0.0/16");
    let open = group(&moto, &v, "endpoints-443", Some("10.3.0.0/16"));
    for s in ["ecr.api", "ecr.dkr", "logs"] {
        interface(&moto, &v, s, &open);
    }
    let own_bucket = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-app-bucket/*"}]}"#;
    gateway_with(&moto, &v, Some(own_bucket));
    let home = tempfile::tempdir().unwrap();
    let mut cmd = shipcheck();
    aws(&mut cmd, &moto, home.path());
    cmd.args([
        "check-endpoints",
        "--region",
        "us-east-1",
        "--json",
        "--vpc",
        &v,
    ]);
    let out = run::<EndpointsJson>(cmd);
    let j = out.exit(1);
    assert_eq!(j.codes(), ["endpoint-policy-denied"], "{}", out.stdout);
}

/// EC2 answers `DescribeVpcEndpoints` and `DescribeSecurityGroups` a page at a time (moto does not;
/// the tests' pager in front of it does, [`PAGE`] items per page): a VPC whose endpoints and groups
/// span pages passes only if every page is read. The gateway endpoint and the last group are on
/// the last pages; a check that stopped at the first page would report them missing.
#[test]
fn every_page_of_endpoints_and_security_groups_is_read() {
    let moto = Moto::start();
    let pager = Pager::start(moto.port);
    let net = vpc(&moto, "10.3.0.0/16");
    let services = ["ecr.api", "ecr.dkr", "logs", "ssm"];
    for s in services {
        let sg = group(&moto, &net, &format!("endpoint-{s}"), Some("10.3.0.0/16"));
        interface(&moto, &net, s, &sg);
    }
    gateway(&moto, &net);
    assert!(services.len() + 1 > PAGE && services.len() > PAGE);

    let home = tempfile::tempdir().unwrap();
    let mut cmd = shipcheck();
    aws_env(&mut cmd, &[("EC2", &pager.url())], KEY, home.path());
    cmd.args([
        "check-endpoints",
        "--region",
        "us-east-1",
        "--json",
        "--with-ssm",
        "--vpc",
        &net,
    ]);
    one_vpc_passes(&run::<EndpointsJson>(cmd));
    assert_eq!(pager.calls("DescribeVpcEndpoints"), 2);
    assert_eq!(pager.calls("DescribeSecurityGroups"), 2);
}

/// An S3 gateway endpoint associated with no route table carries no subnet's traffic: the image
/// layers have no endpoint, a failure naming it (it was `ok` with a warning, and passed). A second
/// S3 gateway endpoint on a route table is the one tasks use: the VPC passes.
#[test]
fn an_s3_gateway_endpoint_on_no_route_table_fails() {
    let moto = Moto::start();
    let v = vpc_with_interfaces(&moto, "10.4.0.0/16");
    gateway_on_no_route_table(&moto, &v);

    let out = check_live(&moto.url(), &["--vpc", &v]);
    let j = out.exit(1);
    assert_eq!(j.codes(), ["no-route-tables"], "{}", out.stdout);
    assert!(
        j.reasons[0].message.contains("has no route table"),
        "{}",
        out.stdout
    );
    assert_eq!(j.endpoint(&v, "s3").status, EndpointStatus::Missing);

    gateway(&moto, &v);
    one_vpc_passes(&check_live(&moto.url(), &["--vpc", &v]));
}

/// `audit --json` of `toml` with EC2 at moto.
fn audit_live(moto: &Moto, toml: &str) -> common::contract::Out<AuditJson> {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("audit.toml");
    std::fs::write(&file, toml).unwrap();
    let mut cmd = shipcheck();
    aws(&mut cmd, moto, d.path());
    cmd.args(["audit", "--json"]).arg(&file);
    run::<AuditJson>(cmd)
}

/// Without `--vpc` every VPC of the Region is read (`DescribeVpcs`, every page). A VPC with no
/// endpoint at all is not checked (its tasks may reach ECR through a NAT gateway, which shipcheck
/// does not see) but is named in a `not-evaluated` warning and counted: it was silently left out
/// while the run passed "in 1 VPC(s)". A Region where no VPC has an endpoint has nothing to check
/// (exit 2, never a pass), and a `--vpc` EC2 does not know is `not-found`, not a missing endpoint.
#[test]
fn vpcs_without_endpoints_are_named_and_never_silently_pass() {
    let moto = Moto::start();
    let pager = Pager::start(moto.port);
    // moto's default VPC and these two: no endpoint anywhere.
    let bare: Vec<String> = ["10.5.0.0/16", "10.6.0.0/16"]
        .iter()
        .map(|c| vpc(&moto, c))
        .collect();
    let out = check_live(&pager.url(), &[]);
    let j = out.exit(2);
    assert_eq!(j.codes(), ["not-found"], "{}", out.stdout);
    assert!(
        j.reasons[0].message.contains("nothing to check"),
        "{}",
        out.stdout
    );
    assert!(j.vpcs.is_empty(), "{}", out.stdout);
    assert!(
        bare.iter().all(|v| j.unchecked_vpcs.contains(v)),
        "{}",
        out.stdout
    );

    // A VPC with every endpoint, created last (on the last page of DescribeVpcs): it is the one
    // checked, and passes; the others are named and counted.
    let good = vpc_with_interfaces(&moto, "10.7.0.0/16");
    gateway(&moto, &good);
    let before = pager.calls("DescribeVpcs");
    let out = check_live(&pager.url(), &[]);
    let j = out.exit(0);
    assert_eq!(
        pager.calls("DescribeVpcs") - before,
        2,
        "4 VPCs in pages of 3"
    );
    assert_eq!(j.vpcs.len(), 1, "{}", out.stdout);
    assert_eq!(j.vpcs[0].vpc_id.as_deref(), Some(good.as_str()));
    assert_eq!(j.unchecked_vpcs.len(), 3, "{}", out.stdout);
    for v in &bare {
        assert!(j.unchecked_vpcs.contains(v), "{}", out.stdout);
        assert!(
            j.warnings
                .iter()
                .any(|w| w.code == "not-evaluated" && w.message.contains(v.as_str())),
            "{}",
            out.stdout
        );
    }
    let home = tempfile::tempdir().unwrap();
    let mut cmd = shipcheck();
    aws(&mut cmd, &moto, home.path());
    cmd.args(["check-endpoints", "--region", "us-east-1"]);
    let text = cmd.output().unwrap();
    assert_eq!(text.status.code(), Some(0));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&text.stdout),
        String::from_utf8_lossy(&text.stderr),
    );
    assert!(
        stdout.contains("1 VPC(s) checked; 3 VPC(s) without endpoints not checked"),
        "{stdout}"
    );
    assert!(stderr.contains(&format!("--vpc {}", bare[0])), "{stderr}");

    // Named, a VPC with no endpoint is required to have them.
    let out = check_live(&moto.url(), &["--vpc", &bare[0]]);
    let j = out.exit(1);
    assert!(
        j.codes().iter().all(|c| *c == "missing-endpoint"),
        "{}",
        out.stdout
    );

    // A VPC EC2 does not know.
    let out = check_live(&moto.url(), &["--vpc", "vpc-0123456789abcdef0"]);
    let j = out.exit(2);
    assert_eq!(j.codes(), ["not-found"], "{}", out.stdout);
    assert!(j.reasons[0].message.contains("vpc-0123456789abcdef0"));

    // [[endpoints]] targets: the same.
    let out = audit_live(
        &moto,
        "[[endpoints]]\nregion = \"us-east-1\"\n\n[[endpoints]]\nvpc = \"vpc-0123456789abcdef0\"\n",
    );
    let j = out.exit(2);
    assert_eq!(j.results[0].verdict(), Verdict::Pass, "{}", out.stdout);
    assert_eq!(j.results[0].endpoints().unchecked_vpcs.len(), 3);
    assert_eq!(j.results[1].codes(), ["not-found"], "{}", out.stdout);
}

/// Live, the security groups of the endpoints are asked for by ID: a group EC2 does not know (one
/// deleted, or the caller cannot see) is an error naming it, exit 2. Through a `group-id` filter it
/// was silently left out, the endpoints were `unverified`, and the run passed. (moto takes a deleted
/// group off its endpoints; the tests' pager makes the endpoints name one EC2 does not know.)
#[test]
fn a_security_group_ec2_does_not_know_is_an_error_naming_it() {
    let moto = Moto::start();
    let pager = Pager::start(moto.port);
    let v = vpc(&moto, "10.8.0.0/16");
    let open = group(&moto, &v, "open", Some("10.8.0.0/16"));
    for s in ["ecr.api", "ecr.dkr", "logs"] {
        interface(&moto, &v, s, &open);
    }
    gateway(&moto, &v);
    let gone = "sg-0000000000000dead";
    pager.rewrite("DescribeVpcEndpoints", &open, gone);

    let out = check_live(&pager.url(), &["--vpc", &v]);
    let j = out.exit(2);
    assert_eq!(j.codes(), ["not-found"], "{}", out.stdout);
    let m = &j.reasons[0].message;
    assert!(
        m.contains("ec2:DescribeSecurityGroups") && m.contains(gone),
        "{}",
        out.stdout
    );
}

/// EC2 answers `DescribeSecurityGroups` without a group an endpoint uses (moto cannot: the tests'
/// pager rewrites its answer): port 443 is unverified, which live is an error (exit 2) naming the
/// group and the action, worded for EC2's answer, not for a file. It was a warning about "the
/// security groups file", and the run passed.
#[test]
fn a_security_group_left_out_of_ec2s_answer_is_an_error() {
    let moto = Moto::start();
    let pager = Pager::start(moto.port);
    let v = vpc(&moto, "10.9.0.0/16");
    let hidden = group(&moto, &v, "hidden", Some("10.9.0.0/16"));
    for s in ["ecr.api", "ecr.dkr", "logs"] {
        interface(&moto, &v, s, &hidden);
    }
    gateway(&moto, &v);
    pager.rewrite("DescribeSecurityGroups", &hidden, "sg-0000000000000other");

    let out = check_live(&pager.url(), &["--vpc", &v]);
    let j = out.exit(2);
    assert_eq!(j.codes(), ["not-found"; 3], "{}", out.stdout);
    for r in &j.reasons {
        assert!(
            r.message.contains(&hidden) && r.message.contains("ec2:DescribeSecurityGroups"),
            "{}",
            out.stdout
        );
    }
    assert_eq!(j.endpoint(&v, "ecr.dkr").status, EndpointStatus::Unverified);
    assert!(
        !out.stdout.contains("security groups file")
            && !out.stderr.contains("security groups file"),
        "{}",
        out.stdout
    );
}
