//! OpenPGP test keys and signatures, generated with sequoia in test setup (nothing secret is checked in).

use openpgp::cert::prelude::*;
use openpgp::packet::signature::SignatureBuilder;
use openpgp::packet::Signature;
use openpgp::serialize::stream::{Armorer, Compressor, LiteralWriter, Message, Signer};
use openpgp::serialize::{Serialize, SerializeInto};
use openpgp::types::{HashAlgorithm, ReasonForRevocation, SignatureType};
use openpgp::{armor, Cert, Fingerprint, Packet};
use sequoia_openpgp as openpgp;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub const DAY: Duration = Duration::from_secs(86_400);

/// A certificate with a certification-only primary and two signing subkeys.
pub struct TestKey {
    pub cert: Cert,
}

impl TestKey {
    /// Primary + two signing subkeys, valid from `created` for `validity` (None: no expiry).
    pub fn new(name: &str, created: SystemTime, validity: Option<Duration>) -> TestKey {
        let (cert, _rev) = CertBuilder::new()
            .add_userid(format!("{name} <{name}@shipcheck.test>"))
            .set_creation_time(created)
            .set_validity_period(validity)
            .add_signing_subkey()
            .add_signing_subkey()
            .generate()
            .unwrap();
        TestKey { cert }
    }

    /// A key created a year ago without expiry that names `revoker` as its designated revoker.
    pub fn with_designated_revoker(name: &str, revoker: &TestKey) -> TestKey {
        let rk = openpgp::types::RevocationKey::new(
            revoker.cert.primary_key().key().pk_algo(),
            revoker.fingerprint(),
            false,
        );
        let (cert, _rev) = CertBuilder::new()
            .add_userid(format!("{name} <{name}@shipcheck.test>"))
            .set_creation_time(SystemTime::now() - 365 * DAY)
            .set_revocation_keys(vec![rk])
            .add_signing_subkey()
            .add_signing_subkey()
            .generate()
            .unwrap();
        TestKey { cert }
    }

    /// `revoker` (a designated revoker) revokes this certificate (key compromised).
    pub fn revoke_by(&mut self, revoker: &TestKey) {
        let mut signer = revoker.keypair(&revoker.fingerprint());
        let rev = CertRevocationBuilder::new()
            .set_reason_for_revocation(ReasonForRevocation::KeyCompromised, b"test")
            .unwrap()
            .build(&mut signer, &self.cert, None)
            .unwrap();
        self.cert = self.cert.clone().insert_packets(Some(rev)).unwrap().0;
    }

    /// A key created a year ago without expiry.
    pub fn fresh(name: &str) -> TestKey {
        TestKey::new(name, SystemTime::now() - 365 * DAY, None)
    }

    pub fn fingerprint(&self) -> Fingerprint {
        self.cert.fingerprint()
    }

    /// The n-th signing subkey (0 or 1).
    pub fn subkey(&self, n: usize) -> Fingerprint {
        self.cert
            .keys()
            .subkeys()
            .nth(n)
            .unwrap()
            .key()
            .fingerprint()
    }

    /// The public certificate, armored.
    pub fn public_armored(&self) -> Vec<u8> {
        self.cert.armored().to_vec().unwrap()
    }

    /// Revokes the whole certificate (key compromised: a hard revocation).
    pub fn revoke(&mut self) {
        let mut signer = self.keypair(&self.fingerprint());
        let rev = self
            .cert
            .revoke(&mut signer, ReasonForRevocation::KeyCompromised, b"test")
            .unwrap();
        self.cert = self.cert.clone().insert_packets(Some(rev)).unwrap().0;
    }

    /// Revokes signing subkey `n` (0 or 1) only (key compromised: a hard revocation).
    pub fn revoke_subkey(&mut self, n: usize) {
        let mut signer = self.keypair(&self.fingerprint());
        let sub = self.cert.keys().subkeys().nth(n).unwrap().key().clone();
        let rev = SubkeyRevocationBuilder::new()
            .set_reason_for_revocation(ReasonForRevocation::KeyCompromised, b"test")
            .unwrap()
            .build(&mut signer, &self.cert, &sub, None)
            .unwrap();
        self.cert = self.cert.clone().insert_packets(Some(rev)).unwrap().0;
    }

    /// Moves the expiry of the certificate and all its keys to `expiry` with new self-signatures (how
    /// vendors extend a key's life under the same fingerprint).
    pub fn set_expiry(&mut self, expiry: SystemTime) {
        let policy = openpgp::policy::StandardPolicy::new();
        let mut signer = self.keypair(&self.fingerprint());
        let mut sigs: Vec<Packet> = self
            .cert
            .set_expiration_time(&policy, None, &mut signer, Some(expiry))
            .unwrap()
            .into_iter()
            .map(Packet::from)
            .collect();
        let vc = self.cert.with_policy(&policy, None).unwrap();
        for ka in vc.keys().subkeys() {
            let mut sub = self.keypair(&ka.key().fingerprint());
            sigs.extend(
                ka.set_expiration_time(&mut signer, Some(&mut sub), Some(expiry))
                    .unwrap()
                    .into_iter()
                    .map(Packet::from),
            );
        }
        self.cert = self.cert.clone().insert_packets(sigs).unwrap().0;
    }

