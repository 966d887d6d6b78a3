//! Checks one entry as read from either format: a valid source UPN, a state (known, or
//! reported and kept as written), a readable time. Diagnostics point at the CSV column or the
//! JSON item and property.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{parse_timestamp, MoveEntry, MoveState};
use crate::diag::{quote, Column, Diagnostics, Severity};
use crate::inputs::address;

/// Where one value of one entry is (or should have been), for diagnostics.
#[derive(Debug, Clone)]
pub(super) struct Place {
    pub line: u64,
    /// CSV: the column.
    pub column: Option<Column>,
    /// JSON: the array index and the property name.
    pub item: Option<(u64, String)>,
}

/// One value of one entry before checking, with its place.
#[derive(Debug, Clone)]
pub(super) struct Value {
    pub text: Option<String>,
    pub place: Place,
}

/// An entry as read, before checking. The source and state places exist even when the value
/// is missing; the optional fields are `None` when the file has no such column or property.
#[derive(Debug)]
pub(super) struct RawEntry {
    pub line: u64,
    pub index: Option<u64>,
    pub source: Value,
    pub state: Value,
    pub target: Option<Value>,
    pub timestamp: Option<Value>,
    pub job_id: Option<Value>,
}

/// Records a diagnostic about one value.
pub(super) fn at(
    diags: &mut Diagnostics,
    severity: Severity,
    file: &Arc<str>,
    place: &Place,
    message: String,
) {
    let message = match &place.item {
        Some((i, prop)) => format!("item [{i}] ({prop}): {message}"),
        None => message,
    };
    let column = place.column.as_ref().map(|c| (c.index, c.name.as_str()));
    diags.add(severity, file, Some(place.line), column, message);
}

fn present(v: &Value) -> Option<&str> {
    v.text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// Checks an entry as read; returns it when it names a user and a state.
pub(super) fn check(
    raw: RawEntry,
    file: &Arc<str>,
    batch: &str,
    diags: &mut Diagnostics,
) -> Option<MoveEntry> {
    let mut error = |place: &Place, message: String| {
        at(diags, Severity::Error, file, place, message);
    };
    let Some(source) = present(&raw.source) else {
        let message = "is empty; every entry needs the source user's UPN";
        error(&raw.source.place, message.into());
        return None;
    };
    if let Err(why) = address::check_upn(source) {
        error(&raw.source.place, format!("{} {why}", quote(source)));
        return None;
    }
    let Some(state_text) = present(&raw.state) else {
        let message = "is empty; every entry needs the move state (Success, Failed, ...)";
        error(&raw.state.place, message.into());
        return None;
    };
    let state = check_state(state_text, &raw.state.place, file, diags);
    let timestamp = raw
        .timestamp
        .as_ref()
        .and_then(|v| check_timestamp(v, file, diags));
    let text_of = |v: &Option<Value>| v.as_ref().and_then(present).map(str::to_string);
    Some(MoveEntry {
        source_upn: source.to_string(),
        target_upn: text_of(&raw.target),
        state,
        state_text: state_text.to_string(),
        timestamp,
        job_id: text_of(&raw.job_id),
        batch: batch.to_string(),
        file: file.clone(),
        line: raw.line,
        index: raw.index,
    })
}

fn check_state(
    text: &str,
    place: &Place,
    file: &Arc<str>,
    diags: &mut Diagnostics,
) -> Option<MoveState> {
    if let Some(state) = MoveState::parse(text) {
        return Some(state);
    }
    let known: Vec<&str> = MoveState::ALL.iter().map(|s| s.name()).collect();
    if text.bytes().all(|b| b.is_ascii_digit()) {
        at(diags, Severity::Error, file, place, format!(
            "{} is a number (PowerShell wrote the state's enum value, which t2t-notify does not guess); export the names: add -EnumsAsStrings to ConvertTo-Json (PowerShell 7), or turn the state into text first, e.g. Select-Object SourceUserPrincipalName, @{{n='MoveState';e={{\"$($_.MoveState)\"}}}}, TimeStamp | ConvertTo-Json",
            quote(text)
        ));
    } else {
        at(
            diags,
            Severity::Warning,
            file,
            place,
            format!(
                "{} is not a move state t2t-notify knows ({}); the user is held back, not guessed",
                quote(text),
                known.join(", ")
            ),
        );
    }
    None
}

fn check_timestamp(v: &Value, file: &Arc<str>, diags: &mut Diagnostics) -> Option<DateTime<Utc>> {
    let text = present(v)?;
    let parsed = parse_timestamp(text);
    if parsed.is_none() {
        at(diags, Severity::Warning, file, &v.place, format!(
            "{} is not a time t2t-notify can read (ISO 8601 like 2025-03-01T10:00:00Z, /Date(1740823200000)/, or MM/dd/yyyy HH:mm:ss); the entry counts as undated, so a later export wins over it",
            quote(text)
        ));
    }
    parsed
}
