//! Which server certificates the client accepts: those the platform's root certificates
//! vouch for, plus any `--ca-cert` roots; or, with `--insecure`, any certificate at all.
//!
//! The platform's roots (a file and a directory of about 150 certificates) are read at
//! the first HTTPS handshake, not when the client is built: a run against an `http://`
//! server, such as every run on the bundled emulator, never pays for them. (Built without
//! any roots instead, reqwest's start-up hung now and then under load; here it gets a
//! complete TLS configuration whose verifier only defers the loading.)

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_platform_verifier::Verifier;

use super::error::VizportalError;

/// The TLS configuration for these extra roots, or for accepting anything.
pub(crate) fn client_config(
    extra_roots: Vec<CertificateDer<'static>>,
    insecure: bool,
) -> Result<ClientConfig, VizportalError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certificates = match insecure {
        true => Certificates::Any,
        false => Certificates::Platform {
            extra_roots,
            loaded: OnceLock::new(),
        },
    };
    let verifier = Arc::new(ServerTrust {
        provider: provider.clone(),
        certificates,
    });
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| VizportalError::transport("connect", format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The certificates of a PEM file given with `--ca-cert`, each checked to be usable as
/// a root.
pub(crate) fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, VizportalError> {
    let unusable = |problem: String| VizportalError::CaCertificate {
        path: path.to_path_buf(),
        problem,
    };
    let pem =
        crate::file_in::read(path, crate::file_in::SMALL).map_err(|e| unusable(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unusable(format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(unusable("no PEM certificate in the file".to_string()));
    }
    let mut store = RootCertStore::empty();
    for cert in &certs {
        store
            .add(cert.clone())
            .map_err(|e| unusable(format!("not usable as a root certificate: {e}")))?;
    }
    Ok(certs)
}

/// What the client checks of a server: its certificate as [`Certificates`] says, and the
/// handshake's signatures against that certificate with the crypto provider's algorithms
/// (which is how the platform verifier checks them too, so they need no roots).
#[derive(Debug)]
struct ServerTrust {
    provider: Arc<CryptoProvider>,
    certificates: Certificates,
}

#[derive(Debug)]
enum Certificates {
    /// `--insecure`: any certificate for any name.
    Any,
    /// Those the platform's roots and the extra ones vouch for; the platform verifier
    /// (and its roots) is built at its first use.
    Platform {
        extra_roots: Vec<CertificateDer<'static>>,
        loaded: OnceLock<Result<Verifier, rustls::Error>>,
    },
}

impl ServerCertVerifier for ServerTrust {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Certificates::Platform {
            extra_roots,
            loaded,
        } = &self.certificates
        else {
            return Ok(ServerCertVerified::assertion());
        };
        let verifier = loaded
            .get_or_init(|| {
                Verifier::new_with_extra_roots(extra_roots.clone(), self.provider.clone())
            })
            .as_ref()
            .map_err(Clone::clone)?;
        verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
