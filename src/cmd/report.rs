//! `t2t-notify report`: every user's delivery state from the ledger, with totals, as a table,
//! JSON or CSV. Read-only; exit status 0.

mod format;

use std::io::Write;

use crate::cli::{Cli, ReportArgs, ReportFormat};
use crate::exit::Outcome;
use crate::ledger::Ledger;

pub use format::{Report, Totals};

/// Runs the command.
pub fn execute(cli: &Cli, args: &ReportArgs) -> anyhow::Result<Outcome> {
    let config = crate::run::load_config(cli)?;
    let path = &config.ledger.path;
    let report = if path.exists() {
        let ledger = Ledger::open(path)?;
        let campaign = args.campaign.as_deref();
        Report::new(ledger.deliveries(campaign)?, ledger.test_sends(campaign)?)
    } else {
        eprintln!(
            "No ledger at {} yet: nothing has been sent.",
            path.display()
        );
        Report::new(Vec::new(), Vec::new())
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        ReportFormat::Human => out.write_all(report.human().as_bytes())?,
        ReportFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report.json())?)?,
        ReportFormat::Csv => {
            out.write_all(&report.csv()?)?;
            for line in report.totals_lines() {
                eprintln!("{line}");
            }
        }
    }
    Ok(Outcome::Success)
}
