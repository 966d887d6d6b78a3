//! Settings checks and failure mapping of the SMTP transport (the real-server tests live in
//! `tests/testsuite/smtp.rs`).

use super::*;

fn transport(host: &str, security: Security) -> config::Transport {
    config::Transport {
        kind: config::TransportKind::Smtp,
        host: Some(host.into()),
        security,
        ..config::Transport::default()
    }
}

#[test]
fn security_none_is_only_for_this_machine() {
    for host in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.53"] {
        SmtpSettings::from_config(&transport(host, Security::None)).unwrap();
    }
    let err =
        SmtpSettings::from_config(&transport("smtp.office365.com", Security::None)).unwrap_err();
    assert!(matches!(err, SmtpConfigError::Insecure(_)));
    assert!(err.to_string().contains("starttls"), "{err}");
}

/// The port follows the security when none is set, and the description names both.
#[test]
fn ports_default_by_security_and_describe_names_scheme_host_and_port() {
    for (security, port, described) in [
        (Security::Starttls, 587, "smtp+starttls://127.0.0.1:587"),
        (Security::Tls, 465, "smtps://127.0.0.1:465"),
        (Security::None, 25, "smtp://127.0.0.1:25"),
    ] {
        let settings = SmtpSettings::from_config(&transport("127.0.0.1", security)).unwrap();
        assert_eq!(settings.port, port, "{security:?}");
        assert_eq!(settings.describe(), described);
    }
    let settings = SmtpSettings::from_config(&transport("127.0.0.1", Security::None)).unwrap();
    let transport = SmtpTransport::new(settings).unwrap();
    assert_eq!(transport.describe(), "smtp://127.0.0.1:25");
}

#[test]
fn login_needs_a_username_and_a_password_variable() {
    let mut t = transport("smtp.office365.com", Security::Starttls);
    t.auth = SmtpAuth::Login;
    assert!(matches!(
        SmtpSettings::from_config(&t),
        Err(SmtpConfigError::MissingUsername("login"))
    ));
    t.username = Some("it-migration@fabrikam.com".into());
    assert!(matches!(
        SmtpSettings::from_config(&t),
        Err(SmtpConfigError::MissingPasswordEnv("login"))
    ));
    t.password_env = Some("T2T_TEST_SMTP_PASSWORD_SURELY_UNSET".into());
    let err = SmtpSettings::from_config(&t).unwrap_err();
    assert!(
        err.to_string()
            .contains("T2T_TEST_SMTP_PASSWORD_SURELY_UNSET"),
        "{err}"
    );
}

#[test]
fn the_password_never_shows_in_debug_output() {
    let mut t = transport("smtp.office365.com", Security::Starttls);
    t.auth = SmtpAuth::Plain;
    t.username = Some("it@fabrikam.com".into());
    t.password_env = Some("PATH".into());
    let settings = SmtpSettings::from_config(&t).unwrap();
    let path = std::env::var("PATH").unwrap();
    assert!(!format!("{settings:?}").contains(&path));
}

#[test]
fn password_settings_leave_xoauth2_to_its_own_builder() {
    let mut t = transport("smtp.office365.com", Security::Starttls);
    t.auth = SmtpAuth::Xoauth2;
    assert!(matches!(
        SmtpSettings::from_config(&t),
        Err(SmtpConfigError::Xoauth2)
    ));
}

#[test]
fn a_ca_file_that_is_not_a_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("ca.pem");
    std::fs::write(&bad, "hello").unwrap();
    let mut t = transport("mail.fabrikam.com", Security::Starttls);
    t.ca_file = Some(bad);
    let refusal = |t: &config::Transport| {
        let settings = SmtpSettings::from_config(t).unwrap();
        SmtpTransport::new(settings).err().unwrap()
    };
    let err = refusal(&t);
    assert!(
        matches!(err, SmtpConfigError::CaFileInvalid { .. }),
        "{err}"
    );
    t.ca_file = Some(dir.path().join("missing.pem"));
    let err = refusal(&t);
    assert!(matches!(err, SmtpConfigError::CaFileRead { .. }), "{err}");
}

/// A lost connection is fatal only while the server never accepted anything, and may have
/// delivered the message only when it was lost after the content was sent.
#[test]
fn what_a_lost_connection_means_depends_on_the_phase() {
    use FailureClass::{Fatal, Transient};
    // (phase, first contact, class, maybe delivered)
    for (phase, first, class, maybe) in [
        (Phase::Connect, true, Fatal, false),
        (Phase::Connect, false, Transient, false),
        (Phase::Mail, false, Transient, false),
        (Phase::Rcpt, false, Transient, false),
        (Phase::Data, false, Transient, false),
        (Phase::Content, false, Transient, true),
    ] {
        let e = lost(phase, first, "h:25", "eof".into());
        let got = (e.class, e.maybe_delivered);
        assert_eq!(got, (class, maybe), "{phase:?}, first contact {first}");
    }
    let first = lost(Phase::Connect, true, "h:25", "refused".into());
    assert!(first.reply.contains("host, port"), "{}", first.reply);
}
