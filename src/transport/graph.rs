//! Microsoft Graph transport: `POST {graph_url}/v1.0/users/{sender}/sendMail` with the rendered
//! message base64-encoded as a `text/plain` body (Graph's MIME form), so recipients get exactly
//! the previewed bytes. An app-only token comes from [`TokenProvider`]; a `401` gets one fresh
//! token, then stops the run. At most [`DEFAULT_MAX_CONCURRENT`] requests per mailbox are in
//! flight (Exchange's per-mailbox concurrency limit for Graph).
//!
//! Graph saves every message sent in MIME form to the sender's Sent Items; the JSON form's
//! `saveToSentItems` has no MIME equivalent (see [`config_warnings`]).

mod body;
mod classify;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use tokio::sync::Semaphore;
use url::Url;

pub use classify::{
    classify, parse_error_body, parse_retry_after, reply_text, ErrorDetail, GraphAnswer, Verdict,
};

use super::{Accepted, BoxFuture, Envelope, FailureClass, SendError, Transport};
use crate::config::{Config, ConfigError};
use crate::inputs::address;
use crate::oauth::{self, AccessToken, BaseUrlError, OAuthSettings, TokenProvider};
use body::TrackedBody;

/// Requests in flight per mailbox (Exchange allows 4 concurrent Graph requests per mailbox).
pub const DEFAULT_MAX_CONCURRENT: usize = 4;

/// Where and as whom the Graph transport sends.
#[derive(Debug, Clone)]
pub struct GraphSettings {
    /// `https://graph.microsoft.com` or a national cloud's Graph endpoint.
    pub graph_url: String,
    /// The sending mailbox's UPN or object ID.
    pub sender: String,
    /// Time allowed for one request, token excluded.
    pub timeout: Duration,
    pub max_concurrent: usize,
}

impl GraphSettings {
    /// The `sendMail` URL of the sender.
    pub fn send_url(&self) -> Result<Url, url::ParseError> {
        let mut url = Url::parse(&self.graph_url)?;
        url.path_segments_mut()
            .map_err(|_| url::ParseError::RelativeUrlWithCannotBeABaseBase)?
            .pop_if_empty()
            .extend(["v1.0", "users", self.sender.as_str(), "sendMail"]);
        Ok(url)
    }

    /// The token scope for this Graph endpoint: `{graph_url}/.default`.
    pub fn scope(&self) -> String {
        graph_scope(&self.graph_url)
    }
}

/// The app-only token scope for the Graph endpoint at `graph_url`: `{graph_url}/.default`.
pub fn graph_scope(graph_url: &str) -> String {
    format!("{}/.default", graph_url.trim_end_matches('/'))
}

/// One problem with the Graph keys of `[transport]`, a complete sentence naming the key and the
/// fix. The [`BaseUrlError`] is already part of the sentence, so it is not a `#[source]` (an
/// error chain would print it twice).
#[derive(Debug, thiserror::Error)]
pub enum GraphConfigError {
    #[error(
        "[transport] sender is missing; set it to the UPN of the mailbox that sends the notices"
    )]
    SenderMissing,
    #[error("[transport] sender `{0}` is not a mailbox address; write the mailbox's UPN, like it-migration@fabrikam.com")]
    SenderNotMailbox(String),
    #[error("[transport] graph_url `{graph_url}` {why}")]
    BadGraphUrl {
        graph_url: String,
        why: BaseUrlError,
    },
}

