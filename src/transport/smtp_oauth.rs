//! SMTP with OAuth2 (`auth = "xoauth2"`) for Exchange Online: SASL XOAUTH2 with an app-only
//! token (scope [`OUTLOOK_SCOPE`]) from the shared [`TokenProvider`].
//!
//! lettre's pooled transport fixes its credentials when it is built, so [`XOAuth2Smtp`] keeps
//! one lettre transport per token: when the provider hands out a new token (refresh before
//! expiry, or after a refusal) the next message builds a new transport, while messages in
//! flight finish on the old one. A `535` (authentication failed) drops the token and tries
//! once more with a fresh one; a second `535` is fatal for the run.
//!
//! [`OUTLOOK_SCOPE`]: crate::oauth::OUTLOOK_SCOPE

use std::sync::{Arc, Mutex};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, Error as SmtpError};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Accepted, BoxFuture, Envelope, FailureClass, SendError, Transport};
use crate::oauth::{AccessToken, TokenProvider};
use crate::secret::Secret;

/// The lettre transport this module drives.
pub type LettreSmtp = AsyncSmtpTransport<Tokio1Executor>;

/// Turns a lettre error into the run's failure classes. [`classify_smtp_error`] by default;
/// the SMTP transport can pass its own so both kinds of SMTP classify alike.
pub type Classifier = fn(&SmtpError) -> SendError;

/// The SASL XOAUTH2 initial client response (before base64): `user=<user>^Aauth=Bearer
/// <token>^A^A`. It contains the token, so it is a [`Secret`].
pub fn xoauth2_initial_response(user: &str, token: &Secret) -> Secret {
    Secret::new(format!(
        "user={user}\x01auth=Bearer {}\x01\x01",
        token.expose()
    ))
}

/// lettre credentials for XOAUTH2: the mailbox as the user, the token as the secret.
pub fn xoauth2_credentials(user: &str, token: &AccessToken) -> Credentials {
    Credentials::new(user.to_string(), token.secret().expose().to_string())
}

/// True for `535` (authentication credentials invalid), which a fresh token may cure.
pub fn is_auth_failure(err: &SmtpError) -> bool {
    err.status().map(u16::from) == Some(535)
}

/// The token provider (scope [`OUTLOOK_SCOPE`]) and the XOAUTH2 user for `auth = "xoauth2"`:
/// the mailbox is `username`, else `sender`. Every problem is returned, each naming its key.
///
/// [`OUTLOOK_SCOPE`]: crate::oauth::OUTLOOK_SCOPE
pub fn oauth_from_config(
    t: &crate::config::Transport,
) -> Result<(Arc<TokenProvider>, String), Vec<String>> {
    let user = t
        .username
        .as_deref()
        .or(t.sender.as_deref())
        .map(str::trim)
        .unwrap_or("");
    let mut problems = Vec::new();
    if user.is_empty() {
        problems.push("[transport] username is missing; with auth = \"xoauth2\" set it to the mailbox that sends (its UPN)".to_string());
    }
    let settings = crate::oauth::OAuthSettings::from_config(t, crate::oauth::OUTLOOK_SCOPE);
    match settings {
        Ok(settings) if problems.is_empty() => {
            let provider = TokenProvider::new(settings).map_err(|e| vec![e.to_string()])?;
            Ok((Arc::new(provider), user.to_string()))
        }
        Ok(_) => Err(problems),
        Err(more) => {
            problems.extend(more);
            Err(problems)
        }
    }
}

/// One lettre transport and the token generation it was built with.
struct Built {
    generation: u64,
    transport: Arc<LettreSmtp>,
}

/// SMTP submission authenticated with XOAUTH2, rebuilding lettre's pool when the token changes.
pub struct XOAuth2Smtp {
    base: AsyncSmtpTransportBuilder,
    user: String,
    tokens: Arc<TokenProvider>,
    classify: Classifier,
    describe: String,
    current: Mutex<Option<Built>>,
}

impl XOAuth2Smtp {
    /// `base` has host, port, TLS, timeout and pool settings; this adds XOAUTH2 credentials
    /// for `user` (the sending mailbox) from `tokens`.
    pub fn new(
        base: AsyncSmtpTransportBuilder,
        user: &str,
        tokens: Arc<TokenProvider>,
        describe: String,
    ) -> XOAuth2Smtp {
        XOAuth2Smtp {
            base,
            user: user.to_string(),
            tokens,
            classify: classify_smtp_error,
            describe,
            current: Mutex::new(None),
        }
    }

    /// Uses `classify` for every failure other than the `535` this wrapper handles.
    pub fn with_classifier(mut self, classify: Classifier) -> XOAuth2Smtp {
        self.classify = classify;
        self
    }

