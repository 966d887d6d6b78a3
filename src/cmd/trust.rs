//! `t2t-notify trust script|confirm|status`: hand the admins the removal script, take back the
//! evidence files it writes, record the accepted ones in the ledger, and show the gate.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{Timelike, Utc};
use clap::Subcommand;
use sha2::{Digest, Sha256};

use crate::cli::Cli;
use crate::config::{Config, Side};
use crate::exit::Outcome;
use crate::gate::{self, PairState};
use crate::ledger::trust::{self as records, Confirmation, Recorded};
use crate::ledger::Ledger;
use crate::output::{out, outln};
use crate::trust::refusal::{EvidenceField, Problem, Refusal};
use crate::trust::rules::{self, Rejection};
use crate::trust::{evidence::Evidence, script, Hosts};

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
    let bytes = match read_evidence(path) {
        Ok(bytes) => bytes,
        Err(why) => {
            let fix = "check the path; the script writes trust-evidence-<side>-<n>.json in the folder it ran in";
            let refusal = Refusal::new(&name, EvidenceField::File, Problem::Unreadable(why), fix);
            eprintln!("refused: {refusal}");
            return Ok(false);
        }
    };
    let now = Utc::now();
    match rules::check(&name, &bytes, hosts, now) {
        Ok(evidence) => {
            let confirmation = confirmation_of(&evidence, path, &bytes, now);
            let recorded = records::record(ledger, &confirmation)?;
            outln!("accepted: {name}: {}", describe(&evidence, &recorded));
            Ok(true)
        }
        Err(rejection) => {
            for refusal in &rejection.refusals {
                eprintln!("refused: {refusal}");
            }
            withdraw_if_contradicted(ledger, &name, &rejection)?;
            Ok(false)
        }
    }
}

/// Evidence files are a few hundred bytes; anything past this is not one.
const MAX_EVIDENCE_BYTES: u64 = 64 * 1024;

fn read_evidence(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_EVIDENCE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_EVIDENCE_BYTES {
        return Err(format!(
            "larger than {} KiB, so not an evidence file",
            MAX_EVIDENCE_BYTES / 1024
        ));
    }
    Ok(bytes)
}

fn confirmation_of(
    evidence: &Evidence,
    path: &Path,
    bytes: &[u8],
    now: chrono::DateTime<Utc>,
) -> Confirmation {
    let file_name = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    Confirmation {
        side: evidence.side,
        host_url: evidence.host_url.clone(),
        partner_url: evidence.partner_url.clone(),
        verify_result: evidence.verify.as_str().to_string(),
        checked_at: evidence
            .checked_at
            .with_nanosecond(0)
            .unwrap_or(evidence.checked_at),
        checked_by: Some(evidence.checked_by.clone()),
        file_name: file_name.display().to_string(),
        sha256: hex::encode(Sha256::digest(bytes)),
        confirmed_at: now.with_nanosecond(0).unwrap_or(now),
    }
}

fn describe(evidence: &Evidence, recorded: &Recorded) -> String {
    let what = format!(
        "{} {} -> {} {}: {}, checked {} by {}",
        evidence.side.as_str(),
        evidence.host_url,
        evidence.side.partner().as_str(),
        evidence.partner_url,
        evidence.verify.as_str(),
        records::timestamp(evidence.checked_at),
        evidence.checked_by
    );
    let how = match recorded {
        Recorded::New => "recorded".to_string(),
        Recorded::Replaced { previous } => format!(
            "recorded, replacing {} checked {}",
            previous.file_name,
            records::timestamp(previous.checked_at)
        ),
        Recorded::AlreadyRecorded => "already recorded".to_string(),
        Recorded::KeptNewer { existing } => format!(
            "not recorded: the pair is already confirmed by newer evidence, {} checked {}",
            existing.file_name,
            records::timestamp(existing.checked_at)
        ),
    };
    format!("{what} ({how})")
}

/// Newer valid evidence that a pair's trust is still there withdraws its confirmation.
fn withdraw_if_contradicted(
    ledger: &Ledger,
    name: &str,
    rejection: &Rejection,
) -> anyhow::Result<()> {
    let Some(active) = &rejection.still_active else {
        return Ok(());
    };
    let pair = &active.pair;
    let withdrawn = records::withdraw(
        ledger,
        pair.side,
        &pair.host_url,
        &pair.partner_url,
        active.checked_at,
    )?;
    if let Some(old) = withdrawn {
        eprintln!(
            "WITHDRAWN: {pair} is no longer confirmed: {name}, checked {}, says {} (the confirmation by {} checked {} no longer holds)",
            records::timestamp(active.checked_at),
            active.verify.as_str(),
            old.file_name,
            records::timestamp(old.checked_at)
        );
    }
    Ok(())
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
