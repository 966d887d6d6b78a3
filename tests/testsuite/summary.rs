//! The admin summary after every `send`, end to end: the summary file (also after a closed
//! gate and after invalid input), the webhook received by a real HTTP server on 127.0.0.1
//! (also one that fails first, and one that is down: the exit status never changes), and the
//! mail to `[notify] admin_email` as smtp-sink dumped it, counted by the day budget.

mod batches;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use mail_parser::MimeHeaders;
use serde_json::Value;

use crate::harness::*;
use crate::http_stub::HttpStub;
use crate::send::helpers::Site;
use crate::sink::{free_port, Sink};
use crate::tls_server::{TestPki, TlsServer};

/// The move-state story of `tests/fixtures/move-state/` (see its make.py): with all three
/// exports ana, fay and hal are ready; bo (Failed), cy, dee, eve and gus are held back.
pub const ALL_EXPORTS: [&str; 3] = ["batch-1.csv", "batch-2.json", "batch-3-single.json"];

/// `send` on the move-state map with these exports.
pub fn send_batches(site: &Site, exports: &[&str], extra: &[&str]) -> Run {
    let mut args: Vec<String> = Vec::new();
    for e in exports {
        args.push("--move-state".into());
        args.push(fixture(&format!("move-state/{e}")).display().to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    site.send_mapping(&fixture("move-state/map.csv"), &args)
}

/// Every summary file next to the ledger, oldest first (two runs in the same second get
/// `-2` names, which do not sort by time).
fn summaries(site: &Site) -> Vec<PathBuf> {
    let dir = site.ledger().parent().unwrap().to_path_buf();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("summary-") && name.ends_with(".json")
        })
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap());
    files
}

/// The one summary file of a run, checked private.
fn only_summary(site: &Site) -> Value {
    let files = summaries(site);
    assert_eq!(files.len(), 1, "{files:?}");
    let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", files[0].display());
    serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap()
}

fn posted(server: &HttpStub) -> Vec<Value> {
    server
        .requests()
        .iter()
        .map(|r| {
            assert_eq!(r.method, "POST");
            serde_json::from_slice(&r.body).unwrap()
        })
        .collect()
}

/// The summary without what only the file has.
fn without_delivery(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("delivery");
    v
}

#[test]
fn the_webhook_gets_the_summary_of_a_real_send_and_the_file_says_so() {
    let sink = Sink::start();
    let server = HttpStub::start(vec![200]);
    let site = Site::new(sink.port).env("T2T_NOTIFY_NOTIFY_WEBHOOK_URL", &server.url("/hook"));
    site.open_gate();
    send_batches(&site, &ALL_EXPORTS, &[])
        .status(0)
        .contains("5 users are held back by their move state")
        .contains("Summary: ");
    assert_eq!(sink.messages().len(), 3);
    let bodies = posted(&server);
    assert_eq!(bodies.len(), 1);
    let s = &bodies[0];
    assert_eq!(s["kind"], "t2t-notify.send-summary");
    assert_eq!(s["campaign"], "post-migration");
    assert_eq!(s["outcome"]["status"], "success");
    assert_eq!(s["outcome"]["exit_code"], 0);
    assert_eq!(s["gate"]["status"], "open");
    assert_eq!(s["this_run"]["sent"], 3);
    assert_eq!(s["ledger"]["sent"], 3);
    assert_eq!(s["input"]["ready"], 3);
    assert_eq!(
        s["input"]["move_state_exports"].as_array().unwrap().len(),
        3
    );
    assert_eq!(s["held_back"]["total"], 5);
    let groups = s["held_back"]["by_reason"].as_array().unwrap();
    assert_eq!(groups[0]["reason"], "Failed", "Failed first: {groups:#?}");
    assert_eq!(groups[0]["action_needed"], true);
    assert_eq!(
        groups[0]["users"]["users"][0]["source_upn"],
        "bo@contoso.com"
    );
    assert_eq!(
        groups.last().unwrap()["reason"],
        "not in any move-state export"
    );
    assert!(s["paused"].is_null());
    let file = only_summary(&site);
    assert_eq!(file["delivery"]["webhook"]["status"], "delivered");
    assert_eq!(file["delivery"]["webhook"]["http_status"], 200);
    assert_eq!(without_delivery(file), *s, "the file and the post agree");
}

#[test]
fn a_webhook_that_fails_first_is_retried_and_the_exit_status_stays() {
    let sink = Sink::start();
    let server = HttpStub::start(vec![500, 200]);
    let site = Site::new(sink.port).env("T2T_NOTIFY_NOTIFY_WEBHOOK_URL", &server.url("/hook"));
    site.open_gate();
    send_batches(&site, &ALL_EXPORTS, &[])
        .status(0)
        .lacks("not posted");
    let bodies = posted(&server);
    assert_eq!(bodies.len(), 2, "one 500, then the retry");
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(
        only_summary(&site)["delivery"]["webhook"]["status"],
        "delivered"
    );
}

