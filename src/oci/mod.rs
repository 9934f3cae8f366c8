//! OCI distribution registries for `verify-image`: image references (Docker's rules), platforms and how
//! they match, digests (sha256, sha512), manifest and index parsing with media-type checks, credentials
//! (Docker config, credential helpers, `--password-stdin`), and a registry client that speaks HTTP Basic
//! and the Bearer token flow over the shared [`crate::net::Http`] client and counts its requests.
//!
//! Nothing here trusts a header alone: callers hash the bodies they receive.

pub mod auth;
pub mod cache;
pub mod client;
pub mod digest;
pub(crate) mod fstree;
pub mod gojson;
pub mod layer;
pub mod manifest;
pub mod platform;
pub mod reference;
pub mod selection;
pub mod tar;
pub mod verify;

pub use client::{Client, Fetched, GetError, ManifestHead};
pub use digest::{Algo, Digest, DigestError};
pub use manifest::{
    bare_media_type, is_image_type, is_index_type, parse_config, parse_manifest, Descriptor,
    ImageConfig, Manifest,
};
pub use platform::{Platform, PlatformError};
pub use reference::{Reference, ReferenceError, ReferenceProblem};

/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker manifest list (schema 2).
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image manifest (schema 2).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker schema 1 manifests (rejected).
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
/// Docker schema 1 signed manifests (rejected).
pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
/// The `Accept` header for manifests: all four understood types, so the registry never converts.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// Largest manifest or index read: containerd's `MaxManifestSize` (`4 * 1048 * 1048` bytes, a
/// little over 4 MiB), past which its resolver refuses one too.
pub const MAX_MANIFEST: u64 = 4 * 1048 * 1048;
/// Largest image configuration read.
pub const MAX_CONFIG: u64 = 8 << 20;
/// Most entries accepted in one index.
pub const MAX_INDEX_ENTRIES: usize = 1024;
/// Deepest nesting of indexes followed (the top index is depth 0).
pub const MAX_DEPTH: usize = 4;
/// Most entries read from the indexes of one reference, the top index and nested ones together.
pub const MAX_TOTAL_ENTRIES: usize = 4096;
/// `--deep`: most distinct layers whose presence is checked (one HEAD each) for one reference.
pub const MAX_LAYER_CHECKS: usize = 4096;
/// Most nested indexes fetched for one reference.
pub const MAX_NESTED_INDEXES: usize = 64;
