//! The per-minute pacer on made-up clocks (thousands of messages with random latencies, every
//! 60 s window checked) and the rolling day budget across "runs".

use super::*;

/// Drives a pacer like the engine does (up to `concurrency` at once) with random latencies and
/// returns (start, end) per message.
fn simulate(
    per_minute: u32,
    concurrency: usize,
    messages: usize,
    seed: u64,
) -> Vec<(Instant, Instant)> {
    let t0 = Instant::now();
    let mut pacer = Pacer::new(per_minute, []);
    let mut now = t0;
    let mut running: Vec<(Instant, Instant)> = Vec::new();
    let mut done = Vec::new();
    let mut rng = seed;
    let mut latency = || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Duration::from_millis(1 + (rng >> 33) % 3000)
    };
    while done.len() < messages {
        running.sort_by_key(|r| r.1);
        while running.first().is_some_and(|r| r.1 <= now) {
            let r = running.remove(0);
            pacer.finish(r.1);
            done.push(r);
        }
        let started = done.len() + running.len();
        let admission = if running.len() < concurrency && started < messages {
            pacer.try_admit(now)
        } else {
            Admission::AfterAFinish
        };
        match admission {
            Admission::Now => running.push((now, now + latency())),
            Admission::At(t) => now = running.first().map_or(t, |r| r.1.min(t)),
            Admission::AfterAFinish if running.is_empty() => break,
            Admission::AfterAFinish => now = running[0].1,
        }
    }
    assert_eq!(done.len(), messages);
    done
}

fn max_in_any_window(mut times: Vec<Instant>, window: Duration) -> usize {
    times.sort();
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= window {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

#[test]
fn no_sixty_second_window_holds_more_than_the_limit_at_start_or_at_acceptance() {
    for (per_minute, concurrency, seed) in [(30, 3, 1), (600, 16, 2), (7, 1, 3), (120, 50, 4)] {
        let done = simulate(per_minute, concurrency, 1000, seed);
        let starts = done.iter().map(|d| d.0).collect();
        let ends = done.iter().map(|d| d.1).collect();
        assert!(
            max_in_any_window(starts, MINUTE) <= per_minute as usize,
            "{per_minute}/min starts"
        );
        assert!(
            max_in_any_window(ends, MINUTE) <= per_minute as usize,
            "{per_minute}/min ends"
        );
    }
}

#[test]
fn starts_are_spread_over_the_minute_not_burst() {
    let done = simulate(30, 3, 100, 5);
    let mut starts: Vec<Instant> = done.iter().map(|d| d.0).collect();
    starts.sort();
    for pair in starts.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_secs(2),
            "30/min means one start every 2 s"
        );
    }
}

#[test]
fn the_limit_is_kept_at_full_speed() {
    // With instant messages the pacer still lets 600 through in the first minute.
    let t0 = Instant::now();
    let mut p = Pacer::new(600, []);
    let mut now = t0;
    let mut count = 0;
    while now < t0 + MINUTE {
        match p.try_admit(now) {
            Admission::Now => {
                p.finish(now);
                count += 1;
            }
            Admission::At(t) => now = t,
            Admission::AfterAFinish => unreachable!("nothing is running"),
        }
    }
    assert_eq!(count, 600);
}

#[test]
fn messages_of_an_earlier_run_count_in_the_window() {
    let now = Instant::now() + MINUTE;
    let recent: Vec<Instant> = (0..5).map(|i| now - Duration::from_secs(50 - i)).collect();
    let mut p = Pacer::new(5, recent);
    assert_eq!(
        p.try_admit(now),
        Admission::At(now + Duration::from_secs(10))
    );
    assert_eq!(p.try_admit(now + Duration::from_secs(10)), Admission::Now);
}

#[test]
fn zero_means_no_limit_and_cancel_frees_the_slot() {
    let now = Instant::now();
    let mut p = Pacer::new(0, []);
    for _ in 0..10_000 {
        assert_eq!(p.try_admit(now), Admission::Now);
    }
    let mut one = Pacer::new(1, []);
    assert_eq!(one.try_admit(now), Admission::Now);
    assert_eq!(one.try_admit(now + MINUTE * 2), Admission::AfterAFinish);
    one.cancel();
    assert_eq!(one.try_admit(now + MINUTE * 2), Admission::Now);
}

fn at(hours_ago: i64, now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::hours(hours_ago)
}

#[test]
fn yesterdays_run_spends_todays_budget_until_it_leaves_the_window() {
    let now = Utc::now();
    let history = [(30, 100), (20, 6), (10, 3)].map(|(hours_ago, recipients)| Submission {
        at: at(hours_ago, now),
        recipients,
    });
    let mut b = DayBudget::new(10, &history);
    // 9 spent: the 30 h old run no longer counts.
    b.try_reserve(1, now).unwrap();
    let err = b.try_reserve(1, now).unwrap_err();
    assert_eq!(
        err.resume_at,
        at(20, now) + chrono::Duration::hours(24),
        "when the 6 leave the window"
    );
    b.settle(1, true, now);
    assert!(
        b.try_reserve(1, now + chrono::Duration::hours(5)).is_ok(),
        "four hours later the 6 are gone"
    );
}

#[test]
fn unsent_reservations_give_the_budget_back() {
    let now = Utc::now();
    let mut b = DayBudget::new(2, &[]);
    b.try_reserve(2, now).unwrap();
    assert!(b.try_reserve(1, now).is_err());
    b.settle(2, false, now);
    b.try_reserve(2, now).unwrap();
}

#[test]
fn a_message_bigger_than_the_budget_waits_a_day_and_zero_is_unlimited() {
    let now = Utc::now();
    let mut b = DayBudget::new(1, &[]);
    assert_eq!(
        b.try_reserve(2, now).unwrap_err().resume_at,
        now + chrono::Duration::hours(24)
    );
    let mut free = DayBudget::new(0, &[]);
    for _ in 0..100_000 {
        free.try_reserve(2, now).unwrap();
    }
}
