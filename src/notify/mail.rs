//! The summary mailed to `[notify].admin_email` through the configured transport: a separate
//! message (readable text, the JSON attached), never a user notice. It is recorded like a
//! `--test-to` send (its own run in `test_sends`, and the submissions log), so the rolling day
//! budget counts it, and it is not sent when that budget is spent.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::summary::AdminSummary;
use super::text;
use crate::config::Config;
use crate::inputs::address;
use crate::ledger::deliveries::{timestamp, Book, Mark, Resolution, Settled};
use crate::ledger::writer::{CommitPolicy, LedgerWriter};
use crate::ledger::Ledger;
use crate::send::pacing::DayBudget;
use crate::transport::{Envelope, SendError, Transport};

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
}

/// The admin mail's bytes and Message-ID.
pub struct Built {
    pub bytes: Vec<u8>,
    pub message_id: String,
    pub envelope: Envelope,
}

/// Builds the admin mail: text summary, then the JSON as `summary.json`. Pure but for lettre.
pub fn build(
    from: &Mailbox,
    to: &Mailbox,
    summary: &AdminSummary,
    json: &str,
    date: SystemTime,
) -> Result<Built, lettre::error::Error> {
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
        .header(crate::render::message::AutoSubmitted)
        .header(crate::render::message::AutoResponseSuppress)
        .multipart(body)?;
    Ok(Built {
        bytes: message.formatted(),
        message_id,
        envelope: Envelope {
            from: from.email.to_string(),
            to: vec![to.email.to_string()],
        },
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

/// Mails the summary to `to` and records it in `ledger`; gives the ledger back when the
/// writer could hand it back.
pub fn send(
    config: &Config,
    ledger: Ledger,
    to: &str,
    summary: &AdminSummary,
    json: &str,
) -> (Option<Ledger>, MailReport) {
    let not_sent = |reason: String| MailReport::NotSent {
        to: to.to_string(),
        reason,
    };
    let now = Utc::now();
    if let Err(reason) = budget_allows(config, &ledger, now) {
        return (Some(ledger), not_sent(reason));
    }
    let built = match mailboxes(config, to).and_then(|(from, to_box)| {
        build(&from, &to_box, summary, json, now.into()).map_err(|e| e.to_string())
    }) {
        Ok(built) => built,
        Err(why) => return (Some(ledger), not_sent(why)),
    };
    let transport = match crate::transport::from_config(config) {
        Ok((t, _)) => t,
        Err(e) => return (Some(ledger), not_sent(format!("no transport: {e}"))),
    };
    let book = Book::Test {
        campaign: summary.campaign.clone(),
        run: format!("admin-summary {}", timestamp(now)),
        to: to.to_string(),
    };
    let writer = match LedgerWriter::spawn(ledger, book, CommitPolicy::default()) {
        Ok(w) => w,
        Err(e) => {
            return (
                None,
                not_sent(format!("cannot record it in the ledger: {e}")),
            )
        }
    };
    let report = deliver(transport.as_ref(), &writer, &built, to, now);
    let (ledger, recorded) = writer.finish();
    let report = match (report, recorded) {
        (report, Ok(())) => report,
        (report, Err(e)) => {
            tracing::warn!("the admin mail was not recorded in the ledger: {e}");
            report
        }
    };
    (Some(ledger), report)
}

/// Parses `[message].from` and the admin address.
fn mailboxes(config: &Config, to: &str) -> Result<(Mailbox, Mailbox), String> {
    let from =
        address::parse_mailbox(&config.message.from).map_err(|e| format!("[message] from: {e}"))?;
    address::check_email(to.trim()).map_err(|e| format!("[notify] admin_email `{to}` {e}"))?;
    let to = address::parse_mailbox(to).map_err(|e| format!("[notify] admin_email: {e}"))?;
    Ok((from, to))
}

/// Whether one more recipient fits in the rolling 24 h budget of `[pacing] per_day`.
fn budget_allows(config: &Config, ledger: &Ledger, now: DateTime<Utc>) -> Result<(), String> {
    let history = ledger
        .submissions_since(now - chrono::Duration::hours(24))
        .map_err(|e| format!("cannot read the day budget from the ledger: {e}"))?;
    let mut budget = DayBudget::new(config.pacing.per_day, &history);
    budget.try_reserve(1, now).map_err(|spent| {
        format!(
            "the [pacing] per_day budget of {} recipients is spent until {}",
            config.pacing.per_day,
            spent.resume_at.format("%Y-%m-%d %H:%M UTC")
        )
    })
}

/// Marks the mail in flight, sends it once, records the outcome.
fn deliver(
    transport: &dyn Transport,
    writer: &LedgerWriter,
    built: &Built,
    to: &str,
    now: DateTime<Utc>,
) -> MailReport {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return MailReport::NotSent {
                to: to.to_string(),
                reason: format!("cannot start the async runtime: {e}"),
            }
        }
    };
    let handle = writer.handle();
    runtime.block_on(async {
        let mark = Mark {
            user_key: LEDGER_KEY.into(),
            recipients: built.envelope.to.clone(),
            message_id: built.message_id.clone(),
            content_hash: crate::send::content_hash(&built.bytes),
            batch: None,
            at: now,
        };
        if let Err(e) = handle.mark_in_flight(vec![mark]).await {
            return MailReport::NotSent {
                to: to.to_string(),
                reason: format!("cannot record it in the ledger before sending: {e}"),
            };
        }
        let result = transport.send(&built.envelope, &built.bytes).await;
        transport.shutdown().await;
        let (resolution, report) = outcome(result, to);
        let submitted = u32::from(matches!(
            resolution,
            Resolution::Sent | Resolution::Uncertain
        ));
        let reply = match &report {
            MailReport::Sent { reply, .. }
            | MailReport::Failed { reply, .. }
            | MailReport::Uncertain { reply, .. } => Some(reply.clone()),
            MailReport::NotSent { .. } => None,
        };
        handle.settle(Settled {
            user_key: LEDGER_KEY.into(),
            resolution,
            reply,
            at: Utc::now(),
            submitted,
        });
        let _ = handle.flush().await;
        report
    })
}

fn outcome(
    result: Result<crate::transport::Accepted, SendError>,
    to: &str,
) -> (Resolution, MailReport) {
    let to = to.to_string();
    match result {
        Ok(accepted) => (
            Resolution::Sent,
            MailReport::Sent {
                to,
                reply: accepted.reply,
            },
        ),
        Err(e) if e.maybe_delivered => (
            Resolution::Uncertain,
            MailReport::Uncertain { to, reply: e.reply },
        ),
        Err(e) => (
            Resolution::Failed,
            MailReport::Failed { to, reply: e.reply },
        ),
    }
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
        let parsed = mail_parser::MessageParser::default()
            .parse(&built.bytes)
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
}
