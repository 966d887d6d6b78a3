//! Deliveries, test sends and the submissions log on real SQLite files, through the writer.

use chrono::{Duration, Utc};

use super::*;
use crate::ledger::writer::LedgerWriter;

fn campaign() -> Book {
    Book::Campaign {
        campaign: "post-migration".into(),
    }
}

fn mark(key: &str) -> Mark {
    Mark {
        user_key: key.into(),
        recipients: vec![format!("{key}.new@fabrikam.com")],
        message_id: format!("<{key}@t2t>"),
        content_hash: "abc".into(),
        batch: None,
        at: Utc::now(),
    }
}

fn settled(key: &str, resolution: Resolution, submitted: u32) -> Settled {
    Settled {
        user_key: key.into(),
        resolution,
        reply: Some("250 2.0.0 Ok".into()),
        at: Utc::now(),
        submitted,
    }
}

fn run_writer(
    ledger: Ledger,
    book: Book,
    work: impl FnOnce(&crate::ledger::writer::WriterHandle),
) -> Ledger {
    let writer = LedgerWriter::spawn(ledger, book, "it-migration@fabrikam.com").unwrap();
    work(&writer.handle());
    let (ledger, result) = writer.finish();
    result.unwrap();
    ledger
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn marks_are_committed_before_the_call_returns_and_outcomes_at_finish() {
    let (_dir, ledger) = Ledger::temp();
    let path = ledger.path().to_path_buf();
    let ledger = run_writer(ledger, campaign(), |w| {
        block(w.mark_in_flight(vec![mark("ana"), mark("jose")])).unwrap();
        // A second connection sees the marks at once: they are on disk, not in a buffer.
        let other = Ledger::open(&path).unwrap();
        let states = other.delivery_states("post-migration").unwrap();
        assert_eq!(states["ana"], DeliveryState::InFlight);
        assert_eq!(states["jose"], DeliveryState::InFlight);
        w.settle(settled("ana", Resolution::Sent, 1));
        w.settle(settled("jose", Resolution::Failed, 0));
    });
    let rows = ledger.deliveries(Some("post-migration")).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].user_key.as_str(), rows[0].state),
        ("ana", DeliveryState::Sent)
    );
    assert!(rows[0].sent_at.is_some());
    assert_eq!(rows[0].attempts, 1);
    assert_eq!(rows[0].recipients, vec!["ana.new@fabrikam.com".to_string()]);
    assert_eq!(
        (rows[1].user_key.as_str(), rows[1].state),
        ("jose", DeliveryState::Failed)
    );
    assert!(rows[1].sent_at.is_none());
    let subs = ledger
        .submissions_since(Utc::now() - Duration::hours(1), "it-migration@fabrikam.com")
        .unwrap();
    assert_eq!(
        subs.iter().map(|s| s.recipients).sum::<u32>(),
        1,
        "only the accepted message counts"
    );
}

#[test]
fn a_second_attempt_counts_and_keeps_the_first_attempt_time() {
    let (_dir, ledger) = Ledger::temp();
    let ledger = run_writer(ledger, campaign(), |w| {
        block(w.mark_in_flight(vec![mark("ana")])).unwrap();
        w.settle(settled("ana", Resolution::Deferred, 0));
        block(w.mark_in_flight(vec![mark("ana")])).unwrap();
        w.settle(settled("ana", Resolution::Sent, 1));
    });
    let row = &ledger.deliveries(None).unwrap()[0];
    assert_eq!(row.attempts, 2);
    assert_eq!(row.state, DeliveryState::Sent);
    assert!(row.first_attempt_at <= row.last_attempt_at);
}

