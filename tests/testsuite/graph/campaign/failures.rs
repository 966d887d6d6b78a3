//! Graph campaigns through the binary that meet trouble: throttling, a refused recipient, a
//! refused app, a stop with messages waiting, an answer that never comes, and a SIGKILL. Each
//! ends with every user sent exactly once, or reported as uncertain.

use std::process::Stdio;
use std::time::Instant;

use super::*;

#[test]
fn throttled_users_wait_as_told_are_deferred_and_a_rerun_completes_them() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some(SECRET)));
    let (once, twice, dated) = (nth_recipient(1), nth_recipient(6), nth_recipient(11));
    let throttled = || {
        Scripted::graph_error(
            429,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
        )
    };
    standin.script_recipient(&once, [throttled().with_header("retry-after", "3")]);
    standin.script_recipient(
        &twice,
        [
            Scripted::status(503, "").with_header("retry-after", "1"),
            Scripted::status(503, "").with_header("retry-after", "1"),
        ],
    );
    let until = Scripted::ThrottledUntil {
        after: Duration::from_secs(4),
    };
    standin.script_recipient(&dated, [until, throttled()]);
    let site = graph_site(&standin).env("T2T_NOTIFY_TRANSPORT_MAX_ATTEMPTS", "2");
    site.open_gate();
    site.send(&[])
        .status(5)
        .contains("sent                          28")
        .contains("deferred                       2");

    // A retry waits at least what Retry-After asked: 3 s, or a date 3-4 s ahead (whole
    // seconds); the backoff alone would have been at most 2 s.
    let times = |to: &str| -> Vec<chrono::DateTime<chrono::Utc>> {
        let sends = standin.requests_to(&standin.send_path());
        sends
            .iter()
            .filter(|r| r.recipient().as_deref() == Some(to))
            .map(|r| r.at)
            .collect()
    };
    for (to, asked_ms) in [(&once, 3000), (&dated, 2900)] {
        let t = times(to);
        assert_eq!(t.len(), 2, "{to}");
        let waited = (t[1] - t[0]).num_milliseconds();
        assert!(waited >= asked_ms, "{to} retried after {waited} ms");
    }
    let users = report_users(&site);
    let by_to = |to: &str| {
        users
            .values()
            .find(|u| {
                u["recipients"][0]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(to)
            })
            .unwrap()
            .clone()
    };
    assert_eq!(by_to(&once)["state"], "sent");
    assert_eq!(by_to(&once)["attempts"], 2);
    let deferred = by_to(&twice);
    assert_eq!(deferred["state"], "deferred");
    assert!(
        deferred["last_reply"]
            .as_str()
            .unwrap()
            .starts_with("503 Service Unavailable"),
        "{deferred}"
    );
    let deferred = by_to(&dated);
    assert_eq!(deferred["state"], "deferred");
    assert!(
        deferred["last_reply"]
            .as_str()
            .unwrap()
            .starts_with("429 Too Many Requests: ApplicationThrottled"),
        "{deferred}"
    );

    site.send(&[])
        .status(0)
        .contains("sent                           2")
        .contains("skipped, already sent         28");
    assert_eq!(accepted(&standin), once_each(&sample_recipients()));
    assert!(site.states().values().all(|s| s == "sent"));
}

#[test]
fn an_invalid_recipient_fails_that_user_and_the_run_goes_on() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some(SECRET)));
    let invalid = nth_recipient(3);
    standin.script_recipient(
        &invalid,
        [Scripted::graph_error(
            400,
            "ErrorInvalidRecipients",
            "At least one recipient isn't valid.",
        )],
    );
    let site = graph_site(&standin);
    site.open_gate();
    site.send(&[])
        .status(4)
        .contains("sent                          29")
        .contains("failed                         1");
    let mut expected = once_each(&sample_recipients());
    expected.remove(&invalid);
    assert_eq!(accepted(&standin), expected);
    let users = report_users(&site);
    let failed: Vec<&serde_json::Value> =
        users.values().filter(|u| u["state"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0]["recipients"][0].as_str().unwrap().to_lowercase(),
        invalid
    );
    assert_eq!(
        failed[0]["last_reply"],
        "400 Bad Request: ErrorInvalidRecipients: At least one recipient isn't valid."
    );
    site.t2t()
        .arg("report")
        .run()
        .status(0)
        .contains("ErrorInvalidRecipients: At least one recipient isn't valid.");

    site.send(&[])
        .status(4)
        .contains("skipped, failed before         1");
    assert_eq!(
        per_recipient(&standin, None).values().sum::<usize>(),
        30,
        "nothing new"
    );
}

