//! `t2t-notify serve`: takes the ledger's send lock for its whole life and, every
//! `[serve] poll_seconds`, looks at each campaign's audience; when people are due it runs the
//! campaign's pass, which is `send --campaign NAME` itself ([`super::send::pass`]: the same
//! checks, trust gate, engine, ledger and admin summary). A look that finds nobody due says so
//! at debug level only; invalid input and a closed gate are said once per change. What follows
//! a pass (wait for the budget, back off, stop) is decided by [`crate::serve`].
//!
//! Ctrl-C or SIGTERM between passes ends the service at once with status 0 (a service manager's
//! stop is its normal end); during a pass the pass stops starting messages, records the ones in
//! flight, and the service ends with 130, as `send` does. A pause from the dashboard stops the
//! running pass the same way but keeps the service: no pass starts until a resume
//! ([`crate::serve::control`]). The dashboard ([`crate::serve::dashboard`]) starts once the lock
//! is held, so a second `serve` is refused for the lock, not for the port.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use crate::cli::{Cli, InputArgs, MoveStateArgs, SendArgs, ServeArgs};
use crate::config::Config;
use crate::exit::Outcome;
use crate::ledger::deliveries::DeliveryState;
use crate::ledger::lock::SendLock;
use crate::ledger::Ledger;
use crate::send::{SendSelection, StopReason};
use crate::serve::control::{Control, Requested, Wake};
use crate::serve::inbox::{processed_inputs, Inbox};
use crate::serve::{After, SharedStatus, State, Status};
use anyhow::Context;

/// Runs the service until a signal stops it.
pub fn execute(cli: &Cli, args: &ServeArgs) -> anyhow::Result<Outcome> {
    let config = Config::load(&cli.config)?;
    let status = Status::new(&campaign_names(&config), Utc::now());
    serve(cli, args, Arc::new(Mutex::new(status)))
}

/// The journey of the service's people, as `report --journey` computes it, with the inputs
/// that arrived in the inbox: what the dashboard's funnel, attention list and search show.
fn journey_source(cli: &Cli, args: &ServeArgs) -> crate::serve::dashboard::JourneySource {
    let (config_path, input, moves) = (cli.config.clone(), args.input.clone(), args.moves.clone());
    Arc::new(move || {
        let config = Config::load(&config_path)?;
        let mut moves = moves.clone();
        with_processed(&mut moves, config.serve.inbox.as_deref())?;
        let sources = super::inputs::sources(&input, &moves);
        let plan = crate::plan::load(Some(&config), sources, true)?;
        super::report::journey_of(&config, &plan, Utc::now())
    })
}

/// The campaigns `serve` runs, in the config's order; `None` for a config without tables.
pub fn campaign_names(config: &Config) -> Vec<Option<String>> {
    if config.campaigns.is_empty() {
        vec![None]
    } else {
        config
            .campaigns
            .iter()
            .map(|c| Some(c.name.clone()))
            .collect()
    }
}

