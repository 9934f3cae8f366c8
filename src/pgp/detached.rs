//! Detached signature files: signature packets only, nothing decompressed.

use super::{MAX_SIGNATURES, MAX_SIGNATURE_FILE};
use crate::report::{Code, Reason};
use openpgp::packet::Signature;
use openpgp::parse::{PacketParser, PacketParserResult, Parse};
use openpgp::Packet;
use sequoia_openpgp as openpgp;

/// Parses a detached signature file (armored or binary) into its signatures.
///
/// Only signature packets are accepted: an inline-signed, cleartext-signed, compressed or encrypted
/// message is refused without decompressing anything.
pub fn parse_detached(bytes: &[u8]) -> Result<Vec<Signature>, Reason> {
    parse_detached_noting(bytes).map(|(sigs, _)| sigs)
}

/// [`parse_detached`], with a note for each signature packet Sequoia cannot parse (an unknown
/// version such as LibrePGP's 5, or a malformed packet). Such packets are skipped, as sqv skips
/// them, beside at least one signature that parses; a marker packet is skipped whatever its
/// content (RFC 9580: "MUST ignore"), as sqv does.
pub fn parse_detached_noting(bytes: &[u8]) -> Result<(Vec<Signature>, Vec<Reason>), Reason> {
    super::start_backend();
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
    let mut unreadable = Vec::new();
    while let PacketParserResult::Some(pp) = ppr {
        match &pp.packet {
            Packet::Signature(_) => {}
            Packet::Marker(_) => {}
            Packet::Unknown(u) if u.tag() == openpgp::packet::Tag::Marker => {}
            Packet::Unknown(u) if u.tag() == openpgp::packet::Tag::Signature => {
                unreadable.push(Reason::new(
                    Code::UnsupportedSignature,
                    format!(
                        "a signature packet that cannot be parsed ({}) was skipped, as sqv skips it",
                        crate::report::esc(&u.error().to_string())
                    ),
                ));
                if sigs.len() + unreadable.len() > MAX_SIGNATURES {
                    return Err(malformed(format!("more than {MAX_SIGNATURES} signatures")));
                }
            }
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
        return Err(match unreadable.first() {
            Some(r) => malformed(format!("no signature packet that parses: {}", r.message)),
            None => malformed("no signature packet".into()),
        });
    }
    Ok((sigs, unreadable))
}

/// The `signature-too-large` reason for a signature file of at least `n` bytes.
pub fn too_large_sig(n: u64) -> Reason {
    Reason::new(
        Code::SignatureTooLarge,
        format!("the signature file is {n} bytes or more, over the cap of {MAX_SIGNATURE_FILE} bytes for a detached signature"),
    )
}
