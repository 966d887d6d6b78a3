//! Config values end to end: every command refuses a config whose
//! `[message] allowed_link_domains` would open the link check to anyone (exit 2, naming the key
//! and the value), and `[inputs]` names the files every command reads by default.

use std::path::{Path, PathBuf};

use crate::harness::*;

/// The sample config with `line` instead of its `allowed_link_domains` line, written into
/// `dir` (templates still found: the path is made absolute).
pub fn config_with(dir: &Path, key: &str, line: &str) -> PathBuf {
    let text = std::fs::read_to_string(sample_config()).unwrap();
    let templates = root().join("templates").display().to_string();
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with(key) {
                line.to_string()
            } else if l.starts_with("templates =") {
                format!("templates = {templates:?}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join("t2t-notify.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn link_domains_that_let_anyone_through_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = root().join("sample-data/identity-map.csv");
    for (value, why) in [
        ("\"com\"", "is a public suffix"),
        ("\"co.uk\"", "is a public suffix"),
        ("\"http://help.fabrikam.com\"", "is a URL"),
        ("\"*.fabrikam.com\"", "is a wildcard"),
        ("\"fabrikam.com/help\"", "has a path"),
        ("\"10.0.0.1\"", "is an IP address"),
        ("\"\"", "is empty"),
    ] {
        let line = format!("allowed_link_domains = [{value}]");
        let config = config_with(dir.path(), "allowed_link_domains", &line);
        let shown = value.trim_matches('"');
        t2t()
            .arg("--config")
            .arg(&config)
            .args(["validate", "--mapping"])
            .arg(&mapping)
            .run()
            .status(2)
            .contains(&format!("[message] allowed_link_domains: `{shown}` {why}"));
    }
    let line = "allowed_link_domains = [\"help.fabrikam.com\"]";
    let config = config_with(dir.path(), "allowed_link_domains", line);
    t2t()
        .arg("--config")
        .arg(&config)
        .args(["validate", "--mapping"])
        .arg(&mapping)
        .run()
        .status(0);
}

#[test]
fn inputs_in_the_config_are_every_commands_default_and_flags_override_them() {
    let dir = tempfile::tempdir().unwrap();
    let sample = root().join("sample-data");
    for name in ["identity-map.csv", "directory.csv"] {
        std::fs::copy(sample.join(name), dir.path().join(name)).unwrap();
    }
    let line = "allowed_link_domains = [\"help.fabrikam.com\"]";
    let config = config_with(dir.path(), "allowed_link_domains", line);
    let text = std::fs::read_to_string(&config).unwrap();
    let inputs = "[inputs]\nmapping = \"identity-map.csv\"\ndirectory = \"directory.csv\"\n";
    assert!(
        text.contains("\n[inputs]\n"),
        "the sample config has an [inputs] table"
    );
    std::fs::write(
        &config,
        text.replace("\n[inputs]\n", &format!("\n{inputs}")),
    )
    .unwrap();

    let mapping = dir.path().join("identity-map.csv");
    t2t()
        .arg("--config")
        .arg(&config)
        .arg("validate")
        .run()
        .status(0)
        .contains(&mapping.display().to_string());
    let out = dir.path().join("preview");
    t2t()
        .arg("--config")
        .arg(&config)
        .arg("preview")
        .arg("--out")
        .arg(&out)
        .run()
        .status(0)
        .contains("30 of 30 notices rendered");
    let names = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(names.contains("Ana Martínez"), "the directory was read");

    let other = dir.path().join("other-map.csv");
    std::fs::write(&other, ",,,,,\n").unwrap();
    t2t()
        .arg("--config")
        .arg(&config)
        .args(["validate", "--mapping"])
        .arg(&other)
        .run()
        .status(2)
        .contains(&format!("{}:1", other.display()));

    let bare = config_with(dir.path(), "allowed_link_domains", "");
    t2t()
        .arg("--config")
        .arg(&bare)
        .arg("validate")
        .run()
        .status(2)
        .contains("no identity mapping file: pass --mapping FILE");
}
