//! What `keys list` shows about a pinned certificate.

use super::{error_chain, Pin};
use crate::timefmt::rfc3339;
use openpgp::cert::prelude::*;
use openpgp::types::RevocationStatus;
use openpgp::Fingerprint;
use sequoia_openpgp as openpgp;
use std::time::SystemTime;

/// What `keys list` shows about one key.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyInfo {
    /// The key's fingerprint, in hex.
    pub fingerprint: String,
    /// `primary` or `subkey`.
    pub role: &'static str,
    /// Whether the key is signing-capable under the pin's policy.
    pub signing: bool,
    /// Whether the key may sign for the tool: signing-capable and allowed by the pin's `signing_keys`.
    pub pinned: bool,
    /// Whether the key is alive and not revoked now.
    pub valid: bool,
    /// When the key expires (RFC 3339), or null if it does not.
    pub expires: Option<String>,
}

/// What `keys list` shows about one pinned certificate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertInfo {
    /// The certificate's primary fingerprint, in hex.
    pub fingerprint: String,
    /// Where the certificate came from (catalog certificate file or `--key` path).
    pub source: String,
    /// The certificate's user IDs.
    pub user_ids: Vec<String>,
    /// Whether the certificate is valid now under its pin's policy (not revoked, not expired).
    pub valid: bool,
    /// Why the certificate is not valid, or null.
    pub problem: Option<String>,
    /// When the primary key expires (RFC 3339), or null if it does not.
    pub expires: Option<String>,
    /// When the primary key expires, for the expires-soon warning.
    #[serde(skip)]
    pub expires_at: Option<SystemTime>,
    /// Whether the pin accepts SHA-1 self-signatures (a per-certificate relaxation).
    pub sha1_self_signatures_accepted: bool,
    /// The primary key and subkeys.
    pub keys: Vec<KeyInfo>,
}

/// Describes a pinned certificate as it stands at `now` under its pin's policy.
// Long: one report field per step (validity, expiry, revocation, signing keys under the pin's policy).
pub fn inspect(pin: &Pin, now: SystemTime) -> CertInfo {
    super::start_backend();
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
