//! The summary file: `summary-<UTC timestamp>-<campaign>.json` in `[notify].summary_dir` (by
//! default the ledger's folder), owner-only (0600, folder 0700 when created), never replacing
//! another run's file; rewritten in place (through a temporary file and a rename) once the
//! webhook and the mail have been tried.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::platform::open_private;

/// The folder summaries go to: `[notify].summary_dir`, else the ledger's folder.
pub fn summary_dir(config: &Config) -> PathBuf {
    match &config.notify.summary_dir {
        Some(dir) => dir.clone(),
        None => match config.ledger.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        },
    }
}

/// The file name of a run's summary: `summary-20250301T101500Z-post-migration.json`, with
/// anything but letters, digits, `.`, `_` and `-` in the campaign turned into `_`.
pub fn file_name(started: DateTime<Utc>, campaign: &str, attempt: u32) -> String {
    let safe: String = campaign.chars().map(file_name_char).collect();
    let safe = safe.trim_start_matches('.');
    let suffix = if attempt > 1 {
        format!("-{attempt}")
    } else {
        String::new()
    };
    format!(
        "summary-{}-{safe}{suffix}.json",
        started.format("%Y%m%dT%H%M%SZ")
    )
}

/// `c` if it is safe in a file name on every platform (ASCII letters and digits, `.`, `_`,
/// `-`), else `_`.
pub fn file_name_char(c: char) -> char {
    if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
        c
    } else {
        '_'
    }
}

/// Writes `json` to a new file in `dir` (created 0700 if missing), 0600, and returns its path.
pub fn write_new(
    dir: &Path,
    started: DateTime<Utc>,
    campaign: &str,
    json: &[u8],
) -> std::io::Result<PathBuf> {
    if !dir.exists() {
        crate::platform::create_private_dir_all(dir)?;
    }
    for attempt in 1..=100 {
        let path = dir.join(file_name(started, campaign, attempt));
        match open_private(OpenOptions::new().write(true).create_new(true), &path) {
            Ok(mut file) => {
                file.write_all(json)?;
                file.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!(
            "{}: 100 summaries of this second already exist",
            dir.display()
        ),
    ))
}

/// Replaces the content of the summary at `path` (through a 0600 temporary file and a
/// rename, so a reader never sees half a file).
pub fn rewrite(path: &Path, json: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    write_private(&tmp, json)?;
    std::fs::rename(&tmp, path)
}

/// Writes `bytes` to `path` readable by the owner only (0600, also when the file existed),
/// and waits until they are on disk.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = open_private(
        OpenOptions::new().write(true).create(true).truncate(true),
        path,
    )?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::is_owner_only;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-03-01T10:15:00.250Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn names_carry_the_utc_time_and_a_safe_campaign() {
        assert_eq!(
            file_name(at(), "post-migration", 1),
            "summary-20250301T101500Z-post-migration.json"
        );
        assert_eq!(
            file_name(at(), "../../etc/x y", 2),
            "summary-20250301T101500Z-_.._etc_x_y-2.json"
        );
    }

    #[test]
    fn files_are_private_never_replace_another_run_and_rewrite_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("summaries");
        let first = write_new(&dir, at(), "c", b"{\"a\":1}").unwrap();
        let second = write_new(&dir, at(), "c", b"{\"a\":2}").unwrap();
        assert_ne!(first, second);
        assert!(second.to_string_lossy().ends_with("-c-2.json"));
        rewrite(&first, b"{\"a\":3}").unwrap();
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "{\"a\":3}");
        assert_eq!(std::fs::read_to_string(&second).unwrap(), "{\"a\":2}");
        for p in [&first, &second, &dir] {
            assert!(is_owner_only(p), "{}", p.display());
        }
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            2,
            "no temp file left"
        );
    }
}
