//! What an SMTP reply means for the run, decided from its code and enhanced status code: a pure
//! function, tested on the replies Exchange Online, High Volume Email and Postfix really send.
//!
//! - quota: the mailbox or tenant is out of budget (`554 5.2.0 ...SubmissionQuotaExceeded`,
//!   `432 4.3.2` too many connections, `421` in general and `421 4.4.2` throttling): stop starting
//!   messages and resume later;
//! - fatal: no message can succeed (`535` authentication, `530 5.7.57` not authenticated,
//!   `550 5.7.30` basic authentication off, `5.7.60` not allowed to send as the sender,
//!   `5.7.7xx` tenant blocked): stop the run;
//! - transient: any other `4xx`: retry later;
//! - permanent: any other `5xx`, e.g. `550 5.1.1` unknown recipient: fail this user only.

use std::time::Duration;

use crate::transport::{FailureClass, SendError};

/// How long a passing quota refusal (`432`, `421`) pauses the run before it is worth trying again.
pub const QUOTA_PAUSE: Duration = Duration::from_secs(300);

/// The error for a negative reply: its class; the reply, with what to do when the admin must act;
/// and, for a passing quota refusal (`4xx`), how long to wait. A `5xx` while logging in (before
/// any message) is about the account, not a recipient: fatal.
pub fn reply_error(code: u16, text: &str, during_login: bool) -> SendError {
    let enhanced = enhanced_code(text);
    let mut class = classify(code, enhanced, text);
    if during_login && class == FailureClass::Permanent {
        class = FailureClass::Fatal;
    }
    let mut reply = format!("{code} {text}");
    let too_many_connections =
        code == 432 || enhanced.is_some_and(|e| (e.class, e.subject, e.detail) == (4, 3, 2));
    match class {
        FailureClass::Fatal => reply = format!("{reply}; {}", fatal_hint(Some(code), enhanced)),
        FailureClass::Quota if too_many_connections => reply.push_str(
            "; Exchange Online allows 3 connections per mailbox: lower [pacing] concurrency",
        ),
        _ => {}
    }
    SendError {
        retry_after: (class == FailureClass::Quota && code < 500).then_some(QUOTA_PAUSE),
        ..SendError::new(class, reply)
    }
}

/// An enhanced status code (RFC 3463), `class.subject.detail`, e.g. `5.1.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enhanced {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl std::fmt::Display for Enhanced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// The enhanced status code at the start of a reply's text, if there is one.
pub fn enhanced_code(text: &str) -> Option<Enhanced> {
    let first = text.split_whitespace().next()?;
    let mut parts = first.split('.');
    let class: u8 = parts.next()?.parse().ok()?;
    let subject: u16 = parts.next()?.parse().ok()?;
    let detail: u16 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !matches!(class, 2 | 4 | 5) {
        return None;
    }
    Some(Enhanced {
        class,
        subject,
        detail,
    })
}

/// Classifies a negative reply: `code` is the three-digit reply code, `enhanced` the enhanced
/// status code if the server sent one, `text` the rest of the reply.
pub fn classify(code: u16, enhanced: Option<Enhanced>, text: &str) -> FailureClass {
    let e = enhanced.map(|e| (e.class, e.subject, e.detail));
    if is_quota(code, e, text) {
        FailureClass::Quota
    } else if is_fatal(code, e) {
        FailureClass::Fatal
    } else if (400..500).contains(&code) {
        FailureClass::Transient
    } else {
        FailureClass::Permanent
    }
}

fn is_quota(code: u16, e: Option<(u8, u16, u16)>, text: &str) -> bool {
    code == 421
        || code == 432
        || matches!(e, Some((4, 3, 2)) | Some((4, 4, 2)))
        || (code == 554 && matches!(e, Some((5, 2, 0))))
        || text.contains("SubmissionQuotaExceeded")
}

fn is_fatal(code: u16, e: Option<(u8, u16, u16)>) -> bool {
    match e {
        // 5.7.3 / 5.7.8 / 5.7.139 authentication failed or disabled, 5.7.30 basic auth off,
        // 5.7.57 client not authenticated, 5.7.60 not allowed to send as this sender,
        // 5.7.7xx the tenant or its IP is blocked from sending.
        Some((5, 7, d)) => matches!(d, 3 | 8 | 30 | 57 | 60 | 139) || (700..800).contains(&d),
        _ => matches!(code, 530 | 534 | 535 | 538),
    }
}

