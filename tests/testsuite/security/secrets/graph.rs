//! The Graph client secret and the tokens the stand-in issues, through a real `send` over
//! `kind = "graph"`: never in argv, logs at any verbosity, reports, previews or the ledger; and
//! the Debug output of the OAuth settings, the token provider and a token shows neither.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::graph::standin::{StandIn, CLIENT_ID, SENDER, TENANT};

const SECRET: &str = "Gs~7e2b91c4.client-secret_value";

fn graph_site(standin: &StandIn, secret: &str) -> Site {
    Site::new(1)
        .env("T2T_NOTIFY_TRANSPORT_KIND", "graph")
        .env("T2T_NOTIFY_TRANSPORT_TENANT_ID", TENANT)
        .env("T2T_NOTIFY_TRANSPORT_CLIENT_ID", CLIENT_ID)
        .env(
            "T2T_NOTIFY_TRANSPORT_CLIENT_SECRET_ENV",
            "T2T_TEST_GRAPH_SECRET",
        )
        .env("T2T_TEST_GRAPH_SECRET", secret)
        .env("T2T_NOTIFY_TRANSPORT_AUTHORITY", &standin.url())
        .env("T2T_NOTIFY_TRANSPORT_GRAPH_URL", &standin.url())
        .env("T2T_NOTIFY_TRANSPORT_SENDER", SENDER)
        .env("T2T_NOTIFY_PACING_PER_MINUTE", "600")
}

fn tokens(standin: &StandIn) -> Vec<String> {
    standin.with(|s| s.issued.clone())
}

#[test]
fn the_client_secret_and_tokens_are_nowhere_to_be_read() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let standin = runtime.block_on(StandIn::start(Some(SECRET)));
    // `send` asks for `{graph_url}/.default`, here the stand-in's own URL.
    let scope = format!("{}/.default", standin.url());
    standin.with(|s| s.scope = scope);
    let site = graph_site(&standin, SECRET);
    site.open_gate();
    let mut secrets = forms(SECRET);
    secrets.extend(forms("Gs~0000-wrong-secret"));

    let sample = root().join("sample-data");
    let mut running = Running::spawn(&site, &sample, &["-vv"], "send");
    let send_path = standin.send_path();
    if !running.wait_until(|| !standin.requests_to(&send_path).is_empty()) {
        panic!("the send ended before sending:\n{}", running.wait());
    }
    let mut known = secrets.clone();
    known.extend(tokens(&standin));
    scan_running(&known, &running, &site.ledger());
    let sent = running.wait();
    assert_eq!(sent.code, Some(0), "{sent}");
    assert_eq!(standin.requests_to(&send_path).len(), 30);

    let mut outputs = vec![(
        "send -vv".to_string(),
        format!("{}{}", sent.stdout, sent.stderr),
    )];
    outputs.extend(at_every_verbosity(&site, 0));
    let wrong = graph_site(&standin, "Gs~0000-wrong-secret");
    outputs.extend(at_every_verbosity(&wrong, 1));
    outputs.extend(reports(&site));
    let issued = tokens(&standin);
    assert!(issued.len() >= 6, "every run got its own token: {issued:?}");
    secrets.extend(issued);
    for (what, text) in &outputs {
        assert_absent(&secrets, what, text.as_bytes());
    }
    let dir = site.ledger().parent().unwrap().to_path_buf();
    for (path, bytes) in preview_files(&site).into_iter().chain(files_under(&dir)) {
        assert_absent(&secrets, &path.display().to_string(), &bytes);
    }
}

#[test]
fn debug_output_of_the_oauth_parts_shows_no_secret_or_token() {
    use t2t_notify::oauth::{Credential, OAuthSettings, TokenProvider};
    use t2t_notify::secret::Secret;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let standin = runtime.block_on(StandIn::start(Some(SECRET)));
    let settings = OAuthSettings {
        token_url: url::Url::parse(&format!("{}{}", standin.url(), standin.token_path())).unwrap(),
        client_id: CLIENT_ID.into(),
        scope: "https://graph.microsoft.com/.default".into(),
        credential: Credential::ClientSecret(Secret::new(SECRET)),
        timeout: Duration::from_secs(10),
    };
    let provider = Arc::new(TokenProvider::new(settings.clone()).unwrap());
    let token = runtime.block_on(provider.token()).unwrap();
    assert_eq!(token.secret().expose(), tokens(&standin)[0], "a real token");
    let shown = format!(
        "{settings:?} {settings:#?} {provider:?} {token:?} {:?}",
        token.secret()
    );
    assert!(
        shown.contains(CLIENT_ID),
        "the Debug output is real: {shown}"
    );
    let mut secrets = forms(SECRET);
    secrets.extend(tokens(&standin));
    assert_absent(&secrets, "Debug of the OAuth parts", shown.as_bytes());
}
