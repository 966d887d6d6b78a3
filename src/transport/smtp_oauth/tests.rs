use super::*;

#[test]
fn initial_response_is_the_documented_sasl_string() {
    let r = xoauth2_initial_response("it-migration@fabrikam.com", &Secret::new("eyJ0.abc"));
    assert_eq!(
        r.expose(),
        "user=it-migration@fabrikam.com\x01auth=Bearer eyJ0.abc\x01\x01"
    );
    assert!(!format!("{r:?}").contains("eyJ0"));
}

#[test]
fn lettre_builds_the_same_string() {
    let creds = Credentials::new("it-migration@fabrikam.com".into(), "eyJ0.abc".into());
    let lettre = Mechanism::Xoauth2.response(&creds, None).unwrap();
    let ours = xoauth2_initial_response("it-migration@fabrikam.com", &Secret::new("eyJ0.abc"));
    assert_eq!(lettre, ours.expose());
}

fn failure(code: Option<u16>, text: &str) -> SendError {
    classify_failure(&SmtpFailure {
        code,
        text,
        tls: false,
        client: false,
    })
}

#[test]
fn documented_exchange_replies() {
    let quota = failure(Some(554), "permanent error (554): 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException");
    assert_eq!(quota.class, FailureClass::Quota);
    assert_eq!(
        failure(
            Some(432),
            "transient error (432): 4.3.2 Concurrent connections limit exceeded"
        )
        .class,
        FailureClass::Quota
    );
    assert_eq!(
        failure(
            Some(535),
            "permanent error (535): 5.7.3 Authentication unsuccessful"
        )
        .class,
        FailureClass::Fatal
    );
    assert_eq!(failure(Some(550), "permanent error (550): 5.7.30 Basic authentication is not supported for Client Submission").class, FailureClass::Fatal);
    assert_eq!(
        failure(Some(421), "transient error (421): 4.7.66 try later").class,
        FailureClass::Transient
    );
    let unknown = failure(Some(550), "permanent error (550): 5.1.1 User unknown");
    assert_eq!(unknown.class, FailureClass::Permanent);
    assert!(!unknown.maybe_delivered);
}

#[test]
fn lost_connections_may_have_delivered_but_local_errors_did_not() {
    let lost = failure(None, "network error: connection reset");
    assert_eq!(lost.class, FailureClass::Transient);
    assert!(lost.maybe_delivered);
    let local = classify_failure(&SmtpFailure {
        code: None,
        text: "internal client error: No compatible authentication mechanism was found",
        tls: false,
        client: true,
    });
    assert_eq!(local.class, FailureClass::Fatal);
    assert!(!local.maybe_delivered);
    let tls = classify_failure(&SmtpFailure {
        code: None,
        text: "tls error",
        tls: true,
        client: false,
    });
    assert_eq!(tls.class, FailureClass::Fatal);
}

#[test]
fn bad_addresses_fail_the_user() {
    let e = lettre_envelope(&Envelope {
        from: "it@fabrikam.com".into(),
        to: vec!["not an address".into()],
    })
    .unwrap_err();
    assert_eq!(e.class, FailureClass::Permanent);
    assert!(e.reply.contains("recipient `not an address`"));
}

#[test]
fn xoauth2_user_is_username_else_sender() {
    std::env::set_var("T2T_TEST_SMTP_OAUTH_SECRET", "v");
    let keys = "tenant_id = \"3c9d1e7a-5b2f-4a68-9e0d-7f4b2c8a6d15\"\nclient_id = \"0b7c2f6e-1d3a-4e5b-9c8d-7a6f5e4d3c2b\"\nclient_secret_env = \"T2T_TEST_SMTP_OAUTH_SECRET\"\nauth = \"xoauth2\"";
    let t: crate::config::Transport =
        toml::from_str(&format!("{keys}\nsender = \"notices@fabrikam.com\"")).unwrap();
    let (tokens, user) = oauth_from_config(&t).unwrap();
    assert_eq!(user, "notices@fabrikam.com");
    assert_eq!(tokens.scope(), "https://outlook.office365.com/.default");
    let t: crate::config::Transport = toml::from_str(&format!(
        "{keys}\nsender = \"a@fabrikam.com\"\nusername = \"b@fabrikam.com\""
    ))
    .unwrap();
    assert_eq!(oauth_from_config(&t).unwrap().1, "b@fabrikam.com");
    let t: crate::config::Transport = toml::from_str("auth = \"xoauth2\"").unwrap();
    let problems = oauth_from_config(&t).unwrap_err().join("\n");
    assert!(problems.contains("username is missing"), "{problems}");
    assert!(problems.contains("tenant_id is missing"), "{problems}");
}
