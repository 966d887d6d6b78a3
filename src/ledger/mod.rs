//! The ledger: one SQLite file (`[ledger].path`) that remembers the trust evidence and every
//! user's delivery state across runs. The only module that knows SQL.
//!
//! The file is created owner-only (0600) since it holds users' addresses, runs in WAL mode,
//! and carries a schema version that [`schema::migrate`] brings up to date on open.

pub mod audit;
pub mod deliveries;
pub mod directories;
pub mod journey;
pub mod lock;
pub mod schema;
pub mod sign_ins;
pub mod trust;
pub mod writer;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

/// Why the ledger could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(
        "ledger {path}: cannot open: {source}; check [ledger].path and the folder's permissions"
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("ledger {path} is not a t2t-notify ledger or is damaged ({source}); move it aside and restore it from a backup, or point [ledger].path at a new file")]
    Corrupt {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("ledger {path}: the disk that holds it is full ({source}); free space on that disk, or set [ledger].path to a disk with room, and run again")]
    DiskFull {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("ledger {path}: reading or writing the disk that holds it failed ({source}); check that there is free space on that disk, that no file-size limit (ulimit -f) applies and that the disk works, and run again")]
    Disk {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("ledger {path} cannot be written ({source}): every run records in it what it sends. Make the file and its folder writable for the user running t2t-notify (SQLite also writes the -wal and -shm files next to it; a read-only disk or share cannot hold the ledger), or copy the ledger to a writable folder and set [ledger].path to the copy")]
    NotWritable {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("ledger {path} is locked by another process (another t2t-notify send?); wait for it to finish")]
    Locked { path: PathBuf },
    #[error("ledger {path} has schema version {found}, newer than this t2t-notify understands ({supported}); use a newer t2t-notify")]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("ledger {path}: {source}")]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the ledger writer stopped before it could record this; the messages it had not recorded stay in-flight and are listed as uncertain on the next run")]
    WriterStopped,
}

/// An open ledger.
#[derive(Debug)]
pub struct Ledger {
    pub(crate) conn: Connection,
    path: PathBuf,
}

impl Ledger {
    /// Opens (creating if needed) and migrates the ledger at `path`.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        create_private(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|source| LedgerError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        // SQLite opens a file it may not write read-only without a word, and only the first
        // write fails: say so now, before anything is sent that could not be recorded.
        if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
            return Err(LedgerError::NotWritable {
                path: path.to_path_buf(),
                source: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
                    Some("it opens read-only".into()),
                ),
            });
        }
        let mut ledger = Ledger {
            conn,
            path: path.to_path_buf(),
        };
        ledger.configure()?;
        ledger.check_integrity()?;
        schema::migrate(&mut ledger)?;
        Ok(ledger)
    }

    /// Where the ledger lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new ledger in a folder of its own, which goes when the guard drops (for tests).
    #[cfg(test)]
    pub(crate) fn temp() -> (tempfile::TempDir, Ledger) {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        (dir, ledger)
    }

    fn configure(&mut self) -> Result<(), LedgerError> {
        self.conn
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| self.classify(e))?;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| self.classify(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %self.path.display(), mode, "ledger is not in WAL mode");
        }
        self.conn
            .execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(|e| self.classify(e))
    }

    /// Refuses a damaged file before anything trusts what it says. SQLite reads the missing
    /// part of a page that a truncation cut short as zeros, without an error, so a row (a user
    /// already sent to) could change or vanish silently: the file must hold whole pages. Then
    /// `PRAGMA quick_check` reads every page and finds pages cut away or overwritten.
    fn check_integrity(&self) -> Result<(), LedgerError> {
        let page_size: u64 = self
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(|e| self.classify(e))?;
        let len = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        if page_size > 0 && !len.is_multiple_of(page_size) {
            return Err(self.corrupt(format!(
                "the file ends inside a page ({len} bytes are not whole {page_size}-byte pages): it was cut short"
            )));
        }
        let verdict: String = self
            .conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| self.classify(e))?;
        if verdict == "ok" {
            return Ok(());
        }
        let first = verdict
            .lines()
            .find(|l| !l.starts_with("***"))
            .unwrap_or(&verdict);
        Err(self.corrupt(format!("integrity check: {first}")))
    }

    fn corrupt(&self, why: String) -> LedgerError {
        LedgerError::Corrupt {
            path: self.path.clone(),
            source: rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                Some(why),
            ),
        }
    }

    /// Turns an SQLite error into the ledger error that tells the admin what to do.
    pub(crate) fn classify(&self, e: rusqlite::Error) -> LedgerError {
        classify(&self.path, e)
    }

    /// Every row `sql` selects, each mapped by `row`, collected into `C`.
    pub(crate) fn rows<T, C: FromIterator<T>>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<C, LedgerError> {
        let query =
            || -> rusqlite::Result<C> { self.conn.prepare(sql)?.query_map(params, row)?.collect() };
        query().map_err(|e| self.classify(e))
    }
}

