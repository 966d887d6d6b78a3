//! A stand-in for the Microsoft identity platform's token endpoint and Microsoft Graph's
//! `sendMail`, on 127.0.0.1 port 0 (hyper): issues tokens for the client-credentials grant,
//! accepts only tokens it issued, has not revoked and that have not expired, answers `sendMail`
//! from a script per recipient or a shared one (202 when both are empty), optionally after a
//! delay, and records every request with its arrival time and the status it was answered.

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::Semaphore;

pub const TENANT: &str = "3c9d1e7a-5b2f-4a68-9e0d-7f4b2c8a6d15";
pub const CLIENT_ID: &str = "0b7c2f6e-1d3a-4e5b-9c8d-7a6f5e4d3c2b";
pub const SENDER: &str = "it-migration@fabrikam.com";

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the request arrived (before its body was read).
    pub at: DateTime<Utc>,
    /// The status it was answered with; `None` while unanswered or for a hung request.
    pub status: Option<u16>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }
    pub fn field(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
    /// The MIME message of a `sendMail` request: its base64 body decoded.
    pub fn mime(&self) -> Option<Vec<u8>> {
        STANDARD.decode(&self.body).ok()
    }
    /// The first `To` address of the `sendMail` message, lower case.
    pub fn recipient(&self) -> Option<String> {
        let mime = self.mime()?;
        let message = mail_parser::MessageParser::default().parse(&mime)?;
        let to = message.to()?.first()?.address()?.to_lowercase();
        Some(to)
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub enum Scripted {
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Never answer (the client's timeout fires). For `sendMail` scripts only.
    Hang,
    /// `429 ApplicationThrottled` with `Retry-After` as the HTTP date `after` from the moment
    /// of answering. For `sendMail` scripts only.
    ThrottledUntil { after: Duration },
}

impl Scripted {
    pub fn status(status: u16, body: &str) -> Scripted {
        Scripted::Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.into(),
        }
    }
    pub fn with_header(self, name: &'static str, value: &str) -> Scripted {
        match self {
            Scripted::Reply {
                status,
                mut headers,
                body,
            } => {
                headers.push((name, value.to_string()));
                Scripted::Reply {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
    /// Graph's answer to a message it took: `202 Accepted`, empty body.
    pub fn accepted() -> Scripted {
        Scripted::Reply {
            status: 202,
            headers: vec![("request-id", "standin-req".into())],
            body: String::new(),
        }
    }
    pub fn graph_error(status: u16, code: &str, message: &str) -> Scripted {
        let body = serde_json::json!({"error": {"code": code, "message": message,
            "innerError": {"date": "2026-11-27T08:00:00", "request-id": "standin-req"}}});
        Scripted::status(status, &body.to_string())
    }
}

/// What the stand-in knows and has seen.
pub struct State {
    pub requests: Vec<Received>,
    /// `expires_in` of issued tokens.
    pub expires_in: u64,
    /// The client secret the token endpoint accepts; `None` expects a client assertion.
    pub client_secret: Option<String>,
    pub scope: String,
    pub issued: Vec<String>,
    /// When each issued token expires (by the `expires_in` it was issued with).
    pub expiry: HashMap<String, Instant>,
    pub revoked: HashSet<String>,
    /// Refuse every token, as Graph does when the app lacks consent.
    pub refuse_all: bool,
    pub token_script: VecDeque<Scripted>,
    pub graph_script: VecDeque<Scripted>,
    /// Answers for the messages to one address (lower case), used before `graph_script`.
    pub by_recipient: HashMap<String, VecDeque<Scripted>>,
    /// How long each `sendMail` takes before it is answered.
    pub delay: Duration,
    pub in_flight: usize,
    pub max_in_flight: usize,
    /// The directory `GET /v1.0/users` pages through: UPN and `lastSuccessfulSignInDateTime`.
    pub users: Vec<(String, Option<String>)>,
    /// Users per page.
    pub users_page: usize,
    /// Answers for `GET /v1.0/users`, used before the directory (a 429, a 403).
    pub users_script: VecDeque<Scripted>,
    nonce: String,
}

/// The running stand-in; it stops with the test's runtime.
#[derive(Clone)]
pub struct StandIn {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
    /// When set, `sendMail` requests wait for a permit before answering.
    gate: Arc<Mutex<Option<Arc<Semaphore>>>>,
}

impl StandIn {
    /// Starts a stand-in that accepts `client_secret` (or, with `None`, a client assertion).
    pub async fn start(client_secret: Option<&str>) -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let nonce: u64 = rand::random();
        let state = Arc::new(Mutex::new(State {
            requests: Vec::new(),
            expires_in: 3599,
            client_secret: client_secret.map(str::to_string),
            scope: "https://graph.microsoft.com/.default".into(),
            issued: Vec::new(),
            expiry: HashMap::new(),
            revoked: HashSet::new(),
            refuse_all: false,
            token_script: VecDeque::new(),
            graph_script: VecDeque::new(),
            by_recipient: HashMap::new(),
            delay: Duration::ZERO,
            in_flight: 0,
            max_in_flight: 0,
            users: Vec::new(),
            users_page: 2,
            users_script: VecDeque::new(),
            nonce: format!("{nonce:016x}"),
        }));
        let standin = StandIn {
            addr,
            state,
            gate: Arc::new(Mutex::new(None)),
        };
        let server = standin.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let s = server.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let s = s.clone();
                        async move { Ok::<_, Infallible>(s.handle(req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        standin
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token_path(&self) -> String {
        format!("/{TENANT}/oauth2/v2.0/token")
    }

    pub fn send_path(&self) -> String {
        format!("/v1.0/users/{SENDER}/sendMail")
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    pub fn requests(&self) -> Vec<Received> {
        self.with(|s| s.requests.clone())
    }

    pub fn requests_to(&self, path: &str) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    pub fn script_graph(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.with(|s| s.graph_script.extend(answers));
    }

    /// Answers for the next messages to `address`, in order; then the shared script applies.
    pub fn script_recipient(&self, address: &str, answers: impl IntoIterator<Item = Scripted>) {
        self.with(|s| {
            s.by_recipient
                .entry(address.to_lowercase())
                .or_default()
                .extend(answers)
        });
    }

    /// Makes `sendMail` requests wait until [`StandIn::open_gate`].
    pub fn close_gate(&self) {
        *self.gate.lock().unwrap() = Some(Arc::new(Semaphore::new(0)));
    }

    pub fn open_gate(&self) {
        if let Some(gate) = self.gate.lock().unwrap().take() {
            gate.add_permits(Semaphore::MAX_PERMITS / 2);
        }
    }

    /// Whether `token` is one this stand-in issued and still accepts.
    pub fn accepts(&self, token: &str) -> bool {
        self.with(|s| {
            !s.refuse_all
                && s.issued.iter().any(|t| t == token)
                && !s.revoked.contains(token)
                && s.expiry.get(token).is_some_and(|&end| Instant::now() < end)
        })
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let at = Utc::now();
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        let received = Received {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body,
            at,
            status: None,
        };
        let index = self.with(|s| {
            s.requests.push(received.clone());
            s.requests.len() - 1
        });
        let response = if received.method == "POST" && received.path == self.token_path() {
            self.token(&received)
        } else if received.method == "POST" && received.path == self.send_path() {
            self.send_mail(&received).await
        } else if received.method == "GET" && received.path == "/v1.0/users" {
            self.users(&received, parts.uri.query().unwrap_or(""))
        } else {
            reply(&Scripted::graph_error(
                404,
                "ResourceNotFound",
                "Resource not found",
            ))
        };
        self.with(|s| s.requests[index].status = Some(response.status().as_u16()));
        response
    }

    /// One page of the directory with each user's `signInActivity`, as Graph lists it for
    /// `$select=userPrincipalName,signInActivity`; the next page is `$skiptoken=<index>`.
    fn users(&self, req: &Received, query: &str) -> Response<Full<Bytes>> {
        let token = req
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            .unwrap_or("");
        if !self.accepts(token) {
            return reply(&Scripted::graph_error(
                401,
                "InvalidAuthenticationToken",
                "Access token is empty or invalid.",
            ));
        }
        let mut s = self.state.lock().unwrap();
        if let Some(answer) = s.users_script.pop_front() {
            return reply(&answer);
        }
        let start: usize = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("$skiptoken="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let end = (start + s.users_page).min(s.users.len());
        let value: Vec<serde_json::Value> = s.users[start..end]
            .iter()
            .map(|(upn, last)| {
                serde_json::json!({"id": upn, "userPrincipalName": upn,
                    "signInActivity": {"lastSignInDateTime": last, "lastSuccessfulSignInDateTime": last}})
            })
            .collect();
        let mut page = serde_json::json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(userPrincipalName,signInActivity)", "value": value});
        if end < s.users.len() {
            page["@odata.nextLink"] = format!(
                "{}/v1.0/users?$select=userPrincipalName,signInActivity&$top=999&$skiptoken={end}",
                self.url()
            )
            .into();
        }
        reply(&Scripted::status(200, &page.to_string()))
    }

    fn token(&self, req: &Received) -> Response<Full<Bytes>> {
        let mut s = self.state.lock().unwrap();
        if let Some(answer) = s.token_script.pop_front() {
            return reply(&answer);
        }
        let ok = req.field("grant_type").as_deref() == Some("client_credentials")
            && req.field("client_id").as_deref() == Some(CLIENT_ID)
            && req.field("scope") == Some(s.scope.clone())
            && match &s.client_secret {
                Some(secret) => req.field("client_secret").as_ref() == Some(secret),
                None => {
                    req.field("client_assertion_type").as_deref()
                        == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                        && req.field("client_assertion").is_some()
                }
            };
        if !ok {
            let body = serde_json::json!({"error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t\r\nCorrelation ID: c",
                "error_codes": [7000215]});
            return reply(&Scripted::status(401, &body.to_string()));
        }
        let token = format!("tok-{}-{}", s.nonce, s.issued.len() + 1);
        s.issued.push(token.clone());
        let end = Instant::now() + Duration::from_secs(s.expires_in);
        s.expiry.insert(token.clone(), end);
        let body = serde_json::json!({"token_type": "Bearer", "expires_in": s.expires_in,
            "ext_expires_in": s.expires_in, "access_token": token});
        reply(&Scripted::status(200, &body.to_string()))
    }

    async fn send_mail(&self, req: &Received) -> Response<Full<Bytes>> {
        let bearer = req
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !self.accepts(bearer) {
            return reply(&Scripted::graph_error(
                401,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
            ));
        }
        self.with(|s| {
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
        });
        let gate = self.gate.lock().unwrap().clone();
        if let Some(gate) = gate {
            let _ = gate.acquire().await;
        }
        tokio::time::sleep(self.with(|s| s.delay)).await;
        let recipient = req.recipient().unwrap_or_default();
        let answer = self.with(|s| {
            s.in_flight -= 1;
            s.by_recipient
                .get_mut(&recipient)
                .and_then(VecDeque::pop_front)
                .or_else(|| s.graph_script.pop_front())
        });
        match answer {
            Some(Scripted::Hang) => std::future::pending().await,
            Some(Scripted::ThrottledUntil { after }) => {
                let date = httpdate::fmt_http_date(SystemTime::now() + after);
                let throttled = Scripted::graph_error(
                    429,
                    "ApplicationThrottled",
                    "Application is over its MailboxConcurrency limit.",
                );
                reply(&throttled.with_header("retry-after", &date))
            }
            Some(answer) => reply(&answer),
            None => reply(&Scripted::accepted()),
        }
    }
}

fn reply(answer: &Scripted) -> Response<Full<Bytes>> {
    let Scripted::Reply {
        status,
        headers,
        body,
    } = answer
    else {
        unreachable!("Hang and ThrottledUntil are handled by the caller")
    };
    let mut response = Response::builder().status(*status);
    for (k, v) in headers {
        response = response.header(*k, v);
    }
    response.body(Full::new(Bytes::from(body.clone()))).unwrap()
}