    /// The lettre transport for `token`, built now if the token is newer than the last one.
    fn transport_for(&self, token: &AccessToken) -> Arc<LettreSmtp> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(built) = current
            .as_ref()
            .filter(|b| b.generation == token.generation())
        {
            return Arc::clone(&built.transport);
        }
        tracing::debug!(
            "smtp: building connections for token {}",
            token.generation()
        );
        let transport = Arc::new(
            self.base
                .clone()
                .authentication(vec![Mechanism::Xoauth2])
                .credentials(xoauth2_credentials(&self.user, token))
                .build(),
        );
        *current = Some(Built {
            generation: token.generation(),
            transport: Arc::clone(&transport),
        });
        transport
    }

    async fn deliver(&self, envelope: &Envelope, message: &[u8]) -> Result<Accepted, SendError> {
        let envelope = lettre_envelope(envelope)?;
        let token = self.tokens.token().await.map_err(|e| e.to_send_error())?;
        let err = match self
            .transport_for(&token)
            .send_raw(&envelope, message)
            .await
        {
            Ok(response) => return Ok(accepted(&response)),
            Err(err) if is_auth_failure(&err) => err,
            Err(err) => return Err((self.classify)(&err)),
        };
        tracing::info!("smtp: {err}; getting a fresh token and trying once more");
        self.tokens.invalidate(&token).await;
        let fresh = self.tokens.token().await.map_err(|e| e.to_send_error())?;
        match self.transport_for(&fresh).send_raw(&envelope, message).await {
            Ok(response) => Ok(accepted(&response)),
            Err(err) if is_auth_failure(&err) => Err(SendError::new(
                FailureClass::Fatal,
                format!("{err}; a fresh token was refused too: check SMTP.SendAsApp with admin consent, the Exchange service principal (New-ServicePrincipal) and its FullAccess on the mailbox, and that SMTP AUTH is enabled for it"),
            )),
            Err(err) => Err((self.classify)(&err)),
        }
    }
}

fn lettre_envelope(envelope: &Envelope) -> Result<lettre::address::Envelope, SendError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        SendError::new(FailureClass::Permanent, format!("{what}: {e}"))
    };
    let from = envelope
        .from
        .parse()
        .map_err(|e| bad(&format!("sender `{}`", envelope.from), &e))?;
    let to = envelope
        .to
        .iter()
        .map(|a| a.parse().map_err(|e| bad(&format!("recipient `{a}`"), &e)))
        .collect::<Result<Vec<_>, _>>()?;
    lettre::address::Envelope::new(Some(from), to).map_err(|e| bad("envelope", &e))
}

fn accepted(response: &lettre::transport::smtp::response::Response) -> Accepted {
    let text: Vec<&str> = response.message().collect();
    Accepted {
        reply: format!("{} {}", response.code(), text.join(" ")),
    }
}

/// A lettre failure reduced to what classification needs.
#[derive(Debug, Clone, Copy)]
pub struct SmtpFailure<'a> {
    /// The reply code, when the server answered (`535`, `554`, ...).
    pub code: Option<u16>,
    /// lettre's text, with the server's reply (`permanent error (535): 5.7.3 ...`).
    pub text: &'a str,
    pub tls: bool,
    /// A local problem (bad address, no common auth mechanism): nothing was sent.
    pub client: bool,
}

/// lettre's error as an [`SmtpFailure`], classified by [`classify_failure`].
pub fn classify_smtp_error(err: &SmtpError) -> SendError {
    let text = err.to_string();
    classify_failure(&SmtpFailure {
        code: err.status().map(u16::from),
        text: &text,
        tls: err.is_tls(),
        client: err.is_client(),
    })
}

/// Classifies after Microsoft's documented replies: `554 5.2.0 ...SubmissionQuotaExceeded`
/// and `432 4.3.2` pause the run (quota); `535`, `530`, `5.7.30`, `5.7.3`, TLS failures and
/// local client errors stop it; other `4xx` are transient; other `5xx` fail the recipient.
/// A connection lost without a reply is transient and maybe delivered (lettre cannot tell
/// whether the data had been sent).
pub fn classify_failure(f: &SmtpFailure<'_>) -> SendError {
    let code = f.code.unwrap_or(0);
    let class = if f.text.contains("SubmissionQuotaExceeded") || f.text.contains("4.3.2") {
        FailureClass::Quota
    } else if f.tls || f.client || code == 535 || code == 530 || f.text.contains("5.7.3") {
        FailureClass::Fatal
    } else if (400..500).contains(&code) || f.code.is_none() {
        FailureClass::Transient
    } else {
        FailureClass::Permanent
    };
    SendError {
        class,
        reply: f.text.to_string(),
        retry_after: None,
        maybe_delivered: f.code.is_none() && !f.tls && !f.client,
    }
}

impl Transport for XOAuth2Smtp {
    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Accepted, SendError>> {
        Box::pin(self.deliver(envelope, message))
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

#[cfg(test)]
mod tests;
