//! When a mailbox's rolling 24-hour budget (`[pacing] per_day`) lets the next message out: a
//! pure function over the ledger's submissions log, so `serve` can sleep until then instead of
//! exiting with "paused".

use chrono::{DateTime, Duration, Utc};

use crate::ledger::deliveries::Submission;

/// The window the day budget counts: a submission leaves it 24 hours after it was made.
pub fn window() -> Duration {
    Duration::hours(24)
}

/// The first time at or after `now` when the mailbox has room for one more recipient, given
/// its `log` (any order; entries older than the window are ignored) and its `per_day` limit:
/// `None` when it has room now or the limit is off (`0`). The room comes back when the oldest
/// submissions leave the window, so this is the time the last of those that must leave does.
pub fn frees_at(log: &[Submission], per_day: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if per_day == 0 {
        return None;
    }
    let mut inside: Vec<&Submission> = log.iter().filter(|s| s.at > now - window()).collect();
    let used: u64 = inside.iter().map(|s| u64::from(s.recipients)).sum();
    if used < u64::from(per_day) {
        return None;
    }
    inside.sort_by_key(|s| s.at);
    let mut left = used;
    for s in inside {
        left -= u64::from(s.recipients);
        if left < u64::from(per_day) {
            return Some(s.at + window());
        }
    }
    unreachable!("an empty window has room, so the loop returned")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, h, m, 0).unwrap()
    }

    fn log(entries: &[(DateTime<Utc>, u32)]) -> Vec<Submission> {
        entries
            .iter()
            .map(|&(at, recipients)| Submission { at, recipients })
            .collect()
    }

    #[test]
    fn a_mailbox_with_room_or_without_a_limit_can_send_now() {
        let now = at(12, 0);
        let log = log(&[(at(1, 0), 3), (at(2, 0), 4)]);
        assert_eq!(frees_at(&log, 8, now), None);
        assert_eq!(frees_at(&log, 0, now), None);
        assert_eq!(frees_at(&[], 1, now), None);
    }

    #[test]
    fn a_spent_budget_frees_when_enough_of_the_oldest_leave_the_window() {
        let now = at(12, 0);
        let log = log(&[(at(3, 0), 2), (at(1, 0), 3), (at(5, 30), 5)]);
        // 10 used of 10: the 3 of 01:00 leaving is enough.
        assert_eq!(frees_at(&log, 10, now), Some(at(1, 0) + window()));
        // 10 used of 6: 01:00 leaves 7, 03:00 leaves 5.
        assert_eq!(frees_at(&log, 6, now), Some(at(3, 0) + window()));
        // Of 1: only an empty window has room.
        assert_eq!(frees_at(&log, 1, now), Some(at(5, 30) + window()));
    }

    #[test]
    fn submissions_older_than_a_day_no_longer_count() {
        let now = at(12, 0) + Duration::days(1);
        let log = log(&[(at(11, 0), 50), (at(13, 0), 4)]);
        assert_eq!(frees_at(&log, 5, now), None);
        assert_eq!(frees_at(&log, 4, now), Some(at(13, 0) + window()));
    }
}
