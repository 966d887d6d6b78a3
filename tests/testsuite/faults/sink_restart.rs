//! The SMTP server dies (SIGKILL) in the middle of a run: back after a moment, or down until the
//! run gives up. Exit status, summary and report must say what happened, and nobody is lost or
//! mailed twice outside the users reported uncertain.

use std::time::Duration;

use rand::{Rng, SeedableRng};

use super::support::*;
use crate::send::helpers::Site;
use crate::sink::Sink;

const USERS: usize = 2000;

#[test]
fn a_server_that_dies_and_comes_back_mid_run_loses_nobody() {
    let seed = seed("server_comes_back");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut sink = Sink::start();
    let (site, users) = fleet(sink.port, USERS as u64);
    let mut run = Running::spawn(&site, &users, &[], "first");
    let at = rng.random_range(200..1200);
    assert!(
        run.wait_until(|| sink.count() >= at),
        "seed {seed}: the run ended first"
    );
    sink.kill();
    std::thread::sleep(Duration::from_millis(rng.random_range(100..1500)));
    sink.restart();
    let first = run.wait();
    let context = format!("seed {seed}, killed at {at}");
    assert_summary_matches_ledger(&site, &first, &context);
    finish_and_resend(&site, &sink, &users, &context);
}

#[test]
fn a_server_that_stays_down_pauses_the_run_and_a_rerun_finishes() {
    let mut sink = Sink::start();
    let (site, users) = fleet(sink.port, USERS as u64);
    let site = site.env("T2T_NOTIFY_TRANSPORT_MAX_ATTEMPTS", "2");
    let mut run = Running::spawn(&site, &users, &[], "first");
    assert!(
        run.wait_until(|| sink.count() >= 500),
        "the run ended first"
    );
    sink.kill();
    let first = run.wait();
    assert_eq!(first.code, Some(5), "{first}");
    assert!(
        first
            .stdout
            .contains("Paused: the server keeps refusing messages"),
        "{first}"
    );
    assert!(
        first.stdout.contains("cannot open an SMTP session") || first.stdout.contains("connection"),
        "the summary names the cause:\n{first}"
    );
    let ledger = assert_summary_matches_ledger(&site, &first, "server down");
    let deferred = ledger.in_state("deferred");
    assert!(!deferred.is_empty(), "{first}");
    for user in &deferred {
        let reply = &ledger.users[user].last_reply;
        assert!(
            reply.contains("127.0.0.1"),
            "the report shows why {user} waits: {reply}"
        );
    }
    sink.restart();
    finish_and_resend(&site, &sink, &users, "server down, then back");
}

/// The summary's counts are the ledger's, and the exit status follows from them.
fn assert_summary_matches_ledger(site: &Site, run: &Finished, context: &str) -> LedgerView {
    let ledger = LedgerView::read(site);
    let count = |state: &str| ledger.in_state(state).len() as u64;
    for state in ["uncertain", "deferred", "failed"] {
        assert_eq!(
            summary_count(&run.stdout, state),
            count(state),
            "{context}: {state} in the summary and the ledger\n{run}"
        );
    }
    assert_eq!(count("in-flight"), 0, "{context}: nothing left in flight");
    let expected = if count("deferred") > 0 {
        5
    } else if count("uncertain") > 0 {
        4
    } else {
        0
    };
    assert_eq!(run.code, Some(expected), "{context}\n{run}");
    for user in ledger.in_state("uncertain") {
        let reply = &ledger.users[&user].last_reply;
        assert!(
            reply.contains("may have been delivered"),
            "{context}: the report says why {user} is uncertain: {reply}"
        );
    }
    ledger
}

/// Reruns until nobody is deferred, checks every user against the sink, then resends the
/// uncertain ones.
fn finish_and_resend(site: &Site, sink: &Sink, users: &std::path::Path, context: &str) {
    let rerun = Running::spawn(site, users, &[], "rerun").wait();
    let ledger = LedgerView::read(site);
    let uncertain = ledger.in_state("uncertain");
    let expected = if uncertain.is_empty() { 0 } else { 4 };
    assert_eq!(rerun.code, Some(expected), "{context}\n{rerun}");
    let got = delivered(sink);
    assert_once_except_uncertain(&ledger, &got, USERS, context);
    let resend = Running::spawn(site, users, &["--resend-uncertain"], "resend").wait();
    assert_eq!(resend.code, Some(0), "{context}\n{resend}");
    let after = LedgerView::read(site);
    assert_duplicates_only_among(&after, &delivered(sink), &uncertain, context);
}
