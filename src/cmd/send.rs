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
mod run;
mod same_directory;

use chrono::Utc;

use crate::cli::{Cli, SendArgs};
use crate::config::Config;
use crate::exit::{InvalidInput, Outcome};
use crate::gate;
use crate::ledger::deliveries::{Book, DeliveryRow};
use crate::ledger::lock::SendLock;
use crate::ledger::Ledger;
use crate::output::outln;
use crate::render::Renderer;
use crate::send::progress::Progress;
use crate::send::{stop, SendSelection, Settings};
use check::Notices;
use run::{Delivery, SendRun};

/// Runs the command, then writes, posts and mails the admin summary however the run ended
/// (once the config could be read: without it there is nowhere to write).
pub fn execute(cli: &Cli, args: &SendArgs) -> anyhow::Result<Outcome> {
    let config = super::campaign::config(&cli.config, args.campaign.as_deref())?;
    let mut run = SendRun::new(config)?;
    let result = send(cli, args, &mut run);
    after::summarize(&mut run, args, &result);
    run.finish();
    result
}

/// How one pass of `serve` ended: the outcome as `send` would exit with it, why the engine
/// stopped (its resume time), and the send lock handed back (`None` only when the pass could
/// not start its runtime; the caller takes the lock again).
pub struct Pass {
    pub result: anyhow::Result<Outcome>,
    pub report: Option<crate::send::RunSummary>,
    pub lock: Option<SendLock>,
}

/// One campaign pass of `serve`: the whole `send` command (checks, gate, engine, admin
/// summary) on `config`, with the send lock the caller holds for its whole life. Raising
/// `interrupt` stops the notices' engine run from starting messages, as a first Ctrl-C does.
pub fn pass(
    cli: &Cli,
    args: &SendArgs,
    config: Config,
    lock: SendLock,
    interrupt: stop::Stop,
) -> Pass {
    let mut run = match SendRun::with_lock(config, Some(lock)) {
        Ok(run) => run,
        Err(e) => {
            return Pass {
                result: Err(e),
                report: None,
                lock: None,
            }
        }
    };
    run.interrupt = Some(interrupt);
    let result = send(cli, args, &mut run);
    after::summarize(&mut run, args, &result);
    let report = run.report.take();
    Pass {
        result,
        report,
        lock: run.finish(),
    }
}

fn send(cli: &Cli, args: &SendArgs, run: &mut SendRun) -> anyhow::Result<Outcome> {
    let test_to = args
        .test_to
        .as_deref()
        .map(prepare::test_address)
        .transpose()?;
    super::campaign::check_schedule(&run.config, &args.moves.schedules)?;
    let facts = audience_facts(run, test_to.is_some())?;
    let config = &run.config;
    let plan = run.plan.insert(prepare::plan(config, args, &facts)?);
    if plan.diagnostics.has_errors() {
        run.message = Some(format!(
            "the input has {} errors (input.errors lists them); nothing was sent",
            plan.diagnostics.errors().count()
        ));
        return Ok(Outcome::Invalid);
    }
    let people = std::mem::take(&mut plan.recipients);
    let renderer = Renderer::new(config).map_err(InvalidInput::because)?;
    for line in crate::render::fallbacks::Fallbacks::of(&renderer, &people).lines() {
        tracing::warn!("locale fallback: {line}");
    }
    let selection = selection(
        run.ledger.open()?,
        &config.active.name,
        args,
        test_to.is_some(),
    )?;
    let total = people.len() as u64;
    let campaign = config.active.name.clone();
    let notices = Notices::new(renderer, &campaign, test_to.clone().map(|a| vec![a]));
    let candidates = match check::check(&notices, people, &selection) {
        Ok(candidates) => candidates,
        Err(problems) => {
            run.message = Some(format!(
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
        crate::transport::from_config(&run.config).map_err(InvalidInput::because)?;
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let moves = run.plan.as_ref().and_then(|p| p.move_states.as_ref());
    let fresh = gate::Freshness::from_config(&run.config, moves);
    if config.active.kind().gated() {
        let gate = gate::check_with(&run.config, run.ledger.open()?, &fresh)?;
        let gate = run.gate.insert(gate);
        match (&test_to, gate.is_open()) {
            (None, false) => {
                eprintln!("{gate}\nNothing was sent.");
                return Ok(Outcome::GateClosed);
            }
            (Some(_), false) => {
                tracing::info!("the trust gate is closed; a --test-to send is allowed")
            }
            _ => {}
        }
    } else {
        tracing::info!(
            "campaign {campaign} is a pre-move warning: it is not gated on the trust removal (the trust must still exist before the move)"
        );
    }
    if test_to.is_none() {
        let directory = args.input.directory.as_deref();
        let allow = args.directory_changed;
        same_directory::check(run.ledger.open()?, &campaign, directory, allow)?;
    }
    list_uncertain(&run.ledger.open()?.settle_leftover_in_flight()?);
    tracing::info!(
        "sending {to_send} notices of campaign {campaign} with {}{}{}",
        transport.describe(),
        test_to
            .as_deref()
            .map(|a| format!(", all to {a} (test)"))
            .unwrap_or_default(),
        skipped_note(total - to_send, total)
    );
    let delivery = Delivery {
        settings: Settings::new(&run.config, transport.as_ref()),
        transport: std::sync::Arc::clone(&transport),
        selection,
        progress: Progress::auto(Some(total), cli.quiet),
        total: Some(total),
    };
    let book = book(&campaign, test_to.as_deref());
    let (summary, recorded) = run.deliver(book, delivery, candidates.into_iter())?;
    let summary = run.report.insert(summary);
    outln!("{}", summary.render(Utc::now()).trim_end());
    for note in transport.notes() {
        outln!("Note: {note}");
    }
    if let Err(e) = recorded {
        eprintln!("error: {e}");
        run.message = Some(format!("the last outcomes could not be recorded: {e}"));
        return Ok(Outcome::Failure);
    }
    if let Some(stop::StopReason::Fatal { reason }) = &summary.stop {
        // The summary on stdout says it too; stderr gets the error whichever write failed
        // first (the in-flight marks or the outcomes).
        eprintln!("error: {reason}");
    }
    Ok(summary.outcome())
}

/// The clock and, for a reminder, what the ledger knows; a reminder without fresh sign-in
/// evidence is refused (a `--test-to` run only warns: it changes nobody's state).
fn audience_facts(run: &mut SendRun, test: bool) -> anyhow::Result<crate::plan::Facts> {
    let reminder = run.config.active.kind() == crate::campaign::Kind::Reminder;
    let ledger = if reminder {
        Some(&*run.ledger.open()?)
    } else {
        None
    };
    let (facts, stale) = super::campaign::facts(&run.config, ledger, Utc::now())?;
    match stale {
        Some(why) if !test => Err(InvalidInput(format!("{why}. Nothing was sent.")).into()),
        Some(why) => {
            tracing::warn!("{why}");
            Ok(facts)
        }
        None => Ok(facts),
    }
}

/// Whom the ledger lets this run send to (everyone in a `--test-to` run).
fn selection(
    ledger: &Ledger,
    campaign: &str,
    args: &SendArgs,
    test: bool,
) -> anyhow::Result<SendSelection> {
    if test {
        return Ok(SendSelection::test());
    }
    Ok(SendSelection::campaign(
        ledger.delivery_states(campaign)?,
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
