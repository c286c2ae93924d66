//! Whom the socket trusts over `wss://`: the public authorities (webpki-roots, the same list
//! reqwest's rustls uses for the API), plus the community's own certificate when the app gives one.

use std::sync::Arc;

use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;

use crate::ClientError;

/// The TLS set-up of the realtime socket.
pub(crate) struct TlsConfig {
    config: Arc<rustls::ClientConfig>,
}

impl TlsConfig {
    /// The public authorities, and those in `extra_pem` if given.
    pub(crate) fn new(extra_pem: Option<&str>) -> Result<TlsConfig, ClientError> {
        let invalid = |what: String| ClientError::Invalid { message: what };
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = extra_pem {
            let mut added = 0;
            for certificate in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let certificate = certificate
                    .map_err(|e| invalid(format!("the certificate does not read as PEM: {e}")))?;
                roots
                    .add(certificate)
                    .map_err(|e| invalid(format!("the certificate is not usable: {e}")))?;
                added += 1;
            }
            if added == 0 {
                return Err(invalid("the PEM text holds no certificate".into()));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsConfig {
            config: Arc::new(config),
        })
    }

    /// The connector for `tokio-tungstenite`.
    pub(crate) fn connector(&self) -> tokio_tungstenite::Connector {
        tokio_tungstenite::Connector::Rustls(Arc::clone(&self.config))
    }
}
