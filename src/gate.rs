//! The trust gate: notices go out only when the ledger holds accepted evidence that the trust
//! is removed on both tenants for every host pair of every geography. `send` calls [`check`]
//! before it sends anything to users; there is no way around it.
//!
//! Required pairs: each source host URL with each target host URL (the source names
//! `-PartnerRole Target`), and each target host URL with each source host URL (the target
//! names `-PartnerRole Source`). A confirmation recorded for a pair that is no longer in the
//! config counts for nothing.

use std::fmt;

use chrono::NaiveDate;

use crate::config::{Config, Side};
use crate::ledger::trust::{self as records, Confirmation};
use crate::ledger::{Ledger, LedgerError};
use crate::trust::{script_command, Hosts, Pair, VerifyResult};

pub mod confirm;
mod fresh;
pub use fresh::{newest_move, Freshness, Stale};

/// Whether notices may be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateStatus {
    /// Every pair is confirmed on both sides.
    Open,
    /// Some pairs are not confirmed; nothing may be sent to users.
    Closed {
        /// Every pair without a confirmation, source side first.
        missing: Vec<Pair>,
        /// Pairs whose confirmation is too old to count (see [`Freshness`]).
        stale: Vec<Stale>,
        /// How many pairs there are in all.
        total: usize,
    },
}

impl GateStatus {
    pub fn is_open(&self) -> bool {
        matches!(self, GateStatus::Open)
    }

    /// The pairs that keep the gate closed (empty when open).
    pub fn missing(&self) -> &[Pair] {
        match self {
            GateStatus::Open => &[],
            GateStatus::Closed { missing, .. } => missing,
        }
    }
}

/// One required pair and the confirmation that covers it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairState {
    pub pair: Pair,
    pub confirmation: Option<Confirmation>,
}

/// Answers whether the gate is open for `config`, from the confirmations in `ledger`.
pub fn check(config: &Config, ledger: &Ledger) -> Result<GateStatus, LedgerError> {
    check_with(config, ledger, &Freshness::from_config(config, None))
}

/// Like [`check`], counting only confirmations that are fresh by `fresh`.
pub fn check_with(
    config: &Config,
    ledger: &Ledger,
    fresh: &Freshness,
) -> Result<GateStatus, LedgerError> {
    let states = pair_states(config, ledger)?;
    Ok(status_of(&states, fresh))
}

/// Every required pair of `config` with its confirmation from `ledger`.
pub fn pair_states(config: &Config, ledger: &Ledger) -> Result<Vec<PairState>, LedgerError> {
    let confirmations = records::list(ledger)?;
    Ok(match_pairs(&Hosts::from_config(config), &confirmations))
}

/// Pairs each required pair with the confirmation recorded for it. Only `NotEstablished`
/// confirmations count, whatever else a ledger may hold.
pub fn match_pairs(hosts: &Hosts, confirmations: &[Confirmation]) -> Vec<PairState> {
    hosts
        .pairs()
        .into_iter()
        .map(|pair| {
            let confirmation = confirmations
                .iter()
                .find(|c| {
                    c.side == pair.side
                        && c.host_url == pair.host_url
                        && c.partner_url == pair.partner_url
                        && c.verify_result == VerifyResult::NotEstablished.as_str()
                })
                .cloned();
            PairState { pair, confirmation }
        })
        .collect()
}

/// The gate for these pair states: open only when every one is confirmed by fresh evidence.
pub fn status_of(states: &[PairState], fresh: &Freshness) -> GateStatus {
    let missing: Vec<Pair> = states
        .iter()
        .filter(|s| s.confirmation.is_none())
        .map(|s| s.pair.clone())
        .collect();
    let stale: Vec<Stale> = states
        .iter()
        .filter_map(|s| {
            let why = fresh.stale_reason(s.confirmation.as_ref()?.checked_at)?;
            Some(Stale {
                pair: s.pair.clone(),
                why,
            })
        })
        .collect();
    if missing.is_empty() && stale.is_empty() && !states.is_empty() {
        GateStatus::Open
    } else {
        GateStatus::Closed {
            missing,
            stale,
            total: states.len(),
        }
    }
}

