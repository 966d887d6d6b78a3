//! `t2t-notify trust script|confirm|status`: hand the admins the removal script, take back the
//! evidence files it writes, record the accepted ones in the ledger, and show the gate.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;
use clap::Subcommand;

use crate::cli::Cli;
use crate::config::{Config, Side};
use crate::exit::Outcome;
use crate::gate::confirm::{self, Verdict};
use crate::gate::{self, PairState};
use crate::ledger::trust as records;
use crate::ledger::Ledger;
use crate::output::{out, outln};
use crate::trust::{script, Hosts};

/// The `trust` subcommands.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Print the PowerShell script that removes the trust on a tenant and writes the evidence
    /// files (run it there after Connect-SPOService).
    #[command(
        after_help = "Example:\n  t2t-notify --config sample-data/t2t-notify.toml trust script --tenant source --out remove-trust-source.ps1\n\nWith --out the file is UTF-8 with a byte-order mark and CRLF line ends, which Windows PowerShell 5.1 reads right; a `>` redirect in PowerShell re-encodes the output, so prefer --out there."
    )]
    Script {
        /// The tenant the script is for; without it the script works on either (it finds out
        /// which one it is connected to).
        #[arg(long, value_enum)]
        tenant: Option<Side>,
        /// Write the script to this new file (UTF-8 with BOM, CRLF: what Windows PowerShell 5.1
        /// reads right) instead of standard output. An existing file is not replaced.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Check evidence files written by the script and record the accepted ones in the ledger.
    #[command(
        after_help = "Example:\n  t2t-notify trust confirm trust-evidence-source-1.json trust-evidence-target-1.json\n\nExit status 0 when every file is accepted, 2 when any is refused (the accepted ones are recorded all the same)."
    )]
    Confirm {
        /// Evidence files (trust-evidence-<side>-<n>.json).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Show every host pair, the evidence that confirms it, and whether the gate is open.
    #[command(
        after_help = "Example:\n  t2t-notify --config sample-data/t2t-notify.toml trust status\n\nExit status 0 when the gate is open, 3 when it is closed."
    )]
    Status,
}

pub fn execute(cli: &Cli, command: &TrustCommand) -> anyhow::Result<Outcome> {
    let config = Config::load(&cli.config)?;
    match command {
        TrustCommand::Script { tenant, out } => write_script(&config, *tenant, out.as_deref()),
        TrustCommand::Confirm { files } => confirm(&config, files),
        TrustCommand::Status => status(&config),
    }
}

/// Prints the script, or writes it to `--out` in the form PowerShell 5.1 reads right.
fn write_script(
    config: &Config,
    tenant: Option<Side>,
    out: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let text = script::generate(config, tenant);
    let Some(out) = out else {
        out!("{text}");
        return Ok(Outcome::Success);
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .with_context(|| {
            format!(
                "cannot create {}: an existing file is not replaced; remove it or choose another name",
                out.display()
            )
        })?;
    std::io::Write::write_all(&mut file, &script::file_bytes(&text))
        .with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!("Wrote {} (UTF-8 with BOM, CRLF).", out.display());
    Ok(Outcome::Success)
}

fn open_ledger(config: &Config) -> anyhow::Result<Ledger> {
    Ledger::open(&config.ledger.path)
        .with_context(|| "the trust confirmations are kept in the ledger ([ledger].path)")
}

fn confirm(config: &Config, files: &[PathBuf]) -> anyhow::Result<Outcome> {
    let ledger = open_ledger(config)?;
    let hosts = Hosts::from_config(config);
    let mut refused = 0;
    for file in files {
        if !confirm_file(&ledger, &hosts, file)? {
            refused += 1;
        }
    }
    let accepted = files.len() - refused;
    outln!("\n{accepted} accepted, {refused} refused.");
    outln!("{}", gate::check(config, &ledger)?);
    Ok(if refused == 0 {
        Outcome::Success
    } else {
        Outcome::Invalid
    })
}

/// Checks and records one file; true when accepted.
fn confirm_file(ledger: &Ledger, hosts: &Hosts, path: &Path) -> anyhow::Result<bool> {
    let name = path.display().to_string();
    match confirm::confirm_evidence(ledger, hosts, path, path, Utc::now())? {
        Verdict::Accepted { evidence, recorded } => {
            outln!(
                "accepted: {name}: {}",
                confirm::describe(&evidence, &recorded)
            );
            Ok(true)
        }
        Verdict::Refused {
            refusals,
            withdrawn,
        } => {
            for refusal in &refusals {
                eprintln!("refused: {refusal}");
            }
            if let Some(withdrawal) = &withdrawn {
                eprintln!("{}", confirm::describe_withdrawal(&name, withdrawal));
            }
            Ok(false)
        }
    }
}

fn status(config: &Config) -> anyhow::Result<Outcome> {
    let ledger = open_ledger(config)?;
    let states = gate::pair_states(config, &ledger)?;
    outln!("Ledger: {}", ledger.path().display());
    outln!("Host pairs (each tenant removes its trust to every host URL of the other):");
    for state in &states {
        print_state(state);
    }
    let today = chrono::Local::now().date_naive();
    let source_done = gate::side_confirmed(&states, Side::Source);
    if let Some(warning) = gate::licence_warning(config.source.licenses_expire, today, source_done)
    {
        eprintln!("{warning}");
    }
    let gate = gate::status_of(&states, &gate::Freshness::from_config(config, None));
    outln!("\n{gate}");
    Ok(if gate.is_open() {
        Outcome::Success
    } else {
        Outcome::GateClosed
    })
}

fn print_state(state: &PairState) {
    let Some(c) = &state.confirmation else {
        outln!("  [MISSING]   {}", state.pair);
        return;
    };
    outln!("  [confirmed] {}", state.pair);
    outln!("      file       {}", c.file_name);
    outln!("      sha256     {}", c.sha256);
    outln!(
        "      checked    {} by {} ({})",
        records::timestamp(c.checked_at),
        c.checked_by.as_deref().unwrap_or("(unknown)"),
        c.verify_result
    );
    outln!("      confirmed  {}", records::timestamp(c.confirmed_at));
}
