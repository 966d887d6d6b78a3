//! The built `t2t-notify send` with `[transport] kind = "graph"` against the stand-in (its URL
//! as `authority` and `graph_url`, the client secret in a variable named by
//! `client_secret_env`), and with `auth = "xoauth2"` against the SMTP stand-in: the sample
//! campaign goes out with the guarantees of SMTP. Once per user and exactly as previewed;
//! resumable after throttling, errors and a SIGKILL; paced; reported; and no secret or token in
//! the logs at maximum verbosity or in the files next to the ledger.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use t2t_notify::oauth::OUTLOOK_SCOPE;

use super::smtp_standin::SmtpStandIn;
use super::standin::{Received, Scripted, StandIn, CLIENT_ID, SENDER, TENANT};
use super::{nonce, urlencoded, SECRET};
use crate::harness::root;
use crate::send::helpers::{max_in_window, once_each, sample_recipients, Site};

/// The variable that `client_secret_env` names.
const SECRET_VAR: &str = "T2T_TEST_GRAPH_CLIENT_SECRET";

/// A runtime for the stand-ins while the test thread waits for the binary.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The OAuth keys of `[transport]` pointing at `standin`.
fn with_oauth(site: Site, standin: &StandIn) -> Site {
    site.env("T2T_NOTIFY_TRANSPORT_TENANT_ID", TENANT)
        .env("T2T_NOTIFY_TRANSPORT_CLIENT_ID", CLIENT_ID)
        .env("T2T_NOTIFY_TRANSPORT_CLIENT_SECRET_ENV", SECRET_VAR)
        .env(SECRET_VAR, SECRET)
        .env("T2T_NOTIFY_TRANSPORT_AUTHORITY", &standin.url())
}

/// A site sending through Graph at `standin`, four messages at a time, pacing off. The token
/// scope follows `graph_url` (as for national clouds), so the stand-in expects its own.
fn graph_site(standin: &StandIn) -> Site {
    standin.with(|s| s.scope = format!("{}/.default", standin.url()));
    let site = Site::new(standin.addr.port())
        .env("T2T_NOTIFY_TRANSPORT_KIND", "graph")
        .env("T2T_NOTIFY_TRANSPORT_SENDER", SENDER)
        .env("T2T_NOTIFY_TRANSPORT_GRAPH_URL", &standin.url())
        .env("T2T_NOTIFY_TRANSPORT_SAVE_TO_SENT_ITEMS", "true")
        .env("T2T_NOTIFY_PACING_CONCURRENCY", "4");
    with_oauth(site, standin)
}

/// `sendMail` requests per recipient, counting only those answered `status` (or all: `None`).
fn per_recipient(standin: &StandIn, status: Option<u16>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in standin.requests_to(&standin.send_path()) {
        if status.is_none() || r.status == status {
            *counts.entry(r.recipient().unwrap()).or_insert(0) += 1;
        }
    }
    counts
}

/// Messages Graph took (202), per recipient.
fn accepted(standin: &StandIn) -> BTreeMap<String, usize> {
    per_recipient(standin, Some(202))
}

fn bearer(r: &Received) -> String {
    r.header("authorization")
        .unwrap_or("")
        .trim_start_matches("Bearer ")
        .to_string()
}

/// The message without its `Date` header (the one thing that differs between renders).
fn without_date(message: &[u8]) -> Vec<u8> {
    let end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header section");
    let head = std::str::from_utf8(&message[..end]).unwrap();
    let mut kept = Vec::new();
    let mut in_date = false;
    for line in head.split("\r\n") {
        if !line.starts_with([' ', '\t']) {
            in_date = line.to_ascii_lowercase().starts_with("date:");
        }
        if !in_date {
            kept.extend_from_slice(line.as_bytes());
            kept.extend_from_slice(b"\r\n");
        }
    }
    kept.extend_from_slice(&message[end + 2..]);
    kept
}