/// What the admin should do about a fatal reply or local failure; appended to the message.
pub fn fatal_hint(code: Option<u16>, enhanced: Option<Enhanced>) -> &'static str {
    match (code, enhanced.map(|e| (e.subject, e.detail))) {
        (_, Some((7, 30))) => "basic authentication is switched off for this tenant: use Microsoft Graph ([transport] kind = \"graph\") or SMTP AUTH with OAuth",
        (_, Some((7, 57))) => "the server wants authentication: set [transport] auth = \"login\", username and password_env",
        (_, Some((7, 60))) => "the authenticated account may not send as [message] from: grant it Send As on that mailbox, or change from",
        (_, Some((7, 139))) => "SMTP AUTH is disabled for this mailbox or tenant: enable authenticated SMTP for the sending mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false)",
        (_, Some((7, d))) if (700..800).contains(&d) => "the tenant or this machine's IP address is blocked from sending: check the Microsoft 365 admin center (restricted entities) and the connector setup",
        (Some(530 | 534 | 535 | 538), _) | (_, Some((7, 3 | 8))) => "authentication failed: check [transport] username and the password in the environment variable named by password_env (and that SMTP AUTH is enabled for the mailbox)",
        _ => "check the [transport] settings",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits a canned reply line the way the transport does: code, enhanced code, text.
    fn class_of(reply: &str) -> FailureClass {
        let (code, text) = reply.split_at(3);
        let text = text.trim_start_matches(['-', ' ']);
        classify(code.parse().unwrap(), enhanced_code(text), text)
    }

    /// Replies Exchange Online, High Volume Email and Postfix really send, by the class they
    /// get: quota pauses the run, fatal stops it, transient is retried, permanent fails the
    /// user only.
    #[test]
    fn real_replies_get_their_class() {
        let cases: [(FailureClass, &[&str]); 4] = [
            (FailureClass::Quota, &[
                "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message [BeginDiagnosticData]",
                "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded [Hostname=AM0PR01MB1234]",
                "421 4.4.2 Message submission rate for this client has exceeded the configured limit",
                "421 4.3.0 Temporary system problem. Try again later",
                "421 Service not available, closing transmission channel",
                "450 4.4.2 Connection dropped, too many connections",
            ]),
            (FailureClass::Fatal, &[
                "535 5.7.3 Authentication unsuccessful [AM0PR01CA0001.eurprd01.prod.exchangelabs.com]",
                "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
                "550 5.7.30 Basic authentication is not supported for Client Submission.",
                "530 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139",
                "550 5.7.60 SMTP; Client does not have permissions to send as this sender",
                "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
                "535 Incorrect authentication data",
            ]),
            (FailureClass::Transient, &[
                "450 4.3.0 Error: command failed",
                "451 4.3.0 Error: queue file write error",
                "452 4.2.2 Mailbox full",
                "454 4.7.0 Temporary authentication failure",
                "450 Requested mail action not taken",
            ]),
            (FailureClass::Permanent, &[
                "550 5.1.1 <nobody@fabrikam.com>: Recipient address rejected: User unknown in virtual mailbox table",
                "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
                "500 5.3.0 Error: command failed",
                "552 5.2.2 Mailbox full",
                "554 5.7.1 <x@fabrikam.com>: Relay access denied",
                "553 sorry, that domain isn't in my list of allowed rcpthosts",
            ]),
        ];
        for (class, replies) in cases {
            for reply in replies {
                assert_eq!(class_of(reply), class, "{reply}: {class:?}");
            }
        }
    }

    #[test]
    fn enhanced_codes_are_read_only_from_the_start_of_the_text() {
        assert_eq!(
            enhanced_code("5.1.1 <a@b>: unknown"),
            Some(Enhanced {
                class: 5,
                subject: 1,
                detail: 1
            })
        );
        assert_eq!(enhanced_code("4.4.2 x").unwrap().to_string(), "4.4.2");
        assert_eq!(enhanced_code("Error: 5.1.1"), None);
        assert_eq!(enhanced_code("1.2.3 nope"), None);
        assert_eq!(enhanced_code("5.1 short"), None);
        assert_eq!(enhanced_code(""), None);
    }

    #[test]
    fn reply_errors_carry_hints_and_the_wait_for_passing_quota() {
        let daily = reply_error(
            554,
            "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException",
            false,
        );
        assert_eq!(
            (daily.class, daily.retry_after),
            (FailureClass::Quota, None),
            "the day window decides"
        );
        let busy = reply_error(
            432,
            "4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded",
            false,
        );
        assert_eq!(
            (busy.class, busy.retry_after),
            (FailureClass::Quota, Some(QUOTA_PAUSE))
        );
        assert!(
            busy.reply.contains("lower [pacing] concurrency"),
            "{}",
            busy.reply
        );
        let auth = reply_error(535, "5.7.3 Authentication unsuccessful", true);
        assert_eq!(auth.class, FailureClass::Fatal);
        assert!(
            auth.reply
                .starts_with("535 5.7.3 Authentication unsuccessful; "),
            "{}",
            auth.reply
        );
        assert_eq!(
            reply_error(554, "5.7.1 no SMTP service here", true).class,
            FailureClass::Fatal
        );
        assert_eq!(
            reply_error(554, "5.7.1 relay denied", false).class,
            FailureClass::Permanent
        );
        assert!(!reply_error(550, "5.1.1 unknown", false).maybe_delivered);
    }

    #[test]
    fn fatal_hints_say_what_to_fix() {
        assert!(fatal_hint(Some(535), enhanced_code("5.7.3 x")).contains("password_env"));
        assert!(fatal_hint(Some(550), enhanced_code("5.7.30 x")).contains("graph"));
        assert!(fatal_hint(Some(535), enhanced_code("5.7.139 x"))
            .contains("SmtpClientAuthenticationDisabled"));
    }
}
