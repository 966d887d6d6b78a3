//! SMTP submission with lettre over tokio: one transport per run holding at most `connections`
//! open, authenticated sessions, one message at a time on each, STARTTLS or implicit TLS with
//! the certificate always verified (against the system's roots plus an optional private CA),
//! and every failure classified by the type of lettre's error and the reply's codes.
//!
//! The sessions are ours ([`session`]) rather than lettre's `AsyncSmtpTransport` pool because
//! that pool's `send` cannot say in which phase a connection dropped, and that decides whether
//! a message may have been delivered (`uncertain`) or surely was not (retried).

mod classify;
mod session;
pub mod xoauth2;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::address::{Address, Envelope as LettreEnvelope};
use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;

pub use classify::enhanced_code;
use classify::reply_error;
use session::{Failure, FailureKind, Phase, Session};

use crate::config::{self, Security, SmtpAuth};
use crate::oauth::{AccessToken, TokenProvider};
use crate::secret::{Secret, SecretError};
use crate::transport::{Accepted, BoxFuture, Envelope, FailureClass, SendError, Transport};

/// Why the `[transport]` settings cannot make an SMTP transport.
#[derive(Debug, thiserror::Error)]
pub enum SmtpConfigError {
    #[error("[transport] kind = \"smtp\" needs host (e.g. host = \"smtp.office365.com\")")]
    MissingHost,
    #[error("[transport] security = \"none\" sends passwords and notices in clear text; it is only allowed for a server on this machine (localhost), not {0}; use security = \"starttls\" (port 587) or \"tls\" (port 465)")]
    Insecure(String),
    #[error("[transport] auth = \"{0}\" needs username (the sending mailbox, e.g. it-migration@fabrikam.com)")]
    MissingUsername(&'static str),
    #[error("[transport] auth = \"{0}\" needs password_env: the name of the environment variable that holds the password (never the password itself)")]
    MissingPasswordEnv(&'static str),
    #[error("[transport] password_env: {0}")]
    Password(#[from] SecretError),
    #[error("[transport] auth = \"xoauth2\" takes its token from the OAuth settings, not from username and password_env")]
    Xoauth2,
    #[error("[transport] ca_file {path}: cannot read it: {source}")]
    CaFileRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("[transport] ca_file {path}: not a PEM certificate ({detail}); give the private CA's certificate in PEM form (-----BEGIN CERTIFICATE-----)")]
    CaFileInvalid { path: PathBuf, detail: String },
    #[error("[transport] host {host}: cannot set up TLS for it: {detail}")]
    Tls { host: String, detail: String },
}

/// Everything the SMTP transport needs, read from `[transport]`.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Mechanism, username and password.
    pub auth: Option<(Mechanism, String, Secret)>,
    pub ca_file: Option<PathBuf>,
    /// Limit for connecting and for each reply.
    pub timeout: Duration,
}

impl SmtpSettings {
    /// Reads and checks the SMTP keys of `[transport]`; the password comes from the environment.
    pub fn from_config(t: &config::Transport) -> Result<SmtpSettings, SmtpConfigError> {
        let mut settings = SmtpSettings::endpoint(t)?;
        settings.auth = match t.auth {
            SmtpAuth::None => None,
            SmtpAuth::Login => Some(credentials(t, Mechanism::Login, "login")?),
            SmtpAuth::Plain => Some(credentials(t, Mechanism::Plain, "plain")?),
            SmtpAuth::Xoauth2 => return Err(SmtpConfigError::Xoauth2),
        };
        Ok(settings)
    }

    /// Where and how to connect (host, port, security, CA, timeout), without authentication.
    pub fn endpoint(t: &config::Transport) -> Result<SmtpSettings, SmtpConfigError> {
        let host = t
            .host
            .clone()
            .filter(|h| !h.trim().is_empty())
            .ok_or(SmtpConfigError::MissingHost)?;
        let port = t.port.unwrap_or(match t.security {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        });
        if t.security == Security::None && !is_loopback(&host) {
            return Err(SmtpConfigError::Insecure(host));
        }
        Ok(SmtpSettings {
            host,
            port,
            security: t.security,
            auth: None,
            ca_file: t.ca_file.clone(),
            timeout: Duration::from_secs(t.timeout_secs.max(1)),
        })
    }

