//! The SMTP transport against real servers on 127.0.0.1: Postfix's smtp-sink with its fault
//! options, an aiosmtpd server with STARTTLS and AUTH behind a private CA, and a scripted peer
//! that counts sessions.

use std::sync::Arc;
use std::time::Duration;

use t2t_notify::config::Security;
use t2t_notify::secret::Secret;
use t2t_notify::transport::smtp::{SmtpSettings, SmtpTransport};
use t2t_notify::transport::{Envelope, FailureClass, SendError, Transport};

use crate::sink::Sink;
use crate::smtp_peer::Peer;
use crate::tls_server::{TestPki, TlsServer};

fn settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: Security::None,
        auth: None,
        ca_file: None,
        timeout: Duration::from_secs(10),
    }
}

fn plain(port: u16) -> SmtpTransport {
    SmtpTransport::new(settings(port)).unwrap()
}

/// Sends to `n` recipients at once over at most `connections` sessions; the outcomes in the
/// order of the recipients.
fn send_all(port: u16, connections: usize, n: usize) -> Vec<Result<String, SendError>> {
    let t = Arc::new(SmtpTransport::with_connections(settings(port), connections).unwrap());
    block(async move {
        let mut sends = tokio::task::JoinSet::new();
        for i in 0..n {
            let t = Arc::clone(&t);
            sends.spawn(async move { (i, send(&t, &format!("user{i}@fabrikam.com")).await) });
        }
        let mut outcomes = sends.join_all().await;
        outcomes.sort_by_key(|(i, _)| *i);
        t.shutdown().await;
        outcomes.into_iter().map(|(_, outcome)| outcome).collect()
    })
}

fn envelope(to: &str) -> Envelope {
    Envelope {
        from: "it-migration@fabrikam.com".into(),
        to: vec![to.into()],
    }
}

const MESSAGE: &[u8] = b"From: it-migration@fabrikam.com\r\nTo: ana@fabrikam.com\r\nSubject: Your OneDrive has moved\r\nMessage-ID: <1@t2t>\r\n\r\nHello Ana\r\n.leading dot\r\n";

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

async fn send(t: &SmtpTransport, to: &str) -> Result<String, SendError> {
    t.send(&envelope(to), MESSAGE).await.map(|a| a.reply)
}

#[test]
fn delivers_over_one_reused_session() {
    let sink = Sink::start();
    let t = plain(sink.port);
    block(async {
        for i in 0..5 {
            let reply = send(&t, &format!("user{i}@fabrikam.com")).await.unwrap();
            assert!(reply.starts_with("250"), "{reply}");
        }
        t.shutdown().await;
    });
    let deliveries = sink.deliveries();
    assert_eq!(deliveries.len(), 5);
    assert!(deliveries.values().all(|n| *n == 1));
    let text = &sink.messages()[0].text;
    assert!(
        text.contains("\n.leading dot"),
        "dot-stuffing undone by the server: {text}"
    );
}

fn failure(sink: &Sink) -> SendError {
    block(send(&plain(sink.port), "ana@fabrikam.com")).unwrap_err()
}

#[test]
fn soft_rejects_are_transient_and_surely_not_delivered() {
    for command in ["RCPT", "DATA", "."] {
        let sink = Sink::options().soft_reject(command).start();
        let e = failure(&sink);
        assert_eq!(
            (e.class, e.maybe_delivered),
            (FailureClass::Transient, false),
            "-r {command}: {e:?}"
        );
        assert!(e.reply.starts_with("450 4.3.0"), "{}", e.reply);
        if command != "." {
            // smtp-sink dumps a transaction as it reads it, even one it then rejects at ".".
            assert!(sink.messages().is_empty(), "-r {command}");
        }
    }
}

#[test]
fn a_hard_reject_fails_the_user_with_the_reply() {
    let sink = Sink::options()
        .hard_reject("RCPT")
        .hard_reply("550 5.1.1 <ana@fabrikam.com>: Recipient address rejected: User unknown")
        .start();
    let t = plain(sink.port);
    block(async {
        let e = send(&t, "ana@fabrikam.com").await.unwrap_err();
        assert_eq!(e.class, FailureClass::Permanent);
        assert!(
            e.reply.contains("5.1.1") && e.reply.contains("User unknown"),
            "{}",
            e.reply
        );
    });
}

#[test]
fn a_421_after_the_message_is_quota() {
    let sink = Sink::options().reply_421_after(".").start();
    let e = failure(&sink);
    assert_eq!(e.class, FailureClass::Quota, "{e:?}");
    assert!(!e.maybe_delivered, "the server answered: not accepted");
}

#[test]
fn a_disconnect_before_the_content_is_retried_after_it_is_uncertain() {
    let sink = Sink::options().disconnect_after("DATA").start();
    let first = plain(sink.port);
    // Once something was accepted a dropped connection is a passing problem; before, too.
    let e = block(send(&first, "ana@fabrikam.com")).unwrap_err();
    assert_eq!(
        (e.class, e.maybe_delivered),
        (FailureClass::Transient, false),
        "{e:?}"
    );
    let sink = Sink::options().disconnect_after(".").start();
    let e = failure(&sink);
    assert_eq!(
        (e.class, e.maybe_delivered),
        (FailureClass::Transient, true),
        "{e:?}"
    );
    assert!(e.reply.contains("may have been delivered"), "{}", e.reply);
}

