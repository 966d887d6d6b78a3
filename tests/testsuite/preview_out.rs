//! `preview --out DIR` deletes only what an earlier preview wrote there: a file of the admin's
//! own in the folder survives a re-run, and a non-empty folder no preview wrote is refused.

use std::path::Path;

use crate::harness::*;

fn preview_into(out: &Path) -> Run {
    let sample = root().join("sample-data");
    t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["preview", "--mapping"])
        .arg(sample.join("identity-map.csv"))
        .arg("--directory")
        .arg(sample.join("directory.csv"))
        .arg("--out")
        .arg(out)
        .run()
}

#[test]
fn a_rerun_replaces_its_own_files_and_keeps_the_admins() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("preview");
    preview_into(&out).status(0);
    let first = preview_files(&out, "eml");
    assert_eq!(first.len(), 30);
    let mine = out.join("messages/mine.txt");
    std::fs::write(&mine, "my notes").unwrap();
    let folder_notes = out.join("messages/000/notes.txt");
    std::fs::write(&folder_notes, "mine too").unwrap();
    let stale = first[0].clone();
    preview_into(&out)
        .status(0)
        .contains("30 of 30 notices rendered");
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my notes");
    assert_eq!(std::fs::read_to_string(&folder_notes).unwrap(), "mine too");
    assert!(stale.exists(), "written again by the second run");
    assert_eq!(preview_files(&out, "eml").len(), 30);
    assert!(out.join("index.html").is_file());
}

#[test]
fn a_non_empty_folder_that_no_preview_wrote_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("reports");
    std::fs::create_dir_all(out.join("messages")).unwrap();
    std::fs::write(out.join("messages/mine.txt"), "my notes").unwrap();
    std::fs::write(out.join("budget.html"), "mine").unwrap();
    preview_into(&out)
        .status(2)
        .contains("is not empty and no earlier preview wrote it")
        .contains("give --out a new or empty folder");
    assert!(out.join("messages/mine.txt").exists());
    assert!(out.join("budget.html").exists());
    assert!(!out.join("index.html").exists());
}
