//! The dashboard's routes. Open to all: the page and its two assets, `GET /healthz`,
//! `POST /api/login` and `GET /api/session` (whether this browser is signed in: a plain answer
//! rather than a 401, which browsers log as an error on every signed-out page load). Everything else under `/api/` passes [`guard`] first (the token or a
//! session, and for a change the CSRF checks of [`super::access`]), before its body is read.
//! Each change is written to the ledger's audit log before it is made: a change the log cannot
//! hold is not made.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::access::{self, Asking, Via};
use super::snapshot::{self, PersonView};
use super::{App, Peer};
use crate::cmd::report::journey::JourneyReport;
use crate::config::Config;
use crate::ledger::audit::AuditEntry;
use crate::ledger::Ledger;
use crate::serve::control::Redo;

const PAGE: &str = include_str!("dashboard.html");
const SCRIPT: &str = include_str!("dashboard.js");
const STYLE: &str = include_str!("dashboard.css");

/// Nothing but this server's own script, style and requests.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A journey older than this is computed again when asked for.
pub(super) const JOURNEY_FRESH: Duration = Duration::from_secs(10);
/// The largest file `POST /api/inbox` takes.
const INBOX_LIMIT: usize = 256 * 1024 * 1024;
/// How many people a search answers with.
const PEOPLE_SHOWN: usize = 50;

pub fn router(app: App) -> Router {
    let guarded = Router::new()
        .route("/api/logout", post(logout))
        .route("/api/status", get(status))
        .route("/api/people", get(people))
        .route("/api/audit", get(audit))
        .route("/api/pause", post(pause))
        .route("/api/resume", post(resume))
        .route("/api/retry-failed", post(retry_failed))
        .route("/api/resend-uncertain", post(resend_uncertain))
        .route(
            "/api/inbox",
            post(inbox).layer(DefaultBodyLimit::max(INBOX_LIMIT)),
        )
        .route_layer(middleware::from_fn_with_state(app.clone(), guard));
    Router::new()
        .route(
            "/",
            get(|| async { asset(PAGE, "text/html; charset=utf-8") }),
        )
        .route(
            "/dashboard.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/dashboard.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/api/login", post(login))
        .route("/api/session", get(session))
        .merge(guarded)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such page") })
        .layer(middleware::map_response(secure_headers))
        .with_state(app)
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

async fn secure_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// An error answered as `{"error": "..."}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

type Answer = Result<Response, ApiError>;

fn asking<'a>(headers: &'a HeaderMap, method: &Method, https: bool) -> Asking<'a> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    Asking {
        changes: !matches!(*method, Method::GET | Method::HEAD),
        authorization: text("authorization"),
        cookie: text("cookie"),
        csrf: text(access::CSRF_HEADER),
        origin: text("origin"),
        fetch_site: text("sec-fetch-site"),
        host: text("host"),
        scheme: if https { "https" } else { "http" },
    }
}

/// The token or a session, and for a change the CSRF checks, before any route under `/api/`
/// (but login) reads its request.
async fn guard(State(app): State<App>, mut request: Request, next: Next) -> Response {
    let checked = app
        .access
        .check(&asking(request.headers(), request.method(), app.https));
    match checked {
        Ok(via) => {
            request.extensions_mut().insert(via);
            next.run(request).await
        }
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::FORBIDDEN);
            ApiError::new(status, refusal.to_string()).into_response()
        }
    }
}

#[derive(Deserialize)]
struct Login {
    token: String,
}

async fn login(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Answer {
    if !access::same_origin(&asking(&headers, &Method::POST, app.https)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            access::Refusal::CrossSite.to_string(),
        ));
    }
    let login: Login = serde_json::from_slice(&body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, r#"send {"token": "..."} as JSON"#))?;
    if !app.access.is_token(login.token.trim()) {
        // Slows down guessing; the token has 128 bits or more anyway.
        tokio::time::sleep(Duration::from_millis(500)).await;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            access::Refusal::WrongToken.to_string(),
        ));
    }
    let (id, _csrf) = app.access.open_session();
    let cookie = access::session_cookie(&id, app.https);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

async fn logout(State(app): State<App>, headers: HeaderMap) -> Response {
    let cookie = headers.get("cookie").and_then(|v| v.to_str().ok());
    app.access.close_session(cookie);
    (
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, access::ended_cookie())],
    )
        .into_response()
}

