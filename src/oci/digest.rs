//! Content digests (`sha256:`, `sha512:`): parsing, hashing, comparison.

use sha2::{Digest as _, Sha256, Sha512};
use std::fmt;

/// A digest algorithm shipcheck verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algo {
    /// SHA-256 (`sha256:`, 64 hex digits).
    Sha256,
    /// SHA-512 (`sha512:`, 128 hex digits).
    Sha512,
}

impl Algo {
    /// The algorithm's prefix without the colon: `sha256` or `sha512`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algo::Sha256 => "sha256",
            Algo::Sha512 => "sha512",
        }
    }
    fn hex_len(self) -> usize {
        match self {
            Algo::Sha256 => 64,
            Algo::Sha512 => 128,
        }
    }
}

/// Why a string is not a digest shipcheck accepts. Callers choose the reason code: a digest the user
/// typed is a usage error, one in a manifest makes the manifest invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// No `algo:` prefix.
    #[error("`{0}` is not a digest (expected sha256:<64 hex digits>)")]
    NotADigest(String),
    /// An algorithm other than sha256 and sha512.
    #[error("digest algorithm `{0}` is not supported (sha256 and sha512 are)")]
    Unsupported(String),
    /// The hex part is not lowercase hex of the algorithm's length.
    #[error("`{input}` is not a valid {} digest ({} lowercase hex digits expected)", .algo.as_str(), .algo.hex_len())]
    BadHex {
        /// The whole input.
        input: String,
        /// Its algorithm.
        algo: Algo,
    },
}

/// A content digest `algo:hex` (lowercase hex, exact length for the algorithm).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    /// The algorithm.
    pub algo: Algo,
    /// The digest value in lowercase hex.
    pub hex: String,
}

impl Digest {
    /// Parses `algo:hex`; only sha256 and sha512 with lowercase hex of the exact length are accepted.
    pub fn parse(s: &str) -> Result<Digest, DigestError> {
        let (algo, hex) = s
            .split_once(':')
            .ok_or_else(|| DigestError::NotADigest(s.to_string()))?;
        let algo = match algo {
            "sha256" => Algo::Sha256,
            "sha512" => Algo::Sha512,
            other => return Err(DigestError::Unsupported(other.to_string())),
        };
        let ok = hex.len() == algo.hex_len()
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !ok {
            return Err(DigestError::BadHex {
                input: s.to_string(),
                algo,
            });
        }
        Ok(Digest {
            algo,
            hex: hex.to_string(),
        })
    }

    /// The digest of `data` with `algo`.
    pub fn of(algo: Algo, data: &[u8]) -> Digest {
        let hex = match algo {
            Algo::Sha256 => hex::encode(Sha256::digest(data)),
            Algo::Sha512 => hex::encode(Sha512::digest(data)),
        };
        Digest { algo, hex }
    }

    /// True when `data` hashes to this digest.
    pub fn matches(&self, data: &[u8]) -> bool {
        Digest::of(self.algo, data) == *self
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algo.as_str(), self.hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        let d = Digest::of(Algo::Sha256, b"");
        assert_eq!(
            d.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(d.matches(b""));
        assert!(!d.matches(b"x"));
        let s = Digest::of(Algo::Sha512, b"abc");
        assert!(s.hex.starts_with("ddaf35a193617aba"));
        assert_eq!(Digest::parse(&s.to_string()).unwrap(), s);
        assert!(Digest::parse(&format!("sha256:{}", "A".repeat(64))).is_err());
        assert!(Digest::parse(&format!("sha256:{}", "a".repeat(63))).is_err());
        assert!(Digest::parse(&format!("sha384:{}", "a".repeat(96))).is_err());
        assert!(Digest::parse("sha256").is_err());
    }
}
