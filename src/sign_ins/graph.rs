//! Fetches every user's last successful sign-in from Microsoft Graph:
//! `GET {graph_url}/v1.0/users?$select=userPrincipalName,signInActivity&$top=999`, following
//! `@odata.nextLink` until a page has none, with an app-only token (scope
//! `{graph_url}/.default`) from [`TokenProvider`]. The app registration needs the application
//! permissions `User.Read.All` and `AuditLog.Read.All` with admin consent, and the tenant a
//! Microsoft Entra ID P1 licence (Graph refuses `signInActivity` without one).
//!
//! Each page is retried on its own: `429`, `503` and `504` wait for `Retry-After` (seconds or an
//! HTTP date), or without it a backoff that doubles from [`RetryPolicy::first_backoff`], then ask
//! for the same page again, at most [`RetryPolicy::max_retries`] times and
//! [`RetryPolicy::max_wait`] of waiting per page (a `Retry-After` beyond what is left stops the
//! fetch rather than waiting part of it). A `401` gets one fresh token per page. Every other
//! answer, and a request that got no answer, stops the fetch with a [`FetchError`].
//!
//! The bearer token goes to `graph_url`'s origin only: a nextLink to another scheme, host or
//! port is refused, and the client follows no redirects ([`oauth::http_client`]).

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION};
use url::Url;

use super::page::{parse_page, FetchedSignIn, PageError};
use crate::oauth::{self, AccessToken, BaseUrlError, OAuthError, OAuthSettings, TokenProvider};
use crate::transport::graph::{
    bearer, graph_scope, parse_error_body, parse_retry_after, reply_text, GraphAnswer,
};

/// The query of the first page: only the two properties read, Graph's largest page.
const USERS_QUERY: &str = "$select=userPrincipalName,signInActivity&$top=999";

/// How long one page may be retried after throttling or an outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries of one page.
    pub max_retries: u32,
    /// Waiting allowed for one page in all.
    pub max_wait: Duration,
    /// The first wait when Graph sends no `Retry-After`; each further one doubles.
    pub first_backoff: Duration,
}

impl RetryPolicy {
    /// 6 retries, 5 minutes per page; backoff 2, 4, 8, 16, 32, 64 seconds.
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        max_retries: 6,
        max_wait: Duration::from_secs(300),
        first_backoff: Duration::from_secs(2),
    };
}

/// Why the users' sign-ins could not be fetched. Each message says what to fix; Graph's status,
/// error code, message and request ID are in `reply`. The causes are part of the sentence, so
/// none is a `#[source]` (an error chain would print them twice).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("graph_url `{graph_url}` {why}")]
    BadGraphUrl {
        graph_url: String,
        why: BaseUrlError,
    },
    #[error("cannot build the HTTPS client for Microsoft Graph: {0}")]
    HttpClient(String),
    #[error("no access token for Microsoft Graph: {0}")]
    Token(OAuthError),
    #[error("no answer from Microsoft Graph for page {page} of the user list: {cause}")]
    Unreachable { page: usize, cause: String },
    #[error("Microsoft Graph refused a fresh token for page {page} of the user list ({reply}); check tenant_id and client_id, and that the app registration's secret or certificate is current")]
    Unauthorized { page: usize, reply: String },
    #[error("Microsoft Graph refused to list the users' sign-in activity ({reply}); give the app registration the application permissions User.Read.All and AuditLog.Read.All and grant admin consent (Entra admin center > App registrations > API permissions); reading signInActivity also needs a Microsoft Entra ID P1 or P2 licence in the tenant")]
    Forbidden { reply: String },
    #[error("Microsoft Graph withholds the users' sign-in activity ({reply}); signInActivity needs a Microsoft Entra ID P1 or P2 licence in the tenant, and the app registration the application permissions User.Read.All and AuditLog.Read.All with admin consent")]
    NoPremiumLicence { reply: String },
    #[error("Microsoft Graph still refused page {page} of the user list after {retries} retries and {waited_secs}s of waiting ({reply}); run again later")]
    Throttled {
        page: usize,
        retries: u32,
        waited_secs: u64,
        reply: String,
    },
    #[error("Microsoft Graph answered page {page} of the user list with {reply}")]
    Status { page: usize, reply: String },
    #[error("page {page} of Microsoft Graph's user list {why}")]
    Malformed { page: usize, why: PageError },
    #[error("page {page} of Microsoft Graph's user list links the next page with `{link}`, which is not a URL ({why})")]
    BadNextLink {
        page: usize,
        link: String,
        why: url::ParseError,
    },
    #[error("page {page} of Microsoft Graph's user list links the next page at {origin}, not at graph_url's {expected}; refusing to send the access token to another host")]
    ForeignNextLink {
        page: usize,
        origin: String,
        expected: String,
    },
    #[error("page {page} of Microsoft Graph's user list links back to a page already read; stopping rather than reading forever")]
    NextLinkLoop { page: usize },
}

