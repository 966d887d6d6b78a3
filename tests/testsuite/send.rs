//! `send` and `report` end to end against real SMTP servers on 127.0.0.1 (Postfix's smtp-sink
//! with its fault options, aiosmtpd with STARTTLS), with the sample config and a temporary
//! ledger (`T2T_NOTIFY_LEDGER_PATH`, `T2T_NOTIFY_TRANSPORT_*`, `T2T_NOTIFY_PACING_*`).

pub mod helpers;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use helpers::*;

use crate::harness::root;
use crate::sink::Sink;
use crate::tls_server::{TestPki, TlsServer};

#[test]
fn everyone_gets_exactly_one_notice_and_a_rerun_sends_nothing() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    site.open_gate();
    site.send(&["-v"])
        .status(0)
        .contains("sending 30 notices of campaign")
        .contains("sent                          30")
        .contains("250 2.0.0 Ok");
    assert_eq!(sink.deliveries(), once_each(&sample_recipients()));
    site.send(&[])
        .status(0)
        .contains("sending 0 notices of campaign")
        .contains("; 30 of 30 people skipped")
        .lacks("sending 30 notices")
        .contains("skipped, already sent         30");
    assert_eq!(sink.messages().len(), 30, "the rerun sent nothing");
    let states = site.states();
    assert_eq!(states.len(), 30);
    assert!(states.values().all(|s| s == "sent"), "{states:?}");
}

#[test]
fn notices_arrive_once_without_pipelining_and_with_two_recipients_each() {
    let stepwise = Sink::options().without_pipelining().start();
    let site = Site::new(stepwise.port);
    site.open_gate();
    site.send(&[])
        .status(0)
        .contains("sent                          30");
    assert_eq!(stepwise.deliveries(), once_each(&sample_recipients()));

    let sink = Sink::start();
    let both = Site::new(sink.port).env("T2T_NOTIFY_MESSAGE_RECIPIENT", "both");
    both.open_gate();
    both.send(&[])
        .status(0)
        .contains("sent                          30");
    assert_eq!(sink.messages().len(), 30);
    let got = sink.deliveries();
    assert_eq!(got.len(), 60, "target email and source UPN: {got:?}");
    assert!(got.values().all(|&n| n == 1), "{got:?}");
}

#[test]
fn soft_rejects_are_deferred_then_delivered_on_a_rerun() {
    for (what, sink) in [
        ("-r RCPT", Sink::options().soft_reject("RCPT").start()),
        ("-r DATA", Sink::options().soft_reject("DATA").start()),
        ("-Q .", Sink::options().reply_421_after(".").start()),
        ("-q DATA", Sink::options().disconnect_after("DATA").start()),
    ] {
        let mut site = Site::new(sink.port).env("T2T_NOTIFY_TRANSPORT_MAX_ATTEMPTS", "2");
        site.open_gate();
        site.send(&["--limit", "10"]).status(5);
        let states = site.states();
        assert!(!states.is_empty(), "{what}");
        assert!(
            states.values().all(|s| s == "deferred"),
            "{what}: {states:?}"
        );
        let healthy = Sink::start();
        site.port(healthy.port);
        site.send(&[]).status(0);
        assert_eq!(
            healthy.deliveries(),
            once_each(&sample_recipients()),
            "{what}"
        );
    }
}

#[test]
fn a_quota_reply_pauses_the_run_and_says_when_to_resume() {
    let sink = Sink::options()
        .soft_reject("RCPT")
        .soft_reply("432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded")
        .start();
    let site = Site::new(sink.port).env("T2T_NOTIFY_PACING_CONCURRENCY", "1");
    site.open_gate();
    site.send(&[])
        .status(5)
        .contains("Paused")
        .contains("4.3.2")
        .contains("lower [pacing] concurrency")
        .contains("(in 5 min)");
    assert_eq!(
        site.states().len(),
        1,
        "no message started after the quota reply"
    );
}

