//! What `preview --out DIR` may delete: only files an earlier preview wrote there. A preview
//! writes `DIR/.t2t-notify-preview` first, then adds every file's path to it as the file is
//! written; the next preview into `DIR` removes exactly those files (and the folders that this
//! leaves empty). A non-empty folder without the marker is someone else's: it is refused.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Component, Path};

use anyhow::Context;

use super::files;
use crate::exit::InvalidInput;

/// The marker file's name in the output folder.
pub const MARKER: &str = ".t2t-notify-preview";
const HEADER: &str = "t2t-notify preview output: the next `t2t-notify preview --out` into this folder removes the files listed below, and nothing else";

/// Makes `out` ready for a new preview: created when missing, an earlier preview's files
/// removed, and refused (invalid input) when it holds files no preview listed.
pub fn prepare(out: &Path) -> anyhow::Result<()> {
    let marker = out.join(MARKER);
    if marker.is_file() {
        remove_listed(out, &marker)?;
        return Ok(());
    }
    let occupied = match fs::read_dir(out) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", out.display())),
    };
    if occupied {
        return Err(InvalidInput(format!(
            "{} is not empty and no earlier preview wrote it (it has no {MARKER}); preview deletes only files it wrote, so give --out a new or empty folder (an older version's preview folder: delete it yourself)",
            out.display()
        ))
        .into());
    }
    Ok(())
}

/// Removes the files the marker lists (paths inside `out` only), then the folders left empty.
fn remove_listed(out: &Path, marker: &Path) -> anyhow::Result<()> {
    let reader = BufReader::new(File::open(marker)?);
    let mut folders = BTreeSet::new();
    for line in reader.lines().skip(1) {
        let line = line?;
        let rel = Path::new(&line);
        if line.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            continue;
        }
        let path = out.join(rel);
        if path.is_file() {
            fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
        let mut parent = rel.parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            folders.insert(p.to_path_buf());
            parent = p.parent();
        }
    }
    // Deepest first; a folder that still holds someone else's files stays.
    for folder in folders.iter().rev() {
        let _ = fs::remove_dir(out.join(folder));
    }
    Ok(())
}

/// The marker being written: each file is listed as soon as it exists.
pub struct Written {
    file: BufWriter<File>,
    /// The last path listed: a folder's text page comes with each of its people, listed once.
    last: String,
}

impl Written {
    /// Starts the marker in `out` (before any other file is written).
    pub fn start(out: &Path) -> io::Result<Written> {
        let mut file = BufWriter::new(files::create_private(&out.join(MARKER))?);
        writeln!(file, "{HEADER}")?;
        file.flush()?;
        Ok(Written {
            file,
            last: String::new(),
        })
    }

    /// Lists `rel` (a path relative to the output folder, `/`-separated).
    pub fn add(&mut self, rel: &str) -> io::Result<()> {
        if rel == self.last {
            return Ok(());
        }
        self.last = rel.to_string();
        writeln!(self.file, "{rel}")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_files_go_and_foreign_folders_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("preview");
        prepare(&out).unwrap();
        crate::platform::create_private_dir_all(&out.join("messages/000")).unwrap();
        let mut written = Written::start(&out).unwrap();
        for rel in ["messages/000/1.eml", "index.html"] {
            fs::write(out.join(rel), "x").unwrap();
            written.add(rel).unwrap();
        }
        written.add("../outside.txt").unwrap();
        written.flush().unwrap();
        fs::write(tmp.path().join("outside.txt"), "x").unwrap();
        fs::write(out.join("messages/mine.txt"), "x").unwrap();
        prepare(&out).unwrap();
        assert!(!out.join("index.html").exists());
        assert!(!out.join("messages/000").exists(), "emptied folder removed");
        assert!(out.join("messages/mine.txt").exists());
        assert!(tmp.path().join("outside.txt").exists());

        let foreign = tmp.path().join("foreign");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("notes.txt"), "x").unwrap();
        let err = prepare(&foreign).unwrap_err();
        assert!(err.is::<InvalidInput>(), "{err:#}");
        assert!(foreign.join("notes.txt").exists());
    }
}
