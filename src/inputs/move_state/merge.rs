//! Several exports merged into one answer per user: the newest entry wins.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use super::{read, Diagnostics, MoveEntry};

/// A problem reading one export file.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the move-state export {}", path.display())]
pub struct ReadError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// The merged move states of several exports: per user (source UPN, case-insensitive), the
/// newest entry. Newer means a later timestamp when both entries have one; otherwise (a tie or
/// an undated entry) the entry read later wins: a later file, or a later row of the same file.
#[derive(Debug, Default)]
pub struct MoveStates {
    entries: Vec<MoveEntry>,
    by_upn: HashMap<String, usize>,
    files: Vec<Arc<str>>,
}

impl MoveStates {
    /// Reads and merges `paths` in order, labelling every entry with `batch` when given (else
    /// with its file's name). Diagnostics of every file are returned together.
    pub fn load(
        paths: &[PathBuf],
        batch: Option<&str>,
    ) -> Result<(MoveStates, Diagnostics), ReadError> {
        let mut states = MoveStates::default();
        let mut diags = Diagnostics::default();
        for path in paths {
            let (entries, d) = read(path).map_err(|source| ReadError {
                path: path.clone(),
                source,
            })?;
            diags.extend(d);
            states.files.push(path.display().to_string().into());
            states.add(entries, batch);
        }
        Ok((states, diags))
    }

    /// Merges the entries of one more export (read after the ones already added).
    pub fn add(&mut self, entries: Vec<MoveEntry>, batch: Option<&str>) {
        for mut entry in entries {
            if let Some(label) = batch {
                entry.batch = label.to_string();
            }
            let key = entry.source_upn.to_lowercase();
            match self.by_upn.get(&key) {
                Some(&i) if is_newer(&entry, &self.entries[i]) => self.entries[i] = entry,
                Some(_) => {}
                None => {
                    self.by_upn.insert(key, self.entries.len());
                    self.entries.push(entry);
                }
            }
        }
    }

    /// The newest entry for a user, by source UPN (case-insensitive).
    pub fn state_of(&self, source_upn: &str) -> Option<&MoveEntry> {
        self.index_of(source_upn).map(|i| &self.entries[i])
    }

    /// The position of a user's entry in [`MoveStates::entries`].
    pub fn index_of(&self, source_upn: &str) -> Option<usize> {
        self.by_upn.get(&source_upn.to_lowercase()).copied()
    }

    /// One entry per user, in the order users were first seen.
    pub fn entries(&self) -> &[MoveEntry] {
        &self.entries
    }

    /// The export files, in the order they were read.
    pub fn files(&self) -> &[Arc<str>] {
        &self.files
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Whether `new` (read later) replaces `old`.
fn is_newer(new: &MoveEntry, old: &MoveEntry) -> bool {
    match (new.timestamp, old.timestamp) {
        (Some(n), Some(o)) => n >= o,
        _ => true,
    }
}
