//! Command-line definitions (clap only; no logic).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "shipcheck",
    version,
    about = "Release verification and supply-chain checks for ECS/Fargate deployments"
)]
#[command(
    after_help = "Exit codes: 0 everything verified, 1 verification failed, 2 could not decide."
)]
pub struct Cli {
    /// Print one JSON object on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress bars, no warnings, no output on success.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify a release binary against its detached OpenPGP signature and pinned keys; install it on a pass.
    VerifyBin(VerifyBinArgs),
    /// Verify that an image in an OCI registry holds every required platform, with every digest,
    /// size and media type matching the bytes served.
    VerifyImage(VerifyImageArgs),
    /// Verify every image of an ECS task definition for the platform the task runs on.
    VerifyTaskdef(VerifyTaskdefArgs),
    /// Audit many binaries, images and task definitions listed in a TOML file.
    Audit(AuditArgs),
    /// Check an IAM policy for the ECR permissions a pull, push or buildx push needs.
    CheckIam(CheckIamArgs),
    /// Check VPC endpoints (and security groups) for Fargate tasks in private subnets.
    CheckEndpoints(CheckEndpointsArgs),
    /// Pinned certificates of the catalog.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List catalog tools with their pinned fingerprints, validity and expiry.
    List {
        /// Merge this catalog file over the built-in one.
        #[arg(long, value_name = "FILE")]
        catalog: Option<PathBuf>,
    },
}

/// Transport options shared by commands that download.
#[derive(Debug, Args, Clone)]
pub struct NetArgs {
    /// Extra trusted root certificate (PEM), on top of the system roots. Repeatable.
    #[arg(long = "ca-cert", value_name = "PEM")]
    pub ca_cert: Vec<PathBuf>,
    /// Connect timeout and longest silence while reading, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Retries after the first attempt (connection errors, 408, 429, 5xx).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Largest download accepted, in bytes (suffixes K, M, G accepted).
    #[arg(long = "max-size", value_name = "BYTES", default_value = "4G", value_parser = parse_size)]
    pub max_size: u64,
    /// Most requests in flight to one host. The limit adapts below it: it starts at 16, halves
    /// when the host answers 429 or 503, and grows back slowly.
    #[arg(long = "max-per-host", value_name = "N", default_value_t = crate::net::MAX_PER_HOST, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub max_per_host: usize,
}

#[derive(Debug, Args)]
pub struct VerifyBinArgs {
    /// Catalog tool name (see `shipcheck keys list`).
    pub tool: Option<String>,
    /// Version to fetch (catalog tools; default "latest").
    #[arg(long)]
    pub version: Option<String>,
    /// Platform as os/arch (catalog tools; default: this machine's).
    #[arg(long)]
    pub platform: Option<String>,
    /// Download the file from this URL (needs --key).
    #[arg(long)]
    pub url: Option<String>,
    /// Signature URL (default: the file URL plus `.asc`).
    #[arg(long = "sig-url")]
    pub sig_url: Option<String>,
    /// Verify this local file instead of downloading.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Local detached signature for --file.
    #[arg(long, value_name = "PATH")]
    pub sig: Option<PathBuf>,
    /// Trusted certificates (armored or binary; every certificate in the file is trusted unless
    /// --fingerprint narrows them). Repeatable.
    #[arg(long, value_name = "CERTS")]
    pub key: Vec<PathBuf>,
    /// Trust only the --key certificate with this primary fingerprint. Repeatable.
    #[arg(long, value_name = "FPR")]
    pub fingerprint: Vec<String>,
    /// Install destination (default for catalog tools: ~/.local/bin/<tool>; packages: ./<file name>).
    #[arg(long, value_name = "PATH", conflicts_with = "no_install")]
    pub dest: Option<PathBuf>,
    /// Verify only; install nothing.
    #[arg(long = "no-install")]
    pub no_install: bool,
    /// Download from this mirror: its scheme, host and port replace the URL's, its path is prefixed.
    #[arg(long, value_name = "BASE_URL")]
    pub mirror: Option<String>,
    /// Merge this catalog file over the built-in one.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Accept SHA-1 self-signatures on the --key certificates (reported as a warning).
    #[arg(long = "allow-sha1-self-signatures")]
    pub allow_sha1_self_signatures: bool,
    #[command(flatten)]
    pub net: NetArgs,
}

#[derive(Debug, Args)]
pub struct VerifyImageArgs {
    /// Image reference: host[:port]/path[:tag][@digest] (bare names mean Docker Hub).
    pub reference: String,
    /// Required platforms, comma-separated: amd64, arm64, arm/v7 or os/arch[/variant]
    /// (default: every platform the index lists, at least one).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub platforms: Vec<String>,
    /// The digest the reference must resolve to (catches a moved tag).
    #[arg(long, value_name = "DIGEST")]
    pub digest: Option<String>,
    /// Also check that every layer blob exists with the size its manifest says.
    #[arg(long)]
    pub deep: bool,
    /// Also download every layer: its bytes must hash to its digest and, decompressed, to the
    /// config's rootfs.diff_ids entry, as the runtime's unpack checks (implies --deep).
    #[arg(long)]
    pub content: bool,
    #[command(flatten)]
    pub auth: RegistryAuthArgs,
    #[command(flatten)]
    pub net: NetArgs,
}

