//! SMTP submission with lettre over tokio: one transport per run holding at most `connections`
//! open, authenticated sessions ([`lane`]), STARTTLS or implicit TLS with the certificate always
//! verified (against the system's roots plus an optional private CA), and every failure
//! classified by the type of lettre's error and the reply's codes.
//!
//! The sessions are ours rather than lettre's `AsyncSmtpTransport` pool for three reasons: that
//! pool sends a NOOP before every reuse (one extra round trip per message), its `send` cannot say
//! in which phase a connection dropped, which decides whether a message may have been delivered,
//! and it cannot send the next message's envelope behind this one's content.

mod classify;
mod lane;
mod pipeline;
mod session;
pub mod xoauth2;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::address::{Address, Envelope as LettreEnvelope};
use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

pub use classify::{classify, enhanced_code, fatal_hint, reply_error, Enhanced, QUOTA_PAUSE};
use lane::{Lanes, Request};
use session::{Failure, FailureKind, Login, Phase};

use crate::config::{self, Security, SmtpAuth};
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
}

impl SmtpSettings {
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
    fn login(&self) -> Login<'_> {
        let s = &self.settings;
        Login {
            host: &s.host,
            port: s.port,
            security: s.security,
            tls: self.tls.as_ref(),
            hello: &self.hello,
            auth: s.auth.as_ref().map(|(m, u, p)| (*m, u.as_str(), p)),
            timeout: s.timeout,
        }
    }

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
            FailureKind::Timeout | FailureKind::Broken(_) => {
                let cause = match failure.kind {
                    FailureKind::Broken(detail) => detail,
                    _ => format!("no answer within {} s", s.timeout.as_secs()),
                };
                lost(failure.phase, first_contact, &server, cause)
            }
        }
    }
}

/// The SMTP transport of one run.
pub struct SmtpTransport {
    lanes: Arc<Lanes>,
    sender: Sender,
}

impl SmtpTransport {
    /// Prepares the transport (TLS roots, private CA) with one session per message in flight.
    /// Does not connect.
    pub fn new(settings: SmtpSettings) -> Result<SmtpTransport, SmtpConfigError> {
        SmtpTransport::with_connections(settings, usize::MAX)
    }

    /// Like [`SmtpTransport::new`], with at most `connections` sessions: more messages than
    /// that wait in a queue, and the first waiting one rides behind a message's content.
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
        Ok(SmtpTransport {
            lanes: Arc::new(Lanes::new(endpoint, connections)),
            sender: Sender::default(),
        })
    }

    fn settings(&self) -> &SmtpSettings {
        &self.lanes.endpoint().settings
    }

    async fn send_message(
        &self,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<Accepted, SendError> {
        let envelope = lettre_envelope(&self.sender, envelope)?;
        let (reply, outcome) = tokio::sync::oneshot::channel();
        self.lanes.submit(Request::new(envelope, message, reply));
        let response = outcome.await.unwrap_or_else(|_| {
            // The lane is gone without an answer: the content may have left.
            let server = self.settings().describe();
            Err(lost(
                Phase::Content,
                false,
                &server,
                "its task ended".into(),
            ))
        })?;
        let text: Vec<&str> = response.message().collect();
        Ok(Accepted {
            reply: format!("{} {}", response.code(), text.join(" ")),
        })
    }
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

/// The sender's address, parsed: every message of a run has the same one.
#[derive(Default)]
struct Sender(std::sync::OnceLock<(String, Address)>);

impl Sender {
    fn address(&self, from: &str) -> Result<Address, SendError> {
        match self.0.get() {
            Some((text, address)) if text == from => Ok(address.clone()),
            _ => {
                let address = sender_address(from)?;
                let _ = self.0.set((from.to_string(), address.clone()));
                Ok(address)
            }
        }
    }
}

fn sender_address(from: &str) -> Result<Address, SendError> {
    from.parse().map_err(|e| {
        SendError::new(
            FailureClass::Fatal,
            format!("the sender address `{from}` is not valid ({e}); fix [message] from"),
        )
    })
}

fn lettre_envelope(sender: &Sender, envelope: &Envelope) -> Result<LettreEnvelope, SendError> {
    let from = sender.address(&envelope.from)?;
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

    fn describe(&self) -> String {
        self.settings().describe()
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.lanes.close())
    }

    fn halt(&self) {
        self.lanes.halt();
    }
}

#[cfg(test)]
mod tests;