#[test]
fn a_webhook_that_is_down_is_reported_but_changes_nothing_else() {
    let sink = Sink::start();
    let down = format!("http://127.0.0.1:{}/hook?sig=S3cr3t", free_port());
    let site = Site::new(sink.port).env("T2T_NOTIFY_NOTIFY_WEBHOOK_URL", &down);
    site.open_gate();
    let run = send_batches(&site, &ALL_EXPORTS, &[])
        .status(0)
        .contains("warning: the summary was not posted to the webhook")
        .lacks("S3cr3t");
    assert!(run.stdout().contains("sent                           3"));
    assert_eq!(sink.messages().len(), 3, "every notice went out anyway");
    let file = only_summary(&site);
    let hook = &file["delivery"]["webhook"];
    assert_eq!(hook["status"], "failed");
    assert!(
        hook["error"].as_str().unwrap().contains("after 4 attempts"),
        "{hook}"
    );
    assert!(
        !file.to_string().contains("S3cr3t"),
        "the webhook's secret stays out"
    );
    assert_eq!(file["outcome"]["exit_code"], 0);
}

#[test]
fn a_closed_gate_still_writes_and_posts_the_summary_with_the_missing_pairs() {
    let server = HttpStub::start(vec![200]);
    let site = Site::new(free_port()).env("T2T_NOTIFY_NOTIFY_WEBHOOK_URL", &server.url("/hook"));
    send_batches(&site, &ALL_EXPORTS, &[]).status(3);
    let file = only_summary(&site);
    assert_eq!(file["outcome"]["status"], "gate-closed");
    assert_eq!(file["outcome"]["exit_code"], 3);
    assert_eq!(file["gate"]["status"], "closed");
    assert_eq!(file["gate"]["total_pairs"], 2);
    let missing = file["gate"]["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 2);
    assert_eq!(missing[0]["side"], "source");
    assert!(missing[0]["remove_command"]
        .as_str()
        .unwrap()
        .starts_with("Remove-SPOCrossTenantRelationship -Scenario MnA -PartnerRole Target"));
    assert!(file["this_run"].is_null(), "nothing was sent");
    assert_eq!(file["held_back"]["total"], 5);
    assert_eq!(posted(&server).len(), 1);
}

#[test]
fn invalid_input_still_writes_the_summary_with_the_located_errors() {
    let site = Site::new(free_port());
    let mapping = site.write(
        "bad-map.csv",
        "User,not-a-guid,a@contoso.com,a@fabrikam.com,a@fabrikam.com,RegularUser\r\n",
    );
    site.send_mapping(&mapping, &[])
        .status(2)
        .contains("Summary: ");
    let file = only_summary(&site);
    assert_eq!(file["outcome"]["status"], "invalid-input");
    assert_eq!(file["outcome"]["exit_code"], 2);
    assert_eq!(file["gate"]["status"], "not-checked");
    let errors = file["input"]["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    assert!(
        errors
            .iter()
            .all(|e| e.as_str().unwrap().contains("bad-map.csv:1")),
        "{errors:?}"
    );
    assert!(file["ledger"].is_null(), "no ledger existed");
}

/// The admin mail among the sink's dumps (smtp-sink's own `X-` lines and `Received:` come
/// first, as more headers).
fn admin_mail(sink: &Sink, to: &str) -> String {
    let mails: Vec<String> = sink
        .messages()
        .into_iter()
        .filter(|m| m.recipients == [to])
        .map(|m| m.text)
        .collect();
    assert_eq!(mails.len(), 1, "one admin mail");
    mails.into_iter().next().unwrap()
}

#[test]
fn the_admin_gets_the_summary_by_mail_and_the_day_budget_counts_it() {
    let sink = Sink::start();
    let site = Site::new(sink.port)
        .env("T2T_NOTIFY_NOTIFY_ADMIN_EMAIL", "lead@fabrikam.com")
        .env("T2T_NOTIFY_PACING_PER_DAY", "4");
    site.open_gate();
    send_batches(&site, &ALL_EXPORTS, &[])
        .status(0)
        .contains("The summary was mailed to lead@fabrikam.com");
    assert_eq!(sink.messages().len(), 4, "3 notices and the summary");
    let raw = admin_mail(&sink, "lead@fabrikam.com");
    let mail = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    assert_eq!(
        mail.subject().unwrap(),
        "t2t-notify post-migration: success (exit 0): 3 sent, 5 held back, 0 failed"
    );
    let text = mail.body_text(0).unwrap();
    assert!(
        text.contains("Failed (1) - the migration team must act"),
        "{text}"
    );
    assert!(text.contains("bo@contoso.com -> bo@fabrikam.com"), "{text}");
    let json = mail.attachment(0).unwrap();
    assert_eq!(json.attachment_name(), Some("summary.json"));
    let attached: Value = serde_json::from_slice(json.contents()).unwrap();
    assert_eq!(attached["held_back"]["total"], 5);

    let report = site.report();
    let tests = report["test_sends"].as_array().unwrap();
    assert_eq!(tests.len(), 1, "recorded apart: {tests:#?}");
    assert_eq!(tests[0]["user_key"], "admin-summary");
    assert_eq!(tests[0]["state"], "sent");
    let users = report["campaigns"][0]["users"].as_array().unwrap();
    assert_eq!(users.len(), 3, "not counted as a user notice");
    assert_eq!(
        only_summary(&site)["delivery"]["admin_email"]["status"],
        "sent"
    );

    // 3 notices and the summary spent the budget of 4: the next run pauses at once, and its
    // own summary is not mailed.
    site.send(&["--test-to", "me@fabrikam.com"])
        .status(5)
        .contains("rolling 24 h budget")
        .contains("The summary was not mailed to lead@fabrikam.com: the [pacing] per_day budget of 4 recipients is spent");
    assert_eq!(sink.messages().len(), 4);
    let files = summaries(&site);
    assert_eq!(files.len(), 2, "one per run: {files:?}");
    let paused: Value = serde_json::from_slice(&std::fs::read(&files[1]).unwrap()).unwrap();
    assert_eq!(paused["outcome"]["status"], "paused");
    assert_eq!(paused["test_to"], "me@fabrikam.com");
    assert!(paused["paused"]["resume_at"].is_string(), "{paused:#}");
    assert_eq!(paused["delivery"]["admin_email"]["status"], "not-sent");
}

#[test]
fn an_interrupted_run_writes_its_summary_too() {
    let sink = Sink::start();
    let site = Site::new(sink.port).env("T2T_NOTIFY_PACING_PER_MINUTE", "300");
    site.open_gate();
    let child = site
        .t2t()
        .args(["send", "--mapping"])
        .arg(root().join("sample-data/identity-map.csv"))
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
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
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = only_summary(&site);
    assert_eq!(file["outcome"]["status"], "interrupted");
    assert_eq!(file["outcome"]["exit_code"], 130);
    let sent = file["this_run"]["sent"].as_u64().unwrap();
    assert!((3..30).contains(&sent), "{file:#}");
    assert_eq!(file["ledger"]["sent"], sent);
}

#[test]
fn no_admin_mail_is_tried_after_a_fatal_transport_error() {
    let pki = TestPki::new();
    let server = TlsServer::start(&pki, "it-migration@fabrikam.com", "correct horse");
    let site = Site::new(server.port)
        .env("T2T_NOTIFY_TRANSPORT_SECURITY", "starttls")
        .env("T2T_NOTIFY_TRANSPORT_AUTH", "login")
        .env("T2T_NOTIFY_TRANSPORT_USERNAME", "it-migration@fabrikam.com")
        .env(
            "T2T_NOTIFY_TRANSPORT_PASSWORD_ENV",
            "T2T_TEST_SMTP_PASSWORD",
        )
        .env("T2T_TEST_SMTP_PASSWORD", "battery staple")
        .env("T2T_NOTIFY_TRANSPORT_CA_FILE", pki.ca().to_str().unwrap())
        .env("T2T_NOTIFY_NOTIFY_ADMIN_EMAIL", "lead@fabrikam.com");
    site.open_gate();
    send_batches(&site, &ALL_EXPORTS, &[])
        .status(1)
        .contains("535 5.7.3")
        .contains("The summary was not mailed to lead@fabrikam.com: the run stopped on a fatal transport error");
    assert!(server.received().is_empty());
    let file = only_summary(&site);
    assert_eq!(file["outcome"]["status"], "failure");
    assert!(
        file["outcome"]["message"].as_str().unwrap().contains("535"),
        "{file}"
    );
    assert_eq!(file["delivery"]["admin_email"]["status"], "not-sent");
}

#[test]
fn the_admin_mail_waits_for_the_pacer_like_a_notice_and_ctrl_c_ends_the_wait() {
    let sink = Sink::start();
    let site = Site::new(sink.port)
        .env("T2T_NOTIFY_NOTIFY_ADMIN_EMAIL", "lead@fabrikam.com")
        .env("T2T_NOTIFY_PACING_PER_MINUTE", "1");
    let sample = root().join("sample-data");
    let child = site
        .t2t()
        .args(["send", "--test-to", "me@fabrikam.com", "--limit", "1"])
        .arg("--mapping")
        .arg(sample.join("identity-map.csv"))
        .arg("--directory")
        .arg(sample.join("directory.csv"))
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The summary file is written before the mail is tried; the notice just sent fills the
    // minute of `per_minute = 1`, so the mail waits for the pacer as a notice would.
    let deadline = Instant::now() + Duration::from_secs(40);
    while summaries(&site).is_empty() {
        assert!(Instant::now() < deadline, "no summary file");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(sink.count(), 1, "only the notice: the mail waits");
    let interrupt = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("The summary was not mailed to lead@fabrikam.com: interrupted by Ctrl-C"),
        "{stderr}"
    );
    assert!(
        stderr.lines().any(|l| l.starts_with("Summary: ")),
        "stderr names the summary file: {stderr}"
    );
    assert!(Instant::now() < deadline, "the wait ended at Ctrl-C");
    assert_eq!(sink.count(), 1);
    let file = only_summary(&site);
    assert_eq!(file["delivery"]["admin_email"]["status"], "not-sent");
    assert_eq!(file["this_run"]["sent"], 1);
}
