//! The fetch against a stand-in for the token endpoint and Graph's user list on 127.0.0.1
//! port 0 (hyper): pages joined by nextLink, throttling, token refusal, permission and licence
//! refusals, a nextLink to another host.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use super::*;
use crate::oauth::Credential;
use crate::secret::Secret;

const CLIENT_ID: &str = "0b7c2f6e-1d3a-4e5b-9c8d-7a6f5e4d3c2b";
const SECRET: &str = "s3cr3t~client~value";
const TOKEN_PATH: &str = "/fabrikam.onmicrosoft.com/oauth2/v2.0/token";

/// A scripted answer of the user list.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Reply {
    fn ok(body: String) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body,
        }
    }
    fn graph_error(status: u16, code: &str, message: &str) -> Reply {
        let body = serde_json::json!({"error": {"code": code, "message": message,
            "innerError": {"date": "2026-12-06T08:00:00", "request-id": "standin-req"}}});
        Reply {
            status,
            headers: vec![("request-id", "standin-req".into())],
            body: body.to_string(),
        }
    }
    fn with_header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }
}

/// A request to the user list.
#[derive(Debug, Clone)]
struct Seen {
    query: String,
    authorization: String,
    at: Instant,
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    users: Vec<Seen>,
    /// Scopes of the token requests, in order.
    token_scopes: Vec<String>,
}

#[derive(Clone)]
struct StandIn {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl StandIn {
    async fn start() -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let standin = StandIn {
            addr: listener.local_addr().unwrap(),
            state: Arc::default(),
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

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().unwrap().script.extend(replies);
    }

    fn users_requests(&self) -> Vec<Seen> {
        self.state.lock().unwrap().users.clone()
    }

    fn token_scopes(&self) -> Vec<String> {
        self.state.lock().unwrap().token_scopes.clone()
    }

    /// A page of `upns` (users with even places signed in), linking to `$skiptoken=next`.
    fn page(&self, upns: &[&str], next: Option<&str>) -> Reply {
        let value: Vec<_> = upns
            .iter()
            .enumerate()
            .map(|(i, upn)| {
                let last = (i % 2 == 0).then_some("2026-11-30T08:00:00Z");
                serde_json::json!({"id": format!("id-{upn}"), "userPrincipalName": upn,
                    "signInActivity": {"lastSignInDateTime": "2026-12-01T08:00:00Z",
                        "lastSuccessfulSignInDateTime": last}})
            })
            .collect();
        let mut body = serde_json::json!({"@odata.context": "x", "value": value});
        if let Some(token) = next {
            body["@odata.nextLink"] =
                format!("{}/v1.0/users?{USERS_QUERY}&$skiptoken={token}", self.url()).into();
        }
        Reply::ok(body.to_string())
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        if parts.method == "POST" && parts.uri.path() == TOKEN_PATH {
            return self.token(&body);
        }
        let seen = Seen {
            query: parts.uri.query().unwrap_or("").to_string(),
            authorization: parts
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
            at: Instant::now(),
        };
        let mut s = self.state.lock().unwrap();
        s.users.push(seen);
        let reply = match (parts.uri.path(), s.script.pop_front()) {
            ("/v1.0/users", Some(reply)) => reply,
            _ => Reply::graph_error(500, "StandInScriptExhausted", "no answer scripted"),
        };
        answer(&reply)
    }

    /// The client-credentials grant: `tok-N` for the right client ID and secret.
    fn token(&self, body: &[u8]) -> Response<Full<Bytes>> {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let mut s = self.state.lock().unwrap();
        s.token_scopes
            .push(field("scope").unwrap_or("").to_string());
        if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(SECRET) {
            let body = serde_json::json!({"error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided."});
            return answer(&Reply {
                status: 401,
                headers: Vec::new(),
                body: body.to_string(),
            });
        }
        let token = format!("tok-{}", s.token_scopes.len());
        let body =
            serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": token});
        answer(&Reply::ok(body.to_string()))
    }
}

fn answer(reply: &Reply) -> Response<Full<Bytes>> {
    let mut response = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        response = response.header(*k, v);
    }
    response
        .body(Full::new(Bytes::from(reply.body.clone())))
        .unwrap()
}

