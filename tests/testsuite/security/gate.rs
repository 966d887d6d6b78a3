//! The trust gate has no bypass: no option of any subcommand, no config key and no environment
//! variable is named like one (every one is enumerated from the binary itself), unknown
//! variables are refused, and `send` with a ledger that does not confirm both sides exits 3 with
//! nothing sent, whatever the options.

use std::collections::BTreeSet;

use rusqlite::Connection;

use crate::harness::{fixture, sample_config, t2t};
use crate::send::helpers::Site;
use crate::sink::Sink;

/// Name fragments of a way around a safety check.
const BYPASS: [&str; 16] = [
    "skip",
    "force",
    "bypass",
    "gate",
    "override",
    "ignore",
    "unsafe",
    "insecure",
    "danger",
    "verify",
    "no-check",
    "nocheck",
    "unchecked",
    "assume",
    "yes",
    "accept-invalid",
];

fn looks_like_bypass(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase().replace('_', "-");
    BYPASS.iter().copied().find(|b| name.contains(b))
}

fn help(args: &[&str]) -> String {
    let run = t2t().args(args).arg("--help").run().status(0);
    run.stdout()
}

/// The subcommands listed under `Commands:` of a help text (without `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(String::from)
        .collect()
}

/// Every `--option`, `-o` and `[env: NAME=...]` of a help text.
fn options(help: &str) -> BTreeSet<String> {
    let option = regex::Regex::new(r"(?m)(?:^|\s)(--?[A-Za-z][A-Za-z0-9-]*)").unwrap();
    let env = regex::Regex::new(r"\[env: ([A-Z0-9_]+)=").unwrap();
    option
        .captures_iter(help)
        .chain(env.captures_iter(help))
        .map(|c| c[1].to_string())
        .collect()
}

/// The keys a config section accepts, as the strict parser lists them for an unknown key.
fn config_keys(section: &str) -> Vec<String> {
    if section == "campaign" {
        return campaign_keys();
    }
    let probe = format!("T2T_NOTIFY_{}_T2T_PROBE", section.to_ascii_uppercase());
    let run = t2t()
        .arg("--config")
        .arg(sample_config())
        .env(&probe, "1")
        .arg("report")
        .run()
        .status(2);
    backticked_expected(&run.stderr())
}

/// The keys of a `[[campaign]]` table (an array of tables: no environment variable sets them).
fn campaign_keys() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(sample_config()).unwrap();
    let config = dir.path().join("t2t-notify.toml");
    let probe = "\n[[campaign]]\nname = \"probe\"\nkind = \"post-move\"\nt2t_probe = 1\n";
    std::fs::write(&config, format!("{text}{probe}")).unwrap();
    let run = t2t()
        .arg("--config")
        .arg(&config)
        .arg("report")
        .run()
        .status(2);
    backticked_expected(&run.stderr())
}

fn top_level_keys() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(sample_config()).unwrap();
    let config = dir.path().join("t2t-notify.toml");
    std::fs::write(&config, format!("t2t_probe = 1\n{text}")).unwrap();
    let run = t2t()
        .arg("--config")
        .arg(&config)
        .arg("report")
        .run()
        .status(2);
    backticked_expected(&run.stderr())
}

