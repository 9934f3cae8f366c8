//! Amazon ECR repositories and images read live, every page (`DescribeRepositories`,
//! `DescribeImages`). Registry logins are not here: see [`crate::oci::auth::ecr`].

#[cfg(feature = "aws")]
use super::api_error;
#[cfg(feature = "aws")]
use crate::report::Code;
use crate::report::Reason;
#[cfg(feature = "aws")]
use aws_sdk_ecr::Client;
use tokio::sync::Semaphore;

/// ECR API calls in flight at once per audit (ECR meters its read actions per account and Region;
/// the SDK backs off on throttling).
pub const MAX_IN_FLIGHT: usize = 8;

/// An ECR client with a limit on calls in flight.
#[derive(Debug)]
pub struct Ecr {
    #[cfg(feature = "aws")]
    client: Client,
    limit: Semaphore,
    region: String,
}

/// A repository: its name, the URI images are pulled from, and its tag mutability setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub name: String,
    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`.
    pub uri: String,
    /// `imageTagMutability`: `MUTABLE`, `IMMUTABLE`, or a `*_WITH_EXCLUSION` variant.
    pub tag_mutability: String,
}

/// An image of a repository: its manifest digest and its tags (none: untagged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub digest: String,
    pub tags: Vec<String>,
}

/// Without the `aws` feature: the same client, every call refused (exit 2).
#[cfg(not(feature = "aws"))]
impl Ecr {
    pub fn new(conf: &super::SdkConfig) -> Ecr {
        Ecr {
            limit: Semaphore::new(MAX_IN_FLIGHT),
            region: conf.region().unwrap_or_default().to_string(),
        }
    }

    /// The Region the client would call.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Refused: built without AWS support.
    pub async fn repositories(&self) -> Result<Vec<Repository>, Reason> {
        let _ = &self.limit;
        Err(super::unavailable("ecr:DescribeRepositories"))
    }

    /// Refused: built without AWS support.
    pub async fn images(&self, _repository: &str) -> Result<Vec<Image>, Reason> {
        Err(super::unavailable("ecr:DescribeImages"))
    }
}

#[cfg(feature = "aws")]
impl Ecr {
    pub fn new(conf: &aws_config::SdkConfig) -> Ecr {
        Ecr {
            client: Client::new(conf),
            limit: Semaphore::new(MAX_IN_FLIGHT),
            region: conf.region().map(|r| r.to_string()).unwrap_or_default(),
        }
    }

    /// The Region the client calls.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Every repository of the registry in the Region.
    pub async fn repositories(&self) -> Result<Vec<Repository>, Reason> {
        let _permit = self.limit.acquire().await.expect("semaphore open");
        let mut out = Vec::new();
        let mut pages = self
            .client
            .describe_repositories()
            .max_results(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("ecr:DescribeRepositories", &e))?;
            for r in page.repositories.unwrap_or_default() {
                out.push(Repository {
                    name: r.repository_name.unwrap_or_default(),
                    uri: r.repository_uri.unwrap_or_default(),
                    tag_mutability: r
                        .image_tag_mutability
                        .map(|m| m.as_str().to_string())
                        .unwrap_or_else(|| "MUTABLE".into()),
                });
            }
        }
        Ok(out)
    }

    /// Every image of `repository`, tagged or not.
    pub async fn images(&self, repository: &str) -> Result<Vec<Image>, Reason> {
        let _permit = self.limit.acquire().await.expect("semaphore open");
        let mut out = Vec::new();
        let mut pages = self
            .client
            .describe_images()
            .repository_name(repository)
            .max_results(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                let missing = e
                    .as_service_error()
                    .is_some_and(|s| s.is_repository_not_found_exception());
                if missing {
                    Reason::new(
                        Code::NotFound,
                        format!("ECR has no repository `{repository}` in {}", self.region),
                    )
                } else {
                    api_error("ecr:DescribeImages", &e)
                }
            })?;
            for d in page.image_details.unwrap_or_default() {
                out.push(Image {
                    digest: d.image_digest.unwrap_or_default(),
                    tags: d.image_tags.unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }
}
