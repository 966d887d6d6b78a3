use super::*;

const GOOD: &str = r#"
[organization]
name = "Contoso"
helpdesk = "IT Service Desk, +1 555 0100"
[source]
tenant_id = "11111111-2222-3333-4444-555555555555"
host_urls = ["https://contoso-my.sharepoint.com/"]
licenses_expire = 2027-01-31
[target]
tenant_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
host_urls = ["https://Fabrikam-my.sharepoint.com"]
[message]
from = "Fabrikam IT <it-migration@fabrikam.com>"
"#;

fn parse(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_str_with_env(text, Path::new("conf/t2t-notify.toml"), &env)
}

#[test]
fn good_config_parses_with_defaults_and_resolved_paths() {
    let c = parse(GOOD, &[]).unwrap();
    assert_eq!(c.pacing.per_minute, 30);
    assert_eq!(c.pacing.concurrency, 3);
    assert_eq!(c.message.recipient, RecipientMode::TargetEmail);
    assert_eq!(c.ledger.path, Path::new("conf/t2t-notify.db"));
    assert_eq!(c.message.templates, Path::new("conf/templates"));
    let expires = chrono::NaiveDate::from_ymd_opt(2027, 1, 31);
    assert_eq!(c.source.licenses_expire, expires);
    assert_eq!(
        c.host_urls(Side::Target),
        ["https://fabrikam-my.sharepoint.com/"]
    );
}

