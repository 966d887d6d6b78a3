//! Graph sendMail and OAuth2 against stand-ins on 127.0.0.1: the token endpoint and Graph
//! (hyper), and an SMTP server that checks SASL XOAUTH2. Requests are checked field by field
//! as Microsoft documents them; logs at trace level are checked for secrets. `campaign` runs
//! the built binary's `send` through both.

mod campaign;
mod smtp_standin;
pub mod standin;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use t2t_notify::oauth::{
    CertificateCredential, Credential, OAuthSettings, TokenProvider, OUTLOOK_SCOPE,
};
use t2t_notify::secret::Secret;
use t2t_notify::transport::graph::{GraphSettings, GraphTransport};
use t2t_notify::transport::smtp::{SmtpSettings, SmtpTransport};
use t2t_notify::transport::{Envelope, FailureClass, Transport};

use smtp_standin::{DropAt, SmtpStandIn};
use standin::{Scripted, StandIn, CLIENT_ID, SENDER, TENANT};

const SECRET: &str = "Zq8~s3cr3t.value_for-tests-only";

fn oauth(standin: &StandIn, credential: Credential, scope: &str) -> OAuthSettings {
    OAuthSettings {
        token_url: url::Url::parse(&format!("{}{}", standin.url(), standin.token_path())).unwrap(),
        client_id: CLIENT_ID.into(),
        scope: scope.into(),
        credential,
        timeout: Duration::from_secs(20),
    }
}

fn secret() -> Credential {
    Credential::ClientSecret(Secret::new(SECRET))
}

fn graph_settings(url: &str, timeout: Duration) -> GraphSettings {
    GraphSettings {
        graph_url: url.into(),
        sender: SENDER.into(),
        timeout,
        max_concurrent: 4,
    }
}

fn graph(standin: &StandIn, credential: Credential) -> (GraphTransport, Arc<TokenProvider>) {
    let tokens = Arc::new(
        TokenProvider::new(oauth(
            standin,
            credential,
            "https://graph.microsoft.com/.default",
        ))
        .unwrap(),
    );
    let transport = GraphTransport::new(
        &graph_settings(&standin.url(), Duration::from_secs(20)),
        Arc::clone(&tokens),
    )
    .unwrap();
    (transport, tokens)
}

fn envelope(i: usize) -> Envelope {
    Envelope {
        from: SENDER.into(),
        to: vec![format!("user{i}@fabrikam.com")],
    }
}

/// A rendered notice as the renderer makes it: CRLF, 8-bit UTF-8 body, non-ASCII name.
fn message(i: usize) -> Vec<u8> {
    format!(
        "From: Fabrikam IT <{SENDER}>\r\nTo: =?utf-8?b?QmrDtnJu?= <user{i}@fabrikam.com>\r\nSubject: Your OneDrive has moved\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHej Bj\u{f6}rn {i},\r\nsign in with your new account.\r\n.\r\n"
    )
    .into_bytes()
}