#[test]
fn hard_rejects_fail_those_users_and_the_run_goes_on() {
    let sink = Sink::options()
        .hard_reject("RCPT")
        .hard_reply("550 5.1.1 Recipient address rejected: User unknown")
        .start();
    let mut site = Site::new(sink.port);
    site.open_gate();
    site.send(&["--limit", "10"])
        .status(4)
        .contains("failed                        10");
    let report = site.report();
    let users = report["campaigns"][0]["users"].as_array().unwrap();
    assert_eq!(users.len(), 10, "every one was tried: the run went on");
    assert!(users.iter().all(|u| u["last_reply"]
        .as_str()
        .unwrap()
        .contains("5.1.1 Recipient address rejected")));
    let healthy = Sink::start();
    site.port(healthy.port);
    site.send(&[])
        .status(4)
        .contains("skipped, failed before        10");
    assert_eq!(healthy.messages().len(), 20);
    site.send(&["--retry-failed"]).status(0);
    assert_eq!(healthy.deliveries(), once_each(&sample_recipients()));
}

#[test]
fn a_server_that_refuses_everyone_stops_the_run_after_the_first_ten() {
    let sink = Sink::options()
        .hard_reject("RCPT")
        .hard_reply("554 5.7.1 Relay access denied")
        .start();
    let site = Site::new(sink.port);
    site.open_gate();
    let users = site.sample(300);
    site.send_files(&users, &[])
        .status(1)
        .contains("the first 10 messages of this run were all refused with 5.7.1")
        .contains("Relay access denied")
        .contains("looks like a configuration problem")
        .contains("--retry-failed");
    let states = site.states();
    assert!(
        (10..60).contains(&states.len()),
        "only the first attempts (and those already on their way) were tried: {}",
        states.len()
    );
    assert!(states.values().all(|s| s == "failed"), "{states:?}");
    let healthy = Sink::start();
    let mut site = site;
    site.port(healthy.port);
    site.send_files(&users, &[]).status(4);
    assert_eq!(
        healthy.messages().len(),
        300 - states.len(),
        "everyone untouched is sent to; the refused wait for --retry-failed"
    );
}

#[test]
fn a_connection_lost_after_the_message_is_uncertain_until_resent_on_request() {
    let sink = Sink::options().disconnect_after(".").start();
    let mut site = Site::new(sink.port);
    site.open_gate();
    site.send(&["--limit", "5"])
        .status(4)
        .contains("uncertain                      5");
    let healthy = Sink::start();
    site.port(healthy.port);
    site.send(&[])
        .status(4)
        .contains("skipped, uncertain             5");
    assert_eq!(healthy.messages().len(), 25);
    site.send(&["--resend-uncertain"]).status(0);
    assert_eq!(healthy.deliveries(), once_each(&sample_recipients()));
}

