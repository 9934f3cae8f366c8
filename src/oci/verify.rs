//! Image verification (what `verify-image`, task definitions and audits check): prove that an image reference in an OCI registry holds every platform a
//! deployment needs, with every digest, size and media type matching the bytes served.
//!
//! Data flows one way: request -> reference, platforms, credentials -> top manifest (hashed, checked
//! against the reference digest, `--digest` and `Docker-Content-Digest`) -> index walk (bounded depth,
//! loop detection, attestations set aside) -> per platform: manifest by digest, config blob, platform
//! comparison, layers with `--deep` -> required platforms -> [`ImageReport`].

use crate::net::Http;
use crate::oci::auth::{CredentialSources, Credentials};
use crate::oci::cache::{ContentCache, Kind};
use crate::oci::layer::{decompressed, LayerDigests, LayerSink, NotUnpacked};
use crate::oci::selection::{IndexTree, Node, Selection};
use crate::oci::{
    manifest::check_top_content_type, manifest::ManifestError, manifest::Mismatch, parse_config,
    parse_manifest, Algo, Client, Descriptor, Digest, Fetched, GetError, ImageConfig, Manifest,
    ManifestHead, Platform, Reference, MAX_CONFIG, MAX_DEPTH, MAX_LAYER_CHECKS, MAX_MANIFEST,
    MAX_NESTED_INDEXES, MAX_TOTAL_ENTRIES,
};
use crate::report::{verdict_of, Code, Reason, Verdict};
use futures_util::StreamExt;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// How many platform manifests are verified at once.
const CONCURRENCY: usize = 8;

/// What the user asked for.
#[derive(Clone, Default)]
pub struct ImageRequest {
    /// The image reference as given (`host/path:tag`, `@digest`, or a bare Docker Hub name).
    pub reference: String,
    /// Required platforms as written (`amd64`, `linux/arm64/v8`, ...); empty: whatever the index lists.
    pub platforms: Vec<String>,
    /// The digest the reference must resolve to.
    pub digest: Option<String>,
    /// Also check that every layer blob exists with its size.
    pub deep: bool,
    /// Also download every layer: the bytes must hash to its digest and, decompressed, to the
    /// config's `rootfs.diff_ids` entry, as the runtime's unpack checks (implies `deep`).
    pub content: bool,
    /// Registry user name (`--username`), used with `password`.
    pub username: Option<String>,
    /// From `--password-stdin`; never printed.
    pub password: Option<String>,
    /// Where credentials come from when `username` is not given.
    pub credentials: CredentialSources,
}

impl std::fmt::Debug for ImageRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageRequest")
            .field("reference", &self.reference)
            .field("platforms", &self.platforms)
            .field("digest", &self.digest)
            .field("deep", &self.deep)
            .field("content", &self.content)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The JSON object `verify-image --json` prints (a tested contract: README "JSON (`--json`)" and
/// `tests/it/common/contract.rs`).
#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    /// `pass`, `fail` or `error` (exit 0, 1, 2).
    pub verdict: Verdict,
    /// Why the check did not pass; empty on a pass.
    pub reasons: Vec<Reason>,
    /// Findings that never change the verdict (e.g. `unknown-entry`).
    pub warnings: Vec<Reason>,
    /// The normalised reference (`docker.io/library/app:v1` for `app:v1`).
    pub reference: Option<String>,
    /// Digest of the manifest or index the reference resolved to (of the bytes received).
    pub digest: Option<String>,
    /// Media type of the manifest or index the reference resolved to.
    pub media_type: Option<String>,
    /// One entry per real platform (attestations are not platforms).
    pub platforms: Vec<PlatformReport>,
    /// Required platforms that were not found.
    pub missing: Vec<String>,
    /// Attestation manifests in the index, with the platform manifest each refers to.
    pub attestations: Vec<Attestation>,
    /// HTTP requests sent (not in the JSON; printed to stderr with SHIPCHECK_TRACE_REQUESTS=1).
    #[serde(skip)]
    pub requests: usize,
    /// One line per HTTP request (method, URL, time since start; no header), for SHIPCHECK_TRACE_REQUESTS=1.
    #[serde(skip)]
    pub trace: Vec<String>,
}

/// One platform image of the reference and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformReport {
    /// The platform the index claims (for a single manifest: the one its config declares).
    pub platform: String,
    /// Digest of the platform's image manifest.
    pub digest: String,
    /// Media type of the platform's image manifest.
    pub media_type: String,
    /// Size of the platform's image manifest, in bytes.
    pub size: u64,
    /// Digest of the image's config blob, or null when it was not reached.
    pub config_digest: Option<String>,
    /// `verified` or `failed`.
    pub status: String,
}

/// An attestation manifest in an index (buildx's provenance and SBOM); never a platform.
#[derive(Debug, Clone, Serialize)]
pub struct Attestation {
    /// Digest of the attestation manifest.
    pub digest: String,
    /// The platform manifest the attestation describes (`vnd.docker.reference.digest`).
    pub refers_to: Option<String>,
}

impl ImageReport {
    fn new() -> Self {
        ImageReport {
            verdict: Verdict::Error,
            reasons: Vec::new(),
            warnings: Vec::new(),
            reference: None,
            digest: None,
            media_type: None,
            platforms: Vec::new(),
            missing: Vec::new(),
            attestations: Vec::new(),
            requests: 0,
            trace: Vec::new(),
        }
    }

    /// A report for a request that could not start (for example, a bad `--ca-cert`).
    pub fn failed(req: &ImageRequest, r: Reason) -> Self {
        let mut rep = ImageReport::new();
        rep.reference = Reference::parse(&req.reference).ok().map(|r| r.to_string());
        rep.reasons.push(r);
        rep.finish()
    }

    fn finish(mut self) -> Self {
        self.verdict = verdict_of(&self.reasons);
        self
    }
}

/// Runs the check. Never panics on registry input; every failure is a reason in the report.
pub async fn run(req: &ImageRequest, http: &Http) -> ImageReport {
    run_with(req, http, &ContentCache::default()).await
}

/// Like [`run`], reusing content verified earlier in the same run (see [`ContentCache`]).
// Long: argument checks, credentials and client before the walk; each early return is a distinct could-not-decide reason.
pub async fn run_with(req: &ImageRequest, http: &Http, cache: &ContentCache) -> ImageReport {
    let mut rep = ImageReport::new();
    let reference = match Reference::parse(&req.reference) {
        Ok(r) => r,
        Err(e) => {
            rep.reasons.push(
                Reason::new(Code::InvalidReference, e.to_string())
                    .hint("write it like registry.example.com/team/app:v1 or app@sha256:<hex>"),
            );
            return rep.finish();
        }
    };
    rep.reference = Some(reference.to_string());
    let mut required: Vec<Platform> = Vec::new();
    // An empty value (an unset CI variable in `--platforms "$PLATFORMS"`) must not switch the check
    // off; leaving the option out checks every platform the index lists. An empty item in a list
    // (`amd64,$EXTRA` with EXTRA unset) must not drop the platform it was meant to require: refused,
    // as containerd's and buildx's platform parsers refuse it.
    const WHERE: &str = "required platforms (--platforms, or `platforms` in an audit file)";
    if !req.platforms.is_empty() && req.platforms.iter().all(|p| p.trim().is_empty()) {
        rep.reasons.push(
            Reason::usage(format!("the {WHERE} are empty"))
                .hint("give platforms such as amd64,arm64, or leave --platforms out to check every platform the index lists"),
        );
        return rep.finish();
    }
    if req.platforms.iter().any(|p| p.trim().is_empty()) {
        rep.reasons.push(
            Reason::usage(format!(
                "the {WHERE} have an empty item: {:?}",
                req.platforms
            ))
            .hint("an unset variable in a list such as amd64,$EXTRA leaves an empty item; name every platform, or remove the item"),
        );
        return rep.finish();
    }
    for p in &req.platforms {
        match Platform::parse(p) {
            Ok(p) => {
                // One check per platform; Windows builds are platforms of their own (a host runs
                // only its own build), so `os.version` tells two requirements apart too.
                if !required
                    .iter()
                    .any(|r| r.matches(&p) && r.os_version == p.os_version)
                {
                    required.push(p)
                }
            }
            Err(e) => {
                rep.reasons.push(Reason::usage(format!("{WHERE}: {e}")));
                return rep.finish();
            }
        }
    }
    let pinned = match req.digest.as_deref().map(Digest::parse).transpose() {
        Ok(d) => d,
        Err(e) => {
            rep.reasons.push(Reason::usage(format!(
                "the required digest (--digest, or `digest` in an audit file): {e}"
            )));
            return rep.finish();
        }
    };
    let ecr =
        crate::oci::auth::ecr::ecr_registry(&reference.registry, &req.credentials.ecr_registries);
    let creds = match (&req.username, &req.password) {
        (Some(u), Some(p)) => Some(Credentials::new(u, p, "--username/--password-stdin")),
        (Some(_), None) | (None, Some(_)) => {
            rep.reasons
                .push(Reason::usage("--username and --password-stdin go together"));
            return rep.finish();
        }
        (None, None) => match crate::oci::auth::docker_config_credentials(
            req.credentials.docker_config.as_deref(),
            &reference.registry,
        ) {
            Ok(Some(c)) => Some(c),
            // No Docker credentials: an ECR registry is logged in to natively (AWS credential chain).
            Ok(None) => match &ecr {
                Some(ecr) => {
                    let login = cache.ecr_login(&reference.registry);
                    let timeout = crate::aws::Timeout(http.opts.timeout);
                    match crate::oci::auth::ecr::credentials(
                        &reference.registry,
                        ecr,
                        &login,
                        timeout,
                    )
                    .await
                    {
                        Ok(c) => Some(c),
                        Err(r) => {
                            rep.reasons.push(r);
                            return rep.finish();
                        }
                    }
                }
                None => None,
            },
            Err(r) => {
                rep.reasons.push(r);
                return rep.finish();
            }
        },
    };
    let client = Client::new(
        http.clone(),
        reference.api_host(),
        creds,
        cache.scheme(reference.api_host()),
    )
    .basic_at_once(ecr.is_some())
    .basic_asked(cache.basic_asked(reference.api_host()));
    let v = Verifier {
        client: &client,
        host: reference.api_host().to_string(),
        repo: reference.repository.clone(),
        deep: req.deep || req.content,
        content: req.content,
        cache,
        manifests: Mutex::default(),
        configs: Mutex::default(),
        layers: Mutex::default(),
        contents: Mutex::default(),
    };
    let outcome = v
        .verify(&reference, pinned.as_ref(), &required, &mut rep)
        .await;
    if let Err(r) = outcome {
        rep.reasons.push(r);
    }
    rep.requests = client.requests();
    rep.trace = client.trace();
    rep.finish()
}

