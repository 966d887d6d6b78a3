//! The dates and times PowerShell and Excel write, read once for every input.
//!
//! [`parse_timestamp`] reads the move-state exports' times: ISO 8601 (`ConvertTo-Json` in
//! PowerShell 7, `Get-Date -Format o`), `/Date(1700000000000)/` (`ConvertTo-Json` in Windows
//! PowerShell 5.1), and the culture-invariant `MM/dd/yyyy HH:mm:ss` (`Export-Csv`, or en-US
//! with AM/PM). A time without an offset is taken as UTC: entries are only compared with each
//! other.
//!
//! [`parse_written`] reads values an admin's own culture wrote (`DateTime.ToString()`, Excel):
//! ISO 8601 dates and date-times, en-US `12/8/2026 9:00:00 AM` (the AM/PM says month first) and
//! German `08.12.2026 09:00:00` (dots are day first in every culture that uses them). A slash
//! date without AM/PM is refused as ambiguous: en-GB and fr-FR write `08/12/2026` for 8 December,
//! en-US for 12 August, and one value cannot tell which. The value is returned as written
//! ([`Written`]), so a reader can take the date the admin wrote without time-zone conversion.
//! Years are four digits: `08.12.26` is refused, never read as the year 26.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// ISO 8601 date-times without an offset.
const ISO_NAIVE: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// Month-first slash date-times with AM/PM (en-US `DateTime.ToString()`).
const US_AM_PM: &[&str] = &["%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p"];

/// The invariant culture's month-first slash date-times without AM/PM (`Export-Csv` of the
/// move state); only [`parse_timestamp`] reads them.
const INVARIANT: &[&str] = &["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M"];

/// Day-first dotted date-times (de, and every other culture with dots).
const DOTTED: &[&str] = &["%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M"];

/// Date-only forms: ISO 8601 and dotted day first.
const DATES: &[&str] = &["%Y-%m-%d", "%d.%m.%Y"];

/// Parses the move-state formats (see the module doc); `None` for anything else (never a guess
/// at day/month order beyond the invariant culture's month first).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Some(t) = parse_ms_date(text) {
        return Some(t);
    }
    if let Some(t) = parse_offset(text) {
        return Some(t.with_timezone(&Utc));
    }
    [ISO_NAIVE, INVARIANT, US_AM_PM]
        .into_iter()
        .find_map(|formats| parse_naive(text, formats))
        .map(|t| Utc.from_utc_datetime(&t))
}

/// The first of `formats` that reads `text` as a date and time.
fn parse_naive(text: &str, formats: &[&str]) -> Option<NaiveDateTime> {
    formats
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
}

/// ISO 8601 with an offset (`Z`, `+01:00`, `+0100`), as written.
fn parse_offset(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
}

/// `/Date(1700000000000)/` or `/Date(1700000000000+0100)/` (milliseconds since 1970 UTC; the
/// offset only says how to display it), with or without JSON's escaped slashes.
fn parse_ms_date(text: &str) -> Option<DateTime<Utc>> {
    let inner = text
        .trim_start_matches('\\')
        .strip_prefix("/Date(")?
        .trim_end_matches('/')
        .trim_end_matches('\\')
        .strip_suffix(")")?;
    let digits_end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(inner.len(), |(i, _)| i);
    let ms: i64 = inner[..digits_end].parse().ok()?;
    DateTime::from_timestamp_millis(ms)
}

/// A date or date-time as the file wrote it, before any time-zone conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// A date alone: `2026-12-08`, `08.12.2026`.
    Date(NaiveDate),
    /// A date and time without an offset.
    Local(NaiveDateTime),
    /// A date and time with an offset (`Z`, `+01:00`).
    Offset(DateTime<FixedOffset>),
}

impl Written {
    /// The date as written, in whatever zone the writer was in.
    pub fn date(self) -> NaiveDate {
        match self {
            Written::Date(d) => d,
            Written::Local(t) => t.date(),
            Written::Offset(t) => t.date_naive(),
        }
    }

    /// The instant, reading a value without an offset as UTC (a date alone as its midnight).
    pub fn to_utc(self) -> DateTime<Utc> {
        match self {
            Written::Date(d) => Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)),
            Written::Local(t) => Utc.from_utc_datetime(&t),
            Written::Offset(t) => t.with_timezone(&Utc),
        }
    }
}

