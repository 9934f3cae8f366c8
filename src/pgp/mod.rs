//! In-process OpenPGP verification of detached signatures against pinned certificates.
//!
//! The flow is: [`parse_detached`] the (small, capped) signature file, create a [`DataHasher`] for the
//! signatures found, feed it the data as it streams in, then [`verify()`] the finished hashes against the
//! [`Pin`]s. Nothing here reads the network or the file system.
//!
//! Parts: the trust set ([`Pin`], certificate parsing and merging, here), [`detached`] signature
//! files, [`hash`]ing the data, [`verify`](mod@verify)ing signatures, [`inspect()`]ing pins for `keys list`.

pub mod detached;
pub mod hash;
pub mod inspect;
pub mod verify;

pub use detached::{parse_detached, parse_detached_noting, too_large_sig};
pub use hash::{DataHasher, ExtraJob};
pub use inspect::{inspect, CertInfo, KeyInfo};
pub use verify::{verify, GoodSignature, Outcome};

use openpgp::cert::prelude::*;
use openpgp::parse::Parse;
use openpgp::policy::{HashAlgoSecurity, StandardPolicy};
use openpgp::types::HashAlgorithm;
use openpgp::{Cert, Fingerprint};
use sequoia_openpgp as openpgp;

/// Largest signature file accepted. A detached signature is a few hundred bytes (RSA-4096: ~0.8 KiB
/// armored); a handful of them fit easily.
pub const MAX_SIGNATURE_FILE: u64 = 16 * 1024;
/// Most signatures considered in one signature file.
pub const MAX_SIGNATURES: usize = 16;
/// Largest certificate file accepted (`--key` or a catalog certificate).
pub const MAX_CERT_FILE: u64 = 1 << 20;
/// Most certificates read from one file.
pub const MAX_CERTS: usize = 64;

/// A certificate the user (or the catalog) trusts for one tool, with what it may sign with.
#[derive(Clone)]
pub struct Pin {
    /// Where the certificate came from (catalog file name or `--key` path), for messages.
    pub source: String,
    /// The certificate (copies with one primary fingerprint merged).
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

    /// The certificate's primary fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        self.cert.fingerprint()
    }
}

/// Why a key file or a set of pins is refused (reason code `invalid-key` where the user gave it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// Over [`MAX_CERT_FILE`] bytes.
    #[error("larger than {MAX_CERT_FILE} bytes")]
    TooLarge,
    /// Nothing but whitespace.
    #[error("empty file")]
    Empty,
    /// Sequoia could not parse it as certificates.
    #[error("not an OpenPGP certificate: {0}")]
    NotACert(String),
    /// More than [`MAX_CERTS`] certificates.
    #[error("more than {MAX_CERTS} certificates")]
    TooMany,
    /// OpenPGP data without a certificate in it.
    #[error("holds no OpenPGP certificate")]
    NoCert,
    /// Two copies of one certificate that Sequoia cannot merge.
    #[error("cannot merge two copies of {fingerprint}: {why}")]
    Merge {
        /// The primary fingerprint.
        fingerprint: String,
        /// Sequoia's reason.
        why: String,
    },
    /// One certificate pinned twice with different signing keys or relaxations.
    #[error("certificate {fingerprint} is pinned twice ({first} and {second}) with different signing keys or policy relaxations")]
    AmbiguousPins {
        /// The primary fingerprint.
        fingerprint: String,
        /// Where the first pin came from.
        first: String,
        /// Where the second came from.
        second: String,
    },
}

/// Starts OpenSSL (Sequoia's crypto backend) without reading a configuration file; every entry
/// point of this module calls it before Sequoia can touch OpenSSL.
///
/// OpenSSL otherwise reads the system's `openssl.cnf`, or any file the `OPENSSL_CONF` variable
/// names, on first use: a file that activates other providers (or only the `null` provider) changed
/// which hash algorithms Sequoia found, and one without SHA-1 made Sequoia panic while parsing any
/// certificate (exit 101). Verification follows shipcheck's own policy ([`Pin::policy`]), as sqv
/// (Nettle, no configuration) does, not the machine's OpenSSL settings; the configuration file's
/// parsing was also 6% of a small verification's time.
pub(crate) fn start_backend() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    // Option bits from openssl/crypto.h and openssl/ssl.h (openssl-sys exports the last two only
    // for some OpenSSL versions): OPENSSL_INIT_NO_LOAD_CONFIG, OPENSSL_INIT_NO_ATEXIT (1.1.1b and
    // later; ignored before) and OPENSSL_INIT_LOAD_SSL_STRINGS, the bits openssl_sys::init passes.
    const NO_LOAD_CONFIG: u64 = 0x0000_0080;
    const NO_ATEXIT: u64 = 0x0008_0000;
    STARTED.call_once(|| {
        let opts = openssl_sys::OPENSSL_INIT_LOAD_SSL_STRINGS | NO_ATEXIT | NO_LOAD_CONFIG;
        // SAFETY: OPENSSL_init_ssl takes option bits and an optional settings pointer (null: none);
        // it is thread-safe and may be called any number of times. The openssl crate's own start
        // (openssl_sys::init, called by Sequoia later) passes the same bits without
        // NO_LOAD_CONFIG; OpenSSL runs its configuration step once, so ours, first, wins.
        #[allow(unsafe_code)]
        let ok = unsafe { openssl_sys::OPENSSL_init_ssl(opts, std::ptr::null()) };
        debug_assert_eq!(ok, 1, "OPENSSL_init_ssl failed");
    });
}

