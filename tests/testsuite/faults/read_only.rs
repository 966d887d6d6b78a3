//! A ledger file that cannot be written (immutable with `chattr +i`, which stops root too, or
//! for an ordinary user read-only): `send` and `trust confirm` say which file and what to do,
//! instead of SQLite's bare "attempt to write a readonly database", and nothing is sent.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::send::helpers::Site;

/// The ledger made unwritable until drop.
struct Unwritable {
    path: PathBuf,
    root: bool,
}

impl Unwritable {
    fn make(path: &Path) -> Unwritable {
        let root = unsafe { libc::geteuid() } == 0;
        if root {
            let status = Command::new("chattr").arg("+i").arg(path).status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "this test needs `chattr +i` (e2fsprogs, a file system with the immutable flag) when run as root"
            );
        } else {
            set_mode(path, 0o400);
        }
        Unwritable {
            path: path.to_path_buf(),
            root,
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Drop for Unwritable {
    fn drop(&mut self) {
        if self.root {
            let _ = Command::new("chattr").arg("-i").arg(&self.path).status();
        } else {
            set_mode(&self.path, 0o600);
        }
    }
}

#[test]
fn a_read_only_ledger_names_the_file_and_what_to_do_and_nothing_is_sent() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let site = Site::new(l.local_addr().unwrap().port());
    site.open_gate();
    let _unwritable = Unwritable::make(&site.ledger());
    let runs = [
        site.send(&[]),
        site.t2t()
            .args(["trust", "confirm"])
            .arg(crate::harness::fixture("trust/accepted-source.json"))
            .arg(crate::harness::fixture("trust/accepted-target.json"))
            .run(),
    ];
    for run in runs {
        let all = format!("{}{}", run.stdout(), run.stderr());
        assert_eq!(run.code(), 1, "{all}");
        assert!(
            all.contains(&format!(
                "ledger {} cannot be written",
                site.ledger().display()
            )) && all.contains("writable for the user running t2t-notify")
                && all.contains("copy the ledger to a writable folder"),
            "{all}"
        );
    }
    assert!(
        matches!(l.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "nothing connected to the server"
    );
}
