//! The times PowerShell writes for a `DateTime`: ISO 8601 (`ConvertTo-Json` in PowerShell 7,
//! `Get-Date -Format o`), `/Date(1700000000000)/` (`ConvertTo-Json` in Windows PowerShell 5.1),
//! and the culture-invariant `MM/dd/yyyy HH:mm:ss` (`Export-Csv`, or en-US with AM/PM).
//! A time without an offset is taken as UTC: entries are only compared with each other.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

/// Formats of times without an offset, tried in order.
const NAIVE_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
];

/// Parses one of the formats above; `None` for anything else (never a guess at day/month order
/// beyond the invariant culture's month first).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Some(t) = parse_ms_date(text) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    NAIVE_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| Utc.from_utc_datetime(&t))
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
            "yesterday",
            "",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
    }
}
