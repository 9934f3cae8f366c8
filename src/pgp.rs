//! In-process OpenPGP verification of detached signatures against pinned certificates.
//!
//! The flow is: [`parse_detached`] the (small, capped) signature file, create a [`DataHasher`] for the
//! signatures found, feed it the data as it streams in, then [`verify`] the finished hashes against the
//! [`Pin`]s. Nothing here reads the network or the file system.

use crate::report::{Code, Reason};
use crate::timefmt::rfc3339;
use openpgp::cert::prelude::*;
use openpgp::crypto::hash::Context;
use openpgp::packet::key::{PublicParts, UnspecifiedRole};
use openpgp::packet::{Key, Signature};
use openpgp::parse::{PacketParser, PacketParserResult, Parse};
use openpgp::policy::{HashAlgoSecurity, Policy, StandardPolicy};
use openpgp::types::{HashAlgorithm, RevocationStatus, SignatureType};
use openpgp::{Cert, Fingerprint, KeyHandle, Packet};
use sequoia_openpgp as openpgp;
use std::time::{Duration, SystemTime};

/// Largest signature file accepted. A detached signature is a few hundred bytes (RSA-4096: ~0.8 KiB
/// armored); a handful of them fit easily.
pub const MAX_SIGNATURE_FILE: u64 = 16 * 1024;
/// Most signatures considered in one signature file.
pub const MAX_SIGNATURES: usize = 16;
/// Largest certificate file accepted (`--key` or a catalog certificate).
pub const MAX_CERT_FILE: u64 = 1 << 20;
/// Most certificates read from one file.
pub const MAX_CERTS: usize = 64;
/// Tolerated clock skew for signature creation times.
const CLOCK_SKEW: Duration = Duration::from_secs(300);

/// A certificate the user (or the catalog) trusts for one tool, with what it may sign with.
#[derive(Clone)]
pub struct Pin {
    /// Where the certificate came from (catalog file name or `--key` path), for messages.
    pub source: String,
    pub cert: Cert,
    /// When set, only these keys (primary or subkeys) may have made the signature.
    pub signing_keys: Option<Vec<Fingerprint>>,
    /// Per-certificate relaxation: accept SHA-1 in self-signatures (second-preimage resistance only).
    pub allow_sha1_self_signatures: bool,
}

impl Pin {
    /// The policy this certificate is judged under: Sequoia's standard policy, plus this pin's
    /// relaxation, if any. Data signatures are always judged under the unrelaxed standard policy.
    pub fn policy(&self) -> StandardPolicy<'static> {
        let mut p = StandardPolicy::new();
        if self.allow_sha1_self_signatures {
            p.accept_hash_property(
                HashAlgorithm::SHA1,
                HashAlgoSecurity::SecondPreImageResistance,
            );
        }
        p
    }

    pub fn fingerprint(&self) -> Fingerprint {
        self.cert.fingerprint()
    }
}

/// Parses a file of certificates (armored or binary). Fails on an empty file, on anything that is
/// not OpenPGP, and on more than [`MAX_CERTS`] certificates.
pub fn parse_certs(bytes: &[u8]) -> Result<Vec<Cert>, String> {
    if bytes.len() as u64 > MAX_CERT_FILE {
        return Err(format!("larger than {} bytes", MAX_CERT_FILE));
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("empty file".into());
    }
    let mut certs = Vec::new();
    let parser =
        CertParser::from_bytes(bytes).map_err(|e| format!("not an OpenPGP certificate: {e}"))?;
    for c in parser {
        let c = c.map_err(|e| format!("not an OpenPGP certificate: {e}"))?;
        certs.push(c);
        if certs.len() > MAX_CERTS {
            return Err(format!("more than {MAX_CERTS} certificates"));
        }
    }
    if certs.is_empty() {
        return Err("holds no OpenPGP certificate".into());
    }
    merge_certs(certs)
}

/// Merges certificates that share a primary fingerprint ([`Cert::merge_public`]), as sqv and gpgv
/// keyrings do: revocations, new subkeys and extended expiries from any copy apply, and the result
/// does not depend on the order of the copies. The first appearance of each fingerprint keeps its
/// place.
pub fn merge_certs(certs: Vec<Cert>) -> Result<Vec<Cert>, String> {
    let mut out: Vec<Cert> = Vec::new();
    for c in certs {
        match out.iter().position(|o| o.fingerprint() == c.fingerprint()) {
            None => out.push(c),
            Some(i) => {
                let merged = out[i].clone().merge_public(c).map_err(|e| {
                    format!("cannot merge two copies of {}: {e}", out[i].fingerprint())
                })?;
                out[i] = merged;
            }
        }
    }
    Ok(out)
}

