//! The admin-summary webhook against a real HTTP server on 127.0.0.1.

use std::time::Duration;

use t2t_notify::webhook::{post, Retry, WebhookError};

use crate::http_stub::HttpStub;

fn quick() -> Retry {
    Retry {
        attempts: 3,
        first_delay: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn summary_is_posted_as_json() {
    let server = HttpStub::start(vec![200]);
    let summary = serde_json::json!({"campaign": "post-migration", "sent": 3});
    post(&server.url("/hook"), &summary, quick()).await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/hook");
    assert!(reqs[0]
        .headers
        .iter()
        .any(|(k, v)| k == "content-type" && v == "application/json"));
    let body: serde_json::Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(body, summary);
}

#[tokio::test]
async fn server_error_is_retried_then_succeeds() {
    let server = HttpStub::start(vec![500, 200]);
    let status = post(&server.url("/hook"), &serde_json::json!({}), quick())
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn client_error_is_not_retried_and_is_reported() {
    let server = HttpStub::start(vec![400]);
    let err = post(&server.url("/hook"), &serde_json::json!({}), quick())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            WebhookError::Status {
                status: 400,
                attempts: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn persistent_failure_gives_up_after_the_attempts() {
    let server = HttpStub::start(vec![503]);
    let err = post(&server.url("/hook"), &serde_json::json!({}), quick())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("503"), "{err}");
    assert_eq!(server.requests().len(), 3);
}
