//! Verdicts as data: reason codes, their exit classes, and the JSON/text shapes that the printer renders.
//!
//! A failed verification is never an `Err`: it is a [`Verdict::Fail`] with reasons. Every reason carries a
//! stable kebab-case [`Code`] (documented in the README) and a human message that says what failed and why.

use serde::Serialize;
use std::fmt;

/// The overall outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Everything verified.
    Pass,
    /// Verification ran and found a problem.
    Fail,
    /// Could not decide (usage, network, I/O, unparsable input).
    Error,
}

impl Verdict {
    /// The process exit code for this verdict: 0, 1 or 2.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Error => 2,
        }
    }

    /// The JSON and text form: `pass`, `fail` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }
}

/// Whether a reason means "verification failed" or "could not decide".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Verification failed (exit 1).
    Fail,
    /// Could not decide (exit 2).
    Error,
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, $class:ident; )*) => {
        /// Stable reason and warning codes. The text form is part of the JSON contract.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $( $(#[$doc])* $variant, )* }
        impl Code {
            /// The stable kebab-case text of the code, as in JSON.
            pub fn as_str(self) -> &'static str { match self { $( Code::$variant => $text, )* } }
            /// Whether the code, as a reason, means "failed" or "could not decide".
            pub fn class(self) -> Class { match self { $( Code::$variant => Class::$class, )* } }
            /// Every code, for documentation tests.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];
        }
    };
}

codes! {
    // ---- verification failed (exit 1) ----
    /// The signature does not match the data (tampered, truncated or another file).
    BadSignature = "bad-signature", Fail;
    /// Signed by a key that is not in the trust set for this tool.
    UnpinnedSigner = "unpinned-signer", Fail;
    /// Signed by a key of a pinned certificate that the pin does not allow to sign.
    UnpinnedSubkey = "unpinned-subkey", Fail;
    /// The signing key had expired when the signature was made.
    KeyExpired = "key-expired", Fail;
    /// The signature was made while the key was valid, but the pinned copy of the key has expired since.
    KeyExpiredSinceSigning = "key-expired-since-signing", Fail;
    /// The signing key or its certificate is revoked.
    KeyRevoked = "key-revoked", Fail;
    /// The key is not valid for signing (no signing capability, no valid binding under the policy).
    KeyInvalid = "key-invalid", Fail;
    /// The data signature uses a hash that is broken for signatures over data (SHA-1, MD5, RIPEMD-160).
    WeakHash = "weak-hash", Fail;
    /// The signature is rejected by the policy for another reason (algorithm, critical subpacket).
    PolicyRejected = "policy-rejected", Fail;
    /// No signature: the signature file is missing (404) or empty.
    NoSignature = "no-signature", Fail;
    /// The signature file is not a detached OpenPGP signature.
    MalformedSignature = "malformed-signature", Fail;
    /// The signature file is larger than the cap.
    SignatureTooLarge = "signature-too-large", Fail;
    /// The signature is of a kind shipcheck does not verify (text-mode, unknown version or algorithm).
    UnsupportedSignature = "unsupported-signature", Fail;
    /// The signature has expired or claims a creation time in the future.
    SignatureNotAlive = "signature-not-alive", Fail;
    /// The pinned certificate itself is not valid (e.g. its self-signatures are rejected by the policy).
    CertificateInvalid = "certificate-invalid", Fail;
    /// A required platform is missing from the image index.
    MissingPlatform = "missing-platform", Fail;
    /// Bytes served do not hash to the digest that names them.
    DigestMismatch = "digest-mismatch", Fail;
    /// An index entry's platform disagrees with the image configuration it points at.
    PlatformMismatch = "platform-mismatch", Fail;
    /// Bytes served do not have the size their descriptor claims.
    SizeMismatch = "size-mismatch", Fail;
    /// Media type of what was served disagrees with its descriptor, header or body.
    MediaTypeMismatch = "media-type-mismatch", Fail;
    /// An action the workflow needs is not allowed by the IAM policy.
    MissingPermission = "missing-permission", Fail;
    /// An action the workflow needs is explicitly denied by the IAM policy.
    DeniedPermission = "denied-permission", Fail;
    /// An action the workflow needs is allowed, but not on the resource it is used on.
    WrongResource = "wrong-resource", Fail;
    /// A VPC endpoint that Fargate tasks in private subnets need is missing.
    MissingEndpoint = "missing-endpoint", Fail;
    /// A required VPC endpoint exists but is not in state `available`.
    EndpointNotAvailable = "endpoint-not-available", Fail;
    /// A required interface endpoint has private DNS disabled, so the service's public name does not reach it.
    PrivateDnsDisabled = "private-dns-disabled", Fail;
    /// No security group of a required interface endpoint allows inbound TCP 443.
    Port443Blocked = "port-443-blocked", Fail;
    /// A required gateway endpoint is associated with no route table, so no subnet's traffic reaches it.
    NoRouteTables = "no-route-tables", Fail;
    /// A catalog tool's verified file is recognisably another platform's executable or another
    /// kind of package than the one asked for.
    UnexpectedFile = "unexpected-file", Fail;
    /// A required endpoint's policy denies what tasks do through it (for every caller).
    EndpointPolicyDenied = "endpoint-policy-denied", Fail;
    /// A manifest, config or layer that an index or manifest references is not in the registry (404).
    MissingContent = "missing-content", Fail;
    /// The index entry the container runtime selects for a required platform is not an image
    /// manifest it can run (an unknown media type): the pull fails.
    UnusableEntry = "unusable-entry", Fail;
    /// A tag an `[[ecr]]` target requires is not in the repository, or no tag matches its patterns.
    MissingTag = "missing-tag", Fail;

    // ---- could not decide (exit 2) ----
    /// Command-line usage error.
    Usage = "usage", Error;
    /// The tool is not in the catalog.
    UnknownTool = "unknown-tool", Error;
    /// The tool is not published for the platform asked for.
    UnsupportedPlatform = "unsupported-platform", Error;
    /// The catalog file could not be read or is invalid.
    InvalidCatalog = "invalid-catalog", Error;
    /// A key file (`--key` or a catalog certificate) could not be read or holds no usable certificate.
    InvalidKey = "invalid-key", Error;
    /// A download failed (network error, HTTP error status, truncated body) after retries.
    DownloadFailed = "download-failed", Error;
    /// The file to verify does not exist at the URL (404), or the ECS/ECR resource named does not exist.
    NotFound = "not-found", Error;
    /// A URL or redirect is not HTTPS (plain HTTP is only accepted for loopback hosts).
    InsecureUrl = "insecure-url", Error;
    /// The download is larger than the configured maximum.
    TooLarge = "too-large", Error;
    /// A local file could not be read.
    Io = "io-error", Error;
    /// The install destination is a symlink, a directory, or its directory does not exist.
    UnsafeDestination = "unsafe-destination", Error;
    /// Writing, syncing or renaming into the destination failed.
    InstallFailed = "install-failed", Error;
    /// The run was interrupted (SIGINT, SIGTERM) before it could decide; nothing was installed.
    Interrupted = "interrupted", Error;
    /// The registry refused the credentials (or anonymous access).
    Unauthorized = "unauthorized", Error;
    /// The manifest is larger than the cap.
    ManifestTooLarge = "manifest-too-large", Error;
    /// The manifest media type is not one shipcheck understands (or is Docker schema1).
    UnsupportedMediaType = "unsupported-media-type", Error;
    /// The manifest or index could not be parsed.
    InvalidManifest = "invalid-manifest", Error;
    /// A descriptor names `urls`, from which the runtime fetches the content before the registry:
    /// what those hosts serve is not checked (shipcheck never contacts a host a manifest names).
    ExternalContent = "external-content", Error;
    /// The image reference could not be parsed.
    InvalidReference = "invalid-reference", Error;
    /// An input file (policy, describe-* output, audit file) is malformed or of the wrong shape.
    InvalidInput = "invalid-input", Error;
    /// The AWS caller may not call an API action shipcheck needs; the message names the action.
    AccessDenied = "access-denied", Error;

    // ---- warnings only ----
    /// A pinned certificate is used with a per-pin policy relaxation (SHA-1 self-signatures).
    PolicyRelaxed = "policy-relaxed", Fail;
    /// A signature in the file was not used (unknown signer or bad), while another one verified.
    IgnoredSignature = "ignored-signature", Fail;
    /// A `--catalog` tool replaced the built-in tool of the same name, and its pins with it.
    CatalogOverride = "catalog-override", Fail;
    /// A pinned certificate expires soon.
    KeyExpiresSoon = "key-expires-soon", Fail;
    /// An index entry shipcheck does not understand was skipped.
    UnknownEntry = "unknown-entry", Fail;
    /// A task definition names an image by a mutable tag rather than a digest.
    MutableTag = "mutable-tag", Fail;
    /// `--pin` wrote nothing because not every image verified.
    NotPinned = "not-pinned", Fail;
    /// A `--shard` of an audit holds no target.
    EmptyShard = "empty-shard", Fail;
    /// A policy grants more than the workflow needs (wildcard actions, all resources, extra write actions).
    BroaderThanNeeded = "broader-than-needed", Fail;
    /// Part of a policy (a Condition, a policy variable) was not evaluated; see the message for the assumption.
    NotEvaluated = "not-evaluated", Fail;
    /// An ECS service is `DRAINING` (being deleted); it was checked, as its tasks may still run.
    ServiceDraining = "service-draining", Fail;
    /// A VPC endpoint refers to a security group that is not in the security groups file.
    UnknownSecurityGroup = "unknown-security-group", Fail;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One reason (or warning): a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The stable reason code, e.g. `bad-signature`.
    pub code: Code,
    /// What failed and why, for people.
    pub message: String,
    /// What the user can do about it; shown in text output, not part of the JSON contract.
    #[serde(skip)]
    pub hint: Option<String>,
}