fn message_id(mime: &[u8]) -> String {
    let parsed = mail_parser::MessageParser::default().parse(mime).unwrap();
    format!("<{}>", parsed.message_id().unwrap())
}

/// The previewed `.eml` files of the sample campaign, by Message-ID.
fn previewed(site: &Site, out: &Path) -> BTreeMap<String, Vec<u8>> {
    let sample = root().join("sample-data");
    site.t2t()
        .args(["preview", "--mapping"])
        .arg(sample.join("identity-map.csv"))
        .arg("--directory")
        .arg(sample.join("directory.csv"))
        .arg("--out")
        .arg(out)
        .run()
        .status(0);
    std::fs::read_dir(out.join("messages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| {
            let bytes = std::fs::read(p).unwrap();
            (message_id(&bytes), bytes)
        })
        .collect()
}

/// The report's users (JSON), keyed by user.
fn report_users(site: &Site) -> BTreeMap<String, serde_json::Value> {
    let report = site.report();
    report["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["users"].as_array().unwrap().clone())
        .map(|u| (u["user_key"].as_str().unwrap().to_string(), u))
        .collect()
}

#[test]
fn the_sample_campaign_goes_out_once_per_user_exactly_as_previewed() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some(SECRET)));
    // Slow answers keep requests in flight together, so the mailbox limit shows.
    standin.with(|s| s.delay = Duration::from_millis(30));
    let site = graph_site(&standin).env("T2T_NOTIFY_PACING_CONCURRENCY", "10");
    site.open_gate();
    site.send(&[])
        .status(0)
        .contains("sent                          30");
    assert_eq!(accepted(&standin), once_each(&sample_recipients()));
    assert!(
        standin.with(|s| s.max_in_flight) <= 4,
        "at most 4 per mailbox"
    );

    let issued = standin.with(|s| s.issued.clone());
    assert_eq!(issued.len(), 1, "one token serves the whole run");
    let token_request = &standin.requests_to(&standin.token_path())[0];
    let mut form = token_request.form();
    form.sort();
    let expected: Vec<(String, String)> = [
        ("client_id", CLIENT_ID),
        ("client_secret", SECRET),
        ("grant_type", "client_credentials"),
        ("scope", &format!("{}/.default", standin.url())),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(form, expected);

    let sends = standin.requests_to(&standin.send_path());
    assert_eq!(sends.len(), 30);
    for r in &sends {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, format!("/v1.0/users/{SENDER}/sendMail"));
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {}", issued[0]).as_str())
        );
        let id = r.header("client-request-id").unwrap();
        assert!(t2t_notify::inputs::address::is_guid(id), "{id}");
    }

    // The ledger says who got which message; the stand-in got exactly those messages.
    let sent: BTreeMap<String, (String, Vec<u8>)> = sends
        .iter()
        .map(|r| {
            let mime = r.mime().unwrap();
            (message_id(&mime), (r.recipient().unwrap(), mime))
        })
        .collect();
    let users = report_users(&site);
    assert_eq!(users.len(), 30);
    for (user, row) in &users {
        assert_eq!(row["state"], "sent", "{user}");
        assert_eq!(row["last_reply"], "202 Accepted (request-id standin-req)");
        let id = row["message_id"].as_str().unwrap();
        let (to, _) = &sent[id];
        assert_eq!(to, &row["recipients"][0].as_str().unwrap().to_lowercase());
    }

    // Byte for byte the previewed notice, but for the Date header.
    let out = tempfile::tempdir().unwrap();
    let previews = previewed(&site, &out.path().join("preview"));
    assert_eq!(previews.len(), 30);
    for (id, (_, mime)) in &sent {
        assert_eq!(
            String::from_utf8_lossy(&without_date(mime)),
            String::from_utf8_lossy(&without_date(&previews[id])),
            "{id}"
        );
    }

    site.send(&[])
        .status(0)
        .contains("skipped, already sent         30");
    assert_eq!(
        standin.requests_to(&standin.send_path()).len(),
        30,
        "the rerun sent nothing"
    );
    let table = site.t2t().arg("report").run().status(0).stdout();
    for user in users.keys() {
        let line = table.lines().find(|l| l.contains(user.as_str())).unwrap();
        assert!(line.trim_start().starts_with("sent"), "{line}");
        assert!(
            line.contains("202 Accepted (request-id standin-req)"),
            "{line}"
        );
    }
}

