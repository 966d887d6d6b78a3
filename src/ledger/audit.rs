//! The audit log: every action taken on `serve` through its dashboard or API (pause, resume,
//! retry failed, resend uncertain, an upload to the inbox), with who took it and when. Rows are
//! only ever added; the ledger keeps them for as long as it keeps its deliveries.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::deliveries::timestamp;
use super::{Ledger, LedgerError};

/// One action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// The name the person gave, how they signed in, and from where: `ana (dashboard, 127.0.0.1)`.
    pub who: String,
    /// `pause`, `resume`, `retry-failed`, `resend-uncertain`, `inbox-upload`.
    pub action: String,
    pub campaign: Option<String>,
    /// What it did, in a sentence.
    pub detail: String,
}

impl Ledger {
    /// Adds `entry` to the log.
    pub fn record_audit(&mut self, entry: &AuditEntry) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "INSERT INTO audit_log (at, who, action, campaign, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    timestamp(entry.at),
                    entry.who,
                    entry.action,
                    entry.campaign,
                    entry.detail
                ],
            )
            .map_err(|e| self.classify(e))?;
        Ok(())
    }

    /// The newest `limit` entries, newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, LedgerError> {
        let rows: Vec<(String, String, String, Option<String>, String)> = self.rows(
            "SELECT at, who, action, campaign, detail FROM audit_log ORDER BY id DESC LIMIT ?1",
            [limit],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|(at, who, action, campaign, detail)| {
                let at = DateTime::parse_from_rfc3339(&at).ok()?.to_utc();
                Some(AuditEntry {
                    at,
                    who,
                    action,
                    campaign,
                    detail,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn entries_are_kept_and_read_back_newest_first() {
        let (_dir, mut ledger) = Ledger::temp();
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 21, 0, 0).unwrap();
        for (i, action) in ["pause", "resume", "retry-failed"].into_iter().enumerate() {
            ledger
                .record_audit(&AuditEntry {
                    at: at + chrono::Duration::minutes(i as i64),
                    who: "ana (dashboard, 127.0.0.1)".into(),
                    action: action.into(),
                    campaign: (action == "retry-failed").then(|| "post-migration".into()),
                    detail: format!("{action} done"),
                })
                .unwrap();
        }
        let log = ledger.audit_log(2).unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["retry-failed", "resume"]);
        assert_eq!(log[0].campaign.as_deref(), Some("post-migration"));
        assert_eq!(log[1].at, at + chrono::Duration::minutes(1));
    }
}