/// Runs the service, keeping `status` (made by [`Status::new`] from [`campaign_names`]) up to
/// date for whoever reads it, until a signal stops it.
pub fn serve(cli: &Cli, args: &ServeArgs, status: SharedStatus) -> anyhow::Result<Outcome> {
    let config = Config::load(&cli.config)?;
    let names = campaign_names(&config);
    {
        // The config may have changed since the caller made the status.
        let mut shown = status.lock().unwrap_or_else(|e| e.into_inner());
        if !shown.campaigns.iter().map(|c| &c.name).eq(names.iter()) {
            *shown = Status::new(&names, shown.started);
        }
    }
    let poll = Duration::from_secs(config.serve.poll_seconds);
    let lock = SendLock::acquire(&config.ledger.path)?;
    let (wake, woken) = std::sync::mpsc::channel();
    let control = Arc::new(Control::new(wake));
    listen(control.clone());
    if config.dashboard.enabled {
        let started = crate::serve::dashboard::start(crate::serve::dashboard::Parts {
            config: config.clone(),
            status: status.clone(),
            control: control.clone(),
            journey: journey_source(cli, args),
        })?;
        let token = match &started.token {
            crate::serve::dashboard::access::TokenOrigin::Env(var) => {
                format!("the token in the environment variable {var}")
            }
            crate::serve::dashboard::access::TokenOrigin::File(file) => format!(
                "the token in {} (set {} to choose it)",
                file.display(),
                config.dashboard.token_env
            ),
        };
        tracing::info!("dashboard at {}; sign in with {token}", started.url);
    }
    tracing::info!(
        "serving {} every {} s with the ledger {}; Ctrl-C or SIGTERM stops",
        names
            .iter()
            .map(|n| format!("campaign {}", shown(n)))
            .collect::<Vec<_>>()
            .join(", "),
        poll.as_secs(),
        config.ledger.path.display()
    );
    let inbox = match &config.serve.inbox {
        Some(dir) => {
            crate::platform::create_private_dir_all(dir).with_context(|| {
                format!(
                    "cannot create the inbox folder {} ([serve] inbox)",
                    dir.display()
                )
            })?;
            tracing::info!("taking inputs dropped into {}", dir.display());
            Some(Inbox::new(dir.clone()))
        }
        None => None,
    };
    let mut service = Service {
        cli,
        args,
        inbox,
        sign_ins: (None, None),
        poll,
        lock: Some(lock),
        control,
        status,
        slots: names.into_iter().map(Slot::new).collect(),
    };
    service.run(&woken)
}

/// The service's state besides [`Status`]: per campaign what was last said and when it may run.
struct Service<'a> {
    cli: &'a Cli,
    args: &'a ServeArgs,
    /// `[serve] inbox`, scanned before each round of passes.
    inbox: Option<Inbox>,
    /// When the sign-ins were last fetched from Graph (`[serve] sign_ins_refresh_hours`), and
    /// the last failure said.
    sign_ins: (Option<DateTime<Utc>>, Option<String>),
    poll: Duration,
    /// Lent to each pass and handed back; `None` only after a pass could not start.
    lock: Option<SendLock>,
    /// Signals, pauses and requests; a signal or pause raises the running pass's stop flag,
    /// and a pass that has not started its engine yet starts no message (the engine's own
    /// watcher would miss a signal that came before it).
    control: Arc<Control>,
    status: SharedStatus,
    slots: Vec<Slot>,
}

/// One campaign's schedule.
struct Slot {
    name: Option<String>,
    not_before: Option<DateTime<Utc>>,
    failures: u32,
    /// The last reason for holding back that was logged, so it is logged once per change.
    said: Option<String>,
    /// The input a pass refused: no pass until it changes.
    refused: Option<InputFiles>,
}

impl Slot {
    fn new(name: Option<String>) -> Slot {
        Slot {
            name,
            not_before: None,
            failures: 0,
            said: None,
            refused: None,
        }
    }

    /// Whether `why` is new since the last time it was said.
    fn first_time(&mut self, why: &str) -> bool {
        if self.said.as_deref() == Some(why) {
            return false;
        }
        self.said = Some(why.to_string());
        true
    }
}

/// Each file a pass reads with its modification time and size ([`fingerprint`]).
type InputFiles = Vec<(PathBuf, Option<SystemTime>, u64)>;

/// What a look at a campaign's audience found.
enum Look {
    /// Nobody due; how many were sent to.
    Nobody {
        sent: u64,
    },
    Due {
        due: usize,
        sent: u64,
    },
    Held(String),
}