struct Verifier<'a> {
    client: &'a Client,
    host: String,
    repo: String,
    deep: bool,
    cache: &'a ContentCache,
    /// Platform manifests and configs checked for this reference, by descriptor: an index that lists
    /// one manifest (or one config) many times costs one check, not one per entry.
    manifests: Memo<(Digest, u64, String), Manifest>,
    configs: Memo<(Digest, u64), ImageConfig>,
    /// `--deep`: the registry's answer to a HEAD of each layer, by digest (an index that repeats a
    /// layer, or lists one manifest many times, costs one HEAD per layer), and how many distinct
    /// layers were asked about (at most [`MAX_LAYER_CHECKS`]).
    layers: Mutex<HashMap<Digest, LayerHead>>,
    /// `--content`: also download each layer (by digest and size, once each).
    content: bool,
    /// `--content`: each layer's bytes received and digests, by digest and size.
    contents: Mutex<HashMap<LayerKey, LayerContent>>,
}

/// A layer's download and digests (`--content`), made once and awaited by every entry naming it.
type LayerContent = Arc<tokio::sync::OnceCell<Result<(u64, LayerDigests), Reason>>>;

/// A layer's digest and size, and whether the runtime decompresses its type.
type LayerKey = (Digest, u64, bool);

/// A layer's HEAD, made once and awaited by every entry that names the layer.
type LayerHead = Arc<tokio::sync::OnceCell<Result<Option<u64>, Reason>>>;

/// Results of checks already made, by what was checked.
type Memo<K, T> = Mutex<HashMap<K, Result<T, Reason>>>;

/// What verifying one platform entry produced.
struct PlatformOutcome {
    report: PlatformReport,
    /// The platform the image's config declares, when it could be read.
    actual: Option<Platform>,
    reasons: Vec<Reason>,
    warnings: Vec<Reason>,
    /// Why the manifest is not a container image but an artifact packed in an image manifest
    /// (empty: it is an image). A failure only where the runtime selects the entry.
    artifact: Vec<Reason>,
}

