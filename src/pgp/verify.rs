//! Checking signatures against the pins: who made each one, and whether that key was valid, alive
//! and unrevoked when it signed and is now, under the policy.

use super::{error_chain, Pin};
use crate::report::{Code, Reason};
use crate::timefmt::rfc3339;
use openpgp::cert::prelude::*;
use openpgp::crypto::hash::Context;
use openpgp::packet::key::{PublicParts, UnspecifiedRole};
use openpgp::packet::{Key, Signature};
use openpgp::policy::{HashAlgoSecurity, Policy, StandardPolicy};
use openpgp::types::{HashAlgorithm, RevocationStatus, SignatureType};
use openpgp::{Fingerprint, KeyHandle, Packet};
use sequoia_openpgp as openpgp;
use std::time::{Duration, SystemTime};

/// Tolerated clock skew for signature creation times.
const CLOCK_SKEW: Duration = Duration::from_secs(300);

/// The signature that verified, and who made it.
#[derive(Debug, Clone)]
pub struct GoodSignature {
    /// Primary fingerprint of the signer's certificate.
    pub fingerprint: Fingerprint,
    /// The key (primary or subkey) that made the signature.
    pub key: Fingerprint,
    /// When the signature was made (its creation time).
    pub created: SystemTime,
    /// The hash algorithm of the signature.
    pub hash_algo: HashAlgorithm,
    /// Whether the signer's pin carries the SHA-1 self-signature relaxation.
    pub relaxed: bool,
    /// Where the signer's certificate came from (catalog certificate file or `--key` path).
    pub source: String,
}

/// The result of checking all signatures of a file.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The signature that verified, if any.
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
    super::start_backend();
    // sqv refuses the whole signature file when the policy rejects one of its packets (a version 3
    // signature beside a good version 4 one fails in sqv), and so does shipcheck.
    if let Some(r) = sigs.iter().find_map(packet_rejected) {
        out.problems.push(r);
        return out;
    }
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

// Long: sqv's order of checks for one signature and one candidate certificate, each a named step below.
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
    // Sequoia cannot verify a signature without a creation time, whatever the data: not "the file
    // was modified" (sqv: "missing a Signature Creation Time subpacket").
    if sig.signature_creation_time().is_none() {
        return Err(Reason::new(
            Code::MalformedSignature,
            "the signature has no creation time (a Signature Creation Time subpacket is required)",
        )
        .hint("ask the vendor for a signature made by a standard OpenPGP tool"));
    }
    // A signature that names no key (no Issuer or Issuer Fingerprint subpacket) is refused, as
    // sqv, Sequoia's own verifier and gpg refuse it: no verifier tries every key it knows.
    let issuers = sig.get_issuers();
    if issuers.is_empty() {
        return Err(Reason::new(
            Code::MalformedSignature,
            "the signature names no signing key (no Issuer or Issuer Fingerprint subpacket); sqv and gpg refuse such a signature",
        )
        .hint("ask the vendor for a signature made by a standard OpenPGP tool, which names its key"));
    }
    let issuer_text = issuers
        .iter()
        .map(|h| h.to_hex())
        .collect::<Vec<_>>()
        .join(" / ");

    // Every key of every pinned certificate the signature could be from.
    let mut candidates = Vec::new();
    for pin in pins {
        for ka in pin.cert.keys() {
            if issuers
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
    let candidates_for_dates = candidates.clone();
    let mut made: Vec<(&Pin, Key<PublicParts, UnspecifiedRole>)> = Vec::new();
    // A key whose algorithm or curve the crypto backend cannot compute with (secp256k1 under
    // OpenSSL): no verdict about the data, so not "the file was modified".
    let mut unsupported: Option<String> = None;
    for (pin, key) in candidates {
        match sig.verify_hash(&key, ctx.clone()) {
            Ok(()) => made.push((pin, key)),
            Err(e) if is_unsupported(&e) => {
                unsupported.get_or_insert_with(|| format!("{} ({e})", key.fingerprint()));
            }
            Err(_) => {}
        }
    }
    if let (true, Some(why)) = (made.is_empty(), &unsupported) {
        return Err(Reason::new(
            Code::UnsupportedSignature,
            format!("the signature by {issuer_text} was made with a key whose algorithm shipcheck's crypto backend does not support: {why}; the signature cannot be checked here, which is no evidence that the file was changed"),
        )
        .hint("ask the vendor for a signature made with a widely supported algorithm (Ed25519, RSA, NIST P-256)"));
    }
    if made.is_empty() {
        // Sequoia refuses a signature dated before its key was created without looking at the data:
        // that is a signature no key could have made then (sqv: no binding signature at that time).
        let created = sig.signature_creation_time();
        if let Some((_, key)) = made_before_key(&candidates_for_dates, created) {
            return Err(Reason::new(
                Code::KeyInvalid,
                format!(
                    "the signature by {issuer_text} is dated {}, before its key {} was created ({}): no such key existed then",
                    rfc3339(created.expect("dated")),
                    key.fingerprint(),
                    rfc3339(key.creation_time())
                ),
            )
            .hint("do not use this file; a signature cannot predate its key (a wrong clock or a forged date when it was signed)"));
        }
        if let Some(version) = unencodable_fingerprint(sig) {
            return Err(Reason::new(
                Code::UnsupportedSignature,
                format!("the signature by {issuer_text} carries a version {version} fingerprint in its signed subpackets, which Sequoia (the OpenPGP library shipcheck uses) cannot encode again to hash them: the signature cannot be checked here, which is no evidence that the file was changed (sqv 1.1, on an older Sequoia, checks it)"),
            )
            .hint("ask the vendor for a signature made by a standard OpenPGP tool for a version 4 or 6 key"));
        }
        return Err(Reason::new(
            Code::BadSignature,
            format!("the signature by {issuer_text} does not match the data: the file was modified, truncated, or is not the file that was signed"),
        )
        .hint("do not use this file; download it again from the vendor and report the mismatch if it persists"));
    }
    let mut first_problem = None;
    for (pin, key) in made {
        match check_signer(sig, pin, pins, &key, now) {
            Ok(good) => return Ok(good),
            Err(r) => {
                first_problem.get_or_insert(r);
            }
        }
    }
    Err(first_problem.expect("at least one signer was checked"))
}

/// A candidate key created after the signature's creation time, if every candidate was (Sequoia does
/// not verify such a signature).
fn made_before_key<'a, 'p>(
    candidates: &'a [(&'p Pin, Key<PublicParts, UnspecifiedRole>)],
    created: Option<SystemTime>,
) -> Option<&'a (&'p Pin, Key<PublicParts, UnspecifiedRole>)> {
    let created = created?;
    if candidates.iter().all(|(_, k)| k.creation_time() > created) {
        candidates.first()
    } else {
        None
    }
}

