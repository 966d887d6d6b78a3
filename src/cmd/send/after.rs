//! The admin summary after every `send`, whatever the outcome: built from what the run got
//! to ([`Trace`]), written to a private file, posted to `[notify].webhook_url` and mailed to
//! `[notify].admin_email`. None of it changes the exit status or what was sent: a failure
//! here is printed on stderr and noted in the summary file.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::cli::SendArgs;
use crate::config::Config;
use crate::exit::Outcome;
use crate::gate::GateStatus;
use crate::ledger::deliveries::Standing;
use crate::ledger::lock::SendLock;
use crate::ledger::Ledger;
use crate::notify::{self, file, mail, AdminSummary, RunRecord};
use crate::plan::Plan;
use crate::send::{StopReason, Summary};
use crate::webhook;

/// How many users each list of the posted and mailed summary holds (the file has them all).
pub const LISTED: usize = 200;

/// What a run got to before it ended; every stage it never reached stays `None`.
pub struct Trace {
    pub started: DateTime<Utc>,
    pub plan: Option<Plan>,
    /// Why the run ended, when the outcome alone does not say it.
    pub message: Option<String>,
    pub gate: Option<GateStatus>,
    pub engine: Option<Summary>,
    pub ledger: Option<Ledger>,
    pub lock: Option<SendLock>,
}

impl Trace {
    pub fn new(started: DateTime<Utc>) -> Trace {
        Trace {
            started,
            plan: None,
            message: None,
            gate: None,
            engine: None,
            ledger: None,
            lock: None,
        }
    }
}

/// Builds the summary and sends it everywhere it is configured to go.
pub fn summarize(
    config: &Config,
    args: &SendArgs,
    mut trace: Trace,
    result: &anyhow::Result<Outcome>,
) {
    let ended = Utc::now();
    let (outcome, error) = match result {
        Ok(outcome) => (*outcome, None),
        Err(e) => (crate::run::error_outcome(e), Some(format!("{e:#}"))),
    };
    let standing = campaign_standing(config, &mut trace, &args.campaign);
    let mapping = args.input.mapping.display().to_string();
    let mut summary = notify::build(&RunRecord {
        campaign: &args.campaign,
        test_to: args.test_to.as_deref().map(str::trim),
        started: trace.started,
        ended,
        outcome,
        message: error.as_deref().or(trace.message.as_deref()),
        mapping: &mapping,
        plan: trace.plan.as_ref(),
        gate: trace.gate.as_ref(),
        engine: trace.engine.as_ref(),
        ledger: standing.as_ref(),
    });
    let path = write_file(config, &trace, &summary);
    let short = summary.limited(LISTED);
    let mut delivery = serde_json::Map::new();
    if let Some(url) = &config.notify.webhook_url {
        delivery.insert("webhook".into(), post(url, &short));
    }
    if let Some(to) = &config.notify.admin_email {
        let report = mail_summary(config, &mut trace, to, &short);
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
fn campaign_standing(config: &Config, trace: &mut Trace, campaign: &str) -> Option<Standing> {
    if trace.ledger.is_none() && config.ledger.path.exists() {
        trace.ledger = Ledger::open(&config.ledger.path).ok();
    }
    match trace.ledger.as_ref()?.standing(campaign) {
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

fn write_file(
    config: &Config,
    trace: &Trace,
    summary: &AdminSummary,
) -> Option<std::path::PathBuf> {
    let dir = file::summary_dir(config);
    match file::write_new(&dir, trace.started, &summary.campaign, &pretty(summary)) {
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
fn post(url: &str, summary: &AdminSummary) -> serde_json::Value {
    let shown = webhook::redact(url);
    let body = match serde_json::to_value(summary) {
        Ok(v) => v,
        Err(e) => return json!({"url": shown, "status": "failed", "error": e.to_string()}),
    };
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
        .and_then(|rt| {
            rt.block_on(async {
                tokio::select! {
                    r = webhook::post(url, &body, webhook::Retry::default()) => r.map_err(|e| e.to_string()),
                    _ = interrupted() => Err("interrupted by Ctrl-C".to_string()),
                }
            })
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

/// Mails the summary unless the run stopped on a fatal transport error (no message can
/// succeed) or the ledger cannot record it.
fn mail_summary(
    config: &Config,
    trace: &mut Trace,
    to: &str,
    summary: &AdminSummary,
) -> mail::MailReport {
    let not_sent = |reason: String| mail::MailReport::NotSent {
        to: to.to_string(),
        reason,
    };
    if let Some(Summary {
        stop: Some(StopReason::Fatal { reason }),
        ..
    }) = &trace.engine
    {
        return not_sent(format!(
            "the run stopped on a fatal transport error ({reason}), so no mail was tried"
        ));
    }
    if trace.lock.is_none() {
        match SendLock::acquire(&config.ledger.path) {
            Ok(lock) => trace.lock = Some(lock),
            Err(e) => return not_sent(format!("it could not be recorded in the ledger: {e}")),
        }
    }
    let ledger = match trace.ledger.take() {
        Some(ledger) => ledger,
        None => match Ledger::open(&config.ledger.path) {
            Ok(ledger) => ledger,
            Err(e) => return not_sent(format!("it could not be recorded in the ledger: {e}")),
        },
    };
    let json = String::from_utf8_lossy(&pretty(summary)).into_owned();
    let (ledger, report) = mail::send(config, ledger, to, summary, &json);
    trace.ledger = ledger;
    report
}
