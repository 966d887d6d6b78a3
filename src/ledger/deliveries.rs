//! Delivery state per (campaign, user), the separate record of `--test-to` sends, and the
//! submissions log that the rolling 24 h budget is counted from. The SQL behind `send`'s resume
//! rules and behind `report`.
//!
//! A user is keyed by their source UPN in lower case. States: `pending` (known, not yet
//! attempted), `in-flight` (written durably before the message is handed to the server),
//! `sent` (the server accepted it; never sent again), `deferred` (transient failure or quota:
//! the next run tries again), `failed` (permanent failure: only `--retry-failed` tries again),
//! `uncertain` (was in flight when a run died, or the connection dropped after the message was
//! transmitted: only `--resend-uncertain` sends again).

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Row, Transaction};
use serde::Serialize;

use super::{Ledger, LedgerError};

/// Where one user stands in one campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryState {
    Pending,
    InFlight,
    Sent,
    Deferred,
    Failed,
    Uncertain,
}

impl DeliveryState {
    /// Every state, in the order reports list them.
    pub const ALL: [DeliveryState; 6] = [
        DeliveryState::Sent,
        DeliveryState::Deferred,
        DeliveryState::Failed,
        DeliveryState::Uncertain,
        DeliveryState::InFlight,
        DeliveryState::Pending,
    ];

    /// The name stored in the ledger and shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::InFlight => "in-flight",
            DeliveryState::Sent => "sent",
            DeliveryState::Deferred => "deferred",
            DeliveryState::Failed => "failed",
            DeliveryState::Uncertain => "uncertain",
        }
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state name the ledger does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown delivery state `{0}`")]
pub struct UnknownState(String);

impl FromStr for DeliveryState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeliveryState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_string()))
    }
}

/// Where a run writes its attempts: the campaign's deliveries, or a separate test run whose
/// messages all went to one address and which never changes any user's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Book {
    Campaign {
        campaign: String,
    },
    Test {
        campaign: String,
        run: String,
        to: String,
    },
}

impl Book {
    /// The campaign this run belongs to.
    pub fn campaign(&self) -> &str {
        match self {
            Book::Campaign { campaign } | Book::Test { campaign, .. } => campaign,
        }
    }
}

/// An attempt about to be handed to the server.
#[derive(Debug, Clone)]
pub struct Mark {
    pub user_key: String,
    pub recipients: Vec<String>,
    pub message_id: String,
    pub content_hash: String,
    pub batch: Option<String>,
    pub at: DateTime<Utc>,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Sent,
    Deferred,
    Failed,
    Uncertain,
    /// Nothing happened (the run stopped on a fatal error before this message could go):
    /// the row goes back to the state it had before the attempt, or away if it had none.
    Revert {
        prior: Option<DeliveryState>,
    },
}

/// The end of one attempt, as the writer records it.
#[derive(Debug, Clone)]
pub struct Settled {
    pub user_key: String,
    pub resolution: Resolution,
    /// The server's reply or the local cause.
    pub reply: Option<String>,
    pub at: DateTime<Utc>,
    /// Recipients to add to the submissions log (accepted or possibly accepted); 0 for none.
    pub submitted: u32,
}

/// One row of the `deliveries` table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryRow {
    pub campaign: String,
    pub user_key: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub recipients: Vec<String>,
    pub message_id: Option<String>,
    pub content_hash: Option<String>,
    pub last_reply: Option<String>,
    pub batch: Option<String>,
    pub first_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub sent_at: Option<String>,
    pub updated_at: String,
}

/// One row of the `test_sends` table.
#[derive(Debug, Clone, Serialize)]
pub struct TestSendRow {
    pub run: String,
    pub campaign: String,
    pub user_key: String,
    pub test_to: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub message_id: Option<String>,
    pub last_reply: Option<String>,
    pub last_attempt_at: Option<String>,
    pub sent_at: Option<String>,
}

/// One accepted (or possibly accepted) message in the submissions log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submission {
    pub at: DateTime<Utc>,
    pub recipients: u32,
}