/// The names after "expected" in serde's unknown-field message.
fn backticked_expected(message: &str) -> Vec<String> {
    let expected = message
        .split_once("expected")
        .unwrap_or_else(|| panic!("no list of keys in {message}"))
        .1;
    let line = expected.lines().next().unwrap();
    line.split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

#[test]
fn no_option_of_any_subcommand_is_a_way_around_a_check() {
    let top = help(&[]);
    let mut commands: Vec<Vec<String>> = vec![vec![]];
    for c in subcommands(&top) {
        let nested = subcommands(&help(&[&c]));
        commands.push(vec![c.clone()]);
        commands.extend(nested.into_iter().map(|n| vec![c.clone(), n]));
    }
    let listed: Vec<String> = commands.iter().map(|c| c.join(" ")).collect();
    for expected in ["send", "trust confirm", "trust status", "preview", "report"] {
        assert!(
            listed.iter().any(|c| c == expected),
            "{expected} in {listed:?}"
        );
    }
    for command in &commands {
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let text = help(&args);
        let found = options(&text);
        // sample, completions and man read no configuration and take no --config.
        let reads_config = !matches!(args.first(), Some(&("sample" | "completions" | "man")));
        assert_eq!(
            found.contains("--config"),
            reads_config,
            "{command:?}: {found:?}"
        );
        for option in &found {
            if let Some(b) = looks_like_bypass(option) {
                panic!("`{}` has option {option} (`{b}`)", command.join(" "));
            }
        }
    }
}

#[test]
fn no_config_key_is_a_way_around_a_check() {
    let sections = top_level_keys();
    assert!(sections.contains(&"transport".to_string()), "{sections:?}");
    for section in &sections {
        let keys = config_keys(section);
        assert!(!keys.is_empty(), "[{section}] lists its keys");
        for key in keys {
            if let Some(b) = looks_like_bypass(&key) {
                panic!("[{section}] has key {key} (`{b}`)");
            }
        }
    }
    assert!(config_keys("transport").contains(&"ca_file".to_string()));
    assert!(config_keys("campaign").contains(&"days_before".to_string()));
}

#[test]
fn variables_that_name_no_config_key_are_refused_before_any_connection() {
    let sink = Sink::start();
    for (name, value) in [
        ("T2T_NOTIFY_SKIP_GATE", "1"),
        ("T2T_NOTIFY_GATE", "open"),
        ("T2T_NOTIFY_FORCE", "true"),
        ("T2T_NOTIFY_SEND_FORCE", "true"),
        ("T2T_NOTIFY_LEDGER_SKIP_GATE", "true"),
        ("T2T_NOTIFY_SOURCE_TRUST_REMOVED", "true"),
        ("T2T_NOTIFY_TRANSPORT_DANGER_ACCEPT_INVALID_CERTS", "true"),
    ] {
        let site = Site::new(sink.port).env(name, value);
        site.send(&[]).status(2).contains(name);
    }
    assert_eq!(sink.count(), 0);
}

/// Puts a ledger into the state a case needs.
type Prepare = dyn Fn(&Site);

/// Inserts a confirmation row as a forger with SQL access would.
fn forge(site: &Site, side: &str, host: &str, partner: &str, verify: &str) {
    let conn = Connection::open(site.ledger()).unwrap();
    conn.execute(
        "INSERT OR REPLACE INTO trust_confirmations VALUES (?1, ?2, ?3, ?4, '2026-11-20T06:00:00Z', 'x', 'x.json', 'ab', '2026-11-20T07:00:00Z')",
        [side, host, partner, verify],
    )
    .unwrap();
}

#[test]
fn send_without_both_sides_confirmed_exits_3_and_the_server_sees_nothing() {
    let sink = Sink::start();
    let contoso = "https://contoso-my.sharepoint.com/";
    let fabrikam = "https://fabrikam-my.sharepoint.com/";
    let options: [&[&str]; 5] = [
        &[],
        &["--retry-failed", "--resend-uncertain"],
        &["--limit", "1"],
        &["--campaign", "post-migration"],
        &["-q"],
    ];
    let ledgers: [(&str, &Prepare); 5] = [
        ("no ledger", &|_| {}),
        ("an empty ledger", &|s| {
            s.t2t().args(["trust", "status"]).run().status(3);
        }),
        ("only the source side", &|s| {
            s.t2t()
                .args(["trust", "confirm"])
                .arg(fixture("trust/accepted-source.json"))
                .run()
                .status(0);
        }),
        ("both sides, but the trust still active", &|s| {
            s.open_gate();
            forge(s, "source", contoso, fabrikam, "GoodToProceed");
        }),
        ("both sides of other hosts", &|s| {
            s.t2t().args(["trust", "status"]).run().status(3);
            forge(
                s,
                "source",
                "https://other-my.sharepoint.com/",
                fabrikam,
                "NotEstablished",
            );
            forge(
                s,
                "target",
                fabrikam,
                "https://other-my.sharepoint.com/",
                "NotEstablished",
            );
        }),
    ];
    for (what, prepare) in ledgers {
        let site = Site::new(sink.port);
        prepare(&site);
        for extra in options {
            site.send(extra)
                .status(3)
                .contains("trust gate closed")
                .contains("Nothing was sent");
        }
        assert!(site.states().is_empty(), "{what}: nobody recorded");
    }
    assert_eq!(sink.count(), 0, "the server saw nothing");
}
