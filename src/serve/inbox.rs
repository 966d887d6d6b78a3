//! The inbox folder of `serve`: inputs arrive by themselves. An admin's scheduled task exports
//! move states, schedules, sign-ins or trust evidence into the folder; each [`Inbox::scan`]
//! takes every file that has stopped changing, recognises it by its content
//! (`inputs::sniff`), reads it with the reader `validate`, `sign-ins` and `trust confirm` use
//! (so its errors are the same located ones), and moves it:
//!
//! - to `processed/<UTC time>-<name>` when it has no error: a sign-in export is recorded in the
//!   ledger, trust evidence is confirmed by `gate::confirm` exactly as `trust confirm` does (no
//!   other way in: the gate stays what it is for `send`), and move-state exports and schedules
//!   stay there for the plan ([`processed_inputs`]);
//! - to `rejected/<UTC time>-<name>` when it has errors, with `<that name>.reason.txt` next to
//!   it holding every error and what to do. Nothing of a rejected file is recorded or sent.
//!
//! Files are only ever renamed within the inbox (one file system), never deleted or replaced:
//! a name already taken gets `-2`, `-3`, ... before its extension. Hidden and temporary names
//! (`.x`, `~$x`, `x.tmp`, `x.partial`, `x.crdownload`) are left alone, so a task that exports
//! to `x.csv.partial` and renames it when done is never read half-written. A file is also
//! only taken once its size and modification time have not changed for [`SETTLE`] (two scans
//! apart), because `Export-Csv` writes rows as the pipeline produces them.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::diag::{count, Diagnostics, Severity};
use crate::gate::confirm::{self, Verdict};
use crate::inputs::move_state::{self, MoveState};
use crate::inputs::schedule::Schedule;
use crate::inputs::sign_ins;
use crate::inputs::sniff::{self, InputKind};
use crate::ledger::sign_ins::SignInFact;
use crate::ledger::{Ledger, LedgerError};
use crate::platform;
use crate::trust::Hosts;

/// The folder of files taken without error.
pub const PROCESSED: &str = "processed";
/// The folder of files with errors, each with its `.reason.txt`.
pub const REJECTED: &str = "rejected";
/// How long a file's size and modification time must stay the same before it is read.
pub const SETTLE: Duration = Duration::seconds(2);

/// What went wrong with the inbox itself (a file's own problems are [`Arrival`]s).
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("cannot list the inbox folder {}", path.display())]
    List { path: PathBuf, source: io::Error },
    #[error("cannot read {}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot create the inbox folder {} (only its owner may open it)", path.display())]
    Folder { path: PathBuf, source: io::Error },
    #[error("cannot write the reason file {}", path.display())]
    Reason { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Where a file went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Processed,
    Rejected,
}

/// One file taken from the inbox, for the log and the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Arrival {
    /// The file's name as it was dropped.
    pub name: String,
    /// What it is; `None` when it is nothing t2t-notify reads.
    pub kind: Option<InputKind>,
    pub outcome: Outcome,
    /// Its path in `processed/` or `rejected/`.
    pub moved_to: PathBuf,
    /// The `.reason.txt` of a rejected file.
    pub reason_file: Option<PathBuf>,
    /// Entries (move states), users (schedule, sign-ins) or evidence files read without error.
    pub rows: u64,
    /// One line: what was read and done.
    pub summary: String,
    /// Every error, located (`file:line: column N (name): ...`); empty when processed.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub at: DateTime<Utc>,
}

/// A file left in the inbox for now, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    pub name: String,
    pub why: String,
}

/// What one scan did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scan {
    /// The files taken, in the order they were taken (oldest modification first).
    pub arrivals: Vec<Arrival>,
    /// The files not taken yet: still changing, or not readable now.
    pub waiting: Vec<Waiting>,
}

/// The processed move-state exports and schedules, oldest first, for the plan's
/// `--move-state` and `--schedule` (after the config's `[inputs]`). Without `--batch`, the plan
/// labels a move-state entry's batch with its file's name without extension, so here with the
/// time it was taken in front (`20261206T090002Z-batch-1`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProcessedInputs {
    pub move_states: Vec<PathBuf>,
    pub schedules: Vec<PathBuf>,
}

/// A file's size and modification time, as one scan saw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    len: u64,
    modified: Option<SystemTime>,
}

/// Since when a file has looked the same.
#[derive(Debug, Clone, Copy)]
struct Sighting {
    stat: Stat,
    since: DateTime<Utc>,
}

/// An inbox folder and what the last scan saw in it.
#[derive(Debug)]
pub struct Inbox {
    dir: PathBuf,
    sightings: HashMap<OsString, Sighting>,
}

