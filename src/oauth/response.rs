//! The token endpoint's answers, parsed without IO: a grant (`access_token`, `expires_in`) or an
//! OAuth error (`error`, `error_description` with the AADSTS code), and what each means for a
//! run. Error texts carry Microsoft's code and description, never the request's secret.

use std::time::Duration;

use serde::Deserialize;

use super::credential::CredentialError;
use crate::secret::Secret;
use crate::transport::{FailureClass, SendError};

/// A token as the endpoint issued it.
#[derive(Debug)]
pub struct TokenGrant {
    pub access_token: Secret,
    pub expires_in: Duration,
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The endpoint answered with an OAuth error (`invalid_client`, AADSTS7000215, ...).
    #[error(
        "the token endpoint {url} refused the request (HTTP {status}): {error}: {description}"
    )]
    Rejected {
        url: String,
        status: u16,
        error: String,
        description: String,
        retry_after: Option<Duration>,
    },
    /// The endpoint answered something that is neither a token nor an OAuth error.
    #[error("the token endpoint {url} answered HTTP {status} ({content_type}, {length} bytes) instead of a token; check `authority` (default https://login.microsoftonline.com)")]
    Unexpected {
        url: String,
        status: u16,
        content_type: String,
        length: usize,
        retry_after: Option<Duration>,
    },
    /// The endpoint could not be reached or did not answer in time.
    #[error("cannot reach the token endpoint {url}: {cause}")]
    Unreachable { url: String, cause: String },
    /// The certificate or secret could not be used.
    #[error(transparent)]
    Credential(#[from] CredentialError),
}

impl OAuthError {
    /// What the failure means for a run: refusals are fatal, outages and throttling transient.
    pub fn class(&self) -> FailureClass {
        match self {
            OAuthError::Rejected { status, .. } | OAuthError::Unexpected { status, .. }
                if !(*status == 408 || *status == 429 || *status >= 500) =>
            {
                FailureClass::Fatal
            }
            OAuthError::Credential(_) => FailureClass::Fatal,
            _ => FailureClass::Transient,
        }
    }

    /// How long the endpoint asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            OAuthError::Rejected { retry_after, .. }
            | OAuthError::Unexpected { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The failure as a transport sees it: nothing was sent, so never `maybe_delivered`.
    pub fn to_send_error(&self) -> SendError {
        SendError {
            class: self.class(),
            reply: format!("no access token: {self}"),
            retry_after: self.retry_after(),
            maybe_delivered: false,
        }
    }
}

#[derive(Deserialize)]
struct RawGrant {
    access_token: String,
    /// A number, or a number in a string.
    expires_in: serde_json::Value,
}

#[derive(Deserialize)]
struct RawError {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// What the endpoint said, as read off the wire.
pub struct TokenAnswer<'a> {
    pub url: &'a str,
    pub status: u16,
    pub content_type: &'a str,
    pub retry_after: Option<Duration>,
    pub body: &'a [u8],
}

/// Turns the endpoint's answer into a grant or a typed error.
pub fn parse_token_answer(answer: &TokenAnswer<'_>) -> Result<TokenGrant, OAuthError> {
    if answer.status == 200 {
        if let Some(grant) = parse_grant(answer.body) {
            return Ok(grant);
        }
    } else if let Ok(raw) = serde_json::from_slice::<RawError>(answer.body) {
        return Err(OAuthError::Rejected {
            url: answer.url.to_string(),
            status: answer.status,
            error: raw.error,
            description: one_line(&raw.error_description),
            retry_after: answer.retry_after,
        });
    }
    Err(OAuthError::Unexpected {
        url: answer.url.to_string(),
        status: answer.status,
        content_type: answer.content_type.to_string(),
        length: answer.body.len(),
        retry_after: answer.retry_after,
    })
}

/// The longest lifetime believed from `expires_in` (Microsoft issues 60-90 minute tokens). A
/// value near `u64::MAX` seconds would panic the token cache when added to an `Instant`.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

fn parse_grant(body: &[u8]) -> Option<TokenGrant> {
    let raw: RawGrant = serde_json::from_slice(body).ok()?;
    let seconds = match raw.expires_in {
        serde_json::Value::String(t) => t.trim().parse().ok()?,
        n => n.as_u64()?,
    };
    if raw.access_token.is_empty() {
        return None;
    }
    Some(TokenGrant {
        access_token: Secret::new(raw.access_token),
        expires_in: Duration::from_secs(seconds).min(MAX_TOKEN_LIFETIME),
    })
}

/// AAD descriptions contain `\r\n` before the trace and correlation IDs; keep them on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Result<TokenGrant, OAuthError> {
        parse_token_answer(&TokenAnswer {
            url: "https://login.example/t/oauth2/v2.0/token",
            status,
            content_type: "application/json",
            retry_after: None,
            body: body.as_bytes(),
        })
    }

    #[test]
    fn grant_with_numeric_or_text_lifetime() {
        let g = answer(200, r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0"}"#).unwrap();
        assert_eq!(g.access_token.expose(), "eyJ0");
        assert_eq!(g.expires_in, Duration::from_secs(3599));
        let g = answer(200, r#"{"expires_in":"3600","access_token":"x"}"#).unwrap();
        assert_eq!(g.expires_in, Duration::from_secs(3600));
    }

    #[test]
    fn aad_error_keeps_code_and_description_on_one_line() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[7000215]}"#;
        let err = answer(401, body).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("invalid_client: AADSTS7000215: Invalid client secret provided. Trace ID: 1 Correlation ID: 2"), "{text}");
        assert!(text.contains("HTTP 401"));
        assert_eq!(err.class(), FailureClass::Fatal);
    }

    #[test]
    fn throttling_and_outages_are_transient() {
        let err = answer(429, r#"{"error":"temporarily_unavailable"}"#).unwrap_err();
        assert_eq!(err.class(), FailureClass::Transient);
        let err = answer(503, "<html>down</html>").unwrap_err();
        assert!(matches!(err, OAuthError::Unexpected { status: 503, .. }));
        assert_eq!(err.class(), FailureClass::Transient);
    }

    #[test]
    fn non_token_success_is_fatal_and_shows_no_body() {
        let err = answer(200, "<html>sign in page with s3cret echoed</html>").unwrap_err();
        assert_eq!(err.class(), FailureClass::Fatal);
        assert!(!err.to_string().contains("s3cret"));
        assert!(err.to_string().contains("check `authority`"));
        assert!(answer(200, r#"{"access_token":"","expires_in":1}"#).is_err());
    }

    #[test]
    fn huge_expires_in_is_capped() {
        // fuzz/regressions/replies/token-expires-in-u64-max: `requested_at + expires_in` in the
        // token cache panicked on this answer.
        let g = answer(
            200,
            r#"{"access_token":"eyJ0","expires_in":18446744073709551615}"#,
        )
        .unwrap();
        assert_eq!(g.expires_in, MAX_TOKEN_LIFETIME);
        assert!(std::time::Instant::now()
            .checked_add(g.expires_in)
            .is_some());
    }

    #[test]
    fn send_error_is_never_maybe_delivered() {
        let err = answer(
            400,
            r#"{"error":"invalid_scope","error_description":"AADSTS70011"}"#,
        )
        .unwrap_err();
        let send = err.to_send_error();
        assert_eq!(send.class, FailureClass::Fatal);
        assert!(!send.maybe_delivered);
        assert!(send.reply.starts_with("no access token: "));
    }
}
