//! Why a run stops early, shared between the engine's tasks and the signal watcher: the first
//! Ctrl-C (SIGINT) or SIGTERM (what `kill`, `timeout` and service managers send) stops starting
//! new messages (the ones in flight finish and are recorded), a second one aborts at once.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

/// Why the run stopped before every job was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// Someone paused `serve` from its dashboard or API (`by`: who, as the audit log has it).
    Paused { by: String },
    /// The server said the mailbox is out of budget.
    Quota {
        resume_at: DateTime<Utc>,
        reply: String,
    },
    /// The rolling 24 h budget of `[pacing] per_day` is spent.
    DayBudget { resume_at: DateTime<Utc> },
    /// The server keeps refusing for a passing reason: try later.
    Unavailable {
        resume_at: DateTime<Utc>,
        reply: String,
    },
    /// No message can succeed; what to fix.
    Fatal { reason: String },
}

/// The run's stop flag.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    reason: Mutex<Option<StopReason>>,
    notify: Notify,
}

impl Stop {
    /// A flag nobody has raised.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Raises the flag. The first reason is kept, except that a fatal error replaces any other
    /// (it decides the exit status and what the admin must fix).
    pub fn request(&self, reason: StopReason) {
        let mut current = self.inner.reason.lock().unwrap_or_else(|e| e.into_inner());
        let replace = match &*current {
            None => true,
            Some(StopReason::Fatal { .. }) => false,
            Some(_) => matches!(reason, StopReason::Fatal { .. }),
        };
        if replace {
            *current = Some(reason);
        }
        drop(current);
        self.inner.notify.notify_waiters();
    }

    /// Whether the run must stop starting messages.
    pub fn is_requested(&self) -> bool {
        self.reason().is_some()
    }

    /// The reason, once raised.
    pub fn reason(&self) -> Option<StopReason> {
        self.inner
            .reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Resolves when the flag is raised (at once if it already is).
    pub async fn requested(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.is_requested() {
                return;
            }
            notified.await;
        }
    }
}

/// Watches for Ctrl-C and SIGTERM: the first raises the flag and says what happens; the second
/// runs `abort` (which should commit what the ledger has queued) and exits with status 130.
pub fn watch_ctrl_c<F, Fut>(stop: Stop, abort: F) -> tokio::task::JoinHandle<()>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let Ok(mut signals) = crate::platform::Signals::new() else {
            return;
        };
        let Some(first) = signals.next().await else {
            return;
        };
        eprintln!("\nInterrupted ({first}): no new messages are started; waiting for the ones in flight to finish. Press Ctrl-C again to abort at once (their users are then listed as uncertain next time).");
        stop.request(StopReason::Interrupted);
        if signals.next().await.is_none() {
            return;
        }
        eprintln!("\nAborted.");
        abort().await;
        std::process::exit(130);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_wins_unless_a_fatal_one_comes() {
        let stop = Stop::new();
        assert!(!stop.is_requested());
        stop.request(StopReason::Interrupted);
        stop.request(StopReason::DayBudget {
            resume_at: Utc::now(),
        });
        assert_eq!(stop.reason(), Some(StopReason::Interrupted));
        stop.request(StopReason::Fatal {
            reason: "535".into(),
        });
        stop.request(StopReason::Interrupted);
        assert!(matches!(stop.reason(), Some(StopReason::Fatal { .. })));
    }

    #[tokio::test]
    async fn waiting_ends_when_raised() {
        let stop = Stop::new();
        let waiter = tokio::spawn({
            let stop = stop.clone();
            async move { stop.requested().await }
        });
        stop.request(StopReason::Interrupted);
        waiter.await.unwrap();
        stop.requested().await;
    }
}