    /// Binds `owner`'s signing subkey `n` to this certificate too (with the subkey's back-signature, so
    /// only the subkey's owner can do it): one key, two certificates of one vendor.
    pub fn adopt_subkey(&mut self, owner: &TestKey, n: usize) {
        use openpgp::packet::key::{PublicParts, SubordinateRole};
        use openpgp::packet::Key;
        use openpgp::types::KeyFlags;
        let sub_fpr = owner.subkey(n);
        let mut sub_signer = owner.keypair(&sub_fpr);
        let sub: Key<PublicParts, SubordinateRole> = owner
            .cert
            .keys()
            .subkeys()
            .nth(n)
            .unwrap()
            .key()
            .clone()
            .parts_into_public();
        let primary = self.cert.primary_key().key().clone();
        let mut pk_signer = self.keypair(&self.fingerprint());
        let backsig = SignatureBuilder::new(SignatureType::PrimaryKeyBinding)
            .sign_primary_key_binding(&mut sub_signer, &primary, &sub)
            .unwrap();
        let binding = SignatureBuilder::new(SignatureType::SubkeyBinding)
            .set_key_flags(KeyFlags::empty().set_signing())
            .unwrap()
            .set_embedded_signature(backsig)
            .unwrap()
            .sign_subkey_binding(&mut pk_signer, None, &sub)
            .unwrap();
        self.cert = self
            .cert
            .clone()
            .insert_packets(vec![Packet::PublicSubkey(sub), binding.into()])
            .unwrap()
            .0;
    }

    fn keypair(&self, fpr: &Fingerprint) -> openpgp::crypto::KeyPair {
        self.cert
            .keys()
            .secret()
            .key_handle(fpr.clone())
            .next()
            .unwrap()
            .key()
            .clone()
            .into_keypair()
            .unwrap()
    }

    /// A detached binary-mode signature over `data` by key `fpr`.
    pub fn sign_with(
        &self,
        fpr: &Fingerprint,
        data: &[u8],
        hash: HashAlgorithm,
        created: SystemTime,
    ) -> Signature {
        let mut kp = self.keypair(fpr);
        let mut ctx = hash.context().unwrap().for_signature(4);
        ctx.update(data);
        SignatureBuilder::new(SignatureType::Binary)
            .set_signature_creation_time(created)
            .unwrap()
            .set_hash_algo(hash)
            .sign_hash(&mut kp, ctx)
            .unwrap()
    }

    /// A signature over `data` by subkey 0 (SHA-512, a minute ago) that names no key: no Issuer
    /// and no Issuer Fingerprint subpacket (Sequoia adds them unless one is there: an unhashed
    /// Issuer is given, then removed).
    pub fn sign_without_issuer(&self, data: &[u8]) -> Signature {
        use openpgp::packet::signature::subpacket::{Subpacket, SubpacketValue};
        let fpr = self.subkey(0);
        let mut kp = self.keypair(&fpr);
        let mut ctx = HashAlgorithm::SHA512.context().unwrap().for_signature(4);
        ctx.update(data);
        let mut sig = SignatureBuilder::new(SignatureType::Binary)
            .set_signature_creation_time(SystemTime::now() - Duration::from_secs(60))
            .unwrap()
            .set_hash_algo(HashAlgorithm::SHA512)
            .modify_unhashed_area(|mut a| {
                a.add(Subpacket::new(
                    SubpacketValue::Issuer(openpgp::KeyID::from(&fpr)),
                    false,
                )?)?;
                Ok(a)
            })
            .unwrap()
            .sign_hash(&mut kp, ctx)
            .unwrap();
        sig.unhashed_area_mut().clear();
        assert!(sig.get_issuers().is_empty());
        sig
    }

    /// A signature over `data` by subkey 0 (SHA-512) without a Signature Creation Time subpacket.
    pub fn sign_without_creation_time(&self, data: &[u8]) -> Signature {
        let fpr = self.subkey(0);
        let mut kp = self.keypair(&fpr);
        let mut ctx = HashAlgorithm::SHA512.context().unwrap().for_signature(4);
        ctx.update(data);
        let sig = SignatureBuilder::new(SignatureType::Binary)
            .suppress_signature_creation_time()
            .unwrap()
            .set_hash_algo(HashAlgorithm::SHA512)
            .sign_hash(&mut kp, ctx)
            .unwrap();
        assert!(sig.signature_creation_time().is_none());
        sig
    }

