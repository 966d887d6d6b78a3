//! An independent reading of a trust-evidence file, for the `trust` target: what the file
//! really says, decoded and parsed here without the code under test, so that an acceptance can
//! be checked against the rules of `trust::rules` as its documentation states them.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// The text of an evidence file as the rules allow it to be written: UTF-8 with or without a
/// byte order mark, or UTF-16 (either order) after its mark, decoded strictly; leading U+FEFF
/// characters are not part of the JSON. `None` when the bytes are none of these.
pub fn text(bytes: &[u8]) -> Option<String> {
    let utf16 = |rest: &[u8], big: bool| {
        if !rest.len().is_multiple_of(2) {
            return None;
        }
        let units = rest.chunks(2).map(|c| {
            if big {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_le_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .ok()
    };
    let decoded = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).ok(),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, false),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, true),
        _ => String::from_utf8(bytes.to_vec()).ok(),
    }?;
    Some(decoded.trim_start_matches('\u{feff}').to_string())
}

/// The entries of a JSON object in file order, duplicates kept; `None` when the text is not one
/// JSON object.
pub fn entries(text: &str) -> Option<Vec<(String, Value)>> {
    serde_json::from_str::<Entries>(text).ok().map(|e| e.0)
}

struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entries, D::Error> {
        d.deserialize_map(EntriesVisitor)
    }
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = Entries;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
        let mut out = Vec::new();
        while let Some(entry) = map.next_entry::<String, Value>()? {
            out.push(entry);
        }
        Ok(Entries(out))
    }
}

/// What one required property of the file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Property {
    /// Absent, or `null`.
    Missing,
    /// Named more than once (names compared ignoring ASCII case).
    Duplicate,
    /// Once, as this value.
    One(Value),
}

/// The property `name` of `entries`, found ignoring ASCII case.
pub fn property(entries: &[(String, Value)], name: &str) -> Property {
    let mut found = entries.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name));
    match (found.next(), found.next()) {
        (None, _) => Property::Missing,
        (Some(_), Some(_)) => Property::Duplicate,
        (Some((_, Value::Null)), None) => Property::Missing,
        (Some((_, v)), None) => Property::One(v.clone()),
    }
}

/// The trimmed, non-empty text of the property `name`, if that is what it holds.
pub fn text_property(entries: &[(String, Value)], name: &str) -> Option<String> {
    match property(entries, name) {
        Property::One(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// A host URL compared the way the rules compare it: trimmed, without trailing slashes, ASCII
/// lower case.
pub fn same_host_url(written: &str, configured: &str) -> bool {
    let strip = |s: &str| s.trim().trim_end_matches('/').to_ascii_lowercase();
    strip(written) == strip(configured)
}

/// `CheckedAtUtc` as the rules document it: RFC 3339, the same without a zone (UTC), or
/// `/Date(ms)/` with an optional `+hhmm`/`-hhmm` display offset.
pub fn checked_at(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    let inner = text.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let zone_at = inner.len().saturating_sub(5);
    // A display offset is the last five characters, after at least one digit.
    let millis = match inner.get(zone_at..) {
        Some(z)
            if zone_at > 0
                && z.starts_with(['+', '-'])
                && z[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            &inner[..zone_at]
        }
        _ => inner,
    };
    let digits = millis.strip_prefix('-').unwrap_or(millis);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    DateTime::from_timestamp_millis(millis.parse().ok()?)
}

/// How far ahead of `now` a check may be dated (the rules' clock skew).
pub fn clock_skew() -> Duration {
    Duration::minutes(5)
}
