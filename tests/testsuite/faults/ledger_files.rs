//! Ledger files this build did not just write: one from schema version 1 (migrated, trust
//! confirmations kept), one from a newer t2t-notify, garbage, a truncated real ledger, and one
//! that another process holds an exclusive SQLite lock on. Everything but the first is refused
//! with a clear error before any message is sent.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use rusqlite::Connection;

use super::support::*;
use crate::send::helpers::{once_each, sample_recipients, Site};
use crate::sink::Sink;

/// Migration 1 exactly as released in the first ledger (`src/ledger/schema.rs`, never edited).
const MIGRATION_1: &str = "CREATE TABLE trust_confirmations (
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
    );";

/// The trust confirmations of the sample config's one host pair, as `trust confirm` stores them.
const CONFIRMATIONS: &str = "INSERT INTO trust_confirmations VALUES
    ('source', 'https://contoso-my.sharepoint.com/', 'https://fabrikam-my.sharepoint.com/',
     'NotEstablished', '2026-11-20T06:00:00Z', 'admin@contoso.onmicrosoft.com',
     '/evidence/source.json', 'a3f1c2d4e5b6a7980112233445566778899aabbccddeeff00112233445566778',
     '2026-11-21T09:30:00Z'),
    ('target', 'https://fabrikam-my.sharepoint.com/', 'https://contoso-my.sharepoint.com/',
     'NotEstablished', '2026-11-20T06:00:00Z', 'admin@fabrikam.onmicrosoft.com',
     '/evidence/target.json', 'b4e2d3c5f6a7b8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081',
     '2026-11-21T09:31:00Z');";

/// Writes a version-1 ledger (WAL mode, as the first t2t-notify left it) with both sides
/// confirmed.
fn write_v1_ledger(path: &Path) {
    let conn = Connection::open(path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.execute_batch(MIGRATION_1).unwrap();
    conn.execute_batch(CONFIRMATIONS).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
}

fn trust_rows(path: &Path) -> Vec<Vec<Option<String>>> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT * FROM trust_confirmations ORDER BY side")
        .unwrap();
    let rows = stmt
        .query_map([], |r| (0..9).map(|i| r.get(i)).collect())
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn user_version(path: &Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_version_1_ledger_is_migrated_and_keeps_its_trust_confirmations() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    write_v1_ledger(&site.ledger());
    let before = trust_rows(&site.ledger());
    assert_eq!(before.len(), 2);
    site.t2t()
        .args(["trust", "status"])
        .run()
        .status(0)
        .contains("trust gate open");
    assert_eq!(
        user_version(&site.ledger()),
        t2t_notify::ledger::schema::CURRENT
    );
    assert_eq!(trust_rows(&site.ledger()), before, "confirmations survive");
    site.send(&[]).status(0);
    assert_eq!(sink.deliveries(), once_each(&sample_recipients()));
    assert_eq!(site.states().len(), 30, "the new tables work");
}

#[test]
fn a_ledger_from_a_newer_t2t_notify_is_refused() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    site.open_gate();
    let newer = t2t_notify::ledger::schema::CURRENT + 1;
    Connection::open(site.ledger())
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();
    site.send(&[])
        .status(1)
        .contains(&format!("has schema version {newer}, newer than"));
    assert_eq!(sink.count(), 0);
    assert_eq!(user_version(&site.ledger()), newer, "left as it was");
}

/// `send` on a damaged ledger: exit 1 naming the file, nothing sent, the file untouched.
fn assert_refused_as_damaged(site: &Site, sink: &Sink, what: &str) {
    let bytes = std::fs::read(site.ledger()).unwrap();
    site.send(&["--limit", "50"])
        .status(1)
        .contains(&format!(
            "ledger {} is not a t2t-notify ledger or is damaged",
            site.ledger().display()
        ))
        .contains("restore it from a backup");
    assert_eq!(sink.count(), 0, "{what}: nothing was sent");
    assert_eq!(
        std::fs::read(site.ledger()).unwrap(),
        bytes,
        "{what}: the damaged file is left as it was"
    );
}

#[test]
fn a_garbage_ledger_is_refused_before_anything_is_sent() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    let noise: Vec<u8> = (0..65_536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(site.ledger(), &noise).unwrap();
    assert_refused_as_damaged(&site, &sink, "noise");
    let mut header = b"SQLite format 3\0".to_vec();
    header.extend_from_slice(&noise);
    std::fs::write(site.ledger(), &header).unwrap();
    assert_refused_as_damaged(&site, &sink, "an SQLite header over noise");
}

#[test]
fn a_truncated_ledger_is_refused_before_anything_is_sent() {
    let first = Sink::start();
    let (site, users) = fleet(first.port, 2000);
    site.send_files(&users, &[]).status(0);
    // Compacted, so every page is in use: cutting away a free page would lose nothing.
    Connection::open(site.ledger())
        .unwrap()
        .execute_batch("VACUUM")
        .unwrap();
    let whole = std::fs::read(site.ledger()).unwrap();
    assert!(
        !site_dir(&site).join("ledger.db-wal").exists(),
        "the WAL was checkpointed into the file"
    );
    let len = whole.len();
    for cut in [
        100,
        4096,
        4196,
        len / 2 + 100,
        len - 4096,
        len - 100,
        len - 1,
    ] {
        let sink = Sink::start();
        let site = Site::new(sink.port);
        std::fs::write(site.ledger(), &whole[..cut]).unwrap();
        let refused = site
            .t2t()
            .args(["send", "--limit", "50", "--mapping"])
            .arg(users.join("identity-map.csv"))
            .arg("--directory")
            .arg(users.join("directory.csv"))
            .run();
        assert!(
            refused.code() == 1
                && refused
                    .stderr()
                    .contains("is not a t2t-notify ledger or is damaged"),
            "cut at {cut} of {len}: exit {}\n{}{}",
            refused.code(),
            refused.stdout(),
            refused.stderr()
        );
        assert_eq!(sink.count(), 0, "cut at {cut} of {len}: nothing was sent");
    }
}

/// Another process holding an exclusive SQLite lock on the ledger until dropped.
struct SqliteLocker {
    child: Child,
}

impl SqliteLocker {
    /// `locking_mode` NORMAL keeps readers going (WAL); EXCLUSIVE shuts them out too.
    fn hold(ledger: &Path, locking_mode: &str) -> SqliteLocker {
        let script = format!(
            "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('PRAGMA locking_mode={locking_mode}')\nc.execute('BEGIN EXCLUSIVE')\nprint('LOCKED', flush=True)\nsys.stdin.read()\n"
        );
        let mut child = Command::new("/usr/bin/python3")
            .args(["-c", &script])
            .arg(ledger)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run /usr/bin/python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "LOCKED");
        SqliteLocker { child }
    }
}

impl Drop for SqliteLocker {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"");
        }
        let _ = self.child.wait();
    }
}

#[test]
fn a_ledger_locked_by_another_process_is_refused_before_anything_is_sent() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    site.open_gate();
    for mode in ["NORMAL", "EXCLUSIVE"] {
        let held = SqliteLocker::hold(&site.ledger(), mode);
        site.send(&[]).status(1).contains(&format!(
            "ledger {} is locked by another process",
            site.ledger().display()
        ));
        assert_eq!(sink.count(), 0, "{mode}: nothing was sent");
        drop(held);
    }
    site.send(&[]).status(0);
    assert_eq!(sink.deliveries(), once_each(&sample_recipients()));
}