    /// The usual case: subkey 0, SHA-512, made now (a minute ago, to stay clear of clock skew).
    pub fn sign(&self, data: &[u8]) -> Signature {
        self.sign_with(
            &self.subkey(0),
            data,
            HashAlgorithm::SHA512,
            SystemTime::now() - Duration::from_secs(60),
        )
    }

    /// A version 3 detached signature packet (binary) over `data` by subkey 0 with SHA-256, made a
    /// minute ago: cryptographically good, but of the packet version that Sequoia's standard policy
    /// (and so sqv) has rejected since 2007. Built by hand: Sequoia only makes v4 and v6 signatures.
    pub fn sign_v3(&self, data: &[u8]) -> Vec<u8> {
        use openpgp::crypto::Signer as _;
        use openpgp::serialize::MarshalInto;
        let fpr = self.subkey(0);
        let mut kp = self.keypair(&fpr);
        let created = (SystemTime::now() - Duration::from_secs(60))
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as u32;
        // v3: the hash covers the data, the signature type and the creation time, nothing else.
        let mut h = HashAlgorithm::SHA256.context().unwrap().for_digest();
        h.update(data);
        h.update(&[u8::from(SignatureType::Binary)]);
        h.update(&created.to_be_bytes());
        let digest = h.into_digest().unwrap();
        let mpis = kp.sign(HashAlgorithm::SHA256, &digest).unwrap();
        let mut body = vec![3u8, 5, u8::from(SignatureType::Binary)];
        body.extend_from_slice(&created.to_be_bytes());
        body.extend_from_slice(openpgp::KeyID::from(&fpr).as_bytes());
        body.push(u8::from(kp.public().pk_algo()));
        body.push(u8::from(HashAlgorithm::SHA256));
        body.extend_from_slice(&digest[..2]);
        body.extend_from_slice(&mpis.to_vec().unwrap());
        // A new-format packet header: tag 2 (signature), one-octet length.
        assert!(body.len() < 192);
        let mut packet = vec![0xC2, body.len() as u8];
        packet.extend_from_slice(&body);
        packet
    }

    /// An inline-signed (one-pass signature + literal data) armored message.
    pub fn inline_signed(&self, data: &[u8]) -> Vec<u8> {
        let kp = self.keypair(&self.subkey(0));
        let mut out = Vec::new();
        let m = Message::new(&mut out);
        let m = Armorer::new(m).kind(armor::Kind::Message).build().unwrap();
        let m = Signer::new(m, kp).unwrap().build().unwrap();
        let mut w = LiteralWriter::new(m).build().unwrap();
        w.write_all(data).unwrap();
        w.finalize().unwrap();
        out
    }
}

/// Armors signatures as one detached signature file.
pub fn armor_sigs(sigs: &[Signature]) -> Vec<u8> {
    let mut w = armor::Writer::new(Vec::new(), armor::Kind::Signature).unwrap();
    for s in sigs {
        Packet::Signature(s.clone()).serialize(&mut w).unwrap();
    }
    w.finalize().unwrap()
}

/// Binary (unarmored) detached signature, as the AWS CLI publishes.
pub fn binary_sigs(sigs: &[Signature]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in sigs {
        Packet::Signature(s.clone()).serialize(&mut out).unwrap();
    }
    out
}

/// A signature packet wrapped in a compressed-data packet.
pub fn compressed_sig(sig: &Signature) -> Vec<u8> {
    let mut out = Vec::new();
    let m = Message::new(&mut out);
    let mut c = Compressor::new(m).build().unwrap();
    Packet::Signature(sig.clone()).serialize(&mut c).unwrap();
    c.finalize().unwrap();
    out
}

/// A catalog file, `dir/catalog.toml`, with a tool for each `(name, key)`: described as `test tool
/// <name>`, on `platforms`, pinning the certificate (written beside it as `<name>.asc`) with its
/// signing subkey 1 only.
pub fn write_catalog(dir: &Path, keys: &[(&str, &TestKey)], platforms: &[&str]) -> PathBuf {
    let platforms = platforms
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = String::new();
    for (name, key) in keys {
        std::fs::write(dir.join(format!("{name}.asc")), key.public_armored()).unwrap();
        text.push_str(&format!(
            "[tool.{name}]\ndescription = \"test tool {name}\"\nurl = \"https://example.invalid/{name}-{{os}}-{{arch}}\"\nplatforms = [{platforms}]\n\n[[tool.{name}.pin]]\ncertificate = \"{name}.asc\"\nfingerprint = \"{}\"\nsigning_keys = [\"{}\"]\n\n",
            key.fingerprint().to_hex(),
            key.subkey(1).to_hex(),
        ));
    }
    let p = dir.join("catalog.toml");
    std::fs::write(&p, text).unwrap();
    p
}
