//! The dashboard and JSON API of a running `serve`, over real HTTP on 127.0.0.1: the token is
//! required everywhere but `/healthz` and the page; a browser session changes state only with
//! its CSRF token from its own origin (a cross-site form post is refused and changes nothing);
//! every change is in the ledger's audit log; pause, resume and retry act on the running
//! service; uploads land in the inbox and are used; beyond loopback it takes TLS and a token.

use std::path::Path;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use t2t_notify::ledger::Ledger;

use super::{wait_for, Serving};
use crate::send::helpers::{once_each, sample_recipients, Site};
use crate::sink::Sink;

pub const TOKEN: &str = "dashboard-test-token-0123456789abcdef";

/// One answer: status, headers and body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// A small client for the API at `base`.
pub struct Api {
    pub base: String,
    client: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api::with_client(base, reqwest::Client::new())
    }

    pub fn with_client(base: &str, client: reqwest::Client) -> Api {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Api {
            base: base.trim_end_matches('/').to_string(),
            client,
            rt,
        }
    }

    /// `method path` with `headers` and `body`.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, HeaderValue::from_str(value).unwrap());
        }
        self.rt.block_on(async {
            let response = request.send().await.expect("the dashboard answers");
            Answer {
                status: response.status(),
                headers: response.headers().clone(),
                body: response.text().await.unwrap(),
            }
        })
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        self.call(Method::GET, path, headers, "")
    }

    /// With the token.
    pub fn bearer_get(&self, path: &str) -> Answer {
        self.get(path, &[("authorization", &format!("Bearer {TOKEN}"))])
    }

    pub fn bearer_post(&self, path: &str, body: Value) -> Answer {
        let auth = format!("Bearer {TOKEN}");
        let headers = [
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ];
        self.call(Method::POST, path, &headers, body.to_string())
    }
}

/// The dashboard's address from the service's start-up line.
pub fn dashboard_url(log: &str) -> String {
    let line = log
        .lines()
        .find(|l| l.contains("dashboard at "))
        .unwrap_or_else(|| panic!("no dashboard line:\n{log}"));
    let rest = &line[line.find("dashboard at ").unwrap() + "dashboard at ".len()..];
    rest.split(';').next().unwrap().to_string()
}

/// `serve` with the token in the environment, its dashboard on a free port.
pub fn serving_with_dashboard(site: &Site) -> (Serving, Api) {
    let sample = crate::harness::root().join("sample-data");
    let serving = Serving::start_with(site, &sample, &[("T2T_NOTIFY_DASHBOARD_TOKEN", TOKEN)]);
    serving.wait_for_log("dashboard at ");
    let api = Api::new(&dashboard_url(&serving.log()));
    (serving, api)
}

fn audit(ledger: &Path) -> Vec<(String, String)> {
    Ledger::open(ledger)
        .unwrap()
        .audit_log(100)
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.who))
        .collect()
}

