use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

fn answer(status: u16, body: &str) -> Verdict {
    answer_with(status, None, body)
}

fn answer_with(status: u16, retry_after: Option<&str>, body: &str) -> Verdict {
    classify(
        &GraphAnswer {
            status,
            retry_after,
            request_id: Some("5f1c-req"),
            body: body.as_bytes(),
        },
        now(),
    )
}

fn graph_error(code: &str, message: &str) -> String {
    serde_json::json!({"error": {"code": code, "message": message, "innerError": {"date": "2026-01-01T00:00:00", "request-id": "5f1c-req"}}}).to_string()
}

fn failed(v: Verdict) -> SendError {
    match v {
        Verdict::Failed(e) => e,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn accepted_keeps_request_id() {
    let Verdict::Accepted(accepted) = answer(202, "") else {
        panic!("202 must be accepted");
    };
    assert_eq!(
        accepted,
        Accepted {
            reply: "202 Accepted (request-id 5f1c-req)".into()
        }
    );
}

#[test]
fn other_success_codes_are_not_trusted() {
    let e = failed(answer(200, "<html>proxy login</html>"));
    assert_eq!(e.class, FailureClass::Fatal);
}

#[test]
fn unauthorized_asks_for_a_refresh() {
    let v = answer(
        401,
        &graph_error(
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        ),
    );
    let Verdict::Unauthorized(reply) = v else {
        panic!("401 must ask for a refresh");
    };
    assert_eq!(reply, "401 Unauthorized: InvalidAuthenticationToken: Access token has expired or is not yet valid. (request-id 5f1c-req)");
}

#[test]
fn throttling_honours_retry_after_seconds() {
    let e = failed(answer_with(
        429,
        Some("17"),
        &graph_error(
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
        ),
    ));
    assert_eq!(e.class, FailureClass::Transient);
    assert_eq!(e.retry_after, Some(Duration::from_secs(17)));
    assert!(!e.maybe_delivered);
    assert!(
        e.reply
            .starts_with("429 Too Many Requests: ApplicationThrottled: Application is over"),
        "{}",
        e.reply
    );
}

#[test]
fn unavailable_honours_retry_after_date() {
    let date = httpdate::fmt_http_date(now() + Duration::from_secs(120));
    let e = failed(answer_with(503, Some(&date), ""));
    assert_eq!(e.class, FailureClass::Transient);
    assert_eq!(e.retry_after, Some(Duration::from_secs(120)));
    assert_eq!(e.reply, "503 Service Unavailable (request-id 5f1c-req)");
}

#[test]
fn the_graph_error_code_decides_the_class() {
    use FailureClass::{Fatal, Permanent, Quota, Transient};
    for (status, code, class) in [
        // Something about this message: fail the user only.
        (400, "ErrorInvalidRecipients", Permanent),
        (400, "ErrorMessageSizeExceeded", Permanent),
        (400, "ErrorSomethingUnheardOf", Permanent),
        // The mailbox is out of budget: pause; stale mailbox information: retry.
        (403, "ErrorQuotaExceeded", Quota),
        (400, "ErrorSubmissionQuotaExceeded", Quota),
        (400, "MailboxInfoStale", Transient),
        // The sender or the app's rights: stop the run.
        (403, "ErrorAccessDenied", Fatal),
        (403, "ErrorSendAsDenied", Fatal),
        (404, "MailboxNotEnabledForRESTAPI", Fatal),
        (404, "ResourceNotFound", Fatal),
        (400, "ErrorMimeContentInvalidBase64String", Fatal),
        (403, "SomethingNew", Fatal),
        (404, "", Fatal),
    ] {
        let e = failed(answer(status, &graph_error(code, "odd")));
        assert_eq!(e.class, class, "{status} {code}");
        assert!(e.reply.contains(&format!("{code}: odd")), "{}", e.reply);
    }
}

#[test]
fn access_problems_say_what_to_fix() {
    let e = failed(answer(
        403,
        &graph_error(
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        ),
    ));
    assert!(
        e.reply.contains("Mail.Send application permission"),
        "{}",
        e.reply
    );
    let e = failed(answer(404, "not json"));
    assert!(e.reply.contains("check [transport] sender"), "{}", e.reply);
}

#[test]
fn gateway_errors_may_have_delivered() {
    for status in [500, 502, 504] {
        let e = failed(answer(status, &graph_error("UnknownError", "")));
        assert_eq!(e.class, FailureClass::Transient);
        assert!(e.maybe_delivered, "{status}");
    }
    assert!(!failed(answer(503, "")).maybe_delivered);
}

#[test]
fn multi_line_messages_stay_on_one_line() {
    let e = failed(answer(
        400,
        &graph_error("ErrorInvalidRecipients", "line one\r\nline two"),
    ));
    assert!(e.reply.contains("line one line two"), "{}", e.reply);
}

/// Delta-seconds or an HTTP date (in the past: no wait), at most a day:
/// fuzz/regressions/replies/retry-after-u64-max found that `Duration::from_secs(u64::MAX)`
/// panics when added to an Instant.
#[test]
fn retry_after_forms_and_its_cap_at_a_day() {
    let secs = Duration::from_secs;
    let past = httpdate::fmt_http_date(now() - secs(5));
    let day = Some(MAX_RETRY_AFTER);
    for (value, wait) in [
        ("0", Some(Duration::ZERO)),
        (" 30 ", Some(secs(30))),
        (past.as_str(), Some(Duration::ZERO)),
        ("soon", None),
        ("", None),
        ("-3", None),
        ("18446744073709551615", day),
        ("Fri, 31 Dec 9999 23:59:59 GMT", day),
        ("86399", Some(secs(86_399))),
    ] {
        assert_eq!(parse_retry_after(value, now()), wait, "{value:?}");
    }
    let e = failed(answer_with(429, Some("18446744073709551615"), ""));
    assert!(std::time::Instant::now()
        .checked_add(e.retry_after.unwrap())
        .is_some());
}
