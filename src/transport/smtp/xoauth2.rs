//! `auth = "xoauth2"`: the same endpoint settings (host, port, STARTTLS or TLS with the
//! certificate verified, private CA, timeout) handed to the OAuth SMTP transport of
//! [`smtp_oauth`](crate::transport::smtp_oauth), which authenticates every pool with a fresh
//! app-only token. Its lettre failures are classified with the same rules as password SMTP.

use std::time::Duration;

use lettre::transport::smtp::client::Tls;
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, Error as SmtpError, PoolConfig};
use lettre::{AsyncSmtpTransport, Tokio1Executor};

use super::{reply_error, tls_parameters, SmtpConfigError, SmtpSettings};
use crate::config::{Config, Security};
use crate::transport::smtp_oauth::{oauth_from_config, XOAuth2Smtp};
use crate::transport::{FailureClass, SendError};

/// Why the XOAUTH2 transport could not be built.
#[derive(Debug, thiserror::Error)]
pub enum XOAuth2Error {
    #[error(transparent)]
    Smtp(#[from] SmtpConfigError),
    #[error("{}: {}", path.display(), problems.join("\n  "))]
    OAuth {
        path: std::path::PathBuf,
        problems: Vec<String>,
    },
}

/// The XOAUTH2 SMTP transport for `config`, with at most `connections` open sessions.
pub fn from_config(config: &Config, connections: u32) -> Result<XOAuth2Smtp, XOAuth2Error> {
    let settings = SmtpSettings::endpoint(&config.transport)?;
    let (tokens, user) =
        oauth_from_config(&config.transport).map_err(|problems| XOAuth2Error::OAuth {
            path: config.path.clone(),
            problems,
        })?;
    let base = builder(&settings, connections)?;
    Ok(XOAuth2Smtp::new(base, &user, tokens, settings.describe())
        .with_classifier(classify_lettre_error))
}

/// lettre's builder for the endpoint: TLS as configured, timeout, pool size.
fn builder(
    settings: &SmtpSettings,
    connections: u32,
) -> Result<AsyncSmtpTransportBuilder, SmtpConfigError> {
    let tls = match settings.security {
        Security::Starttls => Tls::Required(tls_parameters(settings)?),
        Security::Tls => Tls::Wrapper(tls_parameters(settings)?),
        Security::None => Tls::None,
    };
    Ok(
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
            .port(settings.port)
            .tls(tls)
            .timeout(Some(settings.timeout))
            .pool_config(
                PoolConfig::new()
                    .max_size(connections.max(1))
                    .idle_timeout(Duration::from_secs(60)),
            ),
    )
}

/// Classifies a failure of lettre's all-in-one send: replies by [`reply_error`]; TLS and local
/// problems are fatal; a connection lost without a reply may have delivered the message (lettre
/// does not say in which phase it broke), so it is never retried blindly.
pub fn classify_lettre_error(err: &SmtpError) -> SendError {
    if let Some(code) = err.status() {
        let text = std::error::Error::source(err)
            .map(ToString::to_string)
            .unwrap_or_default();
        return reply_error(u16::from(code), &text, false);
    }
    if err.is_tls() || err.is_client() {
        return SendError::new(
            FailureClass::Fatal,
            format!("{err}; check [transport] host, port, security and ca_file"),
        );
    }
    SendError {
        maybe_delivered: true,
        ..SendError::new(
            FailureClass::Transient,
            format!("{err}; the message may have been delivered"),
        )
    }
}
