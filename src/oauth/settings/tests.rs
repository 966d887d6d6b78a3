use super::*;

const TENANT: &str = "3c9d1e7a-5b2f-4a68-9e0d-7f4b2c8a6d15";
const CLIENT: &str = "0b7c2f6e-1d3a-4e5b-9c8d-7a6f5e4d3c2b";

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/oauth/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn transport(extra: &str) -> config::Transport {
    toml::from_str(&format!("kind = \"graph\"\n{extra}")).unwrap()
}

fn settings(extra: &str) -> Result<OAuthSettings, Vec<String>> {
    OAuthSettings::from_config(&transport(extra), "https://graph.microsoft.com/.default")
        .map_err(|problems| problems.iter().map(ToString::to_string).collect())
}

/// Every problem `extra` has, one per line.
fn problems(extra: &str) -> String {
    settings(extra).unwrap_err().join("\n")
}

#[test]
fn client_secret_from_the_named_variable() {
    std::env::set_var("T2T_TEST_OAUTH_SECRET_A", "s3cr3t~A");
    let s = settings(&format!("tenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\nclient_secret_env = \"T2T_TEST_OAUTH_SECRET_A\"")).unwrap();
    assert_eq!(
        s.token_url.as_str(),
        format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token")
    );
    assert_eq!(s.client_id, CLIENT);
    assert!(matches!(&s.credential, Credential::ClientSecret(x) if x.expose() == "s3cr3t~A"));
    assert!(!format!("{s:?}").contains("s3cr3t"));
    assert_eq!(s.timeout, Duration::from_secs(60));
}

#[test]
fn certificate_and_national_cloud_authority() {
    let s = settings(&format!(
        "tenant_id = \"contoso.onmicrosoft.us\"\nclient_id = \"{CLIENT}\"\nauthority = \"https://login.microsoftonline.us/\"\ncertificate = \"{}\"\nprivate_key = \"{}\"",
        fixture("test-cert.pem"),
        fixture("test-key.pem")
    ))
    .unwrap();
    assert_eq!(
        s.token_url.as_str(),
        "https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token"
    );
    assert!(
        matches!(&s.credential, Credential::Certificate(c) if c.x5t() == "Jegz9rqYJqSfIisvZNfT8jV-iQg")
    );
}

#[test]
fn every_problem_is_reported_with_its_key() {
    let problems = settings("tenant_id = \"not a tenant\"\nclient_id = \"abc\"\nauthority = \"http://login.example.com\"").unwrap_err();
    let all = problems.join("\n");
    assert!(all.contains("tenant_id `not a tenant`"), "{all}");
    assert!(all.contains("client_id `abc` is not a GUID"), "{all}");
    assert!(
        all.contains("authority `http://login.example.com` must start with https://"),
        "{all}"
    );
    assert!(all.contains("no credential"), "{all}");
    assert_eq!(problems.len(), 4, "{all}");
}

#[test]
fn missing_keys_and_half_credentials_are_named() {
    let all = problems("");
    assert!(all.contains("tenant_id is missing"), "{all}");
    assert!(all.contains("client_id is missing"), "{all}");
    let base = format!("tenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\n");
    let (cert, other_key) = (fixture("test-cert.pem"), fixture("other-key-pkcs1.pem"));
    for (keys, why) in [
        (
            format!("certificate = \"{cert}\""),
            "private_key is missing",
        ),
        (
            "client_secret_env = \"X\"\nprivate_key = \"k.pem\"".into(),
            "not both",
        ),
        (
            "client_secret_env = \"T2T_TEST_OAUTH_SURELY_UNSET\"".into(),
            "T2T_TEST_OAUTH_SURELY_UNSET is not set",
        ),
        (
            format!("certificate = \"{cert}\"\nprivate_key = \"{other_key}\""),
            "does not belong to the certificate",
        ),
    ] {
        let all = problems(&format!("{base}{keys}"));
        assert!(all.contains(why), "{keys}: {all}");
    }
}

#[test]
fn loopback_http_is_allowed_for_tests_only() {
    assert_eq!(
        checked_base_url("http://127.0.0.1:8080/").unwrap(),
        "http://127.0.0.1:8080"
    );
    assert!(checked_base_url("http://[::1]:1").is_ok());
    assert!(checked_base_url("http://localhost:1").is_ok());
    assert!(checked_base_url("http://graph.microsoft.com").is_err());
    assert!(checked_base_url("https://graph.microsoft.com/?x=1").is_err());
    assert!(checked_base_url("ftp://x").is_err());
}

#[cfg(unix)]
#[test]
fn readable_key_file_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    std::fs::write(&key, "x").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let t = transport(&format!("private_key = \"{}\"", key.display()));
    let warnings = key_file_warnings(&t);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("chmod 600"), "{warnings:?}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(key_file_warnings(&t).is_empty());
}

#[test]
fn a_problem_carries_its_cause_in_its_text_not_as_a_source() {
    let extra = format!("tenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\nauthority = \"http://login.example.com\"\nclient_secret_env = \"T2T_TEST_SURELY_UNSET_OAUTH_VAR\"");
    let problems = OAuthSettings::from_config(&transport(&extra), OUTLOOK_SCOPE).unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:?}");
    for problem in &problems {
        assert!(std::error::Error::source(problem).is_none(), "{problem:?}");
    }
    assert!(matches!(problems[0], OAuthConfigError::BadAuthority { .. }));
    assert!(matches!(problems[1], OAuthConfigError::SecretEnv(_)));
}