    /// `smtp+starttls://host:587`, `smtps://host:465` or `smtp://host:25`.
    pub fn describe(&self) -> String {
        let scheme = match self.security {
            Security::Tls => "smtps",
            Security::Starttls => "smtp+starttls",
            Security::None => "smtp",
        };
        format!("{scheme}://{}:{}", self.host, self.port)
    }
}

fn credentials(
    t: &config::Transport,
    mechanism: Mechanism,
    name: &'static str,
) -> Result<(Mechanism, String, Secret), SmtpConfigError> {
    let username = t
        .username
        .clone()
        .ok_or(SmtpConfigError::MissingUsername(name))?;
    let env = t
        .password_env
        .as_deref()
        .ok_or(SmtpConfigError::MissingPasswordEnv(name))?;
    Ok((mechanism, username, Secret::from_env(env)?))
}

/// `localhost` or a loopback address: the only hosts `security = "none"` may talk to.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.eq_ignore_ascii_case("localhost.")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Where and how to open a session: the settings with their TLS parameters.
struct Endpoint {
    settings: SmtpSettings,
    tls: Option<TlsParameters>,
    hello: ClientId,
}

impl Endpoint {
    /// Turns a session failure into the error the engine acts on; `first_contact` while the
    /// server never accepted a message of this run.
    fn send_error(&self, failure: Failure, first_contact: bool) -> SendError {
        let s = &self.settings;
        let server = format!("{}:{}", s.host, s.port);
        match failure.kind {
            FailureKind::Reply { code, text } => reply_error(code, &text, failure.phase == Phase::Connect),
            FailureKind::Local(class, text) => SendError::new(class, text),
            FailureKind::Tls(detail) => SendError::new(
                FailureClass::Fatal,
                format!("TLS with {server} failed: {detail}; the certificate is always verified: if the server's certificate comes from a private CA, set [transport] ca_file to that CA's PEM file; check that security = \"starttls\" goes with port 587 and \"tls\" with 465"),
            ),
            FailureKind::Broken(cause) => lost(failure.phase, first_contact, &server, cause),
            FailureKind::Timeout => {
                let cause = format!("no answer within {} s", s.timeout.as_secs());
                lost(failure.phase, first_contact, &server, cause)
            }
        }
    }
}

/// How an XOAUTH2 session logs in: the sending mailbox and where its app-only tokens come from.
struct OAuthLogin {
    user: String,
    tokens: Arc<TokenProvider>,
}

/// The SMTP transport of one run.
pub struct SmtpTransport {
    endpoint: Endpoint,
    /// Set for `auth = "xoauth2"`: each session logs in with a current token.
    oauth: Option<OAuthLogin>,
    /// One permit per session the run may hold open.
    slots: tokio::sync::Semaphore,
    connections: usize,
    /// The sessions the run may still open: `connections`, less those the server refused.
    limit: AtomicUsize,
    /// What the admin should hear about the connections (fewer than asked).
    notes: Mutex<Vec<String>>,
    /// Open sessions waiting for their next message.
    idle: Mutex<Vec<Session>>,
    /// Set once the server accepted a message: from then on, connection failures are treated
    /// as a passing problem rather than a wrong setting.
    accepted_any: AtomicBool,
}

impl SmtpTransport {
    /// Prepares the transport (TLS roots, private CA) with one session per message in flight.
    /// Does not connect.
    pub fn new(settings: SmtpSettings) -> Result<SmtpTransport, SmtpConfigError> {
        SmtpTransport::with_connections(settings, usize::MAX)
    }

    /// Like [`SmtpTransport::new`], with at most `connections` sessions: more messages than
    /// that wait for a session to be free.
    pub fn with_connections(
        settings: SmtpSettings,
        connections: usize,
    ) -> Result<SmtpTransport, SmtpConfigError> {
        let tls = match settings.security {
            Security::None => None,
            Security::Starttls | Security::Tls => Some(tls_parameters(&settings)?),
        };
        let endpoint = Endpoint {
            settings,
            tls,
            hello: ClientId::default(),
        };
        let connections = connections.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        Ok(SmtpTransport {
            endpoint,
            oauth: None,
            slots: tokio::sync::Semaphore::new(connections),
            connections,
            limit: AtomicUsize::new(connections),
            notes: Mutex::new(Vec::new()),
            idle: Mutex::new(Vec::new()),
            accepted_any: AtomicBool::new(false),
        })
    }

    /// Like [`SmtpTransport::with_connections`], each session authenticated with SASL XOAUTH2
    /// as `user` with an app-only token from `tokens` (the settings' own `auth` is not used).
    pub fn with_xoauth2(
        settings: SmtpSettings,
        connections: usize,
        user: &str,
        tokens: Arc<TokenProvider>,
    ) -> Result<SmtpTransport, SmtpConfigError> {
        let mut transport = SmtpTransport::with_connections(settings, connections)?;
        transport.oauth = Some(OAuthLogin {
            user: user.to_string(),
            tokens,
        });
        Ok(transport)
    }