impl Verifier<'_> {
    /// Verifies one reference: the GET of its manifest and the walk below it, and beside them the
    /// HEAD runtimes resolve the reference with (off the critical path: judged when both are done).
    async fn verify(
        &self,
        reference: &Reference,
        pinned: Option<&Digest>,
        required: &[Platform],
        rep: &mut ImageReport,
    ) -> Result<(), Reason> {
        let manifest_ref = reference.manifest_ref();
        // The GET is polled first: on a loopback registry it is the HTTPS probe the HEAD waits for.
        let (top, head) = tokio::join!(
            self.verify_top(reference, &manifest_ref, pinned, required, rep),
            self.client.head_manifest(&self.repo, &manifest_ref)
        );
        let Some(fetched) = top? else {
            return Ok(());
        };
        let what = format!("manifest of {reference}");
        let index = rep
            .media_type
            .as_deref()
            .is_some_and(crate::oci::is_index_type);
        match runtime_view(reference, head?, &fetched, &what) {
            Ok(runtime_type) => {
                if let Err(e) = check_top_content_type(runtime_type.as_deref(), index, &what) {
                    rep.reasons.push(manifest_reason(e));
                }
            }
            Err(r) => rep.reasons.push(r),
        }
        Ok(())
    }

    /// GETs the reference's manifest, checks its bytes and walks what it names. The manifest, when
    /// its bytes passed (for the HEAD's check); `None` when they did not (reasons in `rep`).
    // Long: the walk of one reference (resolve, parse, index or manifest, walk budget), whose early returns are each a distinct reason.
    async fn verify_top(
        &self,
        reference: &Reference,
        manifest_ref: &str,
        pinned: Option<&Digest>,
        required: &[Platform],
        rep: &mut ImageReport,
    ) -> Result<Option<Fetched>, Reason> {
        let fetched = self
            .client
            .get_manifest(&self.repo, manifest_ref, MAX_MANIFEST)
            .await;
        let fetched = fetched.map_err(|e| match e {
            GetError::Reason(r) => r,
            GetError::TooLarge { url, limit } => Reason::new(
                Code::ManifestTooLarge,
                format!("{url}: the manifest is larger than the limit of {limit} bytes"),
            )
            .hint("this is not an image manifest of a normal size; check the reference"),
        })?;
        let body = &fetched.body;
        let algo = reference
            .digest
            .as_ref()
            .or(pinned)
            .map_or(Algo::Sha256, |d| d.algo);
        let resolved = Digest::of(algo, body);
        rep.digest = Some(resolved.to_string());
        let mut mismatch = false;
        if let Some(d) = &reference.digest {
            rep.reasons
                .extend(sha512_content(d, &format!("the manifest of {reference}")));
            if !d.matches(body) {
                mismatch = true;
                rep.reasons.push(Reason::new(
                    Code::DigestMismatch,
                    format!("the registry served bytes for {reference} that hash to {resolved}, not to the reference's digest {d}"),
                ).hint("the registry or something between it and you altered the manifest; do not deploy it"));
            }
        }
        if let Some(p) = pinned {
            if !p.matches(body) {
                mismatch = true;
                rep.reasons.push(
                    Reason::new(
                        Code::DigestMismatch,
                        format!("{reference} resolves to {resolved}, not to --digest {p}"),
                    )
                    .hint("the tag was moved to another image since the digest was recorded; deploy by digest, or update --digest if the move was intended"),
                );
            }
        }
        check_digest_header(
            &fetched,
            &format!("manifest of {reference}"),
            &mut rep.reasons,
        );
        if mismatch || !rep.reasons.is_empty() {
            return Ok(None);
        }
        let what = format!("manifest of {reference}");
        let top = parse_manifest(body, fetched.content_type.as_deref(), None, &what)
            .map_err(manifest_reason)?;
        rep.media_type = Some(top.media_type().to_string());
        match top {
            Manifest::Index { manifests, .. } => {
                let mut visited = HashSet::new();
                visited.insert(resolved.clone());
                let tree = self.walk(manifests, &mut visited, rep).await?;
                self.verify_index(reference, &tree, required, rep).await;
            }
            Manifest::Image {
                media_type,
                config,
                layers,
            } => {
                let desc = Descriptor {
                    media_type: media_type.clone(),
                    digest: resolved.clone(),
                    size: body.len() as u64,
                    platform: None,
                    annotations: Default::default(),
                    urls: Vec::new(),
                };
                let o = self.verify_image_manifest(desc, None, config, layers).await;
                let actual = o.actual.clone();
                // A config that could not be read leaves the platform undecided: its reason says
                // why, and the platform is not also reported missing.
                // The runtime pulls this manifest: an artifact fails the pull.
                let undecided =
                    actual.is_none() && !(o.reasons.is_empty() && o.artifact.is_empty());
                rep.platforms.push(o.report);
                rep.reasons.extend(o.artifact);
                rep.reasons.extend(o.reasons);
                rep.warnings.extend(o.warnings);
                for req in required.iter().filter(|_| !undecided) {
                    if !actual
                        .as_ref()
                        .is_some_and(|a| req.matches(a) && req.windows_build_runs(a))
                    {
                        let ctx = Required {
                            reference,
                            req,
                            required,
                        };
                        ctx.missing(None, rep);
                    }
                }
            }
        }
        Ok(Some(fetched))
    }

    /// Verifies every platform image of an index, then, for each required platform, the entry the
    /// runtime would select (see [`crate::oci::selection`]); other entries are listed as
    /// attestations or skipped with a warning.
    async fn verify_index(
        &self,
        reference: &Reference,
        tree: &IndexTree,
        required: &[Platform],
        rep: &mut ImageReport,
    ) {
        // Without --platforms, the platforms the index lists are the required ones: each is judged
        // by the entry the runtime would select for it, not only by the entries that claim it.
        let listed;
        let given = !required.is_empty();
        let required = if given {
            required
        } else {
            listed = listed_platforms(tree);
            &listed[..]
        };
        // What the runtime selects depends on the descriptors alone.
        let selections: Vec<Selection> = required.iter().map(|r| tree.select(r)).collect();
        let mut selected = HashSet::new();
        for sel in &selections {
            if let Selection::Image { node, .. }
            | Selection::Unusable { node }
            | Selection::Fallback { node, .. } = sel
            {
                selected.insert(*node);
            }
        }
        let mut actual_of = self.verify_platform_entries(tree, &selected, rep).await;
        if !given && rep.platforms.is_empty() {
            rep.reasons.push(
                Reason::new(
                    Code::MissingPlatform,
                    format!("the index of {reference} lists no platform images"),
                )
                .hint("push the image with its platforms (docker buildx build --platform ...)"),
            );
        }
        for (req, sel) in required.iter().zip(selections) {
            let ctx = Required {
                reference,
                req,
                required,
            };
            self.check_selection(&ctx, tree, sel, &mut actual_of, rep)
                .await;
        }
        report_other_entries(tree, &selected, rep);
    }

    /// Verifies every entry with a real platform (concurrently) and returns, per node, the platform
    /// its config declares (`None`: the config could not be read; the failure is reported). An
    /// entry that is an artifact rather than an image (a SOCI index, a Nydus image beside the OCI
    /// one) fails only where the runtime selects it (`selected`); elsewhere it is a warning.
    async fn verify_platform_entries(
        &self,
        tree: &IndexTree,
        selected: &HashSet<usize>,
        rep: &mut ImageReport,
    ) -> HashMap<usize, Option<Platform>> {
        let entries: Vec<(usize, Descriptor, Platform)> = tree
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(id, n)| match n {
                Node::Image { desc } if has_real_platform(desc) => Some((
                    id,
                    desc.clone(),
                    desc.platform.clone().expect("real platform"),
                )),
                _ => None,
            })
            .collect();
        let outcomes: Vec<(usize, PlatformOutcome)> = futures_util::stream::iter(entries)
            .map(|(id, desc, claimed)| async move {
                (id, self.verify_platform(desc, Some(claimed)).await)
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        // An artifact the runtime selects (under any of its entries) is judged per required
        // platform in `check_selection`; one it never selects is a warning, whatever else is wrong
        // with it (the runtime never fetches it).
        let selected_digests: HashSet<&Digest> = selected
            .iter()
            .map(|id| &tree.nodes[*id].desc().digest)
            .collect();
        let mut actual_of = HashMap::new();
        for (id, o) in outcomes {
            if !o.artifact.is_empty() {
                let d = tree.nodes[id].desc();
                if !selected_digests.contains(&d.digest) {
                    let why: Vec<&str> = o
                        .artifact
                        .iter()
                        .chain(&o.reasons)
                        .map(|r| r.message.as_str())
                        .collect();
                    rep.warnings.push(Reason::new(
                        Code::UnknownEntry,
                        format!(
                            "entry {} is not a container image, and the runtime selects another entry for its platform: {}",
                            d.digest,
                            why.join("; ")
                        ),
                    ));
                    rep.warnings.extend(o.warnings);
                    continue;
                }
                if selected.contains(&id) {
                    rep.platforms.push(o.report);
                }
                actual_of.insert(id, o.actual);
                rep.reasons.extend(o.reasons);
                rep.warnings.extend(o.warnings);
                continue;
            }
            actual_of.insert(id, o.actual);
            rep.platforms.push(o.report);
            rep.reasons.extend(o.reasons);
            rep.warnings.extend(o.warnings);
        }
        actual_of
    }

    /// Judges what the runtime would run for one required platform.
    // Long: one match arm per kind of selection (by platform, by config, fallback, unusable, none),
    // each a few lines; split up, the arms would only pass the same five arguments along.
    async fn check_selection(
        &self,
        ctx: &Required<'_>,
        tree: &IndexTree,
        sel: Selection,
        actual_of: &mut HashMap<usize, Option<Platform>>,
        rep: &mut ImageReport,
    ) {
        let req = ctx.req;
        // The runtime fetches every nested index on its way to the entry: one it cannot record
        // (a `ref.name` too long for its database) fails the pull before the entry matters.
        let node = match sel {
            Selection::Image { node, .. }
            | Selection::Fallback { node, .. }
            | Selection::Unusable { node } => Some(node),
            Selection::None | Selection::Undecided => None,
        };
        for at in node.map(|n| tree.ancestors(n)).unwrap_or_default() {
            let d = tree.nodes[at].desc();
            let what = format!(
                "the nested index {} the runtime enters for {req} in {}",
                d.digest, ctx.reference
            );
            if let Some(r) = ref_key_problem(d, &what) {
                rep.missing.push(req.to_string());
                rep.reasons.push(r);
                return;
            }
        }
        match sel {
            // Selected by its platform, which matches `req`: verified with every platform image (its
            // config must name that platform).
            Selection::Image {
                node,
                by_config: false,
            } => {
                let desc = tree.nodes[node].desc();
                debug_assert!(has_real_platform(desc));
                if let Some(why) = self.artifact_of(desc) {
                    rep.missing.push(req.to_string());
                    rep.reasons.push(
                        Reason::new(
                            Code::UnusableEntry,
                            format!(
                                "the entry the runtime selects for {req} in {} is {}, which is not a container image the runtime can run: {why}",
                                ctx.reference, desc.digest
                            ),
                        )
                        .hint("put the container image for this platform first in the index, before artifacts such as a SOCI index"),
                    );
                    return;
                }
                // The entry's claim matched; a Windows build it does not name is the config's.
                if let Some(Some(actual)) = actual_of.get(&node) {
                    if !req.windows_build_runs(actual) {
                        ctx.missing(
                            Some(format!(
                                "the runtime would select entry {}, whose config says {actual}",
                                tree.nodes[node].desc().digest
                            )),
                            rep,
                        );
                    }
                }
            }
            Selection::Undecided => {}
            Selection::Image {
                node,
                by_config: true,
            } => {
                let desc = tree.nodes[node].desc();
                let actual = match actual_of.get(&node) {
                    Some(a) => a.clone(),
                    None => {
                        let o = self.verify_platform(desc.clone(), None).await;
                        actual_of.insert(node, o.actual.clone());
                        // An artifact is no platform image (whether the runtime takes it is
                        // judged below).
                        if o.artifact.is_empty() {
                            rep.platforms.push(o.report);
                        }
                        rep.reasons.extend(o.reasons);
                        rep.warnings.extend(o.warnings);
                        o.actual
                    }
                };
                // Without a readable config the failure is already reported.
                if let Some(actual) = actual
                    .clone()
                    .filter(|a| !req.matches(a) || !req.windows_build_runs(a))
                {
                    ctx.missing(
                        Some(format!(
                            "the runtime would select entry {}, which names no platform (or no os) in the index and whose config says {actual}",
                            desc.digest
                        )),
                        rep,
                    );
                } else if let Some(why) = self.artifact_of(desc) {
                    // Its config names the platform (or is not an image's): the runtime takes it,
                    // and the pull fails.
                    rep.missing.push(req.to_string());
                    rep.reasons.push(
                        Reason::new(
                            Code::UnusableEntry,
                            format!(
                                "the entry the runtime selects for {req} in {} is {}, which names no platform and is not a container image the runtime can run: {why}",
                                ctx.reference, desc.digest
                            ),
                        )
                        .hint("put the container image for this platform first in the index"),
                    );
                }
            }
            Selection::Fallback { node, platform } => ctx.missing(
                Some(format!(
                    "the runtime would fall back to the {platform} entry {}",
                    tree.nodes[node].desc().digest
                )),
                rep,
            ),
            Selection::Unusable { node } => {
                let d = tree.nodes[node].desc();
                rep.missing.push(req.to_string());
                rep.reasons.push(
                    Reason::new(
                        Code::UnusableEntry,
                        format!(
                            "the entry the runtime selects for {req} in {} is {} with {}, which is not an image manifest: the pull fails",
                            ctx.reference,
                            d.digest,
                            media_type_text(&d.media_type)
                        ),
                    )
                    .hint("container runtimes take the first entry that matches the platform; put a valid image manifest first, or remove the entry"),
                );
            }
            Selection::None => ctx.missing(None, rep),
        }
    }

    /// Reads an index and the indexes nested in it into a tree in the registry's order, within the
    /// walk budget ([`MAX_DEPTH`], [`MAX_TOTAL_ENTRIES`], [`MAX_NESTED_INDEXES`]). A nested index that
    /// cannot be read is reported and left without children.
    async fn walk(
        &self,
        top: Vec<Descriptor>,
        visited: &mut HashSet<Digest>,
        rep: &mut ImageReport,
    ) -> Result<IndexTree, Reason> {
        let mut tree = IndexTree::default();
        let mut total = top.len();
        tree.top = tree.add(top);
        let mut fetched = 0usize;
        let mut pending: Vec<(usize, usize)> = tree.top.iter().rev().map(|&id| (id, 0)).collect();
        while let Some((id, depth)) = pending.pop() {
            let Node::Index { desc, .. } = &tree.nodes[id] else {
                continue;
            };
            let desc = desc.clone();
            if depth + 1 > MAX_DEPTH {
                return Err(Reason::new(
                    Code::InvalidManifest,
                    format!(
                        "indexes are nested deeper than {MAX_DEPTH} levels (at {})",
                        desc.digest
                    ),
                ));
            }
            if !visited.insert(desc.digest.clone()) {
                return Err(Reason::new(
                    Code::InvalidManifest,
                    format!(
                        "index {} is referenced more than once (a loop)",
                        desc.digest
                    ),
                ));
            }
            fetched += 1;
            if fetched > MAX_NESTED_INDEXES {
                return Err(too_many_entries(format!(
                    "more than {MAX_NESTED_INDEXES} nested indexes"
                )));
            }
            let what = format!("nested index {}", desc.digest);
            match self.fetch_child(&desc, &what).await {
                Ok(Manifest::Index { manifests, .. }) => {
                    total += manifests.len();
                    if total > MAX_TOTAL_ENTRIES {
                        return Err(too_many_entries(format!(
                            "more than {MAX_TOTAL_ENTRIES} entries in all"
                        )));
                    }
                    let kids = tree.add(manifests);
                    pending.extend(kids.iter().rev().map(|&k| (k, depth + 1)));
                    if let Node::Index { children, .. } = &mut tree.nodes[id] {
                        *children = Some(kids);
                    }
                }
                Ok(Manifest::Image { .. }) => {
                    return Err(Reason::new(
                        Code::MediaTypeMismatch,
                        format!("{what} is an image manifest, not an index"),
                    ))
                }
                Err(r) => rep.reasons.push(r),
            }
        }
        Ok(tree)
    }

    /// Fetches a manifest by the descriptor's digest and checks size, digest and media type.
    async fn fetch_child(&self, desc: &Descriptor, what: &str) -> Result<Manifest, Reason> {
        if desc.size > MAX_MANIFEST {
            return Err(Reason::new(
                Code::ManifestTooLarge,
                format!(
                    "{what}: its descriptor says {} bytes, more than the limit of {MAX_MANIFEST}",
                    desc.size
                ),
            ));
        }
        let fetched = self.fetch_verified(Kind::Manifest, desc, what).await?;
        parse_manifest(
            &fetched.body,
            fetched.content_type.as_deref(),
            Some(&desc.media_type),
            what,
        )
        .map_err(manifest_reason)
    }

    /// Fetches a manifest or blob by the descriptor's digest (or takes it from the run's cache) and
    /// checks its size, digest and `Docker-Content-Digest`; the checks run on cached bytes too.
    async fn fetch_verified(
        &self,
        kind: Kind,
        desc: &Descriptor,
        what: &str,
    ) -> Result<Arc<Fetched>, Reason> {
        if let Some(r) = external_content(desc, what).or_else(|| sha512_content(&desc.digest, what))
        {
            return Err(r);
        }
        let key = (
            self.host.clone(),
            self.repo.clone(),
            kind,
            desc.digest.clone(),
        );
        let fetched = self
            .cache
            .get_or_fetch(key, desc.size, || async {
                let f = match kind {
                    Kind::Manifest => {
                        self.client
                            .get_manifest(&self.repo, &desc.digest.to_string(), desc.size)
                            .await
                    }
                    Kind::Blob => {
                        self.client
                            .get_blob(&self.repo, &desc.digest, desc.size)
                            .await
                    }
                }
                .map_err(|e| self.child_error(e, what, desc.size))?;
                check_body(&f, desc, what)?;
                Ok(f)
            })
            .await?;
        check_body(&fetched, desc, what)?;
        Ok(fetched)
    }

    fn child_error(&self, e: GetError, what: &str, size: u64) -> Reason {
        match e {
            GetError::TooLarge { .. } => Reason::new(
                Code::SizeMismatch,
                format!("{what}: the registry served more than the {size} bytes its descriptor says"),
            )
            .hint("the content does not match what the index or manifest recorded; push the image again"),
            GetError::Reason(r) if r.code == Code::NotFound => Reason::new(
                Code::MissingContent,
                format!("{what} is referenced but the registry does not have it: {}", r.message),
            )
            .hint("the image is incomplete (a lifecycle policy or a partial push may have removed it); push it again"),
            GetError::Reason(r) => r,
        }
    }

    async fn verify_platform(
        &self,
        desc: Descriptor,
        claimed: Option<Platform>,
    ) -> PlatformOutcome {
        let what = format!(
            "{} manifest {}",
            claimed.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            desc.digest
        );
        let key = (desc.digest.clone(), desc.size, desc.media_type.clone());
        let known = self.manifests.lock().unwrap().get(&key).cloned();
        let checked = match known {
            Some(m) => m,
            None => {
                let m = self.fetch_child(&desc, &what).await;
                self.manifests.lock().unwrap().insert(key, m.clone());
                m
            }
        };
        match checked {
            Ok(Manifest::Image { config, layers, .. }) => {
                self.verify_image_manifest(desc, claimed, config, layers)
                    .await
            }
            Ok(Manifest::Index { .. }) => unreachable_index(desc, claimed, &what),
            Err(r) => PlatformOutcome {
                report: platform_report(&desc, claimed.as_ref(), None, false),
                actual: None,
                reasons: vec![r],
                warnings: Vec::new(),
                artifact: Vec::new(),
            },
        }
    }

    /// Why an image manifest already fetched for this reference is an artifact rather than a
    /// container image (`None`: an image, or not fetched).
    fn artifact_of(&self, desc: &Descriptor) -> Option<String> {
        let key = (desc.digest.clone(), desc.size, desc.media_type.clone());
        let known = self.manifests.lock().unwrap();
        let Some(Ok(Manifest::Image { config, layers, .. })) = known.get(&key) else {
            return None;
        };
        let label = format!("image {}", desc.digest);
        let what = format!("config {} of {label}", config.digest);
        let mut why: Vec<String> = artifact_reasons(&label, &what, config, layers)
            .into_iter()
            .map(|r| r.message)
            .collect();
        let checked = self.configs.lock().unwrap();
        let read = checked
            .get(&(config.digest.clone(), config.size))
            .and_then(|c| c.as_ref().ok());
        if let Some(c) = read {
            why.extend(unpack_problem(&what, &c.diff_ids, layers.len()));
        }
        let base = desc
            .platform
            .clone()
            .or_else(|| read.map(|c| c.platform.clone()));
        why.extend(
            child_problems(desc, &what, config, &label, layers, base.as_ref())
                .into_iter()
                .map(|r| r.message),
        );
        (!why.is_empty()).then(|| why.join("; "))
    }

    /// `--deep`: the registry's size for a layer (a HEAD), once per digest even when several
    /// entries ask at once; `None` past [`MAX_LAYER_CHECKS`] distinct layers.
    async fn head_layer(&self, digest: &Digest) -> Option<Result<Option<u64>, Reason>> {
        let cell = {
            let mut known = self.layers.lock().unwrap();
            match known.get(digest) {
                Some(c) => c.clone(),
                None if known.len() >= MAX_LAYER_CHECKS => return None,
                None => {
                    let c = Arc::new(tokio::sync::OnceCell::new());
                    known.insert(digest.clone(), c.clone());
                    c
                }
            }
        };
        let head = cell
            .get_or_init(|| self.client.head_blob(&self.repo, digest))
            .await;
        Some(head.clone())
    }

    /// `--content`: downloads a layer and computes its digests, once per digest and size even
    /// when several entries ask at once; `None` past [`MAX_LAYER_CHECKS`] distinct layers.
    async fn layer_content(&self, l: &Descriptor) -> Option<Result<(u64, LayerDigests), Reason>> {
        let key = (l.digest.clone(), l.size, decompressed(&l.media_type));
        let cell = {
            let mut known = self.contents.lock().unwrap();
            match known.get(&key) {
                Some(c) => c.clone(),
                None if known.len() >= MAX_LAYER_CHECKS => return None,
                None => {
                    let c = Arc::new(tokio::sync::OnceCell::new());
                    known.insert(key, c.clone());
                    c
                }
            }
        };
        let what = format!("layer {}", l.digest);
        let got = cell
            .get_or_init(|| async {
                let _stream = self.cache.layer_stream().await;
                let mut sink = LayerSink::new(&l.media_type);
                let n = self
                    .client
                    .stream_blob(&self.repo, &l.digest, l.size, &mut sink)
                    .await
                    .map_err(|e| self.child_error(e, &what, l.size))?;
                let d = sink.finish();
                Ok((n, d))
            })
            .await;
        Some(got.clone())
    }

    /// `--content`: what is wrong with layer `i` (`lwhat`) against its descriptor and the config's
    /// `diff_ids` (None when the config could not be read or lists another number of layers).
    fn content_problems(
        i: usize,
        lwhat: &str,
        l: &Descriptor,
        got: Result<(u64, LayerDigests), Reason>,
        diff_ids: Option<&Vec<Digest>>,
    ) -> Vec<Reason> {
        let (n, d) = match got {
            Ok(x) => x,
            Err(r) => return vec![r],
        };
        let mut out = Vec::new();
        if n != l.size {
            out.push(
                Reason::new(
                    Code::SizeMismatch,
                    format!(
                        "{lwhat}: the registry served {n} bytes, the manifest says {}",
                        l.size
                    ),
                )
                .hint("the image is damaged in the registry; push it again"),
            );
        }
        if d.compressed != l.digest {
            out.push(Reason::new(
                Code::DigestMismatch,
                format!("{lwhat}: the bytes served hash to {}", d.compressed),
            ).hint("the registry serves other bytes than the manifest names; push the image again and check the registry's storage"));
            return out;
        }
        let c = match d.content {
            Ok(c) => c,
            Err(NotUnpacked::TooLarge(limit)) => {
                out.push(
                    Reason::new(
                        Code::TooLarge,
                        format!("{lwhat}: its content decompresses to more than {} GiB, where shipcheck stops: its diff_id and tar archive are not checked (a decompression bomb, or a layer larger than any real one)", limit >> 30),
                    )
                    .hint("check the image's origin; a real layer this large is better split"),
                );
                return out;
            }
            Err(NotUnpacked::Damaged(e)) => {
                out.push(
                    Reason::new(
                        Code::UnusableEntry,
                        format!("{lwhat}: its compressed stream is damaged ({e}): the runtime cannot unpack it"),
                    )
                    .hint("the image was pushed damaged; build and push it again"),
                );
                return out;
            }
        };
        // A layer may unpack in one place of an image and not in another (whiteouts).
        let placed = match i {
            0 => c.not_tar_first.as_ref().map(|w| format!("{w} (as the image's first layer, which containerd unpacks into an empty directory, each whiteout removing what it names)")),
            _ => c.not_tar_upper.as_ref().map(|w| format!("{w} (above the image's first layer, which containerd's overlayfs snapshotter unpacks into a directory of its own, each whiteout made a device there)")),
        };
        if let Some(why) = c.not_tar.as_ref().or(placed.as_ref()) {
            out.push(
                Reason::new(
                    Code::UnusableEntry,
                    format!(
                        "{lwhat}: its content is not a tar archive the runtime can unpack: {why}"
                    ),
                )
                .hint("the image was assembled by hand or damaged; build and push it again"),
            );
        }
        // Content the walk cannot judge past some point is undecided, never a pass.
        if let Some(why) = &c.unchecked {
            out.push(
                Reason::new(
                    Code::UnsupportedMediaType,
                    format!(
                        "{lwhat}: {why}, so shipcheck cannot tell whether the runtime unpacks it"
                    ),
                )
                .hint(
                    "container builders do not write sparse files; check how this layer was made",
                ),
            );
        }
        if let Some(want) = diff_ids.and_then(|ids| ids.get(i)) {
            if *want != c.digest {
                let how = match c.compression {
                    "none" => "uncompressed, hashes".to_string(),
                    c => format!("decompressed ({c}), hashes"),
                };
                out.push(Reason::new(
                    Code::DigestMismatch,
                    format!("{lwhat}: its content, {how} to {}, but the config's `rootfs.diff_ids[{i}]` is {want}: containerd's unpack refuses it (wrong diff id calculated on extraction)", c.digest),
                ).hint("the image config does not describe its layers; build and push the image again"));
            }
        }
        out
    }

    /// Checks an image manifest's config (digest, size, platform) and, with `--deep`, its layers;
    /// says whether it is an artifact rather than an image (config and layer media types).
    // Long: config digest, size, media type and platform, then layers with --deep, in the order they are reported.
    async fn verify_image_manifest(
        &self,
        desc: Descriptor,
        claimed: Option<Platform>,
        config: Descriptor,
        layers: Vec<Descriptor>,
    ) -> PlatformOutcome {
        let mut reasons = Vec::new();
        let mut warnings = Vec::new();
        let label = claimed
            .as_ref()
            .map(|p| format!("{p} image {}", desc.digest))
            .unwrap_or_else(|| format!("image {}", desc.digest));
        let what = format!("config {} of {label}", config.digest);
        let mut actual: Option<Platform> = None;
        // `--content`: the config's diff_ids, when it lists one per layer.
        let mut diffs: Option<Vec<Digest>> = None;
        let mut artifact = artifact_reasons(&label, &what, &config, &layers);
        if !is_config_type(&config.media_type) {
            // Not an image configuration: not read (the artifact reason says why).
        } else if config.size > MAX_CONFIG {
            reasons.push(Reason::new(
                Code::ManifestTooLarge,
                format!(
                    "{what}: its descriptor says {} bytes, more than the limit of {MAX_CONFIG}",
                    config.size
                ),
            ));
        } else {
            let key = (config.digest.clone(), config.size);
            let known = self.configs.lock().unwrap().get(&key).cloned();
            let checked = match known {
                Some(c) => c,
                None => {
                    let c = match self.fetch_verified(Kind::Blob, &config, &what).await {
                        Err(r) => Err(r),
                        Ok(f) => parse_config(&f.body).map_err(|e| {
                            Reason::new(Code::InvalidManifest, format!("{what}: {e}"))
                        }),
                    };
                    self.configs.lock().unwrap().insert(key, c.clone());
                    c
                }
            };
            match checked {
                Err(r) => reasons.push(r),
                Ok(ImageConfig {
                    platform: p,
                    diff_ids,
                }) => {
                    diffs = diff_ids.clone().ok().filter(|d| d.len() == layers.len());
                    artifact.extend(unpack_problem(&what, &diff_ids, layers.len()).map(|m| {
                        Reason::new(Code::UnusableEntry, m).hint(
                            "the image was assembled by hand or damaged; build and push it again",
                        )
                    }));
                    if let Some(c) = &claimed {
                        if !c.claims(&p) {
                            reasons.push(
                                        Reason::new(
                                            Code::PlatformMismatch,
                                            format!("the index lists {} as {c}, but its image config says {p}", desc.digest),
                                        )
                                        .hint("the index points a platform at the wrong image; rebuild and push the multi-platform image"),
                                    );
                        }
                    }
                    actual = Some(p);
                }
            }
        }
        // The runtime fetches every layer it unpacks, from the URLs a layer names first (a
        // foreign Windows base layer's too: containerd does not look at the type).
        for (i, l) in layers.iter().enumerate() {
            let lwhat = format!("layer {i} ({}) of {label}", l.digest);
            reasons.extend(external_content(l, &lwhat));
            reasons.extend(sha512_content(&l.digest, &lwhat));
            // containerd refuses to fetch a descriptor of size zero ("reports content size of
            // zero": it takes it for a registry that sent no Content-Length); no builder writes
            // an empty layer (an empty tar is 1024 bytes).
            if l.size == 0 {
                reasons.push(
                    Reason::new(
                        Code::UnusableEntry,
                        format!("{lwhat} has size 0: containerd refuses to fetch a descriptor of size zero, so the pull fails"),
                    )
                    .hint("push the image again; no builder writes an empty layer"),
                );
            }
        }
        artifact.extend(child_problems(
            &desc,
            &what,
            &config,
            &label,
            &layers,
            claimed.as_ref().or(actual.as_ref()),
        ));
        if self.deep {
            for (i, l) in layers.iter().enumerate() {
                let lwhat = format!("layer {i} ({}) of {label}", l.digest);
                // `--content`: every layer the registry holds is downloaded and hashed (a sha512
                // one is refused above; a foreign layer naming an http(s) URL, which need not be
                // in the registry, is judged by its HEAD below).
                if self.content && !(is_foreign_layer(&l.media_type) && has_http_url(l)) {
                    if l.digest.algo != Algo::Sha256 {
                        continue;
                    }
                    match self.layer_content(l).await {
                        Some(got) => reasons.extend(Self::content_problems(
                            i,
                            &lwhat,
                            l,
                            got,
                            diffs.as_ref(),
                        )),
                        None => {
                            reasons.push(Reason::new(
                                Code::ManifestTooLarge,
                                format!("{lwhat}: the image names more than {MAX_LAYER_CHECKS} distinct layers in all; not checked"),
                            ));
                            break;
                        }
                    }
                    continue;
                }
                let head = match self.head_layer(&l.digest).await {
                    Some(h) => h,
                    None => {
                        reasons.push(Reason::new(
                            Code::ManifestTooLarge,
                            format!("{lwhat}: the image names more than {MAX_LAYER_CHECKS} distinct layers in all; not checked"),
                        ));
                        break;
                    }
                };
                // A layer with `urls` is fetched from them or from the registry (containerd tries
                // both). Only a foreign (non-distributable) layer may be missing from the registry:
                // its URLs are not checked (shipcheck does not fetch from hosts a manifest names).
                if has_http_url(l)
                    && matches!(&head, Err(r) if r.code == Code::NotFound)
                    && is_foreign_layer(&l.media_type)
                {
                    warnings.push(Reason::new(
                        Code::UnknownEntry,
                        format!("{lwhat} is a foreign layer served from elsewhere; not checked"),
                    ));
                    continue;
                }
                match head {
                    Ok(Some(n)) if n == l.size => {}
                    Ok(Some(n)) => reasons.push(Reason::new(
                        Code::SizeMismatch,
                        format!(
                            "{lwhat}: the registry reports {n} bytes, the manifest says {}",
                            l.size
                        ),
                    )),
                    Ok(None) => reasons.push(Reason::new(
                        Code::DownloadFailed,
                        format!("{lwhat}: the registry did not report its size"),
                    )),
                    Err(r) if r.code == Code::NotFound => reasons.push(
                        Reason::new(
                            Code::MissingContent,
                            format!("{lwhat} is not in the registry: {}", r.message),
                        )
                        .hint("the image is incomplete; push it again"),
                    ),
                    Err(r) => reasons.push(r),
                }
            }
        }
        let shown = claimed.clone().or(actual.clone());
        let ok = reasons.is_empty() && artifact.is_empty();
        PlatformOutcome {
            report: platform_report(&desc, shown.as_ref(), Some(&config.digest), ok),
            actual,
            reasons,
            warnings,
            artifact,
        }
    }
}