/// Parses a file of certificates (armored or binary). Fails on an empty file, on anything that is
/// not OpenPGP, and on more than [`MAX_CERTS`] certificates.
pub fn parse_certs(bytes: &[u8]) -> Result<Vec<Cert>, CertError> {
    start_backend();
    if bytes.len() as u64 > MAX_CERT_FILE {
        return Err(CertError::TooLarge);
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(CertError::Empty);
    }
    if let Some(at) = binary_beside_armor(bytes) {
        return Err(CertError::NotACert(format!(
            "binary data at byte {at}, outside the file's armored blocks, which would not be read \
             (a revocation appended in binary form would be ignored); armor it, or give it as a \
             --key file of its own"
        )));
    }
    let mut certs = Vec::new();
    let parser = CertParser::from_bytes(bytes).map_err(|e| CertError::NotACert(e.to_string()))?;
    for c in parser {
        let c = c.map_err(|e| CertError::NotACert(e.to_string()))?;
        certs.push(c);
        if certs.len() > MAX_CERTS {
            return Err(CertError::TooMany);
        }
    }
    if certs.is_empty() {
        return Err(CertError::NoCert);
    }
    merge_certs(certs)
}

/// In an armored file, the offset of the first binary byte outside its `-----BEGIN PGP` /
/// `-----END PGP` blocks: text around and between blocks (comments) is allowed, as in armor, but
/// bytes that are not UTF-8 text, or control characters other than tab and line ends, would be
/// skipped by the armor reader unread. Adversarial pass 39: a revoked copy of the certificate
/// appended in binary after the armored one was ignored, and the revoked key passed (sqv and gpg
/// ignore it too; shipcheck refuses to judge a file it cannot read whole). `None` for a binary
/// file (no armor header) and for clean armor.
fn binary_beside_armor(bytes: &[u8]) -> Option<usize> {
    let find = |from: usize, pat: &[u8]| {
        bytes[from..]
            .windows(pat.len())
            .position(|w| w == pat)
            .map(|i| from + i)
    };
    let stray = |from: usize, to: usize| -> Option<usize> {
        let seg = &bytes[from..to];
        let text = std::str::from_utf8(seg).map_err(|e| e.valid_up_to());
        let bad = |(i, c): (usize, char)| (c.is_control() && !"\t\r\n".contains(c)).then_some(i);
        match text {
            Ok(t) => t.char_indices().find_map(bad).map(|i| from + i),
            Err(valid) => {
                let t = std::str::from_utf8(&seg[..valid]).unwrap_or_default();
                Some(from + t.char_indices().find_map(bad).unwrap_or(valid))
            }
        }
    };
    let mut pos = 0;
    let mut armored = false;
    while let Some(begin) = find(pos, b"-----BEGIN PGP ") {
        armored = true;
        if let Some(at) = stray(pos, begin) {
            return Some(at);
        }
        let Some(end) = find(begin, b"-----END PGP ") else {
            return None; // an unterminated block: the armor reader says what is wrong
        };
        pos = bytes[end..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| end + i + 1);
    }
    if armored {
        stray(pos, bytes.len())
    } else {
        None
    }
}

/// Merges certificates that share a primary fingerprint ([`Cert::merge_public`]), as sqv and gpgv
/// keyrings do: revocations, new subkeys and extended expiries from any copy apply, and the result
/// does not depend on the order of the copies. The first appearance of each fingerprint keeps its
/// place.
pub fn merge_certs(certs: Vec<Cert>) -> Result<Vec<Cert>, CertError> {
    let mut out: Vec<Cert> = Vec::new();
    for c in certs {
        match out.iter().position(|o| o.fingerprint() == c.fingerprint()) {
            None => out.push(c),
            Some(i) => {
                let merged = out[i]
                    .clone()
                    .merge_public(c)
                    .map_err(|e| CertError::Merge {
                        fingerprint: out[i].fingerprint().to_string(),
                        why: e.to_string(),
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
pub fn merge_pins(pins: Vec<Pin>) -> Result<Vec<Pin>, CertError> {
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
            return Err(CertError::AmbiguousPins {
                fingerprint: p.fingerprint().to_string(),
                first: p.source.clone(),
                second: pin.source.clone(),
            });
        }
        p.cert = merge_certs(vec![p.cert.clone(), pin.cert])?.remove(0);
        if !p.source.split(", ").any(|s| s == pin.source) {
            p.source = format!("{}, {}", p.source, pin.source);
        }
    }
    Ok(out)
}

/// Why a string is not a full OpenPGP fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FingerprintError {
    /// Not 40 or 64 hex digits (a key ID, say).
    #[error("`{0}` is not a full fingerprint (40 or 64 hex digits; key IDs are not accepted)")]
    NotFull(String),
    /// Sequoia refuses it.
    #[error("`{input}` is not a fingerprint: {why}")]
    Invalid {
        /// The input.
        input: String,
        /// Sequoia's reason.
        why: String,
    },
}

/// Parses a hex fingerprint (spaces allowed, `0x` or `0X` prefix allowed).
pub fn parse_fingerprint(s: &str) -> Result<Fingerprint, FingerprintError> {
    let t = s.trim();
    let clean: String = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if !(clean.len() == 40 || clean.len() == 64) || !clean.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(FingerprintError::NotFull(s.to_string()));
    }
    clean
        .parse::<Fingerprint>()
        .map_err(|e| FingerprintError::Invalid {
            input: s.to_string(),
            why: e.to_string(),
        })
}

/// An error with its sources, joined by ": ".
fn error_chain(e: &openpgp::anyhow::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}