/// The checks on a signature that verified cryptographically with `key` of `pin`, in order: the
/// data signature's policy, the pin's signing-key restriction, the certificate's validity under the
/// pin's policy, revocation (when signed or now), the key's binding and expiry when it signed, its
/// expiry now, and the signature's own lifetime. `pins` is the whole trust set (for designated
/// revokers).
fn check_signer(
    sig: &Signature,
    pin: &Pin,
    pins: &[Pin],
    key: &Key<PublicParts, UnspecifiedRole>,
    now: SystemTime,
) -> Result<GoodSignature, Reason> {
    let key_fpr = key.fingerprint();
    check_data_policy(sig, &key_fpr)?;
    check_pinned_key(pin, &key_fpr)?;
    let created = sig
        .signature_creation_time()
        .expect("refused in check_one when missing");
    let policy = pin.policy();
    let vc = pin.cert.with_policy(&policy, created).map_err(|e| {
        Reason::new(
            Code::CertificateInvalid,
            format!(
                "the certificate {} is not valid under the policy at {}: {}",
                pin.fingerprint(),
                rfc3339(created),
                error_chain(&e)
            ),
        )
        .hint("a certificate whose self-signatures use SHA-1 needs an explicit per-pin relaxation")
    })?;
    let vc_now = pin.cert.with_policy(&policy, now).ok();
    check_not_revoked(&vc, vc_now.as_ref(), &key_fpr, pins)?;
    check_alive_when_signed(&vc, &key_fpr, created)?;
    check_alive_now(pin, &policy, &key_fpr, created, now)?;
    if let Err(e) = sig.signature_alive(now, CLOCK_SKEW) {
        return Err(Reason::new(
            Code::SignatureNotAlive,
            format!("the signature is not valid now: {}", error_chain(&e)),
        ));
    }
    Ok(GoodSignature {
        fingerprint: pin.fingerprint(),
        key: key_fpr,
        created,
        hash_algo: sig.hash_algo(),
        relaxed: pin.allow_sha1_self_signatures,
        source: pin.source.clone(),
    })
}

