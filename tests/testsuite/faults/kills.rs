//! SIGKILL of `send` at ten random (seeded) points of a 10,000-user run, each followed by a
//! rerun, until everybody is done; then `--resend-uncertain`.

use std::collections::BTreeSet;
use std::time::Duration;

use rand::{Rng, SeedableRng};

use super::support::*;
use crate::sink::Sink;

const USERS: usize = 10_000;
const KILLS: usize = 10;

#[test]
fn ten_sigkills_in_a_10000_user_run_lose_nobody_and_duplicate_nobody() {
    let seed = seed("ten_sigkills");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let sink = Sink::start();
    let (site, users) = fleet(sink.port, USERS as u64);
    let bound = in_flight_bound();
    let mut reported = Vec::new();
    for k in 0..KILLS {
        // Kill once the sink holds 150 to 850 more messages than now, at a random moment
        // of up to 20 ms later (inside a window commit, a transaction, between messages).
        let target = sink.count() + rng.random_range(150..850);
        let pause = Duration::from_millis(rng.random_range(0..20));
        let mut run = Running::spawn(&site, &users, &[], &format!("run-{k}"));
        let reached = run.wait_until(|| sink.count() >= target);
        std::thread::sleep(pause);
        let killed = run.kill();
        assert!(
            reached && killed.code.is_none(),
            "seed {seed}: run {k} ended before kill point {target}:\n{killed}"
        );
        reported.push(reported_in_flight(&killed.stderr));
    }
    let last = Running::spawn(&site, &users, &[], "run-last").wait();
    reported.push(reported_in_flight(&last.stderr));
    // Run k reports what run k-1 left in flight; run 0 found nothing.
    assert_eq!(reported[0], 0, "seed {seed}");
    for (k, n) in reported.iter().enumerate().skip(1) {
        assert!(
            *n <= bound,
            "seed {seed}: kill {} left {n} users uncertain, more than the in-flight window {bound}",
            k - 1
        );
    }

    let ledger = LedgerView::read(&site);
    let uncertain = ledger.in_state("uncertain");
    let context = format!("seed {seed}, uncertain per kill {:?}", &reported[1..]);
    eprintln!("{context} (at most {bound} each)");
    assert_eq!(
        uncertain.len(),
        reported.iter().sum::<usize>(),
        "{context}: every uncertain user was listed by a rerun"
    );
    assert_eq!(
        (
            ledger.total("users"),
            ledger.total("sent") + ledger.total("uncertain")
        ),
        (USERS as u64, USERS as u64),
        "{context}: the report accounts for everyone: {}",
        ledger.totals
    );
    let expected_code = if uncertain.is_empty() { 0 } else { 4 };
    assert_eq!(last.code, Some(expected_code), "{context}\n{last}");
    let got = delivered(&sink);
    let had_it = uncertain
        .iter()
        .filter(|u| got.copies(&ledger.users[*u].recipient) == 1)
        .count();
    eprintln!(
        "{had_it} of the {} uncertain users had their notice",
        uncertain.len()
    );
    assert_once_except_uncertain(&ledger, &got, USERS, &context);
    assert_partials_only_for(&ledger, &got, &uncertain, &context);

    let resend = Running::spawn(&site, &users, &["--resend-uncertain"], "resend").wait();
    assert_eq!(resend.code, Some(0), "{context}\n{resend}");
    let after = LedgerView::read(&site);
    assert_duplicates_only_among(&after, &delivered(&sink), &uncertain, &context);
}

/// A transaction cut off by the kill belongs to a user who was in flight, hence uncertain.
fn assert_partials_only_for(
    ledger: &LedgerView,
    got: &Delivered,
    uncertain: &BTreeSet<String>,
    context: &str,
) {
    let by_recipient = ledger.by_recipient();
    for recipient in got.partial.keys() {
        let user = &by_recipient[recipient];
        assert!(
            uncertain.contains(user),
            "{context}: {user}'s message was cut off by a kill but the user is not uncertain"
        );
    }
}
