//! Can Fargate tasks in private subnets pull from ECR and ship logs through VPC endpoints?
//!
//! Checks, per VPC, the endpoints AWS documents for Fargate without internet access: interface
//! `ecr.api`, `ecr.dkr`, `logs` (and `ssm` / `secretsmanager` when asked), the S3 gateway endpoint for
//! image layers, each `available`, interface endpoints with private DNS, and a security group
//! admitting TCP 443. The endpoints and security groups come from `aws ec2 describe-vpc-endpoints` /
//! `describe-security-groups` output files ([`run`]) or live from EC2 ([`run_live`]); the evaluation
//! is the same.

use crate::aws::endpoint_policy::{self, Access, Decision};
use crate::input;
use crate::report::{verdict_of, Code, Reason, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub struct EndpointsRequest {
    /// The Region whose service names the endpoints must have (`--region`); also the Region read live.
    pub region: String,
    /// `aws ec2 describe-vpc-endpoints` output (`None`: read live from EC2).
    pub endpoints: Option<PathBuf>,
    /// `aws ec2 describe-security-groups` output.
    pub security_groups: Option<PathBuf>,
    /// Tasks read SSM parameters (`secrets` / `valueFrom` with an SSM ARN): require `ssm`.
    pub with_ssm: bool,
    /// Tasks read Secrets Manager secrets: require `secretsmanager`.
    pub with_secretsmanager: bool,
    /// Check only this VPC (default: every VPC that appears in the file; live, every VPC of the
    /// Region that has an endpoint).
    pub vpc: Option<String>,
}

/// The JSON object `check-endpoints --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointsReport {
    /// `pass`, `fail` or `error` (exit 0, 1, 2).
    pub verdict: Verdict,
    /// Why the check did not pass; empty on a pass.
    pub reasons: Vec<Reason>,
    /// Findings that never change the verdict: `unknown-security-group` (files), `not-evaluated`,
    /// and `missing-endpoint` for endpoints of other Regions or S3 reached through an interface endpoint.
    pub warnings: Vec<Reason>,
    /// The Region checked.
    pub region: String,
    /// One entry per VPC checked.
    pub vpcs: Vec<VpcResult>,
    /// Live without `--vpc`: the VPCs with no VPC endpoint at all, which were not checked (each
    /// also a `not-evaluated` warning). Empty with files or `--vpc`.
    pub unchecked_vpcs: Vec<String>,
}

/// The required endpoints of one VPC.
#[derive(Debug, Clone, Serialize)]
pub struct VpcResult {
    /// `null` when the file holds no endpoint at all.
    pub vpc_id: Option<String>,
    /// One entry per required service.
    pub endpoints: Vec<EndpointCheck>,
}

/// One required service in one VPC, and the endpoint found for it.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointCheck {
    /// Full service name, e.g. `com.amazonaws.us-east-1.ecr.dkr`.
    pub service: String,
    /// `Interface` or `Gateway`: what the check requires.
    pub required_type: String,
    /// `ok`, `missing`, `not-available`, `private-dns-disabled`, `port-443-blocked`,
    /// `policy-denied` or `unverified` (attached security groups not in the security groups file;
    /// live, not in EC2's answer, which is an error).
    pub status: String,
    /// The endpoint found (`vpce-...`), or null when none.
    pub endpoint_id: Option<String>,
    /// The endpoint's type as EC2 reports it (`Interface`, `Gateway`), or null.
    pub endpoint_type: Option<String>,
    /// The endpoint's state (`available`, `pending`, ...), or null.
    pub state: Option<String>,
    /// Whether the endpoint has private DNS enabled, or null when EC2 does not say.
    pub private_dns: Option<bool>,
    /// The security groups attached to the endpoint.
    pub security_groups: Vec<String>,
    /// What the endpoint is for, and what was found.
    pub why: String,
}

// ---- input shapes (AWS outputs: unknown fields are ignored; the live path builds the same) ----

/// `aws ec2 describe-vpc-endpoints` output (other fields are ignored).
#[derive(Debug, Deserialize)]
pub struct DescribeVpcEndpoints {
    /// `VpcEndpoints`: the endpoints.
    #[serde(rename = "VpcEndpoints")]
    pub vpc_endpoints: Vec<VpcEndpoint>,
}

