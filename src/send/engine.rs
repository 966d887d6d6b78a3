//! The sending engine's entry point ([`run`]), its settings, and the state its parts share.
//!
//! Jobs come from a producer thread (which also applies the skip rules, so rendering and the
//! ledger snapshot never run on the executor). The dispatcher admits messages through the day
//! budget and the per-minute pacer, writes the `in-flight` marks of a whole window in one
//! transaction, waits for that commit, and only then gives the messages to at most
//! `concurrency` worker tasks. Workers send, record the outcome (group-committed), and hand
//! back transient failures for a retry after a backoff. While one window sends, the next one's
//! marks are committed, so the fsync of a group commit overlaps with sending.
//!
//! When the run must stop (Ctrl-C, quota, fatal error, day budget) no new message starts and
//! the ones in flight finish and are recorded. Marked messages that never started go back to
//! the state they had, except on the day budget, whose admitted messages fit in it and go.
//!
//! Parts: `producer` (skip rules and building messages), `dispatcher` (admission, marks,
//! workers, retries), `worker` (one attempt and what its outcome means).

mod dispatcher;
mod producer;
mod worker;

use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::opening::Opening;
use super::pacing::{DayBudget, Pacer};
use super::progress::Progress;
use super::retry::Backoff;
use super::select::SendSelection;
use super::stop::{Stop, StopReason};
use super::summary::{LiveCounts, RunSummary};
use super::{Candidate, SendJob};
use crate::config::Config;
use crate::ledger::deliveries::{DeliveryState, Submission};
use crate::ledger::writer::WriterHandle;
use crate::transport::Transport;
use dispatcher::Dispatcher;
use producer::spawn_producer;

/// How the engine paces and retries.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Messages in flight at once: as many as the transport carries.
    pub concurrency: usize,
    /// `[pacing] per_minute`; 0 for no limit.
    pub per_minute: u32,
    /// `[pacing] per_day` recipients in any 24 h; 0 for no limit.
    pub per_day: u32,
    /// Attempts per message in one run (`[transport] max_attempts`).
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// The most `in-flight` marks committed in one transaction; also the most messages a
    /// killed run can leave `uncertain` beyond those being sent.
    pub window: usize,
    /// Deferred messages in a row, with no success between, after which the run pauses.
    pub unavailable_after: u32,
    /// First attempts all refused with one code after which the run stops (0: never).
    pub stop_after_same_refusals: u32,
}

impl Settings {
    /// The settings of `[pacing]` and `[transport]`, with as many messages in flight as
    /// `transport` carries at once (it knows its own limits; see
    /// [`Transport::max_in_flight`]).
    pub fn new(config: &Config, transport: &dyn Transport) -> Settings {
        let concurrency = transport.max_in_flight().max(1);
        // Marks are committed half a window at a time (one fsync each): with pacing off, the
        // most messages a run can send per second is half the window over the commit time.
        // Eight messages per connection made smaller commits that share the CPU better with
        // the sending than larger ones, and a killed run leaves at most the window plus
        // `concurrency` users uncertain.
        let window = if config.pacing.per_minute == 0 {
            (concurrency * 8).clamp(64, 512).max(concurrency * 2)
        } else {
            concurrency
        };
        Settings {
            concurrency,
            per_minute: config.pacing.per_minute,
            per_day: config.pacing.per_day,
            max_attempts: config.transport.max_attempts.max(1),
            backoff: Backoff::default(),
            window,
            stop_after_same_refusals: config.transport.stop_after_same_permanent_failures,
            unavailable_after: (u32::try_from(concurrency)
                .unwrap_or(u32::MAX)
                .saturating_mul(4))
            .max(20),
        }
    }
}

/// Everything one run needs besides the jobs.
pub struct Run {
    pub settings: Settings,
    pub transport: Arc<dyn Transport>,
    pub writer: WriterHandle,
    pub selection: SendSelection,
    /// The submissions log of the last 24 h, oldest first.
    pub history: Vec<Submission>,
    pub stop: Stop,
    pub progress: Progress,
    /// How many jobs there are, for the progress bar.
    pub total: Option<u64>,
}

/// Sends to `candidates` (jobs, or users whose job is built on demand) and returns what
/// happened. Never panics on a transport or ledger failure: they end the run with a
/// [`StopReason`].
pub async fn run<I>(run: Run, candidates: I) -> RunSummary
where
    I: IntoIterator,
    I::Item: Into<Candidate> + 'static,
    I::IntoIter: Send + 'static,
{
    let started = Instant::now();
    let wall = Utc::now();
    let recent = run.history.iter().filter_map(|s| {
        let age = (wall - s.at).to_std().ok()?;
        started.checked_sub(age)
    });
    let shared = Arc::new(Shared {
        pacer: Mutex::new(Pacer::new(run.settings.per_minute, recent)),
        budget: Mutex::new(DayBudget::new(run.settings.per_day, &run.history)),
        transport: run.transport,
        writer: run.writer,
        stop: run.stop,
        counts: LiveCounts::default(),
        opening: Mutex::new(Opening::new(run.settings.stop_after_same_refusals)),
        settings: run.settings,
        streak: Mutex::new(0),
        misconfigured: Mutex::new(None),
    });
    let (tx, rx) = mpsc::channel(shared.settings.window.max(64) * 2);
    spawn_producer(
        candidates.into_iter().map(Into::into),
        run.selection,
        Arc::clone(&shared),
        tx,
    );
    let progress = Arc::new(run.progress);
    let ticker = spawn_ticker(Arc::clone(&progress), Arc::clone(&shared), run.total);
    Dispatcher::new(Arc::clone(&shared), rx).run().await;
    ticker.abort();
    shared.transport.shutdown().await;
    if let Err(e) = shared.writer.flush().await {
        shared.stop.request(StopReason::Fatal {
            reason: format!("cannot record the last outcomes: {e}"),
        });
    }
    progress.update(&shared.counts.snapshot(), run.total);
    progress.finish();
    RunSummary {
        counts: shared.counts.snapshot(),
        stop: shared.stop.reason(),
        elapsed: started.elapsed(),
    }
}

/// State the dispatcher and the workers share.
struct Shared {
    settings: Settings,
    transport: Arc<dyn Transport>,
    writer: WriterHandle,
    stop: Stop,
    pacer: Mutex<Pacer>,
    budget: Mutex<DayBudget>,
    counts: LiveCounts,
    /// Deferred messages in a row since the last success.
    streak: Mutex<u32>,
    opening: Mutex<Opening>,
    /// Why the first attempts look like a wrong setting; the dispatcher stops the run for it
    /// when anyone is left to try.
    misconfigured: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A job on its way, with what the engine knows about it.
struct Task {
    job: SendJob,
    /// The ledger state to restore if the message never leaves.
    prior: Option<DeliveryState>,
    /// Attempts made in this run.
    attempts: u32,
}

/// What a worker hands back.
enum Finished {
    Done,
    Retry { task: Task, due: Instant },
}
fn spawn_ticker(
    progress: Arc<Progress>,
    shared: Arc<Shared>,
    total: Option<u64>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(progress.tick());
        interval.tick().await;
        loop {
            interval.tick().await;
            progress.update(&shared.counts.snapshot(), total);
        }
    })
}
#[cfg(test)]
mod tests;
