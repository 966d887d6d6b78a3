//! The admin summary after every `send`, whatever the outcome: built from what the run got
//! to ([`SendRun`]), written to a private file, posted to `[notify].webhook_url` and mailed to
//! `[notify].admin_email`. None of it changes the exit status or what was sent: a failure
//! here is printed on stderr and noted in the summary file.

use chrono::Utc;
use serde_json::json;

use super::run::{Delivery, SendRun};
use crate::cli::SendArgs;
use crate::exit::Outcome;
use crate::ledger::deliveries::{timestamp, Book, Standing};
use crate::notify::mail::{self, MailReport};
use crate::notify::{self, file, AdminSummary, RunRecord};
use crate::send::progress::Progress;
use crate::send::{RunSummary, SendSelection, Settings, StopReason};
use crate::webhook;

/// How many users each list of the posted and mailed summary holds (the file has them all).
pub const LISTED: usize = 200;

/// Builds the summary and sends it everywhere it is configured to go.
pub fn summarize(run: &mut SendRun, args: &SendArgs, result: &anyhow::Result<Outcome>) {
    let ended = Utc::now();
    let (outcome, error) = match result {
        Ok(outcome) => (*outcome, None),
        Err(e) => (crate::run::error_outcome(e), Some(format!("{e:#}"))),
    };
    let campaign = run.config.active.name.clone();
    let standing = campaign_standing(run, &campaign);
    let mapping = args.input.mapping.display().to_string();
    let mut summary = notify::build(&RunRecord {
        campaign: &campaign,
        test_to: args.test_to.as_deref().map(str::trim),
        started: run.started,
        ended,
        outcome,
        message: error.as_deref().or(run.message.as_deref()),
        mapping: &mapping,
        plan: run.plan.as_ref(),
        gate: run.gate.as_ref(),
        engine: run.report.as_ref(),
        ledger: standing.as_ref(),
    });
    let path = write_file(run, &summary);
    let short = summary.limited(LISTED);
    let mut delivery = serde_json::Map::new();
    if let Some(url) = run.config.notify.webhook_url.clone() {
        delivery.insert("webhook".into(), post(run, &url, &short));
    }
    if let Some(to) = run.config.notify.admin_email.clone() {
        let report = mail_summary(run, &to, &short);
        eprintln!("{}", report.line());
        delivery.insert("admin_email".into(), json!(report));
    }
    if let Some(path) = &path {
        if !delivery.is_empty() {
            summary.delivery = Some(serde_json::Value::Object(delivery));
            if let Err(e) = file::rewrite(path, &pretty(&summary)) {
                eprintln!(
                    "warning: cannot add the webhook and mail results to {}: {e}",
                    path.display()
                );
            }
        }
        eprintln!("Summary: {}", path.display());
    }
}

/// Where the campaign stands in the ledger: from the run's ledger, else from the file if one
/// exists.
fn campaign_standing(run: &mut SendRun, campaign: &str) -> Option<Standing> {
    match run.ledger.for_summary()?.standing(campaign) {
        Ok(standing) => Some(standing),
        Err(e) => {
            eprintln!("warning: the summary has no ledger counts: {e}");
            None
        }
    }
}

fn pretty(summary: &AdminSummary) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(summary).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

fn write_file(run: &SendRun, summary: &AdminSummary) -> Option<std::path::PathBuf> {
    let dir = file::summary_dir(&run.config);
    match file::write_new(&dir, run.started, &summary.campaign, &pretty(summary)) {
        Ok(path) => Some(path),
        Err(e) => {
            eprintln!(
                "warning: cannot write the summary into {}: {e}; check [notify] summary_dir",
                dir.display()
            );
            None
        }
    }
}

/// Posts the summary; a failure is printed and returned for the file, nothing more. Ctrl-C
/// gives up on it.
fn post(run: &SendRun, url: &str, summary: &AdminSummary) -> serde_json::Value {
    let shown = webhook::redact(url);
    let body = match serde_json::to_value(summary) {
        Ok(v) => v,
        Err(e) => return json!({"url": shown, "status": "failed", "error": e.to_string()}),
    };
    let result = run.runtime.block_on(async {
        tokio::select! {
            r = webhook::post(url, &body, webhook::Retry::default()) => r.map_err(|e| e.to_string()),
            _ = interrupted() => Err("interrupted by Ctrl-C".to_string()),
        }
    });
    match result {
        Ok(status) => json!({"url": shown, "status": "delivered", "http_status": status}),
        Err(error) => {
            eprintln!("warning: the summary was not posted to the webhook: {error}");
            json!({"url": shown, "status": "failed", "error": error})
        }
    }
}

async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Mails the summary through the engine, as the one job of a run of its own, unless the run
/// stopped on a fatal transport error (no message can succeed) or the ledger cannot record it.
fn mail_summary(run: &mut SendRun, to: &str, summary: &AdminSummary) -> MailReport {
    let not_sent = |reason: String| MailReport::NotSent {
        to: to.to_string(),
        reason,
    };
    if let Some(RunSummary {
        stop: Some(StopReason::Fatal { reason }),
        ..
    }) = &run.report
    {
        return not_sent(format!(
            "the run stopped on a fatal transport error ({reason}), so no mail was tried"
        ));
    }
    let now = Utc::now();
    let json = String::from_utf8_lossy(&pretty(summary)).into_owned();
    let job = match mail::job(&run.config, to, summary, &json, now.into()) {
        Ok(job) => job,
        Err(e) => return not_sent(e.to_string()),
    };
    let transport = match crate::transport::from_config(&run.config) {
        Ok((t, _)) => t,
        Err(e) => return not_sent(format!("no transport: {e}")),
    };
    let name = format!("admin-summary {}", timestamp(now));
    let book = Book::Test {
        campaign: summary.campaign.clone(),
        run: name.clone(),
        to: to.to_string(),
    };
    let delivery = Delivery {
        settings: Settings::new(&run.config, transport.as_ref()),
        transport,
        selection: SendSelection::test(),
        progress: Progress::Silent,
        total: Some(1),
    };
    let (report, recorded) = match run.deliver(book, delivery, std::iter::once(job.into())) {
        Ok(done) => done,
        Err(e) => return not_sent(format!("it could not be recorded in the ledger: {e}")),
    };
    if let Err(e) = recorded {
        tracing::warn!("the admin mail was not recorded in the ledger: {e}");
    }
    let reply = last_reply(run, &summary.campaign, &name);
    MailReport::of_run(to, &report, reply, run.config.pacing.per_day)
}

/// The server's last reply to the admin mail, as the ledger recorded it.
fn last_reply(run: &mut SendRun, campaign: &str, name: &str) -> Option<String> {
    let rows = run.ledger.open().ok()?.test_sends(Some(campaign)).ok()?;
    rows.into_iter()
        .find(|r| r.run == name && r.user_key == mail::LEDGER_KEY)?
        .last_reply
}
