//! Read-only queries for `report --journey`: the whole submissions log, with the campaign,
//! whether it was a test send and the mailbox that sent it, for the report's chart of messages
//! over time against the day budget, and the dashboard's messages per hour.

use chrono::{DateTime, Utc};

use super::{Ledger, LedgerError};

/// One entry of the submissions log: an accepted (or possibly accepted) message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedSubmission {
    pub at: DateTime<Utc>,
    /// The recipients it counted for (what the day budget counts).
    pub recipients: u32,
    pub campaign: String,
    /// A `--test-to` send or an admin summary: spends the budget, notifies nobody.
    pub test: bool,
    /// The sending mailbox; `None` for entries written before ledger version 5, which count
    /// for every mailbox.
    pub mailbox: Option<String>,
}

impl Ledger {
    /// The whole submissions log, oldest first.
    pub fn submissions_log(&self) -> Result<Vec<LoggedSubmission>, LedgerError> {
        self.rows(
            "SELECT at_ms, recipients, campaign, test, mailbox FROM submissions ORDER BY at_ms, id",
            [],
            |r| {
                Ok(LoggedSubmission {
                    at: DateTime::from_timestamp_millis(r.get(0)?).unwrap_or_default(),
                    recipients: r.get(1)?,
                    campaign: r.get(2)?,
                    test: r.get(3)?,
                    mailbox: r.get(4)?,
                })
            },
        )
    }

    /// Messages sent per hour since `since` (test sends not counted): each hour that has any,
    /// as its start and the number, oldest first.
    pub fn sent_per_hour(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, u64)>, LedgerError> {
        let hour_ms: i64 = 3_600_000;
        let rows: Vec<(i64, u64)> = self.rows(
            "SELECT at_ms / ?1, COUNT(*) FROM submissions WHERE test = 0 AND at_ms >= ?2 GROUP BY 1 ORDER BY 1",
            [hour_ms, since.timestamp_millis()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|(h, n)| Some((DateTime::from_timestamp_millis(h * hour_ms)?, n)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_log_comes_back_oldest_first_with_campaign_test_and_mailbox() {
        let (_dir, ledger) = Ledger::temp();
        let insert = "INSERT INTO submissions (at_ms, recipients, campaign, test, mailbox) VALUES (?1, ?2, ?3, ?4, ?5)";
        let t = |h| Utc.with_ymd_and_hms(2026, 12, 5, h, 0, 0).unwrap();
        let rows = [
            (t(10), 2, "post-move", false, Some("it@fabrikam.com")),
            (t(9), 1, "pre-move", true, None),
        ];
        for (at, n, c, test, mailbox) in rows {
            ledger
                .conn
                .execute(
                    insert,
                    rusqlite::params![at.timestamp_millis(), n, c, test, mailbox],
                )
                .unwrap();
        }
        let log = ledger.submissions_log().unwrap();
        assert_eq!(
            log,
            [
                LoggedSubmission {
                    at: t(9),
                    recipients: 1,
                    campaign: "pre-move".into(),
                    test: true,
                    mailbox: None,
                },
                LoggedSubmission {
                    at: t(10),
                    recipients: 2,
                    campaign: "post-move".into(),
                    test: false,
                    mailbox: Some("it@fabrikam.com".into()),
                },
            ]
        );
    }
}