/// Maps SQLite's error codes to the admin-facing ledger errors.
pub(crate) fn classify(path: &Path, e: rusqlite::Error) -> LedgerError {
    use rusqlite::ErrorCode;
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            LedgerError::Corrupt { path, source: e }
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => LedgerError::Locked { path },
        Some(ErrorCode::DiskFull) => LedgerError::DiskFull { path, source: e },
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen) => {
            LedgerError::NotWritable { path, source: e }
        }
        Some(ErrorCode::SystemIoFailure) => LedgerError::Disk { path, source: e },
        _ => LedgerError::Sql { path, source: e },
    }
}

/// Creates the file with mode 0600 before SQLite opens it, so it is never readable by others.
fn create_private(path: &Path) -> Result<(), LedgerError> {
    let cannot_open = |e: std::io::Error| LedgerError::Open {
        path: path.to_path_buf(),
        source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.exists() {
            crate::platform::create_private_dir_all(parent).map_err(cannot_open)?;
        }
    }
    match crate::platform::open_private(
        std::fs::OpenOptions::new().write(true).create_new(true),
        path,
    ) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(cannot_open(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ledger_is_private_and_current() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let ledger = Ledger::open(&path).unwrap();
        assert!(crate::platform::is_owner_only(&path));
        assert_eq!(schema::version(&ledger).unwrap(), schema::CURRENT);
        drop(ledger);
        Ledger::open(&path).unwrap();
    }

    #[test]
    fn only_in_flight_rows_are_indexed_by_state_and_the_leftover_query_uses_that() {
        let (_dir, ledger) = Ledger::temp();
        let plan: String = ledger
            .conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT user_key FROM deliveries WHERE state = 'in-flight'",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("deliveries_in_flight"), "{plan}");
        let indexes: Vec<String> = ledger
            .conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(indexes, ["deliveries_in_flight"]);
    }

    #[test]
    fn disk_errors_name_the_ledger_and_the_disk() {
        use rusqlite::ffi;
        let failure = |code| rusqlite::Error::SqliteFailure(ffi::Error::new(code), None);
        let path = Path::new("/data/t2t.db");
        let full = classify(path, failure(ffi::SQLITE_FULL));
        assert!(matches!(full, LedgerError::DiskFull { .. }), "{full}");
        let write = classify(path, failure(ffi::SQLITE_IOERR_WRITE));
        assert!(matches!(write, LedgerError::Disk { .. }), "{write}");
        for e in [full, write] {
            let text = e.to_string();
            assert!(
                text.starts_with("ledger /data/t2t.db: ") && text.contains("free space on"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_file_cut_short_or_with_a_page_overwritten_is_refused_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let ledger = Ledger::open(&path).unwrap();
        for i in 0..2000 {
            ledger
                .conn
                .execute(
                    "INSERT INTO submissions (at_ms, recipients, campaign) VALUES (?1, 1, 'c')",
                    [i],
                )
                .unwrap();
        }
        drop(ledger);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
        let err = Ledger::open(&path).unwrap_err();
        assert!(matches!(err, LedgerError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("it was cut short"), "{err}");
        let mut zeroed = bytes.clone();
        let middle = bytes.len() / 4096 / 2 * 4096;
        zeroed[middle..middle + 4096].fill(0);
        std::fs::write(&path, &zeroed).unwrap();
        let err = Ledger::open(&path).unwrap_err();
        assert!(matches!(err, LedgerError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("integrity check"), "{err}");
    }

    #[test]
    fn a_write_refused_as_read_only_says_which_file_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        drop(Ledger::open(&path).unwrap());
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let refused = conn
            .execute(
                "INSERT INTO submissions (at_ms, recipients, campaign) VALUES (1, 1, 'c')",
                [],
            )
            .unwrap_err();
        let err = classify(&path, refused);
        assert!(matches!(err, LedgerError::NotWritable { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("ledger {} cannot be written", path.display()))
                && text.contains("readonly database")
                && text.contains("writable for the user running t2t-notify")
                && text.contains("copy the ledger to a writable folder"),
            "{text}"
        );
    }

    #[test]
    fn garbage_file_is_refused_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
        let err = Ledger::open(&path).unwrap_err();
        assert!(matches!(err, LedgerError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("damaged"));
    }
}