impl Inbox {
    pub fn new(dir: impl Into<PathBuf>) -> Inbox {
        Inbox {
            dir: dir.into(),
            sightings: HashMap::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Takes every file that has not changed for [`SETTLE`] (as seen by this and earlier
    /// scans, `now` being this scan's time). A ledger error stops the scan, leaving the file
    /// in the inbox for the next one.
    pub fn scan(
        &mut self,
        config: &Config,
        ledger: &mut Ledger,
        now: DateTime<Utc>,
    ) -> Result<Scan, InboxError> {
        let (ready, mut waiting) = self.settled(now)?;
        let mut arrivals = Vec::new();
        if !ready.is_empty() {
            for folder in [PROCESSED, REJECTED] {
                let path = self.dir.join(folder);
                platform::create_private_dir_all(&path)
                    .map_err(|source| InboxError::Folder { path, source })?;
            }
        }
        for name in ready {
            match self.take(&name, config, ledger, now)? {
                Ok(arrival) => {
                    self.sightings.remove(&name);
                    arrivals.push(arrival);
                }
                Err(wait) => waiting.push(wait),
            }
        }
        Ok(Scan { arrivals, waiting })
    }

    /// The candidate files that have settled, oldest first, and those still changing.
    fn settled(&mut self, now: DateTime<Utc>) -> Result<(Vec<OsString>, Vec<Waiting>), InboxError> {
        let list = |source| InboxError::List {
            path: self.dir.clone(),
            source,
        };
        let mut seen = HashMap::new();
        let (mut ready, mut waiting) = (Vec::new(), Vec::new());
        for entry in fs::read_dir(&self.dir).map_err(list)? {
            let entry = entry.map_err(list)?;
            let name = entry.file_name();
            // A symbolic link is not taken: renaming it would move the link, not the export.
            let regular = entry.file_type().is_ok_and(|t| t.is_file());
            if !regular || !is_candidate(&name.to_string_lossy()) {
                continue;
            }
            // A file gone since the listing is no longer in the inbox.
            let Ok(meta) = entry.metadata() else { continue };
            let stat = Stat {
                len: meta.len(),
                modified: meta.modified().ok(),
            };
            let since = match self.sightings.get(&name) {
                Some(s) if s.stat == stat => s.since,
                _ => now,
            };
            seen.insert(name.clone(), Sighting { stat, since });
            if now - since >= SETTLE {
                ready.push((stat.modified, name));
            } else {
                waiting.push(Waiting {
                    name: name.to_string_lossy().into_owned(),
                    why: format!(
                        "may still be being written; it is read once it has not changed for {} seconds",
                        SETTLE.num_seconds()
                    ),
                });
            }
        }
        self.sightings = seen;
        ready.sort();
        Ok((ready.into_iter().map(|(_, name)| name).collect(), waiting))
    }

    /// Reads, records and moves one file; `Err(Waiting)` when it cannot be read now.
    fn take(
        &self,
        name: &OsString,
        config: &Config,
        ledger: &mut Ledger,
        now: DateTime<Utc>,
    ) -> Result<Result<Arrival, Waiting>, InboxError> {
        let path = self.dir.join(name);
        let shown = name.to_string_lossy().into_owned();
        let stamped = format!("{}-{shown}", now.format("%Y%m%dT%H%M%SZ"));
        let checked = match self.check(&path, &shown, &stamped, config, ledger, now) {
            Ok(checked) => checked,
            Err(CheckError::Ledger(e)) => return Err(e.into()),
            Err(CheckError::Io(e)) => {
                return Ok(Err(Waiting {
                    name: shown,
                    why: format!("cannot be read now ({e}); it is tried again"),
                }))
            }
        };
        let (outcome, to) = if checked.errors.is_empty() {
            let to = checked.processed_at.clone();
            let to = to.unwrap_or_else(|| free_name(&self.dir.join(PROCESSED), &stamped, false));
            (Outcome::Processed, to)
        } else {
            let to = free_name(&self.dir.join(REJECTED), &stamped, true);
            (Outcome::Rejected, to)
        };
        // Windows refuses to rename a file its writer still holds open: the file stays for
        // the next scan, which reads it again whole. What was recorded of it is recorded
        // again: the ledger keeps each sign-in and each evidence file once (the sign-in
        // import log gets a second line).
        if let Err(e) = fs::rename(&path, &to) {
            return Ok(Err(Waiting {
                name: shown,
                why: format!(
                    "cannot be moved to {} now ({e}); it is tried again",
                    to.display()
                ),
            }));
        }
        let reason = match outcome {
            Outcome::Processed => None,
            Outcome::Rejected => {
                let reason = reason_path(&to);
                write_reason(&reason, &reason_text(&shown, &self.dir, &checked, now))?;
                Some(reason)
            }
        };
        Ok(Ok(checked.into_arrival(shown, outcome, to, reason, now)))
    }

    /// Reads the file with its kind's reader and, when it has no error, records what the
    /// ledger keeps of it.
    fn check(
        &self,
        path: &Path,
        shown: &str,
        stamped: &str,
        config: &Config,
        ledger: &mut Ledger,
        now: DateTime<Utc>,
    ) -> Result<Checked, CheckError> {
        let kind = match sniff::sniff_file(path)? {
            Ok(kind) => kind,
            Err(why) => {
                let error = format!("{}: not a file t2t-notify reads: {why}", path.display());
                return Ok(Checked::unknown(error));
            }
        };
        Ok(match kind {
            InputKind::MoveState => check_move_state(path)?,
            InputKind::Schedule => check_schedule(path, &self.earlier_schedules(config))?,
            InputKind::SignIns => record_sign_ins(check_sign_ins(path)?, ledger, shown, now)?,
            InputKind::TrustEvidence => {
                let to = free_name(&self.dir.join(PROCESSED), stamped, false);
                let hosts = Hosts::from_config(config);
                let verdict = confirm::confirm_evidence(ledger, &hosts, path, &to, now)?;
                Checked::evidence(path, verdict, to)
            }
        })
    }

    /// The schedules the plan reads before a new one: `[inputs]`, then the processed ones.
    fn earlier_schedules(&self, config: &Config) -> Vec<PathBuf> {
        let processed = processed_inputs(&self.dir)
            .map(|p| p.schedules)
            .unwrap_or_default();
        [config.inputs.schedule.clone(), processed].concat()
    }
}

/// Whether a name is one the inbox reads: not hidden, not an Office lock file, not a download
/// or export under way, not what Explorer leaves in folders.
fn is_candidate(name: &str) -> bool {
    let lower = name.to_lowercase();
    let temporary = [".tmp", ".partial", ".crdownload"]
        .iter()
        .any(|ext| lower.ends_with(ext));
    let explorer = lower == "desktop.ini" || lower == "thumbs.db";
    !(name.starts_with('.') || name.starts_with("~$") || temporary || explorer)
}

/// Why a file could not be checked: its I/O (it stays for the next scan), or the ledger's.
#[derive(Debug)]
enum CheckError {
    Io(io::Error),
    Ledger(LedgerError),
}

impl From<io::Error> for CheckError {
    fn from(e: io::Error) -> CheckError {
        CheckError::Io(e)
    }
}

impl From<LedgerError> for CheckError {
    fn from(e: LedgerError) -> CheckError {
        CheckError::Ledger(e)
    }
}

/// What reading one file found.
#[derive(Debug, Default)]
struct Checked {
    kind: Option<InputKind>,
    errors: Vec<String>,
    warnings: Vec<String>,
    rows: u64,
    summary: String,
    /// A sign-in export's rows, to record when it has no error.
    sign_ins: Option<Vec<SignInFact>>,
    /// Where accepted evidence was recorded as kept.
    processed_at: Option<PathBuf>,
}

impl Checked {
    fn unknown(error: String) -> Checked {
        Checked {
            errors: vec![error],
            summary: "not a file t2t-notify reads".into(),
            ..Checked::default()
        }
    }

    /// Every problem of `diags`, errors and warnings apart, in file and line order.
    fn from_diags(kind: InputKind, diags: &Diagnostics, rows: u64, summary: String) -> Checked {
        let shown = |severity| {
            diags
                .sorted()
                .into_iter()
                .filter(|d| d.severity == severity)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        let errors = shown(Severity::Error);
        let summary = if errors.is_empty() {
            summary
        } else {
            format!("{} found", count(errors.len() as u64, "error"))
        };
        Checked {
            kind: Some(kind),
            errors,
            warnings: shown(Severity::Warning),
            rows,
            summary,
            ..Checked::default()
        }
    }

    fn evidence(path: &Path, verdict: Verdict, kept_at: PathBuf) -> Checked {
        let kind = Some(InputKind::TrustEvidence);
        match verdict {
            Verdict::Accepted { evidence, recorded } => Checked {
                kind,
                rows: 1,
                summary: format!("accepted: {}", confirm::describe(&evidence, &recorded)),
                processed_at: Some(kept_at),
                ..Checked::default()
            },
            Verdict::Refused {
                refusals,
                withdrawn,
            } => Checked {
                kind,
                errors: refusals.iter().map(|r| format!("refused: {r}")).collect(),
                warnings: withdrawn
                    .iter()
                    .map(|w| confirm::describe_withdrawal(&path.display().to_string(), w))
                    .collect(),
                summary: format!("refused for {}", count(refusals.len() as u64, "reason")),
                ..Checked::default()
            },
        }
    }

    fn into_arrival(
        self,
        name: String,
        outcome: Outcome,
        moved_to: PathBuf,
        reason_file: Option<PathBuf>,
        at: DateTime<Utc>,
    ) -> Arrival {
        Arrival {
            name,
            kind: self.kind,
            outcome,
            moved_to,
            reason_file,
            rows: self.rows,
            summary: self.summary,
            errors: self.errors,
            warnings: self.warnings,
            at,
        }
    }
}

fn check_move_state(path: &Path) -> io::Result<Checked> {
    let (entries, diags) = move_state::read(path)?;
    let moved = entries
        .iter()
        .filter(|e| e.state == Some(MoveState::Success))
        .count();
    let summary = format!(
        "{}, {moved} of them Success; kept for the plan",
        count(entries.len() as u64, "user")
    );
    let rows = entries.len() as u64;
    Ok(Checked::from_diags(
        InputKind::MoveState,
        &diags,
        rows,
        summary,
    ))
}

/// Reads the schedule after `earlier` ones (whose own problems are not this file's), so that a
/// user planned for another day there is reported here, as the plan would report it.
fn check_schedule(path: &Path, earlier: &[PathBuf]) -> io::Result<Checked> {
    let mut schedule = Schedule::default();
    let mut ignored = Diagnostics::default();
    for e in earlier {
        // An earlier file that cannot be read now is named by the plan, not blamed on this one.
        if let Ok(file) = fs::File::open(e) {
            let _ = schedule.read_from(file, &e.display().to_string(), &mut ignored);
        }
    }
    let before = schedule.len();
    let mut diags = Diagnostics::default();
    let name = path.display().to_string();
    schedule.read_from(fs::File::open(path)?, &name, &mut diags)?;
    let rows = (schedule.len() - before) as u64;
    let summary = format!("{} planned; kept for the plan", count(rows, "user"));
    Ok(Checked::from_diags(
        InputKind::Schedule,
        &diags,
        rows,
        summary,
    ))
}

fn check_sign_ins(path: &Path) -> io::Result<Checked> {
    let (rows, diags) = sign_ins::read(path)?;
    let n = rows.len() as u64;
    let mut checked = Checked::from_diags(InputKind::SignIns, &diags, n, String::new());
    if checked.errors.is_empty() {
        let facts = rows.into_iter().map(|r| SignInFact {
            upn: r.upn,
            last_success: r.last_success,
        });
        checked.sign_ins = Some(facts.collect());
    }
    Ok(checked)
}

/// Records a sign-in export read without error, as `t2t-notify sign-ins` does, under the
/// name it was dropped with.
fn record_sign_ins(
    mut checked: Checked,
    ledger: &mut Ledger,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Checked, LedgerError> {
    if let Some(facts) = checked.sign_ins.take() {
        let import = ledger.record_sign_ins(name, &facts, now)?;
        checked.summary = format!(
            "{}, {} with a successful sign-in, recorded",
            count(import.users, "user"),
            import.signed_in
        );
    }
    Ok(checked)
}

/// `name` in `folder`, or with `-2`, `-3`, ... before its extension when that is taken (with
/// `with_reason`, also when its `.reason.txt` is). Only `serve`, which holds the ledger lock,
/// moves files into these folders, so the name found is still free when the file is renamed.
fn free_name(folder: &Path, name: &str, with_reason: bool) -> PathBuf {
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if dot > 0 => name.split_at(dot),
        _ => (name, ""),
    };
    let taken = |p: &Path| fs::symlink_metadata(p).is_ok();
    (1..)
        .map(|n| match n {
            1 => folder.join(name),
            n => folder.join(format!("{stem}-{n}{ext}")),
        })
        .find(|p| !(taken(p) || with_reason && taken(&reason_path(p))))
        .expect("some suffix is free")
}

/// `<file>.reason.txt`.
fn reason_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".reason.txt");
    file.with_file_name(name)
}

fn write_reason(path: &Path, text: &str) -> Result<(), InboxError> {
    let reason = |source| InboxError::Reason {
        path: path.to_path_buf(),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    let mut file = platform::open_private(&mut options, path).map_err(reason)?;
    file.write_all(text.as_bytes()).map_err(reason)
}

/// The reason file: what the file was, every error, and what to do.
fn reason_text(name: &str, inbox: &Path, checked: &Checked, now: DateTime<Utc>) -> String {
    let what = checked
        .kind
        .map_or("not a file t2t-notify reads", InputKind::describe);
    let mut text = format!(
        "t2t-notify did not take {name} ({what}), dropped into the inbox {}, at {}.\nNothing in it was recorded or sent.\n\n{}:\n",
        inbox.display(),
        now.format("%Y-%m-%d %H:%M:%S UTC"),
        if checked.errors.len() == 1 { "The error" } else { "Every error" },
    );
    for e in &checked.errors {
        text.push_str(&format!("  {e}\n"));
    }
    if !checked.warnings.is_empty() {
        text.push_str("\nWarnings:\n");
        for w in &checked.warnings {
            text.push_str(&format!("  {w}\n"));
        }
    }
    text.push_str(&format!(
        "\nWhat to do: {}\nThis copy stays here as it was and is never read again.\n",
        what_to_do(checked.kind, inbox)
    ));
    text
}

fn what_to_do(kind: Option<InputKind>, inbox: &Path) -> String {
    let inbox = inbox.display();
    match kind {
        None => format!("the inbox reads move-state exports (Get-SPOCrossTenantUserContentMoveState | Export-Csv, or ConvertTo-Json), migration schedules (SourceUpn,PlannedStart), sign-in exports (Get-MgUser ... | Export-Csv) and trust evidence files (written by the script of `t2t-notify trust script`); export one of those into {inbox}, and keep other files elsewhere."),
        Some(InputKind::TrustEvidence) => format!("do what each refusal above says, then drop the new evidence file into {inbox} (or run `t2t-notify trust confirm` on it)."),
        Some(kind) => format!("correct {} at the lines and columns above (or export it again) and drop the corrected file into {inbox}; `t2t-notify validate` shows the same errors.", kind.describe()),
    }
}

/// The move-state exports and schedules in `<inbox>/processed`, oldest first (names start with
/// the time they were taken); none when there is no such folder yet.
pub fn processed_inputs(inbox: &Path) -> Result<ProcessedInputs, InboxError> {
    let folder = inbox.join(PROCESSED);
    let list = |source| InboxError::List {
        path: folder.clone(),
        source,
    };
    let entries = match fs::read_dir(&folder) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(ProcessedInputs::default()),
        other => other.map_err(list)?,
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(list)?;
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            names.push(entry.file_name());
        }
    }
    names.sort();
    let mut inputs = ProcessedInputs::default();
    for name in names {
        let path = folder.join(name);
        let kind = sniff::sniff_file(&path).map_err(|source| InboxError::Read {
            path: path.clone(),
            source,
        })?;
        match kind {
            Ok(InputKind::MoveState) => inputs.move_states.push(path),
            Ok(InputKind::Schedule) => inputs.schedules.push(path),
            _ => {}
        }
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use tempfile::TempDir;

    use super::*;
    use crate::ledger::trust as records;
    use crate::platform::is_owner_only;

    fn config() -> Config {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/t2t-notify.toml");
        let text = fs::read_to_string(&path).unwrap();
        Config::from_str_with_env(&text, &path, &[]).unwrap()
    }

    fn fixture(dir: &str, name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(dir)
            .join(name)
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap()
    }

    /// An empty inbox folder, the sample config and a new ledger.
    struct Setup {
        _dir: TempDir,
        _ledger_dir: TempDir,
        inbox: Inbox,
        config: Config,
        ledger: Ledger,
    }

    impl Setup {
        fn new() -> Setup {
            let dir = tempfile::tempdir().unwrap();
            let (ledger_dir, ledger) = Ledger::temp();
            Setup {
                inbox: Inbox::new(dir.path().join("inbox")),
                _dir: dir,
                _ledger_dir: ledger_dir,
                config: config(),
                ledger,
            }
        }

        fn path(&self, name: &str) -> PathBuf {
            self.inbox.dir().join(name)
        }

        /// Copies a fixture into the inbox as `name`.
        fn drop_fixture(&self, dir: &str, fixture_name: &str, name: &str) {
            fs::create_dir_all(self.inbox.dir()).unwrap();
            fs::copy(fixture(dir, fixture_name), self.path(name)).unwrap();
        }

        fn drop_text(&self, name: &str, text: &str) {
            fs::create_dir_all(self.inbox.dir()).unwrap();
            fs::write(self.path(name), text).unwrap();
        }

        fn scan(&mut self, at: DateTime<Utc>) -> Scan {
            self.inbox.scan(&self.config, &mut self.ledger, at).unwrap()
        }

        /// Two scans `SETTLE` apart: the first only sees the files, the second takes them.
        fn settle(&mut self, at: DateTime<Utc>) -> Vec<Arrival> {
            let first = self.scan(at);
            assert!(first.arrivals.is_empty(), "{first:?}");
            self.scan(at + SETTLE).arrivals
        }

        /// Every file under the inbox, relative, sorted.
        fn files(&self) -> Vec<String> {
            let mut out = Vec::new();
            let mut dirs = vec![self.inbox.dir().to_path_buf()];
            while let Some(dir) = dirs.pop() {
                for entry in fs::read_dir(dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        dirs.push(path);
                    } else {
                        let rel = path.strip_prefix(self.inbox.dir()).unwrap();
                        out.push(rel.to_string_lossy().replace('\\', "/"));
                    }
                }
            }
            out.sort();
            out
        }
    }

    fn one<'a>(arrivals: &'a [Arrival], name: &str) -> &'a Arrival {
        let found: Vec<&Arrival> = arrivals.iter().filter(|a| a.name == name).collect();
        assert_eq!(found.len(), 1, "{name} in {arrivals:#?}");
        found[0]
    }

    /// What the reader gives for a file, as `validate` and `sign-ins` print it.
    fn shown(diags: &Diagnostics, severity: Severity) -> Vec<String> {
        let all = diags.sorted().into_iter();
        all.filter(|d| d.severity == severity)
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn good_files_of_every_kind_are_processed_recorded_and_listed_by_content() {
        let mut s = Setup::new();
        s.drop_fixture("move-state", "batch-1.csv", "1-export.csv");
        s.drop_fixture("schedule", "wave-1.csv", "2-export.csv");
        s.drop_fixture("sign-ins", "ps51-utf16le.csv", "3-export.csv");
        s.drop_fixture("trust", "accepted-source.json", "4-export.json");
        s.drop_fixture("move-state", "batch-2-ps51-utf16le.json", "5-export.json");
        let arrivals = s.settle(t0());
        let kinds: Vec<(&str, Option<InputKind>, Outcome)> = arrivals
            .iter()
            .map(|a| (a.name.as_str(), a.kind, a.outcome))
            .collect();
        let processed = Outcome::Processed;
        assert_eq!(
            kinds,
            [
                ("1-export.csv", Some(InputKind::MoveState), processed),
                ("2-export.csv", Some(InputKind::Schedule), processed),
                ("3-export.csv", Some(InputKind::SignIns), processed),
                ("4-export.json", Some(InputKind::TrustEvidence), processed),
                ("5-export.json", Some(InputKind::MoveState), processed),
            ]
        );
        for a in &arrivals {
            assert!(a.errors.is_empty() && a.reason_file.is_none(), "{a:#?}");
            let want = s
                .path(PROCESSED)
                .join(format!("20261206T090002Z-{}", a.name));
            assert_eq!(a.moved_to, want);
        }
        assert_eq!(
            one(&arrivals, "1-export.csv").summary,
            "5 users, 2 of them Success; kept for the plan"
        );
        assert_eq!(one(&arrivals, "2-export.csv").rows, 3);
        // The move-state export's unknown state is a warning: the file is taken all the same.
        assert_eq!(one(&arrivals, "5-export.json").warnings.len(), 1);

        // The sign-ins are in the ledger under the name the file was dropped with.
        let sign_ins = one(&arrivals, "3-export.csv");
        assert_eq!(
            sign_ins.summary,
            "4 users, 3 with a successful sign-in, recorded"
        );
        let imports = s.ledger.sign_in_imports().unwrap();
        assert_eq!(imports.len(), 1);
        assert_eq!(
            (
                imports[0].source.as_str(),
                imports[0].users,
                imports[0].learnt_at
            ),
            ("3-export.csv", 4, t0() + SETTLE)
        );
        // The evidence is recorded as `trust confirm` records it, as the file in processed/.
        let evidence = one(&arrivals, "4-export.json");
        assert!(
            evidence.summary.starts_with("accepted: source https://contoso-my.sharepoint.com/ -> target https://fabrikam-my.sharepoint.com/: NotEstablished"),
            "{}",
            evidence.summary
        );
        let confirmations = records::list(&s.ledger).unwrap();
        assert_eq!(confirmations.len(), 1);
        let kept = std::path::absolute(&evidence.moved_to).unwrap();
        assert_eq!(confirmations[0].file_name, kept.display().to_string());
        assert_eq!(confirmations[0].confirmed_at, t0() + SETTLE);

        // A later move-state export comes after the earlier ones, whatever its name.
        s.drop_fixture("move-state", "batch-3-single.json", "0-later.json");
        let later = s.settle(t0() + Duration::minutes(5));
        assert_eq!(later[0].outcome, Outcome::Processed);
        let listed = processed_inputs(s.inbox.dir()).unwrap();
        let names = |paths: &[PathBuf]| -> Vec<String> {
            let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
            paths.iter().map(name).collect()
        };
        assert_eq!(
            names(&listed.move_states),
            [
                "20261206T090002Z-1-export.csv",
                "20261206T090002Z-5-export.json",
                "20261206T090502Z-0-later.json"
            ]
        );
        assert_eq!(names(&listed.schedules), ["20261206T090002Z-2-export.csv"]);
        assert!(listed.move_states[0].starts_with(s.path(PROCESSED)));

        for folder in [PROCESSED, REJECTED] {
            assert!(is_owner_only(&s.path(folder)), "{folder}");
        }
        assert_eq!(s.files().len(), 6, "{:?}", s.files());
        assert!(s.files().iter().all(|f| f.starts_with("processed/")));
    }

    #[test]
    fn damaged_files_are_rejected_with_every_located_error_and_nothing_is_recorded() {
        let mut s = Setup::new();
        s.drop_fixture("move-state", "bad-upn.csv", "batch-1.csv");
        s.drop_fixture("sign-ins", "ambiguous-date.csv", "sign-ins.csv");
        s.drop_fixture("trust", "refused-verify-goodtoproceed.json", "trust-1.json");
        s.drop_text("notes.csv", "hello,world\r\n");
        // What `validate` and `sign-ins` say about the same files where they were dropped.
        let (_, moves) = move_state::read(&s.path("batch-1.csv")).unwrap();
        let (_, signs) = sign_ins::read(&s.path("sign-ins.csv")).unwrap();
        let names = ["batch-1.csv", "sign-ins.csv", "trust-1.json", "notes.csv"];
        let originals: Vec<(&str, Vec<u8>)> = names
            .iter()
            .map(|n| (*n, fs::read(s.path(n)).unwrap()))
            .collect();

        let arrivals = s.settle(t0());
        assert_eq!(arrivals.len(), 4);
        assert!(arrivals.iter().all(|a| a.outcome == Outcome::Rejected));

        let batch = one(&arrivals, "batch-1.csv");
        assert_eq!(batch.errors, shown(&moves, Severity::Error));
        let at = s.path("batch-1.csv").display().to_string();
        assert_eq!(batch.errors.len(), 2, "{:?}", batch.errors);
        let first = format!("{at}:4: column 1 (SourceUserPrincipalName): `bø@contoso.com` character `ø` (U+00F8) is not allowed");
        assert!(batch.errors[0].starts_with(&first), "{:?}", batch.errors);
        assert_eq!(
            batch.errors[1],
            format!(
                "{at}:5: column 1 (SourceUserPrincipalName): `cy@@contoso.com` has more than one @"
            )
        );
        assert_eq!(batch.summary, "2 errors found");

        let sign_ins = one(&arrivals, "sign-ins.csv");
        assert_eq!(sign_ins.errors, shown(&signs, Severity::Error));
        assert_eq!(sign_ins.errors.len(), 1);
        let ambiguous =
            ":4: column 2 (LastSuccessfulSignIn): `12/01/2026 08:30:00` has slashes and no AM/PM";
        assert!(
            sign_ins.errors[0].contains(ambiguous),
            "{:?}",
            sign_ins.errors
        );

        let trust = one(&arrivals, "trust-1.json");
        assert_eq!(trust.kind, Some(InputKind::TrustEvidence));
        assert_eq!(trust.errors.len(), 1);
        let refused = format!(
            "refused: {}: field VerifyResult: is `GoodToProceed`: the trust is still active;",
            s.path("trust-1.json").display()
        );
        assert!(trust.errors[0].starts_with(&refused), "{:?}", trust.errors);

        let notes = one(&arrivals, "notes.csv");
        assert_eq!(notes.kind, None);
        assert_eq!(notes.errors, [format!("{}: not a file t2t-notify reads: its first row (`hello,world`) names none of the columns t2t-notify reads: MoveState (a move-state export), PreferredMoveBeginDate or PlannedStart (a migration schedule), LastSuccessfulSignIn (a sign-in export)", s.path("notes.csv").display())]);

        // Nothing reached the ledger.
        assert!(s.ledger.sign_in_imports().unwrap().is_empty());
        assert!(s.ledger.sign_ins().unwrap().by_user.is_empty());
        assert!(records::list(&s.ledger).unwrap().is_empty());
        let listed = processed_inputs(s.inbox.dir()).unwrap();
        assert_eq!(listed, ProcessedInputs::default());

        // Each file is in rejected/, unchanged, with its reason next to it.
        for (name, bytes) in originals {
            let a = one(&arrivals, name);
            let stamped = format!("20261206T090002Z-{name}");
            assert_eq!(a.moved_to, s.path(REJECTED).join(&stamped));
            assert_eq!(fs::read(&a.moved_to).unwrap(), bytes, "{name}");
            let reason_file = a.reason_file.as_ref().unwrap();
            let reason_name = format!("{stamped}.reason.txt");
            assert_eq!(*reason_file, s.path(REJECTED).join(reason_name));
            assert!(is_owner_only(reason_file));
            let reason = fs::read_to_string(reason_file).unwrap();
            for e in &a.errors {
                assert!(reason.contains(e.as_str()), "{reason}");
            }
            assert!(
                reason.contains("Nothing in it was recorded or sent."),
                "{reason}"
            );
            assert!(reason.contains("\nWhat to do: "), "{reason}");
        }
        let reason = fs::read_to_string(batch.reason_file.as_ref().unwrap()).unwrap();
        let opening =
            "t2t-notify did not take batch-1.csv (a move-state export), dropped into the inbox ";
        assert!(reason.starts_with(opening), "{reason}");
        assert!(reason.contains("\nEvery error:\n  "), "{reason}");
        assert_eq!(s.files().len(), 8, "{:?}", s.files());
    }

    #[test]
    fn newer_evidence_that_the_trust_is_still_there_withdraws_the_confirmation_as_trust_confirm_does(
    ) {
        let mut s = Setup::new();
        s.drop_fixture(
            "trust",
            "accepted-source.json",
            "trust-evidence-source-1.json",
        );
        assert_eq!(s.settle(t0())[0].outcome, Outcome::Processed);
        assert_eq!(records::list(&s.ledger).unwrap().len(), 1);
        let active = fs::read_to_string(fixture("trust", "refused-verify-goodtoproceed.json"))
            .unwrap()
            .replace("2026-11-20T06:00:00Z", "2026-12-01T06:00:00Z");
        s.drop_text("trust-evidence-source-1.json", &active);
        let arrivals = s.settle(t0() + Duration::minutes(1));
        assert_eq!(arrivals[0].outcome, Outcome::Rejected);
        assert_eq!(arrivals[0].warnings.len(), 1);
        let withdrawn = &arrivals[0].warnings[0];
        assert!(
            withdrawn.starts_with("WITHDRAWN: source https://contoso-my.sharepoint.com/ -> target https://fabrikam-my.sharepoint.com/ is no longer confirmed: "),
            "{withdrawn}"
        );
        assert!(records::list(&s.ledger).unwrap().is_empty());
        let reason = fs::read_to_string(arrivals[0].reason_file.as_ref().unwrap()).unwrap();
        assert!(reason.contains(withdrawn.as_str()), "{reason}");
    }

    #[test]
    fn a_file_is_taken_only_once_it_stopped_changing_and_temporary_names_are_left_alone() {
        let mut s = Setup::new();
        let ignored = [
            ".hidden.csv",
            "~$book.csv",
            "export.csv.tmp",
            "export.csv.partial",
            "x.crdownload",
            "desktop.ini",
            "sub/inner.csv",
        ];
        fs::create_dir_all(s.path("sub")).unwrap();
        for name in ignored {
            fs::copy(fixture("move-state", "batch-1.csv"), s.path(name)).unwrap();
        }
        let header = "\"SourceUserPrincipalName\",\"MoveState\"\r\n";
        s.drop_text("moves.csv", header);
        let waiting = s.scan(t0());
        assert!(waiting.arrivals.is_empty());
        let names: Vec<&str> = waiting.waiting.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(names, ["moves.csv"]);
        // Export-Csv writes another row: the wait starts again.
        let full = format!("{header}\"ana@contoso.com\",\"Success\"\r\n");
        fs::write(s.path("moves.csv"), &full).unwrap();
        assert_eq!(s.scan(t0() + Duration::seconds(3)).waiting.len(), 1);
        assert_eq!(s.scan(t0() + Duration::seconds(4)).waiting.len(), 1);
        let taken = s.scan(t0() + Duration::seconds(5));
        assert!(taken.waiting.is_empty(), "{taken:?}");
        assert_eq!(taken.arrivals.len(), 1);
        assert_eq!(taken.arrivals[0].rows, 1);
        assert_eq!(
            fs::read_to_string(&taken.arrivals[0].moved_to).unwrap(),
            full
        );
        // The others are where they were, and no later scan takes them.
        let later = s.scan(t0() + Duration::minutes(1));
        assert_eq!(later, Scan::default());
        let mut files = s.files();
        files.retain(|f| !f.starts_with("processed/"));
        let mut want: Vec<String> = ignored.iter().map(|n| n.to_string()).collect();
        want.sort();
        assert_eq!(files, want);
    }

    #[test]
    fn a_name_taken_gets_a_suffix_and_nothing_is_replaced() {
        let mut s = Setup::new();
        s.drop_text("a.csv", "first\r\n");
        s.drop_text("README", "first\r\n");
        s.drop_fixture("move-state", "batch-1.csv", "moves.csv");
        s.settle(t0());
        // A reason file in the way also moves the next file to another name.
        fs::write(s.path("rejected/20261206T090002Z-b.csv.reason.txt"), "kept").unwrap();
        s.drop_text("a.csv", "second\r\n");
        s.drop_text("README", "second\r\n");
        s.drop_text("b.csv", "second\r\n");
        s.drop_fixture("move-state", "batch-1-pwsh7.csv", "moves.csv");
        let arrivals = s.settle(t0());
        let mut moved: Vec<String> = arrivals
            .iter()
            .map(|a| {
                let rel = a.moved_to.strip_prefix(s.inbox.dir()).unwrap();
                rel.to_string_lossy().replace('\\', "/")
            })
            .collect();
        moved.sort();
        assert_eq!(
            moved,
            [
                "processed/20261206T090002Z-moves-2.csv",
                "rejected/20261206T090002Z-README-2",
                "rejected/20261206T090002Z-a-2.csv",
                "rejected/20261206T090002Z-b-2.csv",
            ]
        );
        let read = |rel: &str| fs::read_to_string(s.path(rel)).unwrap();
        assert_eq!(read("rejected/20261206T090002Z-a.csv"), "first\r\n");
        assert_eq!(read("rejected/20261206T090002Z-a-2.csv"), "second\r\n");
        assert_eq!(read("rejected/20261206T090002Z-README"), "first\r\n");
        assert_eq!(read("rejected/20261206T090002Z-b.csv.reason.txt"), "kept");
        let reason = read("rejected/20261206T090002Z-b-2.csv.reason.txt");
        assert!(reason.contains("did not take b.csv"), "{reason}");
        let batch_1 = fs::read(fixture("move-state", "batch-1.csv")).unwrap();
        let first = fs::read(s.path("processed/20261206T090002Z-moves.csv")).unwrap();
        assert_eq!(first, batch_1);
        assert_eq!(s.files().len(), 13, "{:?}", s.files());
    }

    #[test]
    fn a_schedule_planning_a_user_for_another_day_than_a_processed_one_is_rejected() {
        let mut s = Setup::new();
        s.drop_fixture("schedule", "wave-1.csv", "wave-1.csv");
        assert_eq!(s.settle(t0())[0].outcome, Outcome::Processed);
        let wave_2 = "SourceUpn,PlannedStart\r\ndee@contoso.com,2026-12-15\r\nana@contoso.com,2026-12-20\r\n";
        s.drop_text("wave-2.csv", wave_2);
        let arrivals = s.settle(t0() + Duration::minutes(1));
        let first = s.path("processed/20261206T090002Z-wave-1.csv");
        assert_eq!(
            arrivals[0].errors,
            [format!("{}:3: column 2 (PlannedStart): `ana@contoso.com` is planned for 2026-12-08 on {}:2 and for 2026-12-20 here; keep one row per user, with the date given to -PreferredMoveBeginDate", s.path("wave-2.csv").display(), first.display())]
        );
        assert_eq!(processed_inputs(s.inbox.dir()).unwrap().schedules, [first]);
    }
}
