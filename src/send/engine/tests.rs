//! The engine against the recording stub transport and a real ledger file: resume rules,
//! retries, every failure class, budget, interruption and concurrency.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::exit::Outcome;
use crate::ledger::deliveries::{Book, DeliveryRow, DeliveryState};
use crate::ledger::writer::LedgerWriter;
use crate::ledger::Ledger;
use crate::send::retry::Backoff;
use crate::send::summary::Counts;
use crate::send::{content_hash, RunSummary};
use crate::transport::stub::StubTransport;
use crate::transport::{Accepted, BoxFuture, Envelope, FailureClass, SendError};

/// `Counts` with the counts named, every other one zero.
macro_rules! counts {
    ($($count:ident: $n:expr),*) => {
        Counts { $($count: $n,)* ..Counts::default() }
    };
}

fn settings() -> Settings {
    Settings {
        concurrency: 3,
        per_minute: 0,
        per_day: 0,
        max_attempts: 3,
        backoff: Backoff {
            base: Duration::from_millis(5),
            max: Duration::from_millis(20),
        },
        window: 8,
        unavailable_after: 1000,
        stop_after_same_refusals: 0,
    }
}

fn address(i: usize) -> String {
    format!("user{i}@fabrikam.com")
}

fn job(i: usize) -> SendJob {
    let message =
        format!("Message-ID: <{i}@t2t>\r\nSubject: moved\r\n\r\nHello {i}\r\n").into_bytes();
    SendJob {
        key: format!("user{i}@contoso.com"),
        envelope: Envelope {
            from: "it@fabrikam.com".into(),
            to: vec![address(i)],
        },
        content_hash: content_hash(&message),
        message,
        message_id: format!("<{i}@t2t>"),
        batch: None,
    }
}

fn jobs(n: usize) -> Vec<Candidate> {
    (0..n).map(|i| job(i).into()).collect()
}

fn campaign() -> Book {
    Book::Campaign {
        campaign: "post-migration".into(),
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        Ledger::open(&path).unwrap();
        Fixture { _dir: dir, path }
    }

    fn states(&self) -> HashMap<String, DeliveryState> {
        states_on_disk(&self.path)
    }

    /// The ledger's row of user `i`.
    fn row(&self, i: usize) -> DeliveryRow {
        let rows = Ledger::open(&self.path).unwrap().deliveries(None).unwrap();
        let key = format!("user{i}@contoso.com");
        rows.into_iter().find(|r| r.user_key == key).unwrap()
    }

    fn selection(&self, retry_failed: bool, resend_uncertain: bool) -> SendSelection {
        SendSelection::campaign(self.states(), retry_failed, resend_uncertain)
    }

    /// A run with the default settings and no flags, to `n` users.
    async fn send_to(&self, transport: Arc<dyn Transport>, n: usize) -> RunSummary {
        let selection = self.selection(false, false);
        self.send(settings(), transport, selection, jobs(n)).await
    }

    /// A run to `n` users with a healthy transport and the flags given.
    async fn rerun(&self, retry_failed: bool, resend_uncertain: bool, n: usize) -> RunSummary {
        let selection = self.selection(retry_failed, resend_uncertain);
        let stub = Arc::new(StubTransport::new());
        self.send(settings(), stub, selection, jobs(n)).await
    }

    async fn send(
        &self,
        settings: Settings,
        transport: Arc<dyn Transport>,
        selection: SendSelection,
        candidates: Vec<Candidate>,
    ) -> RunSummary {
        let stop = Stop::new();
        self.send_with(settings, transport, selection, campaign(), stop, candidates)
            .await
    }

    async fn send_with(
        &self,
        settings: Settings,
        transport: Arc<dyn Transport>,
        selection: SendSelection,
        book: Book,
        stop: Stop,
        candidates: Vec<Candidate>,
    ) -> RunSummary {
        let ledger = Ledger::open(&self.path).unwrap();
        let history = ledger
            .submissions_since(
                Utc::now() - chrono::Duration::hours(24),
                "it-migration@fabrikam.com",
            )
            .unwrap();
        let writer = LedgerWriter::spawn(ledger, book, "it-migration@fabrikam.com").unwrap();
        let run_ = Run {
            settings,
            transport,
            writer: writer.handle(),
            selection,
            history,
            stop,
            progress: Progress::Silent,
            total: Some(candidates.len() as u64),
        };
        let summary = run(run_, candidates).await;
        let (_, result) = tokio::task::spawn_blocking(move || writer.finish())
            .await
            .unwrap();
        result.unwrap();
        summary
    }
}

