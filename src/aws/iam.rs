//! The policies of an IAM role or user, read live: its inline policies and attached managed
//! policies (the default version of each), for a user also those of every group it is in, and its
//! permissions boundary; every page of every list.

#[cfg(feature = "aws")]
use super::api_error;
use crate::report::Reason;
#[cfg(feature = "aws")]
use aws_sdk_iam::Client;

/// Whose policies to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// An IAM role, by name.
    Role(String),
    /// An IAM user, by name.
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
    /// `inline:NAME`, the managed policy's ARN (with its version), prefixed with `group:NAME ` for
    /// a group's policies and `boundary:` for a permissions boundary.
    pub name: String,
    /// The policy document: JSON, or the URL-encoded JSON IAM's API returns.
    pub document: String,
}

/// What IAM holds for one identity.
#[derive(Debug, Clone, Default)]
pub struct IdentityPolicies {
    /// Its own inline and attached policies and, for a user, those of its groups: IAM evaluates them
    /// together.
    pub documents: Vec<NamedDocument>,
    /// Its permissions boundary (a managed policy), if one is set: the boundary caps what the
    /// documents allow.
    pub boundary: Option<NamedDocument>,
    /// The partition of the identity's ARN (`aws`, `aws-cn`, `aws-us-gov`): the only one whose
    /// repositories it can reach.
    pub partition: String,
}

/// Who holds a set of policies: the identity itself, or one of a user's groups.
#[cfg(feature = "aws")]
enum Holder<'a> {
    Role(&'a str),
    User(&'a str),
    Group(&'a str),
}

/// Every policy that applies to `who`: `GetRole`/`GetUser` (its ARN and permissions boundary),
/// inline ones (`List*Policies`, `Get*Policy`), attached managed ones (`ListAttached*Policies`,
/// `GetPolicy` for the default version, `GetPolicyVersion`), for a user the same for every group
/// (`ListGroupsForUser`), and the boundary's default version.
#[cfg(feature = "aws")]
pub async fn identity_policies(
    conf: &aws_config::SdkConfig,
    who: &Identity,
) -> Result<IdentityPolicies, Reason> {
    let client = Client::new(conf);
    let (arn, boundary) = match who {
        Identity::Role(role) => {
            let r = client
                .get_role()
                .role_name(role)
                .send()
                .await
                .map_err(|e| api_error("iam:GetRole", &e))?
                .role;
            r.map(|r| (r.arn, r.permissions_boundary))
        }
        Identity::User(user) => {
            let u = client
                .get_user()
                .user_name(user)
                .send()
                .await
                .map_err(|e| api_error("iam:GetUser", &e))?
                .user;
            u.map(|u| (u.arn, u.permissions_boundary))
        }
    }
    .unwrap_or_default();
    let mut out = IdentityPolicies {
        partition: arn.split(':').nth(1).unwrap_or("aws").to_string(),
        ..IdentityPolicies::default()
    };
    let own = match who {
        Identity::Role(r) => Holder::Role(r),
        Identity::User(u) => Holder::User(u),
    };
    holder_policies(&client, &own, &mut out.documents).await?;
    if let Identity::User(user) = who {
        for group in groups_for_user(&client, user).await? {
            holder_policies(&client, &Holder::Group(&group), &mut out.documents).await?;
        }
    }
    if let Some(b) = boundary.and_then(|b| b.permissions_boundary_arn) {
        let mut doc = managed_policy(&client, &b).await?;
        doc.name = format!("boundary:{}", doc.name);
        out.boundary = Some(doc);
    }
    Ok(out)
}

/// Without the `aws` feature: refused (exit 2).
#[cfg(not(feature = "aws"))]
pub async fn identity_policies(
    _conf: &super::SdkConfig,
    who: &Identity,
) -> Result<IdentityPolicies, Reason> {
    let action = match who {
        Identity::Role(_) => "iam:GetRole",
        Identity::User(_) => "iam:GetUser",
    };
    Err(super::unavailable(action))
}

/// The inline and attached policies of one holder, appended to `out`.
#[cfg(feature = "aws")]
async fn holder_policies(
    client: &Client,
    holder: &Holder<'_>,
    out: &mut Vec<NamedDocument>,
) -> Result<(), Reason> {
    let prefix = match holder {
        Holder::Group(g) => format!("group:{g} "),
        _ => String::new(),
    };
    for (name, document) in inline_policies(client, holder).await? {
        out.push(NamedDocument {
            name: format!("{prefix}inline:{name}"),
            document,
        });
    }
    for arn in attached_policies(client, holder).await? {
        let mut doc = managed_policy(client, &arn).await?;
        doc.name = format!("{prefix}{}", doc.name);
        out.push(doc);
    }
    Ok(())
}

/// The names of the groups `user` is in (every page).
#[cfg(feature = "aws")]
async fn groups_for_user(client: &Client, user: &str) -> Result<Vec<String>, Reason> {
    let mut groups = Vec::new();
    let mut pages = client
        .list_groups_for_user()
        .user_name(user)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_error("iam:ListGroupsForUser", &e))?;
        groups.extend(page.groups.into_iter().map(|g| g.group_name));
    }
    Ok(groups)
}