/// A foreign (non-distributable) layer media type: Docker's Windows base layers and OCI's
/// deprecated non-distributable layers, which registries may not hold.
fn is_foreign_layer(media_type: &str) -> bool {
    [
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    ]
    .contains(&media_type)
}

/// An image configuration media type: OCI's or Docker's. containerd unpacks an image only when its
/// config is one of these (`images.IsConfigType`): Docker's legacy pull also takes
/// `application/octet-stream`, `application/json` or none, but containerd (Fargate, Docker's
/// containerd image store) fails to unpack such an image (containerd#10628).
fn is_config_type(media_type: &str) -> bool {
    media_type == "application/vnd.oci.image.config.v1+json"
        || media_type == "application/vnd.docker.container.image.v1+json"
}

/// A layer media type the runtimes of ECS unpack: an OCI layer (uncompressed, `+gzip` or `+zstd`;
/// containerd's `DiffCompression`) or a Docker layer. Encrypted layers (`+encrypted`) need a
/// decryption setup neither Docker nor Fargate has.
fn is_layer_type(media_type: &str) -> bool {
    let oci = |base: &str| {
        media_type
            .strip_prefix(base)
            .is_some_and(|rest| ["", "+gzip", "+zstd"].contains(&rest))
    };
    oci("application/vnd.oci.image.layer.v1.tar")
        || oci("application/vnd.oci.image.layer.nondistributable.v1.tar")
        || [
            "application/vnd.docker.image.rootfs.diff.tar",
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            // Not `...diff.tar.zstd`: containerd 1.6 has no decompressor for that name
            // ("unrecognised mediatype"), only for OCI's `+zstd`.
            "application/vnd.docker.image.rootfs.foreign.diff.tar",
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        ]
        .contains(&media_type)
}

