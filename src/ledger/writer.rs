//! The ledger's only writer during a `send`: a thread that owns the SQLite connection and takes
//! commands over a channel, so no SQLite call ever runs on an async executor thread.
//!
//! Outcomes are committed in groups (every [`MAX_DELAY`] or [`MAX_ROWS`], whichever comes
//! first), so durability does not cost one fsync per
//! message. `in-flight` marks are different: [`WriterHandle::mark_in_flight`] commits the whole
//! window of marks (with any outcomes still waiting) in one transaction and only then answers, so
//! a message is never handed to the server before its mark is on disk. The connection runs with
//! `synchronous=FULL`: a commit survives a power cut, not only a killed process.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::deliveries::{self, Book, Mark, Settled};
use super::{Ledger, LedgerError};

/// Buffered outcomes are committed at the latest this long after the first of them came in...
pub const MAX_DELAY: Duration = Duration::from_millis(200);
/// ... or as soon as this many are waiting.
pub const MAX_ROWS: usize = 512;

type Reply = oneshot::Sender<Result<(), LedgerError>>;

enum WriterCommand {
    Marks(Vec<Mark>, Reply),
    Settled(Settled),
    Close(Reply),
}

/// The running writer thread; [`LedgerWriter::finish`] commits what is left and hands the
/// ledger back.
pub struct LedgerWriter {
    tx: mpsc::Sender<WriterCommand>,
    thread: JoinHandle<Ledger>,
}

/// A cheap, cloneable way to talk to the writer from async tasks.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<WriterCommand>,
}

impl LedgerWriter {
    /// Starts the writer thread for a run that writes into `book` and sends from `mailbox`
    /// (whose day budget its submissions spend).
    pub fn spawn(ledger: Ledger, book: Book, mailbox: &str) -> Result<LedgerWriter, LedgerError> {
        // FULL: a commit survives a power cut. SQLite's default page cache and checkpoint
        // interval keep the writer's memory flat however many messages a run sends.
        ledger
            .conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| ledger.classify(e))?;
        let (tx, rx) = mpsc::channel();
        let worker = Worker {
            ledger,
            book,
            mailbox: mailbox.to_string(),
        };
        let thread = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || worker.run(rx))
            .map_err(|e| LedgerError::Open {
                path: std::path::PathBuf::from("ledger-writer thread"),
                source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
            })?;
        Ok(LedgerWriter { tx, thread })
    }

    /// A handle for the engine's tasks.
    pub fn handle(&self) -> WriterHandle {
        WriterHandle {
            tx: self.tx.clone(),
        }
    }

    /// Commits every outcome still waiting, stops the thread and returns the ledger. Call it
    /// from synchronous code (it waits for the thread).
    pub fn finish(self) -> (Ledger, Result<(), LedgerError>) {
        let (reply, answer) = oneshot::channel();
        let result = match self.tx.send(WriterCommand::Close(reply)) {
            Ok(()) => answer.blocking_recv().unwrap_or(Ok(())),
            Err(_) => Ok(()),
        };
        let ledger = self
            .thread
            .join()
            .expect("the ledger writer thread does not panic");
        (ledger, result)
    }
}

impl WriterHandle {
    /// Writes `in-flight` rows for a window of messages and returns once they are committed.
    pub async fn mark_in_flight(&self, marks: Vec<Mark>) -> Result<(), LedgerError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(WriterCommand::Marks(marks, reply))
            .map_err(|_| LedgerError::WriterStopped)?;
        answer.await.map_err(|_| LedgerError::WriterStopped)?
    }

    /// Queues how an attempt ended; committed with the next group.
    pub fn settle(&self, settled: Settled) {
        if self.tx.send(WriterCommand::Settled(settled)).is_err() {
            tracing::error!(
                "the ledger writer has stopped; this outcome stays in-flight and becomes uncertain"
            );
        }
    }

    /// Commits everything queued so far (a window without marks).
    pub async fn flush(&self) -> Result<(), LedgerError> {
        self.mark_in_flight(Vec::new()).await
    }
}

struct Worker {
    ledger: Ledger,
    book: Book,
    mailbox: String,
}

impl Worker {
    fn run(mut self, rx: mpsc::Receiver<WriterCommand>) -> Ledger {
        let mut pending: Vec<Settled> = Vec::new();
        let mut oldest: Option<Instant> = None;
        loop {
            let wait = oldest.map_or(Duration::from_secs(3600), |t| {
                MAX_DELAY.saturating_sub(t.elapsed())
            });
            match rx.recv_timeout(wait) {
                Ok(WriterCommand::Settled(settled)) => {
                    oldest.get_or_insert_with(Instant::now);
                    pending.push(settled);
                    if pending.len() >= MAX_ROWS {
                        self.commit_logged(&mut pending, &mut oldest);
                    }
                }
                Ok(WriterCommand::Marks(marks, reply)) => {
                    let result = self.commit(&mut pending, &marks);
                    oldest = None;
                    let _ = reply.send(result);
                }
                Ok(WriterCommand::Close(reply)) => {
                    let _ = reply.send(self.commit(&mut pending, &[]));
                    return self.ledger;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.commit_logged(&mut pending, &mut oldest)
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.commit_logged(&mut pending, &mut oldest);
                    return self.ledger;
                }
            }
        }
    }

    fn commit_logged(&mut self, pending: &mut Vec<Settled>, oldest: &mut Option<Instant>) {
        *oldest = None;
        if let Err(e) = self.commit(pending, &[]) {
            tracing::error!("cannot record outcomes in the ledger: {e}");
        }
    }

    /// One transaction: the queued outcomes first, then the marks.
    fn commit(&mut self, pending: &mut Vec<Settled>, marks: &[Mark]) -> Result<(), LedgerError> {
        if pending.is_empty() && marks.is_empty() {
            return Ok(());
        }
        let path = self.ledger.path.clone();
        let classify = |e| super::classify(&path, e);
        let tx = self.ledger.conn.transaction().map_err(classify)?;
        deliveries::write_settled(&tx, &self.book, &self.mailbox, pending).map_err(classify)?;
        deliveries::write_marks(&tx, &self.book, marks).map_err(classify)?;
        tx.commit().map_err(classify)?;
        pending.clear();
        Ok(())
    }
}
