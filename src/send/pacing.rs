//! The mailbox's limits: `per_minute` (no 60-second window ever holds more messages, and starts
//! are spread evenly over the minute rather than sent in a burst) and `per_day` (a rolling 24 h
//! window of recipients, seeded from the ledger's submissions log so earlier runs count).
//!
//! Both are plain state machines that take the time as an argument, so they are tested with
//! made-up clocks; the engine feeds them the real one.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::ledger::deliveries::Submission;

const MINUTE: Duration = Duration::from_secs(60);

/// Whether the next message may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Now,
    /// Not before this instant.
    At(Instant),
    /// The window is full of messages still running: wait until one finishes.
    AfterAFinish,
}

/// The per-minute limit. A message occupies the window from the moment it starts until 60 s
/// after it ends, so neither the start times nor the times the server accepted the messages
/// can ever put more than `per_minute` into one 60 s window.
#[derive(Debug)]
pub struct Pacer {
    per_minute: u32,
    interval: Duration,
    last_start: Option<Instant>,
    ended: VecDeque<Instant>,
    running: u32,
}

impl Pacer {
    /// A pacer for `per_minute` messages a minute (0: no limit), counting `recent` messages
    /// that ended before this run started.
    pub fn new(per_minute: u32, recent: impl IntoIterator<Item = Instant>) -> Pacer {
        let interval = if per_minute == 0 {
            Duration::ZERO
        } else {
            MINUTE / per_minute
        };
        let mut ended: Vec<Instant> = recent.into_iter().collect();
        ended.sort();
        Pacer {
            per_minute,
            interval,
            last_start: None,
            ended: ended.into(),
            running: 0,
        }
    }

    /// Lets a message start now if the limit allows, and counts it.
    pub fn try_admit(&mut self, now: Instant) -> Admission {
        if self.per_minute == 0 {
            self.running += 1;
            return Admission::Now;
        }
        while self.ended.front().is_some_and(|&t| t + MINUTE <= now) {
            self.ended.pop_front();
        }
        if self.running as usize + self.ended.len() >= self.per_minute as usize {
            return match self.ended.front() {
                Some(&oldest) => Admission::At(oldest + MINUTE),
                None => Admission::AfterAFinish,
            };
        }
        if let Some(next) = self
            .last_start
            .map(|t| t + self.interval)
            .filter(|&next| next > now)
        {
            return Admission::At(next);
        }
        self.last_start = Some(now);
        self.running += 1;
        Admission::Now
    }

    /// An admitted message ended (accepted or not) at `now`.
    pub fn finish(&mut self, now: Instant) {
        self.running = self.running.saturating_sub(1);
        if self.per_minute != 0 {
            self.ended.push_back(now);
        }
    }

    /// An admitted message was never sent (the run stopped first).
    pub fn cancel(&mut self) {
        self.running = self.running.saturating_sub(1);
    }
}

/// The rolling 24 h recipient budget.
#[derive(Debug)]
pub struct DayBudget {
    per_day: u32,
    window: VecDeque<Submission>,
    used: u64,
    reserved: u64,
}

/// The day's budget is spent; it allows the next message from this time on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    pub resume_at: DateTime<Utc>,
}

impl DayBudget {
    /// A budget of `per_day` recipients (0: no limit), already spent by `history` (the
    /// submissions log of the last 24 h, oldest first).
    pub fn new(per_day: u32, history: &[Submission]) -> DayBudget {
        let window: VecDeque<Submission> = history.iter().copied().collect();
        let used = window.iter().map(|s| u64::from(s.recipients)).sum();
        DayBudget {
            per_day,
            window,
            used,
            reserved: 0,
        }
    }

    /// Reserves `recipients` for a message about to start.
    pub fn try_reserve(&mut self, recipients: u32, now: DateTime<Utc>) -> Result<(), Exhausted> {
        if self.per_day == 0 {
            return Ok(());
        }
        self.expire(now);
        let wanted = self.used + self.reserved + u64::from(recipients);
        if wanted <= u64::from(self.per_day) {
            self.reserved += u64::from(recipients);
            return Ok(());
        }
        Err(Exhausted {
            resume_at: self.resume_at(recipients, now),
        })
    }

    /// A reserved message ended: `submitted` says whether it spent the budget (accepted, or
    /// possibly accepted) at `at`.
    pub fn settle(&mut self, recipients: u32, submitted: bool, at: DateTime<Utc>) {
        if self.per_day != 0 {
            self.reserved = self.reserved.saturating_sub(u64::from(recipients));
        }
        if submitted {
            self.window.push_back(Submission { at, recipients });
            self.used += u64::from(recipients);
        }
    }

    /// The first time at which a message of `recipients` fits again, counting what is reserved
    /// now as spent: when enough of the oldest submissions have left the 24 h window. A
    /// message larger than the whole budget never fits; the answer is then a day from now.
    pub fn resume_at(&mut self, recipients: u32, now: DateTime<Utc>) -> DateTime<Utc> {
        let day = chrono::Duration::hours(24);
        let limit = u64::from(self.per_day);
        let mut spent = self.used + self.reserved + u64::from(recipients);
        if self.per_day == 0 || u64::from(recipients) > limit {
            return now + day;
        }
        for s in &self.window {
            if spent <= limit {
                break;
            }
            spent -= u64::from(s.recipients);
            if spent <= limit {
                return s.at + day;
            }
        }
        self.window
            .front()
            .map_or(now + day, |s| s.at + day)
            .max(now)
    }

    fn expire(&mut self, now: DateTime<Utc>) {
        let cutoff = now - chrono::Duration::hours(24);
        while self.window.front().is_some_and(|s| s.at <= cutoff) {
            let s = self.window.pop_front().expect("front exists");
            self.used -= u64::from(s.recipients);
        }
    }
}

#[cfg(test)]
mod tests;
