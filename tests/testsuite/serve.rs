//! `t2t-notify serve` against `smtp-sink`: it sends the due campaigns and keeps running, waits
//! out a spent day budget and resumes by itself, stops gracefully on SIGTERM, continues after a
//! SIGKILL with every person mailed at most once, reports invalid input once and picks up the
//! fixed file, and holds the ledger's lock.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::harness::root;

mod browser;
mod dashboard;
use crate::send::helpers::{once_each, sample_recipients, Site};
use crate::sink::Sink;

/// A running `serve`, its stderr in a file so the test can read the log as it grows.
struct Serving {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Serving {
    /// `serve` on the sample mapping and directory, polling every second.
    fn start(site: &Site) -> Serving {
        Serving::start_in(site, &root().join("sample-data"))
    }

    /// `serve` on `inputs/identity-map.csv` and `inputs/directory.csv`.
    fn start_in(site: &Site, inputs: &Path) -> Serving {
        Serving::start_with(site, inputs, &[])
    }

    /// [`Serving::start_in`] with more environment variables.
    fn start_with(site: &Site, inputs: &Path, env: &[(&str, &str)]) -> Serving {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("stderr.log");
        // A free port for the dashboard unless the test names one.
        let mut command = site
            .t2t()
            .env("T2T_NOTIFY_SERVE_POLL_SECONDS", "1")
            .env("T2T_NOTIFY_DASHBOARD_LISTEN", "127.0.0.1:0");
        for (key, value) in env {
            command = command.env(key, value);
        }
        let child = command
            .args(["serve", "--mapping"])
            .arg(inputs.join("identity-map.csv"))
            .arg("--directory")
            .arg(inputs.join("directory.csv"))
            .command()
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start t2t-notify serve");
        let serving = Serving {
            child,
            log,
            _dir: dir,
        };
        serving.wait_for_log("serving campaign");
        serving
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_for_log(&self, needle: &str) {
        wait_for(
            &format!("the log to say {needle:?}"),
            || self.log().contains(needle),
            || self.log(),
        );
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: a plain kill(2) on a child of this process.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(sent, 0, "signal {signal}");
    }

    /// Waits for the process to end; its exit status.
    fn wait(mut self) -> (i32, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let code = status.code().unwrap_or(-1);
                return (code, self.log());
            }
            assert!(
                Instant::now() < deadline,
                "serve did not end:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `done` until it holds, at most 20 seconds; `context` says what was seen on failure.
fn wait_for(what: &str, done: impl Fn() -> bool, context: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}:\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_sends_the_due_campaign_once_keeps_running_and_stops_on_sigterm() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    site.open_gate();
    let mut serving = Serving::start(&site);
    let everyone = once_each(&sample_recipients());
    wait_for(
        "everyone's notice",
        || sink.deliveries() == everyone,
        || serving.log(),
    );
    serving.wait_for_log("campaign post-migration: pass done");
    // Three more polls: still running, nothing new, the held campaigns said once.
    std::thread::sleep(Duration::from_millis(3500));
    assert!(serving.running(), "{}", serving.log());
    assert_eq!(sink.deliveries(), everyone);
    let log = serving.log();
    assert_eq!(
        log.matches("campaign move-warning: nothing is sent")
            .count(),
        1,
        "{log}"
    );
    assert_eq!(
        log.matches("campaign sign-in-reminder: nothing is sent")
            .count(),
        1,
        "{log}"
    );
    assert_eq!(log.matches("people due; sending").count(), 1, "{log}");
    serving.signal(libc::SIGTERM);
    let (code, log) = serving.wait();
    assert_eq!(code, 0, "stopped between passes:\n{log}");
    assert!(log.contains("stopped (SIGTERM) between passes"), "{log}");

    let serving = Serving::start(&site);
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(sink.deliveries(), everyone, "a restart sends nothing new");
    assert!(!serving.log().contains("people due"), "{}", serving.log());
    serving.signal(libc::SIGINT);
    assert_eq!(serving.wait().0, 0);
}

#[test]
fn sigterm_during_a_pass_records_the_messages_in_flight_and_a_restart_sends_the_rest() {
    let sink = Sink::start();
    let site = Site::new(sink.port).env("T2T_NOTIFY_PACING_PER_MINUTE", "120");
    site.open_gate();
    let serving = Serving::start(&site);
    wait_for("a few notices", || sink.count() >= 3, || serving.log());
    serving.signal(libc::SIGTERM);
    let (code, log) = serving.wait();
    assert_eq!(code, 130, "{log}");
    let states = site.states();
    assert!(
        states.values().all(|s| s == "sent"),
        "a graceful stop leaves nothing in flight: {states:?}"
    );
    assert_eq!(states.len(), sink.count(), "{states:?}");
    assert!(states.len() < sample_recipients().len(), "it stopped early");

    let site = site.env("T2T_NOTIFY_PACING_PER_MINUTE", "0");
    let serving = Serving::start(&site);
    let everyone = once_each(&sample_recipients());
    wait_for(
        "everyone's notice",
        || sink.deliveries() == everyone,
        || serving.log(),
    );
    serving.signal(libc::SIGTERM);
    serving.wait();
}

#[test]
fn sigterm_while_a_pass_prepares_stops_it_before_it_sends_everyone() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    site.open_gate();
    let users = 3000;
    let inputs = site.sample(users);
    let serving = Serving::start_in(&site, &inputs);
    // Before the engine starts (the pass still reads and checks 3000 notices): the signal
    // must reach the pass all the same.
    serving.wait_for_log("people due; sending");
    serving.signal(libc::SIGTERM);
    let (code, log) = serving.wait();
    assert_eq!(code, 130, "{log}");
    let states = site.states();
    assert!(
        states.values().all(|s| s == "sent"),
        "nothing left in flight: {states:?}"
    );
    assert_eq!(states.len(), sink.count());
    assert!(states.len() < users as usize, "it stopped early:\n{log}");
}

#[test]
fn serve_waits_out_a_spent_day_budget_and_resumes_by_itself() {
    let sink = Sink::start();
    let site = Site::new(sink.port).env("T2T_NOTIFY_PACING_PER_DAY", "30");
    site.open_gate();
    // The day budget of the sending mailbox is spent until a few seconds from now.
    let frees = chrono::Utc::now() - chrono::Duration::hours(24) + chrono::Duration::seconds(8);
    let ledger = rusqlite::Connection::open(site.ledger()).unwrap();
    ledger
        .execute(
            "INSERT INTO submissions (at_ms, recipients, campaign, test, mailbox) VALUES (?1, 30, 'earlier', 0, 'it-migration@fabrikam.com')",
            [frees.timestamp_millis()],
        )
        .unwrap();
    drop(ledger);
    let serving = Serving::start(&site);
    serving.wait_for_log("(day budget of it-migration@fabrikam.com spent)");
    let log = serving.log();
    assert!(
        log.contains("campaign post-migration: waiting until "),
        "{log}"
    );
    assert_eq!(sink.count(), 0, "nothing is sent while the budget is spent");
    let everyone = once_each(&sample_recipients());
    wait_for(
        "everyone's notice",
        || sink.deliveries() == everyone,
        || serving.log(),
    );
    let freed = frees + chrono::Duration::hours(24);
    assert!(chrono::Utc::now() >= freed, "sent before the budget freed");
    serving.signal(libc::SIGTERM);
    let (code, log) = serving.wait();
    assert!(code == 0 || code == 130, "{log}");
}

#[test]
fn a_second_serve_or_a_send_on_the_same_ledger_is_refused() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    let serving = Serving::start(&site);
    let busy = "is already using the ledger";
    let sample = root().join("sample-data");
    site.t2t()
        .args(["serve", "--mapping"])
        .arg(sample.join("identity-map.csv"))
        .run()
        .status(1)
        .contains(busy);
    site.send(&[]).status(1).contains(busy);
    serving.signal(libc::SIGTERM);
    assert_eq!(serving.wait().0, 0);
}

#[test]
fn a_serve_killed_during_a_send_and_restarted_mails_everyone_at_most_once() {
    let sink = Sink::options().data_delay(2).start();
    // Paced, so that the kill finds some people sent, some in flight and most not tried.
    let site = Site::new(sink.port)
        .env("T2T_NOTIFY_PACING_CONCURRENCY", "5")
        .env("T2T_NOTIFY_PACING_PER_MINUTE", "120");
    site.open_gate();
    let serving = Serving::start(&site);
    wait_for("a few notices", || sink.count() >= 4, || serving.log());
    serving.signal(libc::SIGKILL);
    serving.wait();
    let before = sink.count();

    let site = site
        .env("T2T_NOTIFY_PACING_PER_MINUTE", "0")
        .env("T2T_NOTIFY_PACING_CONCURRENCY", "15");
    let serving = Serving::start(&site);
    serving.wait_for_log("campaign post-migration: pass done");
    let (code, log) = {
        serving.signal(libc::SIGTERM);
        serving.wait()
    };
    assert_eq!(code, 0, "{log}");
    let states = site.states();
    let deliveries = sink.deliveries();
    assert!(deliveries.values().all(|&n| n == 1), "{deliveries:?}");
    let sent = states.values().filter(|s| *s == "sent").count();
    let uncertain: Vec<&String> = states
        .iter()
        .filter(|(_, s)| *s == "uncertain")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        sent + uncertain.len(),
        sample_recipients().len(),
        "{states:?}"
    );
    assert!(sink.count() > before, "the restart sent the rest");
    assert!(deliveries.len() >= sent, "{deliveries:?} {states:?}");
    for user in &uncertain {
        assert!(
            log.contains(user.as_str()),
            "{user} is listed as uncertain:\n{log}"
        );
    }
}

