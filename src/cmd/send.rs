//! `t2t-notify send`: checks everything that can be checked before a connection is made (the
//! input, every notice the ledger lets this run send rendered and link-checked, the transport
//! settings, the trust gate), then hands the checked notices to the sending engine with the
//! ledger's resume rules, and prints a summary.
//! `--test-to ADDR` sends the first few notices to one address, allowed before the gate opens
//! and recorded apart. With `--move-state` exports only users whose move succeeded are sent to.
//! However the run ends, the admin summary follows (`after`).

mod after;
mod check;
mod prepare;
mod same_directory;

use std::time::Duration;

use anyhow::Context;
use chrono::Utc;

use crate::cli::{Cli, SendArgs};
use crate::config::Config;
use crate::exit::{InvalidInput, Outcome};
use crate::gate;
use crate::ledger::deliveries::{Book, DeliveryRow};
use crate::ledger::lock::SendLock;
use crate::ledger::writer::{CommitPolicy, LedgerWriter};
use crate::ledger::Ledger;
use crate::output::outln;
use crate::render::Renderer;
use crate::send::progress::Progress;
use crate::send::{engine, stop, Candidate, Run, Selection, Settings, Stop, Summary};
use after::Trace;
use check::Notices;

/// Runs the command, then writes, posts and mails the admin summary however the run ended
/// (once the config could be read: without it there is nowhere to write).
pub fn execute(cli: &Cli, args: &SendArgs) -> anyhow::Result<Outcome> {
    let config = crate::run::load_config(cli)?;
    let mut trace = Trace::new(Utc::now());
    let result = send(cli, &config, args, &mut trace);
    after::summarize(&config, args, trace, &result);
    result
}

fn send(cli: &Cli, config: &Config, args: &SendArgs, trace: &mut Trace) -> anyhow::Result<Outcome> {
    let test_to = args
        .test_to
        .as_deref()
        .map(prepare::test_address)
        .transpose()?;
    let plan = trace.plan.insert(prepare::plan(config, args)?);
    if plan.diagnostics.has_errors() {
        trace.message = Some(format!(
            "the input has {} errors (input.errors lists them); nothing was sent",
            plan.diagnostics.errors().count()
        ));
        return Ok(Outcome::Invalid);
    }
    let people = std::mem::take(&mut plan.recipients);
    let renderer = Renderer::new(config).map_err(|e| InvalidInput(e.to_string()))?;
    for line in crate::render::fallbacks::Fallbacks::of(&renderer, &people).lines() {
        tracing::warn!("locale fallback: {line}");
    }
    trace.lock = Some(SendLock::acquire(&config.ledger.path)?);
    let ledger = trace.ledger.insert(Ledger::open(&config.ledger.path)?);
    let selection = selection(ledger, args, test_to.is_some())?;
    let total = people.len() as u64;
    let notices = Notices::new(renderer, &args.campaign, test_to.clone().map(|a| vec![a]));
    let candidates = match check::check(&notices, people, &selection) {
        Ok(candidates) => candidates,
        Err(problems) => {
            trace.message = Some(format!(
                "the notices did not pass the render and link check; nothing was sent: {}",
                problems.join("; ")
            ));
            return Ok(Outcome::Invalid);
        }
    };
    let to_send = candidates
        .iter()
        .filter(|c| matches!(c.decision(), Some(Ok(_))))
        .count() as u64;
    let (transport, warnings) =
        crate::transport::from_config(config).map_err(|e| InvalidInput(e.to_string()))?;
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let mut ledger = trace.ledger.take().expect("the ledger was opened above");
    let moves = trace.plan.as_ref().and_then(|p| p.move_states.as_ref());
    let fresh = gate::Freshness::from_config(config, moves);
    let gate = trace
        .gate
        .insert(gate::check_with(config, &ledger, &fresh)?);
    match (&test_to, gate.is_open()) {
        (None, false) => {
            eprintln!("{gate}\nNothing was sent.");
            trace.ledger = Some(ledger);
            return Ok(Outcome::GateClosed);
        }
        (Some(_), false) => tracing::info!("the trust gate is closed; a --test-to send is allowed"),
        _ => {}
    }
    if test_to.is_none() {
        let directory = args.input.directory.as_deref();
        let allow = args.directory_changed;
        if let Err(e) = same_directory::check(&ledger, &args.campaign, directory, allow) {
            trace.ledger = Some(ledger);
            return Err(e);
        }
    }
    list_uncertain(&ledger.settle_leftover_in_flight()?);
    let history = ledger.submissions_since(Utc::now() - chrono::Duration::hours(24))?;
    let book = book(&args.campaign, test_to.as_deref());
    tracing::info!(
        "sending {to_send} notices of campaign {} with {}{}{}",
        args.campaign,
        transport.describe(),
        test_to
            .as_deref()
            .map(|a| format!(", all to {a} (test)"))
            .unwrap_or_default(),
        skipped_note(total - to_send, total)
    );
    let writer = LedgerWriter::spawn(ledger, book, CommitPolicy::default())?;
    let run = Run {
        settings: Settings::new(config, transport.as_ref()),
        transport: std::sync::Arc::clone(&transport),
        writer: writer.handle(),
        selection,
        history,
        stop: Stop::new(),
        progress: Progress::auto(Some(total), cli.quiet),
        total: Some(total),
    };
    let summary = trace
        .engine
        .insert(run_engine(run, candidates.into_iter())?);
    let (ledger, recorded) = writer.finish();
    trace.ledger = Some(ledger);
    outln!("{}", summary.render(Utc::now()).trim_end());
    for note in transport.notes() {
        outln!("Note: {note}");
    }
    if let Err(e) = recorded {
        eprintln!("error: {e}");
        trace.message = Some(format!("the last outcomes could not be recorded: {e}"));
        return Ok(Outcome::Failure);
    }
    if let Some(stop::StopReason::Fatal { reason }) = &summary.stop {
        // The summary on stdout says it too; stderr gets the error whichever write failed
        // first (the in-flight marks or the outcomes).
        eprintln!("error: {reason}");
    }
    Ok(summary.outcome())
}