/// Where a campaign stands: users per state, and the rows an admin must look at (`failed`
/// and `uncertain`), without reading every row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Standing {
    pub counts: HashMap<DeliveryState, u64>,
    /// The `failed` and `uncertain` rows, by user.
    pub attention: Vec<DeliveryRow>,
}

impl Standing {
    /// The states an admin must look at.
    pub const ATTENTION: [DeliveryState; 2] = [DeliveryState::Failed, DeliveryState::Uncertain];

    /// The standing of a campaign whose rows are `rows` (what the tests compare with).
    #[cfg(test)]
    pub fn from_rows(rows: &[DeliveryRow]) -> Standing {
        let mut standing = Standing::default();
        for row in rows {
            *standing.counts.entry(row.state).or_default() += 1;
            if Standing::ATTENTION.contains(&row.state) {
                standing.attention.push(row.clone());
            }
        }
        standing
    }
}

/// A time as the ledger stores it: RFC 3339, UTC, milliseconds.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Ledger {
    /// Every user's state in `campaign`, keyed by lower-case source UPN.
    pub fn delivery_states(
        &self,
        campaign: &str,
    ) -> Result<HashMap<String, DeliveryState>, LedgerError> {
        self.rows(
            "SELECT user_key, state FROM deliveries WHERE campaign = ?1",
            [campaign],
            |r| Ok((r.get(0)?, parse_state(&r.get::<_, String>(1)?)?)),
        )
    }

    /// Turns every row left `in-flight` by a run that died into `uncertain`, and returns the
    /// delivery rows that changed (test sends change too but are not returned).
    pub fn settle_leftover_in_flight(&mut self) -> Result<Vec<DeliveryRow>, LedgerError> {
        let path = self.path.clone();
        let classify = |e| super::classify(&path, e);
        let now = timestamp(Utc::now());
        let tx = self.conn.transaction().map_err(classify)?;
        let rows = select_deliveries(&tx, "WHERE state = 'in-flight'", &[]).map_err(classify)?;
        let reply = "was in flight when an earlier run stopped; it may have been delivered";
        tx.execute(
            "UPDATE deliveries SET state = 'uncertain', last_reply = ?1, updated_at = ?2 WHERE state = 'in-flight'",
            params![reply, now],
        )
        .and_then(|_| {
            tx.execute(
                "UPDATE test_sends SET state = 'uncertain', last_reply = ?1, updated_at = ?2 WHERE state = 'in-flight'",
                params![reply, now],
            )
        })
        .map_err(classify)?;
        tx.commit().map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|mut r| {
                r.state = DeliveryState::Uncertain;
                r
            })
            .collect())
    }

    /// How many of `campaign`'s people are in each state (what the dashboard polls: no rows).
    pub fn state_counts(&self, campaign: &str) -> Result<HashMap<DeliveryState, u64>, LedgerError> {
        self.rows(
            "SELECT state, COUNT(*) FROM deliveries WHERE campaign = ?1 GROUP BY state",
            [campaign],
            |r| Ok((parse_state(&r.get::<_, String>(0)?)?, r.get(1)?)),
        )
    }

    /// How `campaign` stands: a count per state and the rows that need attention.
    pub fn standing(&self, campaign: &str) -> Result<Standing, LedgerError> {
        let counts = self.state_counts(campaign)?;
        let [first, second] = Standing::ATTENTION.map(DeliveryState::as_str);
        let attention = select_deliveries(
            &self.conn,
            "WHERE campaign = ?1 AND state IN (?2, ?3)",
            &[&campaign, &first, &second],
        )
        .map_err(|e| self.classify(e))?;
        Ok(Standing { counts, attention })
    }

    /// Every delivery row of `campaign` (all campaigns when `None`), by campaign and user.
    pub fn deliveries(&self, campaign: Option<&str>) -> Result<Vec<DeliveryRow>, LedgerError> {
        let result = match campaign {
            Some(c) => select_deliveries(&self.conn, "WHERE campaign = ?1", &[&c]),
            None => select_deliveries(&self.conn, "", &[]),
        };
        result.map_err(|e| self.classify(e))
    }

    /// Every test send of `campaign` (all when `None`), oldest run first.
    pub fn test_sends(&self, campaign: Option<&str>) -> Result<Vec<TestSendRow>, LedgerError> {
        let sql =
            "SELECT run, campaign, user_key, test_to, state, attempts, message_id, last_reply,
                          last_attempt_at, sent_at
                   FROM test_sends WHERE ?1 IS NULL OR campaign = ?1 ORDER BY run, user_key";
        self.rows(sql, [campaign], |r| {
            Ok(TestSendRow {
                run: r.get(0)?,
                campaign: r.get(1)?,
                user_key: r.get(2)?,
                test_to: r.get(3)?,
                state: parse_state(&r.get::<_, String>(4)?)?,
                attempts: r.get(5)?,
                message_id: r.get(6)?,
                last_reply: r.get(7)?,
                last_attempt_at: r.get(8)?,
                sent_at: r.get(9)?,
            })
        })
    }

    /// The submissions log of `mailbox` from `since` on, oldest first: every campaign and test
    /// send that sent from it spends the same budget. Rows written before the log named the
    /// mailbox (ledger version 5) count for every mailbox: the budget may wait longer than
    /// needed for a day, but never lets a mailbox exceed its limit.
    /// The recipients `mailbox` submitted since `since` (what its day budget has spent), counted
    /// without reading the log's rows.
    pub fn recipients_since(
        &self,
        since: DateTime<Utc>,
        mailbox: &str,
    ) -> Result<u64, LedgerError> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(recipients), 0) FROM submissions
                 WHERE at_ms > ?1 AND (mailbox IS NULL OR mailbox = ?2)",
                params![since.timestamp_millis(), mailbox],
                |r| r.get(0),
            )
            .map_err(|e| self.classify(e))
    }

    pub fn submissions_since(
        &self,
        since: DateTime<Utc>,
        mailbox: &str,
    ) -> Result<Vec<Submission>, LedgerError> {
        self.rows(
            "SELECT at_ms, recipients FROM submissions
             WHERE at_ms > ?1 AND (mailbox IS NULL OR mailbox = ?2) ORDER BY at_ms",
            params![since.timestamp_millis(), mailbox],
            |r| {
                Ok(Submission {
                    at: DateTime::from_timestamp_millis(r.get(0)?).unwrap_or_default(),
                    recipients: r.get(1)?,
                })
            },
        )
    }
}

