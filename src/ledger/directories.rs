//! The `campaign_directories` table: which directory file (path and SHA-256 of its bytes) a
//! campaign's sends used, so that `send` can refuse a later run of the campaign without that
//! file or with another one.

use chrono::Utc;
use rusqlite::OptionalExtension;

use super::{Ledger, LedgerError};

/// The directory file a campaign was sent with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedDirectory {
    pub path: String,
    pub sha256: String,
    /// When it was recorded (RFC 3339, UTC).
    pub recorded_at: String,
}

/// The directory file recorded for `campaign`, if any.
pub fn get(ledger: &Ledger, campaign: &str) -> Result<Option<UsedDirectory>, LedgerError> {
    ledger
        .conn
        .query_row(
            "SELECT path, sha256, recorded_at FROM campaign_directories WHERE campaign = ?1",
            [campaign],
            |r| {
                Ok(UsedDirectory {
                    path: r.get(0)?,
                    sha256: r.get(1)?,
                    recorded_at: r.get(2)?,
                })
            },
        )
        .optional()
        .map_err(|e| ledger.classify(e))
}

/// Records (or replaces) the directory file `campaign` is sent with.
pub fn set(ledger: &Ledger, campaign: &str, path: &str, sha256: &str) -> Result<(), LedgerError> {
    ledger
        .conn
        .execute(
            "INSERT INTO campaign_directories (campaign, path, sha256, recorded_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (campaign) DO UPDATE SET path = ?2, sha256 = ?3, recorded_at = ?4",
            [campaign, path, sha256, &super::trust::timestamp(Utc::now())],
        )
        .map_err(|e| ledger.classify(e))?;
    Ok(())
}
