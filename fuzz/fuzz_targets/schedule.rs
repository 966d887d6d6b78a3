//! The migration schedule (`inputs::schedule`): `Schedule::read_from` on one or two files (one
//! per wave), into one schedule, as `Schedule::load` reads them.
//!
//! Input: the first file's bytes, then optionally `\n==next==\n` and the second file's bytes.
//!
//! Beyond "no panic": reading is deterministic and fails only on damaged UTF-16, UTF-32 or
//! UTF-7, with an error naming the encoding; every diagnostic names its file and a line that
//! exists; every entry has a source UPN that passes `address::check_upn`, its file and a line
//! of it, later than the entry before from the same file; one entry per user
//! (case-insensitive), found by `get` and `index_of` under any ASCII case of its UPN. The
//! entries are exactly those of an independent reading (the csv crate on the text layer's
//! decoding, the documented column names): the first row of each user whose UPN passes
//! `check_upn` and whose date `parse_written` reads, with that date as written and its wave;
//! a file has an error exactly when that reading finds a bad header, a row of the wrong
//! width, a bad UPN or date, or a user planned again for another day. So a file without
//! errors yields one entry per user it lists, and the planned start of a row written
//! `yyyy-mm-dd` is exactly that date, and the row is refused when that is no date or the
//! year is before 1000 (checked by hand).
#![no_main]

use std::collections::HashMap;
use std::io::Cursor;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use t2t_notify::diag::Diagnostics;
use t2t_notify::inputs::address::check_upn;
use t2t_notify::inputs::schedule::{Schedule, ScheduleEntry, COLUMNS};
use t2t_notify::inputs::timestamp::parse_written;
use t2t_notify_fuzz::table::{self, Export};
use t2t_notify_fuzz::{check_diagnostics, line_count, refused_as_damaged};

const MARKER: &[u8] = b"\n==next==\n";
const NAMES: [&str; 2] = ["wave-1.csv", "wave-2.csv"];

fn split(data: &[u8]) -> Vec<&[u8]> {
    match data.windows(MARKER.len()).position(|w| w == MARKER) {
        Some(i) => vec![&data[..i], &data[i + MARKER.len()..]],
        None => vec![data],
    }
}

/// Reads every file into one schedule; `None` when a file cannot be read (checked here).
fn read_all(files: &[&[u8]]) -> Option<(Schedule, Diagnostics)> {
    let mut schedule = Schedule::default();
    let mut diags = Diagnostics::default();
    for (bytes, name) in files.iter().zip(NAMES) {
        if let Err(e) = schedule.read_from(Cursor::new(bytes.to_vec()), name, &mut diags) {
            assert!(
                refused_as_damaged(bytes, &e.to_string()),
                "read failed: {e}"
            );
            return None;
        }
    }
    Some((schedule, diags))
}

/// `yyyy-mm-dd` read by hand: `Some(None)` when it has that shape but is no date (or one
/// before the year 1000).
fn iso_date(text: &str) -> Option<Option<NaiveDate>> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    shaped.then(|| {
        let n = |r: std::ops::Range<usize>| text[r].parse::<u32>().expect("digits");
        // Years before 1000 are refused: `parse_written` takes four-digit years only.
        NaiveDate::from_ymd_opt(n(0..4) as i32, n(5..7), n(8..10)).filter(|_| n(0..4) >= 1000)
    })
}

