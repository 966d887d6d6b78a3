use super::*;

fn access() -> Access {
    Access::new(&Secret::new("0123456789abcdef0123456789abcdef"))
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn loopback_may_be_plain_anything_else_needs_tls_and_a_token() {
    let var = "T2T_NOTIFY_DASHBOARD_TOKEN";
    assert_eq!(
        Exposure::decide(addr("127.0.0.1:8750"), false, var, None),
        Ok(Exposure::Loopback)
    );
    assert_eq!(
        Exposure::decide(addr("[::1]:8750"), false, var, Some(32)),
        Ok(Exposure::Loopback)
    );
    let wide = addr("0.0.0.0:8750");
    let no_tls = Exposure::decide(wide, false, var, Some(32)).unwrap_err();
    assert!(
        no_tls.to_string().contains("tls_cert and tls_key"),
        "{no_tls}"
    );
    let no_token = Exposure::decide(wide, true, var, None).unwrap_err();
    assert!(no_token.to_string().contains(var), "{no_token}");
    assert_eq!(
        Exposure::decide(wide, true, var, Some(32)),
        Ok(Exposure::Network)
    );
    assert!(matches!(
        Exposure::decide(addr("127.0.0.1:1"), false, var, Some(8)),
        Err(ExposureError::WeakToken { len: 8, .. })
    ));
}

#[test]
fn the_bearer_token_is_checked_exactly() {
    let a = access();
    let ask = |auth| Asking {
        authorization: Some(auth),
        changes: true,
        scheme: "http",
        ..Asking::default()
    };
    assert_eq!(
        a.check(&ask("Bearer 0123456789abcdef0123456789abcdef")),
        Ok(Via::Token)
    );
    assert_eq!(
        a.check(&ask("Bearer 0123456789abcdef0123456789abcdeX")),
        Err(Refusal::WrongToken)
    );
    assert_eq!(a.check(&ask("Basic abc")), Err(Refusal::NoCredentials));
    assert_eq!(a.check(&Asking::default()), Err(Refusal::NoCredentials));
}

#[test]
fn a_session_reads_freely_but_changes_only_with_its_csrf_token_from_its_own_origin() {
    let a = access();
    let (id, csrf) = a.open_session();
    let cookie = format!("theme=dark; {COOKIE}={id}");
    let read = Asking {
        cookie: Some(&cookie),
        scheme: "http",
        ..Asking::default()
    };
    assert_eq!(a.check(&read), Ok(Via::Session { csrf: csrf.clone() }));
    let change = Asking {
        changes: true,
        csrf: Some(&csrf),
        origin: Some("http://127.0.0.1:8750"),
        fetch_site: Some("same-origin"),
        host: Some("127.0.0.1:8750"),
        ..read
    };
    assert!(a.check(&change).is_ok());
    // A form on another site: the browser sends the cookie (were it not SameSite) but no header.
    let form = Asking {
        csrf: None,
        origin: Some("https://evil.example"),
        fetch_site: Some("cross-site"),
        ..change
    };
    assert_eq!(a.check(&form), Err(Refusal::CrossSite));
    assert_eq!(Refusal::CrossSite.status(), 403);
    let other_origin = Asking {
        origin: Some("https://evil.example"),
        ..change
    };
    assert_eq!(a.check(&other_origin), Err(Refusal::CrossSite));
    let wrong_csrf = Asking {
        csrf: Some("nope"),
        ..change
    };
    assert_eq!(a.check(&wrong_csrf), Err(Refusal::CrossSite));
    a.close_session(Some(&cookie));
    assert_eq!(a.check(&read), Err(Refusal::UnknownSession));
}

#[test]
fn the_audit_name_is_short_plain_text_with_how_and_where() {
    let peer: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    assert_eq!(
        who(Some("  Ana Martínez \u{1b}[31m"), &Via::Token, peer),
        "Ana Martínez [31m (API token, 127.0.0.1)"
    );
    let session = Via::Session { csrf: "x".into() };
    assert_eq!(who(None, &session, peer), "someone (dashboard, 127.0.0.1)");
    assert_eq!(who(Some(&"a".repeat(200)), &session, peer).len(), 60 + 23);
}

#[test]
fn cookies_are_http_only_same_site_strict_and_secure_over_https() {
    assert_eq!(
        session_cookie("abc", true),
        "t2t_session=abc; HttpOnly; SameSite=Strict; Path=/; Secure"
    );
    assert!(!session_cookie("abc", false).contains("Secure"));
    assert!(ended_cookie().contains("Max-Age=0"));
    assert!(!format!("{:?}", access()).contains("0123"));
}
