//! A local stand-in for the Microsoft identity platform's token endpoint and Graph's
//! `sendMail`, for the `graph` case of `bench/run.sh`: hyper on 127.0.0.1, one token for the
//! client-credentials grant, `202 Accepted` for every `sendMail` that carries it. Both the
//! t2t-notify run and the minimal reference client (`examples/graph-client.rs`) talk to it, so
//! both are measured against the same server.
//!
//! ```text
//! graph-standin [PORT]            # prints "listening on 127.0.0.1:PORT", serves until killed
//! curl http://127.0.0.1:PORT/stats          # {"accepted":N,"refused":N,"distinct":N,"duplicates":N}
//! curl http://127.0.0.1:PORT/stats?reset=1  # the same, then every counter back to 0
//! ```
//!
//! `distinct` counts different `To:` headers (read from the start of each base64 MIME body), so
//! a person who got the notice twice shows up as a duplicate.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// The only token this stand-in issues and accepts.
const TOKEN: &str = "graph-standin-token";

#[derive(Default)]
struct Stats {
    accepted: u64,
    refused: u64,
    duplicates: u64,
    recipients: HashSet<Vec<u8>>,
}

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("PORT must be a number"))
        .unwrap_or(0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(port))
}

async fn serve(port: u16) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let stats = Arc::new(Mutex::new(Stats::default()));
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let stats = Arc::clone(&stats);
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let stats = Arc::clone(&stats);
                async move { Ok::<_, Infallible>(handle(req, &stats).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(req: Request<Incoming>, stats: &Mutex<Stats>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return reply(StatusCode::BAD_REQUEST, ""),
    };
    let path = parts.uri.path();
    match (&parts.method, path) {
        (&Method::POST, p) if p.ends_with("/oauth2/v2.0/token") => token(&body),
        (&Method::POST, p) if p.starts_with("/v1.0/users/") && p.ends_with("/sendMail") => {
            send_mail(&parts.headers, &body, stats)
        }
        (&Method::GET, "/stats") => {
            let mut s = stats.lock().unwrap();
            let json = format!(
                r#"{{"accepted":{},"refused":{},"distinct":{},"duplicates":{}}}"#,
                s.accepted,
                s.refused,
                s.recipients.len(),
                s.duplicates
            );
            if parts.uri.query() == Some("reset=1") {
                *s = Stats::default();
            }
            reply(StatusCode::OK, &json)
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            r#"{"error":{"code":"ResourceNotFound"}}"#,
        ),
    }
}

fn token(body: &[u8]) -> Response<Full<Bytes>> {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let grant = form
        .iter()
        .any(|(k, v)| k == "grant_type" && v == "client_credentials");
    if !grant {
        return reply(
            StatusCode::BAD_REQUEST,
            r#"{"error":"unsupported_grant_type"}"#,
        );
    }
    let json = format!(
        r#"{{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"{TOKEN}"}}"#
    );
    reply(StatusCode::OK, &json)
}

fn send_mail(
    headers: &hyper::HeaderMap,
    body: &[u8],
    stats: &Mutex<Stats>,
) -> Response<Full<Bytes>> {
    let authorized = headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        == Some(TOKEN);
    if !authorized || body.is_empty() {
        stats.lock().unwrap().refused += 1;
        return reply(
            StatusCode::UNAUTHORIZED,
            r#"{"error":{"code":"InvalidAuthenticationToken"}}"#,
        );
    }
    let to = to_header(body);
    let mut s = stats.lock().unwrap();
    s.accepted += 1;
    if !s.recipients.insert(to) {
        s.duplicates += 1;
    }
    reply(StatusCode::ACCEPTED, "")
}

/// The `To:` header (with its folded lines) of a base64 MIME body; empty when there is none.
fn to_header(body: &[u8]) -> Vec<u8> {
    let head = &body[..body.len().min(4096) / 4 * 4];
    let Ok(mime) = base64::engine::general_purpose::STANDARD.decode(head) else {
        return Vec::new();
    };
    let Some(start) = mime.windows(5).position(|w| w == b"\r\nTo:") else {
        return Vec::new();
    };
    let rest = &mime[start + 2..];
    let mut end = 0;
    while let Some(i) = rest[end..].windows(2).position(|w| w == b"\r\n") {
        end += i + 2;
        if !matches!(rest.get(end), Some(b' ' | b'\t')) {
            break;
        }
    }
    rest[..end].to_vec()
}

fn reply(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a valid response")
}