impl Service<'_> {
    fn run(&mut self, woken: &Receiver<Wake>) -> anyhow::Result<Outcome> {
        loop {
            // Read once a round: the inbox, the Graph refresh and every campaign's pass see the
            // same config, and an edit between rounds is picked up.
            let config = Config::load(&self.cli.config).map_err(|e| e.to_string());
            if let Ok(config) = &config {
                self.scan_inbox(config);
                self.refresh_sign_ins(config);
            }
            // A pause holds the passes only: the inbox and the sign-ins are still taken.
            for i in 0..self.slots.len() {
                if let Some(name) = signalled(woken) {
                    return Ok(stopped(name));
                }
                if self.control.paused().is_some() {
                    break;
                }
                let name = self.slots[i].name.clone();
                let asked = self.control.requested(shown(&name)) != Requested::default();
                let ready = asked || self.slots[i].not_before.is_none_or(|t| t <= Utc::now());
                if ready && self.turn(i, &config) == After::Stop {
                    return Ok(Outcome::Interrupted);
                }
            }
            let next_poll = Utc::now() + chrono::Duration::from_std(self.poll)?;
            let wake = match self.control.paused() {
                Some(paused) => {
                    self.show_paused(&paused.by);
                    next_poll
                }
                None => self
                    .slots
                    .iter()
                    .filter_map(|s| s.not_before)
                    .fold(next_poll, DateTime::min),
            };
            let timeout = (wake - Utc::now()).to_std().unwrap_or_default();
            match woken.recv_timeout(timeout) {
                Ok(Wake::Signal(name)) => return Ok(stopped(name)),
                // A resume or a request: the next round at once.
                Ok(Wake::Control) | Err(RecvTimeoutError::Timeout) => {}
                // Never while `self.control` holds the sender; a plain sleep all the same.
                Err(RecvTimeoutError::Disconnected) => std::thread::sleep(timeout),
            }
        }
    }

    /// Shows every campaign as paused (but those held for a reason of their own).
    fn show_paused(&self, by: &str) {
        for i in 0..self.slots.len() {
            let held = {
                let status = self.status.lock().unwrap_or_else(|e| e.into_inner());
                matches!(status.campaigns[i].state, State::Held { .. })
            };
            if !held {
                self.set(i, State::Paused { by: by.into() }, None);
            }
        }
    }

    /// Takes what arrived in the inbox, logging each file (a damaged one with where its reasons
    /// are). A ledger or folder error is logged and the files stay for the next scan.
    fn scan_inbox(&mut self, config: &Config) {
        let Some(inbox) = self.inbox.as_mut() else {
            return;
        };
        let scanned = Ledger::open(&config.ledger.path)
            .map_err(anyhow::Error::new)
            .and_then(|mut ledger| Ok(inbox.scan(config, &mut ledger, Utc::now())?));
        let scan = match scanned {
            Ok(scan) => scan,
            Err(e) => {
                tracing::error!("inbox {}: {e:#}", inbox.dir().display());
                return;
            }
        };
        for a in &scan.arrivals {
            match &a.reason_file {
                None => tracing::info!(
                    "inbox: {} taken ({}): {}",
                    a.name,
                    a.moved_to.display(),
                    a.summary
                ),
                Some(reason) => tracing::warn!(
                    "inbox: {} rejected, nothing of it is used: {} (the reasons are in {})",
                    a.name,
                    a.errors
                        .first()
                        .map(String::as_str)
                        .unwrap_or("see the reason file"),
                    reason.display()
                ),
            }
        }
    }

    /// Fetches the sign-ins from Graph when `[serve] sign_ins_refresh_hours` says it is time. A
    /// failure is logged once per distinct message and tried again at the next poll.
    fn refresh_sign_ins(&mut self, config: &Config) {
        let Some(hours) = config.serve.sign_ins_refresh_hours else {
            return;
        };
        let now = Utc::now();
        let due = self
            .sign_ins
            .0
            .is_none_or(|last| now - last >= chrono::Duration::hours(i64::from(hours)));
        if !due {
            return;
        }
        let fetched = crate::cmd::sign_ins::fetch(config, true).and_then(|facts| {
            let mut ledger = Ledger::open(&config.ledger.path)?;
            Ok(ledger.record_sign_ins("graph", &facts, now)?)
        });
        match fetched {
            Ok(import) => {
                tracing::info!(
                    "sign-ins from Microsoft Graph: {} users, {} with a successful sign-in",
                    import.users,
                    import.signed_in
                );
                self.sign_ins = (Some(now), None);
            }
            Err(e) => {
                let why = format!("{e:#}");
                if self.sign_ins.1.as_deref() != Some(why.as_str()) {
                    tracing::error!(
                        "sign-ins from Microsoft Graph: {why}; tried again at the next poll"
                    );
                }
                self.sign_ins.1 = Some(why);
            }
        }
    }

    /// Looks at campaign `i` and runs its pass when people are due.
    fn turn(&mut self, i: usize, round: &Result<Config, String>) -> After {
        let name = self.slots[i].name.clone();
        let config = round
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|c| c.for_campaign(name.as_deref()).map_err(|e| e.to_string()));
        let config = match config {
            Ok(config) => config,
            Err(e) => return self.hold(i, e),
        };
        let mut args = send_args(&self.args.input, &self.args.moves, name.clone());
        let asked = self.control.requested(shown(&name));
        args.retry_failed = asked.retry_failed;
        args.resend_uncertain = asked.resend_uncertain;
        let inbox = self.inbox.as_ref().map(Inbox::dir);
        if let Err(e) = with_processed(&mut args.moves, inbox) {
            return self.hold(i, format!("{:#}", anyhow::Error::new(e)));
        }
        let due = match look(&config, &args) {
            Ok(Look::Nobody { sent }) => {
                tracing::debug!("campaign {}: nobody due", shown(&name));
                self.control.done(shown(&name), asked);
                self.set_audience(i, sent);
                self.set(i, State::Idle, None);
                self.slots[i].said = None;
                return After::Continue;
            }
            Ok(Look::Held(why)) => return self.hold(i, why),
            Ok(Look::Due { due, sent }) => {
                self.set_audience(i, sent + due as u64);
                due
            }
            Err(e) => return self.hold(i, format!("{e:#}")),
        };
        let inputs = fingerprint(&config, &args);
        if self.slots[i].refused.as_ref() == Some(&inputs) && asked == Requested::default() {
            return After::Continue;
        }
        self.slots[i].refused = None;
        self.slots[i].said = None;
        let lock = match self.lock.take() {
            Some(lock) => lock,
            None => match SendLock::acquire(&config.ledger.path) {
                Ok(lock) => lock,
                Err(e) => return self.hold(i, e.to_string()),
            },
        };
        tracing::info!("campaign {}: {due} people due; sending", shown(&name));
        self.set(i, State::Sending, None);
        let mailbox = config.sending_mailbox();
        let per_day = config.pacing.per_day;
        let ledger = config.ledger.path.clone();
        let pass = super::send::pass(self.cli, &args, config, lock, self.control.for_pass());
        self.lock = pass.lock;
        self.control.done(shown(&name), asked);
        let outcome = match &pass.result {
            Ok(outcome) => *outcome,
            Err(e) => {
                tracing::error!("campaign {}: {e:#}", shown(&name));
                crate::run::error_outcome(e)
            }
        };
        let now = Utc::now();
        let stop = pass.report.as_ref().and_then(|r| r.stop.as_ref());
        if let Some(StopReason::Paused { by }) = stop {
            tracing::info!(
                "campaign {}: paused by {by}; the messages in flight finished and were recorded",
                shown(&name)
            );
            self.slots[i].not_before = None;
            self.set(i, State::Paused { by: by.clone() }, Some(outcome));
            return After::Continue;
        }
        let after = crate::serve::after(outcome, now, self.poll, self.slots[i].failures, || {
            let frees = budget_frees(&ledger, &mailbox, per_day, now);
            let until = crate::serve::resume_at(stop, frees, now, self.poll);
            (until, crate::serve::pause_reason(stop, &mailbox))
        });
        self.settle(i, outcome, &after, inputs);
        after
    }

    /// Logs what `after` means for campaign `i` and keeps it in the status.
    fn settle(&mut self, i: usize, outcome: Outcome, after: &After, inputs: InputFiles) {
        let name = shown(&self.slots[i].name).to_string();
        let slot = &mut self.slots[i];
        slot.not_before = None;
        if !matches!(after, After::BackOff { .. }) {
            slot.failures = 0;
        }
        let state = match after {
            After::Continue => {
                match outcome {
                    Outcome::SomeFailed => tracing::warn!("campaign {name}: pass done; some people failed or are uncertain (`t2t-notify report` lists them)"),
                    Outcome::GateClosed => tracing::warn!("campaign {name}: the trust gate is closed; nothing was sent"),
                    _ => tracing::info!("campaign {name}: pass done"),
                }
                State::Idle
            }
            After::Blocked => {
                slot.refused = Some(inputs);
                let why = "the input has errors (listed above); the campaign runs again once its files change".to_string();
                tracing::warn!("campaign {name}: {why}");
                State::Held { why }
            }
            After::Wait { until, why } => {
                tracing::info!(
                    "campaign {name}: waiting until {} ({why})",
                    shown_time(*until)
                );
                slot.not_before = Some(*until);
                State::Waiting {
                    until: *until,
                    why: why.clone(),
                }
            }
            After::BackOff { until, failures } => {
                tracing::warn!(
                    "campaign {name}: the pass failed ({failures} in a row); trying again at {}",
                    shown_time(*until)
                );
                slot.failures = *failures;
                slot.not_before = Some(*until);
                State::BackingOff {
                    until: *until,
                    failures: *failures,
                }
            }
            After::Stop => State::Idle,
        };
        self.set(i, state, Some(outcome));
    }

    /// Campaign `i` sends nothing until `why` is fixed; said once per change.
    fn hold(&mut self, i: usize, why: String) -> After {
        if self.slots[i].first_time(&why) {
            tracing::warn!(
                "campaign {}: nothing is sent until this is fixed (looked at again every poll): {why}",
                shown(&self.slots[i].name)
            );
        }
        self.set(i, State::Held { why }, None);
        After::Continue
    }

    fn set_audience(&self, i: usize, audience: u64) {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        status.campaigns[i].audience = Some(audience);
    }

    fn set(&self, i: usize, state: State, outcome: Option<Outcome>) {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        let campaign = &mut status.campaigns[i];
        campaign.state = state;
        if let Some(outcome) = outcome {
            campaign.last_outcome = Some(outcome);
            campaign.last_pass = Some(Utc::now());
        }
    }
}