/// Merges pins of one certificate (the same primary fingerprint from several `--key` files or
/// catalog pins) into one pin whose certificate merges every copy (see [`merge_certs`]), so that a
/// revocation in any copy applies. Pins of one certificate must agree on which keys may sign and on
/// the policy relaxation; otherwise the trust set is ambiguous and refused.
pub fn merge_pins(pins: Vec<Pin>) -> Result<Vec<Pin>, String> {
    let sorted = |k: &Option<Vec<Fingerprint>>| {
        k.clone().map(|mut v| {
            v.sort_by_key(|f| f.to_hex());
            v.dedup();
            v
        })
    };
    let mut out: Vec<Pin> = Vec::new();
    for pin in pins {
        let Some(p) = out
            .iter_mut()
            .find(|p| p.fingerprint() == pin.fingerprint())
        else {
            out.push(pin);
            continue;
        };
        if sorted(&p.signing_keys) != sorted(&pin.signing_keys)
            || p.allow_sha1_self_signatures != pin.allow_sha1_self_signatures
        {
            return Err(format!(
                "certificate {} is pinned twice ({} and {}) with different signing keys or policy relaxations",
                p.fingerprint(),
                p.source,
                pin.source
            ));
        }
        p.cert = merge_certs(vec![p.cert.clone(), pin.cert])?.remove(0);
        if !p.source.split(", ").any(|s| s == pin.source) {
            p.source = format!("{}, {}", p.source, pin.source);
        }
    }
    Ok(out)
}

/// Parses a hex fingerprint (spaces allowed, `0x` prefix allowed).
pub fn parse_fingerprint(s: &str) -> Result<Fingerprint, String> {
    let clean: String = s
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if !(clean.len() == 40 || clean.len() == 64) || !clean.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "`{s}` is not a full fingerprint (40 or 64 hex digits; key IDs are not accepted)"
        ));
    }
    clean
        .parse::<Fingerprint>()
        .map_err(|e| format!("`{s}` is not a fingerprint: {e}"))
}

/// Parses a detached signature file (armored or binary) into its signatures.
///
/// Only signature packets are accepted: an inline-signed, cleartext-signed, compressed or encrypted
/// message is refused without decompressing anything.
pub fn parse_detached(bytes: &[u8]) -> Result<Vec<Signature>, Reason> {
    if bytes.len() as u64 > MAX_SIGNATURE_FILE {
        return Err(too_large_sig(bytes.len() as u64));
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(
            Reason::new(Code::NoSignature, "the signature file is empty")
                .hint("the publisher did not provide a signature at that location"),
        );
    }
    let malformed = |why: String| {
        Reason::new(
            Code::MalformedSignature,
            format!("the signature file is not a detached OpenPGP signature: {why}"),
        )
    };
    let mut ppr = PacketParser::from_bytes(bytes).map_err(|e| malformed(e.to_string()))?;
    let mut sigs = Vec::new();
    while let PacketParserResult::Some(pp) = ppr {
        match &pp.packet {
            Packet::Signature(_) => {}
            Packet::Marker(_) => {}
            Packet::Unknown(u) => {
                return Err(malformed(format!(
                    "unparsable {} packet: {}",
                    u.tag(),
                    u.error()
                )));
            }
            p => {
                return Err(malformed(format!(
                    "found a {} packet; this is an inline-signed, compressed or encrypted message, \
                     not a detached signature",
                    p.tag()
                )));
            }
        }
        // `next` (not `recurse`) never descends into a container.
        let (packet, next) = pp.next().map_err(|e| malformed(e.to_string()))?;
        if let Packet::Signature(s) = packet {
            sigs.push(s);
            if sigs.len() > MAX_SIGNATURES {
                return Err(malformed(format!("more than {MAX_SIGNATURES} signatures")));
            }
        }
        ppr = next;
    }
    if sigs.is_empty() {
        return Err(malformed("no signature packet".into()));
    }
    Ok(sigs)
}

pub fn too_large_sig(n: u64) -> Reason {
    Reason::new(
        Code::SignatureTooLarge,
        format!("the signature file is {n} bytes or more, over the cap of {MAX_SIGNATURE_FILE} bytes for a detached signature"),
    )
}

