//! Answers from Microsoft's servers: `transport::graph::classify` (Graph's answer to `sendMail`)
//! and `oauth::parse_token_answer` (the token endpoint's answer), on arbitrary status, header
//! and body.
//!
//! Input: two bytes of status (100-999), the `Retry-After` value up to the first `\n`, then the
//! body. Beyond "no panic": 202 is accepted, 401 asks for a new token, anything else fails with
//! a one-line reply that starts with the status; 500/502/504 are "maybe delivered"; a wait or a
//! token lifetime can be added to `Instant::now()` (a huge value must not panic the sender or the
//! token cache later); a token is accepted only from a 200, never shows in `Debug`, and a 200
//! that is not a grant fails without quoting the body.
#![no_main]

use std::time::{Duration, Instant, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use t2t_notify::oauth::{parse_token_answer, OAuthError, TokenAnswer};
use t2t_notify::transport::graph::{classify, GraphAnswer, Verdict};

fn split(data: &[u8]) -> Option<(u16, &str, &[u8])> {
    let [a, b, rest @ ..] = data else { return None };
    let status = 100 + u16::from_be_bytes([*a, *b]) % 900;
    let end = rest.iter().position(|c| *c == b'\n').unwrap_or(rest.len());
    let header = std::str::from_utf8(&rest[..end]).ok()?;
    let body = rest.get(end + 1..).unwrap_or(&[]);
    Some((status, header, body))
}

fn usable(d: Duration) -> bool {
    Instant::now().checked_add(d).is_some()
}

fn check_graph(status: u16, header: &str, body: &[u8]) {
    let now = UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    let answer = GraphAnswer {
        status,
        retry_after: Some(header).filter(|h| !h.is_empty()),
        request_id: Some("5f1c-req"),
        body,
    };
    match (status, classify(&answer, now)) {
        (202, Verdict::Accepted(_)) | (401, Verdict::Unauthorized(_)) => {}
        (202 | 401, other) => panic!("{status} gave {other:?}"),
        (_, Verdict::Failed(e)) => {
            assert!(e.reply.starts_with(&status.to_string()), "{e:?}");
            assert!(
                !e.reply.contains(['\r', '\n']),
                "reply on several lines: {e:?}"
            );
            assert_eq!(
                e.maybe_delivered,
                matches!(status, 500 | 502 | 504),
                "{e:?}"
            );
            if let Some(wait) = e.retry_after {
                assert!(usable(wait), "Retry-After {header:?} gives {wait:?}");
            }
        }
        (_, other) => panic!("{status} gave {other:?}"),
    }
}

/// The `access_token` string of a JSON body, if it has one worth looking for.
fn token_in(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let token = value.get("access_token")?.as_str()?;
    (token.len() >= 8).then(|| token.to_string())
}

fn check_token(status: u16, header: &str, body: &[u8]) {
    let answer = TokenAnswer {
        url: "https://login.microsoftonline.com/t/oauth2/v2.0/token",
        status,
        content_type: "application/json",
        retry_after: None,
        body,
    };
    let token = token_in(body);
    let hidden = |text: &str| token.as_ref().is_none_or(|t| !text.contains(t.as_str()));
    match parse_token_answer(&answer) {
        Ok(grant) => {
            assert_eq!(status, 200, "token accepted from HTTP {status}");
            assert!(!grant.access_token.expose().is_empty());
            assert!(
                usable(grant.expires_in),
                "expires_in {:?}",
                grant.expires_in
            );
            assert!(hidden(&format!("{grant:?}")), "token in Debug");
        }
        Err(e @ OAuthError::Unexpected { .. }) => {
            assert!(hidden(&format!("{e} {e:?}")), "token in error: {e}");
        }
        Err(OAuthError::Rejected { description, .. }) => {
            assert_ne!(status, 200);
            assert!(!description.contains(['\r', '\n']), "{description:?}");
        }
        Err(other) => panic!("unexpected error kind: {other:?} ({header:?})"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((status, header, body)) = split(data) else {
        return;
    };
    check_graph(status, header, body);
    check_token(status, header, body);
});