#[test]
fn nobody_listening_is_fatal_with_what_to_check() {
    let port = crate::sink::free_port();
    let e = block(send(&plain(port), "ana@fabrikam.com")).unwrap_err();
    assert_eq!(e.class, FailureClass::Fatal);
    assert!(
        e.reply.contains("check [transport] host, port"),
        "{}",
        e.reply
    );
}

fn starttls(port: u16, ca_file: Option<std::path::PathBuf>, password: &str) -> SmtpTransport {
    SmtpTransport::new(SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: Security::Starttls,
        auth: Some((
            lettre::transport::smtp::authentication::Mechanism::Login,
            "it-migration@fabrikam.com".into(),
            Secret::new(password),
        )),
        ca_file,
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

#[test]
fn starttls_verifies_the_certificate_and_accepts_a_private_ca() {
    let pki = TestPki::new();
    let server = TlsServer::start(&pki, "it-migration@fabrikam.com", "correct horse");
    let untrusted = block(send(
        &starttls(server.port, None, "correct horse"),
        "ana@fabrikam.com",
    ))
    .unwrap_err();
    assert_eq!(untrusted.class, FailureClass::Fatal, "{untrusted:?}");
    assert!(
        untrusted.reply.contains("TLS") && untrusted.reply.contains("ca_file"),
        "{}",
        untrusted.reply
    );
    let trusted = starttls(server.port, Some(pki.ca()), "correct horse");
    block(async {
        send(&trusted, "ana@fabrikam.com").await.unwrap();
        send(&trusted, "jose@fabrikam.com").await.unwrap();
    });
    assert_eq!(server.received(), ["ana@fabrikam.com", "jose@fabrikam.com"]);
}

#[test]
fn a_wrong_password_is_fatal_and_never_shown() {
    let pki = TestPki::new();
    let server = TlsServer::start(&pki, "it-migration@fabrikam.com", "correct horse");
    let e = block(send(
        &starttls(server.port, Some(pki.ca()), "battery staple"),
        "ana@fabrikam.com",
    ))
    .unwrap_err();
    assert_eq!(e.class, FailureClass::Fatal, "{e:?}");
    assert!(e.reply.starts_with("535 5.7.3"), "{}", e.reply);
    assert!(e.reply.contains("password_env"), "{}", e.reply);
    assert!(!format!("{e:?}").contains("battery staple"));
    assert!(server.received().is_empty());
}

#[test]
fn messages_beyond_the_connections_wait_for_a_free_session() {
    let peer = Peer::start();
    let outcomes = send_all(peer.port, 2, 30);
    assert!(outcomes.iter().all(|o| o.is_ok()), "{outcomes:?}");
    assert_eq!(
        peer.count(|s| &s.sessions),
        2,
        "no more sessions than asked"
    );
    assert_eq!(peer.count(|s| &s.messages), 30);
}

#[test]
fn a_server_that_drops_after_each_content_still_gets_every_message_once() {
    let sink = Sink::options().disconnect_after(".").start();
    let outcomes = send_all(sink.port, 1, 5);
    for outcome in &outcomes {
        let e = outcome.as_ref().unwrap_err();
        assert_eq!(
            (e.class, e.maybe_delivered),
            (FailureClass::Transient, true),
            "each content left once and its answer was lost: {e:?}"
        );
    }
    let deliveries = sink.deliveries();
    assert_eq!(deliveries.len(), 5, "{deliveries:?}");
    assert!(deliveries.values().all(|n| *n == 1), "{deliveries:?}");
}

#[test]
fn one_connection_more_than_the_server_allows_lowers_the_connections_and_sends_on() {
    let peer = Peer::limiting_connections(2);
    let t = Arc::new(SmtpTransport::with_connections(settings(peer.port), 3).unwrap());
    let outcomes = block({
        let t = Arc::clone(&t);
        async move {
            let mut sends = tokio::task::JoinSet::new();
            for i in 0..30 {
                let t = Arc::clone(&t);
                sends.spawn(async move { send(&t, &format!("user{i}@fabrikam.com")).await });
            }
            let outcomes = sends.join_all().await;
            t.shutdown().await;
            outcomes
        }
    });
    assert!(
        outcomes.iter().all(|o| o.is_ok()),
        "no message paused or failed: {outcomes:?}"
    );
    assert_eq!(peer.count(|s| &s.messages), 30);
    assert!(
        peer.count(|s| &s.refused) >= 1,
        "the third connection was refused"
    );
    assert_eq!(peer.count(|s| &s.sessions), 2, "never tried a third again");
    let notes = t.notes();
    assert_eq!(notes.len(), 1, "said once: {notes:?}");
    assert!(notes[0].contains("432 4.3.2"), "{}", notes[0]);
    assert!(notes[0].contains("on the 2 connections"), "{}", notes[0]);
}
