//! HTTPS for the emulator. Real Tableau servers sit behind TLS, and a client's certificate
//! handling (a private CA, `--insecure`, `Secure` cookies) needs a server that speaks it.
//! rustls with the ring provider, the same stack the client's reqwest uses.

use std::fmt;
use std::io;
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{ServerConfig, version};

/// A server certificate chain and its private key, for
/// [`EmulatorConfig::tls`](super::EmulatorConfig::tls), checked and ready to serve.
#[derive(Clone)]
pub struct TlsIdentity {
    config: Arc<ServerConfig>,
    certificates: usize,
}

impl TlsIdentity {
    /// From PEM text: `cert_chain` holds the server certificate first, then any
    /// intermediates; `key` holds its private key (PKCS#8, PKCS#1 or SEC1). Fails when
    /// either cannot be read or the key does not belong to the certificate.
    pub fn from_pem(cert_chain: &[u8], key: &[u8]) -> io::Result<TlsIdentity> {
        let chain = CertificateDer::pem_slice_iter(cert_chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("cannot read the certificate PEM: {e}")))?;
        if chain.is_empty() {
            return Err(invalid(
                "the certificate PEM holds no CERTIFICATE".to_owned(),
            ));
        }
        let certificates = chain.len();
        let key = PrivateKeyDer::from_pem_slice(key)
            .map_err(|e| invalid(format!("cannot read the private key PEM: {e}")))?;
        let provider = Arc::new(ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&version::TLS13, &version::TLS12])
            .map_err(|e| invalid(format!("cannot set up TLS: {e}")))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| invalid(format!("the TLS certificate and key do not fit: {e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsIdentity {
            config: Arc::new(config),
            certificates,
        })
    }

    /// An acceptor serving this identity over TLS 1.2 and 1.3, HTTP/1.1 only.
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(Arc::clone(&self.config))
    }
}

/// Leaves the key out.
impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("certificates", &self.certificates)
            .field("key", &"(redacted)")
            .finish()
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}