/// What the independent reading expects: the entries (without their lines) and, per file,
/// whether it has an error.
#[derive(Default)]
struct Expected {
    entries: Vec<(String, NaiveDate, Option<String>, &'static str)>,
    by_user: HashMap<String, usize>,
    errors: Vec<bool>,
}

impl Expected {
    fn file(&mut self, bytes: &[u8], name: &'static str) {
        let table = match table::read(bytes, &COLUMNS) {
            Export::Table(table) => table,
            Export::Damaged | Export::BomlessUtf16 | Export::NoHeader | Export::Incomplete => {
                self.errors.push(true);
                return;
            }
        };
        let mut error = false;
        for row in &table.rows {
            if !row.shaped {
                error = true;
                continue;
            }
            let upn = table.value(row, 0).expect("required");
            let date_text = table.value(row, 1).expect("required");
            let wave = table.value(row, 2).filter(|w| !w.is_empty());
            let date = parse_written(date_text).map(|w| w.date());
            if let Some(by_hand) = iso_date(date_text) {
                assert_eq!(date.clone().ok(), by_hand, "{date_text:?} read as {date:?}");
            }
            let (true, Ok(true), Ok(date)) = (!upn.is_empty(), check_upn(upn).map(|_| true), date)
            else {
                error = true;
                continue;
            };
            match self.by_user.get(&upn.to_lowercase()) {
                Some(&first) => error |= self.entries[first].1 != date,
                None => {
                    self.by_user.insert(upn.to_lowercase(), self.entries.len());
                    let wave = wave.map(str::to_string);
                    self.entries.push((upn.to_string(), date, wave, name));
                }
            }
        }
        self.errors.push(error);
    }
}

fn check_entries(schedule: &Schedule, files: &[&[u8]]) {
    let mut last: HashMap<&str, u64> = HashMap::new();
    for (i, e) in schedule.entries().iter().enumerate() {
        let file = NAMES
            .iter()
            .position(|n| **n == *e.file)
            .unwrap_or_else(|| panic!("entry of an unknown file: {e:?}"));
        let lines = line_count(files[file]);
        assert!(
            e.line >= 1 && e.line <= lines,
            "line {} of {lines}: {e:?}",
            e.line
        );
        if let Some(before) = last.insert(NAMES[file], e.line) {
            assert!(
                before < e.line,
                "entries out of order: line {before}, then {e:?}"
            );
        }
        if let Err(why) = check_upn(&e.source_upn) {
            panic!("entry with source UPN {:?}: {why}", e.source_upn);
        }
        assert_eq!(e.source_upn.trim(), e.source_upn);
        if let Some(wave) = &e.wave {
            assert!(!wave.is_empty() && wave.trim() == wave, "{e:?}");
        }
        for spelling in [
            e.source_upn.clone(),
            e.source_upn.to_ascii_uppercase(),
            e.source_upn.to_ascii_lowercase(),
        ] {
            assert_eq!(
                schedule.index_of(&spelling),
                Some(i),
                "index of {spelling:?}"
            );
            assert_eq!(schedule.get(&spelling), Some(e), "get {spelling:?}");
        }
    }
    assert_eq!(schedule.len(), schedule.entries().len());
    assert_eq!(schedule.is_empty(), schedule.entries().is_empty());
}

fn shown(diags: &Diagnostics) -> Vec<String> {
    diags.sorted().iter().map(ToString::to_string).collect()
}

fuzz_target!(|data: &[u8]| {
    let files = split(data);
    let Some((schedule, diags)) = read_all(&files) else {
        return;
    };
    let (again, diags_again) = read_all(&files).expect("read once");
    assert_eq!(schedule.entries(), again.entries(), "not deterministic");
    assert_eq!(shown(&diags), shown(&diags_again), "not deterministic");

    let located: Vec<(&str, u64)> = files
        .iter()
        .zip(NAMES)
        .map(|(bytes, name)| (name, line_count(bytes)))
        .collect();
    check_diagnostics(&diags, &located);
    check_entries(&schedule, &files);

    let mut expected = Expected::default();
    for (bytes, name) in files.iter().zip(NAMES) {
        expected.file(bytes, name);
    }
    let got: Vec<(String, NaiveDate, Option<String>, &str)> = schedule
        .entries()
        .iter()
        .map(|e: &ScheduleEntry| {
            let name = NAMES.iter().find(|n| ***n == *e.file).expect("checked");
            (e.source_upn.clone(), e.planned_start, e.wave.clone(), *name)
        })
        .collect();
    assert_eq!(got, expected.entries, "not the entries the file lists");
    for (name, error) in NAMES.iter().zip(&expected.errors) {
        let has = diags.errors().any(|d| *d.file == **name);
        assert_eq!(
            has,
            *error,
            "{name}: error reported {has}, expected {error}: {:?}",
            shown(&diags)
        );
    }
});
