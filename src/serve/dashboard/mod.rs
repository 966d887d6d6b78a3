//! The dashboard of `t2t-notify serve` and its JSON API: one page (HTML, script and style
//! compiled into the binary, nothing loaded from elsewhere, a strict Content-Security-Policy)
//! that polls `GET /api/status`, and the routes in [`api`]. Who may use it is decided in
//! [`access`]; what the status says in [`snapshot`].
//!
//! It runs on a thread of its own with its own small runtime, beside the service's loop: the
//! loop's passes block on their own runtime, and the page must answer while a pass runs.
//! Connections are served by hyper (HTTP/1.1, over rustls when `[dashboard] tls_cert` is set)
//! with the axum router; the accept loop is written out because axum's `serve` neither speaks
//! TLS nor hands the peer's address to routes that need it for the audit log.

pub mod access;
mod api;
pub mod snapshot;
mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tower::ServiceExt;

use crate::cmd::report::journey::JourneyReport;
use crate::config::Config;
use crate::secret::Secret;
use crate::serve::control::Control;
use crate::serve::SharedStatus;
use access::{Access, Exposure, TokenOrigin};

/// Computes the journey of the service's people (the plan and the ledger): slow for a big
/// mapping, so the dashboard keeps the last one for a while.
pub type JourneySource = Arc<dyn Fn() -> anyhow::Result<JourneyReport> + Send + Sync>;

/// The name of the token file a loopback dashboard writes next to the ledger when no token is
/// in the environment.
pub const TOKEN_FILE: &str = "dashboard-token";

/// What the dashboard reads and steers.
pub struct Parts {
    pub config: Config,
    pub status: SharedStatus,
    pub control: Arc<Control>,
    pub journey: JourneySource,
}

/// A started dashboard, for the start-up line.
#[derive(Debug, Clone)]
pub struct Started {
    pub url: String,
    pub token: TokenOrigin,
}

/// The peer of a connection, for the audit log.
#[derive(Debug, Clone, Copy)]
struct Peer(SocketAddr);

/// What every route shares.
struct Shared {
    config_path: PathBuf,
    /// The last config that loaded (the admin may be halfway through an edit).
    config: Mutex<Config>,
    status: SharedStatus,
    control: Arc<Control>,
    access: Access,
    https: bool,
    journey: JourneySource,
    journey_cache: Mutex<Journeys>,
    /// The dashboard's own connection to the ledger, kept open: opening checks the file's
    /// integrity, too slow to do every second at 100,000 people. Dropped on an error and
    /// opened again at the next request.
    ledger: Mutex<Option<crate::ledger::Ledger>>,
}

type App = Arc<Shared>;

/// The last journey computed (when, for the page; its age, to refresh it), and whether a
/// refresh is running. A refresh runs beside the requests, never in their way: at 100,000
/// people it reads the whole plan, and the page polls every second.
#[derive(Default)]
struct Journeys {
    last: Option<(DateTime<Utc>, Arc<JourneyReport>)>,
    refreshing: bool,
    /// When the last refresh started: the next one starts [`api::JOURNEY_FRESH`] later, also
    /// after a failure.
    tried: Option<std::time::Instant>,
    /// The last refresh failed (no mapping yet): said on the page until one succeeds.
    failed: Option<String>,
}

/// Binds the configured address and serves the dashboard on a thread of its own until the
/// process ends. Refuses a non-loopback address without TLS and a token from the environment.
pub fn start(parts: Parts) -> anyhow::Result<Started> {
    let settings = parts.config.dashboard.clone();
    let addr: SocketAddr = settings.listen.parse().with_context(|| {
        format!(
            "[dashboard] listen `{}` is not an address and port",
            settings.listen
        )
    })?;
    let from_env = match Secret::from_env(&settings.token_env) {
        Ok(token) => Some(token),
        Err(crate::secret::SecretError::Missing(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let tls_files = settings.tls_cert.clone().zip(settings.tls_key.clone());
    let exposure = Exposure::decide(
        addr,
        tls_files.is_some(),
        &settings.token_env,
        from_env.as_ref().map(|t| t.expose().len()),
    )
    .map_err(|e| crate::exit::InvalidInput(e.to_string()))?;
    let (token, origin) = match from_env {
        Some(token) => (token, TokenOrigin::Env(settings.token_env.clone())),
        None => {
            debug_assert_eq!(exposure, Exposure::Loopback);
            let file = token_file(&parts.config.ledger.path);
            (loopback_token(&file)?, TokenOrigin::File(file))
        }
    };
    let tls = match &tls_files {
        Some((cert, key)) => Some(tls::acceptor(cert, key)?),
        None => None,
    };
    let listener = std::net::TcpListener::bind(addr).with_context(|| {
        format!("cannot listen on {addr} for the dashboard ([dashboard] listen; another program may use the port, or set enabled = false)")
    })?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let app: App = Arc::new(Shared {
        config_path: parts.config.path.clone(),
        config: Mutex::new(parts.config),
        status: parts.status,
        control: parts.control,
        access: Access::new(&token),
        https: tls.is_some(),
        journey: parts.journey,
        journey_cache: Mutex::new(Journeys::default()),
        ledger: Mutex::new(None),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("dashboard")
        .enable_all()
        .build()?;
    let router = api::router(app);
    std::thread::Builder::new()
        .name("dashboard".into())
        .spawn(move || runtime.block_on(accept(listener, router, tls)))?;
    Ok(Started {
        url: format!("{scheme}://{bound}/"),
        token: origin,
    })
}

/// Where a loopback dashboard keeps the token it made: next to the ledger.
pub fn token_file(ledger: &Path) -> PathBuf {
    ledger
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(TOKEN_FILE)
}

/// The token in `file`, or a new one written there (owner only) when it has none: the same
/// token across restarts, so a signed-in admin only signs in again when the file changes.
fn loopback_token(file: &Path) -> anyhow::Result<Secret> {
    if let Ok(text) = std::fs::read_to_string(file) {
        let text = text.trim();
        if text.len() >= 16 {
            return Ok(Secret::new(text));
        }
    }
    let token = access::random_hex();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    let mut out = crate::platform::open_private(&mut options, file)
        .with_context(|| format!("cannot write the dashboard token to {}", file.display()))?;
    std::io::Write::write_all(&mut out, format!("{token}\n").as_bytes())
        .with_context(|| format!("cannot write the dashboard token to {}", file.display()))?;
    Ok(Secret::new(token))
}

async fn accept(
    listener: std::net::TcpListener,
    router: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("dashboard: cannot listen: {e}");
            return;
        }
    };
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!("dashboard: cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let router = router.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => connection(stream, peer, router).await,
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => connection(stream, peer, router).await,
                    Err(e) => tracing::debug!("dashboard: TLS handshake with {peer} failed: {e}"),
                },
            }
        });
    }
}

async fn connection<S>(stream: S, peer: SocketAddr, router: axum::Router)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
        request.extensions_mut().insert(Peer(peer));
        router.clone().oneshot(request)
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        // A client that never finishes its headers must not hold a connection for ever.
        .header_read_timeout(Duration::from_secs(20))
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(e) = served {
        tracing::debug!("dashboard: connection from {peer}: {e}");
    }
}
