//! Whom the campaign a command runs goes to: one pure decision per mapped person, from their
//! newest move-state entry, their planned start and what the ledger knows (notices and
//! reminders sent, sign-ins learnt). The command gathers those facts; nothing here reads a
//! file or the clock.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::hold::{self, Hold};
use crate::campaign::{Campaign, PreMoveRule, ReminderRule, Rule};
use crate::inputs::move_state::{MoveEntry, MoveState};
use crate::ledger::sign_ins::SignIns;

/// What the ledger and the clock say, for the kinds that need them.
#[derive(Debug, Clone)]
pub struct Facts {
    pub now: DateTime<Utc>,
    /// For a `reminder` campaign.
    pub reminders: Option<ReminderFacts>,
}

impl Facts {
    /// The facts of a kind that needs only the clock.
    pub fn at(now: DateTime<Utc>) -> Facts {
        Facts {
            now,
            reminders: None,
        }
    }
}

/// What a reminder campaign goes by, keyed by lower-case source UPN (sign-ins by target UPN).
#[derive(Debug, Clone, Default)]
pub struct ReminderFacts {
    /// When the post-move notice the campaign follows was sent.
    pub notices: HashMap<String, DateTime<Utc>>,
    /// When each reminder was sent: index 0 is reminder 1. Only `sent` reminders count.
    pub reminders: HashMap<String, Vec<DateTime<Utc>>>,
    pub sign_ins: SignIns,
}

/// One person's place in the campaign: who they are to the decision.
pub struct Person<'a> {
    pub source_upn: &'a str,
    pub target_upn: &'a str,
    /// Their newest move-state entry, when an export has one.
    pub moved: Option<&'a MoveEntry>,
    /// Whether any export was given (without, the admin asserts that every move finished).
    pub exports_given: bool,
    pub planned_start: Option<NaiveDate>,
}

/// Included (with the reminder number of a reminder), or held back with the reason.
pub type Verdict = Result<Option<u32>, (Hold, String)>;

/// Whether `campaign` goes to `p` now.
pub fn decide(campaign: &Campaign, p: &Person<'_>, facts: &Facts) -> Verdict {
    match &campaign.rule {
        Rule::PostMove => post_move(p).map(|()| None),
        Rule::PreMove(rule) => pre_move(rule, p, facts.now).map(|()| None),
        Rule::Reminder(rule) => {
            let empty = ReminderFacts::default();
            let known = facts.reminders.as_ref().unwrap_or(&empty);
            reminder(rule, p, known, facts.now).map(Some)
        }
    }
}

fn post_move(p: &Person<'_>) -> Result<(), (Hold, String)> {
    match hold::hold_for(p.exports_given, p.moved) {
        None => Ok(()),
        Some(h) => Err((h.clone(), hold::reason(&h, p.moved))),
    }
}

fn pre_move(rule: &PreMoveRule, p: &Person<'_>, now: DateTime<Utc>) -> Result<(), (Hold, String)> {
    let state = p.moved.and_then(|m| m.state);
    if let Some(m) = p.moved.filter(|_| state == Some(MoveState::Success)) {
        let why = format!(
            "moved already ({}, batch {}): the post-move campaign tells them",
            m.state_text, m.batch
        );
        return Err((Hold::AlreadyMoved, why));
    }
    if let Some(m) = p.moved.filter(|_| state == Some(MoveState::InProgress)) {
        let why = format!("moving now (InProgress, batch {}, {}): too late for a warning; the post-move notice follows", m.batch, m.location());
        return Err((Hold::MovingNow, why));
    }
    let Some(planned) = p.planned_start else {
        if rule.scheduled_only {
            let why = "no planned start in the schedule: add their date (source UPN, planned start) to the schedule, or set scheduled_only = false for this campaign to warn people without a date".to_string();
            return Err((Hold::NotScheduled, why));
        }
        return Ok(());
    };
    let from = planned - Duration::days(i64::from(rule.days_before));
    if now.date_naive() < from {
        let why = format!(
            "planned start {planned}: the warning goes out from {from} ({} days before)",
            rule.days_before
        );
        return Err((Hold::NotDueYet, why));
    }
    Ok(())
}

fn reminder(
    rule: &ReminderRule,
    p: &Person<'_>,
    known: &ReminderFacts,
    now: DateTime<Utc>,
) -> Result<u32, (Hold, String)> {
    let key = p.source_upn.to_lowercase();
    let Some(&notice) = known.notices.get(&key) else {
        let why = format!(
            "the post-move notice (campaign {}) has not been sent to them yet",
            rule.follows
        );
        return Err((Hold::NotNotified, why));
    };
    // A sign-in counts from the move on; without an export's time, from the notice.
    let moved_at = p.moved.and_then(|m| m.timestamp).unwrap_or(notice);
    if let Some(at) = known.sign_ins.first_after(p.target_upn, moved_at) {
        let why = format!(
            "signed in to the target tenant on {}, after their move: no reminder needed",
            at.format("%Y-%m-%d %H:%M UTC")
        );
        return Err((Hold::SignedIn, why));
    }
    let sent = known.reminders.get(&key).map_or(&[][..], Vec::as_slice);
    let count = sent.len() as u32;
    if count >= rule.max_reminders {
        let why = format!("sent all {count} reminders and still not signed in since their move: someone should call them");
        return Err((Hold::RemindersDone, why));
    }
    let (last, wait, after) = match sent.last() {
        None => (notice, rule.after_days, "the notice"),
        Some(&at) => (at, rule.every_days, "the last reminder"),
    };
    let due = last + Duration::days(i64::from(wait));
    if now < due {
        let why = format!(
            "reminder {} is due from {} ({wait} days after {after} of {})",
            count + 1,
            due.format("%Y-%m-%d %H:%M UTC"),
            last.format("%Y-%m-%d")
        );
        return Err((Hold::ReminderNotDue, why));
    }
    Ok(count + 1)
}

#[cfg(test)]
mod tests;
