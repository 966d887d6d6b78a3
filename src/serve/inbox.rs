//! The inbox folder of `serve`: inputs arrive by themselves. An admin's scheduled task exports
//! move states, schedules, sign-ins or trust evidence into the folder; each [`Inbox::scan`]
//! takes every file that has stopped changing, recognises it by its content
//! (`inputs::sniff`), reads it with the reader `validate`, `sign-ins` and `trust confirm` use
//! (so its errors are the same located ones), and moves it:
//!
//! - to `processed/<UTC time>/<name>` when it has no error (a folder per arrival time, so that a
//!   move-state export keeps its own name, which is its batch label): a sign-in export is recorded in the
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
        let checked = match self.check(&path, &shown, config, ledger, now) {
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
            let to = to.unwrap_or_else(|| free_name(&self.processed_dir(now), &shown, false));
            (Outcome::Processed, to)
        } else {
            let to = free_name(&self.dir.join(REJECTED), &stamped, true);
            (Outcome::Rejected, to)
        };
        // Windows refuses to rename a file its writer still holds open: the file stays for
        // the next scan, which reads it again whole. What was recorded of it is recorded
        // again: the ledger keeps each sign-in and each evidence file once (the sign-in
        // import log gets a second line).
        let folder = to.parent().unwrap_or(&self.dir).to_path_buf();
        platform::create_private_dir_all(&folder).map_err(|source| InboxError::Folder {
            path: folder,
            source,
        })?;
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
                let to = free_name(&self.processed_dir(now), shown, false);
                let hosts = Hosts::from_config(config);
                let verdict = confirm::confirm_evidence(ledger, &hosts, path, &to, now)?;
                Checked::evidence(path, verdict, to)
            }
        })
    }

    /// `processed/<UTC time>/`: the files taken by the scan at `now`.
    fn processed_dir(&self, now: DateTime<Utc>) -> PathBuf {
        self.dir
            .join(PROCESSED)
            .join(now.format("%Y%m%dT%H%M%SZ").to_string())
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
    // One folder per arrival time, named so that names sort in time order.
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(list)?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            let list = |source| InboxError::List {
                path: entry.path(),
                source,
            };
            for file in fs::read_dir(entry.path()).map_err(list)? {
                let file = file.map_err(list)?;
                if file.file_type().is_ok_and(|t| t.is_file()) {
                    paths.push(file.path());
                }
            }
        }
    }
    paths.sort();
    let mut inputs = ProcessedInputs::default();
    for path in paths {
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
mod tests;