/// A descriptor whose content the runtime fetches from hosts the manifest names: containerd's fetcher
/// tries each `http`/`https` URL of `urls` before the registry, falls back only when a URL answers
/// 404, and fails the pull on any other error (a task in a private subnet reaches no such host).
/// What those hosts serve is not checked: shipcheck never contacts a host a manifest names, so the
/// verdict is undecided. Other schemes are skipped by containerd, and so here.
fn external_content(desc: &Descriptor, what: &str) -> Option<Reason> {
    let urls: Vec<&str> = desc
        .urls
        .iter()
        .map(String::as_str)
        .filter(|u| is_http_url(u))
        .collect();
    let first = urls.first()?;
    let shown: String = first.chars().take(120).collect();
    Some(
        Reason::new(
            Code::ExternalContent,
            format!(
                "{what} names {} URL(s) ({shown}{}): the runtime fetches it from there before the registry, and shipcheck does not fetch from hosts a manifest names",
                urls.len(),
                if urls.len() > 1 { ", ..." } else { "" }
            ),
        )
        .hint("push the image again without `urls` on its manifests, configs and layers, with every layer in the registry (old Windows base images carry foreign layers with URLs; current ones are distributable)"),
    )
}

/// Whether a descriptor names an `http`/`https` URL, which containerd fetches from before the
/// registry (it skips other schemes).
fn has_http_url(desc: &Descriptor) -> bool {
    desc.urls.iter().any(|u| is_http_url(u))
}