/// Why [`GraphTransport::new`] could not build the transport.
#[derive(Debug, thiserror::Error)]
pub enum GraphBuildError {
    #[error(transparent)]
    SendUrl(#[from] url::ParseError),
    #[error(transparent)]
    HttpClient(#[from] reqwest::Error),
}

/// Sends through Microsoft Graph. Safe to share between tasks.
pub struct GraphTransport {
    http: reqwest::Client,
    send_url: Url,
    sender: String,
    tokens: Arc<TokenProvider>,
    permits: Semaphore,
    max_concurrent: usize,
}

impl GraphTransport {
    /// A transport for `settings`, taking tokens (scope `settings.scope()`) from `tokens`.
    pub fn new(
        settings: &GraphSettings,
        tokens: Arc<TokenProvider>,
    ) -> Result<GraphTransport, GraphBuildError> {
        let send_url = settings.send_url()?;
        Ok(GraphTransport {
            http: oauth::http_client(settings.timeout)?,
            send_url,
            sender: settings.sender.clone(),
            tokens,
            permits: Semaphore::new(settings.max_concurrent.max(1)),
            max_concurrent: settings.max_concurrent.max(1),
        })
    }

    /// Builds the transport from `[transport]` (kind = "graph"), reading the secret or the
    /// certificate. Returns the warnings the admin should see (see [`config_warnings`]);
    /// every problem found is a [`ConfigError::Invalid`] (exit status 2).
    pub fn from_config(config: &Config) -> Result<(GraphTransport, Vec<String>), ConfigError> {
        let invalid = |problems: Vec<String>| ConfigError::Invalid {
            path: config.path.clone(),
            problems,
        };
        let mut settings = graph_settings(&config.transport).map_err(|p| invalid(texts(&p)))?;
        let wanted = config.pacing.concurrency.max(1) as usize;
        settings.max_concurrent = settings.max_concurrent.min(wanted);
        let oauth = OAuthSettings::from_config(&config.transport, &settings.scope())
            .map_err(|p| invalid(texts(&p)))?;
        let tokens = TokenProvider::new(oauth).map_err(|e| invalid(vec![e.to_string()]))?;
        let transport = GraphTransport::new(&settings, Arc::new(tokens))
            .map_err(|e| invalid(vec![format!("[transport] {e}")]))?;
        Ok((transport, config_warnings(config)))
    }

    async fn deliver(&self, message: &[u8]) -> Result<Accepted, SendError> {
        let _permit = self.permits.acquire().await.map_err(|_| {
            SendError::new(FailureClass::Fatal, "the Graph transport was shut down")
        })?;
        let body = Bytes::from(STANDARD.encode(message));
        let token = self.tokens.token().await.map_err(|e| e.to_send_error())?;
        let refused = match self.attempt(&token, body.clone(), message.len()).await {
            Verdict::Accepted(accepted) => return Ok(accepted),
            Verdict::Failed(error) => return Err(error),
            Verdict::Unauthorized(reply) => reply,
        };
        tracing::info!("graph: {refused}; getting a fresh token and trying once more");
        self.tokens.invalidate(&token).await;
        let fresh = self.tokens.token().await.map_err(|e| e.to_send_error())?;
        match self.attempt(&fresh, body, message.len()).await {
            Verdict::Accepted(accepted) => Ok(accepted),
            Verdict::Failed(error) => Err(error),
            Verdict::Unauthorized(reply) => Err(SendError::new(
                FailureClass::Fatal,
                format!("{reply}; a fresh token was refused too: check the app's Mail.Send application permission, admin consent, and the tenant_id/client_id"),
            )),
        }
    }

    /// One request; a request that got no answer is a [`Verdict::Failed`] too.
    async fn attempt(&self, token: &AccessToken, body: Bytes, message_len: usize) -> Verdict {
        let request_id = oauth::random_guid();
        tracing::debug!(
            "graph: POST {} (Authorization: Bearer <redacted>, Content-Type: text/plain, client-request-id: {request_id}, {} bytes = base64 of {message_len} bytes of MIME)",
            self.send_url,
            body.len()
        );
        let (tracked, taken) = TrackedBody::new(body);
        let response = self
            .http
            .post(self.send_url.clone())
            .header(AUTHORIZATION, bearer(token))
            .header(CONTENT_TYPE, "text/plain")
            .header("client-request-id", request_id.as_str())
            .body(reqwest::Body::wrap(tracked))
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => return Verdict::Failed(no_answer(&e, taken.load(Ordering::SeqCst))),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(b) => b,
            // 202 has no body worth reading: the status alone says the message was taken.
            Err(_) if status == 202 => Bytes::new(),
            Err(e) => return Verdict::Failed(no_answer(&e, true)),
        };
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let answer = GraphAnswer {
            status,
            retry_after: header("retry-after"),
            request_id: header("request-id"),
            body: &body,
        };
        let verdict = classify(&answer, SystemTime::now());
        log_verdict(&verdict);
        verdict
    }
}

/// The admin's sentences for `problems`, as [`ConfigError::Invalid`] holds them.
fn texts(problems: &[impl std::fmt::Display]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

/// The `Authorization` header for `token`, marked sensitive so no log of the request shows it.
pub fn bearer(token: &AccessToken) -> HeaderValue {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.secret().expose()))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid-token-characters"));
    value.set_sensitive(true);
    value
}

