//! `t2t-notify serve`, the notice service: one process that holds the ledger's send lock and,
//! every `[serve] poll_seconds`, runs each configured campaign's pass (a `send --campaign`)
//! when its audience has people due. What happens after a pass is decided here, apart from
//! any I/O: a spent day budget or a quota reply waits until the time the budget allows, a
//! runtime failure backs off, invalid input and a closed gate are said once per change.
//! [`Status`] is what the service is doing now, for whoever shows it.

pub mod budget;
pub mod control;
pub mod dashboard;
pub mod inbox;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::exit::Outcome;
use crate::send::StopReason;

/// The longest wait after repeated runtime failures (a mail server that is down).
pub const MAX_BACKOFF: Duration = Duration::from_secs(30 * 60);

/// What one campaign is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Nobody due, or done: looked at again at the next poll.
    Idle,
    /// A pass is running.
    Sending,
    /// Paused until `until` (the day budget, a quota reply, deferred people).
    Waiting { until: DateTime<Utc>, why: String },
    /// The last passes failed (the server is down): the next one is at `until`.
    BackingOff { until: DateTime<Utc>, failures: u32 },
    /// Nothing is sent until this is fixed (invalid input, the trust gate closed); looked at
    /// again at each poll.
    Held { why: String },
    /// Paused from the dashboard or API: no pass starts until someone resumes.
    Paused { by: String },
}

/// One campaign as the service sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignStatus {
    /// `None`: the config has no `[[campaign]]` tables (the post-move notice).
    pub name: Option<String>,
    pub state: State,
    /// How the last pass that ran ended.
    pub last_outcome: Option<Outcome>,
    pub last_pass: Option<DateTime<Utc>>,
    /// People sent to so far plus those due at the last look (`None`: not looked at yet).
    pub audience: Option<u64>,
}

/// What `serve` is doing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub started: DateTime<Utc>,
    pub campaigns: Vec<CampaignStatus>,
}

/// [`Status`] shared between the loop and its readers.
pub type SharedStatus = Arc<Mutex<Status>>;

impl Status {
    /// Every campaign idle.
    pub fn new(names: &[Option<String>], started: DateTime<Utc>) -> Status {
        let campaigns = names
            .iter()
            .map(|name| CampaignStatus {
                name: name.clone(),
                state: State::Idle,
                last_outcome: None,
                last_pass: None,
                audience: None,
            })
            .collect();
        Status { started, campaigns }
    }
}

/// What the loop does after a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    /// On to the next campaign; this one is looked at again at the next poll.
    Continue,
    /// Nothing more for this campaign before `until`.
    Wait { until: DateTime<Utc>, why: String },
    /// A runtime failure: the next pass at `until`.
    BackOff { until: DateTime<Utc>, failures: u32 },
    /// Input that the pass refused: run again only once the input changes.
    Blocked,
    /// Interrupted by Ctrl-C or SIGTERM: the service ends.
    Stop,
}

/// Why a pass paused, for the log: `day budget of MAILBOX spent`, the server's reply, or the
/// deferred people.
pub fn pause_reason(stop: Option<&StopReason>, mailbox: &str) -> String {
    match stop {
        Some(StopReason::DayBudget { .. }) => format!("day budget of {mailbox} spent"),
        Some(StopReason::Quota { reply, .. }) => {
            format!("the server refused more from {mailbox}: {reply}")
        }
        Some(StopReason::Unavailable { reply, .. }) => {
            format!("the server is refusing for now: {reply}")
        }
        Some(StopReason::Paused { by }) => format!("paused by {by}"),
        _ => "people were deferred by the server; they are tried again".into(),
    }
}

