//! An independent reading of a CSV export with a header row, for the `schedule` and `sign_ins`
//! targets: the rows as `inputs::table` documents them (blank rows and a `#TYPE` line before
//! the header skipped, columns found by their accepted names ignoring case and surrounding
//! spaces, the earlier name winning), read here with the csv crate from the text layer's
//! decoding (the text layer itself is checked by `plan`).

use std::io::Read;

use t2t_notify::inputs::table::Wanted;
use t2t_notify::inputs::text;

/// What an export holds, read without the code under test.
#[derive(Debug)]
pub enum Export {
    /// Damaged UTF-16, UTF-32 or UTF-7: the stream cannot be decoded.
    Damaged,
    /// The first bytes look like UTF-16 without a byte order mark (the readers refuse it).
    BomlessUtf16,
    /// Nothing but blank rows and `#TYPE`.
    NoHeader,
    /// A header row without one of the required columns.
    Incomplete,
    Table(Table),
}

/// A header row and the data rows after it.
#[derive(Debug)]
pub struct Table {
    /// For each wanted column (same order), its 0-based position.
    pub found: Vec<Option<usize>>,
    /// Every data row, trimmed fields; `shaped` says whether it has the header's field count.
    pub rows: Vec<Row>,
}

#[derive(Debug)]
pub struct Row {
    pub fields: Vec<String>,
    pub shaped: bool,
}

impl Table {
    /// The value of wanted column `which` in `row` (a shaped row of a complete header).
    pub fn value<'a>(&self, row: &'a Row, which: usize) -> Option<&'a str> {
        self.found[which].map(|i| row.fields[i].as_str())
    }
}

/// Reads `bytes` as an export with the columns `wanted`.
pub fn read(bytes: &[u8], wanted: &[Wanted]) -> Export {
    let mut opened = text::from_reader(std::io::Cursor::new(bytes.to_vec())).expect("in memory");
    if opened.looks_utf16_without_bom {
        return Export::BomlessUtf16;
    }
    let delimiter = opened.delimiter;
    let mut stream = Vec::new();
    if opened.reader.read_to_end(&mut stream).is_err() {
        return Export::Damaged;
    }
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(stream.as_slice());
    let mut header: Option<Vec<String>> = None;
    let mut table = Table {
        found: Vec::new(),
        rows: Vec::new(),
    };
    for record in csv.byte_records() {
        let record = record.expect("in memory");
        let fields: Vec<String> = record
            .iter()
            .map(|f| text::decode_field(f).0.trim().to_string())
            .collect();
        if fields.iter().all(String::is_empty) {
            continue;
        }
        match &header {
            None if fields[0].starts_with("#TYPE") => {}
            None => {
                table.found = find_columns(&fields, wanted);
                let complete = wanted
                    .iter()
                    .zip(&table.found)
                    .all(|(w, f)| !w.required || f.is_some());
                if !complete {
                    return Export::Incomplete;
                }
                header = Some(fields);
            }
            Some(head) => {
                let shaped = fields.len() == head.len();
                table.rows.push(Row { fields, shaped });
            }
        }
    }
    match header {
        None => Export::NoHeader,
        Some(_) => Export::Table(table),
    }
}

/// Where each wanted column is: the first of its names (in the order given) that a header
/// field equals, ignoring case and surrounding spaces; the leftmost such field.
fn find_columns(header: &[String], wanted: &[Wanted]) -> Vec<Option<usize>> {
    wanted
        .iter()
        .map(|w| {
            w.names.iter().find_map(|name| {
                header
                    .iter()
                    .position(|h| h.trim().to_lowercase() == name.to_lowercase())
            })
        })
        .collect()
}
