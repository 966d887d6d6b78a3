//! The target tenant's sign-in export (`inputs::sign_ins::read_from`) on arbitrary bytes.
//!
//! Beyond "no panic": reading is deterministic and fails only on damaged UTF-16, UTF-32 or
//! UTF-7, with an error naming the encoding; every diagnostic names the file and a line that
//! exists; every row has a UPN that passes `address::check_upn` and a line of the file; one
//! row per user (case-insensitive). The rows are exactly those of an independent reading (the
//! csv crate on the text layer's decoding, the documented column names): one per user whose
//! UPN passes `check_upn` on a row whose time is empty (`None`, never signed in) or read by
//! `parse_written` (as UTC), in the order users first appear, each with the newest sign-in of
//! the user's rows (`None` older than any time; the earlier row on a tie); an RFC 3339 value is
//! that instant, or refused when its year is before 1000 (checked with chrono alone). The file
//! has an error exactly when that reading finds a bad header, a row of the wrong width, or a
//! bad UPN or time.
#![no_main]

use std::collections::HashMap;
use std::io::Cursor;

use chrono::{DateTime, Datelike, Utc};
use libfuzzer_sys::fuzz_target;
use t2t_notify::inputs::address::check_upn;
use t2t_notify::inputs::sign_ins::{self, SignInRow, COLUMNS};
use t2t_notify::inputs::timestamp::parse_written;
use t2t_notify_fuzz::table::{self, Export};
use t2t_notify_fuzz::{check_diagnostics, line_count, refused_as_damaged};

const NAME: &str = "sign-ins.csv";

/// A time value as the export means it: empty is never; `Err` when it is not readable.
fn sign_in(text: &str) -> Result<Option<DateTime<Utc>>, ()> {
    if text.is_empty() {
        return Ok(None);
    }
    let read = parse_written(text).map(|w| w.to_utc()).map_err(|_| ());
    if let Ok(by_chrono) = DateTime::parse_from_rfc3339(text) {
        // Four-digit years only: `parse_written` refuses the years before 1000.
        let want = if by_chrono.year() >= 1000 {
            Ok(by_chrono.to_utc())
        } else {
            Err(())
        };
        assert_eq!(read, want, "{text:?}");
    }
    read.map(Some)
}

/// The rows an independent reading expects (UPN as first kept, newest sign-in) and whether the
/// file has an error.
fn expected(bytes: &[u8]) -> (Vec<(String, Option<DateTime<Utc>>)>, bool) {
    let table = match table::read(bytes, &COLUMNS) {
        Export::Table(table) => table,
        Export::Damaged | Export::BomlessUtf16 | Export::NoHeader | Export::Incomplete => {
            return (Vec::new(), true)
        }
    };
    let mut rows: Vec<(String, Option<DateTime<Utc>>)> = Vec::new();
    let mut by_user = HashMap::new();
    let mut error = false;
    for row in &table.rows {
        if !row.shaped {
            error = true;
            continue;
        }
        let upn = table.value(row, 0).expect("required");
        let time = sign_in(table.value(row, 1).expect("required"));
        let (true, true, Ok(time)) = (!upn.is_empty(), check_upn(upn).is_ok(), time) else {
            error = true;
            continue;
        };
        match by_user.get(&upn.to_lowercase()) {
            Some(&i) => {
                let kept: &mut (String, Option<DateTime<Utc>>) = &mut rows[i];
                if time > kept.1 {
                    *kept = (upn.to_string(), time);
                }
            }
            None => {
                by_user.insert(upn.to_lowercase(), rows.len());
                rows.push((upn.to_string(), time));
            }
        }
    }
    (rows, error)
}

fn check_rows(rows: &[SignInRow], lines: u64) {
    let mut users = HashMap::new();
    for r in rows {
        assert!(
            r.line >= 1 && r.line <= lines,
            "line {} of {lines}: {r:?}",
            r.line
        );
        if let Err(why) = check_upn(&r.upn) {
            panic!("row with UPN {:?}: {why}", r.upn);
        }
        assert_eq!(r.upn.trim(), r.upn);
        if let Some(other) = users.insert(r.upn.to_lowercase(), r) {
            panic!("two rows of one user: {other:?} {r:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (rows, diags) = match sign_ins::read_from(Cursor::new(data.to_vec()), NAME) {
        Ok(read) => read,
        Err(e) => {
            assert!(refused_as_damaged(data, &e.to_string()), "read failed: {e}");
            return;
        }
    };
    let (again, diags_again) =
        sign_ins::read_from(Cursor::new(data.to_vec()), NAME).expect("read once");
    let shown = |d: &t2t_notify::diag::Diagnostics| {
        d.sorted()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(rows, again, "not deterministic");
    assert_eq!(shown(&diags), shown(&diags_again), "not deterministic");

    let lines = line_count(data);
    check_diagnostics(&diags, &[(NAME, lines)]);
    check_rows(&rows, lines);

    let (want, error) = expected(data);
    let got: Vec<(String, Option<DateTime<Utc>>)> = rows
        .iter()
        .map(|r| (r.upn.clone(), r.last_success))
        .collect();
    assert_eq!(got, want, "not the rows the file lists");
    assert_eq!(
        diags.has_errors(),
        error,
        "error reported {}: {:?}",
        diags.has_errors(),
        shown(&diags)
    );
});