/// One VPC endpoint, as EC2 describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct VpcEndpoint {
    /// `VpcEndpointId` (`vpce-...`).
    #[serde(rename = "VpcEndpointId")]
    pub id: String,
    /// `VpcEndpointType`: `Interface`, `Gateway` or `GatewayLoadBalancer`.
    #[serde(rename = "VpcEndpointType")]
    pub kind: Option<String>,
    /// `VpcId`: the VPC the endpoint is in.
    #[serde(rename = "VpcId")]
    pub vpc_id: Option<String>,
    /// `ServiceName`, e.g. `com.amazonaws.us-east-1.ecr.dkr`.
    #[serde(rename = "ServiceName")]
    pub service: String,
    /// `State`, e.g. `available`.
    #[serde(rename = "State")]
    pub state: Option<String>,
    /// `PrivateDnsEnabled`.
    #[serde(rename = "PrivateDnsEnabled")]
    pub private_dns: Option<bool>,
    /// `Groups`: the security groups attached (interface endpoints).
    #[serde(rename = "Groups", default)]
    pub groups: Vec<GroupRef>,
    /// `RouteTableIds`: the route tables associated (gateway endpoints).
    #[serde(rename = "RouteTableIds", default)]
    pub route_tables: Vec<String>,
    /// `PolicyDocument`: the endpoint policy as JSON text (absent: the default, full access).
    #[serde(rename = "PolicyDocument", default)]
    pub policy_document: Option<String>,
}

/// A reference to a security group.
#[derive(Debug, Clone, Deserialize)]
pub struct GroupRef {
    /// `GroupId` (`sg-...`).
    #[serde(rename = "GroupId")]
    pub id: String,
}

/// `aws ec2 describe-security-groups` output (other fields are ignored).
#[derive(Debug, Deserialize)]
pub struct DescribeSecurityGroups {
    /// `SecurityGroups`: the security groups.
    #[serde(rename = "SecurityGroups")]
    pub groups: Vec<SecurityGroup>,
}

/// One security group, as EC2 describes it.
#[derive(Debug, Deserialize)]
pub struct SecurityGroup {
    /// `GroupId` (`sg-...`).
    #[serde(rename = "GroupId")]
    pub id: String,
    /// `IpPermissions`: the inbound rules.
    #[serde(rename = "IpPermissions", default)]
    pub ingress: Vec<IpPermission>,
}

/// One inbound rule of a security group.
#[derive(Debug, Deserialize)]
pub struct IpPermission {
    /// `IpProtocol`: `tcp`, `udp`, `icmp`, a protocol number, or `-1` for all.
    #[serde(rename = "IpProtocol")]
    pub protocol: String,
    /// `FromPort`: the first port of the range (absent for all protocols).
    #[serde(rename = "FromPort")]
    pub from: Option<i64>,
    /// `ToPort`: the last port of the range (absent for all protocols).
    #[serde(rename = "ToPort")]
    pub to: Option<i64>,
    /// `IpRanges`: IPv4 CIDR sources.
    #[serde(rename = "IpRanges", default)]
    pub ipv4: Vec<CidrV4>,
    /// `Ipv6Ranges`: IPv6 CIDR sources.
    #[serde(rename = "Ipv6Ranges", default)]
    pub ipv6: Vec<CidrV6>,
    /// `UserIdGroupPairs`: security group sources.
    #[serde(rename = "UserIdGroupPairs", default)]
    pub groups: Vec<GroupRef>,
    /// `PrefixListIds`: prefix list sources.
    #[serde(rename = "PrefixListIds", default)]
    pub prefix_lists: Vec<PrefixList>,
}

/// An IPv4 CIDR source of a rule.
#[derive(Debug, Deserialize)]
pub struct CidrV4 {
    /// `CidrIp`, e.g. `10.0.0.0/16`.
    #[serde(rename = "CidrIp")]
    pub cidr: String,
}

/// An IPv6 CIDR source of a rule.
#[derive(Debug, Deserialize)]
pub struct CidrV6 {
    /// `CidrIpv6`, e.g. `2001:db8::/32`.
    #[serde(rename = "CidrIpv6")]
    pub cidr: String,
}

/// A prefix list source of a rule.
#[derive(Debug, Deserialize)]
pub struct PrefixList {
    /// `PrefixListId` (`pl-...`).
    #[serde(rename = "PrefixListId")]
    pub id: String,
}

/// One required service.
struct Need {
    suffix: &'static str,
    interface: bool,
    purpose: &'static str,
}

