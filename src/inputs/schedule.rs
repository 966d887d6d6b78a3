//! The migration schedule: per source user, the day the admin gave
//! `Start-SPOCrossTenantUserContentMove -PreferredMoveBeginDate`, so that warnings go out before
//! the move. A CSV with a header row (Excel's, or `Export-Csv` with or without the `#TYPE`
//! line), one file per wave if the admin likes; see [`COLUMNS`] for the accepted column names.
//!
//! The planned start is the date as written: `2026-12-08T09:00:00+01:00` plans 8 December,
//! whatever the reader's time zone, because the admin planned a day, not an instant. Dates are
//! read by `inputs::timestamp::parse_written` (ISO 8601, en-US with AM/PM, German dotted); a
//! slash date without AM/PM is refused, never guessed.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDate;

use super::table::{self, Header, Outcome, Wanted};
use super::text;
use super::timestamp::{parse_written, TimeError};
use crate::diag::{quote, Diagnostics, Severity};
use crate::inputs::address;

/// The columns: the source UPN and the planned start (required), the wave (kept if present).
pub const COLUMNS: [Wanted; 3] = [
    Wanted {
        what: "the source UPN",
        names: &["SourceUpn", "SourceUserPrincipalName", "UserPrincipalName"],
        required: true,
    },
    Wanted {
        what: "the planned start",
        names: &["PlannedStart", "PreferredMoveBeginDate", "PlannedStartDate"],
        required: true,
    },
    Wanted {
        what: "the wave",
        names: &["Wave", "Batch"],
        required: false,
    },
];

/// The fix for a date that cannot be read.
const WRITE_ISO: &str = "write it as yyyy-MM-dd, e.g. 2026-12-08";

/// One user's planned move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleEntry {
    pub source_upn: String,
    /// The day the move is planned to start, as written.
    pub planned_start: NaiveDate,
    /// The `Wave` or `Batch` column's value, when the file has one and it is not empty.
    pub wave: Option<String>,
    pub file: Arc<str>,
    pub line: u64,
}

/// Every user's planned start, from one or more schedule files, indexed by lower-case source
/// UPN. A user listed twice keeps the first row (the second is reported).
#[derive(Debug, Default)]
pub struct Schedule {
    entries: Vec<ScheduleEntry>,
    by_upn: HashMap<String, usize>,
}

impl Schedule {
    /// Reads `paths` in order; the problems of every file are returned together. Only a file
    /// that cannot be read at all is an `Err` (naming it).
    pub fn load(paths: &[PathBuf]) -> anyhow::Result<(Schedule, Diagnostics)> {
        let mut schedule = Schedule::default();
        let mut diags = Diagnostics::default();
        for path in paths {
            let context = || format!("cannot read the migration schedule {}", path.display());
            let file = std::fs::File::open(path).with_context(context)?;
            let name = path.display().to_string();
            schedule
                .read_from(file, &name, &mut diags)
                .with_context(context)?;
        }
        Ok((schedule, diags))
    }

    /// Adds the rows of one more schedule file (its bytes in `reader`; `name` in diagnostics).
    pub fn read_from(
        &mut self,
        reader: impl io::Read + Send + 'static,
        name: &str,
        diags: &mut Diagnostics,
    ) -> io::Result<()> {
        let file: Arc<str> = name.into();
        let opened = text::from_reader(reader)?;
        let outcome = table::read(&file, opened, &COLUMNS, diags, |head, line, fields, d| {
            if let Some(entry) = entry_from(head, line, fields, &file, d) {
                self.add(entry, head, d);
            }
        })?;
        match outcome {
            Outcome::NoHeader => diags.error(&file, None, "the schedule is empty; it needs a header row (SourceUpn,PlannedStart) and one row per user with the date given to Start-SPOCrossTenantUserContentMove -PreferredMoveBeginDate"),
            Outcome::Rows(0) => diags.warning(&file, None, "the schedule lists no users"),
            Outcome::Rows(_) | Outcome::Refused => {}
        }
        Ok(())
    }