/// Whom the ledger lets this run send to (everyone in a `--test-to` run).
fn selection(ledger: &Ledger, args: &SendArgs, test: bool) -> anyhow::Result<Selection> {
    if test {
        return Ok(Selection::test());
    }
    Ok(Selection::campaign(
        ledger.delivery_states(&args.campaign)?,
        args.retry_failed,
        args.resend_uncertain,
    ))
}

/// Where this run's attempts are recorded.
fn book(campaign: &str, test_to: Option<&str>) -> Book {
    match test_to {
        Some(to) => Book::Test {
            campaign: campaign.to_string(),
            run: crate::ledger::deliveries::timestamp(Utc::now()),
            to: to.to_string(),
        },
        None => Book::Campaign {
            campaign: campaign.to_string(),
        },
    }
}

/// Runs the engine on a single-threaded tokio runtime, with Ctrl-C handling. The engine's
/// async work is waiting on sockets; the CPU work (building messages, the ledger) has threads
/// of its own. A second executor thread only moved tasks and wake-ups between two threads
/// (with pacing off, 20,000 notices took 1.36 s with two, 1.17 s with one; BENCHMARKS.md).
fn run_engine<I>(run: Run, candidates: I) -> anyhow::Result<Summary>
where
    I: Iterator<Item = Candidate> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let stop = run.stop.clone();
    let writer = run.writer.clone();
    let summary = runtime.block_on(async move {
        let watcher = stop::watch_ctrl_c(stop, move || async move {
            let _ = tokio::time::timeout(Duration::from_secs(3), writer.flush()).await;
        });
        let summary = engine::run(run, candidates).await;
        watcher.abort();
        summary
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(summary)
}

/// Lists the users a killed run left in flight: they may have their notice.
fn list_uncertain(rows: &[DeliveryRow]) {
    if rows.is_empty() {
        return;
    }
    eprintln!(
        "{} users were in flight when an earlier run stopped; they may have received the notice and are now `uncertain` (sent again only with --resend-uncertain):",
        rows.len()
    );
    const SHOWN: usize = 50;
    for row in rows.iter().take(SHOWN) {
        eprintln!(
            "  {} ({}, {})",
            row.user_key,
            row.campaign,
            row.message_id.as_deref().unwrap_or("-")
        );
    }
    if rows.len() > SHOWN {
        eprintln!(
            "  ... and {} more (`t2t-notify report` lists them all)",
            rows.len() - SHOWN
        );
    }
}

/// `; 30 of 30 people skipped (the summary says why)` when the ledger skips anyone.
fn skipped_note(skipped: u64, total: u64) -> String {
    match skipped {
        0 => String::new(),
        n => format!("; {n} of {total} people skipped (the summary says why)"),
    }
}