async fn session(State(app): State<App>, headers: HeaderMap) -> Answer {
    let via = match app.access.check(&asking(&headers, &Method::GET, app.https)) {
        Ok(via) => via,
        Err(access::Refusal::NoCredentials | access::Refusal::UnknownSession) => {
            return Ok(Json(json!({ "signed_in": false, "csrf": null })).into_response());
        }
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::FORBIDDEN);
            return Err(ApiError::new(status, refusal.to_string()));
        }
    };
    let csrf = match &via {
        Via::Session { csrf } => Some(csrf.clone()),
        Via::Token => None,
    };
    Ok(Json(json!({ "signed_in": true, "csrf": csrf, "via": via.label() })).into_response())
}

/// The config as it is now, or the last one that loaded when the file does not (an edit
/// halfway): the page keeps working while the service's loop reports the problem.
fn config(app: &App) -> Config {
    let mut last = app.config.lock().unwrap_or_else(|e| e.into_inner());
    if let Ok(fresh) = Config::load(&app.config_path) {
        *last = fresh;
    }
    last.clone()
}

/// Runs `read` with the dashboard's connection to the ledger at `path` (`None` when there is no
/// ledger yet), opening it when needed; an error drops the connection, so the next request
/// opens it again.
fn with_ledger<T>(
    app: &App,
    path: &Path,
    read: impl FnOnce(Option<&mut Ledger>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let mut kept = app.ledger.lock().unwrap_or_else(|e| e.into_inner());
    if kept.as_ref().is_some_and(|l| l.path() != path) {
        *kept = None;
    }
    if kept.is_none() && path.exists() {
        *kept = Some(Ledger::open(path)?);
    }
    let result = read(kept.as_mut());
    if result.is_err() {
        *kept = None;
    }
    result
}

/// The last journey; starts a refresh beside the request when it is older than
/// [`JOURNEY_FRESH`] (or there is none yet).
fn journey(app: &App) -> Option<(chrono::DateTime<Utc>, Arc<JourneyReport>)> {
    let mut journeys = app.journey_cache.lock().unwrap_or_else(|e| e.into_inner());
    let stale = journeys
        .tried
        .is_none_or(|tried| tried.elapsed() >= JOURNEY_FRESH);
    if stale && !journeys.refreshing {
        journeys.refreshing = true;
        journeys.tried = Some(Instant::now());
        let app = app.clone();
        tokio::task::spawn_blocking(move || {
            let computed = (app.journey)();
            let mut journeys = app.journey_cache.lock().unwrap_or_else(|e| e.into_inner());
            journeys.refreshing = false;
            match computed {
                Ok(report) => {
                    journeys.last = Some((Utc::now(), Arc::new(report)));
                    journeys.failed = None;
                }
                Err(e) => {
                    tracing::debug!("dashboard: journey: {e:#}");
                    journeys.failed = Some(format!("{e:#}"));
                }
            }
        });
    }
    journeys.last.as_ref().map(|(at, r)| (*at, r.clone()))
}

/// The journey, waiting for the first one when none was computed yet; why not when it cannot
/// be.
async fn journey_now(app: &App) -> Result<Arc<JourneyReport>, String> {
    if let Some((_, report)) = journey(app) {
        return Ok(report);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let journeys = app.journey_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, report)) = &journeys.last {
            return Ok(report.clone());
        }
        if !journeys.refreshing {
            return Err(journeys
                .failed
                .clone()
                .unwrap_or_else(|| "the journey is not computed yet; try again".into()));
        }
        if Instant::now() > deadline {
            return Err("the journey takes too long to compute; try again".into());
        }
    }
}

