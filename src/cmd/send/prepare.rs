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
use crate::plan::{self, Recipient, Sources};
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

/// The people this run is about (the first `--limit` of the mapping), or `None` after
/// printing the input's errors.
pub fn people(config: &Config, args: &SendArgs) -> anyhow::Result<Option<Vec<Recipient>>> {
    let sources = Sources {
        directory: args.input.directory.as_deref(),
        ..Sources::new(&args.input.mapping)
    };
    let plan = plan::load(Some(config), sources, true)?;
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
        return Ok(None);
    }
    let limit = args
        .limit
        .or(args.test_to.as_ref().map(|_| TEST_DEFAULT_LIMIT));
    let mut people = plan.recipients;
    if let Some(n) = limit {
        people.truncate(n);
    }
    Ok(Some(people))
}

/// Renders every notice and checks its links; prints each distinct problem once with how many
/// people it concerns. True when all are fine.
pub fn render_check(
    renderer: &Renderer,
    people: &[Recipient],
    campaign: &str,
    to: Option<&[String]>,
) -> bool {
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
    for (problem, count, who) in &grouped {
        let people = if *count == 1 {
            who.to_string()
        } else {
            format!("{count} people, e.g. {who}")
        };
        eprintln!("error: {problem} ({people})");
    }
    if !grouped.is_empty() {
        eprintln!("error: the notices did not pass the render and link check; nothing was sent (`t2t-notify preview` shows them)");
    }
    grouped.is_empty()
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
