//! `check-endpoints` without files and `[[endpoints]]` audit targets: VPC endpoints and security
//! groups read live through the AWS SDK from moto's EC2 (started here on 127.0.0.1): a VPC with every
//! endpoint Fargate needs, and one with an endpoint missing and port 443 closed; and, through the
//! tests' pager, endpoints and security groups on more than one page.

use crate::common;

use common::aws_pager::{Pager, PAGE};
use common::contract::{run, AuditJson, EndpointsJson, Verdict, Verdicted};
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

fn aws(cmd: &mut assert_cmd::Command, moto: &Moto, home: &std::path::Path) {
    aws_env(cmd, &[("EC2", &moto.url())], KEY, home);
}

/// Exit 0, one VPC, every endpoint it needs in place.
fn one_vpc_passes(out: &common::contract::Out<EndpointsJson>) {
    let j = out.exit(0);
    assert_eq!(j.vpcs.len(), 1, "{}", out.stdout);
    assert!(
        j.vpcs[0]
            .endpoints
            .iter()
            .all(|e| e.status == common::contract::EndpointStatus::Ok),
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