async fn status(State(app): State<App>) -> Answer {
    let journey = journey(&app);
    let shared = app.clone();
    let snap = tokio::task::spawn_blocking(move || {
        let config = config(&shared);
        let status = shared
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let paused = shared.control.paused();
        let journey = journey.as_ref().map(|(at, r)| (*at, r.as_ref()));
        with_ledger(&shared, &config.ledger.path, |ledger| {
            let ledger = ledger.map(|l| &*l);
            Ok(snapshot::snapshot(
                &config,
                ledger,
                &status,
                paused,
                journey,
                Utc::now(),
            )?)
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(Json(snap).into_response())
}

#[derive(Deserialize)]
struct Search {
    #[serde(default)]
    q: String,
}

async fn people(State(app): State<App>, Query(search): Query<Search>) -> Answer {
    let report = journey_now(&app).await.map_err(|why| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("people cannot be searched yet: {why}"),
        )
    })?;
    let q = search.q.trim().to_lowercase();
    let mut found = report.people.iter().filter(|j| {
        q.is_empty()
            || j.source_upn.to_lowercase().contains(&q)
            || j.target_upn.to_lowercase().contains(&q)
    });
    let people: Vec<PersonView> = found
        .by_ref()
        .take(PEOPLE_SHOWN)
        .map(PersonView::of)
        .collect();
    let more = found.next().is_some();
    Ok(Json(json!({ "query": search.q, "people": people, "more": more })).into_response())
}

async fn audit(State(app): State<App>) -> Answer {
    let shared = app.clone();
    let entries = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<AuditEntry>> {
        let path = config(&shared).ledger.path;
        with_ledger(&shared, &path, |ledger| match ledger {
            Some(l) => Ok(l.audit_log(50)?),
            None => Ok(Vec::new()),
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(Json(json!({ "entries": entries })).into_response())
}

/// Who asks, as [`guard`] allowed them and from where the connection came: what every change
/// records in the audit log.
struct Caller {
    via: Via,
    peer: std::net::IpAddr,
}

impl Caller {
    /// The audit log's name for this caller, with the name they typed.
    fn who(&self, actor: Option<&str>) -> String {
        access::who(actor, &self.via, self.peer)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, ApiError> {
        let via = parts.extensions.get::<Via>().cloned();
        let peer = parts.extensions.get::<Peer>().map(|Peer(p)| p.ip());
        match via.zip(peer) {
            Some((via, peer)) => Ok(Caller { via, peer }),
            // Only a route outside the guard could get here: a mistake in this file.
            None => Err(ApiError::internal("the request was not checked")),
        }
    }
}

/// The body of an action: who, and which campaign.
#[derive(Deserialize, Default)]
struct Action {
    actor: Option<String>,
    campaign: Option<String>,
}

fn action(body: &Bytes) -> Result<Action, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Action::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                r#"the body must be JSON like {{"actor": "your name", "campaign": "NAME"}}: {e}"#
            ),
        )
    })
}

/// Writes `entry` to the audit log; the change is made only once this succeeded.
async fn record(app: &App, entry: AuditEntry) -> Result<(), ApiError> {
    let shared = app.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let path = config(&shared).ledger.path;
        // The audit log may be the ledger's first row: create it then.
        if !path.exists() {
            Ledger::open(&path)?;
        }
        with_ledger(&shared, &path, |ledger| match ledger {
            Some(l) => Ok(l.record_audit(&entry)?),
            None => anyhow::bail!("no ledger at {}", path.display()),
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| {
        ApiError::internal(format!(
            "the audit log cannot be written, so nothing was changed: {e:#}"
        ))
    })
}

fn entry(who: String, action: &str, campaign: Option<&str>, detail: String) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        who,
        action: action.into(),
        campaign: campaign.map(str::to_string),
        detail,
    }
}

fn done(message: String) -> Answer {
    Ok(Json(json!({ "ok": true, "message": message })).into_response())
}

async fn pause(State(app): State<App>, caller: Caller, body: Bytes) -> Answer {
    let who = caller.who(action(&body)?.actor.as_deref());
    if let Some(p) = app.control.paused() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            crate::serve::control::ControlError::AlreadyPaused(p).to_string(),
        ));
    }
    let detail = "paused sending: the messages in flight finish, no new one starts".to_string();
    record(&app, entry(who.clone(), "pause", None, detail)).await?;
    match app.control.pause(&who, Utc::now()) {
        Ok(_) => {
            tracing::warn!("paused by {who} from the dashboard");
            done(
                "Paused. The messages in flight finish; no new message starts until you resume."
                    .into(),
            )
        }
        Err(e) => Err(ApiError::new(StatusCode::CONFLICT, e.to_string())),
    }
}

async fn resume(State(app): State<App>, caller: Caller, body: Bytes) -> Answer {
    let who = caller.who(action(&body)?.actor.as_deref());
    let Some(paused) = app.control.paused() else {
        return Err(ApiError::new(StatusCode::CONFLICT, "not paused"));
    };
    let detail = format!(
        "resumed sending (paused by {} at {})",
        paused.by,
        paused.at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    record(&app, entry(who.clone(), "resume", None, detail)).await?;
    app.control
        .resume()
        .map_err(|e| ApiError::new(StatusCode::CONFLICT, e.to_string()))?;
    tracing::info!("resumed by {who} from the dashboard");
    done("Resumed: every campaign is looked at now.".into())
}

async fn retry_failed(State(app): State<App>, caller: Caller, body: Bytes) -> Answer {
    redo(app, caller, body, Redo::RetryFailed).await
}

async fn resend_uncertain(State(app): State<App>, caller: Caller, body: Bytes) -> Answer {
    redo(app, caller, body, Redo::ResendUncertain).await
}

async fn redo(app: App, caller: Caller, body: Bytes, redo: Redo) -> Answer {
    let asked = action(&body)?;
    let who = caller.who(asked.actor.as_deref());
    let config = config(&app);
    let names: Vec<String> = crate::cmd::serve::campaign_names(&config)
        .into_iter()
        .map(|n| n.unwrap_or_else(|| config.active.name.clone()))
        .collect();
    let Some(campaign) = asked.campaign.filter(|c| names.contains(c)) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "name the campaign: \"campaign\" is one of {}",
                names.join(", ")
            ),
        ));
    };
    let (name, detail) = match redo {
        Redo::RetryFailed => (
            "retry-failed",
            "the people whose message failed are tried again in the campaign's next pass",
        ),
        Redo::ResendUncertain => (
            "resend-uncertain",
            "the people whose message may have been delivered are sent it again in the campaign's next pass",
        ),
    };
    record(
        &app,
        entry(who.clone(), name, Some(&campaign), detail.into()),
    )
    .await?;
    app.control.request(&campaign, redo);
    tracing::warn!("{name} in campaign {campaign}, asked by {who} from the dashboard");
    let when = if app.control.paused().is_some() {
        " (after you resume)"
    } else {
        ""
    };
    done(format!("Campaign {campaign}: {detail}{when}."))
}