/// Work done on each chunk beside hashing (writing the staged file), on its own thread.
pub type ExtraJob<'a, E> = &'a mut (dyn FnMut(&[u8]) -> E + Send);

/// Hashes the data once for every signature (and SHA-256 for the report), sharing contexts between
/// signatures that hash identically and spreading distinct contexts over threads.
pub struct DataHasher {
    ctxs: Vec<(HashAlgorithm, u8, Vec<u8>, Context)>,
    per_sig: Vec<Option<usize>>,
    sha256: usize,
    len: u64,
}

fn sig_salt(sig: &Signature) -> Vec<u8> {
    match sig {
        Signature::V6(s) => s.salt().to_vec(),
        _ => Vec::new(),
    }
}

impl DataHasher {
    pub fn new(sigs: &[Signature]) -> Self {
        let mut h = DataHasher {
            ctxs: Vec::new(),
            per_sig: Vec::new(),
            sha256: 0,
            len: 0,
        };
        for sig in sigs {
            let idx = if sig.typ() == SignatureType::Binary {
                h.context_for(sig.hash_algo(), sig.version(), sig_salt(sig))
            } else {
                None
            };
            h.per_sig.push(idx);
        }
        h.sha256 = match h
            .ctxs
            .iter()
            .position(|(a, _, s, _)| *a == HashAlgorithm::SHA256 && s.is_empty())
        {
            Some(i) => i,
            None => h
                .context_for(HashAlgorithm::SHA256, 4, Vec::new())
                .expect("SHA-256 is supported"),
        };
        h
    }

    fn context_for(&mut self, algo: HashAlgorithm, version: u8, salt: Vec<u8>) -> Option<usize> {
        if let Some(i) = self
            .ctxs
            .iter()
            .position(|(a, v, s, _)| *a == algo && *v == version && *s == salt)
        {
            return Some(i);
        }
        let mut ctx = algo.context().ok()?.for_signature(version);
        ctx.update(&salt);
        self.ctxs.push((algo, version, salt, ctx));
        Some(self.ctxs.len() - 1)
    }

    /// Feeds `data` to every context; with more than one context (or an `extra` job, such as writing
    /// the data to a file) they run on parallel threads.
    pub fn update_with<E: Send>(
        &mut self,
        data: &[u8],
        extra: Option<ExtraJob<'_, E>>,
    ) -> Option<E> {
        self.len += data.len() as u64;
        let jobs = self.ctxs.len() + extra.is_some() as usize;
        if jobs == 1 || data.len() < 64 * 1024 {
            for (_, _, _, c) in &mut self.ctxs {
                c.update(data);
            }
            return extra.map(|f| f(data));
        }
        std::thread::scope(|s| {
            let (first, rest) = self
                .ctxs
                .split_first_mut()
                .expect("at least the SHA-256 context");
            for (_, _, _, c) in rest {
                s.spawn(move || c.update(data));
            }
            match extra {
                Some(f) => {
                    s.spawn(move || first.3.update(data));
                    Some(f(data))
                }
                None => {
                    first.3.update(data);
                    None
                }
            }
        })
    }