/// Adds the move-state exports and schedules the inbox took (`inbox`: its folder) to `moves`:
/// inputs of every pass and of the dashboard's journey, alongside `[inputs]`.
fn with_processed(
    moves: &mut MoveStateArgs,
    inbox: Option<&Path>,
) -> Result<(), crate::serve::inbox::InboxError> {
    if let Some(dir) = inbox {
        let found = processed_inputs(dir)?;
        moves.move_states.extend(found.move_states);
        moves.schedules.extend(found.schedules);
    }
    Ok(())
}

/// The `send` a pass runs: the service's inputs, the campaign, nothing else.
fn send_args(input: &InputArgs, moves: &MoveStateArgs, campaign: Option<String>) -> SendArgs {
    SendArgs {
        input: input.clone(),
        moves: moves.clone(),
        campaign,
        limit: None,
        test_to: None,
        retry_failed: false,
        resend_uncertain: false,
        directory_changed: false,
    }
}

/// Whether the campaign's audience has people the ledger lets a `send` send to (or a killed
/// run left people in flight, whom only a pass settles), without
/// printing anything: invalid input, stale sign-in evidence and a closed gate are the reason
/// to hold it (the pass would refuse the same way).
fn look(config: &Config, args: &SendArgs) -> anyhow::Result<Look> {
    if let Err(e) = super::campaign::check_schedule(config, &args.moves.schedules) {
        return Ok(Look::Held(e.to_string()));
    }
    let ledger = Ledger::open(&config.ledger.path)?;
    let reminder = config.active.kind() == crate::campaign::Kind::Reminder;
    let (facts, stale) = super::campaign::facts(config, reminder.then_some(&ledger), Utc::now())?;
    if let Some(why) = stale {
        return Ok(Look::Held(why));
    }
    let sources = crate::plan::Sources {
        facts: Some(&facts),
        ..super::inputs::sources(&args.input, &args.moves)
    };
    let plan = crate::plan::load(Some(config), sources, true)?;
    if plan.diagnostics.has_errors() {
        let errors: Vec<String> = plan.diagnostics.errors().map(|e| e.to_string()).collect();
        return Ok(Look::Held(format!(
            "the input has {} errors:\n{}",
            errors.len(),
            errors.join("\n")
        )));
    }
    let states = ledger.delivery_states(&config.active.name)?;
    // People a killed run left in flight: the pass settles them as uncertain and lists them.
    let left_in_flight = states.values().any(|s| *s == DeliveryState::InFlight);
    let sent = states
        .values()
        .filter(|s| **s == DeliveryState::Sent)
        .count() as u64;
    let selection = SendSelection::campaign(states, args.retry_failed, args.resend_uncertain);
    let due = plan
        .recipients
        .iter()
        .filter(|r| selection.decide(&r.ledger_key()).is_ok())
        .count()
        .max(usize::from(left_in_flight));
    if due == 0 {
        return Ok(Look::Nobody { sent });
    }
    if config.active.kind().gated() {
        let fresh = crate::gate::Freshness::from_config(config, plan.move_states.as_ref());
        let gate = crate::gate::check_with(config, &ledger, &fresh)?;
        if !gate.is_open() {
            return Ok(Look::Held(format!("the trust gate is closed:\n{gate}")));
        }
    }
    Ok(Look::Due { due, sent })
}

