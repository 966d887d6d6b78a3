//! What a run did, counted while it runs and summed up at the end; and the exit status that
//! follows from it.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::select::SkipReason;
use super::stop::StopReason;
use crate::exit::Outcome;

/// Counts of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub sent: u64,
    pub deferred: u64,
    pub failed: u64,
    pub uncertain: u64,
    pub skipped_sent: u64,
    pub skipped_failed: u64,
    pub skipped_uncertain: u64,
}

impl Counts {
    /// Messages that reached an outcome in this run.
    pub fn done(&self) -> u64 {
        self.sent + self.deferred + self.failed + self.uncertain
    }
    /// Users looked at so far (done or skipped).
    pub fn seen(&self) -> u64 {
        self.done() + self.skipped_sent + self.skipped_failed + self.skipped_uncertain
    }
}

/// The live counters the engine's tasks update.
#[derive(Debug, Default)]
pub struct LiveCounts(Mutex<Counts>);

/// Which counter to add to.
#[derive(Debug, Clone, Copy)]
pub enum Count {
    Sent,
    Deferred,
    Failed,
    Uncertain,
    Skipped(SkipReason),
}

impl LiveCounts {
    pub fn add(&self, which: Count) {
        let mut c = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *match which {
            Count::Sent => &mut c.sent,
            Count::Deferred => &mut c.deferred,
            Count::Failed => &mut c.failed,
            Count::Uncertain => &mut c.uncertain,
            Count::Skipped(SkipReason::AlreadySent) => &mut c.skipped_sent,
            Count::Skipped(SkipReason::Failed) => &mut c.skipped_failed,
            Count::Skipped(SkipReason::Uncertain) => &mut c.skipped_uncertain,
        } += 1;
    }

    pub fn snapshot(&self) -> Counts {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The end of a run.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub counts: Counts,
    pub stop: Option<StopReason>,
    pub elapsed: Duration,
}

impl RunSummary {
    /// The exit status: 1 fatal, 130 interrupted, 5 paused or users deferred (run again),
    /// 4 users failed or uncertain (they need the admin), 0 everyone has their notice.
    pub fn outcome(&self) -> Outcome {
        let c = &self.counts;
        match &self.stop {
            Some(StopReason::Fatal { .. }) => Outcome::Failure,
            Some(StopReason::Interrupted) => Outcome::Interrupted,
            Some(
                StopReason::Paused { .. }
                | StopReason::Quota { .. }
                | StopReason::DayBudget { .. }
                | StopReason::Unavailable { .. },
            ) => Outcome::Paused,
            None if c.deferred > 0 => Outcome::Paused,
            None if c.failed + c.uncertain + c.skipped_failed + c.skipped_uncertain > 0 => {
                Outcome::SomeFailed
            }
            None => Outcome::Success,
        }
    }