/// Why [`parse_written`] refused a value; the text completes a sentence that starts with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Slashes and no AM/PM: the two readings, where each is a real date.
    #[error("has slashes and no AM/PM, so whether the day or the month comes first depends on the culture that wrote it{}", readings(*day_first, *month_first))]
    AmbiguousSlashDate {
        day_first: Option<NaiveDate>,
        month_first: Option<NaiveDate>,
    },
    #[error("is not a date t2t-notify can read")]
    Unreadable,
}

/// ` (2026-12-08 or 2026-08-12?)` when both readings are dates and differ.
fn readings(day_first: Option<NaiveDate>, month_first: Option<NaiveDate>) -> String {
    match (day_first, month_first) {
        (Some(d), Some(m)) if d != m => format!(" ({d} or {m}?)"),
        _ => String::new(),
    }
}

/// The years [`parse_written`] accepts: four digits, as every form it reads writes them.
/// chrono's `%Y` also reads `26` and `+12345`, and `08.12.26` (German `dd.MM.yy`) is not
/// 8 December of the year 26.
const WRITTEN_YEARS: std::ops::RangeInclusive<i32> = 1000..=9999;

/// Reads a date or date-time as an admin's culture writes it (see the module doc); surrounding
/// spaces are ignored.
pub fn parse_written(text: &str) -> Result<Written, TimeError> {
    let written = read_written(text.trim())?;
    if WRITTEN_YEARS.contains(&written.date().year()) {
        Ok(written)
    } else {
        Err(TimeError::Unreadable)
    }
}

/// [`parse_written`] before the year's check.
fn read_written(text: &str) -> Result<Written, TimeError> {
    if let Some(t) = parse_offset(text) {
        return Ok(Written::Offset(t));
    }
    if let Some(t) = [ISO_NAIVE, US_AM_PM, DOTTED]
        .into_iter()
        .find_map(|formats| parse_naive(text, formats))
    {
        return Ok(Written::Local(t));
    }
    if let Some(d) = DATES
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
    {
        return Ok(Written::Date(d));
    }
    slash_readings(text).map_or(Err(TimeError::Unreadable), |(day_first, month_first)| {
        Err(TimeError::AmbiguousSlashDate {
            day_first,
            month_first,
        })
    })
}

