//! A temporary sending site: the sample config with its own ledger and transport settings
//! from `T2T_NOTIFY_*` variables, the trust gate opened from the trust fixtures, and readers for
//! the report and the sample mapping.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::harness::*;

pub struct Site {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Site {
    /// A site sending over plain SMTP to 127.0.0.1:`port`, with pacing off.
    pub fn new(port: u16) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger.db").display().to_string();
        let env = [
            ("T2T_NOTIFY_LEDGER_PATH", ledger.as_str()),
            ("T2T_NOTIFY_TRANSPORT_KIND", "smtp"),
            ("T2T_NOTIFY_TRANSPORT_HOST", "127.0.0.1"),
            ("T2T_NOTIFY_TRANSPORT_SECURITY", "none"),
            ("T2T_NOTIFY_TRANSPORT_TIMEOUT_SECS", "20"),
            ("T2T_NOTIFY_PACING_PER_MINUTE", "0"),
            ("T2T_NOTIFY_PACING_CONCURRENCY", "10"),
            ANY_EVIDENCE_AGE,
        ];
        let mut site = Site {
            dir,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        site.port(port);
        site
    }

    /// Sets an environment variable for every run.
    pub fn env(mut self, key: &str, value: &str) -> Site {
        self.set(key, value);
        self
    }

    fn set(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Sends to another server from now on.
    pub fn port(&mut self, port: u16) {
        self.set("T2T_NOTIFY_TRANSPORT_PORT", &port.to_string());
    }

    pub fn ledger(&self) -> PathBuf {
        self.dir.path().join("ledger.db")
    }

    /// t2t-notify with the sample config and this site's variables.
    pub fn t2t(&self) -> T2t {
        let mut cmd = t2t()
            .arg("--config")
            .arg(sample_config())
            .current_dir(self.dir.path());
        for (k, v) in &self.env {
            cmd = cmd.env(k, v);
        }
        cmd
    }

    /// Confirms both sides' trust evidence of the sample config.
    pub fn open_gate(&self) {
        self.t2t()
            .args(["trust", "confirm"])
            .arg(fixture("trust/accepted-source.json"))
            .arg(fixture("trust/accepted-target.json"))
            .run()
            .status(0);
    }

    /// `send` on the sample mapping and directory.
    pub fn send(&self, extra: &[&str]) -> Run {
        self.send_files(&root().join("sample-data"), extra)
    }

    /// `send` on `dir/identity-map.csv` and `dir/directory.csv`.
    pub fn send_files(&self, dir: &Path, extra: &[&str]) -> Run {
        self.t2t()
            .args(["send", "--mapping"])
            .arg(dir.join("identity-map.csv"))
            .arg("--directory")
            .arg(dir.join("directory.csv"))
            .args(extra)
            .run()
    }

    /// `send` on a mapping without a directory.
    pub fn send_mapping(&self, mapping: &Path, extra: &[&str]) -> Run {
        self.t2t()
            .args(["send", "--mapping"])
            .arg(mapping)
            .args(extra)
            .run()
    }

    /// A synthetic mapping and directory of `users` users (`t2t-notify sample`).
    pub fn sample(&self, users: u64) -> PathBuf {
        let out = self.dir.path().join(format!("sample-{users}"));
        t2t()
            .args([
                "sample",
                "--groups",
                "0",
                "--users",
                &users.to_string(),
                "--out",
            ])
            .arg(&out)
            .run()
            .status(0);
        out
    }

    /// Writes a file into the site's folder.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// `report --format json`.
    pub fn report(&self) -> serde_json::Value {
        self.t2t()
            .args(["report", "--format", "json"])
            .run()
            .status(0)
            .json()
    }

    fn users(&self) -> Vec<serde_json::Value> {
        let report = self.report();
        report["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["users"].as_array().unwrap().clone())
            .collect()
    }

    /// Every user's state in the ledger.
    pub fn states(&self) -> BTreeMap<String, String> {
        let text = |v: &serde_json::Value| v.as_str().unwrap().to_string();
        self.users()
            .iter()
            .map(|u| (text(&u["user_key"]), text(&u["state"])))
            .collect()
    }

    /// Every user's (first) recipient, lower case.
    pub fn recipients_by_user(&self) -> BTreeMap<String, String> {
        self.users()
            .iter()
            .map(|u| {
                let to = u["recipients"][0].as_str().unwrap().to_lowercase();
                (u["user_key"].as_str().unwrap().to_string(), to)
            })
            .collect()
    }
}

/// Column 5 (target email) of every user row of the sample mapping, lower case.
pub fn sample_recipients() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("sample-data/identity-map.csv")).unwrap();
    text.lines()
        .filter(|l| l.starts_with("User,"))
        .map(|l| l.split(',').nth(4).unwrap().trim().to_lowercase())
        .collect()
}

/// Each address once.
pub fn once_each(addresses: &[String]) -> BTreeMap<String, usize> {
    addresses.iter().map(|a| (a.clone(), 1)).collect()
}

/// The most times found in any window of `ms` milliseconds.
pub fn max_in_window(times: &[DateTime<Utc>], ms: i64) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort();
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..sorted.len() {
        while (sorted[hi] - sorted[lo]).num_milliseconds() >= ms {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}