const NEEDS: &[Need] = &[
    Need {
        suffix: "ecr.api",
        interface: true,
        purpose: "ECR API calls (GetAuthorizationToken, image metadata)",
    },
    Need {
        suffix: "ecr.dkr",
        interface: true,
        purpose: "the Docker registry API (manifests) at ACCOUNT.dkr.ecr.REGION.amazonaws.com",
    },
    Need {
        suffix: "s3",
        interface: false,
        purpose: "image layers, which ECR serves from Amazon S3",
    },
    Need {
        suffix: "logs",
        interface: true,
        purpose: "the awslogs log driver (CloudWatch Logs)",
    },
];
const SSM: Need = Need {
    suffix: "ssm",
    interface: true,
    purpose: "SSM Parameter Store values in `secrets`",
};
const SECRETS: Need = Need {
    suffix: "secretsmanager",
    interface: true,
    purpose: "Secrets Manager secrets in `secrets`",
};

/// The region from a service name `com.amazonaws.R.svc` or `cn.com.amazonaws.R.svc`.
fn service_region(name: &str) -> Option<&str> {
    let rest = name
        .strip_prefix("com.amazonaws.")
        .or_else(|| name.strip_prefix("cn.com.amazonaws."))?;
    rest.split('.').next()
}

fn valid_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether an ingress rule admits TCP 443 from some source; returns the sources.
fn admits_443(p: &IpPermission) -> Option<Vec<String>> {
    let proto = p.protocol.to_ascii_lowercase();
    let port_ok = match proto.as_str() {
        "-1" | "all" => true,
        "tcp" | "6" => match (p.from, p.to) {
            (Some(f), Some(t)) => (f == -1 && t == -1) || (f <= 443 && 443 <= t),
            _ => true,
        },
        _ => false,
    };
    if !port_ok {
        return None;
    }
    let mut src: Vec<String> = Vec::new();
    src.extend(p.ipv4.iter().map(|c| c.cidr.clone()));
    src.extend(p.ipv6.iter().map(|c| c.cidr.clone()));
    src.extend(p.groups.iter().map(|g| g.id.clone()));
    src.extend(p.prefix_lists.iter().map(|g| g.id.clone()));
    if src.is_empty() {
        None
    } else {
        Some(src)
    }
}

fn state_available(e: &VpcEndpoint) -> bool {
    e.state
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("available"))
}

/// Ranks candidates for one service: lower is better.
fn rank(e: &VpcEndpoint, need: &Need) -> u8 {
    let type_ok = e
        .kind
        .as_deref()
        .map(|k| {
            k.eq_ignore_ascii_case(if need.interface {
                "Interface"
            } else {
                "Gateway"
            })
        })
        .unwrap_or(true);
    let mut r = 0;
    if !type_ok {
        r += 4;
    }
    if !state_available(e) {
        r += 2;
    }
    if need.interface && e.private_dns != Some(true) {
        r += 1;
    }
    // A gateway endpoint on no route table carries no subnet's traffic: one on route tables is
    // preferred to it.
    if !need.interface && type_ok && e.route_tables.is_empty() {
        r += 1;
    }
    r
}

/// The report before anything is known, for `region`.
fn empty_report(region: &str) -> EndpointsReport {
    EndpointsReport {
        verdict: Verdict::Error,
        reasons: Vec::new(),
        warnings: Vec::new(),
        region: region.to_string(),
        vpcs: Vec::new(),
        unchecked_vpcs: Vec::new(),
    }
}

/// A report that could not be made: `r` says why.
pub fn failed(region: &str, r: Reason) -> EndpointsReport {
    let mut report = empty_report(region);
    report.reasons.push(r);
    report.verdict = verdict_of(&report.reasons);
    report
}

/// `--region` must be an AWS Region name (it is also the Region the live path calls).
fn check_region(region: &str) -> Result<(), Reason> {
    if valid_region(region) {
        return Ok(());
    }
    Err(Reason::new(
        Code::Usage,
        format!("--region `{region}` is not an AWS region name"),
    )
    .hint("e.g. --region us-east-1"))
}

