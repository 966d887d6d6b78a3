//! What `send` reads before any connection: the input (the plan, with every error printed,
//! the first warnings and who is held back) and the `--test-to` address. The notices
//! themselves are checked by [`super::check`].

use crate::campaign::Rule;
use crate::cli::SendArgs;
use crate::config::Config;
use crate::exit::InvalidInput;
use crate::inputs::address;
use crate::plan::{self, Plan};

/// How many users `--test-to` sends when `--limit` is not given.
pub const TEST_DEFAULT_LIMIT: usize = 3;
/// Warnings printed before sending; `validate` lists them all.
const WARNINGS_SHOWN: usize = 10;

/// The `--test-to` address, checked.
pub fn test_address(value: &str) -> Result<String, InvalidInput> {
    let value = value.trim();
    address::check_email(value).map_err(|why| InvalidInput(format!("--test-to {value}: {why}")))?;
    Ok(value.to_string())
}

/// Reads the mapping, directory and move-state exports into the plan, printing its errors,
/// the first warnings and who is held back. Its recipients are the ready users, the first
/// `--limit` of them. The caller stops when the plan has errors.
pub fn plan(config: &Config, args: &SendArgs, facts: &plan::Facts) -> anyhow::Result<Plan> {
    let sources = plan::Sources {
        facts: Some(facts),
        ..crate::cmd::inputs::sources(&args.input, &args.moves)
    };
    let mut plan = plan::load(Some(config), sources, true)?;
    for e in plan.diagnostics.errors() {
        eprintln!("{e}");
    }
    let warnings: Vec<_> = plan.diagnostics.warnings().collect();
    for w in warnings.iter().take(WARNINGS_SHOWN) {
        eprintln!("{w}");
    }
    if warnings.len() > WARNINGS_SHOWN {
        eprintln!(
            "... and {} more warnings (`t2t-notify validate` lists them all)",
            warnings.len() - WARNINGS_SHOWN
        );
    }
    if plan.diagnostics.has_errors() {
        eprintln!("error: the input has errors (listed above); nothing was sent");
        return Ok(plan);
    }
    print_held_back(config, &plan);
    let limit = args
        .limit
        .or(args.test_to.as_ref().map(|_| TEST_DEFAULT_LIMIT));
    if let Some(n) = limit {
        plan.recipients.truncate(n);
    }
    Ok(plan)
}

/// One line on the users the move-state exports hold back, `Failed` first.
fn print_held_back(config: &Config, plan: &Plan) {
    if plan.held_back_counts.is_empty() {
        return;
    }
    let held: u64 = plan.held_back_counts.values().sum();
    let reasons: Vec<String> = plan
        .held_back_counts
        .iter()
        .map(|(hold, n)| format!("{hold}: {n}"))
        .collect();
    match &config.active.rule {
        Rule::PostMove => eprintln!(
            "{held} users are held back by their move state and get no notice ({}); the summary lists them",
            reasons.join(", ")
        ),
        _ => eprintln!(
            "{held} people get no message of campaign {} in this run ({}); the summary lists them",
            config.active.name,
            reasons.join(", ")
        ),
    }
}
