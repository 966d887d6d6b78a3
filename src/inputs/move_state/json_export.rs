//! The JSON form: `ConvertTo-Json` output, an array of objects, or a single object when the
//! cmdlet returned one result. Diagnostics name the line of the object's `{` and its array
//! index (`item [3]`), as `$states[3]` would in PowerShell.

use std::io::{self, Read};
use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::{Map, Value as Json};

use super::check::{at, check, Place, RawEntry, Value};
use super::columns::{missing_required, resolve, StateColumn};
use super::MoveEntry;
use crate::diag::{quote, Diagnostics, Severity};
use crate::inputs::text::{self, TextFile};

/// Reads every object of an opened JSON export.
pub(super) fn read(
    file: &Arc<str>,
    mut opened: TextFile,
    batch: &str,
    diags: &mut Diagnostics,
) -> io::Result<Vec<MoveEntry>> {
    let mut bytes = Vec::new();
    opened.reader.read_to_end(&mut bytes)?;
    let (text, _) = text::decode_field(&bytes);
    let items = match items(&text) {
        Ok(items) => items,
        Err((line, message)) => {
            diags.error(file, line, message);
            return Ok(Vec::new());
        }
    };
    if items.is_empty() {
        diags.warning(file, None, super::NO_MOVES);
    }
    // Every item starts with `{`, so no CRLF is split between the counted pieces.
    let (mut line, mut counted) = (1, 0);
    let mut entries = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let offset = item.get().as_ptr() as usize - text.as_ptr() as usize;
        line += text::count_breaks(&text[counted..offset], false);
        counted = offset;
        let index = i as u64;
        let object = match serde_json::from_str::<Json>(item.get()) {
            Ok(Json::Object(object)) => object,
            Ok(other) => {
                let what = kind(&other);
                let message =
                    format!("item [{i}]: is {what}, not an object with the move's properties");
                diags.error(file, Some(line), message);
                continue;
            }
            Err(e) => {
                diags.error(file, Some(line), format!("item [{i}]: {e}"));
                continue;
            }
        };
        if i == 0 && !has_required(&object, file, line, diags) {
            return Ok(Vec::new());
        }
        if let Some(raw) = raw_entry(&object, line, index, file, diags) {
            entries.extend(check(raw, file, batch, diags));
        }
    }
    Ok(entries)
}

/// The objects of the file: the array's items, or the one object.
fn items(text: &str) -> Result<Vec<&RawValue>, (Option<u64>, String)> {
    let bad = |e: serde_json::Error| {
        (
            Some(e.line() as u64),
            format!("not valid JSON ({e}); export with ConvertTo-Json and save the whole output"),
        )
    };
    let top: &RawValue = serde_json::from_str(text).map_err(bad)?;
    match top.get().trim_start().as_bytes().first() {
        Some(b'[') => serde_json::from_str(top.get()).map_err(bad),
        Some(b'{') => Ok(vec![top]),
        _ => Err((
            None,
            "the file is JSON but neither an array nor an object; export with ConvertTo-Json"
                .into(),
        )),
    }
}

/// Checks that the first object has the two required properties; reports once when not.
fn has_required(
    object: &Map<String, Json>,
    file: &Arc<str>,
    line: u64,
    diags: &mut Diagnostics,
) -> bool {
    let keys: Vec<&String> = object.keys().collect();
    let columns = resolve(&keys);
    let found = object.keys().cloned().collect::<Vec<_>>().join(",");
    let mut ok = true;
    for (what, accepted) in missing_required(&columns) {
        ok = false;
        diags.error(file, Some(line), format!(
            "item [0]: no property for {what} (found {}); name it one of {accepted} (case does not matter)",
            quote(&found)
        ));
    }
    ok
}

/// The values of one object, each with its property name. `None` (reported) when the source
/// user or the state is not text.
fn raw_entry(
    object: &Map<String, Json>,
    line: u64,
    index: u64,
    file: &Arc<str>,
    diags: &mut Diagnostics,
) -> Option<RawEntry> {
    let keys: Vec<&String> = object.keys().collect();
    let columns = resolve(&keys);
    let mut failed = false;
    let mut value = |field: StateColumn, found: Option<usize>| {
        let required = matches!(field, StateColumn::Source | StateColumn::State);
        if found.is_none() && !required {
            return None;
        }
        // A missing required property is reported by the check under its preferred name.
        let key = found.map_or(field.names()[0], |i| keys[i].as_str());
        let place = Place {
            line,
            column: None,
            item: Some((index, key.to_string())),
        };
        let text = match found.map(|i| text_of(&object[keys[i].as_str()], field)) {
            None | Some(Ok(None)) => None,
            Some(Ok(Some(t))) => Some(t),
            Some(Err(why)) => {
                failed |= required;
                at(diags, Severity::Error, file, &place, why.to_string());
                return None;
            }
        };
        Some(Value { text, place })
    };
    let source = value(StateColumn::Source, columns.source);
    let state = value(StateColumn::State, columns.state);
    let target = value(StateColumn::Target, columns.target);
    let timestamp = value(StateColumn::Timestamp, columns.timestamp);
    let job_id = value(StateColumn::JobId, columns.job_id);
    if failed {
        return None;
    }
    Some(RawEntry {
        line,
        index: Some(index),
        source: source?,
        state: state?,
        target,
        timestamp,
        job_id,
    })
}

/// A property's value as text. A `DateTime` that Windows PowerShell serialised as an object
/// (`{"value": "/Date(...)/", "DateTime": "..."}`) gives its `value`.
fn text_of(v: &Json, field: StateColumn) -> Result<Option<String>, NotText> {
    match v {
        Json::Null => Ok(None),
        Json::String(s) => Ok(Some(s.clone())),
        Json::Number(n) => Ok(Some(n.to_string())),
        Json::Bool(b) => Ok(Some(b.to_string())),
        Json::Object(m) if field == StateColumn::Timestamp => {
            let inner = ["value", "DateTime"]
                .iter()
                .find_map(|want| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(want)))
                .map(|(_, v)| v);
            match inner {
                Some(inner @ (Json::String(_) | Json::Number(_))) => text_of(inner, field),
                _ => Err(NotText::DateObject),
            }
        }
        other => Err(NotText::Kind(kind(other))),
    }
}

/// Why a property's value is not read as text.
#[derive(Debug, thiserror::Error)]
enum NotText {
    #[error("is an object without a `value` or `DateTime` property; export the time as text")]
    DateObject,
    #[error("is {0}, not text; select the property as text before ConvertTo-Json")]
    Kind(&'static str),
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}
