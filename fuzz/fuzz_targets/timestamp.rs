//! Dates and times as an admin's culture writes them (`inputs::timestamp::parse_written`, read
//! by the schedule and the sign-in export), and the move-state exports' `parse_timestamp`, on
//! arbitrary text (invalid UTF-8 becomes U+FFFD).
//!
//! Beyond "no panic": both are deterministic and ignore surrounding spaces; every value
//! `parse_written` accepts has a year of four digits, 1000-9999, written in the text (the
//! documented forms all write `yyyy`; `26-12-08` or `08.12.26` is not the year 26); a value read as a
//! `Date` formats back (chrono) as `yyyy-MM-dd` and as German `dd.MM.yyyy` to the same `Date`;
//! a `Local` date-time formats back as ISO 8601 with its fraction to the same `Local`, and as
//! en-US `M/d/yyyy h:mm:ss AM` and German `dd.MM.yyyy HH:mm:ss` to a `Local` that writes the
//! same in that form; an `Offset` date-time formats back as RFC 3339 to the same instant with
//! the same offset, and `parse_timestamp` reads the text as that instant; `date()` is the day
//! as written and `to_utc()` the instant (midnight UTC for a date). A slash date refused as
//! ambiguous has slashes and no AM/PM, each of its readings is a date of the written year, and
//! the refusal is one line.
#![no_main]

use chrono::{Datelike, NaiveTime, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use t2t_notify::inputs::timestamp::{parse_timestamp, parse_written, TimeError, Written};

/// Formats `value` with `format` and reads it back; the value read must write the same.
fn formats_back_local(value: chrono::NaiveDateTime, format: &str) {
    let text = value.format(format).to_string();
    match parse_written(&text) {
        Ok(Written::Local(t)) => assert_eq!(
            t.format(format).to_string(),
            text,
            "{value:?} written as {text:?}, read as {t:?}"
        ),
        other => panic!("{value:?} written as {text:?}, read as {other:?}"),
    }
}

fn check_accepted(text: &str, written: Written) {
    let year = written.date().year();
    assert!(
        (1000..=9999).contains(&year) && text.contains(&year.to_string()),
        "{text:?} read as {written:?}: the year is not written yyyy"
    );
    match written {
        Written::Date(d) => {
            assert_eq!(written.date(), d);
            assert_eq!(
                written.to_utc(),
                Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN))
            );
            for format in ["%Y-%m-%d", "%d.%m.%Y"] {
                let back = d.format(format).to_string();
                assert_eq!(
                    parse_written(&back),
                    Ok(Written::Date(d)),
                    "{text:?} read as {d}, written as {back:?}"
                );
            }
        }
        Written::Local(t) => {
            assert_eq!(written.date(), t.date());
            assert_eq!(written.to_utc(), Utc.from_utc_datetime(&t));
            let back = t.format("%Y-%m-%dT%H:%M:%S%.f").to_string();
            assert_eq!(
                parse_written(&back),
                Ok(Written::Local(t)),
                "{text:?} read as {t}, written as {back:?}"
            );
            formats_back_local(t, "%m/%d/%Y %I:%M:%S %p");
            formats_back_local(t, "%d.%m.%Y %H:%M:%S");
        }
        Written::Offset(t) => {
            assert_eq!(written.date(), t.date_naive());
            assert_eq!(written.to_utc(), t.to_utc());
            let back = t.to_rfc3339();
            match parse_written(&back) {
                Ok(Written::Offset(again)) => {
                    assert_eq!(again, t, "{text:?} written as {back:?}");
                    assert_eq!(again.offset(), t.offset(), "{text:?} written as {back:?}");
                }
                other => panic!("{text:?} read as {t}, written as {back:?}, read as {other:?}"),
            }
            assert_eq!(parse_timestamp(text), Some(t.to_utc()), "{text:?}");
        }
    }
}

fn check_refused(text: &str, error: &TimeError) {
    let shown = error.to_string();
    assert!(!shown.contains(['\n', '\r']), "not one line: {shown:?}");
    if let TimeError::AmbiguousSlashDate {
        day_first,
        month_first,
    } = error
    {
        let trimmed = text.trim();
        assert!(trimmed.contains('/'), "{text:?}: {shown}");
        let upper = trimmed.to_ascii_uppercase();
        assert!(
            !upper.contains("AM") && !upper.contains("PM"),
            "{text:?}: {shown}"
        );
        for reading in [day_first, month_first].into_iter().flatten() {
            assert!(
                trimmed.contains(&reading.year().to_string()),
                "{text:?} read as {reading}: {shown}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let written = parse_written(&text);
    assert_eq!(written, parse_written(&text), "not deterministic");
    assert_eq!(
        written,
        parse_written(&format!("  {text} ")),
        "spaces around"
    );
    let timestamp = parse_timestamp(&text);
    assert_eq!(timestamp, parse_timestamp(&text), "not deterministic");
    assert_eq!(
        timestamp,
        parse_timestamp(&format!(" {text}  ")),
        "spaces around"
    );
    match &written {
        Ok(w) => check_accepted(&text, *w),
        Err(e) => check_refused(&text, e),
    }
});