#[test]
fn access_denied_stops_the_run_and_leaves_the_rest_sendable() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some(SECRET)));
    let denied = nth_recipient(4);
    standin.script_recipient(&denied, [access_denied()]);
    let site = graph_site(&standin);
    site.open_gate();
    site.send(&[])
        .status(1)
        .contains("403 Forbidden: ErrorAccessDenied");
    let states = site.states();
    assert!(states.len() < 30, "the run stopped: {states:?}");
    assert!(states.values().all(|s| s == "sent"), "{states:?}");
    let recorded = site.recipients_by_user();
    assert!(
        !recorded.values().any(|to| *to == denied),
        "the refused user is untouched: {recorded:?}"
    );
    assert_eq!(accepted(&standin).len(), states.len());

    site.send(&[]).status(0);
    assert_eq!(accepted(&standin), once_each(&sample_recipients()));
    assert_eq!(per_recipient(&standin, None)[&denied], 2);
}

#[test]
fn a_stop_reaches_every_message_not_sent_yet_even_above_four_at_a_time() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some(SECRET)));
    // Slow answers: the first user's refusal comes back while the next ones wait their turn.
    standin.with(|s| s.delay = Duration::from_millis(300));
    standin.script_recipient(&nth_recipient(0), [access_denied()]);
    let site = graph_site(&standin).env("T2T_NOTIFY_PACING_CONCURRENCY", "10");
    site.open_gate();
    site.send(&[])
        .status(1)
        .contains("[pacing] concurrency = 10 is more than the 4 requests");
    // Four went out together; at most one more for each of the three that came back first.
    // Ten workers would have sent ten: the six waiting for the mailbox went out after the stop.
    let sends = standin.requests_to(&standin.send_path()).len();
    assert!(sends <= 7, "{sends} sendMails");
    assert!(standin.with(|s| s.max_in_flight) <= 4);
    assert_eq!(accepted(&standin).len(), site.states().len());
}

#[test]
fn a_message_graph_never_answers_is_uncertain_and_sent_again_only_on_request() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some(SECRET)));
    let hung = nth_recipient(5);
    standin.script_recipient(&hung, [Scripted::Hang]);
    let site = graph_site(&standin).env("T2T_NOTIFY_TRANSPORT_TIMEOUT_SECS", "4");
    site.open_gate();
    site.send(&[])
        .status(4)
        .contains("sent                          29")
        .contains("uncertain                      1");
    let users = report_users(&site);
    let row = users.values().find(|u| u["state"] == "uncertain").unwrap();
    assert_eq!(row["recipients"][0].as_str().unwrap().to_lowercase(), hung);
    let reply = row["last_reply"].as_str().unwrap();
    assert!(
        reply.starts_with("no answer in time from Microsoft Graph"),
        "{reply}"
    );

    site.send(&[])
        .status(4)
        .contains("skipped, uncertain             1");
    assert_eq!(
        per_recipient(&standin, None)[&hung],
        1,
        "not retried blindly"
    );
    site.send(&["--resend-uncertain"]).status(0);
    assert_eq!(per_recipient(&standin, None)[&hung], 2);
    assert_eq!(accepted(&standin), once_each(&sample_recipients()));
}

#[test]
fn a_killed_graph_run_resumes_and_only_the_uncertain_can_get_two() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some(SECRET)));
    // Ten answers, then Graph takes the next messages and never answers.
    standin.script_graph((0..10).map(|_| Scripted::accepted()));
    standin.script_graph((0..4).map(|_| Scripted::Hang));
    let site = graph_site(&standin);
    site.open_gate();
    let sample = root().join("sample-data");
    let mut child = site
        .t2t()
        .args(["send", "--mapping"])
        .arg(sample.join("identity-map.csv"))
        .arg("--directory")
        .arg(sample.join("directory.csv"))
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while standin.requests_to(&standin.send_path()).len() < 11 {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    standin.with(|s| s.graph_script.clear());

    let rerun = site
        .send(&[])
        .status(4)
        .contains("were in flight when an earlier run stopped");
    let states = site.states();
    assert_eq!(states.len(), 30);
    let to = site.recipients_by_user();
    let uncertain: Vec<String> = states
        .iter()
        .filter(|(_, s)| *s == "uncertain")
        .map(|(u, _)| to[u].clone())
        .collect();
    assert!(!uncertain.is_empty(), "a message was in flight at the kill");
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
    let seen = per_recipient(&standin, None);
    for (user, state) in &states {
        let n = seen.get(&to[user]).copied().unwrap_or(0);
        match state.as_str() {
            "sent" => assert_eq!(n, 1, "{user} got {n} sendMails"),
            _ => assert!(n <= 1, "{user} (uncertain) got {n} sendMails"),
        }
    }

    site.send(&["--resend-uncertain"]).status(0);
    let seen = per_recipient(&standin, None);
    let got = accepted(&standin);
    for address in sample_recipients() {
        assert!(got.get(&address).is_some_and(|&n| n >= 1), "{address}");
        if !uncertain.contains(&address) {
            assert_eq!(seen[&address], 1, "{address} was not uncertain");
        }
    }
}
