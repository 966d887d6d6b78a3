//! Exports of `Get-SPOCrossTenantUserContentMoveState`, one per migration batch: which users'
//! OneDrive moves finished (`Success`) and which did not.
//!
//! The admin exports the cmdlet's output with `Export-Csv` (with or without Windows
//! PowerShell's `#TYPE` line, in any encoding PowerShell writes) or `ConvertTo-Json` (an array,
//! or one object when there was one result). [`read`] reads one file into [`MoveEntry`]s and
//! located diagnostics; [`MoveStates`] merges several files so that the newest entry of each
//! user wins. Column and property names are matched case-insensitively (see [`columns`]).
//! States are never guessed: an unknown state is kept as written, reported, and the user is
//! not treated as moved.

mod columns;
mod csv_export;
mod json_export;
mod timestamp;

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

pub use columns::Field;
pub use timestamp::parse_timestamp;

use super::{address, text};
use crate::diag::{quote, Column, Diagnostic, Diagnostics, Severity};

/// The states the cmdlet reports (and its filters know). Declared with `Failed` first so that
/// sorting puts the users the migration team must act on at the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MoveState {
    Failed,
    NotSupported,
    Stopped,
    Rescheduled,
    InProgress,
    Queued,
    Scheduled,
    ReadyToTrigger,
    NotStarted,
    Success,
}

impl MoveState {
    /// Every state, in the order Microsoft's documentation lists them.
    pub const ALL: [MoveState; 10] = [
        MoveState::NotStarted,
        MoveState::Scheduled,
        MoveState::ReadyToTrigger,
        MoveState::InProgress,
        MoveState::Success,
        MoveState::Rescheduled,
        MoveState::Failed,
        MoveState::Stopped,
        MoveState::Queued,
        MoveState::NotSupported,
    ];

    /// The name as the cmdlet writes it.
    pub fn name(self) -> &'static str {
        match self {
            MoveState::NotStarted => "NotStarted",
            MoveState::Scheduled => "Scheduled",
            MoveState::ReadyToTrigger => "ReadytoTrigger",
            MoveState::InProgress => "InProgress",
            MoveState::Success => "Success",
            MoveState::Rescheduled => "Rescheduled",
            MoveState::Failed => "Failed",
            MoveState::Stopped => "Stopped",
            MoveState::Queued => "Queued",
            MoveState::NotSupported => "NotSupported",
        }
    }

    /// The state named `s` (case-insensitive, spaces around ignored); `None` when unknown.
    pub fn parse(s: &str) -> Option<MoveState> {
        let s = s.trim();
        MoveState::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for MoveState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for MoveState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One user's move as one export reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoveEntry {
    pub source_upn: String,
    pub target_upn: Option<String>,
    /// The state when t2t-notify knows it; `None` when the export says something else.
    pub state: Option<MoveState>,
    /// The state exactly as the export wrote it.
    pub state_text: String,
    pub timestamp: Option<DateTime<Utc>>,
    pub job_id: Option<String>,
    /// The batch this entry belongs to: `--batch`, or the export's file name without extension.
    pub batch: String,
    pub file: Arc<str>,
    /// The line the entry starts on (for JSON, the line of its `{`).
    pub line: u64,
    /// For JSON, the 0-based position in the array (`$states[3]`).
    pub index: Option<u64>,
}

impl MoveEntry {
    /// Where the entry is, for messages: `batch-2.csv:5` or `batch-2.json:14 (item [3])`.
    pub fn location(&self) -> String {
        match self.index {
            Some(i) => format!("{}:{} (item [{i}])", self.file, self.line),
            None => format!("{}:{}", self.file, self.line),
        }
    }

    /// The state for people: the known name, or the unknown text quoted.
    pub fn state_label(&self) -> String {
        match self.state {
            Some(s) => s.name().to_string(),
            None => format!("unknown state {}", quote(&self.state_text)),
        }
    }
}

