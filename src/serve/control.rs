//! What stops, pauses and steers the running service, shared between its loop, the signal
//! listener and the dashboard: a signal ends the service; a pause stops the running pass from
//! starting messages (those in flight finish and are recorded) and starts no other until a
//! resume; a retry or resend request makes the campaign's next pass a `send --retry-failed` or
//! `--resend-uncertain`. Every change wakes the loop, so it acts at once rather than at the
//! next poll.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::send::{Stop, StopReason};

/// Why the loop was woken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// Ctrl-C, SIGTERM or a service stop, by name: the service ends.
    Signal(&'static str),
    /// A pause, resume or request from the dashboard.
    Control,
}

/// Who paused the service and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paused {
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A one-off request for a campaign's next pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redo {
    /// Try the people whose message failed again (`send --retry-failed`).
    RetryFailed,
    /// Send again to the people whose message may have been delivered (`--resend-uncertain`).
    ResendUncertain,
}

/// A campaign's pending requests, as its next pass takes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requested {
    pub retry_failed: bool,
    pub resend_uncertain: bool,
}

/// Why a pause or resume changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("already paused by {} since {}", .0.by, .0.at.format("%Y-%m-%d %H:%M:%S UTC"))]
    AlreadyPaused(Paused),
    #[error("not paused")]
    NotPaused,
}

#[derive(Debug, Default)]
struct Steering {
    paused: Option<Paused>,
    retry_failed: BTreeSet<String>,
    resend_uncertain: BTreeSet<String>,
}

/// The shared controls of one service.
#[derive(Debug, Default)]
pub struct Control {
    signalled: AtomicBool,
    /// The running pass's stop flag (each pass has its own: the engine also raises it for a
    /// spent budget, which must not outlive the pass).
    pass: Mutex<Stop>,
    steering: Mutex<Steering>,
    wake: Mutex<Option<Sender<Wake>>>,
}

impl Control {
    /// Controls that wake the loop through `wake`.
    pub fn new(wake: Sender<Wake>) -> Control {
        Control {
            wake: Mutex::new(Some(wake)),
            ..Control::default()
        }
    }

    /// A signal came: the running pass stops starting messages, and so does any later one.
    pub fn signal(&self, name: &'static str) {
        self.signalled.store(true, Ordering::SeqCst);
        self.current().request(StopReason::Interrupted);
        self.wake(Wake::Signal(name));
    }

    /// A fresh stop flag for the next pass, raised already when a signal came or the service
    /// is paused (a pause between the loop's look and the pass's start still holds).
    pub fn for_pass(&self) -> Stop {
        let stop = Stop::new();
        *self.current() = stop.clone();
        // After the swap: a signal or pause now raises this flag; one before it is seen here.
        if self.signalled.load(Ordering::SeqCst) {
            stop.request(StopReason::Interrupted);
        } else if let Some(p) = self.paused() {
            stop.request(StopReason::Paused { by: p.by });
        }
        stop
    }

    /// Pauses the service: the running pass finishes the messages in flight and starts no
    /// other; no pass starts until [`Control::resume`].
    pub fn pause(&self, by: &str, at: DateTime<Utc>) -> Result<Paused, ControlError> {
        let paused = {
            let mut steering = self.steering();
            if let Some(p) = &steering.paused {
                return Err(ControlError::AlreadyPaused(p.clone()));
            }
            let p = Paused {
                by: by.to_string(),
                at,
            };
            steering.paused = Some(p.clone());
            p
        };
        self.current().request(StopReason::Paused {
            by: paused.by.clone(),
        });
        self.wake(Wake::Control);
        Ok(paused)
    }

    /// Ends a pause; returns it.
    pub fn resume(&self) -> Result<Paused, ControlError> {
        let was = self
            .steering()
            .paused
            .take()
            .ok_or(ControlError::NotPaused)?;
        self.wake(Wake::Control);
        Ok(was)
    }

    pub fn paused(&self) -> Option<Paused> {
        self.steering().paused.clone()
    }

