//! `auth = "xoauth2"` (SMTP AUTH with OAuth, the way Microsoft moves every tenant to): the same
//! endpoint settings and the same phase-aware sessions as password SMTP, each session logging in
//! with SASL XOAUTH2 and an app-only token (scope [`OUTLOOK_SCOPE`]) from the shared
//! [`TokenProvider`]. The mailbox is `username`, else `sender`.
//!
//! [`OUTLOOK_SCOPE`]: crate::oauth::OUTLOOK_SCOPE

use std::sync::Arc;

use super::{SmtpSettings, SmtpTransport};
use crate::config::{Config, ConfigError};
use crate::oauth::TokenProvider;
use crate::transport::BuildError;

/// The XOAUTH2 SMTP transport for `config`, with at most `connections` open sessions. A
/// problem with the OAuth keys is a [`ConfigError::Invalid`], as for Graph.
pub fn from_config(config: &Config, connections: usize) -> Result<SmtpTransport, BuildError> {
    let settings = SmtpSettings::endpoint(&config.transport)?;
    let (tokens, user) =
        oauth_from_config(&config.transport).map_err(|problems| ConfigError::Invalid {
            path: config.path.clone(),
            problems,
        })?;
    Ok(SmtpTransport::with_xoauth2(
        settings,
        connections,
        &user,
        tokens,
    )?)
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
            problems.extend(more.iter().map(ToString::to_string));
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoauth2_user_is_username_else_sender() {
        std::env::set_var("T2T_TEST_SMTP_OAUTH_SECRET", "v");
        let keys = "tenant_id = \"3c9d1e7a-5b2f-4a68-9e0d-7f4b2c8a6d15\"\nclient_id = \"0b7c2f6e-1d3a-4e5b-9c8d-7a6f5e4d3c2b\"\nclient_secret_env = \"T2T_TEST_SMTP_OAUTH_SECRET\"\nauth = \"xoauth2\"";
        let of = |text: &str| oauth_from_config(&toml::from_str(text).unwrap());
        let (tokens, user) = of(&format!("{keys}\nsender = \"notices@fabrikam.com\"")).unwrap();
        assert_eq!(user, "notices@fabrikam.com");
        assert_eq!(tokens.scope(), "https://outlook.office365.com/.default");
        let both = format!("{keys}\nsender = \"a@fabrikam.com\"\nusername = \"b@fabrikam.com\"");
        assert_eq!(of(&both).unwrap().1, "b@fabrikam.com");
        let problems = of("auth = \"xoauth2\"").unwrap_err().join("\n");
        assert!(problems.contains("username is missing"), "{problems}");
        assert!(problems.contains("tenant_id is missing"), "{problems}");
    }
}
