//! Registry authentication: credentials from the user, Docker's config and native ECR, and the
//! `WWW-Authenticate` challenges registries answer with.

pub mod challenge;
pub mod docker_config;
pub mod ecr;

pub use challenge::{parse_challenge, Challenge};

/// Where registry credentials come from besides the command line, read once from the environment
/// (see [`crate::context::Env`]) and passed down to each image check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CredentialSources {
    /// The Docker config file (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`).
    pub docker_config: Option<std::path::PathBuf>,
    /// Registry hosts declared as ECR in `SHIPCHECK_ECR_REGISTRIES` (see [`ecr::declared`]).
    pub ecr_registries: Vec<ecr::Declared>,
}
pub use docker_config::{docker_config_credentials, Credentials};