    /// Asks for `redo` in `campaign`'s next pass.
    pub fn request(&self, campaign: &str, redo: Redo) {
        {
            let mut steering = self.steering();
            let set = match redo {
                Redo::RetryFailed => &mut steering.retry_failed,
                Redo::ResendUncertain => &mut steering.resend_uncertain,
            };
            set.insert(campaign.to_string());
        }
        self.wake(Wake::Control);
    }

    /// What `campaign`'s next pass is asked to do; it stays asked until [`Control::done`].
    pub fn requested(&self, campaign: &str) -> Requested {
        let steering = self.steering();
        Requested {
            retry_failed: steering.retry_failed.contains(campaign),
            resend_uncertain: steering.resend_uncertain.contains(campaign),
        }
    }

    /// A pass of `campaign` ran with `done`: those requests are answered.
    pub fn done(&self, campaign: &str, done: Requested) {
        let mut steering = self.steering();
        if done.retry_failed {
            steering.retry_failed.remove(campaign);
        }
        if done.resend_uncertain {
            steering.resend_uncertain.remove(campaign);
        }
    }

    fn wake(&self, why: Wake) {
        let wake = self.wake.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = wake.as_ref() {
            // The loop has ended when nobody receives: nothing to wake.
            let _ = tx.send(why);
        }
    }

    fn current(&self) -> MutexGuard<'_, Stop> {
        self.pass.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn steering(&self) -> MutexGuard<'_, Steering> {
        self.steering.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control() -> (Control, std::sync::mpsc::Receiver<Wake>) {
        let (tx, rx) = std::sync::mpsc::channel();
        (Control::new(tx), rx)
    }

    #[test]
    fn a_signal_reaches_the_running_pass_and_every_later_one() {
        let (control, rx) = control();
        let first = control.for_pass();
        assert!(!first.is_requested());
        control.signal("SIGTERM");
        assert_eq!(first.reason(), Some(StopReason::Interrupted));
        assert_eq!(control.for_pass().reason(), Some(StopReason::Interrupted));
        assert_eq!(rx.try_recv(), Ok(Wake::Signal("SIGTERM")));
    }

    #[test]
    fn what_the_engine_raised_in_one_pass_does_not_stop_the_next() {
        let (control, _rx) = control();
        control.for_pass().request(StopReason::DayBudget {
            resume_at: Utc::now(),
        });
        assert!(!control.for_pass().is_requested());
    }

    #[test]
    fn a_pause_stops_the_running_pass_and_holds_until_resumed() {
        let (control, rx) = control();
        let running = control.for_pass();
        let paused = control
            .pause("ana (dashboard, 127.0.0.1)", Utc::now())
            .unwrap();
        let by = StopReason::Paused {
            by: "ana (dashboard, 127.0.0.1)".into(),
        };
        assert_eq!(running.reason(), Some(by.clone()));
        assert_eq!(control.for_pass().reason(), Some(by));
        assert_eq!(
            control.pause("bo", Utc::now()),
            Err(ControlError::AlreadyPaused(paused.clone()))
        );
        assert_eq!(control.resume(), Ok(paused));
        assert_eq!(control.resume(), Err(ControlError::NotPaused));
        assert!(!control.for_pass().is_requested());
        let woken: Vec<Wake> = rx.try_iter().collect();
        assert_eq!(woken, [Wake::Control, Wake::Control]);
    }

    #[test]
    fn a_request_stays_until_a_pass_answers_it() {
        let (control, _rx) = control();
        control.request("post-migration", Redo::RetryFailed);
        let asked = control.requested("post-migration");
        assert_eq!(
            asked,
            Requested {
                retry_failed: true,
                resend_uncertain: false
            }
        );
        assert_eq!(control.requested("reminder"), Requested::default());
        control.request("post-migration", Redo::ResendUncertain);
        control.done("post-migration", asked);
        assert_eq!(
            control.requested("post-migration"),
            Requested {
                retry_failed: false,
                resend_uncertain: true
            }
        );
    }
}
