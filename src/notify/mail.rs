//! The summary mailed to `[notify].admin_email`: a separate message (readable text, the JSON
//! attached), never a user notice. This module builds it as one job for the sending engine and
//! says what the engine's run of it means ([`MailReport::of_run`]); `cmd::send` runs it through
//! the same engine, ledger marks, pacing and day budget as the notices, recorded like a
//! `--test-to` send (its own run in `test_sends`, and the submissions log).

use std::time::SystemTime;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::summary::AdminSummary;
use super::text;
use crate::config::Config;
use crate::inputs::address::{self, AddressError};
use crate::send::{RunSummary, SendJob, StopReason};
use crate::transport::Envelope;

/// The ledger key the admin mail is recorded under (in `test_sends`).
pub const LEDGER_KEY: &str = "admin-summary";

/// What happened to the admin mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum MailReport {
    Sent {
        to: String,
        reply: String,
    },
    Failed {
        to: String,
        reply: String,
    },
    /// The connection dropped after the message was handed over.
    Uncertain {
        to: String,
        reply: String,
    },
    NotSent {
        to: String,
        reason: String,
    },
}

impl MailReport {
    /// One line for stderr.
    pub fn line(&self) -> String {
        match self {
            MailReport::Sent { to, .. } => format!("The summary was mailed to {to}."),
            MailReport::Failed { to, reply } => {
                format!("warning: the summary could not be mailed to {to}: {reply}")
            }
            MailReport::Uncertain { to, reply } => {
                format!("warning: the summary may not have reached {to}: {reply}")
            }
            MailReport::NotSent { to, reason } => {
                format!("The summary was not mailed to {to}: {reason}")
            }
        }
    }

    /// What the engine's run of the admin mail alone means for it: `reply` is the ledger's
    /// last reply for it, `per_day` the budget the run was paced by.
    pub fn of_run(to: &str, run: &RunSummary, reply: Option<String>, per_day: u32) -> MailReport {
        let to = to.to_string();
        let c = &run.counts;
        let reply = reply.unwrap_or_default();
        if c.sent > 0 {
            return MailReport::Sent { to, reply };
        }
        if c.uncertain > 0 {
            return MailReport::Uncertain { to, reply };
        }
        if c.failed + c.deferred > 0 {
            return MailReport::Failed { to, reply };
        }
        let reason = match &run.stop {
            Some(StopReason::DayBudget { resume_at }) => format!(
                "the [pacing] per_day budget of {per_day} recipients is spent until {}",
                resume_at.format("%Y-%m-%d %H:%M UTC")
            ),
            Some(
                StopReason::Fatal { reason: reply }
                | StopReason::Quota { reply, .. }
                | StopReason::Unavailable { reply, .. },
            ) => {
                let reply = reply.clone();
                return MailReport::Failed { to, reply };
            }
            Some(StopReason::Interrupted) => "interrupted by Ctrl-C".into(),
            Some(StopReason::Paused { by }) => format!("paused by {by}"),
            None => "nothing was tried".into(),
        };
        MailReport::NotSent { to, reason }
    }
}

/// Builds the admin mail: text summary, then the JSON as `summary.json`. Pure but for lettre.
pub fn build(
    from: &Mailbox,
    to: &Mailbox,
    summary: &AdminSummary,
    json: &str,
    date: SystemTime,
) -> Result<SendJob, lettre::error::Error> {
    let message_id = message_id(summary, from);
    let json_type = ContentType::parse("application/json").expect("a valid content type");
    let body = MultiPart::mixed()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(text::render(summary)),
        )
        .singlepart(Attachment::new("summary.json".into()).body(json.to_string(), json_type));
    let message = lettre::Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(crate::render::message::clean_line(&text::subject(summary)))
        .message_id(Some(message_id.clone()))
        .date(date)
        // An out-of-office reply to the summary would land in the sending mailbox.
        .raw_header(crate::render::message::auto_submitted())
        .raw_header(crate::render::message::auto_response_suppress())
        .multipart(body)?;
    let bytes = message.formatted();
    Ok(SendJob {
        key: LEDGER_KEY.into(),
        envelope: Envelope {
            from: from.email.to_string(),
            to: vec![to.email.to_string()],
        },
        content_hash: crate::send::content_hash(&bytes),
        message: bytes,
        message_id,
        batch: None,
    })
}

/// `<summary.20250301T101500Z.<hash>@from-domain>`: one per run.
fn message_id(summary: &AdminSummary, from: &Mailbox) -> String {
    let mut h = Sha256::new();
    h.update(summary.campaign.as_bytes());
    h.update([0]);
    h.update(summary.run.started_at.as_bytes());
    h.update([0]);
    h.update(summary.run.ended_at.as_bytes());
    format!(
        "<summary.{}.{}@{}>",
        summary.run.started_at.replace([':', '-'], ""),
        hex::encode(&h.finalize()[..8]),
        from.email.domain().to_ascii_lowercase()
    )
}

