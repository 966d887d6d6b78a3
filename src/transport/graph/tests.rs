use super::*;

fn transport(extra: &str) -> crate::config::Transport {
    toml::from_str(&format!("kind = \"graph\"\n{extra}")).unwrap()
}

/// The sample config sending through Graph with `transport_keys`.
fn config(transport_keys: &str) -> Config {
    crate::render::tests::config_with_transport(&format!("kind = \"graph\"\n{transport_keys}"))
}

#[test]
fn send_url_escapes_the_sender() {
    // (keys, sendMail URL, token scope)
    for (keys, url, scope) in [
        (
            "sender = \"it-migration@fabrikam.com\"",
            "https://graph.microsoft.com/v1.0/users/it-migration@fabrikam.com/sendMail",
            "https://graph.microsoft.com/.default",
        ),
        (
            "sender = \"o'neil+x@fabrikam.com\"\ngraph_url = \"https://graph.microsoft.us/\"",
            "https://graph.microsoft.us/v1.0/users/o'neil+x@fabrikam.com/sendMail",
            "https://graph.microsoft.us/.default",
        ),
        (
            "sender = \"a#b@fabrikam.com\"\ngraph_url = \"http://127.0.0.1:9/prefix\"",
            "http://127.0.0.1:9/prefix/v1.0/users/a%23b@fabrikam.com/sendMail",
            "http://127.0.0.1:9/prefix/.default",
        ),
    ] {
        let s = graph_settings(&transport(keys)).unwrap();
        assert_eq!(s.send_url().unwrap().as_str(), url);
        assert_eq!(s.scope(), scope);
        assert_eq!(s.max_concurrent, 4);
    }
}

#[test]
fn graph_keys_are_checked() {
    let all = texts(&graph_settings(&transport("")).unwrap_err()).join("\n");
    assert!(all.contains("sender is missing"), "{all}");
    let all = texts(
        &graph_settings(&transport(
            "sender = \"not an address\"\ngraph_url = \"http://graph.example\"",
        ))
        .unwrap_err(),
    );
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(
        all[1].contains("graph_url `http://graph.example` must start with https://"),
        "{all:?}"
    );
}

#[test]
fn sent_items_and_send_as_are_warned_about() {
    let c = config("sender = \"notices@fabrikam.com\"");
    let warnings = config_warnings(&c);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("save_to_sent_items = false cannot be honoured"));
    assert!(warnings[1].contains("ErrorSendAsDenied"));
    let c = config("sender = \"IT-Migration@fabrikam.com\"\nsave_to_sent_items = true");
    assert!(config_warnings(&c).is_empty());
}

#[test]
fn more_concurrency_than_graph_takes_is_warned_about() {
    let keys = "sender = \"it-migration@fabrikam.com\"\nsave_to_sent_items = true";
    let mut c = config(keys);
    c.pacing.concurrency = 4;
    assert!(config_warnings(&c).is_empty());
    c.pacing.concurrency = 10;
    assert_eq!(
        config_warnings(&c),
        vec!["[pacing] concurrency = 10 is more than the 4 requests Microsoft Graph takes per mailbox at a time; t2t-notify sends 4 at a time".to_string()]
    );
}

#[test]
fn from_config_reports_every_problem_as_invalid_config() {
    let c = config("sender = \"it-migration@fabrikam.com\"\nclient_id = \"x\"");
    let Err(ConfigError::Invalid { path, problems }) = GraphTransport::from_config(&c) else {
        panic!("expected invalid config");
    };
    assert_eq!(path, c.path);
    let all = problems.join("\n");
    assert!(all.contains("tenant_id is missing"), "{all}");
    assert!(all.contains("client_id `x` is not a GUID"), "{all}");
    assert!(all.contains("no credential"), "{all}");
}

#[test]
fn from_config_builds_a_transport() {
    std::env::set_var("T2T_TEST_GRAPH_SECRET_B", "value-b");
    let c = config(
        "sender = \"it-migration@fabrikam.com\"\nsave_to_sent_items = true\ntenant_id = \"3c9d1e7a-5b2f-4a68-9e0d-7f4b2c8a6d15\"\nclient_id = \"0b7c2f6e-1d3a-4e5b-9c8d-7a6f5e4d3c2b\"\nclient_secret_env = \"T2T_TEST_GRAPH_SECRET_B\"",
    );
    let (t, warnings) = GraphTransport::from_config(&c).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        t.describe(),
        "graph:https://graph.microsoft.com as it-migration@fabrikam.com"
    );
    assert_eq!(t.tokens.scope(), "https://graph.microsoft.com/.default");
    assert!(!format!("{:?}", t.tokens).contains("value-b"));
}