impl Reason {
    /// A reason with `message`, which is escaped ([`esc`]): messages quote registry answers, file
    /// contents and URLs, and are one line each.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Reason {
            code,
            message: esc(&message.into()).into_owned(),
            hint: None,
        }
    }

    /// A usage error (exit 2): bad arguments or options.
    pub fn usage(message: impl Into<String>) -> Self {
        Reason::new(Code::Usage, message)
    }

    /// Adds what the user can do (escaped like the message).
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(esc(&hint.into()).into_owned());
        self
    }
}

/// `reasons`, each with `prefix` (escaped) before its message: a part's reasons in the report of the
/// whole (`container `app` (IMAGE): ...`, `task definition web:3: ...`).
pub fn prefixed<'a>(reasons: &'a [Reason], prefix: &str) -> impl Iterator<Item = Reason> + 'a {
    let prefix = esc(prefix).into_owned();
    reasons.iter().map(move |r| Reason {
        message: format!("{prefix}{}", r.message),
        ..r.clone()
    })
}

/// The verdict implied by a list of reasons: pass when empty, error when any reason is of the
/// "could not decide" class, fail otherwise.
pub fn verdict_of(reasons: &[Reason]) -> Verdict {
    if reasons.is_empty() {
        Verdict::Pass
    } else if reasons.iter().any(|r| r.code.class() == Class::Error) {
        Verdict::Error
    } else {
        Verdict::Fail
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

mod text;
pub use text::{code_list, esc, esc_lines, explain, to_json_text, verdict_line};