    pub fn update(&mut self, data: &[u8]) {
        self.update_with::<()>(data, None);
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Finishes: the SHA-256 of the data (hex) and, per signature, the context to verify it with.
    pub fn finish(self) -> (String, Vec<Option<Context>>) {
        let sha = self.ctxs[self.sha256]
            .3
            .clone()
            .into_digest()
            .expect("digest");
        let per = self
            .per_sig
            .iter()
            .map(|i| i.map(|i| self.ctxs[i].3.clone()))
            .collect();
        (hex::encode(sha), per)
    }
}

/// The signature that verified, and who made it.
#[derive(Debug, Clone)]
pub struct GoodSignature {
    /// Primary fingerprint of the signer's certificate.
    pub fingerprint: Fingerprint,
    /// The key (primary or subkey) that made the signature.
    pub key: Fingerprint,
    pub created: SystemTime,
    pub hash_algo: HashAlgorithm,
    /// Whether the signer's pin carries the SHA-1 self-signature relaxation.
    pub relaxed: bool,
    pub source: String,
}

/// The result of checking all signatures of a file.
#[derive(Debug, Default)]
pub struct Outcome {
    pub good: Option<GoodSignature>,
    /// Problems with signatures that did not verify (reasons when nothing verified, warnings otherwise).
    pub problems: Vec<Reason>,
}

/// Checks each signature against the pins; the first one that passes every check wins.
pub fn verify(
    sigs: &[Signature],
    ctxs: Vec<Option<Context>>,
    pins: &[Pin],
    now: SystemTime,
) -> Outcome {
    let mut out = Outcome::default();
    for (sig, ctx) in sigs.iter().zip(ctxs) {
        match check_one(sig, ctx, pins, now) {
            Ok(good) if out.good.is_none() => out.good = Some(good),
            Ok(_) => {}
            Err(r) => {
                if !out.problems.contains(&r) {
                    out.problems.push(r)
                }
            }
        }
    }
    out
}

fn fpr_list(fprs: impl IntoIterator<Item = Fingerprint>) -> String {
    fprs.into_iter()
        .map(|f| f.to_hex())
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_one(
    sig: &Signature,
    ctx: Option<Context>,
    pins: &[Pin],
    now: SystemTime,
) -> Result<GoodSignature, Reason> {
    match sig.typ() {
        SignatureType::Binary => {}
        SignatureType::Text => {
            return Err(Reason::new(
                Code::UnsupportedSignature,
                "the signature is a text-mode signature; shipcheck verifies binary document signatures only",
            ))
        }
        t => {
            return Err(Reason::new(
                Code::MalformedSignature,
                format!("the signature is of type {t}, not a signature over a document"),
            ))
        }
    }
    let Some(ctx) = ctx else {
        return Err(Reason::new(
            Code::UnsupportedSignature,
            format!(
                "the signature uses the hash algorithm {}, which shipcheck does not support",
                sig.hash_algo()
            ),
        ));
    };
    let issuers = sig.get_issuers();
    let issuer_text = if issuers.is_empty() {
        "an unnamed key".to_string()
    } else {
        issuers
            .iter()
            .map(|h| h.to_hex())
            .collect::<Vec<_>>()
            .join(" / ")
    };

    // Every key of every pinned certificate the signature could be from.
    let mut candidates = Vec::new();
    for pin in pins {
        for ka in pin.cert.keys() {
            if issuers.is_empty()
                || issuers
                    .iter()
                    .any(|i| i.aliases(KeyHandle::from(ka.key().fingerprint())))
            {
                candidates.push((pin, ka.key().clone().role_into_unspecified()));
            }
        }
    }
    if candidates.is_empty() {
        return Err(Reason::new(
            Code::UnpinnedSigner,
            format!(
                "signed by {issuer_text}, which is not a key of the certificates trusted here ({})",
                fpr_list(pins.iter().map(|p| p.fingerprint()))
            ),
        )
        .hint("a good signature from any other key does not count; check that you verify the right file and tool"));
    }
    // Every (pin, key) whose key made this signature over this data. A key bound to several pinned
    // certificates (one owner's certificates) passes if any of them passes, whatever their order.
    let made: Vec<(&Pin, Key<PublicParts, UnspecifiedRole>)> = candidates
        .into_iter()
        .filter(|(_, key)| sig.verify_hash(key, ctx.clone()).is_ok())
        .collect();
    if made.is_empty() {
        return Err(Reason::new(
            Code::BadSignature,
            format!("the signature by {issuer_text} does not match the data: the file was modified, truncated, or is not the file that was signed"),
        )
        .hint("do not use this file; download it again from the vendor and report the mismatch if it persists"));
    }
    let mut first_problem = None;
    for (pin, key) in made {
        match check_signer(sig, pin, &key, now) {
            Ok(good) => return Ok(good),
            Err(r) => {
                first_problem.get_or_insert(r);
            }
        }
    }
    Err(first_problem.expect("at least one signer was checked"))
}

/// The checks on a signature that verified cryptographically with `key` of `pin`: the data
/// signature's policy, the pin's signing-key restriction, and the key's validity, revocation and
/// expiry when the signature was made and now.
fn check_signer(
    sig: &Signature,
    pin: &Pin,
    key: &Key<PublicParts, UnspecifiedRole>,
    now: SystemTime,
) -> Result<GoodSignature, Reason> {
    let key_fpr = key.fingerprint();
    let primary = pin.fingerprint();

    // Data signatures are judged under the unrelaxed standard policy.
    let strict = StandardPolicy::new();
    if let Err(e) = strict.signature(sig, HashAlgoSecurity::CollisionResistance) {
        #[allow(deprecated)]
        let weak = matches!(
            sig.hash_algo(),
            HashAlgorithm::SHA1 | HashAlgorithm::MD5 | HashAlgorithm::RipeMD
        );
        return Err(if weak {
            Reason::new(
                Code::WeakHash,
                format!(
                    "the signature by {key_fpr} uses {}, which is broken for signatures over data (collisions can be forged)",
                    sig.hash_algo()
                ),
            )
            .hint("ask the vendor to sign with SHA-256 or stronger")
        } else {
            Reason::new(
                Code::PolicyRejected,
                format!("the signature by {key_fpr} is rejected by the policy: {e}"),
            )
        });
    }

    if let Some(allowed) = &pin.signing_keys {
        if !allowed.contains(&key_fpr) {
            let role = if key_fpr == primary {
                "the primary key"
            } else {
                "a subkey"
            };
            return Err(Reason::new(
                Code::UnpinnedSubkey,
                format!(
                    "signed by {key_fpr}, {role} of the pinned certificate {primary}, but only {} may sign this tool",
                    fpr_list(allowed.iter().cloned())
                ),
            )
            .hint("a signature by another key of the same certificate is not accepted; this file may be meant for another product"));
        }
    }

    let Some(created) = sig.signature_creation_time() else {
        return Err(Reason::new(
            Code::MalformedSignature,
            "the signature has no creation time",
        ));
    };
    let policy = pin.policy();
    let vc = pin.cert.with_policy(&policy, created).map_err(|e| {
        Reason::new(
            Code::CertificateInvalid,
            format!(
                "the certificate {primary} is not valid under the policy at {}: {}",
                rfc3339(created),
                error_chain(&e)
            ),
        )
        .hint("a certificate whose self-signatures use SHA-1 needs an explicit per-pin relaxation")
    })?;

    let revoked = |status: RevocationStatus| matches!(status, RevocationStatus::Revoked(_));
    let revoked_now = pin
        .cert
        .with_policy(&policy, now)
        .ok()
        .is_some_and(|vc_now| {
            revoked(vc_now.revocation_status())
                || vc_now
                    .keys()
                    .key_handle(key_fpr.clone())
                    .next()
                    .is_some_and(|ka| revoked(ka.revocation_status()))
        });
    if revoked(vc.revocation_status())
        || vc
            .keys()
            .key_handle(key_fpr.clone())
            .next()
            .is_some_and(|ka| revoked(ka.revocation_status()))
        || revoked_now
    {
        return Err(Reason::new(
            Code::KeyRevoked,
            format!("the signing key {key_fpr} (certificate {primary}) is revoked"),
        )
        .hint("do not use this file; the vendor has withdrawn this key"));
    }

    let Some(ka) = vc.keys().key_handle(key_fpr.clone()).next() else {
        return Err(Reason::new(
            Code::KeyInvalid,
            format!(
                "the key {key_fpr} has no valid binding to certificate {primary} at {}",
                rfc3339(created)
            ),
        ));
    };
    if !ka.for_signing() {
        return Err(Reason::new(
            Code::KeyInvalid,
            format!("the key {key_fpr} is not marked for signing"),
        ));
    }
    let expiry = |ka: &ValidErasedKeyAmalgamation<_>| {
        [
            ka.key_expiration_time(),
            vc.primary_key().key_expiration_time(),
        ]
        .into_iter()
        .flatten()
        .min()
    };
    if vc.alive().is_err() || ka.alive().is_err() {
        let when = expiry(&ka)
            .map(rfc3339)
            .unwrap_or_else(|| "an unknown date".into());
        return Err(Reason::new(
            Code::KeyExpired,
            format!(
                "the signing key {key_fpr} had expired ({when}) when the signature was made ({})",
                rfc3339(created)
            ),
        )
        .hint("the signature was made with an expired key; do not use this file"));
    }
    // Still valid now?
    let vc_now = pin.cert.with_policy(&policy, now).map_err(|e| {
        Reason::new(
            Code::CertificateInvalid,
            format!(
                "the certificate {primary} is not valid under the policy today: {}",
                error_chain(&e)
            ),
        )
    })?;
    let ka_now = vc_now.keys().key_handle(key_fpr.clone()).next();
    let alive_now = vc_now.alive().is_ok() && ka_now.as_ref().is_some_and(|k| k.alive().is_ok());
    if !alive_now {
        let when = ka_now
            .as_ref()
            .and_then(|k| {
                [
                    k.key_expiration_time(),
                    vc_now.primary_key().key_expiration_time(),
                ]
                .into_iter()
                .flatten()
                .min()
            })
            .map(rfc3339)
            .unwrap_or_else(|| "an unknown date".into());
        return Err(Reason::new(
            Code::KeyExpiredSinceSigning,
            format!(
                "the signature was made on {} while the key {key_fpr} was valid, but the pinned copy of the key expired on {when}",
                rfc3339(created)
            ),
        )
        .hint("vendors extend expiry with a new self-signature under the same fingerprint: update the pinned certificate (upgrade shipcheck or pass a fresh copy), after checking its fingerprint"));
    }
    if let Err(e) = sig.signature_alive(now, CLOCK_SKEW) {
        return Err(Reason::new(
            Code::SignatureNotAlive,
            format!("the signature is not valid now: {}", error_chain(&e)),
        ));
    }
    Ok(GoodSignature {
        fingerprint: primary,
        key: key_fpr,
        created,
        hash_algo: sig.hash_algo(),
        relaxed: pin.allow_sha1_self_signatures,
        source: pin.source.clone(),
    })
}

fn error_chain(e: &anyhow_like::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

mod anyhow_like {
    pub type Error = sequoia_openpgp::anyhow::Error;
}

/// What `keys list` shows about one key.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyInfo {
    pub fingerprint: String,
    pub role: &'static str,
    pub signing: bool,
    pub pinned: bool,
    pub valid: bool,
    pub expires: Option<String>,
}

/// What `keys list` shows about one pinned certificate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertInfo {
    pub fingerprint: String,
    pub source: String,
    pub user_ids: Vec<String>,
    pub valid: bool,
    pub problem: Option<String>,
    pub expires: Option<String>,
    #[serde(skip)]
    pub expires_at: Option<SystemTime>,
    pub sha1_self_signatures_accepted: bool,
    pub keys: Vec<KeyInfo>,
}

/// Describes a pinned certificate as it stands at `now` under its pin's policy.
pub fn inspect(pin: &Pin, now: SystemTime) -> CertInfo {
    let policy = pin.policy();
    let user_ids = pin
        .cert
        .userids()
        .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
        .collect();
    let mut info = CertInfo {
        fingerprint: pin.fingerprint().to_hex(),
        source: pin.source.clone(),
        user_ids,
        valid: false,
        problem: None,
        expires: None,
        expires_at: None,
        sha1_self_signatures_accepted: pin.allow_sha1_self_signatures,
        keys: Vec::new(),
    };
    let pinned = |f: &Fingerprint| {
        pin.signing_keys
            .as_ref()
            .map(|l| l.contains(f))
            .unwrap_or(true)
    };
    match pin.cert.with_policy(&policy, now) {
        Err(e) => {
            info.problem = Some(error_chain(&e));
            for ka in pin.cert.keys() {
                let f = ka.key().fingerprint();
                info.keys.push(KeyInfo {
                    role: if f == pin.fingerprint() {
                        "primary"
                    } else {
                        "subkey"
                    },
                    pinned: pinned(&f),
                    fingerprint: f.to_hex(),
                    signing: false,
                    valid: false,
                    expires: None,
                });
            }
        }
        Ok(vc) => {
            let exp = vc.primary_key().key_expiration_time();
            info.expires_at = exp;
            info.expires = exp.map(rfc3339);
            if let RevocationStatus::Revoked(_) = vc.revocation_status() {
                info.problem = Some("revoked".into());
            } else if vc.alive().is_err() {
                info.problem = Some(format!(
                    "expired {}",
                    info.expires.clone().unwrap_or_default()
                ));
            } else {
                info.valid = true;
            }
            for ka in pin.cert.keys() {
                let f = ka.key().fingerprint();
                let valid = vc.keys().key_handle(f.clone()).next();
                info.keys.push(KeyInfo {
                    role: if f == pin.fingerprint() {
                        "primary"
                    } else {
                        "subkey"
                    },
                    pinned: pinned(&f) && valid.as_ref().is_some_and(|k| k.for_signing()),
                    signing: valid.as_ref().is_some_and(|k| k.for_signing()),
                    valid: valid.as_ref().is_some_and(|k| {
                        k.alive().is_ok()
                            && !matches!(k.revocation_status(), RevocationStatus::Revoked(_))
                    }),
                    expires: valid
                        .as_ref()
                        .and_then(|k| k.key_expiration_time())
                        .map(rfc3339),
                    fingerprint: f.to_hex(),
                });
            }
        }
    }
    info
}
