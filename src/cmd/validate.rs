//! `t2t-notify validate`: check the mapping (and directory and move-state exports) and report
//! every problem; with exports, also how many users are ready and why the others are held back.

use serde_json::json;

use crate::cli::{Cli, Format, ValidateArgs};
use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::exit::Outcome;
use crate::inputs::move_state::MoveState;
use crate::output::outln;
use crate::plan::{self, Hold};

pub fn execute(cli: &Cli, args: &ValidateArgs) -> anyhow::Result<Outcome> {
    let config = optional_config(cli)?;
    let sources = super::inputs::sources(&args.input, &args.moves);
    let mut plan = plan::load(config.as_ref(), sources, false)?;
    if config.is_none() {
        plan.diagnostics.warning(
            &cli.config.display().to_string().into(),
            None,
            "no config file, so column 2 was not compared with [source].tenant_id; pass --config",
        );
    }
    match args.format {
        Format::Human => print_human(&args.input.mapping.display().to_string(), &plan),
        Format::Json => print_json(&plan)?,
    }
    Ok(if plan.diagnostics.has_errors() {
        Outcome::Invalid
    } else {
        Outcome::Success
    })
}

/// The config when it exists; a missing default `./t2t-notify.toml` is allowed for `validate`.
fn optional_config(cli: &Cli) -> anyhow::Result<Option<Config>> {
    let default = std::path::Path::new("t2t-notify.toml");
    if cli.config == default && !default.exists() {
        return Ok(None);
    }
    Ok(Some(Config::load(&cli.config)?))
}

fn print_human(mapping: &str, plan: &plan::Plan) {
    for d in plan.diagnostics.sorted() {
        eprintln!("{d}");
    }
    let errors = plan.diagnostics.errors().count();
    let warnings = plan.diagnostics.warnings().count();
    let verdict = if errors == 0 { "valid" } else { "NOT valid" };
    outln!(
        "{mapping}: {verdict}: {} users, {} groups, {errors} errors, {warnings} warnings",
        plan.users,
        plan.groups
    );
    if let Some(states) = &plan.move_states {
        let files: Vec<&str> = states.files().iter().map(|f| f.as_ref()).collect();
        outln!(
            "move states from {} export(s) ({}):",
            files.len(),
            files.join(", ")
        );
        outln!("  ready to notify (Success): {}", plan.ready);
        let held: u64 = plan.held_back_counts.values().sum();
        outln!("  held back: {held}");
        for (hold, count) in &plan.held_back_counts {
            let note = if *hold == Hold::State(MoveState::Failed) {
                " (the migration team must retry these moves)"
            } else {
                ""
            };
            outln!("    {hold}: {count}{note}");
        }
    }
}

fn print_json(plan: &plan::Plan) -> anyhow::Result<()> {
    let list = |d: &Diagnostics, errors: bool| -> Vec<serde_json::Value> {
        d.sorted()
            .into_iter()
            .filter(|x| (x.severity == crate::diag::Severity::Error) == errors)
            .map(json_of)
            .collect()
    };
    let mut out = json!({
        "users": plan.users,
        "groups": plan.groups,
        "warnings": list(&plan.diagnostics, false),
        "errors": list(&plan.diagnostics, true),
    });
    if let Some(states) = &plan.move_states {
        let held: Vec<serde_json::Value> = plan
            .held_back_counts
            .iter()
            .map(|(hold, count)| json!({"reason": hold.to_string(), "hold": hold, "count": count}))
            .collect();
        out["move_states"] = json!({
            "exports": states.files().iter().map(|f| f.as_ref()).collect::<Vec<&str>>(),
            "ready": plan.ready,
            "held_back": held,
        });
    }
    outln!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn json_of(d: &Diagnostic) -> serde_json::Value {
    json!({
        "file": d.file.as_ref(),
        "line": d.line,
        "column": d.column.as_ref().map(|c| c.index),
        "column_name": d.column.as_ref().map(|c| c.name.as_str()),
        "message": d.message,
    })
}
