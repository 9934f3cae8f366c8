//! Amazon EC2 read live for the VPC endpoint check: `DescribeVpcs`, `DescribeVpcEndpoints` and
//! `DescribeSecurityGroups`, every page, converted to the shapes the check reads from files.
//! (Without the `aws` feature, `aws::ec2` is a stand-in that refuses every call.)
#![cfg(feature = "aws")]

use super::api_error;
use super::endpoints::{
    CidrV4, CidrV6, GroupRef, IpPermission, PrefixList, SecurityGroup, VpcEndpoint,
};
use crate::report::{Code, Reason};
use aws_sdk_ec2::types::Filter;
use aws_sdk_ec2::Client;
use std::collections::{BTreeMap, BTreeSet};

/// Security group IDs per `DescribeSecurityGroups` call (`GroupIds`).
const GROUPS_PER_CALL: usize = 100;

/// An EC2 client.
#[derive(Debug)]
pub struct Ec2 {
    client: Client,
}

impl Ec2 {
    pub fn new(conf: &aws_config::SdkConfig) -> Ec2 {
        Ec2 {
            client: Client::new(conf),
        }
    }

    /// The IDs of the VPCs in the Region (`DescribeVpcs`, every page); with `vpc`, only that one,
    /// or none when EC2 does not know it.
    pub async fn vpcs(&self, vpc: Option<&str>) -> Result<Vec<String>, Reason> {
        let mut call = self.client.describe_vpcs();
        if let Some(v) = vpc {
            call = call.filters(Filter::builder().name("vpc-id").values(v).build());
        }
        let mut pages = call.into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("ec2:DescribeVpcs", &e))?;
            out.extend(
                page.vpcs
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|v| v.vpc_id),
            );
        }
        Ok(out)
    }

    /// Every VPC endpoint in the Region (only `vpc`'s when given).
    pub async fn vpc_endpoints(&self, vpc: Option<&str>) -> Result<Vec<VpcEndpoint>, Reason> {
        let mut call = self.client.describe_vpc_endpoints();
        if let Some(v) = vpc {
            call = call.filters(Filter::builder().name("vpc-id").values(v).build());
        }
        let mut pages = call.into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("ec2:DescribeVpcEndpoints", &e))?;
            for e in page.vpc_endpoints.unwrap_or_default() {
                out.push(VpcEndpoint {
                    id: e.vpc_endpoint_id.unwrap_or_default(),
                    kind: e.vpc_endpoint_type.map(|k| k.as_str().to_string()),
                    vpc_id: e.vpc_id,
                    service: e.service_name.unwrap_or_default(),
                    state: e.state.map(|s| s.as_str().to_string()),
                    private_dns: e.private_dns_enabled,
                    groups: e
                        .groups
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|g| g.group_id)
                        .map(|id| GroupRef { id })
                        .collect(),
                    route_tables: e.route_table_ids.unwrap_or_default(),
                    policy_document: e.policy_document,
                });
            }
        }
        Ok(out)
    }

    /// The security groups with these IDs, by ID (`GroupIds`, calls concurrent). An ID EC2 does not
    /// know (a group deleted, or one the caller cannot see) is an error naming it (exit 2): asked
    /// for by ID, a group is never silently left out, as it would be from a `group-id` filter.
    pub async fn security_groups(
        &self,
        ids: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, SecurityGroup>, Reason> {
        let ids: Vec<String> = ids.iter().cloned().collect();
        let calls = ids.chunks(GROUPS_PER_CALL).map(|chunk| async move {
            let mut pages = self
                .client
                .describe_security_groups()
                .set_group_ids(Some(chunk.to_vec()))
                .into_paginator()
                .send();
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| groups_error(chunk, &e))?;
                out.extend(page.security_groups.unwrap_or_default());
            }
            Ok::<_, Reason>(out)
        });
        let mut out = BTreeMap::new();
        for groups in futures_util::future::join_all(calls).await {
            for g in groups? {
                let id = g.group_id.unwrap_or_default();
                let ingress = g
                    .ip_permissions
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| IpPermission {
                        protocol: p.ip_protocol.unwrap_or_default(),
                        from: p.from_port.map(i64::from),
                        to: p.to_port.map(i64::from),
                        ipv4: p
                            .ip_ranges
                            .unwrap_or_default()
                            .into_iter()
                            .filter_map(|r| r.cidr_ip)
                            .map(|cidr| CidrV4 { cidr })
                            .collect(),
                        ipv6: p
                            .ipv6_ranges
                            .unwrap_or_default()
                            .into_iter()
                            .filter_map(|r| r.cidr_ipv6)
                            .map(|cidr| CidrV6 { cidr })
                            .collect(),
                        groups: p
                            .user_id_group_pairs
                            .unwrap_or_default()
                            .into_iter()
                            .filter_map(|g| g.group_id)
                            .map(|id| GroupRef { id })
                            .collect(),
                        prefix_lists: p
                            .prefix_list_ids
                            .unwrap_or_default()
                            .into_iter()
                            .filter_map(|p| p.prefix_list_id)
                            .map(|id| PrefixList { id })
                            .collect(),
                    })
                    .collect();
                out.insert(id.clone(), SecurityGroup { id, ingress });
            }
        }
        Ok(out)
    }
}

/// A failed `DescribeSecurityGroups` for `ids`: an ID EC2 does not know (`InvalidGroup.NotFound`,
/// `InvalidGroupId.Malformed`) is `not-found` naming it (the IDs of the call EC2's message names, or
/// all of them); anything else as any API error.
fn groups_error<E>(ids: &[String], e: &aws_sdk_ec2::error::SdkError<E>) -> Reason
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, message) = e
        .as_service_error()
        .map(|s| (s.code().unwrap_or(""), s.message().unwrap_or("")))
        .unwrap_or(("", ""));
    if !code.starts_with("InvalidGroup") {
        return api_error("ec2:DescribeSecurityGroups", e);
    }
    let named: Vec<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|id| message.contains(id))
        .collect();
    let which = if named.is_empty() {
        ids.join(", ")
    } else {
        named.join(", ")
    };
    Reason::new(
        Code::NotFound,
        format!(
            "ec2:DescribeSecurityGroups does not know security group {which}, attached to a VPC endpoint ({code}: {message}): whether the endpoint admits TCP 443 is not known"
        ),
    )
    .hint("the group was deleted or the caller cannot see it: check aws ec2 describe-vpc-endpoints and aws ec2 describe-security-groups --group-ids ...")
}