/// Reads the sign-in activity of every user of one tenant. `Debug` shows no secret (the token
/// provider redacts its credential).
#[derive(Debug)]
pub struct SignInFetch {
    http: reqwest::Client,
    tokens: TokenProvider,
    /// The first page's URL; its origin is the only one the token is sent to.
    first: Url,
    retry: RetryPolicy,
}

impl SignInFetch {
    /// A fetcher for the Graph endpoint `graph_url` (HTTPS, or HTTP on loopback for tests), with
    /// `timeout` per request. The scope of `settings` is replaced by `{graph_url}/.default`;
    /// its `timeout` applies to token requests.
    pub fn new(
        mut settings: OAuthSettings,
        graph_url: &str,
        timeout: Duration,
    ) -> Result<SignInFetch, FetchError> {
        let bad = |why| FetchError::BadGraphUrl {
            graph_url: graph_url.to_string(),
            why,
        };
        let base = oauth::checked_base_url(graph_url).map_err(bad)?;
        let first = users_url(&base).map_err(|e| bad(BaseUrlError::NotAUrl(e)))?;
        settings.scope = graph_scope(&base);
        let tokens = TokenProvider::new(settings).map_err(FetchError::Token)?;
        let http = oauth::http_client(timeout)
            .map_err(|e| FetchError::HttpClient(oauth::error_chain(&e)))?;
        Ok(SignInFetch {
            http,
            tokens,
            first,
            retry: RetryPolicy::DEFAULT,
        })
    }

    /// Every user of the tenant, in Graph's order. Calls `on_page` after each page with the
    /// number of users read so far.
    pub async fn fetch_all(
        &self,
        mut on_page: impl FnMut(usize),
    ) -> Result<Vec<FetchedSignIn>, FetchError> {
        let mut users = Vec::new();
        let mut seen = HashSet::new();
        let mut next = Some(self.first.clone());
        let mut page = 0;
        while let Some(url) = next {
            page += 1;
            if !seen.insert(url.clone()) {
                return Err(FetchError::NextLinkLoop { page: page - 1 });
            }
            let body = self.get_page(&url, page).await?;
            let (batch, link) =
                parse_page(&body).map_err(|why| FetchError::Malformed { page, why })?;
            users.extend(batch);
            on_page(users.len());
            next = link.map(|l| self.next_url(&l, page)).transpose()?;
        }
        Ok(users)
    }

    /// The next page's URL, if it is on graph_url's origin.
    fn next_url(&self, link: &str, page: usize) -> Result<Url, FetchError> {
        let url = Url::parse(link).map_err(|why| FetchError::BadNextLink {
            page,
            link: link.to_string(),
            why,
        })?;
        if url.origin() != self.first.origin() {
            return Err(FetchError::ForeignNextLink {
                page,
                origin: url.origin().ascii_serialization(),
                expected: self.first.origin().ascii_serialization(),
            });
        }
        Ok(url)
    }

    /// The body of one page, retried as the module doc says.
    async fn get_page(&self, url: &Url, page: usize) -> Result<Bytes, FetchError> {
        let mut refreshed = false;
        let mut waits = Waits::new(self.retry);
        loop {
            let token = self.tokens.token().await.map_err(FetchError::Token)?;
            let answer = self.request(url, &token, page).await?;
            match answer.status {
                200 => return Ok(answer.body),
                401 if !refreshed => {
                    tracing::info!(
                        "graph: page {page}: {}; getting a fresh token and asking once more",
                        answer.reply()
                    );
                    self.tokens.invalidate(&token).await;
                    refreshed = true;
                }
                429 | 503 | 504 => {
                    let asked = answer.retry_after.as_deref();
                    let asked = asked.and_then(|v| parse_retry_after(v, SystemTime::now()));
                    let Some(wait) = waits.next(asked) else {
                        return Err(FetchError::Throttled {
                            page,
                            retries: waits.retries,
                            waited_secs: waits.waited.as_secs(),
                            reply: answer.reply(),
                        });
                    };
                    tracing::info!(
                        "graph: page {page}: {}; asking again in {}s (retry {} of {})",
                        answer.reply(),
                        wait.as_secs_f32(),
                        waits.retries,
                        self.retry.max_retries
                    );
                    tokio::time::sleep(wait).await;
                }
                _ => return Err(answer.into_error(page)),
            }
        }
    }