#[test]
fn leftover_in_flight_rows_become_uncertain_and_are_listed() {
    let (_dir, ledger) = Ledger::temp();
    let mut ledger = run_writer(ledger, campaign(), |w| {
        block(w.mark_in_flight(vec![mark("ana"), mark("jose"), mark("zoe")])).unwrap();
        w.settle(settled("jose", Resolution::Sent, 1));
    });
    let listed = ledger.settle_leftover_in_flight().unwrap();
    let keys: Vec<_> = listed.iter().map(|r| r.user_key.as_str()).collect();
    assert_eq!(keys, ["ana", "zoe"]);
    let states = ledger.delivery_states("post-migration").unwrap();
    assert_eq!(states["ana"], DeliveryState::Uncertain);
    assert_eq!(states["jose"], DeliveryState::Sent);
    assert!(
        ledger.settle_leftover_in_flight().unwrap().is_empty(),
        "only once"
    );
}

#[test]
fn revert_restores_the_prior_state_or_forgets_a_new_row() {
    let (_dir, ledger) = Ledger::temp();
    let ledger = run_writer(ledger, campaign(), |w| {
        block(w.mark_in_flight(vec![mark("ana")])).unwrap();
        w.settle(settled("ana", Resolution::Deferred, 0));
        block(w.mark_in_flight(vec![mark("ana"), mark("jose")])).unwrap();
        w.settle(settled(
            "ana",
            Resolution::Revert {
                prior: Some(DeliveryState::Deferred),
            },
            0,
        ));
        w.settle(settled("jose", Resolution::Revert { prior: None }, 0));
    });
    let rows = ledger.deliveries(None).unwrap();
    assert_eq!(rows.len(), 1, "jose had no row before and has none after");
    assert_eq!(
        (rows[0].state, rows[0].attempts),
        (DeliveryState::Deferred, 1)
    );
}

#[test]
fn test_sends_are_recorded_apart_and_count_toward_the_budget() {
    let (_dir, ledger) = Ledger::temp();
    let book = Book::Test {
        campaign: "post-migration".into(),
        run: "2026-11-27T06:00:00.000Z".into(),
        to: "admin@fabrikam.com".into(),
    };
    let ledger = run_writer(ledger, book, |w| {
        block(w.mark_in_flight(vec![mark("ana")])).unwrap();
        w.settle(settled("ana", Resolution::Sent, 1));
    });
    assert!(
        ledger.deliveries(None).unwrap().is_empty(),
        "a test send changes no user's state"
    );
    let tests = ledger.test_sends(Some("post-migration")).unwrap();
    assert_eq!(tests.len(), 1);
    assert_eq!(
        (tests[0].test_to.as_str(), tests[0].state),
        ("admin@fabrikam.com", DeliveryState::Sent)
    );
    assert_eq!(
        ledger
            .submissions_since(
                Utc::now() - Duration::hours(24),
                "it-migration@fabrikam.com"
            )
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn submissions_outside_the_window_are_not_returned() {
    let (_dir, ledger) = Ledger::temp();
    let ledger = run_writer(ledger, campaign(), |w| {
        for (key, hours_ago) in [("old", 25), ("new", 1)] {
            block(w.mark_in_flight(vec![mark(key)])).unwrap();
            let mut s = settled(key, Resolution::Sent, 2);
            s.at = Utc::now() - Duration::hours(hours_ago);
            w.settle(s);
        }
    });
    let subs = ledger
        .submissions_since(
            Utc::now() - Duration::hours(24),
            "it-migration@fabrikam.com",
        )
        .unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].recipients, 2);
}

#[test]
fn states_round_trip_through_text() {
    for state in DeliveryState::ALL {
        assert_eq!(state.as_str().parse::<DeliveryState>().unwrap(), state);
    }
    assert!("delivered".parse::<DeliveryState>().is_err());
}