/// For `a/b/yyyy` with an optional time and no AM/PM: the date read day first and month first
/// (`None` where that reading is no date); `None` when the value is not such a date.
fn slash_readings(text: &str) -> Option<(Option<NaiveDate>, Option<NaiveDate>)> {
    let (date, time) = text.split_once(' ').unwrap_or((text, ""));
    let time_ok = time.is_empty()
        || time
            .chars()
            .all(|c| c.is_ascii_digit() || c == ':' || c == '.');
    let mut parts = date.split('/').map(|p| p.parse::<u32>().ok());
    let (Some(Some(a)), Some(Some(b)), Some(Some(year)), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let year = i32::try_from(year).ok().filter(|y| *y >= 1000)?;
    time_ok.then(|| {
        (
            NaiveDate::from_ymd_opt(year, b, a),
            NaiveDate::from_ymd_opt(year, a, b),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_8601_powershell_json_dates_and_the_invariant_and_en_us_cultures() {
        for (text, want) in [
            ("2025-03-01T10:00:00Z", "2025-03-01T10:00:00Z"),
            (
                "2025-03-01T11:00:00.1234567+01:00",
                "2025-03-01T10:00:00.1234567Z",
            ),
            ("2025-03-01T10:00:00", "2025-03-01T10:00:00Z"),
            ("2025-03-01 10:00:00.5", "2025-03-01T10:00:00.5Z"),
            (" 2025-03-01T10:00:00+0000 ", "2025-03-01T10:00:00Z"),
            ("/Date(1700000000000)/", "2023-11-14T22:13:20Z"),
            ("\\/Date(1700000000000)\\/", "2023-11-14T22:13:20Z"),
            ("/Date(1700000000000+0100)/", "2023-11-14T22:13:20Z"),
            ("/Date(-86400000)/", "1969-12-31T00:00:00Z"),
            ("03/01/2025 10:00:00", "2025-03-01T10:00:00Z"),
            ("3/1/2025 10:00:00 PM", "2025-03-01T22:00:00Z"),
            ("12/31/2025 23:59:59", "2025-12-31T23:59:59Z"),
        ] {
            let want = DateTime::parse_from_rfc3339(want).unwrap();
            assert_eq!(
                parse_timestamp(text),
                Some(want.with_timezone(&Utc)),
                "{text}"
            );
        }
    }

    #[test]
    fn other_cultures_and_nonsense_are_not_guessed() {
        for text in [
            "/Date(soon)/",
            "31.12.2025 23:59:59",
            "31/12/2025 23:59:59",
            "2025-12-31",
            "yesterday",
            "",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
    }

    #[test]
    fn written_values_keep_their_date_and_convert_to_utc() {
        // (text, the date as written, the instant with no offset read as UTC)
        for (text, date, utc) in [
            ("2026-12-08", "2026-12-08", "2026-12-08T00:00:00Z"),
            (" 2026-12-08 ", "2026-12-08", "2026-12-08T00:00:00Z"),
            ("2026-12-08T09:00:00", "2026-12-08", "2026-12-08T09:00:00Z"),
            ("2026-12-08T09:00", "2026-12-08", "2026-12-08T09:00:00Z"),
            ("2026-12-08 09:00:00", "2026-12-08", "2026-12-08T09:00:00Z"),
            ("2026-12-08T09:00:00Z", "2026-12-08", "2026-12-08T09:00:00Z"),
            (
                "2026-12-08T00:30:00+01:00",
                "2026-12-08",
                "2026-12-07T23:30:00Z",
            ),
            (
                "2026-12-08T23:00:00-0500",
                "2026-12-08",
                "2026-12-09T04:00:00Z",
            ),
            (
                "2026-12-04T15:04:05.1234567Z",
                "2026-12-04",
                "2026-12-04T15:04:05.1234567Z",
            ),
            (
                "2026-12-04T15:04:05.0000000",
                "2026-12-04",
                "2026-12-04T15:04:05Z",
            ),
            ("12/8/2026 9:00:00 AM", "2026-12-08", "2026-12-08T09:00:00Z"),
            ("12/4/2026 3:04:05 PM", "2026-12-04", "2026-12-04T15:04:05Z"),
            ("12/04/2026 03:04 pm", "2026-12-04", "2026-12-04T15:04:00Z"),
            ("08.12.2026 09:00:00", "2026-12-08", "2026-12-08T09:00:00Z"),
            ("4.12.2026 15:04", "2026-12-04", "2026-12-04T15:04:00Z"),
            ("08.12.2026", "2026-12-08", "2026-12-08T00:00:00Z"),
        ] {
            let w = parse_written(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(w.date().to_string(), date, "{text}");
            let utc = DateTime::parse_from_rfc3339(utc).unwrap();
            assert_eq!(w.to_utc(), utc, "{text}");
        }
    }

    #[test]
    fn slash_dates_without_am_pm_are_ambiguous() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        for (text, day_first, month_first, shown) in [
            (
                "08/12/2026",
                d("2026-12-08"),
                d("2026-08-12"),
                " (2026-12-08 or 2026-08-12?)",
            ),
            (
                "08/12/2026 09:00:00",
                d("2026-12-08"),
                d("2026-08-12"),
                " (2026-12-08 or 2026-08-12?)",
            ),
            (
                "12/04/2026 15:04:05",
                d("2026-04-12"),
                d("2026-12-04"),
                " (2026-04-12 or 2026-12-04?)",
            ),
            ("13/12/2026", d("2026-12-13"), None, ""),
            ("05/05/2026", d("2026-05-05"), d("2026-05-05"), ""),
        ] {
            let err = parse_written(text).unwrap_err();
            let want = TimeError::AmbiguousSlashDate {
                day_first,
                month_first,
            };
            assert_eq!(err, want, "{text}");
            assert!(
                err.to_string()
                    .ends_with(&format!("the culture that wrote it{shown}")),
                "{err}"
            );
        }
    }

    /// Found while writing the `timestamp` fuzz target: chrono's `%Y` reads one to four digits
    /// (or more with a sign), so a two-digit year was read as the first century.
    #[test]
    fn years_not_written_with_four_digits_are_unreadable() {
        for text in [
            "08.12.26",
            "08.12.26 09:00:00",
            "26-12-08",
            "12/8/26 9:00:00 AM",
            "0026-12-08T09:00:00Z",
            "+12345-12-08",
            "0999-12-08",
        ] {
            assert_eq!(parse_written(text), Err(TimeError::Unreadable), "{text}");
        }
        for text in ["1000-01-01", "9999-12-31T23:59:59-01:00", "31.12.9999"] {
            assert!(parse_written(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn nonsense_is_unreadable() {
        for text in [
            "",
            "next tuesday",
            "2026-13-01",
            "31.02.2026",
            "12/8/2026 25:00:00 PM",
            "1/2/3",
            "12/8/2026 noon",
            "2026/12/08",
        ] {
            assert_eq!(parse_written(text), Err(TimeError::Unreadable), "{text}");
        }
    }
}
