//! What to do after a failed attempt: retry after an exponential backoff with jitter, defer to
//! the next run, fail the user, set them aside as uncertain, pause the run or stop it. Pure.

use std::time::Duration;

use crate::transport::{FailureClass, SendError};

/// Exponential backoff between attempts of one message within a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure (before jitter).
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// The wait after `attempt` failed attempts (1-based): `base * 2^(attempt-1)`, at most
    /// `max`, scaled by a jitter factor in [0.5, 1.0] (`jitter` is uniform in [0, 1)) so that
    /// messages that failed together do not come back together.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let full = self.base.saturating_mul(1u32 << exp).min(self.max);
        full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

/// The engine's next step for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Try again in this run after the wait.
    Retry(Duration),
    /// Out of attempts for this run: `deferred`, the next run tries again.
    Defer,
    /// This recipient cannot be reached: `failed`.
    Fail,
    /// It may have been delivered: `uncertain`, only `--resend-uncertain` sends it again.
    Uncertain,
    /// Out of budget: `deferred`, and start no more messages; the server's wait if it gave one.
    Pause { resume_after: Option<Duration> },
    /// Nothing can succeed: stop the run, leave the user as they were.
    Stop,
}

/// Decides what follows failed attempt number `attempts` (1-based) of a message.
pub fn decide(
    error: &SendError,
    attempts: u32,
    max_attempts: u32,
    backoff: &Backoff,
    jitter: f64,
) -> Action {
    match error.class {
        FailureClass::Quota => Action::Pause {
            resume_after: error.retry_after,
        },
        FailureClass::Fatal => Action::Stop,
        FailureClass::Permanent => Action::Fail,
        FailureClass::Transient if error.maybe_delivered => Action::Uncertain,
        FailureClass::Transient if attempts < max_attempts => {
            let wait = backoff.delay(attempts, jitter);
            Action::Retry(error.retry_after.map_or(wait, |asked| asked.max(wait)))
        }
        FailureClass::Transient => Action::Defer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(class: FailureClass) -> SendError {
        SendError::new(class, "reply")
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_only_shortens() {
        let b = Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(60),
        };
        assert_eq!(b.delay(1, 1.0), Duration::from_secs(2));
        assert_eq!(b.delay(2, 1.0), Duration::from_secs(4));
        assert_eq!(b.delay(3, 1.0), Duration::from_secs(8));
        assert_eq!(b.delay(10, 1.0), Duration::from_secs(60));
        assert_eq!(b.delay(1, 0.0), Duration::from_secs(1));
        assert_eq!(b.delay(u32::MAX, 0.5), Duration::from_secs(45));
    }

    /// Transient failures retry until the attempts are spent, at least as late as the server
    /// asked; a message that may have been delivered is never retried blindly; the other
    /// classes map to their action.
    #[test]
    fn each_failure_gets_its_action() {
        use FailureClass::{Fatal, Permanent, Quota, Transient};
        let secs = Duration::from_secs;
        let asked = |class, wait| SendError {
            retry_after: Some(secs(wait)),
            ..err(class)
        };
        let lost = SendError {
            maybe_delivered: true,
            ..err(Transient)
        };
        let pause = |wait: Option<u64>| Action::Pause {
            resume_after: wait.map(secs),
        };
        // (error, failed attempts, max attempts, action)
        let cases = [
            (err(Transient), 1, 3, Action::Retry(secs(1))),
            (err(Transient), 2, 3, Action::Retry(secs(2))),
            (err(Transient), 3, 3, Action::Defer),
            (err(Transient), 1, 1, Action::Defer),
            (asked(Transient, 120), 1, 3, Action::Retry(secs(120))),
            (lost, 1, 5, Action::Uncertain),
            (err(Permanent), 1, 5, Action::Fail),
            (err(Fatal), 1, 5, Action::Stop),
            (err(Quota), 1, 5, pause(None)),
            (asked(Quota, 30), 1, 3, pause(Some(30))),
        ];
        for (i, (error, attempts, max, action)) in cases.iter().enumerate() {
            let got = decide(error, *attempts, *max, &Backoff::default(), 0.0);
            assert_eq!(
                got, *action,
                "case {i}: {error:?}, attempt {attempts} of {max}"
            );
        }
    }
}
