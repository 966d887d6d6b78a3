//! OAuth2 for Microsoft 365: app-only access tokens from the Microsoft identity platform's
//! client-credentials grant, with a client secret or a certificate (signed JWT assertion).
//! Used by the Graph transport (scope `{graph_url}/.default`) and by SMTP with
//! `auth = "xoauth2"` (scope [`OUTLOOK_SCOPE`]). Secrets and tokens are [`Secret`]s: never logged,
//! never in `Debug` output.
//!
//! [`Secret`]: crate::secret::Secret

mod assertion;
mod credential;
mod provider;
mod response;
mod settings;

use std::time::Duration;

pub use assertion::{client_assertion, random_guid, ASSERTION_TYPE};
pub use credential::{CertificateCredential, Credential, CredentialError};
pub use provider::{needs_refresh, AccessToken, TokenProvider, DEFAULT_REFRESH_MARGIN};
pub use response::{parse_token_answer, OAuthError, TokenAnswer, TokenGrant};
pub use settings::{
    checked_base_url, key_file_warnings, token_url, BaseUrlError, OAuthConfigError, OAuthSettings,
    OUTLOOK_SCOPE,
};

/// The HTTPS client for Microsoft's endpoints: rustls, no redirects (a redirect would carry
/// the request elsewhere), a total timeout per request.
pub fn http_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("t2t-notify/", env!("CARGO_PKG_VERSION")))
        .build()
}

pub use crate::diag::error_chain;