#[derive(Deserialize)]
struct Upload {
    name: String,
}

async fn inbox(
    State(app): State<App>,
    caller: Caller,
    Query(upload): Query<Upload>,
    body: Bytes,
) -> Answer {
    let config = config(&app);
    let Some(dir) = config.serve.inbox.clone() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "this service has no inbox: set [serve] inbox = \"inbox\" in the config and restart it",
        ));
    };
    let name =
        upload_name(&upload.name).map_err(|why| ApiError::new(StatusCode::BAD_REQUEST, why))?;
    let who = caller.who(None);
    let detail = format!("uploaded {name} ({} bytes) into the inbox", body.len());
    record(&app, entry(who, "inbox-upload", None, detail)).await?;
    let saved = {
        let (dir, name) = (dir.clone(), name.clone());
        tokio::task::spawn_blocking(move || drop_into(&dir, &name, &body))
            .await
            .map_err(ApiError::internal)?
    };
    match saved {
        Ok(()) => {
            tracing::info!("inbox: {name} uploaded through the API");
            let answer = json!({ "ok": true, "saved": name, "message": format!("{name} is in the inbox; the next scan checks it and moves it to processed/ or rejected/") });
            Ok((StatusCode::CREATED, Json(answer)).into_response())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("{name} is already waiting in the inbox; send it under another name"),
        )),
        Err(e) => Err(ApiError::internal(format!(
            "cannot write {name} into {}: {e}",
            dir.display()
        ))),
    }
}

/// The file name an upload is saved under: a plain name the inbox takes (no folder, not hidden,
/// not a partial upload).
fn upload_name(name: &str) -> Result<String, String> {
    let plain = !name.is_empty()
        && name.len() <= 120
        && !name.starts_with('.')
        && !name.ends_with(".partial")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_. ".contains(c));
    if plain {
        Ok(name.to_string())
    } else {
        Err(format!(
            "`?name=` must be a plain file name (letters, digits, - _ . and spaces, not starting with a dot), like move-state-wave-2.csv; got {name:?}"
        ))
    }
}

/// Writes `bytes` as `dir/name`: first to a hidden `.partial` file the inbox skips, then renamed,
/// so a scan never takes half an upload. An existing file of that name is never replaced.
fn drop_into(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let target = dir.join(name);
    if target.exists() {
        return Err(std::io::ErrorKind::AlreadyExists.into());
    }
    let partial = dir.join(format!(".{name}.partial"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    let written = crate::platform::open_private(&mut options, &partial).and_then(|mut f| {
        std::io::Write::write_all(&mut f, bytes)?;
        f.sync_all()
    });
    let renamed = written.and_then(|()| {
        if target.exists() {
            return Err(std::io::ErrorKind::AlreadyExists.into());
        }
        std::fs::rename(&partial, &target)
    });
    if renamed.is_err() {
        // Our own partial file: nobody else wrote it.
        let _ = std::fs::remove_file(&partial);
    }
    renamed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_take_plain_names_only() {
        assert_eq!(
            upload_name("move-state wave_2.csv"),
            Ok("move-state wave_2.csv".into())
        );
        for bad in [
            "",
            "../x.csv",
            "a/b.csv",
            ".hidden.csv",
            "x.csv.partial",
            "c:x.csv",
        ] {
            assert!(upload_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_upload_lands_whole_and_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        drop_into(dir.path(), "wave-2.csv", b"a,b\n").unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("wave-2.csv")).unwrap(),
            b"a,b\n"
        );
        let again = drop_into(dir.path(), "wave-2.csv", b"other").unwrap_err();
        assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(
            std::fs::read(dir.path().join("wave-2.csv")).unwrap(),
            b"a,b\n"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["wave-2.csv"]);
    }
}
