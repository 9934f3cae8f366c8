//! Release files (what `verify-bin` and audits check): download (or read) a release file and its detached signature, verify them
//! against pinned certificates in one streaming pass, and install the file atomically only on a pass.
//!
//! Data flows one way: request -> [`Plan`] -> signature -> stream + hash (+ stage) -> verify -> verdict
//! -> install on pass -> [`BinReport`].

use crate::catalog::{self, Catalog, InstallKind};
use crate::input::ReadError;
use crate::install::{self, Staged};
use crate::net::{redact, redact_text, FetchError, Http, Progress, Sink, CHUNK};
use crate::pgp::{self, DataHasher, Pin};
use crate::report::{verdict_of, Code, Reason, Verdict};
use crate::timefmt::rfc3339;
use openpgp::packet::Signature;
use sequoia_openpgp as openpgp;
use serde::Serialize;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use url::Url;

/// What the user asked for, independent of how it was parsed (the CLI and audit files build this).
#[derive(Debug, Clone, Default)]
pub struct BinRequest {
    pub tool: Option<String>,
    pub version: Option<String>,
    pub platform: Option<String>,
    pub url: Option<String>,
    pub sig_url: Option<String>,
    pub file: Option<PathBuf>,
    pub sig: Option<PathBuf>,
    pub keys: Vec<PathBuf>,
    pub fingerprints: Vec<String>,
    pub dest: Option<PathBuf>,
    pub no_install: bool,
    pub mirror: Option<String>,
    pub catalog: Option<PathBuf>,
    /// Apply the SHA-1 self-signature relaxation to `--key` certificates.
    pub allow_sha1_self_signatures: bool,
    /// The home directory (`~/.local/bin` is the default destination of executables).
    pub home: Option<PathBuf>,
    /// Largest file accepted (`--max-size`; downloads take theirs from the HTTP client's options).
    pub max_size: u64,
}

