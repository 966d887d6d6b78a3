//! Who may use the dashboard and its API, decided apart from any HTTP machinery:
//! - where it may listen: a loopback address as it is; anything else only over TLS with a
//!   token from the environment ([`Exposure::decide`]);
//! - the token: an API client sends it as `Authorization: Bearer`; a browser trades it once
//!   for a session cookie (HttpOnly, SameSite=Strict) at `POST /api/login`;
//! - cross-site requests: a request that changes state with the cookie must carry the
//!   session's CSRF token in `X-CSRF-Token` (a form on another site cannot set a header) and
//!   must not come from another origin (`Origin`, `Sec-Fetch-Site`). The bearer token needs no
//!   such check: a browser never adds it by itself.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// The session cookie's name.
pub const COOKIE: &str = "t2t_session";
/// The header that carries a session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a browser session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// Where the token came from, for the start-up line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOrigin {
    /// The environment variable of `[dashboard] token_env`.
    Env(String),
    /// Made by this service for a loopback dashboard, kept in this file (owner only).
    File(std::path::PathBuf),
}

/// How the dashboard is exposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exposure {
    /// 127.0.0.1 or ::1: plain HTTP is fine; the token may come from a file the service wrote.
    Loopback,
    /// Any other address: HTTPS and a token from the environment.
    Network,
}

/// Why the dashboard cannot start as configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExposureError {
    #[error("[dashboard] listen = \"{0}\" is not a loopback address, so the dashboard must use HTTPS: set [dashboard] tls_cert and tls_key (PEM files), or listen on 127.0.0.1")]
    NeedsTls(SocketAddr),
    #[error("[dashboard] listen = \"{addr}\" is not a loopback address, so the dashboard needs a token: set the environment variable {var} (at least 16 characters; [dashboard] token_env names it)")]
    NeedsToken { addr: SocketAddr, var: String },
    #[error("the dashboard token in {var} is {len} characters long; use at least 16 (for example 32 random hex digits)")]
    WeakToken { var: String, len: usize },
}

impl Exposure {
    /// Checks `addr` against TLS and the token. `token_len` is the length of the token in the
    /// environment variable `var`, if set.
    pub fn decide(
        addr: SocketAddr,
        tls: bool,
        var: &str,
        token_len: Option<usize>,
    ) -> Result<Exposure, ExposureError> {
        if let Some(len) = token_len.filter(|len| *len < 16) {
            return Err(ExposureError::WeakToken {
                var: var.into(),
                len,
            });
        }
        if addr.ip().is_loopback() {
            return Ok(Exposure::Loopback);
        }
        if !tls {
            return Err(ExposureError::NeedsTls(addr));
        }
        if token_len.is_none() {
            return Err(ExposureError::NeedsToken {
                addr,
                var: var.into(),
            });
        }
        Ok(Exposure::Network)
    }
}

/// How a request was allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// `Authorization: Bearer` with the token.
    Token,
    /// A browser session; its CSRF token.
    Session { csrf: String },
}

impl Via {
    /// As the audit log names it.
    pub fn label(&self) -> &'static str {
        match self {
            Via::Token => "API token",
            Via::Session { .. } => "dashboard",
        }
    }
}

/// Why a request is refused; the status code and a sentence for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("sign in first: send the dashboard token as `Authorization: Bearer TOKEN`, or sign in on the dashboard page")]
    NoCredentials,
    #[error("the token is wrong")]
    WrongToken,
    #[error("the session has ended; sign in again")]
    UnknownSession,
    #[error("cross-site request refused: a change must come from the dashboard page itself (with its X-CSRF-Token header) or carry the API token")]
    CrossSite,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::CrossSite => 403,
            _ => 401,
        }
    }
}

/// The parts of a request the checks read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asking<'a> {
    /// Whether the request changes state (anything but GET and HEAD).
    pub changes: bool,
    pub authorization: Option<&'a str>,
    pub cookie: Option<&'a str>,
    pub csrf: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub fetch_site: Option<&'a str>,
    /// `Host`, to compare `Origin` with.
    pub host: Option<&'a str>,
    /// `https` or `http`: how this server is reached.
    pub scheme: &'a str,
}

