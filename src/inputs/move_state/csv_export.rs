//! The CSV form: `Export-Csv` output, a header row (after Windows PowerShell's optional
//! `#TYPE` line) and one row per move, in whatever encoding and separator PowerShell used.

use std::io;
use std::ops::ControlFlow;
use std::sync::Arc;

use super::check::{check, Place, RawEntry, Value};
use super::columns::{missing_required, resolve, Columns};
use super::MoveEntry;
use crate::diag::{quote, Column, Diagnostics};
use crate::inputs::text::{self, TextFile};

/// The header: names as written, and which field is where.
struct CsvHeader {
    names: Vec<String>,
    source: usize,
    state: usize,
    columns: Columns,
}

/// Reads every row of an opened CSV export.
pub(super) fn read(
    file: &Arc<str>,
    opened: TextFile,
    batch: &str,
    diags: &mut Diagnostics,
) -> io::Result<Vec<MoveEntry>> {
    let mut header: Option<CsvHeader> = None;
    let mut refused = false;
    let mut entries = Vec::new();
    let mut rows = 0u64;
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
            header = read_header(fields, file, line, diags);
            refused = header.is_none();
            return if refused {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            };
        };
        rows += 1;
        if fields.len() != head.names.len() {
            diags.error(file, Some(line), format!(
                "the row has {} fields, the header has {}; export again with Export-Csv (values that contain the separator must be in double quotes)",
                fields.len(),
                head.names.len()
            ));
        } else if let Some(entry) = check(raw_entry(line, head, fields), file, batch, diags) {
            entries.push(entry);
        }
        ControlFlow::Continue(())
    })?;
    if refused {
        return Ok(Vec::new());
    }
    match header {
        None => diags.error(file, None, "the file has no header row; export with Export-Csv, which writes the column names first"),
        Some(_) if rows == 0 => diags.warning(file, None, super::NO_MOVES),
        Some(_) => {}
    }
    Ok(entries)
}

/// Reads the header row; reports and returns `None` when a required column is missing.
fn read_header(
    names: Vec<String>,
    file: &Arc<str>,
    line: u64,
    diags: &mut Diagnostics,
) -> Option<CsvHeader> {
    let columns = resolve(&names);
    for (what, accepted) in missing_required(&columns) {
        diags.error(file, Some(line), format!(
            "the header row has no column for {what} (found {}); name it one of {accepted} (case does not matter)",
            quote(&names.join(","))
        ));
    }
    Some(CsvHeader {
        source: columns.source?,
        state: columns.state?,
        names,
        columns,
    })
}

/// The values of one row, each with its column.
fn raw_entry(line: u64, head: &CsvHeader, mut fields: Vec<String>) -> RawEntry {
    let mut value = |idx: usize| Value {
        text: Some(std::mem::take(&mut fields[idx])),
        place: Place {
            line,
            column: Some(Column {
                index: idx + 1,
                name: head.names[idx].clone(),
            }),
            item: None,
        },
    };
    let c = head.columns;
    RawEntry {
        line,
        index: None,
        source: value(head.source),
        state: value(head.state),
        target: c.target.map(&mut value),
        timestamp: c.timestamp.map(&mut value),
        job_id: c.job_id.map(&mut value),
    }
}
