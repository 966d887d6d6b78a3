//! Trust confirmations in the ledger: one row per host pair (side, host URL, partner URL) in the
//! `trust_confirmations` table, holding the evidence file that confirmed it.
//!
//! A newer evidence file for the same pair replaces an older one; an older one never replaces a
//! newer one; and newer evidence that the trust is still active withdraws the confirmation.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, OptionalExtension, Row};

use crate::config::Side;

use super::{Ledger, LedgerError};

/// One confirmed host pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub side: Side,
    /// Normalised host URL of `side` (lower case, trailing slash).
    pub host_url: String,
    /// Normalised host URL of the partner.
    pub partner_url: String,
    /// What `Verify-SPOCrossTenantRelationship` answered (`NotEstablished` for every accepted file).
    pub verify_result: String,
    /// `CheckedAtUtc` of the evidence.
    pub checked_at: DateTime<Utc>,
    /// `CheckedBy` of the evidence.
    pub checked_by: Option<String>,
    /// The evidence file as it was named on the command line (made absolute).
    pub file_name: String,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
    /// When t2t-notify accepted it.
    pub confirmed_at: DateTime<Utc>,
}

/// What [`record`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The pair had no confirmation; now it has this one.
    New,
    /// The pair's older confirmation was replaced.
    Replaced { previous: Confirmation },
    /// The same file (same SHA-256) already confirms the pair; nothing changed.
    AlreadyRecorded,
    /// The pair is confirmed by evidence checked later than this one, which is kept.
    KeptNewer { existing: Confirmation },
}

const COLUMNS: &str = "side, host_url, partner_url, verify_result, checked_at, checked_by, file_name, sha256, confirmed_at";

/// Records `c` for its pair, unless the pair is already confirmed by the same or newer evidence.
pub fn record(ledger: &Ledger, c: &Confirmation) -> Result<Recorded, LedgerError> {
    let tx = ledger
        .conn
        .unchecked_transaction()
        .map_err(|e| ledger.classify(e))?;
    let existing = get(ledger, c.side, &c.host_url, &c.partner_url)?;
    let outcome = match existing {
        Some(existing) if existing.sha256 == c.sha256 => Recorded::AlreadyRecorded,
        Some(existing) if existing.checked_at > c.checked_at => Recorded::KeptNewer { existing },
        Some(previous) => {
            write(ledger, c)?;
            Recorded::Replaced { previous }
        }
        None => {
            write(ledger, c)?;
            Recorded::New
        }
    };
    tx.commit().map_err(|e| ledger.classify(e))?;
    Ok(outcome)
}

/// The confirmation of one pair, if any.
pub fn get(
    ledger: &Ledger,
    side: Side,
    host_url: &str,
    partner_url: &str,
) -> Result<Option<Confirmation>, LedgerError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM trust_confirmations WHERE side = ?1 AND host_url = ?2 AND partner_url = ?3"
    );
    ledger
        .conn
        .query_row(
            &sql,
            params![side.as_str(), host_url, partner_url],
            from_row,
        )
        .optional()
        .map_err(|e| ledger.classify(e))?
        .transpose()
        .map_err(|why| corrupt(ledger, why))
}

/// Every confirmation, ordered by side, host URL and partner URL.
pub fn list(ledger: &Ledger) -> Result<Vec<Confirmation>, LedgerError> {
    let sql =
        format!("SELECT {COLUMNS} FROM trust_confirmations ORDER BY side, host_url, partner_url");
    let rows: Vec<_> = ledger.rows(&sql, [], from_row)?;
    rows.into_iter()
        .map(|row| row.map_err(|why| corrupt(ledger, why)))
        .collect()
}

/// Removes the pair's confirmation when it was checked before `newer_evidence_at` (newer
/// evidence says the trust is still there). Returns the confirmation it removed.
pub fn withdraw(
    ledger: &Ledger,
    side: Side,
    host_url: &str,
    partner_url: &str,
    newer_evidence_at: DateTime<Utc>,
) -> Result<Option<Confirmation>, LedgerError> {
    let tx = ledger
        .conn
        .unchecked_transaction()
        .map_err(|e| ledger.classify(e))?;
    let existing = get(ledger, side, host_url, partner_url)?;
    let withdrawn = match existing {
        Some(c) if c.checked_at < newer_evidence_at => {
            ledger
                .conn
                .execute(
                    "DELETE FROM trust_confirmations WHERE side = ?1 AND host_url = ?2 AND partner_url = ?3",
                    params![side.as_str(), host_url, partner_url],
                )
                .map_err(|e| ledger.classify(e))?;
            Some(c)
        }
        _ => None,
    };
    tx.commit().map_err(|e| ledger.classify(e))?;
    Ok(withdrawn)
}

