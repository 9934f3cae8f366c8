//! Registry authentication: credentials from the user, Docker's config and native ECR, and the
//! `WWW-Authenticate` challenges registries answer with.

pub mod challenge;
pub mod docker_config;
pub mod ecr;

pub use challenge::{parse_challenge, Challenge};
pub use docker_config::{docker_config_credentials, Credentials};
