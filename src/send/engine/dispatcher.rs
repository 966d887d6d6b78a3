//! The dispatcher: admits messages through the day budget and the pacer, commits the
//! `in-flight` marks of each window before its messages start, hands them to at most
//! `concurrency` workers, schedules retries, and gives back what never started when the run
//! stops.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::worker::attempt;
use super::{lock, Finished, Shared, Task};
use crate::ledger::deliveries::Mark;
use crate::ledger::LedgerError;
use crate::send::pacing::Admission;
use crate::send::stop::StopReason;
use crate::send::summary::Count;

type MarkFuture = Pin<Box<dyn Future<Output = Result<(), LedgerError>> + Send>>;

/// Something the dispatcher was waiting for.
enum Event {
    Marked(Result<(), LedgerError>),
    Finished(Result<Finished, tokio::task::JoinError>),
    Source(Option<Task>),
    Wake,
}

pub(super) struct Dispatcher {
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
    pub(super) fn new(shared: Arc<Shared>, source: mpsc::Receiver<Task>) -> Dispatcher {
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

    pub(super) async fn run(mut self) {
        loop {
            self.stop_if_misconfigured();
            match self.shared.stop.reason() {
                // The day budget only stops new admissions: what was admitted fits in it.
                Some(StopReason::DayBudget { .. }) => self.launch_ready(),
                Some(_) => self.give_back_ready(),
                None => {
                    self.launch_ready();
                    if self.marking.is_none() && self.wants_marks() {
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

    /// Stops the run when its first attempts all met the same permanent refusal and anyone
    /// is left to try (with nobody left, the run simply ends with its failures).
    fn stop_if_misconfigured(&mut self) {
        if self.exhausted() && self.ready.is_empty() && self.marking.is_none() {
            return;
        }
        if let Some(reason) = lock(&self.shared.misconfigured).take() {
            self.shared.stop.request(StopReason::Fatal { reason });
        }
    }

    fn is_finished(&self) -> bool {
        let idle = self.marking.is_none() && self.ready.is_empty() && self.workers.is_empty();
        idle && (self.shared.stop.is_requested() || self.exhausted())
    }

    /// Nothing more to take: the source is closed and no task waits to be admitted.
    fn exhausted(&self) -> bool {
        !self.source_open && self.lookahead.is_none() && self.retries.is_empty()
    }

    fn launch_ready(&mut self) {
        while self.workers.len() < self.shared.settings.concurrency {
            let Some(task) = self.ready.pop_front() else {
                break;
            };
            self.workers.spawn(attempt(Arc::clone(&self.shared), task));
        }
    }

    /// Whether the next window's marks are due: once the marked messages waiting for a
    /// worker are down to half a window. Marking whenever a worker took one would commit a
    /// few marks at a time, each commit with its fsync (a 20,000-notice send made about 700
    /// commits; now about 330 with a window of 128).
    fn wants_marks(&self) -> bool {
        self.ready.len() <= self.shared.settings.window / 2
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
            self.shared.release(task, wall);
        }
        self.shared.stop.request(StopReason::Fatal {
            reason: format!("cannot record messages as in flight before sending them: {error}"),
        });
    }

    /// The run stops: marked messages that never started go back to their earlier state.
    fn give_back_ready(&mut self) {
        let wall = Utc::now();
        for task in self.ready.drain(..) {
            self.shared.give_back(task, wall);
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
