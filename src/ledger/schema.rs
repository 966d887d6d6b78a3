//! Schema versions and migrations. Each migration moves the file from version N-1 to N inside
//! one transaction; `PRAGMA user_version` holds the version. Never edit a released migration:
//! add the next one.

use super::{Ledger, LedgerError};

/// Migrations in order; index i takes the schema from version i to i+1.
const MIGRATIONS: &[&str] = &[
    // 1: trust evidence confirmed per host pair.
    "CREATE TABLE trust_confirmations (
        side          TEXT NOT NULL CHECK (side IN ('source', 'target')),
        host_url      TEXT NOT NULL,
        partner_url   TEXT NOT NULL,
        verify_result TEXT NOT NULL,
        checked_at    TEXT NOT NULL,
        checked_by    TEXT,
        file_name     TEXT NOT NULL,
        sha256        TEXT NOT NULL,
        confirmed_at  TEXT NOT NULL,
        PRIMARY KEY (side, host_url, partner_url)
    );",
    // 2: delivery state per (campaign, user), test sends, and the submissions log that the
    // rolling 24 h budget is counted from.
    "CREATE TABLE deliveries (
        campaign         TEXT NOT NULL,
        user_key         TEXT NOT NULL,
        state            TEXT NOT NULL CHECK (state IN
                             ('pending', 'in-flight', 'sent', 'deferred', 'failed', 'uncertain')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        recipients       TEXT NOT NULL,
        message_id       TEXT,
        content_hash     TEXT,
        last_reply       TEXT,
        batch            TEXT,
        first_attempt_at TEXT,
        last_attempt_at  TEXT,
        sent_at          TEXT,
        updated_at       TEXT NOT NULL,
        PRIMARY KEY (campaign, user_key)
    ) WITHOUT ROWID;
    CREATE INDEX deliveries_state ON deliveries (state);
    CREATE TABLE test_sends (
        run              TEXT NOT NULL,
        user_key         TEXT NOT NULL,
        campaign         TEXT NOT NULL,
        test_to          TEXT NOT NULL,
        state            TEXT NOT NULL CHECK (state IN
                             ('pending', 'in-flight', 'sent', 'deferred', 'failed', 'uncertain')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        message_id       TEXT,
        content_hash     TEXT,
        last_reply       TEXT,
        first_attempt_at TEXT,
        last_attempt_at  TEXT,
        sent_at          TEXT,
        updated_at       TEXT NOT NULL,
        PRIMARY KEY (run, user_key)
    ) WITHOUT ROWID;
    CREATE TABLE submissions (
        id         INTEGER PRIMARY KEY,
        at_ms      INTEGER NOT NULL,
        recipients INTEGER NOT NULL,
        campaign   TEXT NOT NULL,
        test       INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX submissions_at ON submissions (at_ms);",
    // 3: the index on every row's state cost a tenth of a send's CPU (each message moved its
    // entry twice) and served one query: the rows left `in-flight` by an earlier run. A
    // partial index holds just those rows (a window's worth during a send).
    "DROP INDEX deliveries_state;
    CREATE INDEX deliveries_in_flight ON deliveries (campaign) WHERE state = 'in-flight';",
    // 4: the directory file each campaign was sent with, so that a later send without it or
    // with another one (nameless, default-language notices) is refused.
    "CREATE TABLE campaign_directories (
        campaign    TEXT PRIMARY KEY,
        path        TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    ) WITHOUT ROWID;",
    // 5: campaigns. The mailbox each submission was sent from (campaigns may send from other
    // mailboxes, each with its own day budget), and the sign-in evidence reminders go by:
    // every distinct last successful sign-in learnt per target user, and each import.
    "ALTER TABLE submissions ADD COLUMN mailbox TEXT;
    CREATE TABLE sign_ins (
        user_key     TEXT NOT NULL,
        signed_in_at TEXT NOT NULL,
        source       TEXT NOT NULL,
        learnt_at    TEXT NOT NULL,
        PRIMARY KEY (user_key, signed_in_at)
    ) WITHOUT ROWID;
    CREATE TABLE sign_in_imports (
        id        INTEGER PRIMARY KEY,
        learnt_at TEXT NOT NULL,
        source    TEXT NOT NULL,
        users     INTEGER NOT NULL,
        signed_in INTEGER NOT NULL
    );",
    // 6: the audit log of `serve`'s dashboard and API: who paused, resumed, retried or resent,
    // when, and what it did.
    "CREATE TABLE audit_log (
        id       INTEGER PRIMARY KEY,
        at       TEXT NOT NULL,
        who      TEXT NOT NULL,
        action   TEXT NOT NULL,
        campaign TEXT,
        detail   TEXT NOT NULL
    );",
];

/// The version this build writes.
pub const CURRENT: i64 = MIGRATIONS.len() as i64;

/// The file's schema version.
pub fn version(ledger: &Ledger) -> Result<i64, LedgerError> {
    ledger
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| ledger.classify(e))
}

/// Brings the file to [`CURRENT`], refusing files from a newer t2t-notify.
pub fn migrate(ledger: &mut Ledger) -> Result<(), LedgerError> {
    let found = version(ledger)?;
    if found > CURRENT {
        return Err(LedgerError::TooNew {
            path: ledger.path.clone(),
            found,
            supported: CURRENT,
        });
    }
    let path = ledger.path.clone();
    let classify = |e| super::classify(&path, e);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = ledger.conn.transaction().map_err(classify)?;
        tx.execute_batch(sql).map_err(classify)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .map_err(classify)?;
        tx.commit().map_err(classify)?;
        tracing::debug!(version = i + 1, "ledger migrated");
    }
    Ok(())
}
