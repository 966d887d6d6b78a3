//! `t2t-notify report`: every user's delivery state from the ledger, with totals, as a table,
//! JSON, CSV or a self-contained HTML page; `--batch` keeps one migration batch. With
//! `--mapping` (default: `[inputs]`), mapped users the campaign never tried are listed as
//! pending, and with `--move-state` too, the users the exports hold back; `--directory` gives
//! the plan what `send` had (a guest's Mail), so nobody `send` would mail is shown held back. Read-only (but for `--out`, written
//! 0600); exit status 0, or 1 when the ledger cannot be read.

mod format;
mod html;
pub mod journey;

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use anyhow::Context;

use crate::cli::{Cli, ReportArgs, ReportFormat};
use crate::config::Config;
use crate::exit::{InvalidInput, Outcome};
use crate::ledger::deliveries::{DeliveryRow, DeliveryState, TestSendRow};
use crate::ledger::Ledger;
use crate::plan::{self, Sources};

pub use format::{HeldRow, Report};
pub use html::{page, PageFacts};

pub fn execute(cli: &Cli, args: &ReportArgs) -> anyhow::Result<Outcome> {
    let config = Config::load(&cli.config)?;
    if args.journey {
        return execute_journey(cli, &config, args);
    }
    let (mut rows, tests) = read_ledger(&config, args)?;
    let held = match &args.mapping {
        Some(mapping) => {
            let plan = load_plan(&config, args, mapping)?;
            rows.extend(never_tried(&config, &plan, &rows, args));
            held_back(plan, args)
        }
        None => Vec::new(),
    };
    let report = Report::new(rows, tests, held);
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
    write_out(args, &bytes)
}

/// The report to `--out` (owner-only) or standard output.
fn write_out(args: &ReportArgs, bytes: &[u8]) -> anyhow::Result<Outcome> {
    match &args.out {
        Some(path) => {
            crate::notify::file::write_private(path, bytes)
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            eprintln!("Report written to {}", path.display());
        }
        None => crate::output::bytes(bytes),
    }
    Ok(Outcome::Success)
}

/// `report --journey`: every mapped person's journey, from the plan and the whole ledger.
fn execute_journey(cli: &Cli, config: &Config, args: &ReportArgs) -> anyhow::Result<Outcome> {
    let Some(mapping) = &args.mapping else {
        return Err(InvalidInput(format!(
            "report --journey follows the people of the identity mapping: pass --mapping FILE, or name it in {} as [inputs] mapping = \"identity-map.csv\"",
            cli.config.display()
        ))
        .into());
    };
    let plan = load_plan(config, args, mapping)?;
    let path = &config.ledger.path;
    if !path.exists() {
        eprintln!(
            "No ledger at {} yet: nothing has been sent.",
            path.display()
        );
    }
    let now = chrono::Utc::now();
    let report = journey_of(config, &plan, now)?;
    let bytes = match args.format {
        ReportFormat::Human => journey::text::human(&report).into_bytes(),
        ReportFormat::Json => {
            let mut json = serde_json::to_vec_pretty(&report)?;
            json.push(b'\n');
            json
        }
        ReportFormat::Csv => {
            for line in journey::text::funnel_lines(&report) {
                eprintln!("{line}");
            }
            journey::text::csv(&report)?
        }
        ReportFormat::Html => {
            let facts = journey::page::PageFacts {
                generated: now.format("%Y-%m-%d %H:%M UTC").to_string(),
                ledger: path.display().to_string(),
                mapping: mapping.display().to_string(),
            };
            journey::page::page(&report, &facts).into_bytes()
        }
    };
    write_out(args, &bytes)
}

