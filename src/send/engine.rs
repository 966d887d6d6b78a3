//! The dispatcher and its workers.
//!
//! Jobs come from a producer thread (which also applies the skip rules, so rendering and the
//! ledger snapshot never run on the executor). The dispatcher admits messages through the day
//! budget and the per-minute pacer, writes the `in-flight` marks of a whole window in one
//! transaction, waits for that commit, and only then gives the messages to at most
//! `concurrency` worker tasks. Workers send, record the outcome (group-committed), and hand
//! back transient failures for a retry after a backoff. While one window sends, the next one's
//! marks are committed, so the fsync of a group commit overlaps with sending.
//!
//! When the run must stop (Ctrl-C, quota, fatal error, day budget) no new message starts, the
//! ones in flight finish and are recorded, and marked messages that never started go back to
//! the state they had.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::pacing::{Admission, DayBudget, Pacer};
use super::progress::Progress;
use super::retry::{self, Action, Backoff};
use super::select::Selection;
use super::stop::{Stop, StopReason};
use super::summary::{Count, LiveCounts, Summary};
use super::{Candidate, Job};
use crate::config::Config;
use crate::ledger::deliveries::{DeliveryState, Mark, Resolution, Settled, Submission};
use crate::ledger::writer::WriterHandle;
use crate::ledger::LedgerError;
use crate::transport::{Accepted, SendError, Transport};

/// How the engine paces and retries.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Messages in flight at once (`[pacing] concurrency`).
    pub concurrency: usize,
    /// `[pacing] per_minute`; 0 for no limit.
    pub per_minute: u32,
    /// `[pacing] per_day` recipients in any 24 h; 0 for no limit.
    pub per_day: u32,
    /// Attempts per message in one run (`[transport] max_attempts`).
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// The most `in-flight` marks committed in one transaction.
    pub window: usize,
    /// Deferred messages in a row, with no success between, after which the run pauses.
    pub unavailable_after: u32,
}

impl Settings {
    /// The settings of `[pacing]` and `[transport]`.
    pub fn from_config(config: &Config) -> Settings {
        let concurrency = config.pacing.concurrency.max(1) as usize;
        let window = if config.pacing.per_minute == 0 {
            (concurrency * 4).clamp(8, 256)
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
            unavailable_after: (concurrency as u32 * 4).max(20),
        }
    }
}

