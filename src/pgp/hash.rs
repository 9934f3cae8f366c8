//! Hashing the data once per distinct signature hash, in parallel where it pays.

use openpgp::crypto::hash::Context;
use openpgp::packet::Signature;
use openpgp::types::{HashAlgorithm, SignatureType};
use sequoia_openpgp as openpgp;

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
    /// A hasher for `sigs`: one context per distinct hash (binary signatures only), plus SHA-256.
    pub fn new(sigs: &[Signature]) -> Self {
        super::start_backend();
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

    /// Feeds `data` to every context ([`DataHasher::update_with`] without an extra job).
    pub fn update(&mut self, data: &[u8]) {
        self.update_with::<()>(data, None);
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no byte has been hashed yet.
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
