//! The config file (`config::Config::from_str_with_env`) on arbitrary text and arbitrary
//! `T2T_NOTIFY_*` overrides, followed by the OAuth settings that read a secret from the
//! environment variable the config names.
//!
//! Input: the TOML text, then NUL-separated `KEY=VALUE` overrides (the `T2T_NOTIFY_` prefix is
//! added when missing). Beyond "no panic": an accepted config holds what `validate` promises
//! (GUID tenants that differ, https host URLs written out, a parseable sender, non-zero limits,
//! absolute paths); errors name the file or the variable; parsing is deterministic; and no output (the
//! config's Debug, the error's text, the OAuth settings' Debug or problems) ever contains the
//! value of a secret named by a `*_env` key.
#![no_main]

use std::path::Path;
use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use t2t_notify::config::{Config, ConfigError, ENV_PREFIX};
use t2t_notify::inputs::address::{is_guid, parse_mailbox};
use t2t_notify::oauth::{OAuthSettings, OUTLOOK_SCOPE};

const PATH: &str = "/fuzz/conf/t2t-notify.toml";
/// Variables the seeds name in `client_secret_env` / `password_env`, holding a recognisable value.
const SECRET_VARS: [&str; 2] = ["T2T_FUZZ_CLIENT_SECRET", "T2T_FUZZ_SMTP_PASSWORD"];
const SECRET_VALUE: &str = "s3cr3t-Fz9Qx7Lm2Vb8Kp";

fn set_secrets() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for var in SECRET_VARS {
            std::env::set_var(var, SECRET_VALUE);
        }
    });
}

fn split(data: &[u8]) -> Option<(&str, Vec<(String, String)>)> {
    let mut parts = data.split(|b| *b == 0);
    let text = std::str::from_utf8(parts.next()?).ok()?;
    let env = parts
        .filter_map(|p| std::str::from_utf8(p).ok())
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            let name = if k.starts_with(ENV_PREFIX) {
                k.to_string()
            } else {
                format!("{ENV_PREFIX}{k}")
            };
            (name, v.to_string())
        })
        .collect();
    Some((text, env))
}

/// Secret values named by the config's `*_env` keys that the input itself does not contain.
fn secrets(config: &Config, input: &[u8]) -> Vec<String> {
    let t = &config.transport;
    [&t.password_env, &t.client_secret_env]
        .into_iter()
        .flatten()
        .filter_map(|name| std::env::var(name.trim()).ok())
        .filter(|v| v.len() >= 8 && !input.windows(v.len()).any(|w| w == v.as_bytes()))
        .collect()
}

fn assert_hidden(output: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !output.contains(s.as_str()),
            "secret value printed: {output}"
        );
    }
}

fn check_accepted(c: &Config) {
    assert!(
        is_guid(&c.source.tenant_id) && is_guid(&c.target.tenant_id),
        "{c:?}"
    );
    assert!(!c.source.tenant_id.eq_ignore_ascii_case(&c.target.tenant_id));
    for url in c.source.host_urls.iter().chain(&c.target.host_urls) {
        assert!(
            url.trim().to_ascii_lowercase().starts_with("https://"),
            "{url:?}"
        );
        let parsed = url::Url::parse(url.trim()).expect("accepted host URL parses");
        let host = parsed.host_str().expect("accepted host URL has a host");
        assert!(!host.split('.').any(str::is_empty), "{url:?}");
        assert!(
            parsed.query().is_none() && parsed.username().is_empty(),
            "{url:?}"
        );
    }
    assert!(!c.source.host_urls.is_empty() && !c.target.host_urls.is_empty());
    assert!(
        parse_mailbox(&c.message.from).is_ok(),
        "{:?}",
        c.message.from
    );
    if let Some(r) = &c.message.reply_to {
        assert!(parse_mailbox(r).is_ok(), "{r:?}");
    }
    assert!(c.pacing.concurrency >= 1 && c.transport.max_attempts >= 1);
    assert_eq!(c.path, Path::new(PATH));
    for p in [&c.message.templates, &c.ledger.path, &c.transport.dir] {
        assert!(p.is_absolute(), "{p:?}");
    }
}

fn check_error(e: &ConfigError, env: &[(String, String)]) {
    let text = e.to_string();
    match e {
        ConfigError::Env { name, .. } => assert!(env.iter().any(|(k, _)| k == name), "{text}"),
        _ => assert!(text.starts_with(PATH), "{text}"),
    }
}

fuzz_target!(|data: &[u8]| {
    set_secrets();
    let Some((text, env)) = split(data) else {
        return;
    };
    let result = Config::from_str_with_env(text, Path::new(PATH), &env);
    let again = Config::from_str_with_env(text, Path::new(PATH), &env);
    assert_eq!(
        format!("{result:?}"),
        format!("{again:?}"),
        "not deterministic"
    );
    match result {
        Ok(config) => {
            check_accepted(&config);
            let secrets = secrets(&config, data);
            assert_hidden(&format!("{config:?}"), &secrets);
            let t = &config.transport;
            if t.certificate.is_none() && t.private_key.is_none() {
                let oauth = OAuthSettings::from_config(t, OUTLOOK_SCOPE);
                assert_hidden(&format!("{oauth:?}"), &secrets);
            }
        }
        Err(e) => {
            check_error(&e, &env);
            let hidden: Vec<String> = std::iter::once(SECRET_VALUE.to_string())
                .filter(|v| !data.windows(v.len()).any(|w| w == v.as_bytes()))
                .collect();
            assert_hidden(&format!("{e} {e:?}"), &hidden);
        }
    }
});
