//! Which mapped users the move-state exports let through (`Success` only), and for the others
//! the reason they are held back. Pure functions of one user's newest export entry.

use std::fmt;

use serde::Serialize;

use crate::inputs::move_state::{MoveEntry, MoveState};

/// Why a mapped user gets no notice in this run. Sorts `Failed` first (the migration team
/// must act on those), then the other states, unknown states, and users in no export.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", content = "state", rename_all = "kebab-case")]
pub enum Hold {
    /// The newest export entry has this state (anything but `Success`).
    State(MoveState),
    /// The newest export entry has a state t2t-notify does not know, as written.
    UnknownState(String),
    /// Mapped, but in none of the exports.
    NotInAnyExport,
    /// A guest whose notice would go to their `#EXT#` UPN (`[message].recipient` is
    /// `source-upn` or `both`), which is no mailbox, and who has no address of their own.
    GuestWithoutAddress,
    /// `pre-move`: the move succeeded already.
    AlreadyMoved,
    /// `pre-move`: the move is running.
    MovingNow,
    /// `pre-move` with `scheduled_only`: no planned start in the schedule.
    NotScheduled,
    /// `pre-move`: the planned start is more than `days_before` away.
    NotDueYet,
    /// `reminder`: the post-move notice it follows was not sent (yet).
    NotNotified,
    /// `reminder`: signed in to the target tenant since the move.
    SignedIn,
    /// `reminder`: every reminder was sent, and still no sign-in.
    RemindersDone,
    /// `reminder`: the next reminder is not due yet.
    ReminderNotDue,
}

impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hold::State(s) => f.write_str(s.name()),
            Hold::UnknownState(s) => write!(f, "unknown state `{s}`"),
            Hold::NotInAnyExport => f.write_str("not in any move-state export"),
            Hold::GuestWithoutAddress => f.write_str("guest without a mail address"),
            Hold::AlreadyMoved => f.write_str("moved already"),
            Hold::MovingNow => f.write_str("moving now"),
            Hold::NotScheduled => f.write_str("no planned start"),
            Hold::NotDueYet => f.write_str("warning not due yet"),
            Hold::NotNotified => f.write_str("notice not sent yet"),
            Hold::SignedIn => f.write_str("signed in"),
            Hold::RemindersDone => f.write_str("all reminders sent, not signed in"),
            Hold::ReminderNotDue => f.write_str("reminder not due yet"),
        }
    }
}

impl Hold {
    /// True when the move will not finish by itself (or its state is unknown): the migration
    /// team must act before the user can be told.
    pub fn needs_action(&self) -> bool {
        matches!(
            self,
            Hold::State(MoveState::Failed | MoveState::Stopped | MoveState::NotSupported)
                | Hold::UnknownState(_)
                | Hold::GuestWithoutAddress
                | Hold::RemindersDone
        )
    }
}

/// Whether a user is held back: `None` means notify. Without exports (`exports_given` false)
/// every mapped user is a candidate: the admin asserts that all moves finished.
pub fn hold_for(exports_given: bool, entry: Option<&MoveEntry>) -> Option<Hold> {
    if !exports_given {
        return None;
    }
    match entry {
        None => Some(Hold::NotInAnyExport),
        Some(e) => match e.state {
            Some(MoveState::Success) => None,
            Some(state) => Some(Hold::State(state)),
            None => Some(Hold::UnknownState(e.state_text.clone())),
        },
    }
}

/// The reason shown to the admin for a held-back user.
pub fn reason(hold: &Hold, entry: Option<&MoveEntry>) -> String {
    let source = entry.map(describe).unwrap_or_default();
    match hold {
        Hold::State(MoveState::Failed) => format!("move Failed{source}: the migration team must fix and retry the move before this user is told"),
        Hold::State(s @ (MoveState::Stopped | MoveState::NotSupported)) => {
            format!("move {s}{source}: the move will not finish by itself; the migration team must act")
        }
        Hold::State(s) => format!("move {s}{source}: not finished yet; run again with the next export"),
        Hold::UnknownState(text) => format!("move state `{text}`{source} is not one t2t-notify knows; held back rather than guessed"),
        Hold::NotInAnyExport => "not in any move-state export; add the export of the batch that moved this user".into(),
        Hold::GuestWithoutAddress => "a guest: [message].recipient would mail their #EXT# UPN, which is no mailbox, and neither the directory's Mail nor the UPN gives their own address; add a Mail column to the directory, or use recipient = \"target-email\"".into(),
        // The campaign kinds' holds get their reasons, with dates, from `audience`.
        Hold::AlreadyMoved | Hold::MovingNow | Hold::NotScheduled | Hold::NotDueYet | Hold::NotNotified
        | Hold::SignedIn | Hold::RemindersDone | Hold::ReminderNotDue => hold.to_string(),
    }
}

/// ` (batch batch-2, batch-2.csv:5, job 6f1c)`.
fn describe(e: &MoveEntry) -> String {
    let job = e
        .job_id
        .as_deref()
        .map(|j| format!(", job {j}"))
        .unwrap_or_default();
    format!(" (batch {}, {}{job})", e.batch, e.location())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(state: Option<MoveState>, text: &str) -> MoveEntry {
        MoveEntry {
            source_upn: "ana@contoso.com".into(),
            target_upn: None,
            state,
            state_text: text.into(),
            timestamp: None,
            job_id: Some("6f1c".into()),
            batch: "batch-2".into(),
            file: "exports/batch-2.csv".into(),
            line: 5,
            index: None,
        }
    }

    #[test]
    fn only_success_passes_when_exports_are_given() {
        assert_eq!(hold_for(false, None), None);
        assert_eq!(hold_for(true, None), Some(Hold::NotInAnyExport));
        assert_eq!(
            hold_for(true, Some(&entry(Some(MoveState::Success), "Success"))),
            None
        );
        assert_eq!(
            hold_for(
                true,
                Some(&entry(Some(MoveState::Rescheduled), "Rescheduled"))
            ),
            Some(Hold::State(MoveState::Rescheduled))
        );
        assert_eq!(
            hold_for(true, Some(&entry(None, "Archived"))),
            Some(Hold::UnknownState("Archived".into()))
        );
    }

    #[test]
    fn reasons_name_the_state_batch_and_place() {
        let failed = entry(Some(MoveState::Failed), "Failed");
        assert_eq!(
            reason(&Hold::State(MoveState::Failed), Some(&failed)),
            "move Failed (batch batch-2, exports/batch-2.csv:5, job 6f1c): the migration team must fix and retry the move before this user is told"
        );
        assert!(
            reason(&Hold::State(MoveState::InProgress), Some(&failed)).contains("not finished yet")
        );
        assert!(reason(&Hold::State(MoveState::Stopped), Some(&failed))
            .contains("will not finish by itself"));
        assert!(
            reason(&Hold::UnknownState("Archived".into()), Some(&failed))
                .starts_with("move state `Archived` (batch batch-2")
        );
        assert!(reason(&Hold::NotInAnyExport, None).starts_with("not in any move-state export"));
    }

    #[test]
    fn failed_sorts_first_and_missing_last() {
        let mut holds = [
            Hold::NotInAnyExport,
            Hold::UnknownState("Archived".into()),
            Hold::State(MoveState::InProgress),
            Hold::State(MoveState::Failed),
        ];
        holds.sort();
        let labels: Vec<String> = holds.iter().map(ToString::to_string).collect();
        assert_eq!(
            labels,
            [
                "Failed",
                "InProgress",
                "unknown state `Archived`",
                "not in any move-state export"
            ]
        );
    }
}