#[test]
fn invalid_input_is_reported_once_and_the_fixed_file_is_picked_up_without_a_restart() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    site.open_gate();
    let good = std::fs::read_to_string(root().join("sample-data/identity-map.csv")).unwrap();
    let damaged = good.replacen(
        ",zoe.garcia2@fabrikam.com,zoe.garcia2",
        ",not-an-address,zoe.garcia2",
        1,
    );
    assert_ne!(damaged, good);
    let mapping = site.write("identity-map.csv", &damaged);
    let directory = std::fs::read_to_string(root().join("sample-data/directory.csv")).unwrap();
    site.write("directory.csv", &directory);
    let serving = Serving::start_in(&site, mapping.parent().unwrap());
    serving.wait_for_log("column 4 (target UPN): `not-an-address` has no @");
    std::thread::sleep(Duration::from_millis(2500));
    let log = serving.log();
    assert_eq!(log.matches("`not-an-address` has no @").count(), 1, "{log}");
    assert_eq!(sink.count(), 0, "nothing is sent from invalid input");
    std::fs::write(&mapping, good).unwrap();
    let everyone = once_each(&sample_recipients());
    wait_for(
        "everyone's notice",
        || sink.deliveries() == everyone,
        || serving.log(),
    );
    serving.signal(libc::SIGTERM);
    serving.wait();
}

