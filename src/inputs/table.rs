//! CSV exports with a header row, as `Export-Csv` and Excel write them: Windows PowerShell's
//! `#TYPE` first line and blank rows are skipped, columns are found by their accepted names
//! (case-insensitive, surrounding spaces ignored), and each data row whose field count matches
//! the header's is handed on with its line. Shared by the schedule and sign-in readers.

use std::io;
use std::ops::ControlFlow;
use std::sync::Arc;

use super::text::{self, TextFile};
use crate::diag::{count, quote, Diagnostics};

/// A column a reader looks for.
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    /// What it holds, for messages: `the source UPN`.
    pub what: &'static str,
    /// The accepted names, best first: when several are present, the earlier name wins.
    pub names: &'static [&'static str],
    pub required: bool,
}

/// The header row: names as written, and where each wanted column is.
#[derive(Debug)]
pub struct Header {
    pub names: Vec<String>,
    /// For each wanted column (same order), its 0-based position.
    pub found: Vec<Option<usize>>,
}

impl Header {
    /// Finds `wanted` among `names`.
    fn resolve(names: Vec<String>, wanted: &[Wanted]) -> Header {
        let lower: Vec<String> = names.iter().map(|n| n.trim().to_lowercase()).collect();
        let found = wanted
            .iter()
            .map(|w| {
                w.names
                    .iter()
                    .find_map(|want| lower.iter().position(|n| *n == want.to_lowercase()))
            })
            .collect();
        Header { names, found }
    }

    /// The diagnostic column (1-based index, name as written) of position `idx`.
    pub fn column(&self, idx: usize) -> (usize, &str) {
        (idx + 1, self.names[idx].as_str())
    }
}

/// How reading ended, for the reader's own messages about an empty file or an empty list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No header row (nothing but blank lines and `#TYPE`).
    NoHeader,
    /// The file cannot be read as this table; the reason is reported.
    Refused,
    /// The header was read, and this many data rows after it (good or bad).
    Rows(u64),
}

/// Reads every row of `opened`, reporting what is wrong with the header or a row's shape, and
/// hands each well-formed data row (fields trimmed) and its line to `on_row`.
pub fn read(
    file: &Arc<str>,
    opened: TextFile,
    wanted: &[Wanted],
    diags: &mut Diagnostics,
    mut on_row: impl FnMut(&Header, u64, Vec<String>, &mut Diagnostics),
) -> io::Result<Outcome> {
    if opened.looks_utf16_without_bom {
        diags.error(file, None, "the file looks like UTF-16 without a byte order mark (every other byte is NUL); export it again with -Encoding UTF8");
        return Ok(Outcome::Refused);
    }
    let mut header: Option<Header> = None;
    let mut outcome = Outcome::NoHeader;
    text::read_records(opened, |record, line, _| {
        let fields: Vec<String> = record
            .iter()
            .map(|b| text::decode_field(b).0.trim().to_string())
            .collect();
        if fields.iter().all(String::is_empty) {
            return ControlFlow::Continue(());
        }
        let Some(head) = &header else {
            if fields[0].starts_with("#TYPE") {
                return ControlFlow::Continue(());
            }
            let head = Header::resolve(fields, wanted);
            if !header_complete(&head, wanted, file, line, diags) {
                outcome = Outcome::Refused;
                return ControlFlow::Break(());
            }
            header = Some(head);
            outcome = Outcome::Rows(0);
            return ControlFlow::Continue(());
        };
        if let Outcome::Rows(n) = &mut outcome {
            *n += 1;
        }
        if fields.len() == head.names.len() {
            on_row(head, line, fields, diags);
        } else {
            diags.error(file, Some(line), format!(
                "the row has {}, the header has {}; export again with Export-Csv (values that contain the separator must be in double quotes)",
                count(fields.len() as u64, "field"),
                head.names.len()
            ));
        }
        ControlFlow::Continue(())
    })?;
    Ok(outcome)
}

/// Reports each required column the header lacks; true when it has them all.
fn header_complete(
    head: &Header,
    wanted: &[Wanted],
    file: &Arc<str>,
    line: u64,
    diags: &mut Diagnostics,
) -> bool {
    // A header of values (a UPN among them) means the file starts with data.
    let no_header = if head.names.iter().any(|n| n.contains('@')) {
        "; the first row looks like data, not column names: add a header row"
    } else {
        ""
    };
    let mut complete = true;
    for (w, found) in wanted.iter().zip(&head.found) {
        if w.required && found.is_none() {
            complete = false;
            diags.error(file, Some(line), format!(
                "the header row has no column for {} (found {}); name it one of {} (case does not matter){no_header}",
                w.what,
                quote(&head.names.join(",")),
                w.names.join(", "),
            ));
        }
    }
    complete
}