/// The JSON object `verify-bin --json` prints (a tested contract; see README "JSON output").
#[derive(Debug, Clone, Serialize)]
pub struct BinReport {
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    pub warnings: Vec<Reason>,
    pub tool: Option<String>,
    pub version: Option<String>,
    pub platform: Option<String>,
    pub url: Option<String>,
    pub sig_url: Option<String>,
    pub file: Option<String>,
    pub sig_file: Option<String>,
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub signer: Option<Signer>,
    pub signature: Option<SignatureInfo>,
    pub installed: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Signer {
    /// Primary fingerprint of the signing certificate.
    pub fingerprint: String,
    /// The key (primary or subkey) that made the signature.
    pub key: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureInfo {
    pub created: String,
    pub hash_algorithm: String,
}

#[derive(Debug, Clone)]
enum Source {
    Url(Url),
    File(PathBuf),
}

/// A validated request: where the bytes come from, whom to trust, where to install.
struct Plan {
    name: String,
    data: Source,
    sig: Source,
    pins: Vec<Pin>,
    dest: Option<(PathBuf, u32)>,
    /// For catalog tools: what the file must be (see [`crate::binfmt`]).
    expect: Option<Expect>,
}

/// What a catalog tool's file must be: an executable for `platform`, or the package `file_name`
/// promises by its extension.
struct Expect {
    platform: String,
    executable: bool,
    file_name: String,
}

impl BinReport {
    fn new(req: &BinRequest) -> Self {
        BinReport {
            verdict: Verdict::Error,
            reasons: Vec::new(),
            warnings: Vec::new(),
            tool: req.tool.clone(),
            version: None,
            platform: None,
            url: None,
            sig_url: None,
            file: req.file.as_ref().map(|p| p.display().to_string()),
            sig_file: req.sig.as_ref().map(|p| p.display().to_string()),
            size: None,
            sha256: None,
            signer: None,
            signature: None,
            installed: None,
        }
    }

    /// A report for a request that could not start (for example, a bad `--ca-cert`).
    pub fn failed(req: &BinRequest, r: Reason) -> Self {
        BinReport::new(req).fail(r)
    }

    fn finish(mut self) -> Self {
        self.verdict = verdict_of(&self.reasons);
        self
    }

    fn fail(mut self, r: Reason) -> Self {
        self.reasons.push(r);
        self.finish()
    }
}

// Long: the request's fields resolved in the order the catalog and the flags override each other (tool, version, platform, URLs, keys); splitting would hide that order.
fn plan(req: &BinRequest, report: &mut BinReport) -> Result<Plan, Reason> {
    let mirror = match &req.mirror {
        None => None,
        Some(m) => {
            let shown = redact_text(m);
            let u = Url::parse(m)
                .map_err(|e| Reason::usage(format!("--mirror `{shown}` is not a URL: {e}")))?;
            if u.cannot_be_a_base() || u.host_str().is_none() {
                return Err(Reason::usage(format!(
                    "--mirror `{shown}` must be a base URL like https://host[:port]/path"
                )));
            }
            Some(u)
        }
    };
    let mirrored = |u: Url| match &mirror {
        Some(m) => catalog::apply_mirror(&u, m),
        None => u,
    };
    if req.file.is_some() != req.sig.is_some() {
        return Err(Reason::usage(
            "--file and --sig go together: give both the local file and its signature",
        ));
    }
    if req.file.is_some() && (req.url.is_some() || req.sig_url.is_some()) {
        return Err(Reason::usage(
            "--file/--sig and --url/--sig-url cannot be combined",
        ));
    }
    if req.sig_url.is_some() && req.url.is_none() {
        return Err(Reason::usage("--sig-url needs --url"));
    }
    if !req.fingerprints.is_empty() && req.keys.is_empty() {
        return Err(Reason::usage(
            "--fingerprint narrows the certificates of --key; give --key too",
        ));
    }

    if let Some(name) = &req.tool {
        if req.url.is_some() {
            return Err(Reason::usage("a catalog tool and --url cannot be combined; use --mirror to download from elsewhere"));
        }
        if !req.keys.is_empty() {
            return Err(Reason::usage("a catalog tool is verified against its pinned certificates; --key cannot replace them (use --catalog FILE to define your own tool)"));
        }
        let cat = Catalog::load(req.catalog.as_deref())
            .map_err(|e| Reason::new(Code::InvalidCatalog, e.to_string()))?;
        let tool = cat.get(name).ok_or_else(|| {
            Reason::new(
                Code::UnknownTool,
                format!(
                    "`{name}` is not in the catalog; known tools: {}",
                    cat.tools.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
            .hint("run `shipcheck keys list`, or add the tool with --catalog FILE")
        })?;
        if tool.replaced_builtin {
            report.warnings.push(
                Reason::new(
                    Code::CatalogOverride,
                    format!(
                        "`{name}` is defined by --catalog {}, which replaces the built-in entry and its pinned certificates",
                        req.catalog.as_deref().map(|p| p.display().to_string()).unwrap_or_default()
                    ),
                )
                .hint("this is expected only if you maintain your own pins for this tool; otherwise drop --catalog or rename the tool there"),
            );
        }
        let platform = req.platform.clone().unwrap_or_else(catalog::host_platform);
        let version = req
            .version
            .clone()
            .unwrap_or_else(|| tool.spec.default_version.clone());
        // Checked even where it builds no URL (`--file`): it is reported as the version verified.
        catalog::check_version(&version).map_err(|e| Reason::usage(e.to_string()))?;
        report.platform = Some(platform.clone());
        report.version = Some(version.clone());
        let pins = tool
            .pins()
            .map_err(|e| Reason::new(Code::InvalidCatalog, format!("tool `{name}`: {e}")))?;
        let (data, sig, default_name) = match (&req.file, &req.sig) {
            (Some(f), Some(s)) => (Source::File(f.clone()), Source::File(s.clone()), None),
            _ => {
                let (b, s) = tool
                    .urls(&platform, &version)
                    .map_err(|e| Reason::new(e.code(), e.to_string()))?;
                let base = b
                    .path_segments()
                    .and_then(|mut s| s.next_back())
                    .map(str::to_string);
                let (b, s) = (mirrored(b), mirrored(s));
                report.url = Some(redact(&b));
                report.sig_url = Some(redact(&s));
                (Source::Url(b), Source::Url(s), base)
            }
        };
        let dest = if req.no_install {
            None
        } else {
            let (path, mode) = match (&req.dest, tool.spec.install) {
                (Some(d), InstallKind::Executable) => (d.clone(), 0o755),
                (Some(d), InstallKind::File) => (d.clone(), 0o644),
                (None, InstallKind::Executable) => {
                    let home = req
                        .home
                        .clone()
                        .ok_or_else(|| Reason::usage("HOME is not set; pass --dest"))?;
                    let dir = home.join(".local/bin");
                    std::fs::create_dir_all(&dir).map_err(|e| {
                        Reason::new(
                            Code::UnsafeDestination,
                            format!("cannot create {}: {e}", dir.display()),
                        )
                    })?;
                    (dir.join(name), 0o755)
                }
                (None, InstallKind::File) => {
                    let file = tool
                        .spec
                        .file_name
                        .clone()
                        .or(default_name.clone())
                        .unwrap_or_else(|| name.clone());
                    (PathBuf::from(file), 0o644)
                }
            };
            Some((path, mode))
        };
        let expect = Some(Expect {
            platform: platform.clone(),
            executable: tool.spec.install == InstallKind::Executable,
            // The name the vendor published it under: the URL's last segment, or the local file's.
            file_name: default_name
                .or_else(|| {
                    let (u, _) = tool.urls(&platform, &version).ok()?;
                    u.path_segments()?.next_back().map(str::to_string)
                })
                .or_else(|| {
                    req.file
                        .as_ref()
                        .and_then(|f| f.file_name())
                        .map(|n| n.to_string_lossy().into_owned())
                })
                .or(tool.spec.file_name.clone())
                .unwrap_or_else(|| name.clone()),
        });
        return Ok(Plan {
            name: name.clone(),
            data,
            sig,
            pins,
            dest,
            expect,
        });
    }

    // Ad-hoc: --url or --file, with --key.
    if req.keys.is_empty() {
        return Err(Reason::usage("give a catalog tool (e.g. `shipcheck verify-bin ecs-cli`) or --key CERTS with --url or --file"));
    }
    if req.version.is_some() || req.platform.is_some() {
        return Err(Reason::usage(
            "--version and --platform apply to catalog tools only",
        ));
    }
    let pins = key_pins(&req.keys, &req.fingerprints, req.allow_sha1_self_signatures)?;
    let (data, sig, name) = if let (Some(f), Some(s)) = (&req.file, &req.sig) {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        (Source::File(f.clone()), Source::File(s.clone()), name)
    } else if let Some(u) = &req.url {
        let b = Url::parse(u)
            .map_err(|e| Reason::usage(format!("--url `{}` is not a URL: {e}", redact_text(u))))?;
        let s = match &req.sig_url {
            Some(s) => Url::parse(s).map_err(|e| {
                Reason::usage(format!("--sig-url `{}` is not a URL: {e}", redact_text(s)))
            })?,
            // `.asc` after a query or fragment would name the file itself (or something else).
            None if b.query().is_some() || b.fragment().is_some() => {
                return Err(Reason::usage(format!(
                    "--url `{}` has a query or fragment, so the signature URL cannot be formed by adding `.asc`",
                    redact(&b)
                ))
                .hint("give the signature's URL with --sig-url"))
            }
            None => Url::parse(&format!("{b}.asc"))
                .map_err(|e| Reason::usage(format!("cannot form the signature URL: {e}")))?,
        };
        let name = b
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|n| !n.is_empty())
            .unwrap_or("download")
            .to_string();
        let (b, s) = (mirrored(b), mirrored(s));
        report.url = Some(redact(&b));
        report.sig_url = Some(redact(&s));
        (Source::Url(b), Source::Url(s), name)
    } else {
        return Err(Reason::usage(
            "give --url URL or --file PATH --sig PATH to verify",
        ));
    };
    let dest = match (&req.dest, req.no_install) {
        (Some(d), false) => Some((d.clone(), 0o755)),
        (None, false) if matches!(data, Source::Url(_)) => {
            return Err(Reason::usage(
                "--dest PATH is required with --url (or pass --no-install to verify only)",
            ))
        }
        _ => None,
    };
    Ok(Plan {
        name,
        data,
        sig,
        pins,
        dest,
        expect: None,
    })
}

/// Loads `--key` files; `--fingerprint` narrows them to those primaries.
fn key_pins(keys: &[PathBuf], fingerprints: &[String], relax: bool) -> Result<Vec<Pin>, Reason> {
    let invalid = |m: String| Reason::new(Code::InvalidKey, m);
    let wanted = fingerprints
        .iter()
        .map(|f| pgp::parse_fingerprint(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Reason::usage(e.to_string()))?;
    let mut pins = Vec::new();
    // Which certificate holds each subkey, for a --fingerprint that names one.
    let mut subkey_of = std::collections::HashMap::new();
    for path in keys {
        let bytes = catalog::read_key_file(path).map_err(|e| invalid(e.to_string()))?;
        let certs = pgp::parse_certs(&bytes)
            .map_err(|e| invalid(format!("key file {}: {e}", path.display())))?;
        for cert in certs {
            for k in cert.keys().subkeys() {
                subkey_of.insert(k.key().fingerprint(), cert.fingerprint());
            }
            if wanted.is_empty() || wanted.contains(&cert.fingerprint()) {
                pins.push(Pin {
                    source: path.display().to_string(),
                    cert,
                    signing_keys: None,
                    allow_sha1_self_signatures: relax,
                });
            }
        }
    }
    for f in &wanted {
        if !pins.iter().any(|p| &p.fingerprint() == f) {
            return Err(match subkey_of.get(f) {
                Some(primary) => invalid(format!(
                    "--fingerprint {f} is a subkey of certificate {primary} in the --key files; --fingerprint takes primary fingerprints"
                ))
                .hint(format!("pass --fingerprint {primary} (a catalog pin can narrow the signing keys with `signing_keys`)")),
                None => invalid(format!(
                    "no certificate with primary fingerprint {f} in the --key files"
                )),
            });
        }
    }
    pgp::merge_pins(pins).map_err(|e| invalid(e.to_string()))
}

/// Hashes every chunk and, when installing, writes it to the staged temp file at the same time.
struct BinSink<'a> {
    sigs: &'a [Signature],
    hasher: DataHasher,
    staged: Option<Staged>,
    /// The first bytes received, to tell what kind of file it is ([`crate::binfmt`]).
    head: Vec<u8>,
}

impl Sink for BinSink<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let room = crate::binfmt::HEAD.saturating_sub(self.head.len());
        self.head.extend_from_slice(&data[..room.min(data.len())]);
        match &mut self.staged {
            Some(st) => {
                let mut write = |d: &[u8]| st.write(d);
                self.hasher
                    .update_with(data, Some(&mut write))
                    .unwrap_or(Ok(()))
            }
            None => {
                self.hasher.update(data);
                Ok(())
            }
        }
    }

    fn reset(&mut self) -> io::Result<()> {
        self.hasher = DataHasher::new(self.sigs);
        self.head.clear();
        match &mut self.staged {
            Some(s) => s.reset(),
            None => Ok(()),
        }
    }
}

fn read_local_sig(path: &Path) -> Result<Vec<u8>, Reason> {
    crate::input::read_capped(path, pgp::MAX_SIGNATURE_FILE).map_err(|e| match e {
        ReadError::TooLarge(n) => pgp::too_large_sig(n),
        e => Reason::new(
            Code::Io,
            format!("cannot read signature file {}: {e}", path.display()),
        ),
    })
}

/// Downloads and parses the signature file.
async fn fetch_sig(http: &Http, url: &Url) -> Result<(Vec<Signature>, Vec<Reason>), Reason> {
    match http.get_capped(url, pgp::MAX_SIGNATURE_FILE).await {
        // Bytes sent encoded are not what was signed, nor a signature shipcheck can read: a
        // signature that does not parse then says nothing either way.
        Ok((b, got)) => pgp::parse_detached_noting(&b).map_err(|r| match got.encoding {
            Some(coding) => encoded(url, "signature", &coding),
            None => r,
        }),
        // By the server's Content-Length or by the bytes received: say which cannot be told here.
        Err(FetchError::TooLarge { url, .. }) => Err(Reason::new(
            Code::SignatureTooLarge,
            format!(
                "{url}: the signature is larger than the cap of {} bytes for a detached signature (announced by the server's Content-Length, or received)",
                pgp::MAX_SIGNATURE_FILE
            ),
        )),
        Err(FetchError::NotFound { url }) => Err(Reason::new(
            Code::NoSignature,
            format!("no signature at {url} (HTTP 404)"),
        )
        .hint("check the version and platform; a release without a signature cannot be verified")),
        Err(e) => Err(e.reason()),
    }
}

/// A download the server sent encoded (`Content-Encoding`) whose bytes did not verify: undecided.
fn encoded(url: &Url, what: &str, coding: &str) -> Reason {
    Reason::new(
        Code::DownloadFailed,
        format!(
            "{}: the server sent the {what} encoded (Content-Encoding `{}`) although shipcheck asked for the bytes as stored, and those bytes do not verify; shipcheck does not decode answers, so it cannot tell whether the {what} was changed",
            redact(url),
            crate::report::esc(coding)
        ),
    )
    .hint("download from a server that sends the file as stored (a proxy or a Content-Encoding set on the object in storage compresses it)")
}

/// Reads a local file into `sink` in [`CHUNK`]s, yielding between chunks so that a signal watched
/// beside it ([`crate::context::Interrupts`]) can stop the copy.
async fn read_local_data(path: &Path, sink: &mut dyn Sink, max: u64) -> Result<u64, Reason> {
    let io_err =
        |e: io::Error| Reason::new(Code::Io, format!("cannot read {}: {e}", path.display()));
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if meta.is_dir() {
        return Err(Reason::new(
            Code::Io,
            format!("{} is a directory", path.display()),
        ));
    }
    let mut f = std::fs::File::open(path).map_err(io_err)?;
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        // Fill the buffer completely so the hashers see large chunks.
        let mut n = 0;
        while n < CHUNK {
            match f.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(e)),
            }
        }
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
        if total > max {
            return Err(Reason::new(
                Code::TooLarge,
                format!("{} is larger than the limit of {max} bytes", path.display()),
            ));
        }
        sink.write(&buf[..n]).map_err(|e| {
            Reason::new(
                Code::InstallFailed,
                format!("writing the staged copy failed: {e}"),
            )
        })?;
        if n < CHUNK {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Runs `verify-bin` for one request. `http` may be `None` when both the file and its signature
/// are local (`--file`, `--sig`): local verification sets up no network at all.
// Long: the verify-bin flow end to end (plan, signature, streaming download with hashing, verification, install on pass), one step after another.
pub async fn run(req: &BinRequest, http: Option<&Http>, progress: &dyn Progress) -> BinReport {
    let mut report = BinReport::new(req);
    let plan = match plan(req, &mut report) {
        Ok(p) => p,
        Err(r) => return report.fail(r),
    };
    // Refuse an unsafe destination before downloading anything.
    let dest_dir = match &plan.dest {
        Some((d, _)) => match install::check_destination(d) {
            Ok(dir) => Some(dir),
            Err(r) => return report.fail(r),
        },
        None => None,
    };

    let no_http = || {
        Reason::new(
            Code::Usage,
            "a URL to download but no HTTP client (an internal error: please report it)",
        )
    };
    let sigs = match (&plan.sig, http) {
        (Source::File(p), _) => read_local_sig(p).and_then(|b| pgp::parse_detached_noting(&b)),
        (Source::Url(u), Some(http)) => fetch_sig(http, u).await,
        (Source::Url(_), None) => Err(no_http()),
    };
    let (sigs, unreadable) = match sigs {
        Ok(s) => s,
        Err(r) => return report.fail(r),
    };

    let staged = match &dest_dir {
        // The temp file is named after the destination (its name fits where the destination's does).
        Some(dir) => match Staged::new_in(
            dir,
            &plan
                .dest
                .as_ref()
                .and_then(|(d, _)| d.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| plan.name.clone()),
        ) {
            Ok(s) => Some(s),
            Err(r) => return report.fail(r),
        },
        None => None,
    };
    let mut sink = BinSink {
        sigs: &sigs,
        hasher: DataHasher::new(&sigs),
        staged,
        head: Vec::new(),
    };
    let received = match (&plan.data, http) {
        (Source::File(p), _) => read_local_data(p, &mut sink, req.max_size)
            .await
            .map(|_| None),
        (Source::Url(u), Some(http)) => http
            .stream(u, &mut sink, progress)
            .await
            .map(|got| got.encoding.map(|c| (u.clone(), c)))
            .map_err(|e| e.reason()),
        (Source::Url(_), None) => Err(no_http()),
    };
    let encoded_as = match received {
        Ok(e) => e,
        Err(r) => return report.fail(r),
    };
    let BinSink {
        hasher,
        staged,
        head,
        ..
    } = sink;
    report.size = Some(hasher.len());
    let (sha256, ctxs) = hasher.finish();
    report.sha256 = Some(sha256);

    let mut outcome = pgp::verify(&sigs, ctxs, &plan.pins, SystemTime::now());
    outcome.problems.extend(unreadable);
    match outcome.good {
        Some(good) => {
            report.signer = Some(Signer {
                fingerprint: good.fingerprint.to_hex(),
                key: good.key.to_hex(),
            });
            report.signature = Some(SignatureInfo {
                created: rfc3339(good.created),
                hash_algorithm: good.hash_algo.to_string(),
            });
            if good.relaxed {
                report.warnings.push(Reason::new(
                    Code::PolicyRelaxed,
                    format!(
                        "certificate {} ({}) is accepted with SHA-1 self-signatures, a per-pin relaxation; SHA-1 data signatures are still rejected",
                        good.fingerprint.to_hex(),
                        good.source
                    ),
                ));
            }
            for p in outcome.problems {
                report.warnings.push(Reason::new(
                    Code::IgnoredSignature,
                    format!(
                        "ignored another signature in the file: {} ({})",
                        p.message, p.code
                    ),
                ));
            }
            // The signature binds the signer, not the name: the vendor's key also signed the
            // other platforms' builds and packages.
            if let Some(exp) = &plan.expect {
                if let Err(what) =
                    crate::binfmt::check(&head, &exp.platform, exp.executable, &exp.file_name)
                {
                    // A local file checked against this machine's platform may simply be for
                    // another one.
                    let hint = if req.file.is_some() && req.platform.is_none() {
                        format!("the platform checked is this machine's ({}); to verify a file for another platform, pass --platform OS/ARCH", exp.platform)
                    } else {
                        "do not use it; a mirror or download host may be serving another file the vendor signed (check --mirror and the URL)".to_string()
                    };
                    report.reasons.push(
                        Reason::new(
                            Code::UnexpectedFile,
                            format!("{what}: the signature is good, but the vendor signed this file for something else"),
                        )
                        .hint(hint),
                    );
                }
            }
        }
        // The server encoded the file (Content-Encoding): the bytes checked are not the file as
        // stored, so a failure says nothing about the file; a pass stands (the bytes verified).
        None if encoded_as.is_some() => {
            let (url, coding) = encoded_as.expect("matched");
            report.reasons.push(encoded(&url, "file", &coding));
        }
        None => {
            report.reasons.extend(outcome.problems);
            if report.reasons.is_empty() {
                report.reasons.push(Reason::new(
                    Code::NoSignature,
                    "no usable signature in the signature file",
                ));
            }
        }
    }
    // Install only on a pass; a dropped `Staged` removes its temp file.
    if report.reasons.is_empty() {
        if let (Some(st), Some((dest, mode))) = (staged, &plan.dest) {
            match st.commit(dest, *mode) {
                Ok(()) => report.installed = Some(absolute(dest).display().to_string()),
                Err(r) => report.reasons.push(r),
            }
        }
    }
    report.finish()
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