/// Everything one run needs besides the jobs.
pub struct Run {
    pub settings: Settings,
    pub transport: Arc<dyn Transport>,
    pub writer: WriterHandle,
    pub selection: Selection,
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
pub async fn run<I>(run: Run, candidates: I) -> Summary
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
        settings: run.settings,
        streak: Mutex::new(0),
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
    Summary {
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
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A job on its way, with what the engine knows about it.
struct Task {
    job: Job,
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

/// How many messages the producer builds at a time (in parallel, with rayon).
const BUILD_CHUNK: usize = 256;

fn spawn_producer<I>(
    candidates: I,
    selection: Selection,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Task>,
) where
    I: Iterator<Item = Candidate> + Send + 'static,
{
    let spawned = std::thread::Builder::new()
        .name("send-producer".into())
        .spawn(move || {
            let mut candidates = candidates.peekable();
            while candidates.peek().is_some() {
                let mut chosen = Vec::with_capacity(BUILD_CHUNK);
                for candidate in candidates.by_ref().take(BUILD_CHUNK) {
                    match selection.decide(&candidate.key) {
                        Ok(prior) => chosen.push((candidate, prior)),
                        Err(skip) => shared.counts.add(Count::Skipped(skip)),
                    }
                }
                if !produce(chosen, &shared, &tx) {
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the thread that prepares messages: {e}");
    }
}

/// Builds the chosen candidates' messages in parallel and queues them in order; false when
/// the dispatcher no longer takes any (the run stopped).
fn produce(
    chosen: Vec<(Candidate, Option<DeliveryState>)>,
    shared: &Shared,
    tx: &mpsc::Sender<Task>,
) -> bool {
    use rayon::prelude::*;
    let built: Vec<(String, Result<Job, String>, Option<DeliveryState>)> = chosen
        .into_par_iter()
        .map(|(candidate, prior)| (candidate.key.clone(), candidate.build(), prior))
        .collect();
    for (key, job, prior) in built {
        match job {
            Ok(job) => {
                let task = Task {
                    job,
                    prior,
                    attempts: 0,
                };
                if tx.blocking_send(task).is_err() {
                    return false;
                }
            }
            Err(why) => {
                tracing::error!(user = %key, "not sent: the message cannot be built: {why}");
                shared.counts.add(Count::Failed);
            }
        }
    }
    true
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

type MarkFuture = Pin<Box<dyn Future<Output = Result<(), LedgerError>> + Send>>;

/// Something the dispatcher was waiting for.
enum Event {
    Marked(Result<(), LedgerError>),
    Finished(Result<Finished, tokio::task::JoinError>),
    Source(Option<Task>),
    Wake,
}

struct Dispatcher {
    shared: Arc<Shared>,
    source: mpsc::Receiver<Task>,
    source_open: bool,
    /// A task taken from the source or the retries that could not be admitted yet.
    lookahead: Option<Task>,
    retries: Vec<(Instant, Task)>,
    /// Marked `in-flight`, waiting for a worker.
    ready: VecDeque<Task>,
    marking: Option<(MarkFuture, Vec<Task>)>,
    workers: JoinSet<Finished>,
    /// When the pacer lets the next message start.
    pacer_wake: Option<Instant>,
}

impl Dispatcher {
    fn new(shared: Arc<Shared>, source: mpsc::Receiver<Task>) -> Dispatcher {
        Dispatcher {
            shared,
            source,
            source_open: true,
            lookahead: None,
            retries: Vec::new(),
            ready: VecDeque::new(),
            marking: None,
            workers: JoinSet::new(),
            pacer_wake: None,
        }
    }

    async fn run(mut self) {
        loop {
            match self.shared.stop.reason() {
                // The day budget only stops new admissions: what was admitted fits in it.
                Some(StopReason::DayBudget { .. }) => self.launch_ready(),
                Some(_) => self.give_back_ready(),
                None => {
                    self.launch_ready();
                    if self.marking.is_none() {
                        self.start_marking();
                    }
                }
            }
            if self.is_finished() {
                break;
            }
            let event = self.next_event().await;
            self.handle(event);
        }
        self.count_leftovers();
    }

    fn is_finished(&self) -> bool {
        let idle = self.marking.is_none() && self.ready.is_empty() && self.workers.is_empty();
        let exhausted = !self.source_open && self.lookahead.is_none() && self.retries.is_empty();
        idle && (self.shared.stop.is_requested() || exhausted)
    }

    fn launch_ready(&mut self) {
        while self.workers.len() < self.shared.settings.concurrency {
            let Some(task) = self.ready.pop_front() else {
                break;
            };
            self.workers.spawn(attempt(Arc::clone(&self.shared), task));
        }
    }

    /// Takes as many messages as budget, pacer and window allow right now and starts writing
    /// their `in-flight` marks.
    fn start_marking(&mut self) {
        let room = self.shared.settings.window.saturating_sub(self.ready.len());
        let now = Instant::now();
        let wall = Utc::now();
        self.pacer_wake = None;
        let mut window = Vec::new();
        while window.len() < room {
            let Some(task) = self.next_candidate(now) else {
                break;
            };
            if !self.admit(&task, now, wall) {
                self.lookahead = Some(task);
                break;
            }
            window.push(task);
        }
        if window.is_empty() {
            return;
        }
        let marks: Vec<Mark> = window.iter().map(|t| mark(t, wall)).collect();
        let writer = self.shared.writer.clone();
        self.marking = Some((
            Box::pin(async move { writer.mark_in_flight(marks).await }),
            window,
        ));
    }

    /// Reserves the day budget and a pacer slot for `task`; false (nothing reserved) if either
    /// says not now.
    fn admit(&mut self, task: &Task, now: Instant, wall: DateTime<Utc>) -> bool {
        let recipients = task.job.recipients();
        let mut budget = lock(&self.shared.budget);
        if let Err(exhausted) = budget.try_reserve(recipients, wall) {
            drop(budget);
            self.shared.stop.request(StopReason::DayBudget {
                resume_at: exhausted.resume_at,
            });
            return false;
        }
        match lock(&self.shared.pacer).try_admit(now) {
            Admission::Now => true,
            other => {
                budget.settle(recipients, false, wall);
                if let Admission::At(at) = other {
                    self.pacer_wake = Some(at);
                }
                false
            }
        }
    }

    fn next_candidate(&mut self, now: Instant) -> Option<Task> {
        if let Some(task) = self.lookahead.take() {
            return Some(task);
        }
        let due = (0..self.retries.len())
            .filter(|&i| self.retries[i].0 <= now)
            .min_by_key(|&i| self.retries[i].0);
        if let Some(i) = due {
            return Some(self.retries.swap_remove(i).1);
        }
        if !self.source_open {
            return None;
        }
        match self.source.try_recv() {
            Ok(task) => Some(task),
            Err(mpsc::error::TryRecvError::Empty) => None,
            Err(mpsc::error::TryRecvError::Disconnected) => {
                self.source_open = false;
                None
            }
        }
    }

    async fn next_event(&mut self) -> Event {
        let stopping = self.shared.stop.is_requested();
        let retry_due = self.retries.iter().map(|r| r.0).min();
        let wake = [self.pacer_wake, retry_due].into_iter().flatten().min();
        let want_source = self.source_open
            && self.lookahead.is_none()
            && !stopping
            && self.marking.is_none()
            && self.ready.len() < self.shared.settings.window;
        let Dispatcher {
            marking,
            workers,
            source,
            shared,
            ..
        } = self;
        let is_marking = marking.is_some();
        let marked = async {
            match marking.as_mut() {
                Some((future, _)) => future.await,
                None => std::future::pending().await,
            }
        };
        let far = Instant::now() + Duration::from_secs(86_400);
        tokio::select! {
            result = marked, if is_marking => Event::Marked(result),
            Some(joined) = workers.join_next(), if !workers.is_empty() => Event::Finished(joined),
            task = source.recv(), if want_source => Event::Source(task),
            _ = tokio::time::sleep_until(wake.unwrap_or(far)), if wake.is_some() => Event::Wake,
            _ = shared.stop.requested(), if !stopping => Event::Wake,
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Marked(result) => {
                let (_, window) = self.marking.take().expect("a window was being marked");
                match result {
                    Ok(()) => self.ready.extend(window),
                    Err(e) => self.marking_failed(window, e),
                }
            }
            Event::Finished(Ok(Finished::Done)) => {}
            Event::Finished(Ok(Finished::Retry { task, due })) => {
                if self.shared.stop.is_requested() {
                    self.shared.counts.add(Count::Deferred);
                } else {
                    self.retries.push((due, task));
                }
            }
            Event::Finished(Err(e)) => {
                tracing::error!("a send task failed: {e}; its user stays in-flight and is listed as uncertain next time");
                self.shared.counts.add(Count::Uncertain);
            }
            Event::Source(Some(task)) => self.lookahead = Some(task),
            Event::Source(None) => self.source_open = false,
            Event::Wake => {}
        }
    }

    /// The marks were not written: nothing of the window was sent or recorded.
    fn marking_failed(&mut self, window: Vec<Task>, error: LedgerError) {
        let wall = Utc::now();
        for task in &window {
            lock(&self.shared.pacer).cancel();
            lock(&self.shared.budget).settle(task.job.recipients(), false, wall);
            if task.attempts > 0 {
                self.shared.counts.add(Count::Deferred);
            }
        }
        self.shared.stop.request(StopReason::Fatal {
            reason: format!("cannot record messages as in flight before sending them: {error}"),
        });
    }

    /// The run stops: marked messages that never started go back to their earlier state.
    fn give_back_ready(&mut self) {
        let wall = Utc::now();
        for task in self.ready.drain(..) {
            lock(&self.shared.pacer).cancel();
            lock(&self.shared.budget).settle(task.job.recipients(), false, wall);
            self.shared.writer.settle(Settled {
                user_key: task.job.key.clone(),
                resolution: Resolution::Revert { prior: task.prior },
                reply: None,
                at: wall,
                submitted: 0,
            });
            if task.attempts > 0 {
                self.shared.counts.add(Count::Deferred);
            }
        }
    }

    /// Messages waiting for a retry when the run ended are `deferred` in the ledger.
    fn count_leftovers(&mut self) {
        let waiting = self
            .retries
            .drain(..)
            .map(|r| r.1)
            .chain(self.lookahead.take());
        for task in waiting {
            if task.attempts > 0 {
                self.shared.counts.add(Count::Deferred);
            }
        }
    }
}

fn mark(task: &Task, at: DateTime<Utc>) -> Mark {
    Mark {
        user_key: task.job.key.clone(),
        recipients: task.job.envelope.to.clone(),
        message_id: task.job.message_id.clone(),
        content_hash: task.job.content_hash.clone(),
        batch: task.job.batch.clone(),
        at,
    }
}

/// One attempt of one message, on a worker task.
async fn attempt(shared: Arc<Shared>, mut task: Task) -> Finished {
    task.attempts += 1;
    let result = shared
        .transport
        .send(&task.job.envelope, &task.job.message)
        .await;
    lock(&shared.pacer).finish(Instant::now());
    match result {
        Ok(accepted) => {
            shared.accepted(&task, accepted);
            Finished::Done
        }
        Err(error) => shared.failed(task, error),
    }
}

impl Shared {
    fn settle(&self, task: &Task, resolution: Resolution, reply: &str, submitted: bool) {
        let at = Utc::now();
        let recipients = task.job.recipients();
        lock(&self.budget).settle(recipients, submitted, at);
        self.writer.settle(Settled {
            user_key: task.job.key.clone(),
            resolution,
            reply: Some(reply.to_string()),
            at,
            submitted: if submitted { recipients } else { 0 },
        });
    }

    fn accepted(&self, task: &Task, accepted: Accepted) {
        tracing::debug!(user = %task.job.key, reply = %accepted.reply, "accepted");
        self.settle(task, Resolution::Sent, &accepted.reply, true);
        self.counts.add(Count::Sent);
        *lock(&self.streak) = 0;
    }

    fn failed(&self, mut task: Task, error: SendError) -> Finished {
        let s = &self.settings;
        let action = retry::decide(
            &error,
            task.attempts,
            s.max_attempts,
            &s.backoff,
            rand::random::<f64>(),
        );
        let user = task.job.key.as_str();
        tracing::debug!(user, reply = %error.reply, class = ?error.class, attempt = task.attempts, "not accepted");
        match action {
            Action::Retry(wait) => {
                self.settle(&task, Resolution::Deferred, &error.reply, false);
                task.prior = Some(DeliveryState::Deferred);
                return Finished::Retry {
                    task,
                    due: Instant::now() + wait,
                };
            }
            Action::Defer => {
                tracing::info!(user, reply = %error.reply, "deferred to the next run after {} attempts", task.attempts);
                self.settle(&task, Resolution::Deferred, &error.reply, false);
                self.counts.add(Count::Deferred);
                self.count_deferral(&error);
            }
            Action::Fail => {
                tracing::warn!(user, reply = %error.reply, "failed");
                self.settle(&task, Resolution::Failed, &error.reply, false);
                self.counts.add(Count::Failed);
            }
            Action::Uncertain => {
                tracing::warn!(user, reply = %error.reply, "uncertain");
                self.settle(&task, Resolution::Uncertain, &error.reply, true);
                self.counts.add(Count::Uncertain);
            }
            Action::Pause { resume_after } => {
                self.settle(&task, Resolution::Deferred, &error.reply, false);
                self.counts.add(Count::Deferred);
                let now = Utc::now();
                let resume_at = match resume_after.and_then(|d| chrono::Duration::from_std(d).ok())
                {
                    Some(wait) => now + wait,
                    None => lock(&self.budget).resume_at(1, now),
                };
                self.stop.request(StopReason::Quota {
                    resume_at,
                    reply: error.reply,
                });
            }
            Action::Stop => {
                self.settle(
                    &task,
                    Resolution::Revert { prior: task.prior },
                    &error.reply,
                    false,
                );
                self.stop.request(StopReason::Fatal {
                    reason: error.reply,
                });
            }
        }
        Finished::Done
    }

    /// Pauses the run when too many messages in a row were deferred: the server is not
    /// taking mail right now, and hammering it helps nobody.
    fn count_deferral(&self, error: &SendError) {
        let mut streak = lock(&self.streak);
        *streak += 1;
        if *streak >= self.settings.unavailable_after {
            self.stop.request(StopReason::Unavailable {
                resume_at: Utc::now() + chrono::Duration::minutes(15),
                reply: error.reply.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests;