fn bearer(r: &standin::Received) -> String {
    r.header("authorization")
        .unwrap_or("")
        .trim_start_matches("Bearer ")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_posts_base64_mime_exactly_as_documented() {
    let standin = StandIn::start(Some(SECRET)).await;
    let (graph, _) = graph(&standin, secret());
    let accepted = graph.send(&envelope(1), &message(1)).await.unwrap();
    assert_eq!(accepted.reply, "202 Accepted (request-id standin-req)");

    let requests = standin.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let token = &requests[0];
    assert_eq!(
        (token.method.as_str(), token.path.as_str()),
        ("POST", standin.token_path().as_str())
    );
    assert_eq!(
        token.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let mut form = token.form();
    form.sort();
    assert_eq!(
        form,
        vec![
            ("client_id".to_string(), CLIENT_ID.to_string()),
            ("client_secret".to_string(), SECRET.to_string()),
            ("grant_type".to_string(), "client_credentials".to_string()),
            (
                "scope".to_string(),
                "https://graph.microsoft.com/.default".to_string()
            ),
        ]
    );

    let send = &requests[1];
    assert_eq!(
        (send.method.as_str(), send.path.as_str()),
        ("POST", format!("/v1.0/users/{SENDER}/sendMail").as_str())
    );
    assert_eq!(
        send.header("authorization"),
        Some(format!("Bearer tok-{}-1", nonce(&standin)).as_str())
    );
    assert_eq!(send.header("content-type"), Some("text/plain"));
    assert_eq!(
        send.header("content-length"),
        Some(send.body.len().to_string().as_str())
    );
    assert_eq!(send.header("transfer-encoding"), None);
    let request_id = send.header("client-request-id").unwrap();
    assert!(
        t2t_notify::inputs::address::is_guid(request_id),
        "{request_id}"
    );
    assert_eq!(
        STANDARD.decode(&send.body).unwrap(),
        message(1),
        "the body must decode to the rendered bytes"
    );
}

fn nonce(standin: &StandIn) -> String {
    let first = standin.with(|s| s.issued[0].clone());
    first
        .trim_start_matches("tok-")
        .rsplit_once('-')
        .unwrap()
        .0
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_share_one_token() {
    let standin = StandIn::start(Some(SECRET)).await;
    let (graph, _) = graph(&standin, secret());
    let graph = Arc::new(graph);
    let sends = (0..8).map(|i| {
        let g = Arc::clone(&graph);
        tokio::spawn(async move { g.send(&envelope(i), &message(i)).await })
    });
    for send in sends.collect::<Vec<_>>() {
        send.await.unwrap().unwrap();
    }
    assert_eq!(standin.requests_to(&standin.token_path()).len(), 1);
    assert_eq!(standin.requests_to(&standin.send_path()).len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_lived_tokens_are_refreshed_before_use() {
    let standin = StandIn::start(Some(SECRET)).await;
    // expires_in shorter than the refresh margin: every send needs a fresh token.
    standin.with(|s| s.expires_in = 60);
    let (graph, _) = graph(&standin, secret());
    for i in 0..3 {
        graph.send(&envelope(i), &message(i)).await.unwrap();
    }
    let sends = standin.requests_to(&standin.send_path());
    let used: Vec<String> = sends.iter().map(bearer).collect();
    let issued = standin.with(|s| s.issued.clone());
    assert_eq!(issued.len(), 3);
    assert_eq!(
        used, issued,
        "each send used the token issued just before it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_refresh_keeps_using_an_unexpired_token() {
    let standin = StandIn::start(Some(SECRET)).await;
    standin.with(|s| s.expires_in = 120); // inside the refresh margin, but not expired
    let (graph, _) = graph(&standin, secret());
    graph.send(&envelope(1), &message(1)).await.unwrap();
    standin.with(|s| s.token_script.push_back(Scripted::status(503, "")));
    graph.send(&envelope(2), &message(2)).await.unwrap();
    let issued = standin.with(|s| s.issued.clone());
    assert_eq!(issued.len(), 1);
    let used: Vec<String> = standin
        .requests_to(&standin.send_path())
        .iter()
        .map(bearer)
        .collect();
    assert_eq!(used, vec![issued[0].clone(), issued[0].clone()]);
    assert_eq!(
        standin.requests_to(&standin.token_path()).len(),
        2,
        "the refresh was tried"
    );
    standin.with(|s| s.token_script.push_back(Scripted::status(400, r#"{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys are expired."}"#)));
    let err = graph.send(&envelope(3), &message(3)).await.unwrap_err();
    assert_eq!(
        err.class,
        FailureClass::Fatal,
        "a refusal is not papered over: {}",
        err.reply
    );
    assert!(err.reply.contains("AADSTS7000222"), "{}", err.reply);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_honours_retry_after_in_both_forms() {
    let standin = StandIn::start(Some(SECRET)).await;
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
    standin.script_graph([
        Scripted::graph_error(
            429,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
        )
        .with_header("retry-after", "7"),
        Scripted::status(503, "").with_header("retry-after", &date),
    ]);
    let (graph, _) = graph(&standin, secret());
    let throttled = graph.send(&envelope(1), &message(1)).await.unwrap_err();
    assert_eq!(throttled.class, FailureClass::Transient);
    assert_eq!(throttled.retry_after, Some(Duration::from_secs(7)));
    assert!(
        throttled
            .reply
            .contains("429 Too Many Requests: ApplicationThrottled"),
        "{}",
        throttled.reply
    );
    assert!(!throttled.maybe_delivered);
    let unavailable = graph.send(&envelope(1), &message(1)).await.unwrap_err();
    assert_eq!(unavailable.class, FailureClass::Transient);
    let wait = unavailable.retry_after.unwrap();
    assert!(
        wait <= Duration::from_secs(120) && wait >= Duration::from_secs(60),
        "{wait:?}"
    );
    graph.send(&envelope(1), &message(1)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_token_is_replaced_once() {
    let standin = StandIn::start(Some(SECRET)).await;
    let (graph, _) = graph(&standin, secret());
    graph.send(&envelope(1), &message(1)).await.unwrap();
    let first = standin.with(|s| s.issued[0].clone());
    standin.with(|s| s.revoked.insert(first.clone()));
    let accepted = graph.send(&envelope(2), &message(2)).await.unwrap();
    assert!(accepted.reply.starts_with("202"));
    let second = standin.with(|s| s.issued[1].clone());
    let seen: Vec<(String, String)> = standin
        .requests()
        .iter()
        .map(|r| (r.path.clone(), bearer(r)))
        .collect();
    let (token, send) = (standin.token_path(), standin.send_path());
    assert_eq!(
        seen,
        vec![
            (token.clone(), String::new()),
            (send.clone(), first.clone()),
            (send.clone(), first),
            (token, String::new()),
            (send, second),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_refused_twice_stops_the_run() {
    let standin = StandIn::start(Some(SECRET)).await;
    standin.with(|s| s.refuse_all = true);
    let (graph, _) = graph(&standin, secret());
    let err = graph.send(&envelope(1), &message(1)).await.unwrap_err();
    assert_eq!(err.class, FailureClass::Fatal);
    assert!(
        err.reply.contains("InvalidAuthenticationToken"),
        "{}",
        err.reply
    );
    assert!(
        err.reply.contains("a fresh token was refused too"),
        "{}",
        err.reply
    );
    assert_eq!(standin.requests_to(&standin.token_path()).len(), 2);
    assert_eq!(standin.requests_to(&standin.send_path()).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_error_codes_decide_user_or_run() {
    let standin = StandIn::start(Some(SECRET)).await;
    standin.script_graph([
        Scripted::graph_error(
            400,
            "ErrorInvalidRecipients",
            "At least one recipient isn't valid.",
        ),
        Scripted::graph_error(
            403,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        ),
    ]);
    let (graph, _) = graph(&standin, secret());
    let user = graph.send(&envelope(1), &message(1)).await.unwrap_err();
    assert_eq!(user.class, FailureClass::Permanent);
    assert_eq!(
        user.reply,
        "400 Bad Request: ErrorInvalidRecipients: At least one recipient isn't valid."
    );
    let run = graph.send(&envelope(2), &message(2)).await.unwrap_err();
    assert_eq!(run.class, FailureClass::Fatal);
    assert!(
        run.reply
            .starts_with("403 Forbidden: ErrorAccessDenied: Access is denied."),
        "{}",
        run.reply
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_shows_the_aadsts_code_never_the_secret() {
    let standin = StandIn::start(Some("the-right-one")).await;
    let (graph, _) = graph(&standin, secret());
    let err = graph.send(&envelope(1), &message(1)).await.unwrap_err();
    assert_eq!(err.class, FailureClass::Fatal);
    assert!(
        err.reply
            .contains("invalid_client: AADSTS7000215: Invalid client secret provided. Trace ID: t"),
        "{}",
        err.reply
    );
    assert!(!err.reply.contains(SECRET));
    assert!(standin.requests_to(&standin.send_path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_assertion_verifies_with_the_certificate() {
    let standin = StandIn::start(None).await;
    let fixtures = crate::harness::fixture("oauth");
    let cert = CertificateCredential::load(
        &fixtures.join("test-cert.pem"),
        &fixtures.join("test-key.pem"),
    )
    .unwrap();
    let (graph, _) = graph(&standin, Credential::Certificate(Arc::new(cert)));
    graph.send(&envelope(1), &message(1)).await.unwrap();

    let token = &standin.requests_to(&standin.token_path())[0];
    assert_eq!(token.field("client_secret"), None);
    assert_eq!(
        token.field("client_assertion_type").as_deref(),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    let jwt = token.field("client_assertion").unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let json = |p: &str| -> serde_json::Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .unwrap(),
        )
        .unwrap()
    };
    let header = json(parts[0]);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["x5t"], "Jegz9rqYJqSfIisvZNfT8jV-iQg");
    assert_eq!(
        header["x5t#S256"],
        "oUFHMBLXzobMosstV5Es3MzVy_NNFrYeP7lBrv1pVxk"
    );
    let claims = json(parts[1]);
    assert_eq!(
        claims["aud"],
        format!("{}/{TENANT}/oauth2/v2.0/token", standin.url())
    );
    assert_eq!(
        (claims["iss"].as_str(), claims["sub"].as_str()),
        (Some(CLIENT_ID), Some(CLIENT_ID))
    );
    assert!(t2t_notify::inputs::address::is_guid(
        claims["jti"].as_str().unwrap()
    ));
    let (nbf, exp) = (
        claims["nbf"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert_eq!(exp - nbf, 600);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(nbf.abs_diff(now) < 3600, "nbf {nbf} is not about now {now}");

    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    assert!(openssl_verifies(
        &fixtures.join("test-cert.pem"),
        signed.as_bytes(),
        signature
    ));
    let mut tampered = claims.clone();
    tampered["sub"] = "00000000-0000-0000-0000-000000000000".into();
    let tampered = format!(
        "{}.{}",
        parts[0],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tampered.to_string())
    );
    assert!(!openssl_verifies(
        &fixtures.join("test-cert.pem"),
        tampered.as_bytes(),
        signature
    ));
}

/// Verifies an RS256 signature with the certificate's public key using the openssl command.
fn openssl_verifies(cert: &Path, signed: &[u8], signature_b64url: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("public.pem");
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-pubkey", "-in"])
        .arg(cert)
        .output()
        .expect("openssl is installed (CI installs it)");
    std::fs::write(&public, out.stdout).unwrap();
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature_b64url)
        .unwrap();
    std::fs::write(dir.path().join("sig.bin"), signature).unwrap();
    std::fs::write(dir.path().join("signed.txt"), signed).unwrap();
    std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&public)
        .arg("-signature")
        .arg(dir.path().join("sig.bin"))
        .arg(dir.path().join("signed.txt"))
        .output()
        .unwrap()
        .status
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_is_transient_and_maybe_delivered_only_after_the_body_went_out() {
    let standin = StandIn::start(Some(SECRET)).await;
    standin.script_graph([Scripted::Hang]);
    let tokens = Arc::new(
        TokenProvider::new(oauth(
            &standin,
            secret(),
            "https://graph.microsoft.com/.default",
        ))
        .unwrap(),
    );
    let slow = GraphTransport::new(
        &graph_settings(&standin.url(), Duration::from_secs(1)),
        Arc::clone(&tokens),
    )
    .unwrap();
    let hung = slow.send(&envelope(1), &message(1)).await.unwrap_err();
    assert_eq!(hung.class, FailureClass::Transient);
    assert!(hung.maybe_delivered, "{}", hung.reply);
    assert!(
        hung.reply
            .starts_with("no answer in time from Microsoft Graph"),
        "{}",
        hung.reply
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nobody = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable =
        GraphTransport::new(&graph_settings(&nobody, Duration::from_secs(5)), tokens).unwrap();
    let refused = unreachable
        .send(&envelope(1), &message(1))
        .await
        .unwrap_err();
    assert_eq!(refused.class, FailureClass::Transient);
    assert!(!refused.maybe_delivered, "{}", refused.reply);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_four_requests_per_mailbox_are_in_flight() {
    let standin = StandIn::start(Some(SECRET)).await;
    let (graph, _) = graph(&standin, secret());
    let graph = Arc::new(graph);
    graph.send(&envelope(0), &message(0)).await.unwrap(); // token fetched outside the gate
    standin.close_gate();
    let sends: Vec<_> = (1..=10)
        .map(|i| {
            let g = Arc::clone(&graph);
            tokio::spawn(async move { g.send(&envelope(i), &message(i)).await })
        })
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while standin.with(|s| s.in_flight) < 4 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Give extra requests a chance to show up if the limit were broken.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(standin.with(|s| s.in_flight), 4);
    standin.open_gate();
    for send in sends {
        send.await.unwrap().unwrap();
    }
    assert_eq!(standin.with(|s| s.max_in_flight), 4);
    assert_eq!(standin.requests_to(&standin.send_path()).len(), 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logs_never_show_the_secret_or_a_token() {
    let logs = log_capture::install();
    let standin = StandIn::start(Some(SECRET)).await;
    let (graph, _) = graph(&standin, secret());
    graph.send(&envelope(1), &message(1)).await.unwrap();
    let first = standin.with(|s| s.issued[0].clone());
    standin.with(|s| s.revoked.insert(first));
    graph.send(&envelope(2), &message(2)).await.unwrap();
    let (smtp_tokens, smtp, xoauth2) = smtp_setup().await;
    smtp.seen.lock().unwrap().refuse_next = 1;
    xoauth2.send(&envelope(3), &message(3)).await.unwrap();

    let text = logs.text();
    assert!(
        text.contains("Authorization: Bearer <redacted>"),
        "our request log is captured:\n{text}"
    );
    assert!(
        text.contains("oauth: POST"),
        "token requests are logged:\n{text}"
    );
    assert!(
        text.contains("smtp: building connections for token 2"),
        "SMTP logs are captured:\n{text}"
    );
    assert!(
        text.contains("reqwest"),
        "dependencies' logs are captured too:\n{text}"
    );
    for secret in [SECRET.to_string(), urlencoded(SECRET)] {
        assert!(
            !text.contains(&secret),
            "the client secret leaked into the logs"
        );
    }
    let sasl: Vec<String> = smtp.seen.lock().unwrap().auth.clone();
    assert_eq!(sasl.len(), 2);
    for sasl in sasl {
        assert!(
            !text.contains(&STANDARD.encode(&sasl)),
            "an XOAUTH2 AUTH line leaked into the logs"
        );
    }
    for standin in [&standin, &smtp_tokens] {
        for token in standin.with(|s| s.issued.clone()) {
            assert!(!text.contains(&token), "token {token} leaked into the logs");
        }
        assert!(
            !text.contains(&nonce(standin)),
            "part of a token leaked into the logs"
        );
    }
}

fn urlencoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A process-wide tracing subscriber at TRACE for every crate (and `log` records), writing
/// into memory.
mod log_capture {
    use std::io::Write;
    use std::sync::{Arc, Mutex, OnceLock};

    #[derive(Clone, Default)]
    pub struct Logs(Arc<Mutex<Vec<u8>>>);

    impl Logs {
        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    impl Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    pub fn install() -> Logs {
        static LOGS: OnceLock<Logs> = OnceLock::new();
        LOGS.get_or_init(|| {
            let logs = Logs::default();
            let writer = logs.clone();
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .try_init()
                .expect("no other test installs a global subscriber");
            logs
        })
        .clone()
    }
}

async fn smtp_setup() -> (StandIn, SmtpStandIn, SmtpTransport) {
    let standin = StandIn::start(Some(SECRET)).await;
    standin.with(|s| s.scope = OUTLOOK_SCOPE.into());
    let smtp = SmtpStandIn::start(standin.clone(), SENDER).await;
    let tokens = Arc::new(TokenProvider::new(oauth(&standin, secret(), OUTLOOK_SCOPE)).unwrap());
    let settings = SmtpSettings {
        host: "127.0.0.1".into(),
        port: smtp.addr.port(),
        security: t2t_notify::config::Security::None,
        auth: None,
        ca_file: None,
        timeout: Duration::from_secs(20),
    };
    let transport = SmtpTransport::with_xoauth2(settings, 4, SENDER, tokens).unwrap();
    (standin, smtp, transport)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xoauth2_sends_the_documented_sasl_string() {
    let (standin, smtp, transport) = smtp_setup().await;
    for i in 1..=2 {
        let accepted = transport.send(&envelope(i), &message(i)).await.unwrap();
        assert_eq!(accepted.reply, "250 2.0.0 OK queued as STANDIN");
    }
    let token = standin.with(|s| s.issued.clone());
    assert_eq!(token.len(), 1, "one token for both messages");
    let seen = smtp.seen.lock().unwrap();
    assert_eq!(
        seen.auth[0],
        format!("user={SENDER}\x01auth=Bearer {}\x01\x01", token[0])
    );
    assert_eq!(seen.messages.len(), 2);
    assert_eq!(seen.messages[1].0, SENDER);
    assert_eq!(seen.messages[1].1, vec!["user2@fabrikam.com".to_string()]);
    assert_eq!(
        seen.messages[1].2,
        message(2),
        "the content arrives exactly as rendered"
    );
    let form = &standin.requests_to(&standin.token_path())[0];
    assert_eq!(
        form.field("scope").as_deref(),
        Some("https://outlook.office365.com/.default")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xoauth2_535_gets_one_fresh_token() {
    let (standin, smtp, transport) = smtp_setup().await;
    smtp.seen.lock().unwrap().refuse_next = 1;
    transport.send(&envelope(1), &message(1)).await.unwrap();
    let issued = standin.with(|s| s.issued.clone());
    assert_eq!(issued.len(), 2);
    let seen = smtp.seen.lock().unwrap();
    let used: Vec<&str> = seen
        .auth
        .iter()
        .map(|a| a.trim_end_matches('\x01').rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(used, vec![issued[0].as_str(), issued[1].as_str()]);
    assert_eq!(seen.messages.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xoauth2_535_twice_stops_the_run() {
    let (standin, smtp, transport) = smtp_setup().await;
    smtp.seen.lock().unwrap().refuse_next = 2;
    let err = transport.send(&envelope(1), &message(1)).await.unwrap_err();
    assert_eq!(err.class, FailureClass::Fatal);
    assert!(err.reply.contains("535"), "{}", err.reply);
    assert!(err.reply.contains("SMTP.SendAsApp"), "{}", err.reply);
    assert_eq!(standin.with(|s| s.issued.len()), 2);
    assert!(smtp.seen.lock().unwrap().messages.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xoauth2_a_connection_lost_before_the_content_is_retried_after_it_is_uncertain() {
    let (_standin, smtp, transport) = smtp_setup().await;
    smtp.seen.lock().unwrap().drop_at = Some(DropAt::Data);
    let err = transport.send(&envelope(1), &message(1)).await.unwrap_err();
    assert_eq!(
        (err.class, err.maybe_delivered),
        (FailureClass::Transient, false),
        "nothing of the message had left: it is retried: {err:?}"
    );
    assert!(smtp.seen.lock().unwrap().messages.is_empty());
    smtp.seen.lock().unwrap().drop_at = Some(DropAt::Content);
    let err = transport.send(&envelope(1), &message(1)).await.unwrap_err();
    assert_eq!(
        (err.class, err.maybe_delivered),
        (FailureClass::Transient, true),
        "the content had left: the user is uncertain, never retried blindly: {err:?}"
    );
    assert!(
        err.reply.contains("may have been delivered"),
        "{}",
        err.reply
    );
    assert_eq!(smtp.seen.lock().unwrap().messages.len(), 1);
}