/// Why the admin mail could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AdminMailError {
    #[error("[message] from: {0}")]
    From(AddressError),
    #[error("[notify] admin_email `{to}` {why}")]
    To { to: String, why: AddressError },
    #[error("[notify] admin_email: {0}")]
    Mailbox(AddressError),
    #[error(transparent)]
    Message(#[from] lettre::error::Error),
}

/// The admin mail as the engine's one job, keyed [`LEDGER_KEY`], dated `date`.
pub fn job(
    config: &Config,
    to: &str,
    summary: &AdminSummary,
    json: &str,
    date: SystemTime,
) -> Result<SendJob, AdminMailError> {
    let from = address::parse_mailbox(&config.message.from).map_err(AdminMailError::From)?;
    if let Err(why) = address::check_email(to.trim()) {
        return Err(AdminMailError::To { to: to.into(), why });
    }
    let to = address::parse_mailbox(to).map_err(AdminMailError::Mailbox)?;
    Ok(build(&from, &to, summary, json, date)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::summary::tests::sample_summary;
    use mail_parser::MimeHeaders;

    #[test]
    fn the_mail_has_readable_text_and_the_json_attached() {
        let summary = sample_summary();
        let json = serde_json::to_string_pretty(&summary).unwrap();
        let from = address::parse_mailbox("Fabrikam IT <it-migration@fabrikam.com>").unwrap();
        let to = address::parse_mailbox("lead@fabrikam.com").unwrap();
        let built = build(&from, &to, &summary, &json, SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(built.key, LEDGER_KEY);
        let parsed = mail_parser::MessageParser::default()
            .parse(&built.message)
            .unwrap();
        assert_eq!(
            parsed.subject().unwrap(),
            "t2t-notify post-migration: paused (exit 5): 3 sent, 2 held back, 1 failed"
        );
        let text = parsed.body_text(0).unwrap();
        assert!(text.contains("Held back, not notified: 2 users"), "{text}");
        assert!(
            text.contains("Failed (1) - the migration team must act"),
            "{text}"
        );
        let attachment = parsed.attachment(0).unwrap();
        assert_eq!(attachment.attachment_name(), Some("summary.json"));
        let back: serde_json::Value = serde_json::from_slice(attachment.contents()).unwrap();
        assert_eq!(back["campaign"], "post-migration");
        assert_eq!(built.envelope.to, ["lead@fabrikam.com"]);
        let header = |name: &str| {
            parsed
                .header_raw(name)
                .map(str::trim)
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(header("Auto-Submitted"), "auto-generated");
        assert_eq!(header("X-Auto-Response-Suppress"), "All");
        assert!(
            built.message_id.ends_with("@fabrikam.com>"),
            "{}",
            built.message_id
        );
    }

    #[test]
    fn the_engine_run_of_the_mail_says_what_happened_to_it() {
        use crate::send::summary::Counts;
        let run = |counts: Counts, stop: Option<StopReason>| RunSummary {
            counts,
            stop,
            elapsed: std::time::Duration::ZERO,
        };
        let reply = Some("250 2.0.0 Ok".to_string());
        let sent = Counts {
            sent: 1,
            ..Counts::default()
        };
        assert_eq!(
            MailReport::of_run("lead@fabrikam.com", &run(sent, None), reply.clone(), 4),
            MailReport::Sent {
                to: "lead@fabrikam.com".into(),
                reply: "250 2.0.0 Ok".into()
            }
        );
        let deferred = Counts {
            deferred: 1,
            ..Counts::default()
        };
        let report = MailReport::of_run("a@b.c", &run(deferred, None), reply, 4);
        assert!(matches!(report, MailReport::Failed { .. }), "{report:?}");
        let resume_at = chrono::DateTime::parse_from_rfc3339("2026-11-27T06:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let spent = run(Counts::default(), Some(StopReason::DayBudget { resume_at }));
        assert_eq!(
            MailReport::of_run("a@b.c", &spent, None, 4).line(),
            "The summary was not mailed to a@b.c: the [pacing] per_day budget of 4 recipients is spent until 2026-11-27 06:00 UTC"
        );
        let interrupted = run(Counts::default(), Some(StopReason::Interrupted));
        assert_eq!(
            MailReport::of_run("a@b.c", &interrupted, None, 4).line(),
            "The summary was not mailed to a@b.c: interrupted by Ctrl-C"
        );
    }
}
