//! `t2t-notify report`: every user's delivery state from the ledger, with totals, as a table,
//! JSON, CSV or a self-contained HTML page; `--batch` keeps one migration batch, and with
//! `--mapping` and `--move-state` the users the exports hold back are listed too. Read-only
//! (but for `--out`, written 0600); exit status 0.

mod format;
mod html;

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::cli::{Cli, ReportArgs, ReportFormat};
use crate::config::Config;
use crate::exit::Outcome;
use crate::ledger::deliveries::{DeliveryRow, TestSendRow};
use crate::ledger::Ledger;
use crate::plan::{self, Sources};

pub use format::{HeldRow, Report, Totals};
pub use html::{page, PageFacts};

/// Runs the command.
pub fn execute(cli: &Cli, args: &ReportArgs) -> anyhow::Result<Outcome> {
    let config = crate::run::load_config(cli)?;
    let (rows, tests) = read_ledger(&config, args)?;
    let held = held_back(&config, args)?;
    let report = Report::new(rows, tests).with_held_back(held);
    let bytes = match args.format {
        ReportFormat::Human => report.human().into_bytes(),
        ReportFormat::Json => {
            let mut json = serde_json::to_vec_pretty(&report.json())?;
            json.push(b'\n');
            json
        }
        ReportFormat::Csv => {
            for line in report.totals_lines() {
                eprintln!("{line}");
            }
            report.csv()?
        }
        ReportFormat::Html => page(&report, &page_facts(&config, args)).into_bytes(),
    };
    match &args.out {
        Some(path) => {
            write_private(path, &bytes)
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            eprintln!("Report written to {}", path.display());
        }
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    Ok(Outcome::Success)
}

/// The campaign's (or every campaign's) rows and test sends, only `--batch` when given.
fn read_ledger(
    config: &Config,
    args: &ReportArgs,
) -> anyhow::Result<(Vec<DeliveryRow>, Vec<TestSendRow>)> {
    let path = &config.ledger.path;
    if !path.exists() {
        eprintln!(
            "No ledger at {} yet: nothing has been sent.",
            path.display()
        );
        return Ok((Vec::new(), Vec::new()));
    }
    let ledger = Ledger::open(path)?;
    let campaign = args.campaign.as_deref();
    let mut rows = ledger.deliveries(campaign)?;
    let mut tests = ledger.test_sends(campaign)?;
    if let Some(batch) = &args.batch {
        let batches = batch_names(&rows);
        rows.retain(|r| r.batch.as_deref() == Some(batch.as_str()));
        tests.clear();
        if rows.is_empty() {
            eprintln!(
                "No user of batch `{batch}` in the ledger; its batches are: {}",
                if batches.is_empty() {
                    "none (nothing was sent with --move-state yet)".to_string()
                } else {
                    batches.join(", ")
                }
            );
        }
    }
    Ok((rows, tests))
}

fn batch_names(rows: &[DeliveryRow]) -> Vec<String> {
    let mut names: Vec<String> = rows.iter().filter_map(|r| r.batch.clone()).collect();
    names.sort();
    names.dedup();
    names
}

/// The users `--move-state` holds back (only `--batch` when given), `Failed` first; the
/// input's problems are printed (`validate` explains them), not fatal for a report.
fn held_back(config: &Config, args: &ReportArgs) -> anyhow::Result<Vec<HeldRow>> {
    let Some(mapping) = &args.mapping else {
        return Ok(Vec::new());
    };
    let sources = Sources {
        move_states: &args.move_states,
        ..Sources::new(mapping)
    };
    let mut plan = plan::load(Some(config), sources, true)?;
    for e in plan.diagnostics.errors() {
        eprintln!("{e}");
    }
    plan.held_back
        .sort_by(|a, b| (&a.hold, &a.user.source_upn).cmp(&(&b.hold, &b.user.source_upn)));
    Ok(plan
        .held_back
        .into_iter()
        .map(|h| {
            let entry = h.move_state.as_ref();
            HeldRow {
                source_upn: h.user.source_upn.clone(),
                target_upn: h.user.target_upn.clone(),
                hold: h.hold.to_string(),
                action_needed: h.hold.needs_action(),
                reason: h.reason.clone(),
                batch: entry.map(|e| e.batch.clone()),
                export: entry.map(|e| e.location()),
            }
        })
        .filter(|h| match &args.batch {
            Some(b) => h.batch.as_deref() == Some(b.as_str()),
            None => true,
        })
        .collect())
}

fn page_facts(config: &Config, args: &ReportArgs) -> PageFacts {
    PageFacts {
        generated: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        ledger: config.ledger.path.display().to_string(),
        campaign: args.campaign.clone(),
        batch: args.batch.clone(),
        exports: args
            .move_states
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    }
}

/// Writes `bytes` to `path` readable by the owner only (0600, also when the file existed).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = crate::platform::open_private(
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true),
        path,
    )?;
    file.write_all(bytes)?;
    file.sync_all()
}
