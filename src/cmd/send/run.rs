//! One `send` command as one value ([`SendRun`]): it owns the config, the one tokio runtime,
//! the send lock and the ledger for the whole command, and keeps what each stage got to (the
//! plan, the gate, the engine's report), so the admin summary can be built however the run
//! ended. Every message of the command, the notices and the admin mail alike, goes through
//! [`SendRun::deliver`]: the same engine, ledger marks, pacing and day budget.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::gate::GateStatus;
use crate::ledger::deliveries::Book;
use crate::ledger::lock::SendLock;
use crate::ledger::writer::LedgerWriter;
use crate::ledger::{Ledger, LedgerError};
use crate::plan::Plan;
use crate::send::progress::Progress;
use crate::send::{engine, stop, Candidate, Run, RunSummary, SendSelection, Settings, Stop};
use crate::transport::Transport;

/// A `send` command from start to end; stages it never reached stay `None`.
pub struct SendRun {
    pub config: Config,
    pub started: DateTime<Utc>,
    /// The command's only async runtime: the engine, the webhook and the admin mail run on it.
    pub runtime: tokio::runtime::Runtime,
    pub plan: Option<Plan>,
    /// Why the run ended, when the outcome alone does not say it.
    pub message: Option<String>,
    pub gate: Option<GateStatus>,
    /// What the engine reported for the notices.
    pub report: Option<RunSummary>,
    pub ledger: LedgerSlot,
    /// A stop flag raised from outside (`serve`'s signal listener, which may see a signal
    /// before the engine starts), taken by the first engine run, the notices', in place of a
    /// fresh one. `None` in a `send`: its first Ctrl-C is caught by the engine run's watcher.
    pub interrupt: Option<Stop>,
}

/// The run's send lock and ledger, both taken on first use. The ledger is lent to the ledger
/// writer while the engine runs ([`SendRun::deliver`]) and comes back after.
pub struct LedgerSlot {
    path: PathBuf,
    lock: Option<SendLock>,
    ledger: Option<Ledger>,
}

impl LedgerSlot {
    /// The ledger, opened (after taking the send lock) on first use.
    pub fn open(&mut self) -> anyhow::Result<&mut Ledger> {
        if self.lock.is_none() {
            self.lock = Some(SendLock::acquire(&self.path)?);
        }
        if self.ledger.is_none() {
            self.ledger = Some(Ledger::open(&self.path)?);
        }
        Ok(self.ledger.as_mut().expect("opened just above"))
    }

    /// The ledger if this run opened it, else the file's if one exists, for the summary.
    pub fn for_summary(&mut self) -> Option<&Ledger> {
        if self.ledger.is_none() && self.path.exists() {
            self.ledger = Ledger::open(&self.path).ok();
        }
        self.ledger.as_ref()
    }
}

/// What one engine run sends with, besides the ledger the [`SendRun`] lends it.
pub struct Delivery {
    pub settings: Settings,
    pub transport: std::sync::Arc<dyn Transport>,
    pub selection: SendSelection,
    pub progress: Progress,
    pub total: Option<u64>,
}

impl SendRun {
    /// The run of a command that read `config`, with its runtime. The engine's async work is
    /// waiting on sockets; the CPU work (building messages, the ledger) has threads of its own,
    /// so one executor thread is enough (a second one only moved tasks between threads).
    pub fn new(config: Config) -> anyhow::Result<SendRun> {
        SendRun::with_lock(config, None)
    }

    /// The run of a command whose caller already holds the ledger's send lock (`serve` holds
    /// it for its whole life and lends it to each pass); [`SendRun::finish`] hands it back.
    pub fn with_lock(config: Config, lock: Option<SendLock>) -> anyhow::Result<SendRun> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(SendRun {
            ledger: LedgerSlot {
                path: config.ledger.path.clone(),
                lock,
                ledger: None,
            },
            config,
            started: Utc::now(),
            runtime,
            plan: None,
            message: None,
            gate: None,
            report: None,
            interrupt: None,
        })
    }

    /// Sends `candidates` with the engine, recording every step in `book`: the ledger goes to
    /// the writer thread for the engine's run and comes back, with whether the last outcomes
    /// were recorded. The first Ctrl-C stops starting messages; a second one commits what the
    /// writer holds and exits with 130.
    pub fn deliver<I>(
        &mut self,
        book: Book,
        delivery: Delivery,
        candidates: I,
    ) -> anyhow::Result<(RunSummary, Result<(), LedgerError>)>
    where
        I: Iterator<Item = Candidate> + Send + 'static,
    {
        let mailbox = self.config.sending_mailbox();
        let history = self
            .ledger
            .open()?
            .submissions_since(Utc::now() - chrono::Duration::hours(24), &mailbox)?;
        let ledger = self.ledger.ledger.take().expect("opened just above");
        let writer = LedgerWriter::spawn(ledger, book, &mailbox)?;
        let run = Run {
            settings: delivery.settings,
            transport: delivery.transport,
            writer: writer.handle(),
            selection: delivery.selection,
            history,
            stop: self.interrupt.take().unwrap_or_default(),
            progress: delivery.progress,
            total: delivery.total,
        };
        let stop = run.stop.clone();
        let handle = run.writer.clone();
        let summary = self.runtime.block_on(async move {
            let watcher = stop::watch_ctrl_c(stop, move || async move {
                let _ = tokio::time::timeout(Duration::from_secs(3), handle.flush()).await;
            });
            let summary = engine::run(run, candidates).await;
            watcher.abort();
            summary
        });
        let (ledger, recorded) = writer.finish();
        self.ledger.ledger = Some(ledger);
        Ok((summary, recorded))
    }

    /// Ends the command: tasks still on the runtime (a connection closing) get a moment. The
    /// send lock comes back to a caller that lent it (a `send` drops it here).
    pub fn finish(self) -> Option<SendLock> {
        self.runtime.shutdown_timeout(Duration::from_secs(1));
        self.ledger.lock
    }
}