/// Reads one export. The format is recognised from the content (`[` or `{` first: JSON), the
/// encoding from the byte order mark. I/O errors are returned; everything wrong inside the file
/// is a diagnostic, and every good entry is returned.
pub fn read(path: &Path) -> io::Result<(Vec<MoveEntry>, Diagnostics)> {
    let file: Arc<str> = path.display().to_string().into();
    let batch = default_batch(path);
    let mut diags = Diagnostics::default();
    let mut opened = text::open(path)?;
    if opened.looks_utf16_without_bom {
        diags.error(&file, None, "the file looks like UTF-16 without a byte order mark (every other byte is NUL); export it again with -Encoding UTF8");
        return Ok((Vec::new(), diags));
    }
    let first = opened
        .reader
        .fill_buf()?
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace());
    let entries = match first {
        None => {
            diags.error(&file, None, "the file is empty; export the move state with Get-SPOCrossTenantUserContentMoveState -PartnerCrossTenantHostUrl <url> | Export-Csv <file> (or ConvertTo-Json)");
            Vec::new()
        }
        Some(b'[' | b'{') => json_export::read(&file, opened, &batch, &mut diags)?,
        Some(_) => csv_export::read(&file, opened, &batch, &mut diags)?,
    };
    Ok((entries, diags))
}

/// The default batch label of an export: its file name without extension.
pub fn default_batch(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Where one value of one entry is (or should have been), for diagnostics.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub line: u64,
    /// CSV: the column.
    pub column: Option<Column>,
    /// JSON: the array index and the property name.
    pub item: Option<(u64, String)>,
}

/// One value of one entry before checking, with its place.
#[derive(Debug, Clone)]
pub(crate) struct Value {
    pub text: Option<String>,
    pub place: Place,
}

/// An entry as read, before checking. The source and state places exist even when the value
/// is missing; the optional fields are `None` when the file has no such column or property.
#[derive(Debug)]
pub(crate) struct RawEntry {
    pub line: u64,
    pub index: Option<u64>,
    pub source: Value,
    pub state: Value,
    pub target: Option<Value>,
    pub timestamp: Option<Value>,
    pub job_id: Option<Value>,
}

/// Records a diagnostic about one value.
fn at(
    diags: &mut Diagnostics,
    severity: Severity,
    file: &Arc<str>,
    place: &Place,
    message: String,
) {
    let message = match &place.item {
        Some((i, prop)) => format!("item [{i}] ({prop}): {message}"),
        None => message,
    };
    diags.push(Diagnostic {
        severity,
        file: file.clone(),
        line: Some(place.line),
        column: place.column.clone(),
        message,
    });
}