#[test]
fn the_api_needs_the_token_and_refuses_cross_site_form_posts() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    let (serving, api) = serving_with_dashboard(&site);
    let host = api.base.trim_start_matches("http://").to_string();
    let origin = api.base.clone();

    let health = api.get("/healthz", &[]);
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "ok\n")
    );
    let page = api.get("/", &[]);
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!page.body.contains("<script>"), "no inline script");

    let signed_out = api.get("/api/session", &[]);
    assert_eq!(signed_out.status, StatusCode::OK);
    assert_eq!(signed_out.json()["signed_in"], false);
    for path in ["/api/status", "/api/people?q=ana", "/api/audit"] {
        let refused = api.get(path, &[]);
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(
            refused.json()["error"].as_str().unwrap().contains("Bearer"),
            "{path}"
        );
        let wrong = api.get(path, &[("authorization", "Bearer not-the-token-at-all")]);
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let status = api.bearer_get("/api/status");
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    let status_json = status.json();
    let names: Vec<&str> = status_json["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["move-warning", "post-migration", "sign-in-reminder"]
    );
    assert!(!status.body.contains(TOKEN));
    let no_token_pause = api.call(Method::POST, "/api/pause", &[], "");
    assert_eq!(no_token_pause.status, StatusCode::UNAUTHORIZED);

    // A browser signs in with the token and gets a session cookie.
    let wrong_login = api.call(
        Method::POST,
        "/api/login",
        &[("content-type", "application/json"), ("origin", &origin)],
        json!({"token": "guess"}).to_string(),
    );
    assert_eq!(wrong_login.status, StatusCode::UNAUTHORIZED);
    let login = api.call(
        Method::POST,
        "/api/login",
        &[("content-type", "application/json"), ("origin", &origin)],
        json!({ "token": TOKEN }).to_string(),
    );
    assert_eq!(login.status, StatusCode::NO_CONTENT, "{}", login.body);
    let set_cookie = login.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    assert!(!set_cookie.contains(TOKEN), "the cookie is not the token");
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let session = api.get("/api/session", &[("cookie", &cookie)]).json();
    let csrf = session["csrf"].as_str().unwrap().to_string();

    // Another site's form posts to the dashboard with the browser's cookie: refused, no change.
    let form = api.call(
        Method::POST,
        "/api/pause",
        &[
            ("cookie", &cookie),
            ("content-type", "application/x-www-form-urlencoded"),
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
        "actor=mallory",
    );
    assert_eq!(form.status, StatusCode::FORBIDDEN, "{}", form.body);
    assert!(form.json()["error"]
        .as_str()
        .unwrap()
        .contains("cross-site"));
    // Even from the same origin, a change without the session's CSRF token is refused.
    let no_csrf = api.call(
        Method::POST,
        "/api/pause",
        &[("cookie", &cookie), ("origin", &origin), ("host", &host)],
        json!({"actor": "ana"}).to_string(),
    );
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    assert_eq!(api.bearer_get("/api/status").json()["paused"], Value::Null);
    assert!(
        audit(&site.ledger()).is_empty(),
        "refused requests change nothing"
    );

    // The page itself: cookie, CSRF header, own origin.
    let paused = api.call(
        Method::POST,
        "/api/pause",
        &[
            ("cookie", &cookie),
            ("x-csrf-token", &csrf),
            ("origin", &origin),
            ("sec-fetch-site", "same-origin"),
            ("content-type", "application/json"),
        ],
        json!({"actor": "Ana <script>"}).to_string(),
    );
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    let status = api.bearer_get("/api/status").json();
    assert_eq!(
        status["paused"]["by"],
        "Ana <script> (dashboard, 127.0.0.1)"
    );
    let again = api.bearer_post("/api/pause", json!({}));
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.json()["error"]
        .as_str()
        .unwrap()
        .contains("already paused by Ana"));
    let resumed = api.bearer_post("/api/resume", json!({"actor": "ops-bot"}));
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.body);
    assert_eq!(api.bearer_get("/api/status").json()["paused"], Value::Null);
    assert_eq!(
        audit(&site.ledger()),
        [
            (
                "resume".to_string(),
                "ops-bot (API token, 127.0.0.1)".to_string()
            ),
            (
                "pause".to_string(),
                "Ana <script> (dashboard, 127.0.0.1)".to_string()
            ),
        ]
    );
    let listed = api.bearer_get("/api/audit").json();
    assert_eq!(listed["entries"][0]["action"], "resume");

    let unknown = api.bearer_post("/api/retry-failed", json!({"campaign": "nope"}));
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body.contains("post-migration"), "{}", unknown.body);
    let no_inbox = api.call(
        Method::POST,
        "/api/inbox?name=wave-1.csv",
        &[("authorization", &format!("Bearer {TOKEN}"))],
        "x",
    );
    assert_eq!(no_inbox.status, StatusCode::CONFLICT);
    assert!(no_inbox.body.contains("[serve] inbox"), "{}", no_inbox.body);

    // Signing out ends the session.
    let out = api.call(
        Method::POST,
        "/api/logout",
        &[
            ("cookie", &cookie),
            ("x-csrf-token", &csrf),
            ("origin", &origin),
        ],
        "",
    );
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        api.get("/api/session", &[("cookie", &cookie)]).json()["signed_in"],
        false
    );
    let log = serving.log();
    assert!(!log.contains(TOKEN), "the token is never logged");
    serving.signal(libc::SIGTERM);
    assert_eq!(serving.wait().0, 0);
}