/// Runs the check on the files of `req`. Pure: reads the files, no network.
pub fn run(req: &EndpointsRequest) -> EndpointsReport {
    if let Err(r) = check_region(&req.region) {
        return failed(&req.region, r);
    }
    let Some(path) = &req.endpoints else {
        return failed(
            &req.region,
            Reason::usage("no describe-vpc-endpoints file (without one, the check reads EC2 live)"),
        );
    };
    let eps: DescribeVpcEndpoints = match input::read_json(path) {
        Ok(e) => e,
        Err(r) => {
            return failed(
                &req.region,
                r.hint("expected the output of `aws ec2 describe-vpc-endpoints --output json`"),
            )
        }
    };
    let sgs: Option<BTreeMap<String, SecurityGroup>> =
        match &req.security_groups {
            None => None,
            Some(p) => match input::read_json::<DescribeSecurityGroups>(p) {
                Ok(d) => Some(d.groups.into_iter().map(|g| (g.id.clone(), g)).collect()),
                Err(r) => return failed(
                    &req.region,
                    r.hint(
                        "expected the output of `aws ec2 describe-security-groups --output json`",
                    ),
                ),
            },
        };
    let groups = sgs.as_ref().map_or(Groups::NotGiven, Groups::File);
    evaluate(req, &eps.vpc_endpoints, groups)
}

/// Runs the check on what EC2 answers now: `DescribeVpcs` and `DescribeVpcEndpoints` (every page;
/// only `req.vpc`'s when set) and `DescribeSecurityGroups` for the groups those endpoints use.
///
/// Without `req.vpc`, every VPC with an endpoint is checked; a VPC with no endpoint at all is not
/// (its tasks may reach ECR through a NAT gateway or public IPs, which EC2's endpoints do not show)
/// and is named in `unchecked_vpcs` and a `not-evaluated` warning. A Region where no VPC has an
/// endpoint is `not-found` (exit 2: nothing to check), never a pass; `req.vpc` naming a VPC EC2
/// does not know is `not-found` too.
pub async fn run_live(req: &EndpointsRequest, ec2: &super::ec2::Ec2) -> EndpointsReport {
    let region = req.region.as_str();
    if let Err(r) = check_region(region) {
        return failed(region, r);
    }
    let vpcs = match ec2.vpcs(req.vpc.as_deref()).await {
        Ok(v) => v,
        Err(r) => return failed(region, r),
    };
    if let Some(v) = &req.vpc {
        if !vpcs.contains(v) {
            return failed(
                region,
                Reason::new(Code::NotFound, format!("EC2 has no VPC `{v}` in {region}"))
                    .hint("check the VPC ID (--vpc, or the audit's `vpc`) and the Region: aws ec2 describe-vpcs"),
            );
        }
    }
    let eps = match ec2.vpc_endpoints(req.vpc.as_deref()).await {
        Ok(e) => e,
        Err(r) => return failed(&req.region, r),
    };
    let ids: BTreeSet<String> = eps
        .iter()
        .flat_map(|e| e.groups.iter().map(|g| g.id.clone()))
        .collect();
    let sgs = match ec2.security_groups(&ids).await {
        Ok(g) => g,
        Err(r) => return failed(&req.region, r),
    };
    let with_endpoints: BTreeSet<&str> = eps.iter().filter_map(|e| e.vpc_id.as_deref()).collect();
    let unchecked: Vec<String> = vpcs
        .iter()
        .filter(|v| req.vpc.is_none() && !with_endpoints.contains(v.as_str()))
        .cloned()
        .collect();
    let mut report = if eps.is_empty() && req.vpc.is_none() {
        failed(
            region,
            Reason::new(
                Code::NotFound,
                format!("no VPC in {region} has a VPC endpoint: nothing to check"),
            )
            .hint("name the VPC Fargate tasks run in to require the endpoints there: --vpc ID (in an audit, vpc = \"ID\")"),
        )
    } else {
        evaluate(req, &eps, Groups::Live(&sgs))
    };
    for v in &unchecked {
        report.warnings.push(
            Reason::new(
                Code::NotEvaluated,
                format!("VPC {v} has no VPC endpoint and was not checked: its tasks may reach ECR through a NAT gateway or public IPs, which shipcheck does not see"),
            )
            .hint(format!("if Fargate tasks run in {v} without internet access, require the endpoints there: --vpc {v} (in an audit, vpc = \"{v}\")")),
        );
    }
    report.unchecked_vpcs = unchecked;
    report
}