    /// One GET; a request that got no answer is a [`FetchError::Unreachable`].
    async fn request(
        &self,
        url: &Url,
        token: &AccessToken,
        page: usize,
    ) -> Result<PageAnswer, FetchError> {
        let request_id = oauth::random_guid();
        tracing::debug!(
            "graph: GET {url} (Authorization: Bearer <redacted>, client-request-id: {request_id})"
        );
        let unreachable = |e: reqwest::Error| FetchError::Unreachable {
            page,
            cause: oauth::error_chain(&e),
        };
        let response = self
            .http
            .get(url.clone())
            .header(AUTHORIZATION, bearer(token))
            .header(ACCEPT, "application/json")
            .header("client-request-id", request_id.as_str())
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            let value = response.headers().get(name)?.to_str().ok()?;
            Some(value.to_string())
        };
        let (retry_after, request_id) = (header("retry-after"), header("request-id"));
        let body = response.bytes().await.map_err(unreachable)?;
        tracing::debug!("graph: <- HTTP {status} ({} bytes)", body.len());
        Ok(PageAnswer {
            status,
            retry_after,
            request_id,
            body,
        })
    }
}

/// `{graph_url}/v1.0/users?$select=userPrincipalName,signInActivity&$top=999`.
fn users_url(graph_url: &str) -> Result<Url, url::ParseError> {
    let mut url = Url::parse(graph_url)?;
    url.path_segments_mut()
        .map_err(|_| url::ParseError::RelativeUrlWithCannotBeABaseBase)?
        .pop_if_empty()
        .extend(["v1.0", "users"]);
    url.set_query(Some(USERS_QUERY));
    Ok(url)
}

/// Graph's answer to one page request, as read off the wire.
struct PageAnswer {
    status: u16,
    retry_after: Option<String>,
    request_id: Option<String>,
    body: Bytes,
}

impl PageAnswer {
    /// `403 Forbidden: Authorization_RequestDenied: <message> (request-id ...)`.
    fn reply(&self) -> String {
        let answer = GraphAnswer {
            status: self.status,
            retry_after: self.retry_after.as_deref(),
            request_id: self.request_id.as_deref(),
            body: &self.body,
        };
        reply_text(&answer, parse_error_body(&self.body).as_ref())
    }

    /// The error for an answer that is neither a page nor worth retrying.
    fn into_error(self, page: usize) -> FetchError {
        let reply = self.reply();
        match self.status {
            401 => FetchError::Unauthorized { page, reply },
            403 if lacks_premium_licence(&self.body) => FetchError::NoPremiumLicence { reply },
            403 => FetchError::Forbidden { reply },
            _ => FetchError::Status { page, reply },
        }
    }
}

/// Graph's refusal of `signInActivity` in a tenant without Entra ID P1:
/// `Authentication_RequestFromNonPremiumTenantOrB2CTenant`, "Neither tenant is B2C or tenant
/// doesn't have premium license".
fn lacks_premium_licence(body: &[u8]) -> bool {
    parse_error_body(body).is_some_and(|d| {
        d.code.contains("NonPremiumTenant")
            || d.message.to_ascii_lowercase().contains("premium license")
    })
}

/// The waits of one page's retries, within its [`RetryPolicy`].
struct Waits {
    policy: RetryPolicy,
    retries: u32,
    waited: Duration,
}

impl Waits {
    fn new(policy: RetryPolicy) -> Waits {
        Waits {
            policy,
            retries: 0,
            waited: Duration::ZERO,
        }
    }

    /// How long to wait before the next retry (`asked`: Graph's `Retry-After`), or `None` when
    /// the retries or the waiting allowed are used up.
    fn next(&mut self, asked: Option<Duration>) -> Option<Duration> {
        if self.retries >= self.policy.max_retries {
            return None;
        }
        let doubling = 2u32.saturating_pow(self.retries);
        let wait = asked.unwrap_or_else(|| self.policy.first_backoff.saturating_mul(doubling));
        if self.waited + wait > self.policy.max_wait {
            return None;
        }
        self.retries += 1;
        self.waited += wait;
        Some(wait)
    }
}

#[cfg(test)]
mod tests;