#[test]
fn a_killed_run_resumes_without_duplicates_and_lists_the_uncertain() {
    let sink = Sink::start();
    let site = Site::new(sink.port).env("T2T_NOTIFY_PACING_CONCURRENCY", "4");
    site.open_gate();
    let big = site.sample(5000);
    let mut child = site
        .t2t()
        .args(["send", "--mapping"])
        .arg(big.join("identity-map.csv"))
        .arg("--directory")
        .arg(big.join("directory.csv"))
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while sink.count() < 1000 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        assert!(Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let rerun = site
        .send_files(&big, &[])
        .status(4)
        .contains("were in flight when an earlier run stopped");
    let states = site.states();
    assert_eq!(states.len(), 5000);
    let uncertain: Vec<&String> = states
        .iter()
        .filter(|(_, s)| *s == "uncertain")
        .map(|(u, _)| u)
        .collect();
    assert!(
        !uncertain.is_empty(),
        "some messages were in flight when the run was killed"
    );
    assert!(
        states.values().all(|s| s == "sent" || s == "uncertain"),
        "{states:?}"
    );
    assert!(
        rerun
            .stderr()
            .contains(&format!("{} users were in flight", uncertain.len())),
        "{}",
        rerun.stderr()
    );
    let to = site.recipients_by_user();
    let got = sink.deliveries();
    for (user, state) in &states {
        let n = got.get(&to[user]).copied().unwrap_or(0);
        match state.as_str() {
            "sent" => assert_eq!(n, 1, "{user} was sent {n} times"),
            _ => assert!(n <= 1, "{user} (uncertain) was sent {n} times"),
        }
    }
}

#[test]
fn pacing_never_exceeds_the_per_minute_limit() {
    let sink = Sink::start();
    let site = Site::new(sink.port).env("T2T_NOTIFY_PACING_PER_MINUTE", "600");
    site.open_gate();
    let users = site.sample(200);
    site.send_files(&users, &[]).status(0);
    let report = site.report();
    let rows = report["campaigns"][0]["users"].as_array().unwrap();
    let times = |key: &str| -> Vec<chrono::DateTime<chrono::Utc>> {
        rows.iter()
            .map(|u| u[key].as_str().unwrap().parse().unwrap())
            .collect()
    };
    let (started, accepted) = (times("last_attempt_at"), times("sent_at"));
    assert_eq!(accepted.len(), 200);
    assert!(max_in_window(&accepted, 60_000) <= 600);
    assert!(max_in_window(&started, 60_000) <= 600);
    // 600 a minute is spread out, one every 100 ms, never sent as a burst.
    assert!(
        max_in_window(&started, 10_000) <= 101,
        "{}",
        max_in_window(&started, 10_000)
    );
    assert!(
        max_in_window(&started, 1_000) <= 11,
        "{}",
        max_in_window(&started, 1_000)
    );
}

#[test]
fn the_rolling_day_budget_carries_across_runs() {
    let sink = Sink::start();
    let site = Site::new(sink.port).env("T2T_NOTIFY_PACING_PER_DAY", "10");
    site.open_gate();
    site.send(&["--limit", "6"]).status(0);
    site.send(&[])
        .status(5)
        .contains("sent                           4")
        .contains("rolling 24 h budget")
        .contains("Resume at");
    assert_eq!(sink.messages().len(), 10);
    assert_eq!(sink.deliveries().values().max(), Some(&1));
}

/// A listener that counts every connection made to it.
fn listener() -> TcpListener {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    l
}

fn assert_never_connected(l: &TcpListener) {
    match l.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("something connected: {other:?}"),
    }
}

#[test]
fn a_closed_gate_stops_the_send_before_any_connection() {
    let l = listener();
    let site = Site::new(l.local_addr().unwrap().port());
    site.send(&[])
        .status(3)
        .contains("trust gate closed")
        .contains("Nothing was sent");
    assert_never_connected(&l);
    assert!(site.states().is_empty());
}

#[test]
fn a_link_check_error_or_bad_input_stops_the_send_before_any_connection() {
    let l = listener();
    let port = l.local_addr().unwrap().port();
    let phishy = Site::new(port).env(
        "T2T_NOTIFY_ORGANIZATION_HELPDESK",
        "Fabrikam IT, https://contoso-my.sharepoint.com.evil.example/help",
    );
    phishy.open_gate();
    phishy
        .send(&[])
        .status(2)
        .contains("contoso-my.sharepoint.com.evil.example")
        .contains("13 people")
        .contains("nothing was sent");
    let bad = Site::new(port);
    bad.open_gate();
    let mapping = bad.write(
        "bad-map.csv",
        "User,not-a-guid,a@contoso.com,a@fabrikam.com,a@fabrikam.com,RegularUser\r\n",
    );
    bad.send_mapping(&mapping, &[])
        .status(2)
        .contains("bad-map.csv:1");
    assert_never_connected(&l);
}

#[test]
fn a_test_send_goes_to_one_address_with_the_gate_closed_and_is_recorded_apart() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    site.send(&["--test-to", "admin@fabrikam.com"])
        .status(0)
        .contains("sent                           3");
    let got = sink.deliveries();
    assert_eq!(got, BTreeMap::from([("admin@fabrikam.com".to_string(), 3)]));
    let report = site.report();
    assert_eq!(
        report["campaigns"].as_array().unwrap().len(),
        0,
        "no user counts as notified"
    );
    assert_eq!(report["test_sends"].as_array().unwrap().len(), 3);
    site.send(&[]).status(3);
    site.send(&["--test-to", "not an address"])
        .status(2)
        .contains("--test-to");
}

