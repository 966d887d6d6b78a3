//! Owner-only files and folders for everything that holds users' addresses: the ledger (and its
//! WAL, shared-memory and lock files), the preview output and the file transport's outbox, with
//! every folder t2t-notify creates at 0700, even under a permissive umask of 000.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::faults::support::Running;
use crate::harness::{fixture, root, sample_config, t2t};
use crate::send::helpers::Site;
use crate::sink::Sink;

/// The command with umask 000 in the child, so only explicit modes protect what it creates.
fn with_open_umask(mut command: Command) -> Command {
    // SAFETY: umask(2) is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    command
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Every folder below `top` is 0700 and every file 0600 (with `top` itself).
fn assert_private_tree(top: &Path) -> usize {
    let mut seen = 0;
    let mut stack = vec![top.to_path_buf()];
    while let Some(path) = stack.pop() {
        seen += 1;
        if path.is_dir() {
            assert_eq!(mode(&path), 0o700, "folder {}", path.display());
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode(&path), 0o600, "file {}", path.display());
        }
    }
    seen
}

#[test]
fn the_ledger_its_side_files_and_new_folders_are_owner_only_under_umask_000() {
    let sink = Sink::start();
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path().join("state");
    let ledger = top.join("t2t").join("ledger.db");
    let site = Site::new(sink.port)
        .env("T2T_NOTIFY_LEDGER_PATH", ledger.to_str().unwrap())
        .env("T2T_NOTIFY_PACING_PER_MINUTE", "60");
    let confirm = site
        .t2t()
        .args(["trust", "confirm"])
        .arg(fixture("trust/accepted-source.json"))
        .arg(fixture("trust/accepted-target.json"))
        .command();
    let status = with_open_umask(confirm).status().unwrap();
    assert!(status.success());
    let send = site
        .t2t()
        .args(["send", "--mapping"])
        .arg(root().join("sample-data/identity-map.csv"))
        .command();
    let mut running = Running::start(with_open_umask(send), tmp.path(), "send");
    let wal = PathBuf::from(format!("{}-wal", ledger.display()));
    assert!(
        running.wait_until(|| sink.count() >= 2 && wal.exists()),
        "the ledger is in use"
    );
    let seen = assert_private_tree(&top);
    assert_eq!(seen, 6, "state, t2t, the ledger, -wal, -shm and .lock");
    drop(running.kill());
}

#[test]
fn preview_output_and_its_new_parents_are_owner_only_under_umask_000() {
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path().join("reviews");
    let out = top.join("batch-1").join("preview");
    let preview = t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["preview", "--limit", "3", "--mapping"])
        .arg(root().join("sample-data/identity-map.csv"))
        .arg("--directory")
        .arg(root().join("sample-data/directory.csv"))
        .arg("--out")
        .arg(&out)
        .command();
    let status = with_open_umask(preview).status().unwrap();
    assert!(status.success());
    let seen = assert_private_tree(&top);
    assert_eq!(
        seen,
        3 + 1 + 1 + 1 + 3 * 2 + 1 + 1,
        "3 folders, messages/, index.html, messages/000/, 3 x 2 files, the text page, the marker"
    );
}

#[test]
fn the_file_transports_outbox_is_owner_only_under_umask_000() {
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path().join("mail");
    let outbox = top.join("outbox");
    let site = Site::new(1)
        .env("T2T_NOTIFY_TRANSPORT_KIND", "file")
        .env("T2T_NOTIFY_TRANSPORT_DIR", outbox.to_str().unwrap());
    site.open_gate();
    let send = site
        .t2t()
        .args(["send", "--limit", "4", "--mapping"])
        .arg(root().join("sample-data/identity-map.csv"))
        .command();
    let status = with_open_umask(send).status().unwrap();
    assert!(status.success());
    assert_eq!(assert_private_tree(&top), 2 + 4, "2 folders and 4 messages");
}