fn write(ledger: &Ledger, c: &Confirmation) -> Result<(), LedgerError> {
    let sql = format!(
        "INSERT OR REPLACE INTO trust_confirmations ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    );
    ledger
        .conn
        .execute(
            &sql,
            params![
                c.side.as_str(),
                c.host_url,
                c.partner_url,
                c.verify_result,
                timestamp(c.checked_at),
                c.checked_by,
                c.file_name,
                c.sha256,
                timestamp(c.confirmed_at),
            ],
        )
        .map_err(|e| ledger.classify(e))?;
    Ok(())
}

/// How times are stored: RFC 3339 in UTC to the second, which also sorts as text.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A row, or why its values cannot be read back (`Err(String)` inside a successful read).
fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<Confirmation, String>> {
    let side: String = row.get(0)?;
    let checked_at: String = row.get(4)?;
    let confirmed_at: String = row.get(8)?;
    let side = match side.as_str() {
        "source" => Side::Source,
        "target" => Side::Target,
        other => return Ok(Err(format!("side `{other}`"))),
    };
    let (Some(checked_at), Some(confirmed_at)) =
        (parse_time(&checked_at), parse_time(&confirmed_at))
    else {
        return Ok(Err(format!("times `{checked_at}`, `{confirmed_at}`")));
    };
    Ok(Ok(Confirmation {
        side,
        host_url: row.get(1)?,
        partner_url: row.get(2)?,
        verify_result: row.get(3)?,
        checked_at,
        checked_by: row.get(5)?,
        file_name: row.get(6)?,
        sha256: row.get(7)?,
        confirmed_at,
    }))
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn corrupt(ledger: &Ledger, why: String) -> LedgerError {
    LedgerError::Corrupt {
        path: ledger.path().to_path_buf(),
        source: rusqlite::Error::InvalidColumnType(
            0,
            format!("trust_confirmations: {why}"),
            rusqlite::types::Type::Text,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn confirmation(checked_at: &str, sha: &str) -> Confirmation {
        Confirmation {
            side: Side::Source,
            host_url: "https://contoso-my.sharepoint.com/".into(),
            partner_url: "https://fabrikam-my.sharepoint.com/".into(),
            verify_result: "NotEstablished".into(),
            checked_at: at(checked_at),
            checked_by: Some("admin@contoso.onmicrosoft.com".into()),
            file_name: format!("/evidence/{sha}.json"),
            sha256: sha.into(),
            confirmed_at: at("2026-11-27T08:00:00Z"),
        }
    }

    #[test]
    fn records_and_lists_a_confirmation() {
        let (_dir, ledger) = Ledger::temp();
        let c = confirmation("2026-11-27T06:00:00Z", "aa");
        assert_eq!(record(&ledger, &c).unwrap(), Recorded::New);
        assert_eq!(list(&ledger).unwrap(), vec![c.clone()]);
        assert_eq!(
            get(&ledger, Side::Source, &c.host_url, &c.partner_url).unwrap(),
            Some(c.clone())
        );
        assert_eq!(
            get(&ledger, Side::Target, &c.host_url, &c.partner_url).unwrap(),
            None
        );
        assert_eq!(record(&ledger, &c).unwrap(), Recorded::AlreadyRecorded);
    }

    #[test]
    fn newer_evidence_replaces_older_and_never_the_reverse() {
        let (_dir, ledger) = Ledger::temp();
        let old = confirmation("2026-11-27T06:00:00Z", "aa");
        let new = confirmation("2026-11-27T07:00:00Z", "bb");
        record(&ledger, &old).unwrap();
        assert_eq!(
            record(&ledger, &new).unwrap(),
            Recorded::Replaced {
                previous: old.clone()
            }
        );
        assert_eq!(
            record(&ledger, &old).unwrap(),
            Recorded::KeptNewer {
                existing: new.clone()
            }
        );
        assert_eq!(list(&ledger).unwrap(), vec![new]);
    }

    #[test]
    fn withdraw_removes_only_older_confirmations() {
        let (_dir, ledger) = Ledger::temp();
        let c = confirmation("2026-11-27T06:00:00Z", "aa");
        record(&ledger, &c).unwrap();
        let earlier = at("2026-11-27T05:00:00Z");
        assert_eq!(
            withdraw(&ledger, c.side, &c.host_url, &c.partner_url, earlier).unwrap(),
            None
        );
        let later = at("2026-11-27T09:00:00Z");
        assert_eq!(
            withdraw(&ledger, c.side, &c.host_url, &c.partner_url, later).unwrap(),
            Some(c)
        );
        assert!(list(&ledger).unwrap().is_empty());
    }

    #[test]
    fn confirmations_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let c = confirmation("2026-11-27T06:00:00Z", "aa");
        record(&Ledger::open(&path).unwrap(), &c).unwrap();
        assert_eq!(list(&Ledger::open(&path).unwrap()).unwrap(), vec![c]);
    }
}