#[test]
fn a_second_send_on_the_same_ledger_refuses_to_start() {
    let l = listener();
    let site = Site::new(l.local_addr().unwrap().port());
    site.open_gate();
    let _held = t2t_notify::ledger::lock::SendLock::acquire(&site.ledger()).unwrap();
    site.send(&[])
        .status(1)
        .contains("another t2t-notify send is already using the ledger");
    assert_never_connected(&l);
}

#[test]
fn starttls_needs_a_trusted_certificate_and_the_right_password() {
    let pki = TestPki::new();
    let server = TlsServer::start(&pki, "it-migration@fabrikam.com", "correct horse");
    let tls = |password: &str| {
        Site::new(server.port)
            .env("T2T_NOTIFY_TRANSPORT_SECURITY", "starttls")
            .env("T2T_NOTIFY_TRANSPORT_AUTH", "login")
            .env("T2T_NOTIFY_TRANSPORT_USERNAME", "it-migration@fabrikam.com")
            .env(
                "T2T_NOTIFY_TRANSPORT_PASSWORD_ENV",
                "T2T_TEST_SMTP_PASSWORD",
            )
            .env("T2T_TEST_SMTP_PASSWORD", password)
    };
    let untrusted = tls("correct horse");
    untrusted.open_gate();
    untrusted
        .send(&[])
        .status(1)
        .contains("TLS")
        .contains("ca_file");
    assert!(untrusted.states().is_empty(), "users stay untouched");

    let wrong =
        tls("battery staple").env("T2T_NOTIFY_TRANSPORT_CA_FILE", pki.ca().to_str().unwrap());
    wrong.open_gate();
    wrong
        .send(&[])
        .status(1)
        .contains("535 5.7.3")
        .lacks("battery staple");
    assert!(wrong.states().is_empty());

    let trusted =
        tls("correct horse").env("T2T_NOTIFY_TRANSPORT_CA_FILE", pki.ca().to_str().unwrap());
    trusted.open_gate();
    trusted.send(&[]).status(0);
    assert_eq!(server.received().len(), 30);
}

#[test]
fn ctrl_c_finishes_the_messages_in_flight_records_them_and_exits_130() {
    let sink = Sink::start();
    let site = Site::new(sink.port).env("T2T_NOTIFY_PACING_PER_MINUTE", "300");
    site.open_gate();
    let child = site
        .t2t()
        .args(["send", "--mapping"])
        .arg(root().join("sample-data/identity-map.csv"))
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while sink.count() < 3 {
        assert!(Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    let interrupt = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stdout.contains("Stopped by Ctrl-C"), "{stdout}");
    let states = site.states();
    assert!(states.len() < 30, "it stopped early: {states:?}");
    assert!(
        states.values().all(|s| s == "sent"),
        "nothing left in flight: {states:?}"
    );
    assert_eq!(sink.messages().len(), states.len());
    site.send(&[]).status(0).lacks("were in flight");
    assert_eq!(sink.deliveries(), once_each(&sample_recipients()));
}

#[test]
fn send_counts_the_people_whose_language_has_no_templates() {
    let sink = Sink::start();
    let tmp = tempfile::tempdir().unwrap();
    let templates = crate::preview::templates_without(tmp.path(), "de");
    let site =
        Site::new(sink.port).env("T2T_NOTIFY_MESSAGE_TEMPLATES", templates.to_str().unwrap());
    site.open_gate();
    site.send(&[])
        .status(0)
        .contains(
            "locale fallback: 5 people: PreferredLanguage de-DE, no `de` templates, used `en`",
        )
        .contains(
            "locale fallback: 4 people: PreferredLanguage de-AT, no `de` templates, used `en`",
        );
    assert_eq!(
        sink.messages().len(),
        30,
        "the fallback still sends everyone"
    );
}