/// The holder's inline policies: (name, document), every page.
// Long: the same two calls for each of the three kinds of holder, which the SDK types apart.
#[cfg(feature = "aws")]
async fn inline_policies(
    client: &Client,
    holder: &Holder<'_>,
) -> Result<Vec<(String, String)>, Reason> {
    let mut names = Vec::new();
    match holder {
        Holder::Role(role) => {
            let mut pages = client
                .list_role_policies()
                .role_name(*role)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| api_error("iam:ListRolePolicies", &e))?;
                names.extend(page.policy_names);
            }
        }
        Holder::User(user) => {
            let mut pages = client
                .list_user_policies()
                .user_name(*user)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| api_error("iam:ListUserPolicies", &e))?;
                names.extend(page.policy_names);
            }
        }
        Holder::Group(group) => {
            let mut pages = client
                .list_group_policies()
                .group_name(*group)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| api_error("iam:ListGroupPolicies", &e))?;
                names.extend(page.policy_names);
            }
        }
    }
    let mut out = Vec::new();
    for name in names {
        let document = match holder {
            Holder::Role(role) => {
                client
                    .get_role_policy()
                    .role_name(*role)
                    .policy_name(&name)
                    .send()
                    .await
                    .map_err(|e| api_error("iam:GetRolePolicy", &e))?
                    .policy_document
            }
            Holder::User(user) => {
                client
                    .get_user_policy()
                    .user_name(*user)
                    .policy_name(&name)
                    .send()
                    .await
                    .map_err(|e| api_error("iam:GetUserPolicy", &e))?
                    .policy_document
            }
            Holder::Group(group) => {
                client
                    .get_group_policy()
                    .group_name(*group)
                    .policy_name(&name)
                    .send()
                    .await
                    .map_err(|e| api_error("iam:GetGroupPolicy", &e))?
                    .policy_document
            }
        };
        out.push((name, document));
    }
    Ok(out)
}

/// The ARNs of the managed policies attached to the holder, every page.
#[cfg(feature = "aws")]
async fn attached_policies(client: &Client, holder: &Holder<'_>) -> Result<Vec<String>, Reason> {
    let mut found = Vec::new();
    match holder {
        Holder::Role(role) => {
            let mut pages = client
                .list_attached_role_policies()
                .role_name(*role)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| api_error("iam:ListAttachedRolePolicies", &e))?;
                found.extend(page.attached_policies.unwrap_or_default());
            }
        }
        Holder::User(user) => {
            let mut pages = client
                .list_attached_user_policies()
                .user_name(*user)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| api_error("iam:ListAttachedUserPolicies", &e))?;
                found.extend(page.attached_policies.unwrap_or_default());
            }
        }
        Holder::Group(group) => {
            let mut pages = client
                .list_attached_group_policies()
                .group_name(*group)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| api_error("iam:ListAttachedGroupPolicies", &e))?;
                found.extend(page.attached_policies.unwrap_or_default());
            }
        }
    }
    Ok(found.into_iter().filter_map(|p| p.policy_arn).collect())
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
