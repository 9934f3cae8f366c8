//! Server certificate verification with the system's roots loaded in the background.
//!
//! On Linux and the BSDs, reqwest's platform verifier reads every root certificate of the system
//! (the bundle file and each file of the certificate directory, about 300 files on Debian) before the
//! client exists, so before the first connection starts: 10-30 ms on every run. The roots are needed
//! only when the server's certificate arrives, a TCP connect and a TLS round trip later. This verifier
//! starts loading them on a thread when the client is built and waits for that thread in
//! [`ServerCertVerifier::verify_server_cert`], so the loading overlaps the connection.
//!
//! What is verified does not change: the same roots (the system's, as `rustls-native-certs` finds
//! them, plus `--ca-cert`), checked by rustls's `WebPkiServerVerifier`, exactly what the platform
//! verifier does on these systems. macOS and Windows keep the platform verifier (their OS does the
//! verification).

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, OtherError, SignatureScheme};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

type Loaded = Result<Arc<WebPkiServerVerifier>, Error>;

/// A [`ServerCertVerifier`] whose roots load on a background thread (see the module docs).
#[derive(Debug)]
pub struct BackgroundRoots {
    provider: Arc<CryptoProvider>,
    loading: Mutex<Option<JoinHandle<Loaded>>>,
    loaded: OnceLock<Loaded>,
}

impl BackgroundRoots {
    /// Starts loading the system's roots plus `extra` (already parsed, so a bad `--ca-cert` fails
    /// before any connection).
    pub fn start(provider: Arc<CryptoProvider>, extra: Vec<CertificateDer<'static>>) -> Self {
        let p = provider.clone();
        let loading = std::thread::Builder::new()
            .name("tls-roots".into())
            .spawn(move || load(p, extra));
        let (loading, loaded) = match loading {
            Ok(h) => (Some(h), OnceLock::new()),
            // No thread to be had: the handshake reports it (fail closed).
            Err(e) => (
                None,
                OnceLock::from(Err(Error::General(format!(
                    "cannot start loading the system's root certificates: {e}"
                )))),
            ),
        };
        BackgroundRoots {
            provider,
            loading: Mutex::new(loading),
            loaded,
        }
    }

    fn verifier(&self) -> Result<&Arc<WebPkiServerVerifier>, Error> {
        let loaded = self.loaded.get_or_init(|| {
            let handle = self
                .loading
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            match handle.map(JoinHandle::join) {
                Some(Ok(v)) => v,
                Some(Err(_)) => Err(Error::General(
                    "loading the system's root certificates failed".into(),
                )),
                None => Err(Error::General(
                    "the system's root certificates were not loaded".into(),
                )),
            }
        });
        loaded.as_ref().map_err(Clone::clone)
    }
}

/// The roots: `extra` first, then the system's; refused when there are none at all.
fn load(provider: Arc<CryptoProvider>, extra: Vec<CertificateDer<'static>>) -> Loaded {
    let mut store = rustls::RootCertStore::empty();
    for c in extra {
        store.add(c)?;
    }
    let system = rustls_native_certs::load_native_certs();
    store.add_parsable_certificates(system.certs);
    if store.is_empty() {
        return Err(Error::General(
            "no CA certificates were loaded from the system (install ca-certificates, or pass --ca-cert)"
                .into(),
        ));
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
        .build()
        .map_err(|e| Error::Other(OtherError(Arc::new(e))))
}

impl ServerCertVerifier for BackgroundRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

    fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, name.to_string());
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
    }

    fn server(ca: &CertifiedIssuer<'static, KeyPair>) -> CertificateDer<'static> {
        let p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        p.signed_by(&KeyPair::generate().unwrap(), ca)
            .unwrap()
            .der()
            .clone()
    }

    #[test]
    fn verifies_as_webpki_does_with_the_extra_roots() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let trusted = ca("trusted CA");
        let v = BackgroundRoots::start(provider, vec![trusted.der().clone()]);
        let now = UnixTime::now();
        let name = |n: &str| ServerName::try_from(n.to_string()).unwrap();
        let good = server(&trusted);
        assert!(v
            .verify_server_cert(&good, &[], &name("localhost"), &[], now)
            .is_ok());
        // Another name than the certificate's.
        assert!(matches!(
            v.verify_server_cert(&good, &[], &name("registry.example.com"), &[], now),
            Err(Error::InvalidCertificate(_))
        ));
        // A certificate from a CA that is not trusted.
        let other = server(&ca("other CA"));
        assert!(matches!(
            v.verify_server_cert(&other, &[], &name("localhost"), &[], now),
            Err(Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            ))
        ));
    }
}
