//! TLS for the store's connections (R-SAFE-9): rustls with the ring provider, verifying the server's
//! certificate chain and name against roots the host chooses.
//!
//! The crypto provider is handed to rustls in the client configuration, never installed process-wide:
//! a library that installed one would decide for every other rustls user in the host, or fail because
//! the host already chose another. ring keeps the dependency tree free of C TLS libraries.

use std::fmt;
use std::sync::Arc;

use refresh_rotation::error::StoreError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

/// How the store's connections are encrypted: TLS 1.2 or 1.3 through rustls with ring, with the
/// server's certificate verified against the given roots and its name against the host of the
/// connection string (as libpq's `sslmode=verify-full`).
///
/// Give it to [`PgStoreBuilder::tls`](crate::PgStoreBuilder::tls); the store then requires TLS and never
/// falls back to a plain connection. Without it the store connects in plain text, which is for loopback
/// and private networks only.
#[derive(Clone)]
pub struct PgTls {
    pub(crate) connector: MakeRustlsConnect,
}

impl fmt::Debug for PgTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PgTls")
    }
}

fn config_error(what: &str, e: impl fmt::Display) -> StoreError {
    StoreError::Backend(format!("TLS configuration: {what}: {e}"))
}

impl PgTls {
    /// Verifies the server against `roots` (for example the certificate authority of a private PKI, or
    /// a managed database's published CA).
    pub fn with_roots(roots: RootCertStore) -> Result<PgTls, StoreError> {
        if roots.is_empty() {
            return Err(StoreError::Backend(
                "TLS configuration: no root certificate to verify the server against".to_owned(),
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error("protocol versions", e))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(PgTls::from_client_config(config))
    }

    /// Verifies the server against the certificate authorities in `pem` (one or more `CERTIFICATE`
    /// blocks, as in the PEM file libpq's `sslrootcert` names). Fails if there is none or one does not
    /// parse.
    pub fn from_pem(pem: &[u8]) -> Result<PgTls, StoreError> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| config_error("CA certificate PEM", e))?;
            roots
                .add(cert)
                .map_err(|e| config_error("CA certificate", e))?;
        }
        PgTls::with_roots(roots)
    }

    /// Verifies the server against Mozilla's root certificates (the `webpki-roots` crate): for a
    /// database whose certificate chains to a public certificate authority.
    #[cfg(feature = "webpki-roots")]
    pub fn webpki_roots() -> Result<PgTls, StoreError> {
        PgTls::with_roots(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        })
    }

    /// Uses a rustls configuration built by the host, for what the constructors above do not cover
    /// (a client certificate, other protocol versions). Its crypto provider and its certificate
    /// verifier are the host's choice and responsibility.
    pub fn from_client_config(config: ClientConfig) -> PgTls {
        PgTls {
            connector: MakeRustlsConnect::new(config),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_safe_9_tls_configuration_errors_are_errors() {
        assert!(matches!(PgTls::from_pem(b""), Err(StoreError::Backend(_))));
        assert!(matches!(
            PgTls::from_pem(
                b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"
            ),
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            PgTls::from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            Err(StoreError::Backend(_))
        ));
        assert!(PgTls::with_roots(RootCertStore::empty()).is_err());
    }
}