    /// The summary printed at the end of `send`.
    pub fn render(&self, now: DateTime<Utc>) -> String {
        let c = &self.counts;
        let rows: [(&str, u64, &str); 7] = [
            ("sent", c.sent, ""),
            ("deferred", c.deferred, "run send again to retry them"),
            (
                "failed",
                c.failed,
                "`t2t-notify report` shows the replies; --retry-failed tries again",
            ),
            (
                "uncertain",
                c.uncertain,
                "may have been delivered; --resend-uncertain sends again",
            ),
            ("skipped, already sent", c.skipped_sent, ""),
            (
                "skipped, failed before",
                c.skipped_failed,
                "--retry-failed tries them again",
            ),
            (
                "skipped, uncertain",
                c.skipped_uncertain,
                "--resend-uncertain sends them again",
            ),
        ];
        let mut out = format!("Summary after {:.1} s:\n", self.elapsed.as_secs_f64());
        for (label, n, hint) in rows {
            let hint = if n > 0 && !hint.is_empty() {
                format!("  ({hint})")
            } else {
                String::new()
            };
            out.push_str(&format!("  {label:<24}{n:>8}{hint}\n"));
        }
        if let Some(stop) = &self.stop {
            out.push_str(&stop_line(stop, now));
            out.push('\n');
        }
        out
    }
}

/// One line on why the run stopped and what to do.
pub fn stop_line(stop: &StopReason, now: DateTime<Utc>) -> String {
    match stop {
        StopReason::Interrupted => {
            "Stopped by Ctrl-C after the messages in flight finished; run send again to continue.".into()
        }
        StopReason::Paused { by } => format!(
            "Paused by {by} after the messages in flight finished; sending continues when resumed."
        ),
        StopReason::Quota { resume_at, reply } => format!(
            "Paused: the server refused more messages for now: {reply}. Resume at {}.",
            resume(*resume_at, now)
        ),
        StopReason::DayBudget { resume_at } => format!(
            "Paused: the rolling 24 h budget of [pacing] per_day is spent. Resume at {}.",
            resume(*resume_at, now)
        ),
        StopReason::Unavailable { resume_at, reply } => format!(
            "Paused: the server keeps refusing messages for a passing reason ({reply}). Try again at {}.",
            resume(*resume_at, now)
        ),
        StopReason::Fatal { reason } => format!("Stopped: {reason}"),
    }
}

/// `2026-11-27 08:30 UTC (in 2 h 30 min)`.
fn resume(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let when = at.format("%Y-%m-%d %H:%M UTC");
    let minutes = ((at - now).num_seconds().max(0) + 59) / 60;
    if minutes < 1 {
        format!("{when} (now)")
    } else if minutes < 60 {
        format!("{when} (in {minutes} min)")
    } else {
        format!("{when} (in {} h {} min)", minutes / 60, minutes % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(counts: Counts, stop: Option<StopReason>) -> RunSummary {
        RunSummary {
            counts,
            stop,
            elapsed: Duration::from_secs(3),
        }
    }

    #[test]
    fn a_quota_pause_says_what_the_server_replied() {
        let now = Utc::now();
        let stop = StopReason::Quota {
            resume_at: now + chrono::Duration::minutes(5),
            reply: "421 4.3.2 Service not available, closing transmission channel".into(),
        };
        let text = summary(Counts::default(), Some(stop)).render(now);
        assert!(
            text.contains("421 4.3.2 Service not available, closing transmission channel"),
            "{text}"
        );
        assert!(!text.contains("out of quota"), "{text}");
    }

    #[test]
    fn exit_status_follows_the_worst_news() {
        let ok = Counts {
            sent: 3,
            skipped_sent: 2,
            ..Counts::default()
        };
        assert_eq!(summary(ok, None).outcome(), Outcome::Success);
        let failed = Counts { failed: 1, ..ok };
        assert_eq!(summary(failed, None).outcome(), Outcome::SomeFailed);
        let earlier = Counts {
            skipped_uncertain: 1,
            ..ok
        };
        assert_eq!(summary(earlier, None).outcome(), Outcome::SomeFailed);
        let deferred = Counts {
            deferred: 1,
            ..failed
        };
        assert_eq!(summary(deferred, None).outcome(), Outcome::Paused);
        let day = StopReason::DayBudget {
            resume_at: Utc::now(),
        };
        assert_eq!(summary(failed, Some(day)).outcome(), Outcome::Paused);
        assert_eq!(
            summary(failed, Some(StopReason::Interrupted)).outcome(),
            Outcome::Interrupted
        );
        let fatal = StopReason::Fatal {
            reason: "535".into(),
        };
        assert_eq!(summary(ok, Some(fatal)).outcome(), Outcome::Failure);
    }

    #[test]
    fn the_summary_names_every_count_and_when_to_resume() {
        let now = DateTime::parse_from_rfc3339("2026-11-27T06:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let s = summary(
            Counts {
                sent: 7,
                deferred: 1,
                ..Counts::default()
            },
            Some(StopReason::DayBudget {
                resume_at: now + chrono::Duration::minutes(150),
            }),
        );
        let text = s.render(now);
        assert!(text.contains("sent                           7"), "{text}");
        assert!(
            text.contains("deferred                       1  (run send again"),
            "{text}"
        );
        assert!(
            text.contains("Resume at 2026-11-27 08:30 UTC (in 2 h 30 min)"),
            "{text}"
        );
    }
}