    /// Opens a session, logged in as configured. With XOAUTH2, a `535` (authentication failed)
    /// drops the token and tries once more with a fresh one; a second `535` is fatal.
    async fn connect(&self) -> Result<Session, Failure> {
        let Some(oauth) = &self.oauth else {
            let auth = self.settings().auth.as_ref();
            let auth = auth.map(|(m, user, password)| (*m, user.as_str(), password));
            return session::connect(&self.endpoint, auth).await;
        };
        let token = oauth_token(oauth).await?;
        let failure = match self.connect_with(oauth, &token).await {
            Err(failure) if failure.is_auth_refusal() => failure,
            other => return other,
        };
        tracing::info!("smtp: {failure}; getting a fresh token and trying once more");
        oauth.tokens.invalidate(&token).await;
        let fresh = oauth_token(oauth).await?;
        match self.connect_with(oauth, &fresh).await {
            Err(failure) if failure.is_auth_refusal() => Err(Failure::new(
                Phase::Connect,
                FailureKind::Local(
                    FailureClass::Fatal,
                    format!("{failure}; a fresh token was refused too: check SMTP.SendAsApp with admin consent, the Exchange service principal (New-ServicePrincipal) and its FullAccess on the mailbox, and that SMTP AUTH is enabled for it"),
                ),
            )),
            other => other,
        }
    }

    async fn connect_with(
        &self,
        oauth: &OAuthLogin,
        token: &AccessToken,
    ) -> Result<Session, Failure> {
        tracing::debug!(
            "smtp: building connections for token {}",
            token.generation()
        );
        let auth = (Mechanism::Xoauth2, oauth.user.as_str(), token.secret());
        session::connect(&self.endpoint, Some(auth)).await
    }

    fn settings(&self) -> &SmtpSettings {
        &self.endpoint.settings
    }