/// OAuth settings for the stand-in at `authority`, with a scope `new` must replace.
fn settings(authority: &str, secret: &str) -> OAuthSettings {
    OAuthSettings {
        token_url: Url::parse(&format!("{authority}{TOKEN_PATH}")).unwrap(),
        client_id: CLIENT_ID.into(),
        scope: "https://outlook.office365.com/.default".into(),
        credential: Credential::ClientSecret(Secret::new(secret)),
        timeout: Duration::from_secs(5),
    }
}

/// A fetcher of the stand-in's user list that backs off 10 ms at first.
fn fetcher(standin: &StandIn) -> SignInFetch {
    let mut fetch = SignInFetch::new(
        settings(&standin.url(), SECRET),
        &standin.url(),
        Duration::from_secs(5),
    )
    .unwrap();
    fetch.retry.first_backoff = Duration::from_millis(10);
    fetch
}

async fn fetch_error(standin: &StandIn) -> FetchError {
    let error = fetcher(standin).fetch_all(|_| {}).await.unwrap_err();
    let (text, debug) = (error.to_string(), format!("{error:?}"));
    assert!(!text.contains(SECRET) && !debug.contains(SECRET), "{debug}");
    error
}

#[tokio::test]
async fn pages_are_joined_through_throttling_and_a_refused_token() {
    let standin = StandIn::start().await;
    standin.script([
        standin.page(&["a1@fabrikam.com", "a2@fabrikam.com"], Some("p2")),
        Reply::graph_error(429, "TooManyRequests", "Too many requests")
            .with_header("retry-after", "1"),
        standin.page(
            &["b1@fabrikam.com", "b2@fabrikam.com", "b3@fabrikam.com"],
            Some("p3"),
        ),
        Reply::graph_error(
            401,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        ),
        standin.page(&["c1@fabrikam.com"], None),
    ]);
    let mut progress = Vec::new();
    let users = fetcher(&standin)
        .fetch_all(|n| progress.push(n))
        .await
        .unwrap();

    let upns: Vec<_> = users.iter().map(|u| u.upn.as_str()).collect();
    assert_eq!(
        upns,
        [
            "a1@fabrikam.com",
            "a2@fabrikam.com",
            "b1@fabrikam.com",
            "b2@fabrikam.com",
            "b3@fabrikam.com",
            "c1@fabrikam.com"
        ]
    );
    let signed_in: Vec<_> = users.iter().map(|u| u.last_success.is_some()).collect();
    assert_eq!(signed_in, [true, false, true, false, true, true]);
    assert_eq!(progress, [2, 5, 6]);

    let seen = standin.users_requests();
    let queries: Vec<_> = seen.iter().map(|s| s.query.as_str()).collect();
    let page = |token: &str| format!("{USERS_QUERY}&$skiptoken={token}");
    assert_eq!(
        queries,
        [
            USERS_QUERY.to_string(),
            page("p2"),
            page("p2"),
            page("p3"),
            page("p3")
        ]
    );
    assert!(
        seen[2].at - seen[1].at >= Duration::from_secs(1),
        "the retry came before Retry-After"
    );
    let tokens: Vec<_> = seen.iter().map(|s| s.authorization.as_str()).collect();
    assert_eq!(
        tokens,
        [
            "Bearer tok-1",
            "Bearer tok-1",
            "Bearer tok-1",
            "Bearer tok-1",
            "Bearer tok-2"
        ]
    );
    let graph_scope = format!("{}/.default", standin.url());
    assert_eq!(standin.token_scopes(), [graph_scope.clone(), graph_scope]);
}

