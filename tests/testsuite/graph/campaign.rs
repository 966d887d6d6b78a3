//! The built `t2t-notify send` with `[transport] kind = "graph"` against the stand-in (its URL
//! as `authority` and `graph_url`, the client secret in a variable named by
//! `client_secret_env`), and with `auth = "xoauth2"` against the SMTP stand-in: the sample
//! campaign goes out with the guarantees of SMTP. Once per user and exactly as previewed;
//! resumable after throttling, errors and a SIGKILL (`failures`); paced; reported; and no secret
//! or token in the logs at maximum verbosity or in the files next to the ledger (`secrets`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use t2t_notify::oauth::OUTLOOK_SCOPE;

use super::smtp_standin::SmtpStandIn;
use super::standin::{Received, Scripted, StandIn, CLIENT_ID, SENDER, TENANT};
use super::{nonce, urlencoded, SECRET};
use crate::harness::root;
use crate::send::helpers::{max_in_window, once_each, sample_recipients, Site};

mod failures;
mod secrets;
mod sign_ins;

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
    crate::harness::preview_files(out, "eml")
        .into_iter()
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

/// The recipient of the sample mapping's user number `i` (0-based).
fn nth_recipient(i: usize) -> String {
    sample_recipients()[i].clone()
}

fn access_denied() -> Scripted {
    Scripted::graph_error(
        403,
        "ErrorAccessDenied",
        "Access is denied. Check credentials and try again.",
    )
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
