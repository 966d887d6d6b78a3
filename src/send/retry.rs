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

    #[test]
    fn transient_failures_retry_until_the_attempts_are_spent() {
        let b = Backoff::default();
        assert!(matches!(
            decide(&err(FailureClass::Transient), 1, 3, &b, 0.3),
            Action::Retry(_)
        ));
        assert!(matches!(
            decide(&err(FailureClass::Transient), 2, 3, &b, 0.3),
            Action::Retry(_)
        ));
        assert_eq!(
            decide(&err(FailureClass::Transient), 3, 3, &b, 0.3),
            Action::Defer
        );
        assert_eq!(
            decide(&err(FailureClass::Transient), 1, 1, &b, 0.3),
            Action::Defer
        );
    }

    #[test]
    fn a_server_requested_wait_is_honoured() {
        let mut e = err(FailureClass::Transient);
        e.retry_after = Some(Duration::from_secs(120));
        assert_eq!(
            decide(&e, 1, 3, &Backoff::default(), 0.0),
            Action::Retry(Duration::from_secs(120))
        );
        let mut q = err(FailureClass::Quota);
        q.retry_after = Some(Duration::from_secs(30));
        assert_eq!(
            decide(&q, 1, 3, &Backoff::default(), 0.0),
            Action::Pause {
                resume_after: Some(Duration::from_secs(30))
            }
        );
    }

    #[test]
    fn possibly_delivered_messages_are_never_retried_blindly() {
        let mut e = err(FailureClass::Transient);
        e.maybe_delivered = true;
        assert_eq!(
            decide(&e, 1, 5, &Backoff::default(), 0.5),
            Action::Uncertain
        );
    }

    #[test]
    fn other_classes_map_to_their_action() {
        let b = Backoff::default();
        assert_eq!(
            decide(&err(FailureClass::Permanent), 1, 5, &b, 0.5),
            Action::Fail
        );
        assert_eq!(
            decide(&err(FailureClass::Fatal), 1, 5, &b, 0.5),
            Action::Stop
        );
        assert_eq!(
            decide(&err(FailureClass::Quota), 1, 5, &b, 0.5),
            Action::Pause { resume_after: None }
        );
    }
}