#[tokio::test]
async fn a_second_refused_token_is_an_error() {
    let standin = StandIn::start().await;
    let refused = || {
        Reply::graph_error(
            401,
            "InvalidAuthenticationToken",
            "Access token validation failure.",
        )
    };
    standin.script([refused(), refused()]);
    let error = fetch_error(&standin).await;
    assert!(
        matches!(error, FetchError::Unauthorized { page: 1, .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains("401 Unauthorized: InvalidAuthenticationToken: Access token validation failure. (request-id standin-req)"), "{text}");
    assert!(text.contains("tenant_id and client_id"), "{text}");
    assert_eq!(standin.token_scopes().len(), 2);
}

#[tokio::test]
async fn a_tenant_without_p1_is_told_what_to_buy_and_grant() {
    let standin = StandIn::start().await;
    standin.script([Reply::graph_error(
        403,
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "Neither tenant is B2C or tenant doesn't have premium license",
    )]);
    let error = fetch_error(&standin).await;
    assert!(
        matches!(error, FetchError::NoPremiumLicence { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    for part in [
        "403 Forbidden: Authentication_RequestFromNonPremiumTenantOrB2CTenant: Neither tenant is B2C or tenant doesn't have premium license",
        "Microsoft Entra ID P1",
        "User.Read.All",
        "AuditLog.Read.All",
        "admin consent",
    ] {
        assert!(text.contains(part), "{part} missing from: {text}");
    }
}

#[tokio::test]
async fn a_missing_permission_names_the_permissions() {
    let standin = StandIn::start().await;
    standin.script([Reply::graph_error(
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )]);
    let error = fetch_error(&standin).await;
    assert!(matches!(error, FetchError::Forbidden { .. }), "{error:?}");
    let text = error.to_string();
    for part in [
        "403 Forbidden: Authorization_RequestDenied: Insufficient privileges",
        "User.Read.All and AuditLog.Read.All",
        "grant admin consent",
        "P1",
    ] {
        assert!(text.contains(part), "{part} missing from: {text}");
    }
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused() {
    let standin = StandIn::start().await;
    let mut page = standin.page(&["a1@fabrikam.com"], Some("p2"));
    page.body = page
        .body
        .replace(&standin.url(), "https://graph.evil.example");
    standin.script([page]);
    let error = fetch_error(&standin).await;
    let FetchError::ForeignNextLink {
        page: 1,
        origin,
        expected,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(origin, "https://graph.evil.example");
    assert_eq!(expected, &standin.url());
    assert!(error
        .to_string()
        .contains("refusing to send the access token"));
    assert_eq!(standin.users_requests().len(), 1);
}

#[tokio::test]
async fn a_next_link_to_another_port_or_scheme_is_refused() {
    let standin = StandIn::start().await;
    let port = standin.addr.port();
    for other in [
        format!("http://127.0.0.1:{}", port.wrapping_add(1).max(1)),
        format!("https://127.0.0.1:{port}"),
    ] {
        let mut page = standin.page(&["a1@fabrikam.com"], Some("p2"));
        page.body = page.body.replace(&standin.url(), &other);
        standin.script([page]);
        let error = fetch_error(&standin).await;
        assert!(
            matches!(error, FetchError::ForeignNextLink { .. }),
            "{other}: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_page_linking_to_itself_stops_the_fetch() {
    let standin = StandIn::start().await;
    standin.script([
        standin.page(&["a1@fabrikam.com"], Some("p2")),
        standin.page(&["a2@fabrikam.com"], Some("p2")),
    ]);
    let error = fetch_error(&standin).await;
    assert!(
        matches!(error, FetchError::NextLinkLoop { page: 2 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_outage_without_retry_after_backs_off_then_gives_up() {
    let standin = StandIn::start().await;
    let unavailable = || Reply::graph_error(503, "ServiceUnavailable", "Service is unavailable.");
    standin.script([
        unavailable(),
        unavailable(),
        standin.page(&["a1@fabrikam.com"], None),
    ]);
    let users = fetcher(&standin).fetch_all(|_| {}).await.unwrap();
    assert_eq!(users.len(), 1);
    let seen = standin.users_requests();
    assert_eq!(seen.len(), 3);
    assert!(seen[1].at - seen[0].at >= Duration::from_millis(10));
    assert!(seen[2].at - seen[1].at >= Duration::from_millis(20));

    let standin = StandIn::start().await;
    standin.script((0..7).map(|_| Reply::graph_error(504, "GatewayTimeout", "Gateway timeout.")));
    let error = fetch_error(&standin).await;
    assert!(
        matches!(
            error,
            FetchError::Throttled {
                page: 1,
                retries: 6,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("504 Gateway Timeout: GatewayTimeout"),
        "{error}"
    );
    assert_eq!(standin.users_requests().len(), 7);
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_stops_at_once() {
    let standin = StandIn::start().await;
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
    standin
        .script([Reply::graph_error(429, "TooManyRequests", "Slow down.")
            .with_header("retry-after", &date)]);
    let error = fetch_error(&standin).await;
    assert!(
        matches!(
            error,
            FetchError::Throttled {
                retries: 0,
                waited_secs: 0,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(standin.users_requests().len(), 1);
}

#[tokio::test]
async fn other_answers_are_typed_errors_naming_the_page() {
    let standin = StandIn::start().await;
    standin.script([
        standin.page(&["a1@fabrikam.com"], Some("p2")),
        Reply::graph_error(400, "Request_UnsupportedQuery", "Unsupported query."),
    ]);
    let error = fetch_error(&standin).await;
    assert!(
        matches!(error, FetchError::Status { page: 2, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("page 2 of the user list with 400 Bad Request: Request_UnsupportedQuery: Unsupported query."), "{error}");

    let standin = StandIn::start().await;
    standin.script([
        standin.page(&["a1@fabrikam.com"], Some("p2")),
        standin.page(&["a2@fabrikam.com"], Some("p3")),
        Reply::ok("<html>maintenance</html>".into()),
    ]);
    let error = fetch_error(&standin).await;
    assert!(
        matches!(error, FetchError::Malformed { page: 3, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("page 3 of Microsoft Graph's user list is not a JSON object"),
        "{error}"
    );
}

#[tokio::test]
async fn an_unreachable_graph_and_a_refused_secret_are_errors_without_the_secret() {
    let standin = StandIn::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let fetch = SignInFetch::new(
        settings(&standin.url(), SECRET),
        &nowhere,
        Duration::from_secs(5),
    )
    .unwrap();
    let error = fetch.fetch_all(|_| {}).await.unwrap_err();
    assert!(
        matches!(error, FetchError::Unreachable { page: 1, .. }),
        "{error:?}"
    );

    let wrong = "wr0ng~secret~value";
    let fetch = SignInFetch::new(
        settings(&standin.url(), wrong),
        &standin.url(),
        Duration::from_secs(5),
    )
    .unwrap();
    let shown = format!("{fetch:?}");
    assert!(!shown.contains(wrong), "{shown}");
    let error = fetch.fetch_all(|_| {}).await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, FetchError::Token(_)), "{error:?}");
    assert!(text.contains("AADSTS7000215"), "{text}");
    assert!(
        !text.contains(wrong) && !format!("{error:?}").contains(wrong),
        "{error:?}"
    );
    assert!(standin.users_requests().is_empty());
}

#[test]
fn graph_url_is_checked_and_the_users_url_built_from_it() {
    let new = |graph_url: &str| {
        SignInFetch::new(
            settings("https://login.microsoftonline.com", SECRET),
            graph_url,
            Duration::from_secs(5),
        )
    };
    let error = new("http://graph.example").unwrap_err();
    assert_eq!(error.to_string(), "graph_url `http://graph.example` must start with https:// (secrets and tokens never travel unencrypted)");
    for (graph_url, first, scope) in [
        ("https://graph.microsoft.com", "https://graph.microsoft.com/v1.0/users?$select=userPrincipalName,signInActivity&$top=999", "https://graph.microsoft.com/.default"),
        ("https://graph.microsoft.us/", "https://graph.microsoft.us/v1.0/users?$select=userPrincipalName,signInActivity&$top=999", "https://graph.microsoft.us/.default"),
    ] {
        let fetch = new(graph_url).unwrap();
        assert_eq!(fetch.first.as_str(), first);
        assert_eq!(fetch.tokens.scope(), scope);
    }
}

#[test]
fn waits_follow_retry_after_or_double_within_the_budget() {
    let policy = RetryPolicy {
        max_retries: 4,
        max_wait: Duration::from_secs(20),
        first_backoff: Duration::from_secs(2),
    };
    let mut waits = Waits::new(policy);
    let secs = |d: Option<Duration>| d.map(|d| d.as_secs());
    assert_eq!(secs(waits.next(None)), Some(2));
    assert_eq!(secs(waits.next(Some(Duration::from_secs(7)))), Some(7));
    assert_eq!(secs(waits.next(None)), Some(8));
    // 17s waited: a 4th wait of 16s would pass the 20s allowed.
    assert_eq!(secs(waits.next(None)), None);
    assert_eq!(secs(waits.next(Some(Duration::from_secs(3)))), Some(3));
    assert_eq!(
        secs(waits.next(Some(Duration::ZERO))),
        None,
        "4 retries at most"
    );

    let mut waits = Waits::new(RetryPolicy::DEFAULT);
    let all: Vec<_> = (0..7).map(|_| secs(waits.next(None))).collect();
    assert_eq!(
        all,
        [
            Some(2),
            Some(4),
            Some(8),
            Some(16),
            Some(32),
            Some(64),
            None
        ]
    );
}
