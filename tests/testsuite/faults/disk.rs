//! A full disk under the ledger in the middle of a run: a file-size limit (`RLIMIT_FSIZE`, with
//! `SIGXFSZ` ignored so writes fail with `EFBIG`) everywhere, and a tiny tmpfs where mounting is
//! allowed (root). The run stops with exit 1 and an error naming the ledger and the disk;
//! nothing is recorded wrongly; a rerun with room finishes without mailing anyone twice.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use super::support::*;
use crate::send::helpers::Site;
use crate::sink::Sink;

const USERS: usize = 2000;
/// Room for the ledger's WAL to grow by a few dozen commits, not for 2000 users.
const FILE_SIZE_LIMIT: u64 = 192 * 1024;

#[test]
fn a_ledger_over_the_file_size_limit_stops_the_run_with_a_clear_error() {
    let sink = Sink::start();
    let (site, users) = fleet(sink.port, USERS as u64);
    let mut command = send_command(&site, &users);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: FILE_SIZE_LIMIT,
                rlim_max: FILE_SIZE_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let run = Running::start(command, &site_dir(&site), "limited").wait();
    assert_stopped_on_the_disk(&run, &site.ledger());
    assert_recorded_rightly(&site, &sink, &users, "RLIMIT_FSIZE");
}

#[test]
fn a_full_tmpfs_under_the_ledger_stops_the_run_with_a_clear_error() {
    let Some(disk) = Tmpfs::mount("256k") else {
        eprintln!("tmpfs cannot be mounted here (not root); RLIMIT_FSIZE covers the full disk");
        return;
    };
    let sink = Sink::start();
    let ledger = disk.dir.path().join("ledger.db");
    let site = Site::new(sink.port)
        .env("T2T_NOTIFY_PACING_PER_DAY", "0")
        .env("T2T_NOTIFY_PACING_CONCURRENCY", &CONCURRENCY.to_string())
        .env("T2T_NOTIFY_LEDGER_PATH", ledger.to_str().unwrap());
    site.open_gate();
    let users = site.sample(USERS as u64);
    let run = Running::start(send_command(&site, &users), &site_dir(&site), "full").wait();
    assert_stopped_on_the_disk(&run, &ledger);
    assert!(
        run.stderr.contains("full"),
        "ENOSPC says the disk is full:\n{run}"
    );
    disk.resize("64m");
    assert_recorded_rightly(&site, &sink, &users, "tmpfs");
}

fn send_command(site: &Site, users: &Path) -> Command {
    site.t2t()
        .args(["send", "--mapping"])
        .arg(users.join("identity-map.csv"))
        .arg("--directory")
        .arg(users.join("directory.csv"))
        .command()
}

fn assert_stopped_on_the_disk(run: &Finished, ledger: &Path) {
    assert_eq!(run.code, Some(1), "{run}");
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line\n{run}"));
    assert!(
        error.contains(&format!("ledger {}", ledger.display()))
            && error.contains("disk")
            && error.contains("free space"),
        "the error names the ledger and the disk, and says what to do: {error}"
    );
    assert!(
        run.stdout.contains("Stopped: cannot record"),
        "the summary says why the run stopped\n{run}"
    );
}

/// What the sink received is `sent` or `in-flight` in the ledger (in-flight becomes uncertain on
/// the next run), no `sent` user is missing at the sink; a rerun with room then sends everyone
/// else once, and `--resend-uncertain` the uncertain ones.
fn assert_recorded_rightly(site: &Site, sink: &Sink, users: &Path, context: &str) {
    let before = LedgerView::read(site);
    let got = delivered(sink);
    assert!(
        !got.complete.is_empty(),
        "{context}: the run sent some first"
    );
    let by_recipient = before.by_recipient();
    for recipient in got.complete.keys() {
        let state = by_recipient
            .get(recipient)
            .map(|user| before.users[user].state.as_str());
        assert!(
            matches!(state, Some("sent" | "in-flight")),
            "{context}: {recipient} got the notice but the ledger says {state:?}"
        );
    }
    for user in before.in_state("sent") {
        assert_eq!(got.copies(&before.users[&user].recipient), 1, "{context}");
    }
    let rerun = Running::spawn(site, users, &[], "recovery").wait();
    let after = LedgerView::read(site);
    let uncertain = after.in_state("uncertain");
    assert_eq!(
        uncertain,
        before.in_state("in-flight"),
        "{context}: exactly the rows left in flight are uncertain"
    );
    let code = if uncertain.is_empty() { 0 } else { 4 };
    assert_eq!(rerun.code, Some(code), "{context}\n{rerun}");
    assert_once_except_uncertain(&after, &delivered(sink), USERS, context);
    let resend = Running::spawn(site, users, &["--resend-uncertain"], "resend").wait();
    assert_eq!(resend.code, Some(0), "{context}\n{resend}");
    let last = LedgerView::read(site);
    assert_duplicates_only_among(&last, &delivered(sink), &uncertain, context);
}

/// A tmpfs of a given size on a temporary folder, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` when mounting is not allowed here.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(Tmpfs { dir })
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "remount the tmpfs");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}
