//! What Microsoft Graph's answer to `sendMail` means, decided without IO: `202` accepted;
//! `401` retry once with a fresh token; `429`/`503` transient with `Retry-After`; `400`/`403`/
//! `404` by the Graph error code (`{"error":{"code":..,"message":..}}`), which stays in the reply
//! text for the ledger and the report.

use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::transport::{Accepted, FailureClass, SendError};

/// One HTTP answer from Graph, as read off the wire.
#[derive(Debug, Clone, Copy)]
pub struct GraphAnswer<'a> {
    pub status: u16,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<&'a str>,
    /// The `request-id` header, if any (Microsoft support asks for it).
    pub request_id: Option<&'a str>,
    pub body: &'a [u8],
}

/// What to do with an answer.
#[derive(Debug, Clone)]
pub enum Verdict {
    Accepted(Accepted),
    /// `401`: the token was refused; refresh it and try once more.
    Unauthorized(String),
    Failed(SendError),
}

/// Codes that fail this one message (its recipients or content), not the run.
const PERMANENT_CODES: &[&str] = &[
    "ErrorInvalidRecipients",
    "ErrorRecipientNotFound",
    "ErrorMessageSizeExceeded",
    "ErrorMimeContentConversionFailed",
    "ErrorInvalidInternetHeaderChildNodes",
];

/// Codes after which no message can succeed: wrong sender, missing permission, policy.
const FATAL_CODES: &[&str] = &[
    "ErrorAccessDenied",
    "ErrorSendAsDenied",
    "MailboxNotEnabledForRESTAPI",
    "MailboxNotSupportedForRESTAPI",
    "ErrorNonExistentMailbox",
    "ErrorInvalidUser",
    "ErrorAccountDisabled",
    "ResourceNotFound",
    "Authorization_RequestDenied",
    "InvalidAuthenticationToken",
    "AuthenticationError",
    "ErrorMimeContentInvalidBase64String",
];

/// Codes that mean the mailbox is out of budget: pause the run, resume later.
const QUOTA_CODES: &[&str] = &["ErrorQuotaExceeded", "ErrorSubmissionQuotaExceeded"];

/// Codes that mean "try again later".
const TRANSIENT_CODES: &[&str] = &[
    "MailboxInfoStale",
    "ErrorServerBusy",
    "ErrorMailboxStoreUnavailable",
    "ErrorMailboxMoveInProgress",
    "ErrorInternalServerTransientError",
    "ErrorTimeoutExpired",
    "ErrorConnectionFailed",
    "ApplicationThrottled",
    "CommandConcurrencyLimitReached",
    "TooManyRequests",
];

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

/// The `error` object of a Graph error body: `{"error":{"code":..,"message":..}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// The error Graph explained in `body`, if the body is a Graph error.
pub fn parse_error_body(body: &[u8]) -> Option<ErrorDetail> {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.error)
}

/// Classifies Graph's answer to one `sendMail` request.
pub fn classify(answer: &GraphAnswer<'_>, now: SystemTime) -> Verdict {
    let detail = parse_error_body(answer.body);
    let reply = reply_text(answer, detail.as_ref());
    let code = detail.as_ref().map(|d| d.code.as_str()).unwrap_or("");
    let retry_after = answer.retry_after.and_then(|v| parse_retry_after(v, now));
    let (class, maybe_delivered) = match answer.status {
        202 => return Verdict::Accepted(Accepted { reply }),
        401 => return Verdict::Unauthorized(reply),
        429 | 503 => (FailureClass::Transient, false),
        500 | 502 | 504 => (FailureClass::Transient, true),
        408 => (FailureClass::Transient, false),
        400 | 403 | 404 | 413 => (class_for_code(answer.status, code), false),
        _ => (FailureClass::Fatal, false),
    };
    Verdict::Failed(SendError {
        class,
        reply: with_hint(reply, answer.status, code),
        retry_after,
        maybe_delivered,
    })
}

fn class_for_code(status: u16, code: &str) -> FailureClass {
    let known = |list: &[&str]| list.iter().any(|c| c.eq_ignore_ascii_case(code));
    if known(PERMANENT_CODES) {
        FailureClass::Permanent
    } else if known(FATAL_CODES) {
        FailureClass::Fatal
    } else if known(QUOTA_CODES) {
        FailureClass::Quota
    } else if known(TRANSIENT_CODES) {
        FailureClass::Transient
    } else if status == 400 || status == 413 {
        // Something about this message; other messages may still go through.
        FailureClass::Permanent
    } else {
        // 403/404 from sendMail concern the sending mailbox or the app's rights.
        FailureClass::Fatal
    }
}

/// `429 Too Many Requests: ApplicationThrottled: <message> (request-id ...)`: the answer's
/// status, Graph's error code and message on one line, and the request ID support asks for.
pub fn reply_text(answer: &GraphAnswer<'_>, detail: Option<&ErrorDetail>) -> String {
    let reason = reqwest::StatusCode::from_u16(answer.status).ok();
    let reason = reason.and_then(|s| s.canonical_reason()).unwrap_or("");
    let mut text = format!("{} {reason}", answer.status);
    if let Some(d) = detail {
        for part in [d.code.trim(), d.message.trim()] {
            if !part.is_empty() {
                text.push_str(": ");
                text.push_str(&part.split_whitespace().collect::<Vec<_>>().join(" "));
            }
        }
    }
    if let Some(id) = answer.request_id.filter(|id| !id.is_empty()) {
        text.push_str(&format!(" (request-id {id})"));
    }
    text
}

fn with_hint(reply: String, status: u16, code: &str) -> String {
    let hint = match code {
        "ErrorAccessDenied" | "Authorization_RequestDenied" => "; grant the app the Mail.Send application permission with admin consent, and check that an application access policy or RBAC scope includes the sender mailbox",
        "ErrorSendAsDenied" => "; the From address of the message must be the sender mailbox, or the mailbox needs Send As rights on it",
        "MailboxNotEnabledForRESTAPI" | "MailboxNotSupportedForRESTAPI" => "; the sender must be an Exchange Online mailbox (not on-premises, not unlicensed)",
        "ErrorQuotaExceeded" => "; the sender mailbox is full (every message sent by Graph is kept in Sent Items): free space, then run again",
        _ if status == 404 => "; check [transport] sender: it must be an existing Exchange Online mailbox",
        _ => "",
    };
    reply + hint
}

/// The longest wait a `Retry-After` can ask for. More than a day is a broken header, and a
/// wait near `u64::MAX` seconds would panic whoever adds it to an `Instant`.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses `Retry-After` as delta-seconds or an HTTP date (in the past: no wait), at most
/// [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let when = httpdate::parse_http_date(value).ok()?;
            when.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests;