fn is_http_url(u: &str) -> bool {
    u.split_once(':').is_some_and(|(scheme, _)| {
        ["http", "https"].contains(&scheme.to_ascii_lowercase().as_str())
    })
}

/// The longest key containerd's metadata database (bolt) stores: a download is recorded under
/// `TYPE-NAME@DIGEST` (`remotes.MakeRefKey`), NAME being the descriptor's
/// `org.opencontainers.image.ref.name` annotation, and a longer key fails the pull ("key too large").
const MAX_REF_KEY: usize = 32768;

/// Why the runtime cannot fetch the children of a selected image manifest (`desc`, the entry that
/// names it; `config`; `layers`), judged for a pull of `base` (the entry's platform, or the config's
/// for a manifest without an index):
/// - containerd filters every child by the pull's platform (`images.FilterPlatforms`): a config or
///   layer whose descriptor names a platform the runtime would not run (also `{}`: to Go an empty
///   platform is one) is never fetched, and the unpack fails;
/// - a `ref.name` annotation that makes the download's key longer than [`MAX_REF_KEY`].
fn child_problems(
    desc: &Descriptor,
    config_what: &str,
    config: &Descriptor,
    label: &str,
    layers: &[Descriptor],
    base: Option<&Platform>,
) -> Vec<Reason> {
    let mut out = Vec::new();
    let children = std::iter::once((config_what.to_string(), config)).chain(
        layers
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("layer {i} ({}) of {label}", l.digest), l)),
    );
    // An entry without an os is taken for the host's (containerd's normalizeOS): Linux here.
    let base = base.map(|b| {
        let mut b = b.clone();
        if b.os.is_empty() {
            b.os = "linux".into();
        }
        b
    });
    for (what, d) in children {
        if let (Some(p), Some(base)) = (&d.platform, &base) {
            if base.runtime_rank(p).is_none() {
                out.push(
                    Reason::new(
                        Code::UnusableEntry,
                        format!("{what}: its descriptor names the platform `{p}`, which a runtime pulling {base} filters out (containerd never fetches it, so the pull fails)"),
                    )
                    .hint("only index entries carry a platform; push the image again without `platform` on config and layer descriptors"),
                );
            }
        }
        out.extend(ref_key_problem(d, &what));
    }
    out.extend(ref_key_problem(
        desc,
        &format!("the index entry for {label}"),
    ));
    out
}