/// The journey of the plan's people from the ledger (empty when there is no ledger yet).
pub fn journey_of(
    config: &Config,
    plan: &plan::Plan,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<journey::JourneyReport> {
    let people = journey::Person::of_plan(plan);
    let path = &config.ledger.path;
    let (deliveries, sign_ins, submissions) = if path.exists() {
        let ledger = Ledger::open(path)?;
        (
            ledger.deliveries(None)?,
            ledger.sign_ins()?,
            ledger.submissions_log()?,
        )
    } else {
        Default::default()
    };
    let campaigns = journey::Campaigns::of_config(&config.campaigns);
    Ok(journey::build(journey::Sources {
        people: &people,
        campaigns: &campaigns,
        deliveries: &deliveries,
        sign_ins: &sign_ins,
        submissions: &submissions,
        per_day: config.pacing.per_day,
        now,
    }))
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
        let batches: BTreeSet<&str> = rows.iter().filter_map(|r| r.batch.as_deref()).collect();
        let batches = Vec::from_iter(batches).join(", ");
        rows.retain(|r| r.batch.as_deref() == Some(batch.as_str()));
        tests.clear();
        if rows.is_empty() {
            eprintln!(
                "No user of batch `{batch}` in the ledger; its batches are: {}",
                if batches.is_empty() {
                    "none (nothing was sent with --move-state yet)"
                } else {
                    &batches
                }
            );
        }
    }
    Ok((rows, tests))
}

/// The mapping (and directory and move-state exports); the input's problems are printed (`validate`
/// explains them), not fatal for a report.
fn load_plan(config: &Config, args: &ReportArgs, mapping: &Path) -> anyhow::Result<plan::Plan> {
    let sources = Sources {
        directory: args.directory.as_deref(),
        move_states: &args.move_states,
        ..Sources::new(mapping)
    };
    let plan = plan::load(Some(config), sources, true)?;
    for e in plan.diagnostics.errors() {
        eprintln!("{e}");
    }
    Ok(plan)
}

/// What the report says of a mapped user the campaign has no row for.
pub const NEVER_TRIED: &str = "not yet sent: in the mapping, never tried";

/// A pending row for every user `send` would notify (only `--batch` when given) that a
/// campaign of the report has never tried: a paused or unfinished campaign shows who is
/// still waiting. The campaigns are `--campaign`, else those in the ledger; post-move ones only.
fn never_tried(
    config: &Config,
    plan: &plan::Plan,
    rows: &[DeliveryRow],
    args: &ReportArgs,
) -> Vec<DeliveryRow> {
    let mut campaigns: BTreeSet<&str> = match &args.campaign {
        Some(c) => BTreeSet::from([c.as_str()]),
        None => rows.iter().map(|r| r.campaign.as_str()).collect(),
    };
    // The plan is the post-move audience: a warning or a reminder goes to others (`--journey`
    // shows who got which).
    campaigns.retain(|name| {
        let kind = config
            .campaigns
            .iter()
            .find(|c| c.name == *name)
            .map(|c| c.kind);
        kind.is_none_or(|k| k == crate::campaign::Kind::PostMove)
    });
    if campaigns.is_empty() && !plan.recipients.is_empty() {
        eprintln!(
            "No campaign in the ledger yet: none of the {} mapped users ready to notify was sent a notice.",
            plan.recipients.len()
        );
    }
    let tried: HashSet<(&str, &str)> = rows
        .iter()
        .map(|r| (r.campaign.as_str(), r.user_key.as_str()))
        .collect();
    let mut out = Vec::new();
    for campaign in &campaigns {
        for r in &plan.recipients {
            let key = r.user.source_upn.to_lowercase();
            let batch = r.move_state.as_ref().map(|m| m.batch.clone());
            let in_batch = args.batch.is_none() || args.batch == batch;
            if in_batch && !tried.contains(&(campaign, key.as_str())) {
                out.push(DeliveryRow {
                    campaign: campaign.to_string(),
                    user_key: key,
                    state: DeliveryState::Pending,
                    attempts: 0,
                    recipients: r.to.clone(),
                    message_id: None,
                    content_hash: None,
                    last_reply: Some(NEVER_TRIED.into()),
                    batch,
                    first_attempt_at: None,
                    last_attempt_at: None,
                    sent_at: None,
                    updated_at: String::new(),
                });
            }
        }
    }
    out
}

/// The users `--move-state` holds back (only `--batch` when given), `Failed` first.
fn held_back(mut plan: plan::Plan, args: &ReportArgs) -> Vec<HeldRow> {
    plan.held_back
        .sort_by_cached_key(|h| (h.hold.clone(), h.user.source_upn.clone()));
    plan.held_back
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
        .filter(|h| args.batch.is_none() || h.batch == args.batch)
        .collect()
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