#[test]
fn a_refused_client_secret_stops_the_run_before_any_message() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some("the-current-secret")));
    let site = graph_site(&standin);
    site.open_gate();
    site.send(&[])
        .status(1)
        .contains("AADSTS7000215: Invalid client secret provided")
        .lacks(SECRET);
    assert!(standin.requests_to(&standin.send_path()).is_empty());
    assert!(site.states().is_empty(), "every user is untouched");
    site.env(SECRET_VAR, "the-current-secret")
        .send(&[])
        .status(0);
    assert_eq!(accepted(&standin), once_each(&sample_recipients()));
}

/// The recipient of the sample mapping's user number `i` (0-based).
fn nth_recipient(i: usize) -> String {
    sample_recipients()[i].clone()
}

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

fn access_denied() -> Scripted {
    Scripted::graph_error(
        403,
        "ErrorAccessDenied",
        "Access is denied. Check credentials and try again.",
    )
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
fn short_lived_tokens_are_renewed_mid_run_and_the_pace_is_kept() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some(SECRET)));
    // Refreshed 300 s before expiry: each token serves about a second of the run.
    standin.with(|s| s.expires_in = 301);
    let site = graph_site(&standin).env("T2T_NOTIFY_PACING_PER_MINUTE", "120");
    site.open_gate();
    site.send(&[]).status(0);
    assert_eq!(accepted(&standin), once_each(&sample_recipients()));

    let sends = standin.requests_to(&standin.send_path());
    assert!(
        sends.iter().all(|r| r.status == Some(202)),
        "no token was refused"
    );
    let issued = standin.with(|s| s.issued.clone());
    assert!(issued.len() >= 5, "{} tokens over a 15 s run", issued.len());
    let used: BTreeSet<String> = sends.iter().map(bearer).collect();
    assert_eq!(
        used,
        issued.iter().cloned().collect(),
        "every token fetched was used, none but those"
    );

    // 120 a minute: one start every 500 ms, never a burst. Arrival times may bunch up by the
    // four requests in flight at most, if this process stalls.
    let at: Vec<_> = sends.iter().map(|r| r.at).collect();
    assert!(max_in_window(&at, 60_000) <= 120);
    assert!(
        max_in_window(&at, 10_000) <= 24,
        "{}",
        max_in_window(&at, 10_000)
    );
    assert!(
        max_in_window(&at, 1_000) <= 6,
        "{}",
        max_in_window(&at, 1_000)
    );
    let span = *at.iter().max().unwrap() - *at.iter().min().unwrap();
    assert!(span.num_milliseconds() >= 12_000, "30 messages in {span}");
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

/// Runs `send` at maximum verbosity and returns everything it printed.
fn verbose_send(site: &Site) -> String {
    let run = site
        .t2t()
        .env("T2T_NOTIFY_LOG", "trace")
        .args(["-vv", "send", "--mapping"])
        .arg(root().join("sample-data/identity-map.csv"))
        .arg("--directory")
        .arg(root().join("sample-data/directory.csv"))
        .run()
        .status(0);
    format!("{}{}", run.stdout(), run.stderr())
}