/// A descriptor whose download key (see [`MAX_REF_KEY`]) is too long for containerd.
fn ref_key_problem(d: &Descriptor, what: &str) -> Option<Reason> {
    let name = d.annotations.get("org.opencontainers.image.ref.name")?;
    let t = d.media_type.as_str();
    let prefix = if crate::oci::is_image_type(t) {
        "manifest-"
    } else if crate::oci::is_index_type(t) {
        "index-"
    } else if is_config_type(t) {
        "config-"
    } else if t.starts_with("application/vnd.oci.image.layer.")
        || t.starts_with("application/vnd.docker.image.rootfs.")
    {
        "layer-"
    } else {
        "unknown-"
    };
    let len = prefix.len() + name.len() + 1 + d.digest.to_string().len();
    (len > MAX_REF_KEY).then(|| {
        Reason::new(
            Code::UnusableEntry,
            format!("{what}: its `org.opencontainers.image.ref.name` annotation ({} bytes) makes containerd record the download under a {len}-byte key, more than the {MAX_REF_KEY} its metadata database allows (\"key too large\"), so the pull fails", name.len()),
        )
        .hint("shorten or remove the annotation and push the image again")
    })
}

/// Content named by a sha512 digest: containerd's content store verifies what it ingests with sha256
/// only (`digest.Canonical`), so committing it fails ("unexpected commit digest") and so does the
/// pull, whatever the registry serves.
fn sha512_content(digest: &Digest, what: &str) -> Option<Reason> {
    (digest.algo == Algo::Sha512).then(|| {
        Reason::new(
            Code::UnusableEntry,
            format!("{what} is named by a sha512 digest: containerd's content store verifies content with sha256 only and cannot commit it, so the pull fails"),
        )
        .hint("push the image again with sha256 digests (the default of every builder and registry)")
    })
}

/// Why the runtime refuses to unpack an image whose config (`what`) says `diff_ids` and whose
/// manifest has `layers` layers: containerd ("number of layers and diffIDs don't match") and Docker
/// ("layers from manifest don't match image configuration") compare the counts, and a config without
/// a `rootfs` (Docker) or with a diff_id that is no sha256 never unpacks. Only where the
/// runtime selects the image (an artifact's reason): reading a config for its platform alone does not
/// look at these.
fn unpack_problem(
    what: &str,
    diff_ids: &Result<Vec<Digest>, super::manifest::RootFsError>,
    layers: usize,
) -> Option<String> {
    match diff_ids.as_ref().map(Vec::len) {
        Err(e) => Some(format!("{what}: {e}")),
        Ok(n) if n != layers => Some(format!(
            "{what} lists {n} layers in `rootfs.diff_ids` but the manifest has {layers}: the runtime refuses to unpack the image"
        )),
        Ok(_) => None,
    }
}

/// Why an image manifest is an artifact (a Helm chart, a plugin, a SOCI index, a signature) rather
/// than a container image: a config or layer of a type no runtime runs. Empty: an image.
fn artifact_reasons(
    label: &str,
    what: &str,
    config: &Descriptor,
    layers: &[Descriptor],
) -> Vec<Reason> {
    let mut out = Vec::new();
    let legacy = ["application/octet-stream", "application/json", ""];
    if legacy.contains(&config.media_type.as_str()) {
        out.push(
            Reason::new(
                Code::UnusableEntry,
                format!(
                    "{what} has {}: Docker's legacy pull takes it for an image's, but containerd (Fargate, Docker's containerd image store) cannot unpack such an image (containerd#10628)",
                    media_type_text(&config.media_type)
                ),
            )
            .hint("push the image again with a current builder (docker buildx, podman), which writes an image config media type"),
        );
    } else if !is_config_type(&config.media_type) {
        out.push(not_an_image(format!(
            "{what} has {}, not an image configuration's: the pull fails",
            media_type_text(&config.media_type)
        )));
    }
    for (i, l) in layers.iter().enumerate() {
        if !is_layer_type(&l.media_type) {
            out.push(not_an_image(format!(
                "layer {i} ({}) of {label} has {}, which the runtime cannot unpack: the pull fails",
                l.digest,
                media_type_text(&l.media_type)
            )));
        }
    }
    out
}

/// An image manifest that packs something other than an image, where the runtime selects it.
fn not_an_image(message: String) -> Reason {
    Reason::new(Code::UnusableEntry, message).hint(
        "this is an artifact (a Helm chart, a plugin, a SOCI index, a signature) in an image manifest, not a container image; put the container image first for this platform",
    )
}

/// A real platform: an architecture, and not buildx's `unknown/unknown`.
fn has_real_platform(d: &Descriptor) -> bool {
    d.platform
        .as_ref()
        .is_some_and(|p| !p.arch.is_empty() && !p.is_unknown())
}

/// The distinct platforms (with an os) that the entries of an index and its nested indexes claim,
/// in the registry's order.
fn listed_platforms(tree: &IndexTree) -> Vec<Platform> {
    let mut listed: Vec<Platform> = Vec::new();
    for node in &tree.nodes {
        let d = node.desc();
        if !has_real_platform(d) {
            continue;
        }
        let p = d.platform.as_ref().expect("real platform");
        // Windows images of several builds are several platforms (a host runs only its own).
        if !p.os.is_empty()
            && !listed
                .iter()
                .any(|l| l.matches(p) && l.os_version == p.os_version)
        {
            listed.push(p.clone());
        }
    }
    listed
}

/// Entries no required platform selected that are not platform images: attestations are listed,
/// anything else is skipped with a warning.
fn report_other_entries(tree: &IndexTree, selected: &HashSet<usize>, rep: &mut ImageReport) {
    for (id, node) in tree.nodes.iter().enumerate() {
        if selected.contains(&id) {
            continue;
        }
        let d = node.desc();
        match node {
            Node::Index { .. } => {}
            Node::Image { desc } if desc.is_attestation() => rep.attestations.push(Attestation {
                digest: desc.digest.to_string(),
                refers_to: desc.annotations.get("vnd.docker.reference.digest").cloned(),
            }),
            Node::Image { desc } if has_real_platform(desc) => {}
            _ => {
                let pf = d
                    .platform
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "no platform".into());
                rep.warnings.push(Reason::new(
                    Code::UnknownEntry,
                    format!(
                        "index entry {} ({}, {pf}) is not a platform image; skipped",
                        d.digest,
                        media_type_text(&d.media_type)
                    ),
                ));
            }
        }
    }
}