    /// Adds one entry; a user already listed is reported at the entry's UPN when the dates
    /// agree (a warning), at its date when they do not (an error).
    fn add(&mut self, entry: ScheduleEntry, head: &Header, diags: &mut Diagnostics) {
        let key = entry.source_upn.to_lowercase();
        let Some(&i) = self.by_upn.get(&key) else {
            self.by_upn.insert(key, self.entries.len());
            self.entries.push(entry);
            return;
        };
        let first = &self.entries[i];
        let at = if first.file == entry.file {
            format!("line {}", first.line)
        } else {
            format!("{}:{}", first.file, first.line)
        };
        let (upn, date) = (quote(&entry.source_upn), first.planned_start);
        let (severity, message, at_column) = if date == entry.planned_start {
            let message = format!(
                "{upn} is already planned for {date} on {at}; this row says the same: delete it"
            );
            (Severity::Warning, message, head.found[0])
        } else {
            let message = format!("{upn} is planned for {date} on {at} and for {} here; keep one row per user, with the date given to -PreferredMoveBeginDate", entry.planned_start);
            (Severity::Error, message, head.found[1])
        };
        let column = at_column.map(|i| head.column(i));
        diags.add(severity, &entry.file, Some(entry.line), column, message);
    }

    /// The entry of a source user (case-insensitive).
    pub fn get(&self, source_upn: &str) -> Option<&ScheduleEntry> {
        self.index_of(source_upn).map(|i| &self.entries[i])
    }

    /// Where the entry of a source user is in [`Schedule::entries`].
    pub fn index_of(&self, source_upn: &str) -> Option<usize> {
        self.by_upn.get(&source_upn.to_lowercase()).copied()
    }

    /// One entry per user, in the order the files list them.
    pub fn entries(&self) -> &[ScheduleEntry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Checks one data row; every problem in it is reported.
fn entry_from(
    head: &Header,
    line: u64,
    mut fields: Vec<String>,
    file: &Arc<str>,
    diags: &mut Diagnostics,
) -> Option<ScheduleEntry> {
    let [Some(upn_at), Some(date_at), wave_at] = head.found[..] else {
        return None;
    };
    let mut error = |idx: usize, message: String| {
        let column = Some(head.column(idx));
        diags.add(Severity::Error, file, Some(line), column, message);
    };
    let upn = std::mem::take(&mut fields[upn_at]);
    let upn_problem = upn_problem(&upn);
    if let Some(message) = &upn_problem {
        error(upn_at, message.clone());
    }
    let date = planned_start(&fields[date_at]);
    if let Err(message) = &date {
        error(date_at, message.clone());
    }
    let (None, Ok(planned_start)) = (upn_problem, date) else {
        return None;
    };
    let wave = wave_at
        .map(|i| std::mem::take(&mut fields[i]))
        .filter(|w| !w.is_empty());
    Some(ScheduleEntry {
        source_upn: upn,
        planned_start,
        wave,
        file: file.clone(),
        line,
    })
}

/// What is wrong with a source UPN, if anything.
fn upn_problem(upn: &str) -> Option<String> {
    if upn.is_empty() {
        return Some("is empty; every row needs the source user's UPN".into());
    }
    let why = address::check_upn(upn).err()?;
    Some(format!("{} {why}", quote(upn)))
}

/// The planned start in `text`, or the message saying why it cannot be read and how to fix it.
fn planned_start(text: &str) -> Result<NaiveDate, String> {
    if text.is_empty() {
        return Err(format!(
            "is empty; give the day the move is planned to start: {WRITE_ISO}"
        ));
    }
    match parse_written(text) {
        Ok(written) => Ok(written.date()),
        Err(e @ TimeError::AmbiguousSlashDate { .. }) => Err(format!("{} {e}; {WRITE_ISO}", quote(text))),
        Err(e @ TimeError::Unreadable) => Err(format!(
            "{} {e}; {WRITE_ISO} (ISO 8601 date-times, 12/8/2026 9:00:00 AM and 08.12.2026 are read too)",
            quote(text)
        )),
    }
}

#[cfg(test)]
mod tests;