fn present(v: &Value) -> Option<&str> {
    v.text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// Checks an entry as read; returns it when it names a user and a state.
pub(crate) fn check(
    raw: RawEntry,
    file: &Arc<str>,
    batch: &str,
    diags: &mut Diagnostics,
) -> Option<MoveEntry> {
    let Some(source) = present(&raw.source) else {
        at(
            diags,
            Severity::Error,
            file,
            &raw.source.place,
            "is empty; every entry needs the source user's UPN".into(),
        );
        return None;
    };
    if let Err(why) = address::check_upn(source) {
        at(
            diags,
            Severity::Error,
            file,
            &raw.source.place,
            format!("{} {why}", quote(source)),
        );
        return None;
    }
    let Some(state_text) = present(&raw.state) else {
        at(
            diags,
            Severity::Error,
            file,
            &raw.state.place,
            "is empty; every entry needs the move state (Success, Failed, ...)".into(),
        );
        return None;
    };
    let state = check_state(state_text, &raw.state.place, file, diags);
    let timestamp = raw
        .timestamp
        .as_ref()
        .and_then(|v| check_timestamp(v, file, diags));
    let text_of = |v: &Option<Value>| v.as_ref().and_then(present).map(str::to_string);
    Some(MoveEntry {
        source_upn: source.to_string(),
        target_upn: text_of(&raw.target),
        state,
        state_text: state_text.to_string(),
        timestamp,
        job_id: text_of(&raw.job_id),
        batch: batch.to_string(),
        file: file.clone(),
        line: raw.line,
        index: raw.index,
    })
}

fn check_state(
    text: &str,
    place: &Place,
    file: &Arc<str>,
    diags: &mut Diagnostics,
) -> Option<MoveState> {
    if let Some(state) = MoveState::parse(text) {
        return Some(state);
    }
    let known: Vec<&str> = MoveState::ALL.iter().map(|s| s.name()).collect();
    if text.bytes().all(|b| b.is_ascii_digit()) {
        at(diags, Severity::Error, file, place, format!(
            "{} is a number (PowerShell wrote the state's enum value, which t2t-notify does not guess); export the names: add -EnumsAsStrings to ConvertTo-Json (PowerShell 7), or turn the state into text first, e.g. Select-Object SourceUserPrincipalName, @{{n='MoveState';e={{\"$($_.MoveState)\"}}}}, TimeStamp | ConvertTo-Json",
            quote(text)
        ));
    } else {
        at(
            diags,
            Severity::Warning,
            file,
            place,
            format!(
                "{} is not a move state t2t-notify knows ({}); the user is held back, not guessed",
                quote(text),
                known.join(", ")
            ),
        );
    }
    None
}

fn check_timestamp(v: &Value, file: &Arc<str>, diags: &mut Diagnostics) -> Option<DateTime<Utc>> {
    let text = present(v)?;
    let parsed = parse_timestamp(text);
    if parsed.is_none() {
        at(diags, Severity::Warning, file, &v.place, format!(
            "{} is not a time t2t-notify can read (ISO 8601 like 2025-03-01T10:00:00Z, /Date(1740823200000)/, or MM/dd/yyyy HH:mm:ss); the entry counts as undated, so a later export wins over it",
            quote(text)
        ));
    }
    parsed
}

/// A problem reading one export file.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the move-state export {}", path.display())]
pub struct ReadError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// The merged move states of several exports: per user (source UPN, case-insensitive), the
/// newest entry. Newer means a later timestamp when both entries have one; otherwise (a tie or
/// an undated entry) the entry read later wins: a later file, or a later row of the same file.
#[derive(Debug, Default)]
pub struct MoveStates {
    entries: Vec<MoveEntry>,
    by_upn: HashMap<String, usize>,
    files: Vec<Arc<str>>,
}

impl MoveStates {
    /// Reads and merges `paths` in order, labelling every entry with `batch` when given (else
    /// with its file's name). Diagnostics of every file are returned together.
    pub fn load(
        paths: &[PathBuf],
        batch: Option<&str>,
    ) -> Result<(MoveStates, Diagnostics), ReadError> {
        let mut states = MoveStates::default();
        let mut diags = Diagnostics::default();
        for path in paths {
            let (entries, d) = read(path).map_err(|source| ReadError {
                path: path.clone(),
                source,
            })?;
            diags.extend(d);
            states.files.push(path.display().to_string().into());
            states.add(entries, batch);
        }
        Ok((states, diags))
    }

    /// Merges the entries of one more export (read after the ones already added).
    pub fn add(&mut self, entries: Vec<MoveEntry>, batch: Option<&str>) {
        for mut entry in entries {
            if let Some(label) = batch {
                entry.batch = label.to_string();
            }
            let key = entry.source_upn.to_lowercase();
            match self.by_upn.get(&key) {
                Some(&i) if is_newer(&entry, &self.entries[i]) => self.entries[i] = entry,
                Some(_) => {}
                None => {
                    self.by_upn.insert(key, self.entries.len());
                    self.entries.push(entry);
                }
            }
        }
    }

    /// The newest entry for a user, by source UPN (case-insensitive).
    pub fn state_of(&self, source_upn: &str) -> Option<&MoveEntry> {
        self.index_of(source_upn).map(|i| &self.entries[i])
    }

    /// The position of a user's entry in [`MoveStates::entries`].
    pub fn index_of(&self, source_upn: &str) -> Option<usize> {
        self.by_upn.get(&source_upn.to_lowercase()).copied()
    }

    /// One entry per user, in the order users were first seen.
    pub fn entries(&self) -> &[MoveEntry] {
        &self.entries
    }

    /// The export files, in the order they were read.
    pub fn files(&self) -> &[Arc<str>] {
        &self.files
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Whether `new` (read later) replaces `old`.
fn is_newer(new: &MoveEntry, old: &MoveEntry) -> bool {
    match (new.timestamp, old.timestamp) {
        (Some(n), Some(o)) => n >= o,
        _ => true,
    }
}

#[cfg(test)]
mod tests;
