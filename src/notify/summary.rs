//! The admin summary of one `send` run as a document: what the run did, where every user of
//! the campaign stands, who was held back and why (`Failed` first), who failed with which
//! reply, who is uncertain, when to resume, and the trust gate. [`build`] is a pure function of
//! the run's record, the plan and the campaign's ledger rows; [`AdminSummary::limited`] makes
//! the short version that is posted and mailed.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::exit::Outcome;
use crate::gate::GateStatus;
use crate::ledger::deliveries::{DeliveryRow, DeliveryState, Standing};
use crate::plan::{HeldBack, Hold, Plan};
use crate::send::summary::{stop_line, Counts};
use crate::send::{RunSummary, StopReason};

/// What the document says it is, for whoever receives it.
pub const KIND: &str = "t2t-notify.send-summary";
/// Bumped when a field changes meaning or goes away.
pub const VERSION: u32 = 1;

/// Everything known about one run when it ended. Stages the run never reached are `None`.
#[derive(Debug, Clone, Copy)]
pub struct RunRecord<'a> {
    pub campaign: &'a str,
    /// The `--test-to` address of a test run.
    pub test_to: Option<&'a str>,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    pub outcome: Outcome,
    /// Why the run ended, when the caller knows better than the outcome (the input's errors,
    /// the gate, the error that stopped it).
    pub message: Option<&'a str>,
    /// The mapping file, as named on the command line.
    pub mapping: &'a str,
    pub plan: Option<&'a Plan>,
    pub gate: Option<&'a GateStatus>,
    /// What the sending engine reports, when it ran.
    pub engine: Option<&'a RunSummary>,
    /// Where the campaign stands in the ledger after the run, when the ledger could be read.
    pub ledger: Option<&'a Standing>,
}