/// When the mailbox's day budget frees, from the ledger's submissions log (`None` when it
/// cannot be read: the engine's time is used).
fn budget_frees(
    ledger: &Path,
    mailbox: &str,
    per_day: u32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let ledger = Ledger::open(ledger).ok()?;
    let log = ledger
        .submissions_since(now - crate::serve::budget::window(), mailbox)
        .ok()?;
    crate::serve::budget::frees_at(&log, per_day, now)
}

/// The size and modification time of every file a pass reads (config, inputs, templates), to
/// tell when refused input has changed.
fn fingerprint(config: &Config, args: &SendArgs) -> InputFiles {
    let mut files: Vec<PathBuf> = vec![config.path.clone(), args.input.mapping.clone()];
    files.extend(args.input.directory.clone());
    files.extend(args.moves.move_states.iter().cloned());
    files.extend(args.moves.schedules.iter().cloned());
    let mut dirs = vec![config.message.templates.clone()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let meta = std::fs::metadata(&f).ok();
            let modified = meta.as_ref().and_then(|m| m.modified().ok());
            let len = meta.map_or(0, |m| m.len());
            (f, modified, len)
        })
        .collect()
}

/// Listens for Ctrl-C and SIGTERM on a thread of its own, so a signal is seen whatever the
/// loop is doing: each goes to `control` (which raises the running pass's stop flag and wakes
/// the loop). The listener is in place before this returns. Where signals cannot be listened
/// for, the service says so and runs on: it is stopped by ending the process, which the ledger
/// survives as it survives a kill.
fn listen(control: Arc<Control>) {
    let listener = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|runtime| {
            let signals = {
                let _context = runtime.enter();
                crate::platform::Signals::new()?
            };
            Ok((runtime, signals))
        });
    match listener {
        Ok((runtime, mut signals)) => {
            std::thread::spawn(move || {
                runtime.block_on(async move {
                    while let Some(name) = signals.next().await {
                        control.signal(name);
                    }
                })
            });
        }
        Err(e) => tracing::warn!(
            "cannot listen for Ctrl-C and SIGTERM ({e}); a stop ends the process at once (messages in flight are listed as uncertain at the next start)"
        ),
    }
}

/// The signal that came since the loop last looked, if any (other wakes are spent: the loop
/// is looking anyway).
fn signalled(woken: &Receiver<Wake>) -> Option<&'static str> {
    woken.try_iter().find_map(|w| match w {
        Wake::Signal(name) => Some(name),
        Wake::Control => None,
    })
}

fn stopped(signal: &str) -> Outcome {
    tracing::info!("stopped ({signal}) between passes; nothing was in flight");
    Outcome::Success
}

fn shown(name: &Option<String>) -> &str {
    name.as_deref().unwrap_or(crate::campaign::DEFAULT_NAME)
}

fn shown_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_said_once_until_it_changes() {
        let mut slot = Slot::new(Some("post-migration".into()));
        assert!(slot.first_time("gate closed"));
        assert!(!slot.first_time("gate closed"));
        assert!(slot.first_time("mapping line 3"));
        assert!(slot.first_time("gate closed"));
    }
}
