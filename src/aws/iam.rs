//! The policies of an IAM role or user, read live: inline policies and attached managed policies
//! (the default version of each), every page of every list.

#[cfg(feature = "aws")]
use super::api_error;
use crate::report::Reason;
#[cfg(feature = "aws")]
use aws_sdk_iam::Client;

/// Whose policies to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Role(String),
    User(String),
}

impl Identity {
    /// `role NAME` or `user NAME`, for messages.
    pub fn describe(&self) -> String {
        match self {
            Identity::Role(n) => format!("role {n}"),
            Identity::User(n) => format!("user {n}"),
        }
    }
}

/// One policy document as IAM returns it (URL-encoded JSON), with a name for messages.
#[derive(Debug, Clone)]
pub struct NamedDocument {
    /// `inline:NAME` or the managed policy's ARN (with its version).
    pub name: String,
    pub document: String,
}

/// Every policy of `who`: inline ones (`List*Policies`, `Get*Policy`) and attached managed ones
/// (`ListAttached*Policies`, `GetPolicy` for the default version, `GetPolicyVersion`).
#[cfg(feature = "aws")]
pub async fn identity_policies(
    conf: &aws_config::SdkConfig,
    who: &Identity,
) -> Result<Vec<NamedDocument>, Reason> {
    let client = Client::new(conf);
    let mut out = inline_policies(&client, who).await?;
    for arn in attached_policies(&client, who).await? {
        out.push(managed_policy(&client, &arn).await?);
    }
    Ok(out)
}

/// Without the `aws` feature: refused (exit 2).
#[cfg(not(feature = "aws"))]
pub async fn identity_policies(
    _conf: &super::SdkConfig,
    who: &Identity,
) -> Result<Vec<NamedDocument>, Reason> {
    let action = match who {
        Identity::Role(_) => "iam:ListRolePolicies",
        Identity::User(_) => "iam:ListUserPolicies",
    };
    Err(super::unavailable(action))
}

#[cfg(feature = "aws")]
async fn inline_policies(client: &Client, who: &Identity) -> Result<Vec<NamedDocument>, Reason> {
    let mut names = Vec::new();
    match who {
        Identity::Role(role) => {
            let mut pages = client
                .list_role_policies()
                .role_name(role)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| api_error("iam:ListRolePolicies", &e))?;
                names.extend(page.policy_names);
            }
        }
        Identity::User(user) => {
            let mut pages = client
                .list_user_policies()
                .user_name(user)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| api_error("iam:ListUserPolicies", &e))?;
                names.extend(page.policy_names);
            }
        }
    }
    let mut out = Vec::new();
    for name in names {
        let document = match who {
            Identity::Role(role) => {
                client
                    .get_role_policy()
                    .role_name(role)
                    .policy_name(&name)
                    .send()
                    .await
                    .map_err(|e| api_error("iam:GetRolePolicy", &e))?
                    .policy_document
            }
            Identity::User(user) => {
                client
                    .get_user_policy()
                    .user_name(user)
                    .policy_name(&name)
                    .send()
                    .await
                    .map_err(|e| api_error("iam:GetUserPolicy", &e))?
                    .policy_document
            }
        };
        out.push(NamedDocument {
            name: format!("inline:{name}"),
            document,
        });
    }
    Ok(out)
}

#[cfg(feature = "aws")]
async fn attached_policies(client: &Client, who: &Identity) -> Result<Vec<String>, Reason> {
    let mut arns = Vec::new();
    match who {
        Identity::Role(role) => {
            let mut pages = client
                .list_attached_role_policies()
                .role_name(role)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| api_error("iam:ListAttachedRolePolicies", &e))?;
                arns.extend(
                    page.attached_policies
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|p| p.policy_arn),
                );
            }
        }
        Identity::User(user) => {
            let mut pages = client
                .list_attached_user_policies()
                .user_name(user)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| api_error("iam:ListAttachedUserPolicies", &e))?;
                arns.extend(
                    page.attached_policies
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|p| p.policy_arn),
                );
            }
        }
    }
    Ok(arns)
}

#[cfg(feature = "aws")]
async fn managed_policy(client: &Client, arn: &str) -> Result<NamedDocument, Reason> {
    let policy = client
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| api_error("iam:GetPolicy", &e))?
        .policy;
    let version = policy
        .and_then(|p| p.default_version_id)
        .unwrap_or_else(|| "v1".into());
    let document = client
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .map_err(|e| api_error("iam:GetPolicyVersion", &e))?
        .policy_version
        .and_then(|v| v.document)
        .unwrap_or_default();
    Ok(NamedDocument {
        name: format!("{arn} ({version})"),
        document,
    })
}