/// The summary document (JSON).
#[derive(Debug, Clone, Serialize)]
pub struct AdminSummary {
    pub kind: &'static str,
    pub version: u32,
    pub campaign: String,
    /// Set on a `--test-to` run: every message went to this one address.
    pub test_to: Option<String>,
    pub run: RunTimes,
    pub outcome: OutcomeInfo,
    pub gate: GateInfo,
    /// `None` when the input could not be read at all.
    pub input: Option<InputInfo>,
    /// Users per state in the ledger for this campaign; `None` when the ledger was not read.
    pub ledger: Option<BTreeMap<&'static str, u64>>,
    /// What this run did; `None` when it stopped before sending.
    pub this_run: Option<Counts>,
    pub held_back: HeldBackInfo,
    pub failures: Listed<LedgerUser>,
    pub uncertain: Listed<LedgerUser>,
    pub paused: Option<Paused>,
    /// Where the summary went (file, webhook, admin mail); filled in after delivery, only in
    /// the summary file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunTimes {
    pub started_at: String,
    pub ended_at: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutcomeInfo {
    /// `success`, `failure`, `invalid-input`, `gate-closed`, `some-failed`, `paused`,
    /// `interrupted`.
    pub status: &'static str,
    pub exit_code: i32,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GateInfo {
    /// `open`, `closed`, or `not-checked` (the run stopped before the gate).
    pub status: &'static str,
    pub total_pairs: Option<usize>,
    pub missing: Vec<MissingPair>,
}

/// A host pair whose trust removal is not confirmed, and what to run.
#[derive(Debug, Clone, Serialize)]
pub struct MissingPair {
    pub side: &'static str,
    pub host_url: String,
    pub partner_url: String,
    pub remove_command: String,
    pub verify_command: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    pub mapping: String,
    /// The move-state exports read (empty: every mapped user is a candidate).
    pub move_state_exports: Vec<String>,
    pub users: u64,
    pub groups: u64,
    /// Users whose notice may go out (newest move state `Success`, or all without exports).
    pub ready: u64,
    pub error_count: usize,
    pub warning_count: usize,
    /// The input's errors, located (`file:line: ...`).
    pub errors: Vec<String>,
}

/// Users not notified because of their move state, by reason, `Failed` first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HeldBackInfo {
    pub total: u64,
    pub by_reason: Vec<HoldGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HoldGroup {
    /// `Failed`, `InProgress`, `unknown state `X``, `not in any move-state export`.
    pub reason: String,
    pub hold: Hold,
    /// True when the move will not finish by itself: the migration team must act.
    pub action_needed: bool,
    pub users: Listed<HeldUser>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeldUser {
    pub source_upn: String,
    pub target_upn: String,
    pub batch: Option<String>,
    /// Where the newest entry is (`batch-1.csv:4`).
    pub export: Option<String>,
    pub job_id: Option<String>,
    pub reason: String,
}

/// A ledger row the admin must look at (failed or uncertain).
#[derive(Debug, Clone, Serialize)]
pub struct LedgerUser {
    pub user: String,
    pub recipients: Vec<String>,
    pub state: DeliveryState,
    /// The server's reply, or the local cause.
    pub reply: Option<String>,
    pub attempts: u32,
    pub message_id: Option<String>,
    pub batch: Option<String>,
    pub last_attempt_at: Option<String>,
    /// The last attempt was made by this run.
    pub this_run: bool,
}

/// A list that may be cut short: `total` counts every item, `omitted` those not listed.
#[derive(Debug, Clone, Serialize)]
pub struct Listed<T> {
    pub total: usize,
    pub omitted: usize,
    pub users: Vec<T>,
}

impl<T> Listed<T> {
    fn all(users: Vec<T>) -> Self {
        Listed {
            total: users.len(),
            omitted: 0,
            users,
        }
    }

    fn cut(&mut self, max: usize) {
        self.users.truncate(max);
        self.omitted = self.total - self.users.len();
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Paused {
    /// When sending can go on; `None` when it can go on at once (deferred users).
    pub resume_at: Option<String>,
    pub reason: String,
}

/// Builds the summary of one run.
pub fn build(record: &RunRecord<'_>) -> AdminSummary {
    let rows = record.ledger.map_or(&[][..], |l| &l.attention);
    let since = crate::ledger::deliveries::timestamp(record.started);
    AdminSummary {
        kind: KIND,
        version: VERSION,
        campaign: record.campaign.to_string(),
        test_to: record.test_to.map(str::to_string),
        run: RunTimes {
            started_at: stamp(record.started),
            ended_at: stamp(record.ended),
            seconds: (record.ended - record.started).num_milliseconds().max(0) as f64 / 1000.0,
        },
        outcome: outcome_info(record),
        gate: gate_info(record.gate),
        input: record.plan.map(|p| input_info(record.mapping, p)),
        ledger: record.ledger.map(state_counts),
        this_run: record.engine.map(|s| s.counts),
        held_back: held_back(record.plan.map_or(&[], |p| &p.held_back)),
        failures: Listed::all(ledger_users(rows, DeliveryState::Failed, &since)),
        uncertain: Listed::all(ledger_users(rows, DeliveryState::Uncertain, &since)),
        paused: paused(record),
        delivery: None,
    }
}

impl AdminSummary {
    /// The same summary with at most `max` users in each list (the counts stay whole), for
    /// the webhook and the mail; the file keeps every user.
    pub fn limited(&self, max: usize) -> AdminSummary {
        let mut short = self.clone();
        short.failures.cut(max);
        short.uncertain.cut(max);
        for group in &mut short.held_back.by_reason {
            group.users.cut(max);
        }
        if let Some(input) = &mut short.input {
            input.errors.truncate(max);
        }
        short
    }

    /// Users listed nowhere because of [`AdminSummary::limited`].
    pub fn omitted(&self) -> usize {
        self.failures.omitted
            + self.uncertain.omitted
            + self
                .held_back
                .by_reason
                .iter()
                .map(|g| g.users.omitted)
                .sum::<usize>()
    }
}

/// The status word of an exit status.
pub fn status_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
        Outcome::Invalid => "invalid-input",
        Outcome::GateClosed => "gate-closed",
        Outcome::SomeFailed => "some-failed",
        Outcome::Paused => "paused",
        Outcome::Interrupted => "interrupted",
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn outcome_info(record: &RunRecord<'_>) -> OutcomeInfo {
    let message = match (record.message, record.engine) {
        (Some(m), _) => m.to_string(),
        (
            None,
            Some(RunSummary {
                stop: Some(stop), ..
            }),
        ) => stop_line(stop, record.ended),
        (None, _) => default_message(record.outcome).to_string(),
    };
    OutcomeInfo {
        status: status_name(record.outcome),
        exit_code: record.outcome.code(),
        message,
    }
}

fn default_message(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success => "every ready user has their notice",
        Outcome::SomeFailed => "finished; some users failed or are uncertain and need the admin",
        Outcome::Paused => "some users were deferred; run send again to retry them",
        Outcome::Interrupted => "stopped by Ctrl-C; run send again to continue",
        Outcome::GateClosed => "the trust gate is closed; nothing was sent",
        Outcome::Invalid => "invalid input; nothing was sent",
        Outcome::Failure => "the run failed",
    }
}

fn gate_info(gate: Option<&GateStatus>) -> GateInfo {
    let (status, total_pairs) = match gate {
        None => ("not-checked", None),
        Some(GateStatus::Open) => ("open", None),
        Some(GateStatus::Closed { total, .. }) => ("closed", Some(*total)),
    };
    let missing = gate.map_or(&[][..], |g| g.missing());
    GateInfo {
        status,
        total_pairs,
        missing: missing
            .iter()
            .map(|p| MissingPair {
                side: p.side.as_str(),
                host_url: p.host_url.clone(),
                partner_url: p.partner_url.clone(),
                remove_command: p.remove_command(),
                verify_command: p.verify_command(),
            })
            .collect(),
    }
}

fn input_info(mapping: &str, plan: &Plan) -> InputInfo {
    InputInfo {
        mapping: mapping.to_string(),
        move_state_exports: plan
            .move_states
            .as_ref()
            .map(|s| s.files().iter().map(|f| f.to_string()).collect())
            .unwrap_or_default(),
        users: plan.users,
        groups: plan.groups,
        ready: plan.ready,
        error_count: plan.diagnostics.errors().count(),
        warning_count: plan.diagnostics.warnings().count(),
        errors: plan
            .diagnostics
            .sorted()
            .into_iter()
            .filter(|d| d.severity == crate::diag::Severity::Error)
            .map(|d| d.to_string())
            .collect(),
    }
}

fn state_counts(standing: &Standing) -> BTreeMap<&'static str, u64> {
    DeliveryState::ALL
        .iter()
        .map(|s| (s.as_str(), standing.counts.get(s).copied().unwrap_or(0)))
        .collect()
}

fn held_back(held: &[HeldBack]) -> HeldBackInfo {
    let mut groups: BTreeMap<&Hold, Vec<HeldUser>> = BTreeMap::new();
    for h in held {
        groups.entry(&h.hold).or_default().push(HeldUser {
            source_upn: h.user.source_upn.clone(),
            target_upn: h.user.target_upn.clone(),
            batch: h.move_state.as_ref().map(|m| m.batch.clone()),
            export: h.move_state.as_ref().map(|m| m.location()),
            job_id: h.move_state.as_ref().and_then(|m| m.job_id.clone()),
            reason: h.reason.clone(),
        });
    }
    HeldBackInfo {
        total: held.len() as u64,
        by_reason: groups
            .into_iter()
            .map(|(hold, users)| HoldGroup {
                reason: hold.to_string(),
                hold: hold.clone(),
                action_needed: hold.needs_action(),
                users: Listed::all(users),
            })
            .collect(),
    }
}

fn ledger_users(rows: &[DeliveryRow], state: DeliveryState, since: &str) -> Vec<LedgerUser> {
    rows.iter()
        .filter(|r| r.state == state)
        .map(|r| LedgerUser {
            user: r.user_key.clone(),
            recipients: r.recipients.clone(),
            state: r.state,
            reply: r.last_reply.clone(),
            attempts: r.attempts,
            message_id: r.message_id.clone(),
            batch: r.batch.clone(),
            last_attempt_at: r.last_attempt_at.clone(),
            this_run: r.last_attempt_at.as_deref().is_some_and(|t| t >= since),
        })
        .collect()
}

fn paused(record: &RunRecord<'_>) -> Option<Paused> {
    if record.outcome != Outcome::Paused {
        return None;
    }
    let engine = record.engine?;
    let resume_at = match &engine.stop {
        Some(
            StopReason::Quota { resume_at, .. }
            | StopReason::DayBudget { resume_at }
            | StopReason::Unavailable { resume_at, .. },
        ) => Some(stamp(*resume_at)),
        _ => None,
    };
    let reason = match &engine.stop {
        Some(stop) => stop_line(stop, record.ended),
        None => format!(
            "{} users were deferred; run send again to retry them",
            engine.counts.deferred
        ),
    };
    Some(Paused { resume_at, reason })
}

#[cfg(test)]
pub(crate) mod tests;