#[test]
fn a_users_batch_is_the_one_of_their_first_attempt_with_a_batch() {
    let (_dir, ledger) = Ledger::temp();
    let in_batch = |key: &str, batch: Option<&str>| Mark {
        batch: batch.map(str::to_string),
        ..mark(key)
    };
    let ledger = run_writer(ledger, campaign(), |w| {
        block(w.mark_in_flight(vec![in_batch("ana", Some("batch-1")), in_batch("bo", None)]))
            .unwrap();
        w.settle(settled("ana", Resolution::Deferred, 0));
        w.settle(settled("bo", Resolution::Deferred, 0));
        block(w.mark_in_flight(vec![
            in_batch("ana", Some("batch-2")),
            in_batch("bo", Some("batch-2")),
        ]))
        .unwrap();
        w.settle(settled("ana", Resolution::Sent, 1));
        w.settle(settled("bo", Resolution::Sent, 1));
    });
    let rows = ledger.deliveries(Some("post-migration")).unwrap();
    let batch = |key: &str| {
        rows.iter()
            .find(|r| r.user_key == key)
            .and_then(|r| r.batch.clone())
    };
    assert_eq!(
        batch("ana").as_deref(),
        Some("batch-1"),
        "kept, not relabelled"
    );
    assert_eq!(batch("bo").as_deref(), Some("batch-2"), "first batch seen");
    assert!(rows.iter().all(|r| r.attempts == 2));
}

#[test]
fn a_campaigns_standing_counts_every_state_and_lists_only_who_needs_attention() {
    let (_dir, ledger) = Ledger::temp();
    let other = Book::Campaign {
        campaign: "other".into(),
    };
    let ledger = run_writer(ledger, other, |w| {
        block(w.mark_in_flight(vec![mark("ana")])).unwrap();
        w.settle(settled("ana", Resolution::Failed, 0));
    });
    let ledger = run_writer(ledger, campaign(), |w| {
        let keys = ["ana", "bo", "cy", "di", "ed", "flo"];
        block(w.mark_in_flight(keys.iter().map(|k| mark(k)).collect())).unwrap();
        w.settle(settled("ana", Resolution::Sent, 1));
        w.settle(settled("bo", Resolution::Sent, 1));
        w.settle(settled("cy", Resolution::Failed, 0));
        w.settle(settled("di", Resolution::Uncertain, 1));
        w.settle(settled("ed", Resolution::Deferred, 0));
    });
    let standing = ledger.standing("post-migration").unwrap();
    let rows = ledger.deliveries(Some("post-migration")).unwrap();
    assert_eq!(standing, Standing::from_rows(&rows));
    assert_eq!(standing.counts[&DeliveryState::Sent], 2);
    assert_eq!(standing.counts[&DeliveryState::InFlight], 1, "flo");
    assert!(!standing.counts.contains_key(&DeliveryState::Pending));
    let listed: Vec<_> = standing
        .attention
        .iter()
        .map(|r| (r.user_key.as_str(), r.state))
        .collect();
    assert_eq!(
        listed,
        [
            ("cy", DeliveryState::Failed),
            ("di", DeliveryState::Uncertain)
        ],
        "the other campaign's failed row is not listed"
    );
}

/// The next run's per-minute pacer counts messages from the log (one row each) and its day
/// budget counts their recipients, so rows must not be summed: five messages accepted in the
/// same millisecond are five rows.
#[test]
fn every_accepted_message_is_its_own_row_in_the_submissions_log() {
    let (_dir, ledger) = Ledger::temp();
    let at = Utc::now() - Duration::seconds(10);
    let keys = ["a", "b", "c", "d", "e"];
    let ledger = run_writer(ledger, campaign(), |w| {
        block(w.mark_in_flight(keys.iter().map(|k| mark(k)).collect())).unwrap();
        for key in keys {
            let mut s = settled(key, Resolution::Sent, 2);
            s.at = at;
            w.settle(s);
        }
    });
    let log = ledger
        .submissions_since(at - Duration::minutes(1), "it-migration@fabrikam.com")
        .unwrap();
    assert_eq!(log.len(), 5);
    assert!(log
        .iter()
        .all(|s| s.recipients == 2 && s.at.timestamp_millis() == at.timestamp_millis()));
}
