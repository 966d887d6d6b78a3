//! Exports of `Get-SPOCrossTenantUserContentMoveState`, one per migration batch: which users'
//! OneDrive moves finished (`Success`) and which did not.
//!
//! The admin exports the cmdlet's output with `Export-Csv` (with or without Windows
//! PowerShell's `#TYPE` line, in any encoding PowerShell writes) or `ConvertTo-Json` (an array,
//! or one object when there was one result). [`read`] reads one file into [`MoveEntry`]s and
//! located diagnostics; [`MoveStates`] merges several files so that the newest entry of each
//! user wins. Column and property names are matched case-insensitively (see the `columns` module).
//! States are never guessed: an unknown state is kept as written, reported, and the user is
//! not treated as moved.

mod check;
mod columns;
mod csv_export;
mod json_export;
mod merge;

use std::fmt;
use std::io::{self, BufRead};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use crate::inputs::timestamp::parse_timestamp;
pub use columns::StateColumn;
pub use merge::{MoveStates, ReadError};

use super::text;
use crate::diag::{quote, Diagnostics};

/// The warning for an export without entries, in either format.
const NO_MOVES: &str = "the export lists no moves; nobody in it can be notified";

/// The states the cmdlet reports (and its filters know). Declared with `Failed` first so that
/// sorting puts the users the migration team must act on at the top. Serialized as
/// [`MoveState::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum MoveState {
    Failed,
    NotSupported,
    Stopped,
    Rescheduled,
    InProgress,
    Queued,
    Scheduled,
    #[serde(rename = "ReadytoTrigger")]
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

/// Whether a header row or a JSON object's property names hold a move state column, matched as
/// [`read`] matches them (`MoveState`, `State`, ...; without case, spaces or punctuation).
pub fn has_state_column<S: AsRef<str>>(names: &[S]) -> bool {
    columns::resolve(names).state.is_some()
}

/// Reads one export. The format is recognised from the content (`[` or `{` first: JSON), the
/// encoding from the byte order mark. I/O errors are returned; everything wrong inside the file
/// is a diagnostic, and every good entry is returned.
pub fn read(path: &Path) -> io::Result<(Vec<MoveEntry>, Diagnostics)> {
    let file: Arc<str> = path.display().to_string().into();
    // The default batch label: the file name without extension.
    let batch = path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    let mut diags = Diagnostics::default();
    let mut opened = text::from_reader(std::fs::File::open(path)?)?;
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

#[cfg(test)]
mod tests;