struct Session {
    csrf: String,
    since: Instant,
}

/// The token and the browser sessions.
pub struct Access {
    /// SHA-256 of the token: compared digest to digest, so the time a comparison takes says
    /// nothing about how much of a guess was right.
    token: [u8; 32],
    sessions: Mutex<HashMap<String, Session>>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Access { token: <redacted> }")
    }
}

impl Access {
    pub fn new(token: &Secret) -> Access {
        Access {
            token: digest(token.expose()),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `given` is the token.
    pub fn is_token(&self, given: &str) -> bool {
        let given = digest(given);
        // Every byte is compared whatever the first difference.
        given
            .iter()
            .zip(self.token.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// A new session for a browser that gave the token: its id (the cookie) and CSRF token.
    pub fn open_session(&self) -> (String, String) {
        let (id, csrf) = (random_hex(), random_hex());
        let mut sessions = self.sessions();
        sessions.retain(|_, s| s.since.elapsed() < SESSION_LIFETIME);
        sessions.insert(
            id.clone(),
            Session {
                csrf: csrf.clone(),
                since: Instant::now(),
            },
        );
        (id, csrf)
    }

    /// Ends the session of `cookie` (the whole `Cookie` header), if any.
    pub fn close_session(&self, cookie: Option<&str>) {
        if let Some(id) = cookie.and_then(session_id) {
            self.sessions().remove(id);
        }
    }

    /// Whether `asking` may go on, and how it was allowed.
    pub fn check(&self, asking: &Asking<'_>) -> Result<Via, Refusal> {
        if let Some(auth) = asking.authorization {
            let token = auth.strip_prefix("Bearer ").ok_or(Refusal::NoCredentials)?;
            return if self.is_token(token.trim()) {
                Ok(Via::Token)
            } else {
                Err(Refusal::WrongToken)
            };
        }
        let id = asking
            .cookie
            .and_then(session_id)
            .ok_or(Refusal::NoCredentials)?;
        let csrf = {
            let sessions = self.sessions();
            match sessions.get(id) {
                Some(s) if s.since.elapsed() < SESSION_LIFETIME => s.csrf.clone(),
                _ => return Err(Refusal::UnknownSession),
            }
        };
        if asking.changes && (asking.csrf != Some(csrf.as_str()) || !same_origin(asking)) {
            return Err(Refusal::CrossSite);
        }
        Ok(Via::Session { csrf })
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether a browser's request comes from this server's own pages: `Sec-Fetch-Site` (when the
/// browser sends it) is `same-origin` or `none`, and `Origin` (when sent) is this server.
pub fn same_origin(asking: &Asking<'_>) -> bool {
    let site_ok = asking
        .fetch_site
        .is_none_or(|s| s.eq_ignore_ascii_case("same-origin") || s.eq_ignore_ascii_case("none"));
    let origin_ok = match (asking.origin, asking.host) {
        (None, _) => true,
        (Some(origin), Some(host)) => {
            origin.eq_ignore_ascii_case(&format!("{}://{host}", asking.scheme))
        }
        (Some(_), None) => false,
    };
    site_ok && origin_ok
}

/// The session id in a `Cookie` header.
fn session_id(cookie: &str) -> Option<&str> {
    cookie
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value for session `id`; `secure` over HTTPS.
pub fn session_cookie(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/{secure}")
}

/// A `Set-Cookie` value that ends the session cookie.
pub fn ended_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// 32 random bytes as hex: a session id, a CSRF token, a token made for a loopback dashboard.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The name an action is recorded under: what the person typed (trimmed, no control
/// characters, at most 60 characters), how they signed in, and from where.
pub fn who(actor: Option<&str>, via: &Via, peer: std::net::IpAddr) -> String {
    let name: String = actor
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(60)
        .collect();
    let name = name.trim();
    let name = if name.is_empty() { "someone" } else { name };
    format!("{name} ({}, {peer})", via.label())
}

#[cfg(test)]
mod tests;