/// A size argument that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// Not a number with an optional K, M or G.
    #[error("`{0}` is not a size (e.g. 4096, 64K, 512M, 4G)")]
    NotASize(String),
    /// Over 2^64 - 1 bytes.
    #[error("`{0}` is too large")]
    TooLarge(String),
}

/// Parses sizes like `4096`, `64K`, `512M`, `4G` (binary units).
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('K' | 'k') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
        Some('G' | 'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| SizeError::NotASize(s.to_string()))?;
    n.checked_mul(mult)
        .ok_or_else(|| SizeError::TooLarge(s.to_string()))
}

/// Registry credentials for commands that read images.
#[derive(Debug, Args, Clone)]
pub struct RegistryAuthArgs {
    /// Registry username (with --password-stdin; ECR: AWS); default: Docker's config, then native ECR auth.
    #[arg(long, requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the registry password from stdin.
    #[arg(long = "password-stdin", requires = "username")]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct VerifyTaskdefArgs {
    /// Task definition JSON (register-task-definition input or describe-task-definition output),
    /// or a task definition ARN (read with ECS DescribeTaskDefinition).
    #[arg(required_unless_present = "family")]
    pub taskdef: Option<PathBuf>,
    /// Read the task definition FAMILY (latest ACTIVE revision) or FAMILY:REVISION from ECS.
    #[arg(long, value_name = "FAMILY[:REVISION]", conflicts_with = "taskdef")]
    pub family: Option<String>,
    /// AWS Region for --family or an ARN (default: AWS_REGION or the profile's).
    #[arg(long)]
    pub region: Option<String>,
    /// Write a copy with every image pinned to the digest that was verified (needs --output; files only).
    #[arg(long, requires = "output", conflicts_with = "family")]
    pub pin: bool,
    /// Where --pin writes the pinned task definition.
    #[arg(long, value_name = "FILE", requires = "pin")]
    pub output: Option<PathBuf>,
    /// Also check every layer blob.
    #[arg(long)]
    pub deep: bool,
    /// Also download every layer and check its digest and its rootfs.diff_ids entry (implies --deep).
    #[arg(long)]
    pub content: bool,
    #[command(flatten)]
    pub auth: RegistryAuthArgs,
    /// The registry host the --username/--password-stdin credentials are for (required with them;
    /// only that registry's images get them, as with `docker login HOST`).
    #[arg(long, value_name = "HOST", requires = "username")]
    pub registry: Option<String>,
    #[command(flatten)]
    pub net: NetArgs,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit file (TOML) with [[bin]], [[image]] and [[taskdef]] targets.
    pub file: PathBuf,
    /// Targets checked at once (requests to each host are limited by --max-per-host).
    #[arg(long, value_name = "N", default_value_t = crate::commands::audit::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// Output format: text, json, junit or github (--json means json).
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: crate::commands::audit::Format,
    /// Audit only this stable share K/N of the targets (CI matrix jobs).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::commands::audit::Shard>,
    #[command(flatten)]
    pub net: NetArgs,
}

#[derive(Debug, Args)]
pub struct CheckIamArgs {
    /// IAM policy documents (several are evaluated together, like the policies of one principal).
    #[arg(required_unless_present_any = ["role", "user"])]
    pub policies: Vec<PathBuf>,
    /// Read the inline and attached managed policies of this IAM role from the account (AWS
    /// credential chain), and evaluate them with any files given.
    #[arg(long, conflicts_with = "user")]
    pub role: Option<String>,
    /// Like --role, for an IAM user.
    #[arg(long)]
    pub user: Option<String>,
    /// AWS region for the SDK (IAM is global; default: the configured one, else us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// The workflow the principal must be able to perform.
    #[arg(long = "for", value_enum)]
    pub workflow: crate::aws::policy::Workflow,
    /// Repository ARN or URI the workflow targets (default: any repository).
    #[arg(long)]
    pub repository: Option<String>,
    /// Longest wait for one AWS API call attempt, in seconds (with the SDK's retries, a call
    /// takes at most three times this).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct CheckEndpointsArgs {
    /// AWS region of the VPC (e.g. us-east-1); without files, the Region read live.
    #[arg(long)]
    pub region: String,
    /// Output of `aws ec2 describe-vpc-endpoints`; without it, endpoints and their security groups
    /// are read live (DescribeVpcEndpoints, DescribeSecurityGroups).
    pub endpoints: Option<PathBuf>,
    /// Output of `aws ec2 describe-security-groups`: also check inbound TCP 443 on interface endpoints.
    #[arg(
        long = "security-groups",
        value_name = "SGS.json",
        requires = "endpoints"
    )]
    pub security_groups: Option<PathBuf>,
    /// Tasks read SSM parameters: require the ssm endpoint.
    #[arg(long = "with-ssm")]
    pub with_ssm: bool,
    /// Tasks read Secrets Manager secrets: require the secretsmanager endpoint.
    #[arg(long = "with-secretsmanager")]
    pub with_secretsmanager: bool,
    /// Check only this VPC.
    #[arg(long)]
    pub vpc: Option<String>,
    /// Longest wait for one AWS API call attempt, in seconds (with the SDK's retries, a call
    /// takes at most three times this).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
}
