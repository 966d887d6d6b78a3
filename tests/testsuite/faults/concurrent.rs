//! Two `send` processes started at the same moment on one ledger: one runs, the other refuses
//! to start with a clear error naming the process that holds the ledger, and the server sees
//! each user once. And SIGTERM, which stops a run as gracefully as Ctrl-C.

use std::time::{Duration, Instant};

use super::support::*;
use crate::harness::root;
use crate::send::helpers::{once_each, sample_recipients, Site};
use crate::sink::Sink;

#[test]
fn a_second_send_started_at_the_same_time_refuses_and_nobody_is_mailed_twice() {
    let sink = Sink::start();
    // Slow enough (one message every 0.5 s) that the first is still sending when the second
    // reaches the lock.
    let site = Site::new(sink.port).env("T2T_NOTIFY_PACING_PER_MINUTE", "120");
    site.open_gate();
    let sample = root().join("sample-data");
    let mut a = Running::spawn(&site, &sample, &[], "a");
    let mut b = Running::spawn(&site, &sample, &[], "b");
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut winner, loser) = loop {
        if b.has_exited() {
            break (a, b.wait());
        }
        if a.has_exited() {
            break (b, a.wait());
        }
        assert!(Instant::now() < deadline, "neither run refused to start");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(loser.code, Some(1), "{loser}");
    assert!(
        loser
            .stderr
            .contains("another t2t-notify send is already using the ledger")
            && loser
                .stderr
                .contains(&format!("(process {})", winner.pid())),
        "{loser}"
    );
    assert!(
        !loser.stdout.contains("Summary"),
        "the second never started sending\n{loser}"
    );
    assert!(
        winner.wait_until(|| sink.count() >= 1) && !winner.has_exited(),
        "the first is sending"
    );
    interrupt(winner.pid());
    let stopped = winner.wait();
    assert_eq!(stopped.code, Some(130), "{stopped}");
    let rest = site.env("T2T_NOTIFY_PACING_PER_MINUTE", "0");
    rest.send(&[]).status(0);
    assert_eq!(sink.deliveries(), once_each(&sample_recipients()));
}

#[test]
fn sigterm_stops_like_ctrl_c_and_a_rerun_sends_the_rest_once() {
    let sink = Sink::start();
    let site = Site::new(sink.port).env("T2T_NOTIFY_PACING_PER_MINUTE", "120");
    site.open_gate();
    let sample = root().join("sample-data");
    let mut run = Running::spawn(&site, &sample, &[], "term");
    assert!(
        run.wait_until(|| sink.count() >= 2) && !run.has_exited(),
        "the run is sending"
    );
    signal(run.pid(), libc::SIGTERM);
    let stopped = run.wait();
    assert_eq!(stopped.code, Some(130), "{stopped}");
    assert!(
        stopped.stderr.contains("Interrupted (SIGTERM)"),
        "{stopped}"
    );
    let states: Vec<String> = site.report()["campaigns"][0]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["state"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        states.iter().all(|s| s == "sent"),
        "a graceful stop leaves nothing in flight: {states:?}"
    );
    assert!(states.len() < sample_recipients().len(), "it stopped early");
    site.env("T2T_NOTIFY_PACING_PER_MINUTE", "0")
        .send(&[])
        .status(0);
    assert_eq!(sink.deliveries(), once_each(&sample_recipients()));
}

/// Ctrl-C for a running `send`.
fn interrupt(pid: u32) {
    signal(pid, libc::SIGINT);
}

fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: a plain kill(2) on a child of this process.
    let sent = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(sent, 0, "signal {signal} to {pid}");
}