/// The security groups the check knows, by ID, and where they come from.
#[derive(Debug, Clone, Copy)]
pub enum Groups<'a> {
    /// No security groups file: the port 443 check is not made.
    NotGiven,
    /// The `--security-groups` file: a group not in it is an `unknown-security-group` warning
    /// (the file may hold only some groups) and the endpoint's port 443 check `unverified`.
    File(&'a BTreeMap<String, SecurityGroup>),
    /// EC2's `DescribeSecurityGroups` answer for the endpoints' groups: a group not in it leaves
    /// port 443 unverified, which is an error (exit 2), never a pass.
    Live(&'a BTreeMap<String, SecurityGroup>),
}

impl<'a> Groups<'a> {
    fn known(self) -> Option<&'a BTreeMap<String, SecurityGroup>> {
        match self {
            Groups::NotGiven => None,
            Groups::File(m) | Groups::Live(m) => Some(m),
        }
    }
}

/// The check itself, on endpoints and (when known) security groups by ID.
// Long: groups endpoints by VPC and runs check_need for each required service; the warnings about other Regions and unknown groups belong to the whole evaluation.
pub fn evaluate(req: &EndpointsRequest, endpoints: &[VpcEndpoint], sgs: Groups) -> EndpointsReport {
    let mut report = empty_report(&req.region);
    let region = req.region.as_str();
    let mut needs: Vec<&Need> = NEEDS.iter().collect();
    if req.with_ssm {
        needs.push(&SSM);
    }
    if req.with_secretsmanager {
        needs.push(&SECRETS);
    }

    // Endpoints of other regions: likely a wrong --region.
    let others: BTreeSet<&str> = endpoints
        .iter()
        .filter_map(|e| service_region(&e.service))
        .filter(|r| *r != region)
        .collect();
    if !others.is_empty() {
        report.warnings.push(Reason::new(
            Code::MissingEndpoint,
            format!(
                "the file holds endpoints for other regions ({}), which are not counted for {region}",
                others.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ).hint("check --region"));
    }

    // Group by VPC.
    let mut vpcs: BTreeMap<Option<String>, Vec<&VpcEndpoint>> = BTreeMap::new();
    for e in endpoints {
        if let Some(v) = &req.vpc {
            if e.vpc_id.as_deref() != Some(v.as_str()) {
                continue;
            }
        }
        vpcs.entry(e.vpc_id.clone()).or_default().push(e);
    }
    if vpcs.is_empty() {
        vpcs.insert(req.vpc.clone(), Vec::new());
    }
    let several = vpcs.len() > 1;
    let mut unknown_groups: BTreeSet<String> = BTreeSet::new();

    for (vpc_id, list) in vpcs {
        let vpc_text = vpc_id.clone().unwrap_or_else(|| "the VPC".to_string());
        let in_vpc = if several || vpc_id.is_some() {
            format!(" in {vpc_text}")
        } else {
            String::new()
        };
        let mut checks = Vec::new();
        for need in &needs {
            let (c, reasons) = check_need(
                need,
                region,
                &list,
                sgs,
                &in_vpc,
                &mut report.warnings,
                &mut unknown_groups,
            );
            report.reasons.extend(reasons);
            checks.push(c);
        }
        report.vpcs.push(VpcResult {
            vpc_id,
            endpoints: checks,
        });
    }
    // Live, each endpoint whose groups EC2 did not describe is an error of its own (in `judge`).
    let file = matches!(sgs, Groups::File(_));
    for g in unknown_groups.into_iter().filter(|_| file) {
        report.warnings.push(
            Reason::new(
                Code::UnknownSecurityGroup,
                format!(
                    "security group {g} is attached to an endpoint but is not in the security groups file; its rules were not checked"
                ),
            )
            .hint("describe all the groups: aws ec2 describe-security-groups --group-ids ..."),
        );
    }
    report.verdict = verdict_of(&report.reasons);
    report
}

/// One required service in one VPC: the best candidate endpoint and what is wrong with it (the
/// reasons), warnings added to `warnings`, security groups not known added to `unknown_groups`.
fn check_need(
    need: &Need,
    region: &str,
    list: &[&VpcEndpoint],
    sgs: Groups,
    in_vpc: &str,
    warnings: &mut Vec<Reason>,
    unknown_groups: &mut BTreeSet<String>,
) -> (EndpointCheck, Vec<Reason>) {
    let service = format!("com.amazonaws.{region}.{}", need.suffix);
    let cn_service = format!("cn.{service}");
    let mut candidates: Vec<&VpcEndpoint> = list
        .iter()
        .copied()
        .filter(|e| e.service == service || e.service == cn_service)
        .collect();
    candidates.sort_by_key(|e| rank(e, need));
    let Some(best) = candidates.first().map(|e| rank(e, need)) else {
        return judge(need, region, None, sgs, in_vpc, warnings, unknown_groups);
    };
    // Several equally good endpoints (S3 gateway endpoints on different route tables): which one
    // tasks use depends on their subnets' route tables, which shipcheck is not given. The verdict
    // must not depend on the order they are listed in: the first that fails is reported.
    let equals: Vec<&VpcEndpoint> = candidates
        .iter()
        .copied()
        .filter(|e| rank(e, need) == best)
        .collect();
    let judged: Vec<_> = equals
        .iter()
        .map(|e| {
            let (mut w, mut g) = (Vec::new(), BTreeSet::new());
            let (c, problems) = judge(need, region, Some(e), sgs, in_vpc, &mut w, &mut g);
            (e, c, problems, w, g)
        })
        .collect();
    let pick = judged
        .iter()
        .position(|(_, _, p, _, _)| !p.is_empty())
        .unwrap_or(0);
    let named = |e: &VpcEndpoint| {
        if e.route_tables.is_empty() {
            e.id.clone()
        } else {
            format!("{} (route tables {})", e.id, e.route_tables.join(", "))
        }
    };
    let passing: Vec<String> = judged
        .iter()
        .filter(|(_, _, p, _, _)| p.is_empty())
        .map(|(e, _, _, _, _)| named(e))
        .collect();
    // Every candidate's warnings and unknown security groups count, whichever is reported.
    for (_, _, _, w, g) in &judged {
        for r in w {
            if !warnings.contains(r) {
                warnings.push(r.clone());
            }
        }
        unknown_groups.extend(g.iter().cloned());
    }
    let (e, c, mut problems, _, _) = judged.into_iter().nth(pick).expect("one candidate");
    if !problems.is_empty() && !passing.is_empty() {
        let note = format!(
            " (another endpoint for the same service passes: {}; tasks in subnets that reach the service through {} are the ones affected)",
            passing.join(", "),
            named(e)
        );
        for r in &mut problems {
            r.message.push_str(&note);
        }
    }
    (c, problems)
}

/// The checks of one candidate endpoint `e` for `need` (`None`: no endpoint for it).
// Long: the checks of one required endpoint in the order they are reported (type, state, private DNS, route tables, port 443, policy), sharing the endpoint's report entry.
fn judge(
    need: &Need,
    region: &str,
    e: Option<&VpcEndpoint>,
    sgs: Groups,
    in_vpc: &str,
    warnings: &mut Vec<Reason>,
    unknown_groups: &mut BTreeSet<String>,
) -> (EndpointCheck, Vec<Reason>) {
    let service = format!("com.amazonaws.{region}.{}", need.suffix);
    let required_type = if need.interface {
        "Interface"
    } else {
        "Gateway"
    };
    let mut c = EndpointCheck {
        service: service.clone(),
        required_type: required_type.to_string(),
        status: "ok".into(),
        endpoint_id: None,
        endpoint_type: None,
        state: None,
        private_dns: None,
        security_groups: Vec::new(),
        why: format!("for {}", need.purpose),
    };
    let Some(e) = e else {
        c.status = "missing".into();
        let hint = if need.interface {
            format!("create it: aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface --service-name {service} --private-dns-enabled --vpc-id VPC --subnet-ids SUBNETS --security-group-ids SG")
        } else {
            format!("create it: aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --service-name {service} --vpc-id VPC --route-table-ids RTB (the route tables of the tasks' subnets)")
        };
        let r = Reason::new(
            Code::MissingEndpoint,
            format!(
                "no {required_type} endpoint for {service}{in_vpc}: needed {}",
                c.why
            ),
        )
        .hint(hint);
        return (c, vec![r]);
    };
    c.endpoint_id = Some(e.id.clone());
    c.endpoint_type = e.kind.clone();
    c.state = e.state.clone();
    c.private_dns = e.private_dns;
    c.security_groups = e.groups.iter().map(|g| g.id.clone()).collect();
    let kind = e.kind.clone().unwrap_or_default();
    let is_interface = kind.eq_ignore_ascii_case("Interface");
    let type_ok = kind.eq_ignore_ascii_case(required_type);
    let mut problems: Vec<(&str, Reason)> = Vec::new();
    if !type_ok {
        // S3 also works through an interface endpoint with private DNS; other services do not
        // have gateway endpoints.
        if !need.interface && is_interface && e.private_dns == Some(true) {
            warnings.push(Reason::new(
                Code::MissingEndpoint,
                format!("{service}{in_vpc} is reached through interface endpoint {} rather than the gateway endpoint AWS documents for ECR image layers", e.id),
            ));
        } else {
            problems.push((
                "missing",
                Reason::new(
                    Code::MissingEndpoint,
                    format!(
                        "{service}{in_vpc} has endpoint {} of type {}, but a {required_type} endpoint is needed {}",
                        e.id,
                        if kind.is_empty() { "(none)" } else { &kind },
                        c.why
                    ),
                ),
            ));
        }
    }
    if !state_available(e) {
        problems.push((
            "not-available",
            Reason::new(
                Code::EndpointNotAvailable,
                format!(
                    "endpoint {} for {service}{in_vpc} is in state `{}`, not `available`",
                    e.id,
                    e.state.as_deref().unwrap_or("(none)")
                ),
            )
            .hint("pendingAcceptance needs the service owner to accept; pending clears within minutes; failed/rejected/expired endpoints must be recreated"),
        ));
    }
    if is_interface && e.private_dns != Some(true) {
        problems.push((
            "private-dns-disabled",
            Reason::new(
                Code::PrivateDnsDisabled,
                format!("interface endpoint {} for {service}{in_vpc} has private DNS disabled: tasks resolve the public name and cannot reach it from a private subnet", e.id),
            )
            .hint(format!("aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --private-dns-enabled (the VPC needs enableDnsSupport and enableDnsHostnames)", e.id)),
        ));
    }
    if !is_interface && !e.route_tables.is_empty() {
        c.why
            .push_str(&format!("; route tables {}", e.route_tables.join(", ")));
    } else if !need.interface && type_ok {
        // No route table sends traffic to it: for the tasks it is as good as missing.
        problems.push((
            "missing",
            Reason::new(
                Code::NoRouteTables,
                format!(
                    "gateway endpoint {} for {service}{in_vpc} has no route table, so no subnet's traffic reaches S3 through it: tasks have no endpoint for {}",
                    e.id, need.purpose
                ),
            )
            .hint(format!("associate it with the route tables of the tasks' subnets: aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --add-route-table-ids RTB", e.id)),
        ));
    }
    if is_interface {
        if let Some(map) = sgs.known() {
            match port_443(e, map, unknown_groups) {
                Port443::Open(sources) => c
                    .why
                    .push_str(&format!("; inbound 443 from {}", sources.join(", "))),
                Port443::Closed => {
                    let groups = if e.groups.is_empty() {
                        "no security group".to_string()
                    } else {
                        format!("security groups {}", c.security_groups.join(", "))
                    };
                    problems.push((
                        "port-443-blocked",
                        Reason::new(
                            Code::Port443Blocked,
                            format!("interface endpoint {} for {service}{in_vpc}: {groups} allow inbound TCP 443 from nowhere", e.id),
                        )
                        .hint("add an inbound rule for TCP 443 from the tasks' subnets or security group"),
                    ));
                }
                Port443::Unknown if matches!(sgs, Groups::Live(_)) => {
                    let missing: Vec<&str> = e
                        .groups
                        .iter()
                        .map(|g| g.id.as_str())
                        .filter(|g| !map.contains_key(*g))
                        .collect();
                    problems.push((
                        "unverified",
                        Reason::new(
                            Code::NotFound,
                            format!(
                                "interface endpoint {} for {service}{in_vpc}: security group(s) {} not in the answer of ec2:DescribeSecurityGroups, so whether it admits TCP 443 is not known",
                                e.id,
                                missing.join(", ")
                            ),
                        )
                        .hint("the caller may not see the group, or it was deleted: check with aws ec2 describe-security-groups --group-ids ..."),
                    ));
                }
                Port443::Unknown if c.status == "ok" && problems.is_empty() => {
                    c.status = "unverified".into();
                }
                Port443::Unknown => {}
            }
        }
    }
    if let Some(r) = policy_problem(need, region, e, &service, in_vpc, warnings) {
        problems.push(("policy-denied", r));
    }
    if let Some((status, _)) = problems.first() {
        c.status = status.to_string();
    }
    (c, problems.into_iter().map(|(_, r)| r).collect())
}

/// What tasks do through the endpoint for `need`, as IAM actions on resources (ARN patterns stand
/// for the accounts, repositories and log groups not known here).
fn accesses(need: &Need, region: &str) -> Vec<Access> {
    let a = |action, resource: String| Access { action, resource };
    // ARNs name the partition: aws-cn in China, aws-us-gov in GovCloud.
    let arn = if region.starts_with("cn-") {
        "arn:aws-cn"
    } else if region.starts_with("us-gov-") {
        "arn:aws-us-gov"
    } else {
        "arn:aws"
    };
    match need.suffix {
        "ecr.api" => vec![a("ecr:GetAuthorizationToken", "*".into())],
        "ecr.dkr" => {
            let repo = format!("{arn}:ecr:{region}:*:repository/*");
            vec![
                a("ecr:BatchGetImage", repo.clone()),
                a("ecr:GetDownloadUrlForLayer", repo),
            ]
        }
        // ECR keeps image layers in this AWS-owned bucket (AWS's documented endpoint policy).
        "s3" => vec![a(
            "s3:GetObject",
            format!("{arn}:s3:::prod-{region}-starport-layer-bucket/*"),
        )],
        "logs" => {
            let groups = format!("{arn}:logs:{region}:*:log-group:*");
            vec![
                a("logs:CreateLogStream", groups.clone()),
                a("logs:PutLogEvents", groups),
            ]
        }
        "ssm" => vec![a(
            "ssm:GetParameters",
            format!("{arn}:ssm:{region}:*:parameter/*"),
        )],
        "secretsmanager" => vec![a(
            "secretsmanager:GetSecretValue",
            format!("{arn}:secretsmanager:{region}:*:secret:*"),
        )],
        _ => Vec::new(),
    }
}

/// The endpoint policy's verdict on what tasks do through the endpoint: a reason when it denies
/// that for every caller; a `not-evaluated` warning when it depends on the caller or on conditions.
fn policy_problem(
    need: &Need,
    region: &str,
    e: &VpcEndpoint,
    service: &str,
    in_vpc: &str,
    warnings: &mut Vec<Reason>,
) -> Option<Reason> {
    let doc = e.policy_document.as_deref()?;
    let accesses = accesses(need, region);
    let decisions = match endpoint_policy::evaluate(doc, &accesses) {
        Ok(d) => d,
        Err(why) => {
            warnings.push(Reason::new(
                Code::NotEvaluated,
                format!("the policy of endpoint {} for {service}{in_vpc} could not be read ({why}); it was not evaluated", e.id),
            ));
            return None;
        }
    };
    let mut denied = Vec::new();
    for d in decisions {
        match d {
            Decision::Allowed => {}
            Decision::Denied(why) => denied.push(why),
            Decision::Uncertain(why) => warnings.push(Reason::new(
                Code::NotEvaluated,
                format!("the policy of endpoint {} for {service}{in_vpc}: {why}; whether tasks get through depends on their role or the conditions", e.id),
            )),
        }
    }
    if denied.is_empty() {
        return None;
    }
    let wanted: Vec<String> = accesses
        .iter()
        .map(|a| format!("{} on {}", a.action, a.resource))
        .collect();
    Some(
        Reason::new(
            Code::EndpointPolicyDenied,
            format!(
                "the policy of endpoint {} for {service}{in_vpc} blocks what tasks need {}: {}",
                e.id,
                format_args!("for {}", need.purpose),
                denied.join("; ")
            ),
        )
        .hint(format!(
            "allow {} for the tasks' roles in the endpoint policy (aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --policy-document ...)",
            wanted.join(", "),
            e.id
        )),
    )
}

/// Whether the security groups of an interface endpoint admit TCP 443.
enum Port443 {
    /// From these sources (`SOURCE via GROUP`).
    Open(Vec<String>),
    /// Every group is known and none admits it.
    Closed,
    /// No known group admits it, and some groups are not known (added to `unknown_groups`).
    Unknown,
}

fn port_443(
    e: &VpcEndpoint,
    sgs: &BTreeMap<String, SecurityGroup>,
    unknown_groups: &mut BTreeSet<String>,
) -> Port443 {
    let mut known = 0;
    let mut sources: Vec<String> = Vec::new();
    for g in &e.groups {
        match sgs.get(&g.id) {
            Some(sg) => {
                known += 1;
                for p in &sg.ingress {
                    if let Some(s) = admits_443(p) {
                        sources.extend(s.into_iter().map(|s| format!("{s} via {}", g.id)));
                    }
                }
            }
            None => {
                unknown_groups.insert(g.id.clone());
            }
        }
    }
    if !sources.is_empty() {
        Port443::Open(sources)
    } else if known == e.groups.len() {
        Port443::Closed
    } else {
        Port443::Unknown
    }
}