#[test]
fn unknown_keys_and_sections_are_named() {
    for (extra, name) in [
        ("[pacing]\nper_minut = 5", "per_minut"),
        ("[pacng]\nper_minute = 5", "pacng"),
    ] {
        let err = parse(&format!("{GOOD}\n{extra}\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains(name), "{err}");
        assert!(err.contains("conf/t2t-notify.toml"), "{err}");
    }
}

#[test]
fn env_overrides_numbers_strings_and_lists() {
    let c = parse(
        GOOD,
        &[
            ("T2T_NOTIFY_PACING_PER_MINUTE", "10"),
            ("T2T_NOTIFY_ORGANIZATION_NAME", "Fabrikam"),
            (
                "T2T_NOTIFY_MESSAGE_ALLOWED_LINK_DOMAINS",
                r#"["help.contoso.com"]"#,
            ),
            ("T2T_NOTIFY_LEDGER_PATH", "/var/lib/t2t.db"),
            ("T2T_NOTIFY_CONFIG", "ignored.toml"),
        ],
    )
    .unwrap();
    assert_eq!(c.pacing.per_minute, 10);
    assert_eq!(c.organization.name, "Fabrikam");
    assert_eq!(c.message.allowed_link_domains, vec!["help.contoso.com"]);
    assert_eq!(c.ledger.path, Path::new("/var/lib/t2t.db"));
}

#[test]
fn the_dashboard_token_variable_is_a_secret_not_a_key_and_listen_is_checked() {
    let c = parse(
        GOOD,
        &[
            ("T2T_NOTIFY_DASHBOARD_TOKEN", "0123456789abcdef0123"),
            ("T2T_NOTIFY_DASHBOARD_LISTEN", "127.0.0.1:0"),
        ],
    )
    .unwrap();
    assert_eq!(c.dashboard.listen, "127.0.0.1:0");
    assert!(c.dashboard.enabled);
    assert_eq!(c.dashboard.token_env, "T2T_NOTIFY_DASHBOARD_TOKEN");
    assert!(!format!("{c:?}").contains("0123456789abcdef0123"));
    let err = parse(GOOD, &[("T2T_NOTIFY_DASHBOARD_LISTEN", "localhost")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("[dashboard] listen `localhost`"), "{err}");
    let err = parse(GOOD, &[("T2T_NOTIFY_DASHBOARD_TLS_CERT", "cert.pem")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("tls_cert and tls_key go together"), "{err}");
}

#[test]
fn env_overrides_with_unknown_keys_or_sections_are_named() {
    for (name, also) in [
        ("T2T_NOTIFY_PACING_PER_HOUR", "per_hour"),
        ("T2T_NOTIFY_SMTP_HOST", "SMTP_HOST"),
    ] {
        let err = parse(GOOD, &[(name, "5")]).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains(also), "{err}");
    }
}

#[test]
fn bad_values_are_all_reported() {
    let text = GOOD
        .replace("11111111-2222-3333-4444-555555555555", "not-a-guid")
        .replace("https://contoso-my", "http://contoso-my")
        .replace("Fabrikam IT <it-migration@fabrikam.com>", "nobody");
    let err = parse(&text, &[]).unwrap_err().to_string();
    assert!(err.contains("tenant_id `not-a-guid`"), "{err}");
    assert!(err.contains("https://"), "{err}");
    assert!(err.contains("[message] from"), "{err}");
    let text = format!("{GOOD}allowed_link_domains = [\"com\", \"help.fabrikam.com\"]\n");
    let err = parse(&text, &[]).unwrap_err().to_string();
    let domains = "[message] allowed_link_domains:";
    assert!(
        err.contains(&format!("{domains} `com` is a public suffix")),
        "{err}"
    );
    assert!(!err.contains("`help.fabrikam.com`"), "{err}");
}

#[test]
fn bom_is_tolerated() {
    let text = format!("\u{feff}{GOOD}");
    parse(&text, &[]).unwrap();
}

#[test]
fn host_urls_normalise() {
    for url in [
        " HTTPS://Contoso-my.SharePoint.com ",
        "https://contoso-my.sharepoint.com//",
    ] {
        let normal = normalize_host_url(url);
        assert_eq!(normal, "https://contoso-my.sharepoint.com/", "{url}");
    }
}

#[test]
fn host_urls_must_be_https_urls_written_out() {
    // fuzz/regressions/config/host-url-missing-slash.toml: the URL parser reads `https:/sag/x`
    // as https://sag/x, so it was accepted and every OneDrive link was built from the typo.
    let (https, plain) = (
        "must start with https://",
        "no query, fragment or user name",
    );
    for (url, why) in [
        ("https:/contoso-my.sharepoint.com", https),
        ("https:\\\\contoso-my.sharepoint.com", https),
        ("https:/sag/a-my.sharepoint.com", https),
        ("https://fabrikam-my..sharepoint.com/", "empty part"),
        ("https://admin@contoso-my.sharepoint.com/", plain),
        ("https://contoso-my.sharepoint.com/?a=b", plain),
        ("https://contoso-my.sharepoint.com/#x", plain),
    ] {
        let text = GOOD.replace("https://contoso-my.sharepoint.com/", url);
        let err = parse(&text, &[]).unwrap_err().to_string();
        assert!(err.contains(why), "{url}: {err}");
    }
    for url in [
        "HTTPS://Contoso-my.SharePoint.com",
        " https://contoso-my.sharepoint.com// ",
    ] {
        let text = GOOD.replace("https://contoso-my.sharepoint.com/", url);
        parse(&text, &[]).unwrap();
    }
}

#[cfg(unix)]
#[test]
fn environment_that_is_not_utf8_is_no_panic() {
    // Config::load used std::env::vars(), which panics when any variable is not UTF-8.
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let os = |b: &[u8]| OsString::from_vec(b.to_vec());
    let vars = vec![
        (os(b"LANG_JUNK"), os(b"caf\xe9")),
        (os(b"T2T_NOTIFY_PACING_PER_MINUTE"), os(b"10")),
    ];
    let env = prefixed_env(vars).unwrap();
    assert_eq!(
        env,
        vec![("T2T_NOTIFY_PACING_PER_MINUTE".to_string(), "10".to_string())]
    );
    let err = prefixed_env(vec![(os(b"T2T_NOTIFY_ORGANIZATION_NAME"), os(b"\xff"))])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("T2T_NOTIFY_ORGANIZATION_NAME") && err.contains("UTF-8"),
        "{err}"
    );
}

/// Windows paths in the file and on the command line: backslashes, drive letters and UNC
/// shares; relative ones are relative to the config file's folder. (Runs under Wine in CI.)
#[cfg(windows)]
mod windows_paths {
    use super::*;

    fn load_at(config: &str, extra: &str) -> Config {
        let text = format!("{GOOD}{extra}");
        Config::from_str_with_env(&text, Path::new(config), &[]).unwrap()
    }

    #[test]
    fn relative_paths_with_backslashes_join_the_config_folder_on_its_drive() {
        let extra = "templates = '..\\templates'\n[ledger]\npath = 'data\\t2t.db'\n";
        let c = load_at(r"C:\migration\t2t-notify.toml", extra);
        assert_eq!(c.ledger.path, Path::new(r"C:\migration\data\t2t.db"));
        assert_eq!(c.message.templates, Path::new(r"C:\migration\..\templates"));
    }

    #[test]
    fn drive_letter_and_unc_paths_are_kept_and_a_unc_config_folder_is_a_base() {
        let c = load_at(
            r"C:\migration\t2t-notify.toml",
            "[ledger]\npath = 'D:\\ledgers\\t2t.db'\n[transport]\nkind = 'file'\ndir = '\\\\fs01\\mail\\outbox'\n",
        );
        assert_eq!(c.ledger.path, Path::new(r"D:\ledgers\t2t.db"));
        assert_eq!(c.transport.dir, Path::new(r"\\fs01\mail\outbox"));
        let c = load_at(r"\\fs01\it\t2t\t2t-notify.toml", "");
        assert_eq!(c.ledger.path, Path::new(r"\\fs01\it\t2t\t2t-notify.db"));
    }

    #[test]
    fn a_rooted_path_without_a_drive_takes_the_config_files_drive() {
        let c = load_at(
            r"E:\t2t\t2t-notify.toml",
            "[ledger]\npath = '\\ledgers\\t2t.db'\n",
        );
        assert_eq!(c.ledger.path, Path::new(r"E:\ledgers\t2t.db"));
    }
}