/// Copies `from` into the inbox as a task's export would arrive: written under a temporary
/// name, then renamed.
fn drop_into(inbox: &Path, from: &Path, name: &str) {
    let partial = inbox.join(format!("{name}.partial"));
    std::fs::copy(from, &partial).unwrap();
    std::fs::rename(&partial, inbox.join(name)).unwrap();
}

#[test]
fn files_dropped_into_the_inbox_are_checked_taken_and_used() {
    let sink = Sink::start();
    let inbox = tempfile::tempdir().unwrap();
    let site = Site::new(sink.port).env("T2T_NOTIFY_SERVE_INBOX", inbox.path().to_str().unwrap());
    let serving = Serving::start(&site);
    // A move-state export arrives: taken, but the gate is closed, so nothing is sent.
    drop_into(
        inbox.path(),
        &root().join("sample-data/wave-1.csv"),
        "wave-1.csv",
    );
    serving.wait_for_log("inbox: wave-1.csv taken");
    // Evidence that the trust is still there: rejected, with the reason next to it.
    let active = crate::harness::fixture("trust/refused-verify-goodtoproceed.json");
    drop_into(inbox.path(), &active, "evidence.json");
    serving.wait_for_log("inbox: evidence.json rejected");
    let rejected: Vec<String> = std::fs::read_dir(inbox.path().join("rejected"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        rejected
            .iter()
            .any(|n| n.ends_with("evidence.json.reason.txt")),
        "{rejected:?}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(sink.count(), 0, "the gate stays closed:\n{}", serving.log());
    // Both sides' evidence: the gate opens and the export's Success users get their notice.
    for side in ["source", "target"] {
        let evidence = crate::harness::fixture(&format!("trust/accepted-{side}.json"));
        drop_into(inbox.path(), &evidence, &format!("{side}.json"));
    }
    let wave_1: Vec<String> = sample_recipients().into_iter().take(10).collect();
    wait_for(
        "the notices of wave 1",
        || sink.deliveries() == once_each(&wave_1),
        || format!("{:?}\n{}", sink.deliveries(), serving.log()),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        sink.deliveries(),
        once_each(&wave_1),
        "only the users the export moved"
    );
    serving.signal(libc::SIGTERM);
    let (code, log) = serving.wait();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn windows_service_is_refused_outside_windows_with_what_to_use_instead() {
    crate::harness::t2t()
        .args(["serve", "--windows-service"])
        .run()
        .status(2)
        .contains("--windows-service is only for the Windows service control manager; on Linux use the systemd unit in packaging/");
}

#[test]
fn log_file_takes_standard_error_appended_and_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    std::fs::write(&log, "an earlier line\n").unwrap();
    crate::harness::t2t()
        .arg("--log-file")
        .arg(&log)
        .args(["serve", "--windows-service"])
        .run()
        .status(2)
        .lacks("--windows-service");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("an earlier line\n"), "appended:\n{text}");
    assert!(
        text.contains("error: --windows-service is only for the Windows service control manager"),
        "{text}"
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&log).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
}