/// Data signatures are judged under the unrelaxed standard policy: SHA-1, MD5 and RIPEMD-160 are
/// `weak-hash`, anything else the policy refuses is `policy-rejected`.
fn check_data_policy(sig: &Signature, key_fpr: &Fingerprint) -> Result<(), Reason> {
    let policy = StandardPolicy::new();
    let Err(e) = policy.signature(sig, HashAlgoSecurity::CollisionResistance) else {
        return Ok(());
    };
    #[allow(deprecated)]
    let weak = matches!(
        sig.hash_algo(),
        HashAlgorithm::SHA1 | HashAlgorithm::MD5 | HashAlgorithm::RipeMD
    );
    Err(if weak {
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
    })
}

/// The version of a fingerprint in the signature's hashed subpackets (Issuer Fingerprint, Intended
/// Recipient) that is neither 4 nor 6 (LibrePGP's 5): Sequoia parses it but cannot serialize it,
/// so the hash over the subpackets never comes out right and the check fails whatever the data.
fn unencodable_fingerprint(sig: &Signature) -> Option<String> {
    use openpgp::packet::signature::subpacket::SubpacketValue;
    sig.hashed_area().iter().find_map(|sp| match sp.value() {
        SubpacketValue::IssuerFingerprint(Fingerprint::Unknown { version, .. })
        | SubpacketValue::IntendedRecipient(Fingerprint::Unknown { version, .. }) => {
            Some(version.map_or_else(|| "unknown".to_string(), |v| v.to_string()))
        }
        _ => None,
    })
}

/// A signature packet the standard policy rejects as a packet, as sqv's verifier checks every packet
/// of the signature file: version 3 signatures (no hashed subpackets: no expiry, no critical
/// notations, an 8-byte issuer), which the signature check alone lets through.
fn packet_rejected(sig: &Signature) -> Option<Reason> {
    let e = StandardPolicy::new()
        .packet(&Packet::from(sig.clone()))
        .err()?;
    let by = sig
        .get_issuers()
        .first()
        .map(|i| format!(" by {i}"))
        .unwrap_or_default();
    Some(
        Reason::new(
            Code::PolicyRejected,
            format!(
                "the signature file holds a version {} signature packet{by}, which the policy rejects: {e}; sqv refuses such a file whole, whatever else it holds",
                sig.version()
            ),
        )
        .hint("ask the vendor for a signature made with a current OpenPGP implementation (version 4 or later)"),
    )
}

/// Where the pin names the keys that may sign, the signing key must be one of them.
fn check_pinned_key(pin: &Pin, key_fpr: &Fingerprint) -> Result<(), Reason> {
    let Some(allowed) = &pin.signing_keys else {
        return Ok(());
    };
    if allowed.contains(key_fpr) {
        return Ok(());
    }
    let primary = pin.fingerprint();
    let role = if *key_fpr == primary {
        "the primary key"
    } else {
        "a subkey"
    };
    Err(Reason::new(
        Code::UnpinnedSubkey,
        format!(
            "signed by {key_fpr}, {role} of the pinned certificate {primary}, but only {} may sign this tool",
            fpr_list(allowed.iter().cloned())
        ),
    )
    .hint("a signature by another key of the same certificate is not accepted; this file may be meant for another product"))
}

/// Whether a verification error says the backend cannot compute with the key, rather than that the
/// signature does not match.
fn is_unsupported(e: &openpgp::anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<openpgp::Error>(),
        Some(
            openpgp::Error::UnsupportedPublicKeyAlgorithm(_)
                | openpgp::Error::UnsupportedEllipticCurve(_)
                | openpgp::Error::UnsupportedHashAlgorithm(_)
        )
    )
}

/// Whether a revocation of `vc` by a third party was made by one of its designated revokers (the
/// Revocation Key its self-signature names) whose certificate is among `pins`, and verifies with
/// that revoker's primary key. sqv and gpgv ignore such revocations (gpg warns); shipcheck applies
/// them when it holds the revoker's certificate, as the certificate's owner asked (adversarial pass
/// 39: a certificate revoked by its designated revoker passed). A revocation by a revoker shipcheck
/// does not hold cannot be checked and is ignored, as by sqv.
fn revoked_by_designated(vc: &ValidCert, pins: &[Pin]) -> bool {
    let RevocationStatus::CouldBe(revs) = vc.revocation_status() else {
        return false;
    };
    let designated: Vec<&Fingerprint> = vc.revocation_keys().map(|rk| rk.revoker().1).collect();
    revs.iter().any(|rev| {
        pins.iter()
            .filter(|p| designated.contains(&&p.fingerprint()))
            .any(|p| {
                rev.verify_primary_key_revocation(
                    p.cert.primary_key().key(),
                    vc.primary_key().key(),
                )
                .is_ok()
            })
    })
}

