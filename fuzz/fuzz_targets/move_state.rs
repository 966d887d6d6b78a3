//! The move-state reader on its own: `inputs::move_state::read` on one or two exports of
//! `Get-SPOCrossTenantUserContentMoveState` (CSV or JSON, recognised by content, in any encoding
//! the text layer reads), then `MoveStates::load` merging them, as `plan` and `send` do.
//!
//! Input: the first export's bytes, then optionally `\n==next==\n` and the second export's
//! bytes. They are written to a per-process folder under /dev/shm as `batch-1.export` and
//! `batch-2.export`, because the reader takes paths.
//!
//! Beyond "no panic": reading is deterministic and never fails, except on damaged UTF-16,
//! UTF-32 or UTF-7, with an error naming the encoding (or an error about what came before the damage); every diagnostic names its
//! file and a line that exists; every entry has a valid source UPN, a trimmed state whose known
//! name is parsed right, its file's batch label and a line of the file, in file order; nobody
//! is skipped silently (a file without errors yields one entry per data row or JSON item,
//! counted independently); the merge keeps one entry per user (case-insensitive), found under
//! any spelling of the UPN, and it is the newest one: the latest timestamp, the later-read
//! entry on a tie or when either is undated; a batch label given replaces every entry's own.
#![no_main]

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use t2t_notify::diag::Diagnostics;
use t2t_notify::inputs::address::check_upn;
use t2t_notify::inputs::move_state::{self, MoveEntry, MoveState, MoveStates};
use t2t_notify::inputs::text;
use t2t_notify_fuzz::{check_diagnostics, line_count, refused_as_damaged};

const MARKER: &[u8] = b"\n==next==\n";
const LABEL: &str = "wave 3";

fn scratch_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| t2t_notify_fuzz::scratch_dir("move-state"))
}

fn split(data: &[u8]) -> Vec<&[u8]> {
    match data.windows(MARKER.len()).position(|w| w == MARKER) {
        Some(i) => vec![&data[..i], &data[i + MARKER.len()..]],
        None => vec![data],
    }
}

/// The text layer's decoding of a file and its separator (the layer is checked by `plan`);
/// `None` for damaged UTF-16, UTF-32 or UTF-7.
fn stream(bytes: &[u8]) -> Option<(Vec<u8>, u8)> {
    let mut opened = text::from_reader(std::io::Cursor::new(bytes.to_vec())).expect("in memory");
    let mut out = Vec::new();
    opened.reader.read_to_end(&mut out).ok()?;
    Some((out, opened.delimiter))
}

/// How many moves the export lists, counted without the reader: JSON items, or CSV rows after
/// the `#TYPE` line and the header (blank rows are not moves). `None` for JSON that does not
/// parse and for damaged UTF-16, UTF-32 or UTF-7.
fn moves_listed(bytes: &[u8]) -> Option<usize> {
    let (text, delimiter) = stream(bytes)?;
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'[' | b'{')) {
        let json = text::decode_field(&text).0.into_owned();
        return match serde_json::from_str::<serde_json::Value>(&json).ok()? {
            serde_json::Value::Array(items) => Some(items.len()),
            _ => Some(1),
        };
    }
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_slice());
    let mut rows = Vec::new();
    for record in csv.byte_records() {
        let record = record.expect("in memory");
        let fields: Vec<String> = record
            .iter()
            .map(|f| text::decode_field(f).0.trim().to_string())
            .collect();
        if fields.iter().any(|f| !f.is_empty()) {
            rows.push(fields[0].clone());
        }
    }
    if rows.first().is_some_and(|f| f.starts_with("#TYPE")) {
        rows.remove(0);
    }
    Some(rows.len().saturating_sub(1))
}