#[test]
fn exports_uploaded_through_the_api_are_taken_and_retry_failed_sends_again() {
    let sink = Sink::options().hard_reject("RCPT").start();
    let inbox = tempfile::tempdir().unwrap();
    let site = Site::new(sink.port)
        .env("T2T_NOTIFY_SERVE_INBOX", inbox.path().to_str().unwrap())
        .env(
            "T2T_NOTIFY_TRANSPORT_STOP_AFTER_SAME_PERMANENT_FAILURES",
            "0",
        );
    let (serving, api) = serving_with_dashboard(&site);
    let upload = |name: &str, file: &Path| {
        api.call(
            Method::POST,
            &format!("/api/inbox?name={name}"),
            &[("authorization", &format!("Bearer {TOKEN}"))],
            std::fs::read(file).unwrap(),
        )
    };
    let bad = upload(
        "../escape.csv",
        &crate::harness::root().join("sample-data/wave-1.csv"),
    );
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let wave = upload(
        "wave-1.csv",
        &crate::harness::root().join("sample-data/wave-1.csv"),
    );
    assert_eq!(wave.status, StatusCode::CREATED, "{}", wave.body);
    serving.wait_for_log("inbox: wave-1.csv taken");
    for side in ["source", "target"] {
        let evidence = crate::harness::fixture(&format!("trust/accepted-{side}.json"));
        assert_eq!(
            upload(&format!("{side}.json"), &evidence).status,
            StatusCode::CREATED
        );
    }
    // The sink refuses every recipient: the ten people of wave 1 fail.
    serving.wait_for_log("some people failed");
    let failed = |api: &Api| {
        api.bearer_get("/api/status").json()["campaigns"][1]["counts"]["failed"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(failed(&api), 10);
    // The journey (funnel, attention) is computed beside the requests: it shows up shortly.
    wait_for(
        "the ten failed people under attention",
        || api.bearer_get("/api/status").json()["attention_total"] == 10,
        || api.bearer_get("/api/status").body,
    );
    let asked = api.bearer_post(
        "/api/retry-failed",
        json!({"campaign": "post-migration", "actor": "ana"}),
    );
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    wait_for(
        "the retry pass",
        || serving.log().matches("people due; sending").count() >= 2,
        || serving.log(),
    );
    serving.wait_for_log(
        "retry-failed in campaign post-migration, asked by ana (API token, 127.0.0.1)",
    );
    wait_for(
        "the second attempt of everyone in wave 1",
        || {
            let rows = Ledger::open(&site.ledger())
                .unwrap()
                .deliveries(Some("post-migration"))
                .unwrap();
            rows.len() == 10
                && rows
                    .iter()
                    .all(|r| r.attempts == 2 && r.state.to_string() == "failed")
        },
        || serving.log(),
    );
    let entries = audit(&site.ledger());
    assert!(
        entries.iter().any(|(a, _)| a == "retry-failed"),
        "{entries:?}"
    );
    assert_eq!(
        entries.iter().filter(|(a, _)| a == "inbox-upload").count(),
        3,
        "{entries:?}"
    );
    serving.signal(libc::SIGTERM);
    serving.wait();
}

#[test]
fn a_pause_from_the_api_stops_the_running_pass_and_resume_sends_the_rest_once() {
    let sink = Sink::start();
    let site = Site::new(sink.port).env("T2T_NOTIFY_PACING_PER_MINUTE", "120");
    site.open_gate();
    let (mut serving, api) = serving_with_dashboard(&site);
    wait_for("a few notices", || sink.count() >= 3, || serving.log());
    let paused = api.bearer_post("/api/pause", json!({"actor": "ana"}));
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    // The message being sent may still finish; then nothing starts.
    std::thread::sleep(Duration::from_secs(1));
    let at_pause = sink.count();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        sink.count(),
        at_pause,
        "nothing new while paused:\n{}",
        serving.log()
    );
    assert!(at_pause < sample_recipients().len(), "paused early enough");
    serving.wait_for_log("campaign post-migration: paused by ana (API token, 127.0.0.1)");
    let status = api.bearer_get("/api/status").json();
    assert_eq!(
        status["campaigns"][1]["state"]["kind"], "paused",
        "{status}"
    );
    assert_eq!(status["campaigns"][1]["counts"]["in_flight"], 0, "{status}");
    assert!(serving.running(), "a pause keeps the service");
    let resumed = api.bearer_post("/api/resume", json!({"actor": "ana"}));
    assert_eq!(resumed.status, StatusCode::OK);
    let everyone = once_each(&sample_recipients());
    wait_for(
        "everyone's notice",
        || sink.deliveries() == everyone,
        || serving.log(),
    );
    // Between passes, so the stop is the service's normal end.
    serving.wait_for_log("campaign post-migration: pass done");
    serving.signal(libc::SIGTERM);
    let (code, log) = serving.wait();
    assert_eq!(code, 0, "{log}");
}

/// A self-signed certificate for 127.0.0.1 made with openssl: (cert, key) in `dir`.
fn certificate(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "extendedKeyUsage=serverAuth",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (scripts/test.sh installs it)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    (cert, key)
}

#[test]
fn beyond_loopback_the_dashboard_needs_tls_and_a_token() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let site = Site::new(sink.port).env("T2T_NOTIFY_DASHBOARD_LISTEN", "0.0.0.0:0");
    let sample = crate::harness::root().join("sample-data");
    let mapping = sample.join("identity-map.csv");
    site.t2t()
        .env("T2T_NOTIFY_DASHBOARD_TOKEN", TOKEN)
        .args(["serve", "--mapping"])
        .arg(&mapping)
        .run()
        .status(2)
        .contains("tls_cert and tls_key");
    site.t2t()
        .env("T2T_NOTIFY_DASHBOARD_TLS_CERT", cert)
        .env("T2T_NOTIFY_DASHBOARD_TLS_KEY", key)
        .args(["serve", "--mapping"])
        .arg(&mapping)
        .run()
        .status(2)
        .contains("T2T_NOTIFY_DASHBOARD_TOKEN");
    let env = [
        ("T2T_NOTIFY_DASHBOARD_LISTEN", "0.0.0.0:0"),
        ("T2T_NOTIFY_DASHBOARD_TOKEN", TOKEN),
        ("T2T_NOTIFY_DASHBOARD_TLS_CERT", cert),
        ("T2T_NOTIFY_DASHBOARD_TLS_KEY", key),
    ];
    let serving = Serving::start_with(&site, &sample, &env);
    serving.wait_for_log("dashboard at https://0.0.0.0:");
    let url = dashboard_url(&serving.log()).replace("0.0.0.0", "127.0.0.1");
    let pem = std::fs::read(cert).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let api = Api::with_client(&url, client);
    assert_eq!(api.get("/healthz", &[]).status, StatusCode::OK);
    assert_eq!(api.get("/api/status", &[]).status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.bearer_get("/api/status").status, StatusCode::OK);
    let login = api.call(
        Method::POST,
        "/api/login",
        &[("content-type", "application/json")],
        json!({ "token": TOKEN }).to_string(),
    );
    assert!(login.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Secure"));
    serving.signal(libc::SIGTERM);
    assert_eq!(serving.wait().0, 0);
}
