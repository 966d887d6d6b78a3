//! What `send` reads before any connection: the input (the first `--limit` people of the
//! mapping, with every error printed) and the `--test-to` address. The notices themselves are
//! checked by [`super::check`].

use crate::cli::SendArgs;
use crate::config::Config;
use crate::exit::InvalidInput;
use crate::inputs::address;
use crate::plan::{self, Recipient, Sources};

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