/// One required platform of a reference, for reporting it missing.
struct Required<'a> {
    reference: &'a Reference,
    req: &'a Platform,
    required: &'a [Platform],
}

impl Required<'_> {
    /// Records that the platform is missing from the reference, with what the index has and, if
    /// given, why the runtime would not find it there.
    fn missing(&self, why: Option<String>, rep: &mut ImageReport) {
        let (reference, req) = (self.reference, self.req);
        rep.missing.push(req.to_string());
        let listed: Vec<&str> = rep.platforms.iter().map(|p| p.platform.as_str()).collect();
        let listed = if listed.is_empty() {
            "none".to_string()
        } else {
            listed.join(", ")
        };
        let why = why.map(|w| format!("; {w}")).unwrap_or_default();
        let all: Vec<String> = self.required.iter().map(|p| p.to_string()).collect();
        // An image of the platform that the runtime's selection does not reach (in a nested index
        // listed for another platform, after an entry it takes first) is listed, not missing.
        let reachable_elsewhere = rep
            .platforms
            .iter()
            .filter(|p| p.status == "verified")
            .filter_map(|p| Platform::parse(&p.platform).ok())
            .any(|p| req.matches(&p));
        let what = if reachable_elsewhere {
            format!("{reference} holds a {req} image, but not where the container runtime selects one for {req} (it lists: {listed}){why}")
        } else {
            format!("{reference} has no {req} image (it has: {listed}){why}")
        };
        rep.reasons
            .push(Reason::new(Code::MissingPlatform, what).hint(format!(
            "build and push it for every platform, e.g. `docker buildx build --platform {} --push`",
            all.join(",")
        )));
    }
}

/// `media type X`, or `no media type`.
fn media_type_text(mt: &str) -> String {
    if mt.is_empty() {
        "no media type".into()
    } else {
        format!("media type {mt}")
    }
}

fn too_many_entries(what: String) -> Reason {
    Reason::new(
        Code::ManifestTooLarge,
        format!("the index and the indexes nested in it list {what}, past the walk budget"),
    )
    .hint(
        "real multi-platform images list a few entries; this index is not one shipcheck will walk",
    )
}

fn unreachable_index(desc: Descriptor, claimed: Option<Platform>, what: &str) -> PlatformOutcome {
    // parse_manifest enforced the descriptor's image media type, so an index here is a mismatch.
    PlatformOutcome {
        report: platform_report(&desc, claimed.as_ref(), None, false),
        actual: None,
        reasons: vec![Reason::new(
            Code::MediaTypeMismatch,
            format!("{what} is an index, but its descriptor says an image manifest"),
        )],
        warnings: Vec::new(),
        artifact: Vec::new(),
    }
}

fn platform_report(
    desc: &Descriptor,
    platform: Option<&Platform>,
    config: Option<&Digest>,
    ok: bool,
) -> PlatformReport {
    PlatformReport {
        platform: platform
            .map(|p| p.to_string())
            .unwrap_or_else(|| "unknown".into()),
        digest: desc.digest.to_string(),
        media_type: desc.media_type.clone(),
        size: desc.size,
        config_digest: config.map(|d| d.to_string()),
        status: if ok { "verified" } else { "failed" }.into(),
    }
}

/// Checks a body fetched by digest: size and digest as the descriptor says, and any
/// `Docker-Content-Digest` the registry sent.
fn check_body(f: &Fetched, desc: &Descriptor, what: &str) -> Result<(), Reason> {
    if f.body.len() as u64 != desc.size {
        return Err(Reason::new(
            Code::SizeMismatch,
            format!(
                "{what}: the registry served {} bytes, the descriptor says {}",
                f.body.len(),
                desc.size
            ),
        )
        .hint(
            "the content does not match what the index or manifest recorded; push the image again",
        ));
    }
    if !desc.digest.matches(&f.body) {
        return Err(Reason::new(
            Code::DigestMismatch,
            format!(
                "{what}: the bytes served hash to {}, not to {}",
                Digest::of(desc.digest.algo, &f.body),
                desc.digest
            ),
        )
        .hint(
            "the registry or something between it and you altered the content; do not deploy it",
        ));
    }
    let mut r = Vec::new();
    check_digest_header(f, what, &mut r);
    match r.pop() {
        Some(x) => Err(x),
        None => Ok(()),
    }
}

/// A `Docker-Content-Digest` header, when sent, must name the bytes received.
fn check_digest_header(f: &Fetched, what: &str, reasons: &mut Vec<Reason>) {
    let Some(h) = &f.digest_header else { return };
    match Digest::parse(h.trim()) {
        Ok(d) if d.matches(&f.body) => {}
        Ok(d) => reasons.push(
            Reason::new(
                Code::DigestMismatch,
                format!(
                    "{what}: the registry's Docker-Content-Digest says {d}, but the bytes served hash to {}",
                    Digest::of(d.algo, &f.body)
                ),
            )
            .hint("the registry or something between it and you altered the content; do not deploy it"),
        ),
        Err(e) => reasons.push(Reason::new(
            Code::DigestMismatch,
            format!("{what}: the registry sent an unusable Docker-Content-Digest: {e}"),
        )),
    }
}

/// The reason for a refused manifest, with what the user can do about it.
/// The top manifest's media type as runtimes resolve it, after checking that what they resolve is
/// what was verified. containerd HEADs the reference: when the answer gives a size and (for a tag)
/// a `Docker-Content-Digest`, it pulls that digest, expects that size and takes the media type
/// from that `Content-Type`; otherwise (or when HEAD is refused with 405) it GETs, as shipcheck
/// did. A HEAD naming another digest or size than the GET's bytes is a failure: the runtime would
/// pull something that was not verified.
fn runtime_view(
    reference: &Reference,
    head: Option<ManifestHead>,
    fetched: &Fetched,
    what: &str,
) -> Result<Option<String>, Reason> {
    let Some(head) = head else {
        return Ok(fetched.content_type.clone());
    };
    let (Some(length), true) = (
        head.length,
        reference.digest.is_some() || head.digest.is_some(),
    ) else {
        return Ok(fetched.content_type.clone());
    };
    if reference.digest.is_none() {
        let named = head.digest.as_deref().unwrap_or_default();
        let d = Digest::parse(named).map_err(|_| {
            Reason::new(
                Code::InvalidManifest,
                format!(
                    "{what}: the registry's HEAD answer names `{}` as its digest, which is not a digest (runtimes refuse it)",
                    crate::report::esc(named)
                ),
            )
        })?;
        if let Some(r) = sha512_content(
            &d,
            &format!("{what} (as the registry's HEAD answer names it)"),
        ) {
            return Err(r);
        }
        if !d.matches(&fetched.body) {
            return Err(Reason::new(
                Code::DigestMismatch,
                format!("{what}: the registry answers HEAD with {d}, which runtimes resolve the tag to and pull, but GET with other bytes ({}), which are what was verified", Digest::of(d.algo, &fetched.body)),
            )
            .hint("the registry answers HEAD and GET of this tag differently (or the tag moved between them); run again, and pin by digest"));
        }
    }
    if length != fetched.body.len() as u64 {
        return Err(Reason::new(
            Code::SizeMismatch,
            format!(
                "{what}: the registry's HEAD answer says {length} bytes, GET served {}; runtimes expect the HEAD's size",
                fetched.body.len()
            ),
        ));
    }
    Ok(head.content_type)
}

fn manifest_reason(e: ManifestError) -> Reason {
    let hint = match &e {
        ManifestError::Schema1 { .. } => {
            "push the image again with a current Docker or buildx (schema 2 or OCI)"
        }
        ManifestError::Invalid { .. } => {
            "the registry served something that is not an OCI or Docker v2 manifest"
        }
        ManifestError::UnsupportedMediaType { .. } => {
            "shipcheck understands OCI image indexes and manifests and Docker v2 manifests and lists"
        }
        ManifestError::MediaTypeMismatch {
            mismatch: Mismatch::TopHeader(_),
            ..
        } => {
            "the registry, or a proxy or static server in front of it, must send the manifest's own media type as Content-Type (Docker's registry, ECR, Docker Hub and GHCR do)"
        }
        ManifestError::MediaTypeMismatch { .. } => {
            "the registry or the pushing tool produced an inconsistent manifest; push the image again"
        }
        ManifestError::TooManyEntries { .. } => return Reason::new(e.code(), e.to_string()),
    };
    Reason::new(e.code(), e.to_string()).hint(hint)
}
