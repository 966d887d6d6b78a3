//! What the app proves its identity with: a client secret from the environment, or an X.509
//! certificate and its RSA private key read from PEM files. Nothing here prints a secret or a
//! key; `Debug` shows only public facts (the certificate thumbprints).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::digest;
use ring::rand::SystemRandom;
use ring::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::secret::{Secret, SecretError};

/// How the app authenticates to the token endpoint. `Debug` shows no secret: [`Secret`] and
/// [`CertificateCredential`] redact theirs.
#[derive(Clone, Debug)]
pub enum Credential {
    /// `client_secret`, read from the environment variable named by `client_secret_env`.
    ClientSecret(Secret),
    /// A JWT client assertion signed with the certificate's private key.
    Certificate(Arc<CertificateCredential>),
}

impl Credential {
    /// `client secret` or `certificate <x5t>`, for logs.
    pub fn describe(&self) -> String {
        match self {
            Credential::ClientSecret(_) => "client secret".into(),
            Credential::Certificate(c) => format!("certificate x5t={}", c.x5t()),
        }
    }
}

/// A certificate (its thumbprints) and the RSA key that signs client assertions.
pub struct CertificateCredential {
    key: RsaKeyPair,
    x5t: String,
    x5t_s256: String,
}

impl fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateCredential")
            .field("x5t", &self.x5t)
            .field("x5t#S256", &self.x5t_s256)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Why the credential could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: no PEM certificate (-----BEGIN CERTIFICATE-----) found; export the certificate as Base64-encoded X.509 (.cer/.pem), or from a .pfx with `openssl pkcs12 -in app.pfx -clcerts -nokeys -out cert.pem`")]
    NoCertificate { path: PathBuf },
    #[error("{path}: the private key is encrypted; t2t-notify needs an unencrypted PEM key (`openssl pkcs8 -in key.pem -out plain-key.pem`, then `chmod 600 plain-key.pem`)")]
    EncryptedKey { path: PathBuf },
    #[error("{path}: no PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----) found; from a .pfx: `openssl pkcs12 -in app.pfx -nocerts -nodes -out key.pem`")]
    NoKey { path: PathBuf },
    #[error("{path}: the private key is not an RSA key ({kind}); Microsoft Entra certificate credentials need RSA (2048 bits or more)")]
    NotRsa { path: PathBuf, kind: &'static str },
    #[error("{path}: the RSA private key was rejected ({reason}); it must be RSA with 2048 to 8192 bits")]
    BadKey { path: PathBuf, reason: String },
    #[error("{key}: this private key does not belong to the certificate {cert}; use the key the certificate was issued for")]
    KeyMismatch { key: PathBuf, cert: PathBuf },
    #[error("cannot sign the client assertion with the private key")]
    Sign,
}

impl CertificateCredential {
    /// Reads the certificate and key PEM files (they may be the same file).
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Self, CredentialError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| CredentialError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        Self::from_pem(&read(cert_path)?, cert_path, &read(key_path)?, key_path)
    }

    /// Builds the credential from PEM text; the paths only name the files in errors.
    pub fn from_pem(
        cert_pem: &[u8],
        cert_path: &Path,
        key_pem: &[u8],
        key_path: &Path,
    ) -> Result<Self, CredentialError> {
        let cert = CertificateDer::from_pem_slice(cert_pem).map_err(|_| {
            CredentialError::NoCertificate {
                path: cert_path.to_path_buf(),
            }
        })?;
        let key = parse_key(key_pem, key_path)?;
        let public = key.public_key().as_ref();
        if memchr::memmem::find(cert.as_ref(), public).is_none() {
            return Err(CredentialError::KeyMismatch {
                key: key_path.to_path_buf(),
                cert: cert_path.to_path_buf(),
            });
        }
        Ok(CertificateCredential {
            x5t: thumbprint(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert.as_ref()),
            x5t_s256: thumbprint(&digest::SHA256, cert.as_ref()),
            key,
        })
    }

    /// Base64url SHA-1 thumbprint of the certificate's DER encoding (JWT header `x5t`).
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// Base64url SHA-256 thumbprint of the certificate's DER encoding (JWT header `x5t#S256`).
    pub fn x5t_s256(&self) -> &str {
        &self.x5t_s256
    }

    /// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature of `message`.
    pub fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, CredentialError> {
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| CredentialError::Sign)?;
        Ok(signature)
    }
}

fn thumbprint(algorithm: &'static digest::Algorithm, der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(algorithm, der))
}

fn parse_key(pem: &[u8], path: &Path) -> Result<RsaKeyPair, CredentialError> {
    let path_buf = || path.to_path_buf();
    if memchr::memmem::find(pem, b"ENCRYPTED PRIVATE KEY").is_some()
        || memchr::memmem::find(pem, b"Proc-Type: 4,ENCRYPTED").is_some()
    {
        return Err(CredentialError::EncryptedKey { path: path_buf() });
    }
    let key = PrivateKeyDer::from_pem_slice(pem)
        .map_err(|_| CredentialError::NoKey { path: path_buf() })?;
    let not_rsa = |kind| CredentialError::NotRsa {
        path: path_buf(),
        kind,
    };
    let parsed = match &key {
        PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
        PrivateKeyDer::Sec1(_) => return Err(not_rsa("an EC key")),
        _ => return Err(not_rsa("an unknown key type")),
    };
    parsed.map_err(|e| match e.to_string().as_str() {
        "WrongAlgorithm" => not_rsa("a PKCS#8 key of another algorithm"),
        reason => CredentialError::BadKey {
            path: path_buf(),
            reason: reason.to_string(),
        },
    })
}

#[cfg(test)]
mod tests;