/// When a paused pass may run again: for a spent day budget the time the submissions log frees
/// it (`budget_frees`, from [`budget::frees_at`]) or the engine's, whichever is later; for a
/// quota reply or a refusing server the engine's retry time; else the next poll. Never before
/// the next second, so a clock at the edge cannot spin.
pub fn resume_at(
    stop: Option<&StopReason>,
    budget_frees: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    poll: Duration,
) -> DateTime<Utc> {
    let engine = match stop {
        Some(
            StopReason::DayBudget { resume_at }
            | StopReason::Quota { resume_at, .. }
            | StopReason::Unavailable { resume_at, .. },
        ) => Some(*resume_at),
        _ => None,
    };
    let budget = match stop {
        Some(StopReason::DayBudget { .. }) => budget_frees,
        _ => None,
    };
    let until = match (engine, budget) {
        (Some(a), Some(b)) => a.max(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => now + chrono_of(poll),
    };
    until.max(now + chrono::Duration::seconds(1))
}

/// How long to wait after `failures` runtime failures in a row: the poll interval, doubling
/// each time, at most [`MAX_BACKOFF`] (or the poll interval when that is longer).
pub fn backoff(poll: Duration, failures: u32) -> Duration {
    let doubled = poll.saturating_mul(1 << failures.saturating_sub(1).min(20));
    doubled.min(MAX_BACKOFF.max(poll))
}

/// What the loop does after a pass that ended with `outcome`; `pause_until` is asked only for
/// a paused pass, `failures` counts the runtime failures before this one.
pub fn after(
    outcome: Outcome,
    now: DateTime<Utc>,
    poll: Duration,
    failures: u32,
    pause_until: impl FnOnce() -> (DateTime<Utc>, String),
) -> After {
    match outcome {
        Outcome::Success | Outcome::SomeFailed | Outcome::GateClosed => After::Continue,
        Outcome::Invalid => After::Blocked,
        Outcome::Paused => {
            let (until, why) = pause_until();
            After::Wait { until, why }
        }
        Outcome::Failure => {
            let failures = failures + 1;
            let until = now + chrono_of(backoff(poll, failures));
            After::BackOff { until, failures }
        }
        Outcome::Interrupted => After::Stop,
    }
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
    }

    const POLL: Duration = Duration::from_secs(60);

    #[test]
    fn backoff_doubles_from_the_poll_interval_up_to_half_an_hour() {
        let secs: Vec<u64> = (1..=7).map(|n| backoff(POLL, n).as_secs()).collect();
        assert_eq!(secs, [60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(backoff(POLL, 1000), MAX_BACKOFF);
        let hourly = Duration::from_secs(3600);
        assert_eq!(backoff(hourly, 3), hourly);
    }

    #[test]
    fn a_spent_day_budget_waits_for_the_later_of_the_log_and_the_engine() {
        let engine = now() + chrono::Duration::minutes(5);
        let stop = StopReason::DayBudget { resume_at: engine };
        let log = now() + chrono::Duration::minutes(9);
        assert_eq!(resume_at(Some(&stop), Some(log), now(), POLL), log);
        assert_eq!(resume_at(Some(&stop), None, now(), POLL), engine);
        assert_eq!(
            pause_reason(Some(&stop), "it@fabrikam.com"),
            "day budget of it@fabrikam.com spent"
        );
    }

    #[test]
    fn a_quota_reply_waits_for_the_engine_and_deferred_people_for_the_next_poll() {
        let quota = StopReason::Quota {
            resume_at: now() + chrono::Duration::hours(1),
            reply: "452 4.5.3 quota".into(),
        };
        let budget = Some(now() + chrono::Duration::hours(3));
        assert_eq!(
            resume_at(Some(&quota), budget, now(), POLL),
            now() + chrono::Duration::hours(1)
        );
        assert_eq!(
            resume_at(None, None, now(), POLL),
            now() + chrono::Duration::seconds(60)
        );
        let past = StopReason::DayBudget {
            resume_at: now() - chrono::Duration::hours(1),
        };
        assert_eq!(
            resume_at(Some(&past), None, now(), POLL),
            now() + chrono::Duration::seconds(1)
        );
    }

    #[test]
    fn each_outcome_leads_to_its_step() {
        let never = || -> (DateTime<Utc>, String) { panic!("asked only when paused") };
        for outcome in [Outcome::Success, Outcome::SomeFailed, Outcome::GateClosed] {
            assert_eq!(after(outcome, now(), POLL, 0, never), After::Continue);
        }
        assert_eq!(
            after(Outcome::Invalid, now(), POLL, 0, never),
            After::Blocked
        );
        assert_eq!(
            after(Outcome::Interrupted, now(), POLL, 0, never),
            After::Stop
        );
        assert_eq!(
            after(Outcome::Failure, now(), POLL, 2, never),
            After::BackOff {
                until: now() + chrono::Duration::seconds(240),
                failures: 3
            }
        );
        let until = now() + chrono::Duration::hours(2);
        assert_eq!(
            after(Outcome::Paused, now(), POLL, 0, || (until, "why".into())),
            After::Wait {
                until,
                why: "why".into()
            }
        );
    }
}