/// Whether every pair of one side is confirmed.
pub fn side_confirmed(states: &[PairState], side: Side) -> bool {
    states
        .iter()
        .filter(|s| s.pair.side == side)
        .all(|s| s.confirmation.is_some())
}

/// How many days before `[source].licenses_expire` an unconfirmed source side is warned about.
pub const LICENCE_WARNING_DAYS: i64 = 14;

/// A loud warning when the source tenant's licences expire within
/// [`LICENCE_WARNING_DAYS`] (or have expired) and its side is not fully confirmed: after that
/// day the removal command no longer works on the source.
pub fn licence_warning(
    expires: Option<NaiveDate>,
    today: NaiveDate,
    source_confirmed: bool,
) -> Option<String> {
    let expires = expires?;
    let days = (expires - today).num_days();
    if source_confirmed || days > LICENCE_WARNING_DAYS {
        return None;
    }
    let when = match days {
        d if d < 0 => format!("expired on {expires} ({} days ago)", -d),
        0 => format!("expire TODAY ({expires})"),
        1 => format!("expire TOMORROW ({expires})"),
        d => format!("expire on {expires}, in {d} days"),
    };
    let bar = "!".repeat(78);
    Some(format!(
        "{bar}\nWARNING: the source tenant's licences {when} ([source] licenses_expire),\nand the trust removal is not confirmed on the source for every host pair.\nAfter that day Remove-SPOCrossTenantRelationship no longer works on the source tenant.\nRun the script that `{}` prints on the source tenant now,\nthen `t2t-notify trust confirm` the files it writes.\n{bar}",
        script_command(Side::Source)
    ))
}

impl fmt::Display for GateStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let GateStatus::Closed {
            missing,
            stale,
            total,
        } = self
        else {
            return write!(
                f,
                "trust gate open: the trust is confirmed removed on both tenants for every host pair"
            );
        };
        // Closed without a missing pair: every pair is confirmed but some too long ago.
        if missing.is_empty() || !stale.is_empty() {
            write_stale(f, stale, *total)?;
            if missing.is_empty() {
                return Ok(());
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "trust gate closed: the trust is not confirmed removed for {} of {total} host pairs:",
            missing.len()
        )?;
        for pair in missing {
            writeln!(f, "  {pair}")?;
            writeln!(
                f,
                "    on the {} tenant run: {}",
                pair.side.as_str(),
                pair.remove_command()
            )?;
            writeln!(
                f,
                "    then check:  {}   (must answer NotEstablished)",
                pair.verify_command()
            )?;
        }
        let mut sides: Vec<Side> = missing.iter().map(|p| p.side).collect();
        sides.dedup();
        let scripts: Vec<String> = sides
            .iter()
            .map(|s| {
                format!(
                    "`{}` prints on the {} tenant",
                    script_command(*s),
                    s.as_str()
                )
            })
            .collect();
        write!(
            f,
            "To open it: run the script that {} (it runs the commands above and writes trust-evidence-<side>-<n>.json), then `t2t-notify trust confirm trust-evidence-*.json`; `t2t-notify trust status` shows every pair.",
            scripts.join(", and the one that ")
        )
    }
}

/// The pairs whose evidence is too old, each with why and what to run.
fn write_stale(f: &mut fmt::Formatter<'_>, stale: &[Stale], total: usize) -> fmt::Result {
    writeln!(
        f,
        "trust gate closed: the evidence for {} of {total} host pairs is too old to count:",
        stale.len()
    )?;
    for s in stale {
        writeln!(f, "  {}: {}", s.pair, s.why)?;
    }
    let mut sides: Vec<Side> = stale.iter().map(|s| s.pair.side).collect();
    sides.dedup();
    for side in sides {
        writeln!(
            f,
            "  on the {} tenant run the script that `{}` prints again (it checks the trust now and writes new trust-evidence-{}-<n>.json files),",
            side.as_str(),
            script_command(side),
            side.as_str()
        )?;
    }
    write!(f, "  then `t2t-notify trust confirm` the new files.")
}

#[cfg(test)]
mod tests;