    async fn send_message(
        &self,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<Accepted, SendError> {
        let envelope = lettre_envelope(envelope)?;
        let outcome = loop {
            let slot = self
                .slots
                .acquire()
                .await
                .expect("the semaphore is never closed");
            match self.carry(&envelope, message).await {
                Err(failure) if failure.is_connection_limit() && self.others_hold_slots() => {
                    // One connection more than the server allows (Exchange: `432 4.3.2`): the
                    // others work, so this slot goes for the rest of the run and the message
                    // waits for one of them. Nothing of it was sent.
                    slot.forget();
                    self.note_connection_limit(&failure);
                }
                outcome => break outcome,
            }
        };
        match outcome {
            Ok(response) => {
                self.accepted_any.store(true, Ordering::Relaxed);
                let text: Vec<&str> = response.message().collect();
                Ok(Accepted {
                    reply: format!("{} {}", response.code(), text.join(" ")),
                })
            }
            Err(failure) => {
                let first_contact = !self.accepted_any.load(Ordering::Relaxed);
                Err(self.endpoint.send_error(failure, first_contact))
            }
        }
    }

    /// Carries one message on an idle session, or a new one, and puts the session back when it
    /// can carry the next message. A session the server closed while it was idle is replaced:
    /// nothing of the message had left on it.
    async fn carry(&self, envelope: &LettreEnvelope, message: &[u8]) -> Result<Response, Failure> {
        let timeout = self.settings().timeout;
        loop {
            let idle = lock(&self.idle).pop();
            let reused = idle.is_some();
            let mut session = match idle {
                Some(session) => session,
                None => self.connect().await?,
            };
            if let Err(failure) =
                session::open(&mut session, envelope, message.is_ascii(), timeout).await
            {
                if reused && is_stale_session(&failure) {
                    tracing::debug!("an SMTP session had been closed by the server; reconnecting");
                    continue;
                }
                if failure.leaves_connection_usable() && session::reset(&mut session, timeout).await
                {
                    lock(&self.idle).push(session);
                }
                return Err(failure);
            }
            let reply = session::content(&mut session, message, timeout).await;
            let usable = match &reply {
                Ok(_) => true,
                Err(kind) => matches!(kind, FailureKind::Reply { code, .. } if *code != 421),
            };
            if usable {
                lock(&self.idle).push(session);
            }
            return reply.map_err(|kind| Failure::new(Phase::Content, kind));
        }
    }

    /// Whether other messages hold sessions (or are opening them) besides the caller's.
    fn others_hold_slots(&self) -> bool {
        let limit = self.limit.load(Ordering::Relaxed);
        limit.saturating_sub(self.slots.available_permits()) > 1
    }

    /// Lowers the run's connections by one, and says so the first time.
    fn note_connection_limit(&self, failure: &Failure) {
        let now = self.limit.fetch_sub(1, Ordering::Relaxed) - 1;
        let note = format!(
            "the server refused connection {} ({failure}); sending on the {now} connections it accepts for the rest of the run (lower [pacing] concurrency to {now} to avoid this)",
            now + 1
        );
        let mut notes = lock(&self.notes);
        if notes.is_empty() {
            tracing::warn!("{note}");
            notes.push(note);
        } else {
            notes[0] = note;
        }
    }

    /// Ends every idle session politely.
    async fn close(&self) {
        let idle = std::mem::take(&mut *lock(&self.idle));
        for session in idle {
            session::quit(session, self.settings().timeout).await;
        }
    }
}

/// A current token, or why there is none, as a failure before anything was sent.
async fn oauth_token(oauth: &OAuthLogin) -> Result<AccessToken, Failure> {
    oauth.tokens.token().await.map_err(|e| {
        let error = e.to_send_error();
        Failure::new(Phase::Connect, FailureKind::Local(error.class, error.reply))
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A session the server had already closed: it fails on MAIL without a reply, or with the
/// `421` a server sends when it times an idle session out.
fn is_stale_session(failure: &Failure) -> bool {
    failure.phase == Phase::Mail
        && matches!(
            failure.kind,
            FailureKind::Broken(_) | FailureKind::Reply { code: 421, .. }
        )
}

/// A connection that failed or went silent: fatal before anything was ever accepted from
/// the start (wrong host, port or firewall), possibly delivered when it happened after the
/// content was sent, otherwise worth another try.
fn lost(phase: Phase, first_contact: bool, server: &str, cause: String) -> SendError {
    match phase {
        Phase::Connect if first_contact => SendError::new(
            FailureClass::Fatal,
            format!("cannot open an SMTP session with {server}: {cause}; check [transport] host, port and security, and that this machine may reach the server"),
        ),
        Phase::Content => SendError {
            maybe_delivered: true,
            ..SendError::new(
                FailureClass::Transient,
                format!("the connection to {server} was lost after the message was sent ({cause}); it may have been delivered"),
            )
        },
        _ => SendError::new(FailureClass::Transient, format!("the connection to {server} was lost ({cause})")),
    }
}

pub(crate) fn tls_parameters(settings: &SmtpSettings) -> Result<TlsParameters, SmtpConfigError> {
    let mut builder = TlsParameters::builder(settings.host.clone());
    if let Some(path) = &settings.ca_file {
        let pem = std::fs::read(path).map_err(|source| SmtpConfigError::CaFileRead {
            path: path.clone(),
            source,
        })?;
        let invalid = |detail: String| SmtpConfigError::CaFileInvalid {
            path: path.clone(),
            detail,
        };
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(invalid("no CERTIFICATE block".into()));
        }
        let cert = Certificate::from_pem(&pem).map_err(|e| invalid(e.to_string()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| SmtpConfigError::Tls {
        host: settings.host.clone(),
        detail: e.to_string(),
    })
}

fn lettre_envelope(envelope: &Envelope) -> Result<LettreEnvelope, SendError> {
    let from = envelope.from.parse::<Address>().map_err(|e| {
        SendError::new(
            FailureClass::Fatal,
            format!(
                "the sender address `{}` is not valid ({e}); fix [message] from",
                envelope.from
            ),
        )
    })?;
    let to = envelope
        .to
        .iter()
        .map(|a| {
            a.parse::<Address>().map_err(|e| {
                SendError::new(
                    FailureClass::Permanent,
                    format!("recipient `{a}` is not a valid address ({e})"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    LettreEnvelope::new(Some(from), to).map_err(|e| {
        SendError::new(
            FailureClass::Permanent,
            format!("cannot build the envelope: {e}"),
        )
    })
}

impl Transport for SmtpTransport {
    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Accepted, SendError>> {
        Box::pin(self.send_message(envelope, message))
    }

    fn max_in_flight(&self) -> usize {
        self.connections
    }

    fn notes(&self) -> Vec<String> {
        lock(&self.notes).clone()
    }

    fn describe(&self) -> String {
        self.settings().describe()
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.close())
    }
}

#[cfg(test)]
mod tests;
