//! `sign-ins --graph` against the stand-in's directory (paged, throttled once), and the reminder
//! campaign that goes by what it recorded: only people without a sign-in since the notice are
//! reminded, once. A 403 for a tenant without the permissions or licence says what to fix.

use super::*;
use crate::send::helpers::sample_recipients;

#[test]
fn sign_ins_from_graph_decide_who_is_reminded() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some(SECRET)));
    let site = graph_site(&standin);
    site.open_gate();
    site.send(&[]).status(0);
    // A third signed in after the notice; Graph throttles the first request once.
    let people = sample_recipients();
    let later = (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339();
    let users: Vec<(String, Option<String>)> = people
        .iter()
        .enumerate()
        .map(|(i, upn)| (upn.clone(), (i % 3 == 0).then(|| later.clone())))
        .collect();
    standin.with(|s| {
        s.users = users;
        s.users_script.push_back(
            Scripted::graph_error(429, "TooManyRequests", "Too many requests")
                .with_header("retry-after", "1"),
        );
    });
    site.t2t()
        .args(["sign-ins", "--graph"])
        .run()
        .status(0)
        .contains("graph: 30 users, 10 with a successful sign-in");
    let pages = standin.requests_to("/v1.0/users");
    assert_eq!(
        pages.len(),
        1 + 15,
        "the throttled page again, then 15 pages of 2"
    );
    assert!(pages.iter().all(|r| r
        .header("authorization")
        .is_some_and(|a| a.starts_with("Bearer tok-"))));
    assert_eq!(pages.iter().filter(|r| r.status == Some(429)).count(), 1);

    site.send(&["--campaign", "sign-in-reminder"])
        .status(0)
        .contains("signed in: 10");
    let got = per_recipient(&standin, Some(202));
    for (i, upn) in people.iter().enumerate() {
        let expected = if i % 3 == 0 { 1 } else { 2 };
        assert_eq!(
            got.get(upn),
            Some(&expected),
            "{upn}: notice, and a reminder unless signed in"
        );
    }
    // Again: nobody is reminded twice.
    site.send(&["--campaign", "sign-in-reminder"]).status(0);
    assert_eq!(per_recipient(&standin, Some(202)), got);
}

#[test]
fn a_tenant_without_the_licence_is_told_what_to_fix() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some(SECRET)));
    let site = graph_site(&standin);
    standin.with(|s| {
        s.users_script.push_back(Scripted::graph_error(
            403,
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
            "Neither tenant is B2C or tenant doesn't have premium license",
        ))
    });
    site.t2t()
        .args(["sign-ins", "--graph"])
        .run()
        .status(1)
        .contains("AuditLog.Read.All")
        .contains("P1")
        .lacks(SECRET);
}

#[test]
fn serve_fetches_the_sign_ins_itself_and_reminds_by_them() {
    let rt = runtime();
    let standin = rt.block_on(StandIn::start(Some(SECRET)));
    let site = graph_site(&standin)
        .env("T2T_NOTIFY_SERVE_POLL_SECONDS", "1")
        .env("T2T_NOTIFY_SERVE_SIGN_INS_REFRESH_HOURS", "12");
    site.open_gate();
    site.send(&[]).status(0);
    let people = sample_recipients();
    let later = (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339();
    standin.with(|s| {
        s.users = people
            .iter()
            .enumerate()
            .map(|(i, upn)| (upn.clone(), (i % 3 == 0).then(|| later.clone())))
            .collect()
    });
    let sample = root().join("sample-data");
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = site
        .t2t()
        .env("T2T_NOTIFY_DASHBOARD_LISTEN", "127.0.0.1:0")
        .args(["serve", "--mapping"])
        .arg(sample.join("identity-map.csv"))
        .arg("--directory")
        .arg(sample.join("directory.csv"))
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let expected: BTreeMap<String, usize> = people
        .iter()
        .enumerate()
        .map(|(i, upn)| (upn.clone(), if i % 3 == 0 { 1 } else { 2 }))
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while per_recipient(&standin, Some(202)) != expected {
        let text = std::fs::read_to_string(log.path()).unwrap_or_default();
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}\n{text}",
            per_recipient(&standin, Some(202))
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Two more polls: one fetch for the refresh period, and nobody reminded twice.
    std::thread::sleep(Duration::from_secs(2));
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        text.contains("sign-ins from Microsoft Graph: 30 users, 10 with a successful sign-in"),
        "{text}"
    );
    assert_eq!(per_recipient(&standin, Some(202)), expected);
    let pages = standin.requests_to("/v1.0/users").len();
    assert_eq!(pages, 15, "one fetch of 15 pages in the refresh period");
}