/// Reads one export twice (deterministic) and checks what it says about itself.
fn read_one(path: &Path, bytes: &[u8], batch: &str) -> Option<(Vec<MoveEntry>, Diagnostics)> {
    let (entries, diags) = match move_state::read(path) {
        Ok(read) => read,
        Err(e) => {
            assert!(refused_as_damaged(bytes, &e.to_string()), "read failed: {e}");
            return None;
        }
    };
    let (again, diags_again) = move_state::read(path).expect("read once");
    assert_eq!(entries, again, "not deterministic");
    let shown = |d: &Diagnostics| {
        d.sorted()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(shown(&diags), shown(&diags_again), "not deterministic");
    let name = path.display().to_string();
    let lines = line_count(bytes);
    check_diagnostics(&diags, &[(&name, lines)]);
    check_entries(&entries, &name, lines, batch);
    match moves_listed(bytes) {
        Some(listed) => {
            assert!(
                entries.len() <= listed,
                "{} entries of {listed} moves",
                entries.len()
            );
            if !diags.has_errors() {
                assert_eq!(entries.len(), listed, "moves skipped without an error");
            }
        }
        // Read up to a header without the required columns, which is an error.
        None if stream(bytes).is_none() => {
            assert!(diags.has_errors(), "damaged UTF-16, UTF-32 or UTF-7 read without an error");
        }
        None => {}
    }
    Some((entries, diags))
}

fn check_entries(entries: &[MoveEntry], name: &str, lines: u64, batch: &str) {
    let mut last: Option<&MoveEntry> = None;
    for e in entries {
        assert_eq!(&*e.file, name);
        assert_eq!(e.batch, batch);
        assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}", e.line);
        if let Err(why) = check_upn(&e.source_upn) {
            panic!("entry with source UPN {:?}: {why}", e.source_upn);
        }
        assert_eq!(e.source_upn.trim(), e.source_upn);
        assert!(!e.state_text.is_empty() && e.state_text.trim() == e.state_text);
        assert_eq!(e.state, MoveState::parse(&e.state_text), "{e:?}");
        for value in [&e.target_upn, &e.job_id].into_iter().flatten() {
            assert!(!value.is_empty() && value.trim() == value, "{e:?}");
        }
        if let Some(before) = last {
            assert!(
                before.line <= e.line,
                "entries out of order: {before:?} {e:?}"
            );
            assert_eq!(before.index.is_some(), e.index.is_some());
            if let (Some(a), Some(b)) = (before.index, e.index) {
                assert!(a < b, "items out of order: {before:?} {e:?}");
            } else {
                assert!(
                    before.line < e.line,
                    "two rows on one line: {before:?} {e:?}"
                );
            }
        }
        last = Some(e);
    }
}

/// The merged states hold exactly the newest entry of every user.
fn check_merge(states: &MoveStates, read: &[MoveEntry]) {
    let mut by_user: HashMap<String, Vec<&MoveEntry>> = HashMap::new();
    let mut first_seen = Vec::new();
    for e in read {
        let key = e.source_upn.to_lowercase();
        if !by_user.contains_key(&key) {
            first_seen.push(key.clone());
        }
        by_user.entry(key).or_default().push(e);
    }
    assert_eq!(states.len(), by_user.len(), "one entry per user");
    for (i, key) in first_seen.iter().enumerate() {
        let group = &by_user[key];
        let winner = &states.entries()[i];
        assert_eq!(winner.source_upn.to_lowercase(), *key, "users out of order");
        for spelling in [
            key.clone(),
            key.to_ascii_uppercase(),
            group[0].source_upn.clone(),
        ] {
            assert_eq!(
                states.state_of(&spelling),
                Some(winner),
                "lookup of {spelling:?}"
            );
        }
        let newest = group
            .iter()
            .copied()
            .reduce(|old, new| match (old.timestamp, new.timestamp) {
                (Some(o), Some(n)) if n < o => old,
                _ => new,
            })
            .expect("a group has an entry");
        assert_eq!(winner, newest, "not the newest of {group:?}");
        let last = group[group.len() - 1];
        if last.timestamp.is_none() {
            assert_eq!(winner, last, "an undated last entry loses");
        }
        if group.iter().all(|e| e.timestamp.is_some()) {
            let latest = group.iter().filter_map(|e| e.timestamp).max();
            assert_eq!(winner.timestamp, latest, "not the latest of {group:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let files = split(data);
    let mut paths = Vec::new();
    for (i, bytes) in files.iter().enumerate() {
        let path = scratch_dir().join(format!("batch-{}.export", i + 1));
        std::fs::write(&path, bytes).expect("write export");
        paths.push(path);
    }
    let mut read = Vec::new();
    let mut diags = 0;
    for (i, (path, bytes)) in paths.iter().zip(&files).enumerate() {
        let Some((entries, d)) = read_one(path, bytes, &format!("batch-{}", i + 1)) else {
            assert!(
                MoveStates::load(&paths, None).is_err(),
                "a damaged export merged"
            );
            return;
        };
        diags += d.len();
        read.extend(entries);
    }
    let (states, merged_diags) = MoveStates::load(&paths, None).expect("read above");
    assert_eq!(merged_diags.len(), diags, "the merge lost diagnostics");
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let files_read: Vec<String> = states.files().iter().map(|f| f.to_string()).collect();
    assert_eq!(files_read, names);
    check_merge(&states, &read);
    let mut labelled = MoveStates::default();
    labelled.add(read.clone(), Some(LABEL));
    assert!(labelled.entries().iter().all(|e| e.batch == LABEL));
    assert_eq!(labelled.len(), states.len());
});
