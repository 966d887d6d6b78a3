//! Runs at maximum verbosity (`-vv`, `T2T_NOTIFY_LOG=trace`) through Graph and through SMTP with
//! XOAUTH2: the logs and every file next to the ledger hold neither the client secret, nor an
//! issued token, nor an XOAUTH2 SASL string. The XOAUTH2 run also sends the sample campaign once.

use super::*;

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