fn parse_state(text: &str) -> rusqlite::Result<DeliveryState> {
    text.parse().map_err(|e: UnknownState| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

const DELIVERY_COLUMNS: &str =
    "campaign, user_key, state, attempts, recipients, message_id, content_hash,
    last_reply, batch, first_attempt_at, last_attempt_at, sent_at, updated_at";

fn select_deliveries(
    conn: &rusqlite::Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> rusqlite::Result<Vec<DeliveryRow>> {
    let sql =
        format!("SELECT {DELIVERY_COLUMNS} FROM deliveries {filter} ORDER BY campaign, user_key");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(args, delivery_row)?;
    rows.collect()
}

fn delivery_row(r: &Row<'_>) -> rusqlite::Result<DeliveryRow> {
    let recipients: String = r.get(4)?;
    Ok(DeliveryRow {
        campaign: r.get(0)?,
        user_key: r.get(1)?,
        state: parse_state(&r.get::<_, String>(2)?)?,
        attempts: r.get(3)?,
        recipients: serde_json::from_str(&recipients).unwrap_or_else(|_| vec![recipients]),
        message_id: r.get(5)?,
        content_hash: r.get(6)?,
        last_reply: r.get(7)?,
        batch: r.get(8)?,
        first_attempt_at: r.get(9)?,
        last_attempt_at: r.get(10)?,
        sent_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

/// Writes `in-flight` rows for `marks` (one attempt more each). A user's batch is the one of
/// their first attempt with a batch: a later run with other exports never relabels them.
pub(crate) fn write_marks(
    tx: &Transaction<'_>,
    book: &Book,
    marks: &[Mark],
) -> rusqlite::Result<()> {
    match book {
        Book::Campaign { campaign } => {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO deliveries (campaign, user_key, state, attempts, recipients, message_id,
                     content_hash, batch, first_attempt_at, last_attempt_at, updated_at)
                 VALUES (?1, ?2, 'in-flight', 1, ?3, ?4, ?5, ?6, ?7, ?7, ?7)
                 ON CONFLICT (campaign, user_key) DO UPDATE SET
                     state = 'in-flight', attempts = attempts + 1, recipients = excluded.recipients,
                     message_id = excluded.message_id, content_hash = excluded.content_hash,
                     batch = COALESCE(batch, excluded.batch),
                     first_attempt_at = COALESCE(first_attempt_at, excluded.first_attempt_at),
                     last_attempt_at = excluded.last_attempt_at, updated_at = excluded.updated_at",
            )?;
            for m in marks {
                let recipients = serde_json::to_string(&m.recipients).unwrap_or_default();
                let at = timestamp(m.at);
                stmt.execute(params![
                    campaign,
                    m.user_key,
                    recipients,
                    m.message_id,
                    m.content_hash,
                    m.batch,
                    at
                ])?;
            }
        }
        Book::Test { campaign, run, to } => {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO test_sends (run, user_key, campaign, test_to, state, attempts, message_id,
                     content_hash, first_attempt_at, last_attempt_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'in-flight', 1, ?5, ?6, ?7, ?7, ?7)
                 ON CONFLICT (run, user_key) DO UPDATE SET
                     state = 'in-flight', attempts = attempts + 1,
                     last_attempt_at = excluded.last_attempt_at, updated_at = excluded.updated_at",
            )?;
            for m in marks {
                let at = timestamp(m.at);
                stmt.execute(params![
                    run,
                    m.user_key,
                    campaign,
                    to,
                    m.message_id,
                    m.content_hash,
                    at
                ])?;
            }
        }
    }
    Ok(())
}

/// Records how attempts ended, and adds accepted messages to the submissions log.
pub(crate) fn write_settled(
    tx: &Transaction<'_>,
    book: &Book,
    mailbox: &str,
    settled: &[Settled],
) -> rusqlite::Result<()> {
    let (table, key_col, key_val, test) = match book {
        Book::Campaign { campaign } => ("deliveries", "campaign", campaign, false),
        Book::Test { run, .. } => ("test_sends", "run", run, true),
    };
    let mut update = tx.prepare_cached(&format!(
        "UPDATE {table} SET state = ?1, last_reply = ?2, updated_at = ?3,
             sent_at = CASE WHEN ?1 = 'sent' THEN ?3 ELSE sent_at END
         WHERE {key_col} = ?4 AND user_key = ?5"
    ))?;
    let mut revert = tx.prepare_cached(&format!(
        "UPDATE {table} SET state = ?1, attempts = MAX(attempts - 1, 0), updated_at = ?2
         WHERE {key_col} = ?3 AND user_key = ?4"
    ))?;
    let mut forget = tx.prepare_cached(&format!(
        "DELETE FROM {table} WHERE {key_col} = ?1 AND user_key = ?2"
    ))?;
    let mut submit = tx.prepare_cached(
        "INSERT INTO submissions (at_ms, recipients, campaign, test, mailbox)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for s in settled {
        let at = timestamp(s.at);
        let state = match s.resolution {
            Resolution::Sent => DeliveryState::Sent,
            Resolution::Deferred => DeliveryState::Deferred,
            Resolution::Failed => DeliveryState::Failed,
            Resolution::Uncertain => DeliveryState::Uncertain,
            Resolution::Revert { prior: Some(prior) } => {
                revert.execute(params![prior.as_str(), at, key_val, s.user_key])?;
                continue;
            }
            Resolution::Revert { prior: None } => {
                forget.execute(params![key_val, s.user_key])?;
                continue;
            }
        };
        update.execute(params![state.as_str(), s.reply, at, key_val, s.user_key])?;
        if s.submitted > 0 {
            submit.execute(params![
                s.at.timestamp_millis(),
                s.submitted,
                book.campaign(),
                test,
                mailbox
            ])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