fn transient(reply: &str) -> SendError {
    SendError::new(FailureClass::Transient, reply)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_gets_one_message_and_a_rerun_sends_nothing() {
    let f = Fixture::new();
    let stub = Arc::new(StubTransport::new());
    let summary = f.send_to(stub.clone(), 50).await;
    assert_eq!(summary.counts, counts!(sent: 50));
    assert_eq!(summary.outcome(), Outcome::Success);
    let mut to = stub.accepted_to();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 50);
    assert_eq!(stub.attempts(), 50);
    assert!(f.states().values().all(|s| *s == DeliveryState::Sent));

    let again = Arc::new(StubTransport::new());
    let summary = f
        .send(settings(), again.clone(), f.selection(true, true), jobs(50))
        .await;
    assert_eq!(summary.counts, counts!(skipped_sent: 50));
    assert_eq!(again.attempts(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_more_than_concurrency_messages_at_once() {
    let f = Fixture::new();
    let stub = Arc::new(StubTransport::with_delay(Duration::from_millis(20)));
    let summary = f.send_to(stub.clone(), 30).await;
    assert_eq!(summary.counts.sent, 30);
    assert_eq!(stub.most_at_once(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_is_retried_in_the_same_run() {
    let f = Fixture::new();
    let stub = Arc::new(StubTransport::new());
    stub.fail_times(&address(4), 2, transient("451 4.3.0 try later"));
    let summary = f.send_to(stub.clone(), 10).await;
    assert_eq!(summary.counts.sent, 10);
    assert_eq!(summary.outcome(), Outcome::Success);
    let row = f.row(4);
    assert_eq!((row.state, row.attempts), (DeliveryState::Sent, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_attempts_is_deferred_and_the_next_run_delivers() {
    let f = Fixture::new();
    let stub = Arc::new(StubTransport::new());
    stub.fail_always(&address(2), transient("450 4.2.1 mailbox busy"));
    let summary = f.send_to(stub.clone(), 5).await;
    assert_eq!(summary.counts, counts!(sent: 4, deferred: 1));
    assert_eq!(summary.outcome(), Outcome::Paused);
    assert_eq!(f.states()["user2@contoso.com"], DeliveryState::Deferred);

    let healthy = Arc::new(StubTransport::new());
    let summary = f.send_to(healthy.clone(), 5).await;
    assert_eq!(summary.counts, counts!(sent: 1, skipped_sent: 4));
    assert_eq!(healthy.accepted_to(), [address(2)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_failure_fails_that_user_only_until_retry_failed() {
    let f = Fixture::new();
    let stub = Arc::new(StubTransport::new());
    let unknown = SendError::new(FailureClass::Permanent, "550 5.1.1 unknown user");
    stub.fail_always(&address(1), unknown);
    let summary = f.send_to(stub.clone(), 6).await;
    assert_eq!(summary.counts, counts!(sent: 5, failed: 1));
    assert_eq!(summary.outcome(), Outcome::SomeFailed);
    let failed = f.row(1);
    assert_eq!(failed.state, DeliveryState::Failed);
    assert_eq!(failed.last_reply.as_deref(), Some("550 5.1.1 unknown user"));
    assert_eq!(failed.attempts, 1, "a permanent failure is not retried");

    let plain = f.rerun(false, false, 6).await;
    assert_eq!(plain.counts, counts!(skipped_sent: 5, skipped_failed: 1));
    assert_eq!(plain.outcome(), Outcome::SomeFailed);
    let retry = f.rerun(true, false, 6).await;
    assert_eq!(retry.counts, counts!(sent: 1, skipped_sent: 5));
    assert_eq!(retry.outcome(), Outcome::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn possibly_delivered_is_uncertain_and_resent_only_on_request() {
    let f = Fixture::new();
    let stub = Arc::new(StubTransport::new());
    let mut lost = transient("connection lost after the message was sent");
    lost.maybe_delivered = true;
    stub.fail_always(&address(0), lost);
    let summary = f.send_to(stub.clone(), 3).await;
    assert_eq!(summary.counts, counts!(sent: 2, uncertain: 1));
    assert_eq!(stub.attempts(), 3, "no blind retry");
    let plain = f.rerun(false, false, 3).await;
    assert_eq!(plain.counts.skipped_uncertain, 1);
    let resend = f.rerun(false, true, 3).await;
    assert_eq!(resend.counts, counts!(sent: 1, skipped_sent: 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_stops_new_messages_keeps_the_user_deferred_and_says_when_to_resume() {
    let f = Fixture::new();
    let stub = Arc::new(StubTransport::new());
    let mut quota = SendError::new(FailureClass::Quota, "421 4.4.2 rate exceeded");
    quota.retry_after = Some(Duration::from_secs(600));
    stub.fail_always(&address(3), quota);
    let one_at_a_time = Settings {
        concurrency: 1,
        window: 1,
        ..settings()
    };
    let before = Utc::now();
    let summary = f
        .send(
            one_at_a_time,
            stub.clone(),
            f.selection(false, false),
            jobs(10),
        )
        .await;
    assert_eq!(summary.counts, counts!(sent: 3, deferred: 1));
    assert_eq!(summary.outcome(), Outcome::Paused);
    let Some(StopReason::Quota { resume_at, reply }) = summary.stop else {
        panic!("{:?}", summary.stop)
    };
    assert!(resume_at >= before + chrono::Duration::seconds(600));
    assert!(reply.contains("4.4.2"));
    let states = f.states();
    assert_eq!(
        states.len(),
        4,
        "users after the quota reply are untouched: {states:?}"
    );
    assert_eq!(states["user3@contoso.com"], DeliveryState::Deferred);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fatal_failure_stops_the_run_and_leaves_the_user_as_before() {
    let f = Fixture::new();
    let stub = Arc::new(StubTransport::new());
    let refused = SendError::new(FailureClass::Fatal, "535 5.7.3 Authentication unsuccessful");
    stub.fail_always(&address(0), refused);
    let summary = f.send_to(stub.clone(), 20).await;
    assert_eq!(summary.outcome(), Outcome::Failure);
    assert!(matches!(&summary.stop, Some(StopReason::Fatal { reason }) if reason.contains("535")));
    let states = f.states();
    assert!(
        !states.contains_key("user0@contoso.com"),
        "the user is as before: no row"
    );
    assert!(
        states.values().all(|s| *s == DeliveryState::Sent),
        "nothing left in flight: {states:?}"
    );
    assert!(
        stub.attempts() < 20,
        "no new messages after the fatal reply"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_day_budget_counts_earlier_runs_and_pauses() {
    let f = Fixture::new();
    let budget = Settings {
        per_day: 5,
        ..settings()
    };
    let first = f
        .send(
            budget.clone(),
            Arc::new(StubTransport::new()),
            f.selection(false, false),
            jobs(3),
        )
        .await;
    assert_eq!(first.counts.sent, 3);
    let stub = Arc::new(StubTransport::new());
    let second = f
        .send(budget, stub.clone(), f.selection(false, false), jobs(10))
        .await;
    assert_eq!(second.counts.sent, 2, "5 a day, 3 already spent");
    assert_eq!(second.outcome(), Outcome::Paused);
    let Some(StopReason::DayBudget { resume_at }) = second.stop else {
        panic!("{:?}", second.stop)
    };
    assert!(resume_at > Utc::now() + chrono::Duration::hours(23));
    assert_eq!(f.states().len(), 5, "the others are untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_lets_messages_in_flight_finish_and_leaves_nothing_in_flight() {
    let f = Fixture::new();
    let stub = Arc::new(StubTransport::with_delay(Duration::from_millis(30)));
    let stop = Stop::new();
    let stopper = {
        let (stop, stub) = (stop.clone(), stub.clone());
        tokio::spawn(async move {
            while stub.accepted_to().len() < 5 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            stop.request(StopReason::Interrupted);
        })
    };
    let summary = f
        .send_with(
            settings(),
            stub.clone(),
            f.selection(false, false),
            campaign(),
            stop,
            jobs(200),
        )
        .await;
    stopper.await.unwrap();
    assert_eq!(summary.outcome(), Outcome::Interrupted);
    assert!(
        summary.counts.sent >= 5 && summary.counts.sent < 200,
        "{:?}",
        summary.counts
    );
    let states = f.states();
    assert_eq!(
        states.len() as u64,
        summary.counts.sent,
        "marked but unstarted messages were given back"
    );
    assert!(states.values().all(|s| *s == DeliveryState::Sent));
    assert_eq!(stub.accepted_to().len() as u64, summary.counts.sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_run_sends_everyone_given_and_changes_no_user_state() {
    let f = Fixture::new();
    f.rerun(false, false, 2).await;
    let book = Book::Test {
        campaign: "post-migration".into(),
        run: "run-1".into(),
        to: "admin@fabrikam.com".into(),
    };
    let stub = Arc::new(StubTransport::new());
    let summary = f
        .send_with(
            settings(),
            stub.clone(),
            SendSelection::test(),
            book,
            Stop::new(),
            jobs(3),
        )
        .await;
    assert_eq!(summary.counts.sent, 3);
    let ledger = Ledger::open(&f.path).unwrap();
    assert_eq!(ledger.test_sends(None).unwrap().len(), 3);
    assert_eq!(ledger.deliveries(None).unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_keeps_refusing_pauses_the_run() {
    let f = Fixture::new();
    let stub = Arc::new(StubTransport::new());
    for i in 0..50 {
        stub.fail_always(&address(i), transient("451 4.3.0 try later"));
    }
    let s = Settings {
        max_attempts: 1,
        unavailable_after: 5,
        concurrency: 1,
        window: 1,
        ..settings()
    };
    let summary = f
        .send(s, stub.clone(), f.selection(false, false), jobs(50))
        .await;
    assert!(
        matches!(summary.stop, Some(StopReason::Unavailable { .. })),
        "{:?}",
        summary.stop
    );
    assert_eq!(summary.counts.deferred, 5);
    assert_eq!(summary.outcome(), Outcome::Paused);
}

/// A transport that checks, before accepting, that the ledger already says `in-flight`.
struct CheckingTransport {
    path: PathBuf,
}

/// The campaign's user states in the ledger file at `path`.
fn states_on_disk(path: &Path) -> HashMap<String, DeliveryState> {
    Ledger::open(path)
        .unwrap()
        .delivery_states("post-migration")
        .unwrap()
}

impl Transport for CheckingTransport {
    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        _message: &'a [u8],
    ) -> BoxFuture<'a, Result<Accepted, SendError>> {
        let path = self.path.clone();
        let key = envelope.to[0].replace("@fabrikam.com", "@contoso.com");
        Box::pin(async move {
            let state = tokio::task::spawn_blocking(move || states_on_disk(&path).remove(&key))
                .await
                .unwrap();
            match state {
                Some(DeliveryState::InFlight) => Ok(Accepted {
                    reply: "250 ok".into(),
                }),
                other => Err(SendError::new(
                    FailureClass::Permanent,
                    format!("state on disk was {other:?}"),
                )),
            }
        })
    }
    fn max_in_flight(&self) -> usize {
        usize::MAX
    }

    fn describe(&self) -> String {
        "checking".into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_is_on_disk_before_the_message_is_handed_over() {
    let f = Fixture::new();
    let checking = Arc::new(CheckingTransport {
        path: f.path.clone(),
    });
    let summary = f.send_to(checking, 40).await;
    assert_eq!(summary.counts, counts!(sent: 40));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_built_only_for_users_the_run_sends_to() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let f = Fixture::new();
    f.rerun(false, false, 5).await;
    let builds = Arc::new(AtomicUsize::new(0));
    let candidates: Vec<Candidate> = (0..8)
        .map(|i| {
            let builds = Arc::clone(&builds);
            Candidate::new(format!("user{i}@contoso.com"), move || {
                builds.fetch_add(1, Ordering::SeqCst);
                if i == 7 {
                    Err(std::io::Error::other("template broke"))
                } else {
                    Ok(job(i))
                }
            })
        })
        .collect();
    let stub = Arc::new(StubTransport::new());
    let summary = f
        .send(settings(), stub, f.selection(false, false), candidates)
        .await;
    assert_eq!(
        builds.load(Ordering::SeqCst),
        3,
        "users 0-4 were sent before: not built"
    );
    assert_eq!(summary.counts, counts!(sent: 2, failed: 1, skipped_sent: 5));
    assert!(
        !f.states().contains_key("user7@contoso.com"),
        "an unbuilt message is not in the ledger"
    );
}

#[test]
fn a_run_has_as_many_workers_as_the_transport_carries_at_once() {
    let config = crate::render::tests::config_with(|t| t);
    let file = crate::transport::file::FileTransport::new("/tmp/x", 5);
    let settings = Settings::new(&config, &file);
    assert_eq!(settings.concurrency, 5);
    assert!(settings.window >= settings.concurrency);
}