fn log_verdict(verdict: &Verdict) {
    match verdict {
        Verdict::Accepted(a) => tracing::debug!("graph: <- {}", a.reply),
        Verdict::Unauthorized(reply) => tracing::debug!("graph: <- {reply}"),
        Verdict::Failed(e) => tracing::debug!("graph: <- {} ({:?})", e.reply, e.class),
    }
}

/// A request that got no HTTP answer. If the connection had taken the body, Graph may have
/// sent the message.
fn no_answer(err: &reqwest::Error, body_taken: bool) -> SendError {
    let what = if err.is_timeout() {
        "no answer in time"
    } else {
        "no answer"
    };
    let reply = format!("{what} from Microsoft Graph: {}", oauth::error_chain(err));
    SendError {
        maybe_delivered: body_taken && !err.is_connect(),
        ..SendError::new(FailureClass::Transient, reply)
    }
}

impl Transport for GraphTransport {
    fn send<'a>(
        &'a self,
        _envelope: &'a Envelope,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Accepted, SendError>> {
        // Graph takes the recipients from the message's To/Cc/Bcc headers, not an envelope.
        Box::pin(self.deliver(message))
    }

    fn max_in_flight(&self) -> usize {
        self.max_concurrent
    }

    fn describe(&self) -> String {
        format!(
            "graph:{} as {}",
            self.send_url.origin().ascii_serialization(),
            self.sender
        )
    }
}

/// Checks the Graph keys of `[transport]` (sender, graph_url).
pub fn graph_settings(
    t: &crate::config::Transport,
) -> Result<GraphSettings, Vec<GraphConfigError>> {
    let mut problems = Vec::new();
    let sender = t.sender.as_deref().map(str::trim).unwrap_or("");
    if sender.is_empty() {
        problems.push(GraphConfigError::SenderMissing);
    } else if !address::is_guid(sender) && address::check_email(sender).is_err() {
        problems.push(GraphConfigError::SenderNotMailbox(sender.to_string()));
    }
    let graph_url =
        oauth::checked_base_url(&t.graph_url).map_err(|why| GraphConfigError::BadGraphUrl {
            graph_url: t.graph_url.clone(),
            why,
        });
    match graph_url {
        Ok(graph_url) if problems.is_empty() => Ok(GraphSettings {
            graph_url,
            sender: sender.to_string(),
            timeout: Duration::from_secs(t.timeout_secs.max(1)),
            max_concurrent: DEFAULT_MAX_CONCURRENT,
        }),
        Ok(_) => Err(problems),
        Err(p) => {
            problems.push(p);
            Err(problems)
        }
    }
}

/// What the admin should know before a Graph run, without stopping it.
pub fn config_warnings(config: &Config) -> Vec<String> {
    let t = &config.transport;
    let mut warnings = Vec::new();
    if !t.save_to_sent_items {
        warnings.push("[transport] save_to_sent_items = false cannot be honoured: Microsoft Graph saves every message sent in MIME form to the sender's Sent Items (t2t-notify sends MIME so people get exactly the previewed message); expect one copy per user in that folder, or set save_to_sent_items = true to acknowledge this".into());
    }
    let from = address::parse_mailbox(&config.message.from)
        .ok()
        .map(|m| m.email.to_string());
    if let (Some(from), Some(sender)) = (from, t.sender.as_deref()) {
        if !from.eq_ignore_ascii_case(sender.trim()) && !address::is_guid(sender.trim()) {
            warnings.push(format!("[message] from `{from}` differs from [transport] sender `{}`: Graph answers ErrorSendAsDenied unless that mailbox has Send As rights on `{from}`", sender.trim()));
        }
    }
    if config.pacing.concurrency as usize > DEFAULT_MAX_CONCURRENT {
        warnings.push(format!("[pacing] concurrency = {} is more than the {DEFAULT_MAX_CONCURRENT} requests Microsoft Graph takes per mailbox at a time; t2t-notify sends {DEFAULT_MAX_CONCURRENT} at a time", config.pacing.concurrency));
    }
    warnings.extend(oauth::key_file_warnings(t));
    warnings
}

#[cfg(test)]
mod tests;
