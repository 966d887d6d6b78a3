//! One attempt of one message on a worker task, and what its outcome means: recorded in the
//! ledger, counted, retried later, or the run paused or stopped.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::{lock, Finished, Shared, Task};
use crate::ledger::deliveries::{DeliveryState, Resolution, Settled};
use crate::send::retry::{self, Action};
use crate::send::stop::StopReason;
use crate::send::summary::Count;
use crate::transport::{Accepted, SendError};

/// One attempt of one message, on a worker task.
pub(super) async fn attempt(shared: Arc<Shared>, mut task: Task) -> Finished {
    task.attempts += 1;
    let result = shared
        .transport
        .send(&task.job.envelope, &task.job.message)
        .await;
    match result {
        Ok(accepted) => {
            lock(&shared.opening).other();
            shared.accepted(&task, accepted);
            Finished::Done
        }
        Err(error) => shared.failed(task, error),
    }
}

impl Shared {
    /// Records how an attempt ended: the pacer counts it, the day budget keeps or frees its
    /// recipients, the ledger gets the outcome.
    fn settle(&self, task: &Task, resolution: Resolution, reply: &str, submitted: bool) {
        lock(&self.pacer).finish(Instant::now());
        let at = Utc::now();
        let recipients = task.job.recipients();
        lock(&self.budget).settle(recipients, submitted, at);
        self.writer.settle(Settled {
            user_key: task.job.key.clone(),
            resolution,
            reply: Some(reply.to_string()),
            at,
            submitted: if submitted { recipients } else { 0 },
        });
    }

    fn accepted(&self, task: &Task, accepted: Accepted) {
        tracing::debug!(user = %task.job.key, reply = %accepted.reply, "accepted");
        self.settle(task, Resolution::Sent, &accepted.reply, true);
        self.counts.add(Count::Sent);
        *lock(&self.streak) = 0;
    }

    fn failed(&self, mut task: Task, error: SendError) -> Finished {
        let s = &self.settings;
        let action = retry::decide(
            &error,
            task.attempts,
            s.max_attempts,
            &s.backoff,
            rand::random::<f64>(),
        );
        if action != Action::Fail {
            lock(&self.opening).other();
        }
        let user = task.job.key.as_str();
        tracing::debug!(user, reply = %error.reply, class = ?error.class, attempt = task.attempts, "not accepted");
        match action {
            Action::Retry(wait) => {
                self.settle(&task, Resolution::Deferred, &error.reply, false);
                task.prior = Some(DeliveryState::Deferred);
                return Finished::Retry {
                    task,
                    due: Instant::now() + wait,
                };
            }
            Action::Defer => {
                tracing::info!(user, reply = %error.reply, "deferred to the next run after {} attempts", task.attempts);
                self.settle(&task, Resolution::Deferred, &error.reply, false);
                self.counts.add(Count::Deferred);
                self.count_deferral(&error);
            }
            Action::Fail => {
                tracing::warn!(user, reply = %error.reply, "failed");
                if let Some(why) = lock(&self.opening).refused(&error.reply) {
                    *lock(&self.misconfigured) = Some(why);
                }
                self.settle(&task, Resolution::Failed, &error.reply, false);
                self.counts.add(Count::Failed);
            }
            Action::Uncertain => {
                tracing::warn!(user, reply = %error.reply, "uncertain");
                self.settle(&task, Resolution::Uncertain, &error.reply, true);
                self.counts.add(Count::Uncertain);
            }
            Action::Pause { resume_after } => {
                self.settle(&task, Resolution::Deferred, &error.reply, false);
                self.counts.add(Count::Deferred);
                let now = Utc::now();
                let resume_at = match resume_after.and_then(|d| chrono::Duration::from_std(d).ok())
                {
                    Some(wait) => now + wait,
                    None => lock(&self.budget).resume_at(1, now),
                };
                self.stop.request(StopReason::Quota {
                    resume_at,
                    reply: error.reply,
                });
            }
            Action::Stop => {
                self.settle(
                    &task,
                    Resolution::Revert { prior: task.prior },
                    &error.reply,
                    false,
                );
                self.stop.request(StopReason::Fatal {
                    reason: error.reply,
                });
            }
        }
        Finished::Done
    }

    /// A marked message that never left: back to the state it had in the ledger, its pacer
    /// slot and day budget freed.
    pub(super) fn give_back(&self, task: Task, wall: DateTime<Utc>) {
        self.release(&task, wall);
        self.writer.settle(Settled {
            user_key: task.job.key.clone(),
            resolution: Resolution::Revert { prior: task.prior },
            reply: None,
            at: wall,
            submitted: 0,
        });
    }

    /// Frees the pacer slot and day budget of a marked message that never left; one tried
    /// before in this run counts as deferred.
    pub(super) fn release(&self, task: &Task, wall: DateTime<Utc>) {
        lock(&self.pacer).cancel();
        lock(&self.budget).settle(task.job.recipients(), false, wall);
        if task.attempts > 0 {
            self.counts.add(Count::Deferred);
        }
    }

    /// Pauses the run when too many messages in a row were deferred: the server is not
    /// taking mail right now, and hammering it helps nobody.
    fn count_deferral(&self, error: &SendError) {
        let mut streak = lock(&self.streak);
        *streak += 1;
        if *streak >= self.settings.unavailable_after {
            self.stop.request(StopReason::Unavailable {
                resume_at: Utc::now() + chrono::Duration::minutes(15),
                reply: error.reply.clone(),
            });
        }
    }
}
