//! Whether a confirmation is recent enough to count: evidence checked before the newest move
//! in the `--move-state` exports cannot show the trust removed for that move, and evidence
//! older than `[trust] max_evidence_age_days` is stale (a trust can be set up again).

use chrono::{DateTime, Duration, Utc};

use crate::config::Config;
use crate::inputs::move_state::MoveStates;
use crate::trust::Pair;

/// What a confirmation is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub now: DateTime<Utc>,
    pub max_age_days: u32,
    /// The newest move time in the `--move-state` exports given to this run, if any.
    pub newest_move: Option<DateTime<Utc>>,
}

/// A pair whose confirmation is too old to count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub pair: Pair,
    /// Why, e.g. "checked 2019-01-01 00:00 UTC, 2,000 days ago (at most 30 are allowed)".
    pub why: String,
}

impl Freshness {
    /// Now, with the config's age limit and the newest move of `moves`.
    pub fn from_config(config: &Config, moves: Option<&MoveStates>) -> Self {
        Freshness {
            now: Utc::now(),
            max_age_days: config.trust.max_evidence_age_days,
            newest_move: moves.and_then(newest_move),
        }
    }

    /// Why evidence checked at `checked_at` cannot count, if it cannot.
    pub fn stale_reason(&self, checked_at: DateTime<Utc>) -> Option<String> {
        let at = checked_at.format("%Y-%m-%d %H:%M UTC");
        if let Some(moved) = self.newest_move.filter(|m| checked_at < *m) {
            return Some(format!(
                "the evidence was checked at {at}, before the newest move in the --move-state exports ({}): it cannot show that the trust was removed after that move",
                moved.format("%Y-%m-%d %H:%M UTC")
            ));
        }
        let days = (self.now - checked_at).num_days();
        if self.now - checked_at > Duration::days(i64::from(self.max_age_days)) {
            return Some(format!(
                "the evidence was checked at {at}, {days} days ago; [trust] max_evidence_age_days allows {}",
                self.max_age_days
            ));
        }
        None
    }
}

/// The newest move time in the exports.
pub fn newest_move(moves: &MoveStates) -> Option<DateTime<Utc>> {
    moves.entries().iter().filter_map(|e| e.timestamp).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn old_evidence_and_evidence_before_a_move_are_stale() {
        let fresh = Freshness {
            now: at("2026-12-04T12:00:00Z"),
            max_age_days: 30,
            newest_move: Some(at("2026-12-01T08:00:00Z")),
        };
        assert_eq!(fresh.stale_reason(at("2026-12-02T00:00:00Z")), None);
        let before = fresh.stale_reason(at("2026-11-30T00:00:00Z")).unwrap();
        assert!(before.contains("before the newest move"), "{before}");
        let old = Freshness {
            newest_move: None,
            ..fresh
        };
        assert_eq!(old.stale_reason(at("2026-11-04T12:00:00Z")), None);
        let why = old.stale_reason(at("2019-01-01T00:00:00Z")).unwrap();
        assert!(why.contains("2019-01-01 00:00 UTC, 2894 days ago"), "{why}");
        assert!(why.contains("max_evidence_age_days allows 30"), "{why}");
    }
}