/// Neither the certificate nor the signing key is revoked, when the signature was made (`vc`) or
/// now (`vc_now`, when the certificate is still valid under the policy); a revocation by a
/// designated revoker among `pins` counts ([`revoked_by_designated`]).
fn check_not_revoked(
    vc: &ValidCert,
    vc_now: Option<&ValidCert>,
    key_fpr: &Fingerprint,
    pins: &[Pin],
) -> Result<(), Reason> {
    let revoked = |vc: &ValidCert| {
        let is = |status: RevocationStatus| matches!(status, RevocationStatus::Revoked(_));
        is(vc.revocation_status())
            || revoked_by_designated(vc, pins)
            || vc
                .keys()
                .key_handle(key_fpr.clone())
                .next()
                .is_some_and(|ka| is(ka.revocation_status()))
    };
    if revoked(vc) || vc_now.is_some_and(revoked) {
        return Err(Reason::new(
            Code::KeyRevoked,
            format!(
                "the signing key {key_fpr} (certificate {}) is revoked",
                vc.fingerprint()
            ),
        )
        .hint("do not use this file; the vendor has withdrawn this key"));
    }
    Ok(())
}

/// The earliest expiry of a key and its certificate's primary key, as text.
/// `None`: neither has an expiry (the key is not alive for another reason: a binding signature that
/// expired).
fn expiry_text(
    ka: Option<&ValidErasedKeyAmalgamation<PublicParts>>,
    vc: &ValidCert,
) -> Option<String> {
    [
        ka.and_then(|k| k.key_expiration_time()),
        vc.primary_key().key_expiration_time(),
    ]
    .into_iter()
    .flatten()
    .min()
    .map(rfc3339)
}

/// When the signature was made, the key was bound to the certificate, marked for signing, and
/// neither it nor the certificate had expired.
fn check_alive_when_signed(
    vc: &ValidCert,
    key_fpr: &Fingerprint,
    created: SystemTime,
) -> Result<(), Reason> {
    let primary = vc.fingerprint();
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
    if vc.alive().is_err() || ka.alive().is_err() {
        let when = expiry_text(Some(&ka), vc)
            .unwrap_or_else(|| "its binding signature had expired".into());
        return Err(Reason::new(
            Code::KeyExpired,
            format!(
                "the signing key {key_fpr} had expired ({when}) when the signature was made ({})",
                rfc3339(created)
            ),
        )
        .hint("the signature was made with an expired key; do not use this file"));
    }
    Ok(())
}

/// The certificate is valid under the policy today and the key has not expired since it signed.
fn check_alive_now(
    pin: &Pin,
    policy: &StandardPolicy,
    key_fpr: &Fingerprint,
    created: SystemTime,
    now: SystemTime,
) -> Result<(), Reason> {
    let vc_now = pin.cert.with_policy(policy, now).map_err(|e| {
        Reason::new(
            Code::CertificateInvalid,
            format!(
                "the certificate {} is not valid under the policy today: {}",
                pin.fingerprint(),
                error_chain(&e)
            ),
        )
    })?;
    let ka_now = vc_now.keys().key_handle(key_fpr.clone()).next();
    if vc_now.alive().is_ok() && ka_now.as_ref().is_some_and(|k| k.alive().is_ok()) {
        return Ok(());
    }
    let when = expiry_text(ka_now.as_ref(), &vc_now).map_or_else(
        || "is no longer valid today (a binding signature has expired)".to_string(),
        |t| format!("expired on {t}"),
    );
    Err(Reason::new(
        Code::KeyExpiredSinceSigning,
        format!(
            "the signature was made on {} while the key {key_fpr} was valid, but in the pinned copy the key {when}",
            rfc3339(created)
        ),
    )
    .hint("vendors extend expiry with a new self-signature under the same fingerprint: update the pinned certificate (upgrade shipcheck or pass a fresh copy), after checking its fingerprint"))
}
