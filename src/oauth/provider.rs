//! The token provider: client-credentials grant against the Microsoft identity platform, one
//! cached token shared by every sender, refreshed a margin before it expires so a run of many
//! hours never presents an expired token. Concurrent callers wait for the one refresh in
//! flight; a token the server refused is dropped with [`TokenProvider::invalidate`].

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::Mutex;

use super::assertion::{client_assertion, random_guid, ASSERTION_TYPE};
use super::credential::Credential;
use super::response::{parse_token_answer, OAuthError, TokenAnswer, TokenGrant};
use super::settings::OAuthSettings;
use crate::secret::Secret;
use crate::transport::FailureClass;

/// Refresh this long before `expires_in` runs out (Microsoft issues 60-90 minute tokens).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// An access token and when to stop using it. `Debug` is redacted (the value is a [`Secret`]).
#[derive(Clone, Debug)]
pub struct AccessToken {
    value: Secret,
    generation: u64,
    expires_at: Instant,
}

impl AccessToken {
    /// The bearer token. Only hand it to the code that authenticates.
    pub fn secret(&self) -> &Secret {
        &self.value
    }

    /// Counts the tokens this provider has issued: 1 for the first, 2 after a refresh, ...
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

#[derive(Default)]
struct Cache {
    token: Option<AccessToken>,
    generation: u64,
}

/// Gets and caches app-only tokens for one scope.
pub struct TokenProvider {
    settings: OAuthSettings,
    http: reqwest::Client,
    cache: Mutex<Cache>,
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("token_url", &self.settings.token_url.as_str())
            .field("client_id", &self.settings.client_id)
            .field("scope", &self.settings.scope)
            .field("credential", &self.settings.credential)
            .finish()
    }
}

/// After a failed refresh: the cached token if it has not actually expired and the failure
/// may pass (outage, throttling), so a hiccup of the token endpoint does not stop sending.
fn still_valid(cached: Option<&AccessToken>, err: OAuthError) -> Result<AccessToken, OAuthError> {
    match cached {
        Some(token)
            if err.class() == FailureClass::Transient && Instant::now() < token.expires_at =>
        {
            tracing::warn!(
                "oauth: refreshing the token failed ({err}); using token {} until it expires",
                token.generation
            );
            Ok(token.clone())
        }
        _ => Err(err),
    }
}

fn unreachable(url: &str, e: &reqwest::Error) -> OAuthError {
    OAuthError::Unreachable {
        url: url.to_string(),
        cause: super::error_chain(e),
    }
}

/// True when a token expiring at `expires_at` should be replaced at `now`.
pub fn needs_refresh(now: Instant, expires_at: Instant, margin: Duration) -> bool {
    now + margin >= expires_at
}

impl TokenProvider {
    /// A provider that refreshes [`DEFAULT_REFRESH_MARGIN`] before expiry. Builds its HTTPS
    /// client (rustls).
    pub fn new(settings: OAuthSettings) -> Result<TokenProvider, OAuthError> {
        let http = super::http_client(settings.timeout)
            .map_err(|e| unreachable(settings.token_url.as_str(), &e))?;
        Ok(TokenProvider {
            settings,
            http,
            cache: Mutex::new(Cache::default()),
        })
    }

    /// The scope tokens are requested for.
    pub fn scope(&self) -> &str {
        &self.settings.scope
    }

    /// A valid token: the cached one, or a new one when it is missing or about to expire.
    pub async fn token(&self) -> Result<AccessToken, OAuthError> {
        let mut cache = self.cache.lock().await;
        if let Some(token) = &cache.token {
            if !needs_refresh(Instant::now(), token.expires_at, DEFAULT_REFRESH_MARGIN) {
                return Ok(token.clone());
            }
        }
        let requested_at = Instant::now();
        let grant = match self.request().await {
            Ok(grant) => grant,
            Err(e) => return still_valid(cache.token.as_ref(), e),
        };
        cache.generation += 1;
        let token = AccessToken {
            value: grant.access_token,
            generation: cache.generation,
            expires_at: requested_at + grant.expires_in,
        };
        tracing::debug!(
            "oauth: token {} for {} issued, expires in {}s",
            token.generation,
            self.settings.scope,
            grant.expires_in.as_secs()
        );
        cache.token = Some(token.clone());
        Ok(token)
    }

    /// Drops `stale` (refused by the server) so the next [`token`](Self::token) fetches a new
    /// one. A token that was already replaced is left alone, so many senders that saw the same
    /// refusal cause one refresh, not many.
    pub async fn invalidate(&self, stale: &AccessToken) {
        let mut cache = self.cache.lock().await;
        if cache
            .token
            .as_ref()
            .is_some_and(|t| t.generation == stale.generation)
        {
            tracing::debug!(
                "oauth: token {} refused by the server, dropped",
                stale.generation
            );
            cache.token = None;
        }
    }

    async fn request(&self) -> Result<TokenGrant, OAuthError> {
        let url = self.settings.token_url.as_str();
        tracing::debug!(
            "oauth: POST {url} grant_type=client_credentials client_id={} scope={} ({}; body redacted)",
            self.settings.client_id,
            self.settings.scope,
            self.settings.credential.describe()
        );
        let form = self.form()?;
        let response = self
            .http
            .post(url)
            .form(&form)
            .send()
            .await
            .map_err(|e| unreachable(url, &e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| unreachable(url, &e))?;
        tracing::debug!(
            "oauth: <- HTTP {status} ({} bytes, body redacted)",
            body.len()
        );
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        parse_token_answer(&TokenAnswer {
            url,
            status,
            content_type: header("content-type"),
            retry_after: crate::transport::graph::parse_retry_after(
                header("retry-after"),
                SystemTime::now(),
            ),
            body: &body,
        })
    }

    /// The form fields of the grant. Holds the secret or the signed assertion.
    fn form(&self) -> Result<Vec<(&'static str, Cow<'_, str>)>, OAuthError> {
        let s = &self.settings;
        let mut form = vec![
            ("client_id", Cow::Borrowed(s.client_id.as_str())),
            ("scope", Cow::Borrowed(s.scope.as_str())),
            ("grant_type", Cow::Borrowed("client_credentials")),
        ];
        match &s.credential {
            Credential::ClientSecret(secret) => {
                form.push(("client_secret", Cow::Borrowed(secret.expose())));
            }
            Credential::Certificate(cert) => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs();
                let jwt = client_assertion(
                    cert,
                    &s.client_id,
                    s.token_url.as_str(),
                    now,
                    &random_guid(),
                )?;
                form.push(("client_assertion_type", Cow::Borrowed(ASSERTION_TYPE)));
                form.push(("client_assertion", Cow::Owned(jwt)));
            }
        }
        Ok(form)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_happens_a_margin_before_expiry() {
        let now = Instant::now();
        let margin = Duration::from_secs(300);
        assert!(!needs_refresh(now, now + Duration::from_secs(3600), margin));
        assert!(!needs_refresh(now, now + Duration::from_secs(301), margin));
        assert!(needs_refresh(now, now + Duration::from_secs(300), margin));
        assert!(needs_refresh(now, now + Duration::from_secs(1), margin));
        assert!(needs_refresh(
            now + Duration::from_secs(3400),
            now + Duration::from_secs(3600),
            margin
        ));
    }

    #[test]
    fn token_debug_is_redacted() {
        let token = AccessToken {
            value: Secret::new("eyJ0eXAi.secret.token"),
            generation: 3,
            expires_at: Instant::now(),
        };
        let shown = format!("{token:?}");
        assert!(!shown.contains("eyJ0"), "{shown}");
        assert!(shown.contains("generation: 3"));
    }
}
