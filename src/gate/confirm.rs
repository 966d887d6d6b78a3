//! Taking in one trust evidence file: read it (at most [`MAX_EVIDENCE_BYTES`]), check it with
//! `trust::rules`, record an accepted file in the ledger, and withdraw a confirmation that a
//! refused but otherwise valid file contradicts. One function for `trust confirm` and the
//! `serve` inbox, so that a file is accepted, refused and recorded alike whichever way it came.

use std::path::Path;

use chrono::{DateTime, Timelike, Utc};
use sha2::{Digest, Sha256};

use crate::ledger::trust::{self as records, Confirmation, Recorded};
use crate::ledger::{Ledger, LedgerError};
use crate::trust::refusal::{EvidenceField, Problem, Refusal};
use crate::trust::rules::{self, StillActive};
use crate::trust::{Evidence, Hosts};

/// Evidence files are a few hundred bytes; anything past this is not one.
pub const MAX_EVIDENCE_BYTES: u64 = 64 * 1024;

/// What became of one evidence file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The file meets every rule; `recorded` says what the ledger did with it.
    Accepted {
        evidence: Evidence,
        recorded: Recorded,
    },
    /// The file was refused for every reason in `refusals`; nothing of it was recorded. When
    /// it is newer evidence that a pair's trust is still there, the pair's older confirmation
    /// was withdrawn (`withdrawn`).
    Refused {
        refusals: Vec<Refusal>,
        withdrawn: Option<Withdrawal>,
    },
}

/// A confirmation taken back because a newer file says the trust is still there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub active: StillActive,
    /// The confirmation removed from the ledger.
    pub old: Confirmation,
}

/// Checks the evidence file at `path` (named `path` in refusals) at time `now`, and records it
/// when accepted as the file kept at `kept_at` (made absolute): the same path for `trust
/// confirm`, the file's place in `processed/` for the inbox.
pub fn confirm_evidence(
    ledger: &Ledger,
    hosts: &Hosts,
    path: &Path,
    kept_at: &Path,
    now: DateTime<Utc>,
) -> Result<Verdict, LedgerError> {
    let name = path.display().to_string();
    let bytes = match read_evidence(path) {
        Ok(bytes) => bytes,
        Err(why) => {
            let fix = "check the path; the script writes trust-evidence-<side>-<n>.json in the folder it ran in";
            let refusal = Refusal::new(&name, EvidenceField::File, Problem::Unreadable(why), fix);
            return Ok(Verdict::Refused {
                refusals: vec![refusal],
                withdrawn: None,
            });
        }
    };
    match rules::check(&name, &bytes, hosts, now) {
        Ok(evidence) => {
            let confirmation = confirmation_of(&evidence, kept_at, &bytes, now);
            let recorded = records::record(ledger, &confirmation)?;
            Ok(Verdict::Accepted { evidence, recorded })
        }
        Err(rejection) => {
            let withdrawn = match rejection.still_active {
                Some(active) => withdraw(ledger, active)?,
                None => None,
            };
            Ok(Verdict::Refused {
                refusals: rejection.refusals,
                withdrawn,
            })
        }
    }
}

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
    kept_at: &Path,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Confirmation {
    let file_name = std::path::absolute(kept_at).unwrap_or_else(|_| kept_at.to_path_buf());
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

/// Newer valid evidence that a pair's trust is still there withdraws its confirmation.
fn withdraw(ledger: &Ledger, active: StillActive) -> Result<Option<Withdrawal>, LedgerError> {
    let pair = &active.pair;
    let old = records::withdraw(
        ledger,
        pair.side,
        &pair.host_url,
        &pair.partner_url,
        active.checked_at,
    )?;
    Ok(old.map(|old| Withdrawal { active, old }))
}

/// `source https://a/ -> target https://b/: NotEstablished, checked ... by ... (recorded)`.
pub fn describe(evidence: &Evidence, recorded: &Recorded) -> String {
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

/// `WITHDRAWN: <pair> is no longer confirmed: <file>, checked ..., says ... (...)`.
pub fn describe_withdrawal(name: &str, w: &Withdrawal) -> String {
    format!(
        "WITHDRAWN: {} is no longer confirmed: {name}, checked {}, says {} (the confirmation by {} checked {} no longer holds)",
        w.active.pair,
        records::timestamp(w.active.checked_at),
        w.active.verify.as_str(),
        w.old.file_name,
        records::timestamp(w.old.checked_at)
    )
}
