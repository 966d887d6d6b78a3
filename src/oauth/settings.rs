//! The OAuth keys of `[transport]` checked and turned into [`OAuthSettings`]: tenant, client ID,
//! exactly one credential (a secret from the environment, or a certificate and key), and the
//! token endpoint URL. Every problem is reported, each naming its key and the fix.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::credential::{CertificateCredential, Credential, CredentialError};
use crate::config;
use crate::inputs::address;
use crate::secret::{Secret, SecretError};

/// Scope of an app-only token for SMTP AUTH XOAUTH2 in Exchange Online.
pub const OUTLOOK_SCOPE: &str = "https://outlook.office365.com/.default";

/// Everything the token provider needs.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub token_url: Url,
    pub client_id: String,
    /// `https://graph.microsoft.com/.default` or [`OUTLOOK_SCOPE`].
    pub scope: String,
    pub credential: Credential,
    /// Time allowed for one token request.
    pub timeout: Duration,
}

/// One problem with the OAuth keys of `[transport]`, a complete sentence naming the key and
/// the fix. The causes held here are already part of that sentence, so none is marked
/// `#[source]` (nor named `source`): an error chain would print them twice.
#[derive(Debug, thiserror::Error)]
pub enum OAuthConfigError {
    #[error("[transport] {key} is missing; set it to {what}")]
    Missing {
        key: &'static str,
        what: &'static str,
    },
    #[error("[transport] tenant_id `{0}` is neither a GUID nor a domain name; copy the Directory (tenant) ID from the app registration's Overview")]
    BadTenant(String),
    #[error("[transport] client_id `{0}` is not a GUID; copy the Application (client) ID from the app registration's Overview")]
    BadClientId(String),
    #[error("[transport] authority `{authority}` {why}")]
    BadAuthority {
        authority: String,
        why: BaseUrlError,
    },
    #[error("[transport] set either client_secret_env or certificate + private_key, not both")]
    BothCredentials,
    #[error("[transport] client_secret_env: {0}")]
    SecretEnv(SecretError),
    #[error("[transport] certificate/private_key: {0}")]
    Certificate(CredentialError),
    #[error("[transport] certificate is set but private_key is missing; set private_key to the PEM file of the certificate's RSA key")]
    CertificateWithoutKey,
    #[error("[transport] private_key is set but certificate is missing; set certificate to the PEM file uploaded to the app registration")]
    KeyWithoutCertificate,
    #[error("[transport] no credential: set client_secret_env to the name of the environment variable holding the client secret, or certificate and private_key to PEM files")]
    NoCredential,
}

impl OAuthSettings {
    /// Reads the OAuth keys of `[transport]`, the secret's environment variable and the PEM
    /// files. Returns every problem found.
    pub fn from_config(
        t: &config::Transport,
        scope: &str,
    ) -> Result<OAuthSettings, Vec<OAuthConfigError>> {
        let mut problems = Vec::new();
        let tenant = required(&t.tenant_id, "tenant_id", "the Directory (tenant) ID of the app registration, or the tenant's onmicrosoft.com domain", &mut problems);
        if let Some(tenant) = tenant.filter(|t| !is_tenant(t)) {
            problems.push(OAuthConfigError::BadTenant(tenant.to_string()));
        }
        let client_id = required(
            &t.client_id,
            "client_id",
            "the Application (client) ID of the app registration",
            &mut problems,
        );
        if let Some(id) = client_id.filter(|id| !address::is_guid(id)) {
            problems.push(OAuthConfigError::BadClientId(id.to_string()));
        }
        let token_url = tenant.and_then(|tenant| match token_url(&t.authority, tenant) {
            Ok(url) => Some(url),
            Err(why) => {
                problems.push(OAuthConfigError::BadAuthority {
                    authority: t.authority.clone(),
                    why,
                });
                None
            }
        });
        let credential = credential(t, &mut problems);
        match (token_url, client_id, credential) {
            (Some(token_url), Some(client_id), Some(credential)) if problems.is_empty() => {
                Ok(OAuthSettings {
                    token_url,
                    client_id: client_id.to_string(),
                    scope: scope.to_string(),
                    credential,
                    timeout: Duration::from_secs(t.timeout_secs.max(1)),
                })
            }
            _ => Err(problems),
        }
    }
}

fn required<'a>(
    value: &'a Option<String>,
    key: &'static str,
    what: &'static str,
    problems: &mut Vec<OAuthConfigError>,
) -> Option<&'a str> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Some(v),
        _ => {
            problems.push(OAuthConfigError::Missing { key, what });
            None
        }
    }
}

fn is_tenant(tenant: &str) -> bool {
    address::is_guid(tenant)
        || (tenant.contains('.')
            && tenant
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'))
}

/// `{authority}/{tenant}/oauth2/v2.0/token`, with the authority checked to be HTTPS (plain HTTP
/// only on the loopback interface, for tests).
pub fn token_url(authority: &str, tenant: &str) -> Result<Url, BaseUrlError> {
    let base = checked_base_url(authority)?;
    Url::parse(&format!("{base}/{tenant}/oauth2/v2.0/token")).map_err(BaseUrlError::NoTokenUrl)
}

/// Why a service base URL (`authority`, `graph_url`) cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaseUrlError {
    #[error("is not a URL ({0})")]
    NotAUrl(#[source] url::ParseError),
    #[error("must start with https:// (secrets and tokens never travel unencrypted)")]
    NotHttps,
    #[error("must not have a query or fragment")]
    QueryOrFragment,
    #[error("gives no valid token URL ({0})")]
    NoTokenUrl(#[source] url::ParseError),
}

/// Parses a service base URL (`authority`, `graph_url`): HTTPS, or HTTP on loopback only.
/// Returns it without a trailing slash.
pub fn checked_base_url(text: &str) -> Result<String, BaseUrlError> {
    let url = Url::parse(text.trim()).map_err(BaseUrlError::NotAUrl)?;
    let loopback = matches!(
        url.host(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback()
    ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || url.host_str() == Some("localhost");
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(BaseUrlError::NotHttps),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(BaseUrlError::QueryOrFragment);
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn credential(t: &config::Transport, problems: &mut Vec<OAuthConfigError>) -> Option<Credential> {
    let by_secret = t
        .client_secret_env
        .as_deref()
        .filter(|s| !s.trim().is_empty());
    let problem = match (by_secret, &t.certificate, &t.private_key) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => OAuthConfigError::BothCredentials,
        (Some(var), None, None) => match Secret::from_env(var.trim()) {
            Ok(secret) => return Some(Credential::ClientSecret(secret)),
            Err(e) => OAuthConfigError::SecretEnv(e),
        },
        (None, Some(cert), Some(key)) => match CertificateCredential::load(cert, key) {
            Ok(c) => return Some(Credential::Certificate(Arc::new(c))),
            Err(e) => OAuthConfigError::Certificate(e),
        },
        (None, Some(_), None) => OAuthConfigError::CertificateWithoutKey,
        (None, None, Some(_)) => OAuthConfigError::KeyWithoutCertificate,
        (None, None, None) => OAuthConfigError::NoCredential,
    };
    problems.push(problem);
    None
}

/// Warnings about the key file that do not stop a run (a private key others can read).
pub fn key_file_warnings(t: &config::Transport) -> Vec<String> {
    let Some(key) = &t.private_key else {
        return Vec::new();
    };
    match crate::platform::loose_permissions(key) {
        Some(mode) => vec![format!(
            "[transport] private_key {}: mode {mode:o} lets other users read the key; run `chmod 600 {}`",
            key.display(),
            key.display()
        )],
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
