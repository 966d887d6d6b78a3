//! HTTPS for a dashboard that listens beyond loopback: the certificate chain and private key
//! of `[dashboard] tls_cert` and `tls_key` (PEM), served with rustls and its ring provider,
//! TLS 1.2 and 1.3 only.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The acceptor for `cert` and `key`; errors name the file and what to fix.
pub fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .with_context(|| {
            format!(
                "[dashboard] tls_cert {}: cannot read a PEM certificate chain from it",
                cert.display()
            )
        })?;
    if chain.is_empty() {
        anyhow::bail!(
            "[dashboard] tls_cert {} has no certificate (expected PEM `-----BEGIN CERTIFICATE-----` blocks)",
            cert.display()
        );
    }
    let private = PrivateKeyDer::from_pem_file(key).with_context(|| {
        format!(
            "[dashboard] tls_key {}: cannot read a PEM private key from it (PKCS#8, PKCS#1 or SEC1)",
            key.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .with_context(|| {
            format!(
                "[dashboard] tls_cert {} and tls_key {} do not make a usable pair",
                cert.display(),
                key.display()
            )
        })?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