/// Every file the run left in the site's folder (ledger, WAL, summary) as bytes.
fn site_files(site: &Site) -> Vec<(String, Vec<u8>)> {
    let dir = site.ledger().parent().unwrap().to_path_buf();
    let mut files = Vec::new();
    let mut todo = vec![dir];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Asserts that neither `logs` nor the site's files hold the secret or a token of `standin`.
fn assert_no_secrets(logs: &str, site: &Site, standin: &StandIn) {
    let mut needles = vec![SECRET.to_string(), urlencoded(SECRET), nonce(standin)];
    needles.extend(standin.with(|s| s.issued.clone()));
    for needle in &needles {
        assert!(!logs.contains(needle.as_str()), "{needle} is in the logs");
    }
    let files = site_files(site);
    assert!(files.iter().any(|(name, _)| name.ends_with("ledger.db")));
    for (name, bytes) in &files {
        for needle in &needles {
            assert!(!contains(bytes, needle), "{needle} is in {name}");
        }
    }
}

#[test]
fn a_graph_run_at_trace_level_logs_no_secret_and_no_token() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some(SECRET)));
    // Every message needs a new token, and one token is refused and replaced.
    standin.with(|s| s.expires_in = 60);
    standin.script_recipient(
        &nth_recipient(2),
        [Scripted::graph_error(
            401,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        )],
    );
    let site = graph_site(&standin);
    site.open_gate();
    let logs = verbose_send(&site);
    assert_eq!(accepted(&standin), once_each(&sample_recipients()));
    assert!(standin.with(|s| s.issued.len()) > 30, "a token per message");
    assert!(logs.contains("Authorization: Bearer <redacted>"), "{logs}");
    assert!(logs.contains("getting a fresh token"), "{logs}");
    assert!(
        logs.contains("TRACE"),
        "dependencies log at trace level:\n{logs}"
    );
    assert_no_secrets(&logs, &site, &standin);
}

#[test]
fn xoauth2_sends_the_sample_campaign_once_and_logs_no_secret() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some(SECRET)));
    standin.with(|s| s.scope = OUTLOOK_SCOPE.into());
    let smtp = rt.block_on(SmtpStandIn::start(standin.clone(), SENDER));
    // The first AUTH is refused: one fresh token, then the run goes on.
    smtp.seen.lock().unwrap().refuse_next = 1;
    let site = with_oauth(Site::new(smtp.addr.port()), &standin)
        .env("T2T_NOTIFY_TRANSPORT_AUTH", "xoauth2")
        .env("T2T_NOTIFY_TRANSPORT_USERNAME", SENDER)
        .env("T2T_NOTIFY_PACING_CONCURRENCY", "3");
    site.open_gate();
    let logs = verbose_send(&site);
    assert!(logs.contains("sent                          30"), "{logs}");

    let issued = standin.with(|s| s.issued.clone());
    assert_eq!(issued.len(), 2, "one token, and one after the refusal");
    let (sasl, messages) = {
        let seen = smtp.seen.lock().unwrap();
        (seen.auth.clone(), seen.messages.clone())
    };
    let valid: Vec<String> = issued
        .iter()
        .map(|t| format!("user={SENDER}\x01auth=Bearer {t}\x01\x01"))
        .collect();
    assert!(sasl.iter().all(|s| valid.contains(s)), "{sasl:?}");
    let mut delivered = BTreeMap::new();
    for (from, to, _) in &messages {
        assert_eq!(from, SENDER);
        for address in to {
            *delivered.entry(address.to_lowercase()).or_insert(0) += 1;
        }
    }
    assert_eq!(delivered, once_each(&sample_recipients()));
    for form in standin.requests_to(&standin.token_path()) {
        assert_eq!(form.field("scope").as_deref(), Some(OUTLOOK_SCOPE));
    }

    for s in &sasl {
        assert!(
            !logs.contains(&STANDARD.encode(s)),
            "a SASL string is in the logs"
        );
    }
    assert!(
        logs.contains("smtp: building connections for token 2"),
        "{logs}"
    );
    assert_no_secrets(&logs, &site, &standin);

    site.send(&[])
        .status(0)
        .contains("skipped, already sent         30");
    assert_eq!(
        smtp.seen.lock().unwrap().messages.len(),
        30,
        "the rerun sent nothing"
    );
}
