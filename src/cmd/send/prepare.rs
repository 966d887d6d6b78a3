//! What `send` checks before any connection: the input, every notice rendered and
//! link-checked (in parallel), and the `--test-to` address; and the lazily rendered candidates
//! it hands to the engine (rendered again when sent: the bytes previewed and checked are the
//! bytes sent, but for the `Date` header).

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::cli::SendArgs;
use crate::config::Config;
use crate::exit::InvalidInput;
use crate::inputs::address;
use crate::plan::{self, Plan, Recipient, Sources};
use crate::render::Renderer;
use crate::send::{Candidate, Job};

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
pub fn plan(config: &Config, args: &SendArgs) -> anyhow::Result<Plan> {
    let sources = Sources {
        directory: args.input.directory.as_deref(),
        move_states: &args.moves.move_states,
        batch: args.moves.batch.as_deref(),
        ..Sources::new(&args.input.mapping)
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
    print_held_back(&plan);
    let limit = args
        .limit
        .or(args.test_to.as_ref().map(|_| TEST_DEFAULT_LIMIT));
    if let Some(n) = limit {
        plan.recipients.truncate(n);
    }
    Ok(plan)
}

/// One line on the users the move-state exports hold back, `Failed` first.
fn print_held_back(plan: &Plan) {
    if plan.held_back_counts.is_empty() {
        return;
    }
    let held: u64 = plan.held_back_counts.values().sum();
    let reasons: Vec<String> = plan
        .held_back_counts
        .iter()
        .map(|(hold, n)| format!("{hold}: {n}"))
        .collect();
    eprintln!(
        "{held} users are held back by their move state and get no notice ({}); the summary lists them",
        reasons.join(", ")
    );
}

/// Renders every notice and checks its links; prints each distinct problem once with how many
/// people it concerns, and returns those lines (empty when all are fine).
pub fn render_check(
    renderer: &Renderer,
    people: &[Recipient],
    campaign: &str,
    to: Option<&[String]>,
) -> Vec<String> {
    let problems: Vec<(String, &str)> = people
        .par_iter()
        .flat_map_iter(|r| {
            let who = r.user.source_upn.as_str();
            let found = match renderer.render(r, campaign, to) {
                Ok(rendered) => rendered.link_errors,
                Err(e) => vec![e.to_string()],
            };
            found.into_iter().map(move |p| (p, who))
        })
        .collect();
    let mut grouped: Vec<(String, usize, &str)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (problem, who) in problems {
        match index.get(&problem) {
            Some(&i) => grouped[i].1 += 1,
            None => {
                index.insert(problem.clone(), grouped.len());
                grouped.push((problem, 1, who));
            }
        }
    }
    let lines: Vec<String> = grouped
        .iter()
        .map(|(problem, count, who)| {
            let people = if *count == 1 {
                who.to_string()
            } else {
                format!("{count} people, e.g. {who}")
            };
            format!("{problem} ({people})")
        })
        .collect();
    for line in &lines {
        eprintln!("error: {line}");
    }
    if !lines.is_empty() {
        eprintln!("error: the notices did not pass the render and link check; nothing was sent (`t2t-notify preview` shows them)");
    }
    lines
}

/// The engine's candidates: one per person, rendered only if the ledger says to send.
pub fn candidates(
    renderer: Arc<Renderer>,
    people: Vec<Recipient>,
    campaign: &str,
    to: Option<Vec<String>>,
) -> impl Iterator<Item = Candidate> + Send + 'static {
    let campaign: Arc<str> = campaign.into();
    let to: Option<Arc<[String]>> = to.map(Into::into);
    people.into_iter().map(move |r| {
        let key = r.user.source_upn.to_lowercase();
        let (renderer, campaign, to) = (Arc::clone(&renderer), Arc::clone(&campaign), to.clone());
        Candidate::new(key.clone(), move || {
            job(&renderer, &r, &campaign, to.as_deref(), key)
        })
    })
}

fn job(
    renderer: &Renderer,
    r: &Recipient,
    campaign: &str,
    to: Option<&[String]>,
    key: String,
) -> Result<Job, String> {
    let rendered = renderer
        .render(r, campaign, to)
        .map_err(|e| e.to_string())?;
    if !rendered.link_errors.is_empty() {
        return Err(rendered.link_errors.join("; "));
    }
    Ok(Job {
        key,
        envelope: rendered.envelope,
        message: rendered.bytes,
        message_id: rendered.message_id,
        content_hash: rendered.content_sha256,
        batch: r.move_state.as_ref().map(|m| m.batch.clone()),
    })
}
