//! Stale trust evidence keeps the gate closed: evidence checked longer ago than
//! `[trust] max_evidence_age_days`, and evidence checked before the newest move in the
//! `--move-state` exports. The evidence is dated relative to now, so the tests do not age.

use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};

use crate::harness::*;
use crate::send::helpers::Site;
use crate::sink::Sink;

/// A copy of the trust fixture `name` checked `age` ago, written into `dir`.
fn evidence(dir: &Path, name: &str, age: Duration) -> PathBuf {
    let text = std::fs::read_to_string(fixture(&format!("trust/{name}"))).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let at = (Utc::now() - age).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    json["CheckedAtUtc"] = serde_json::Value::String(at);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    path
}

fn confirm(site: &Site, dir: &Path, age: Duration) {
    site.t2t()
        .args(["trust", "confirm"])
        .arg(evidence(dir, "accepted-source.json", age))
        .arg(evidence(dir, "accepted-target.json", age))
        .run()
        .status(0);
}

/// A move-state export where ana moved `age` ago.
fn export(dir: &Path, age: Duration) -> PathBuf {
    let at = (Utc::now() - age).format("%Y-%m-%dT%H:%M:%SZ");
    let path = dir.join("batch-now.csv");
    std::fs::write(
        &path,
        format!("\"SourceUserPrincipalName\",\"TargetUserPrincipalName\",\"MoveState\",\"TimeStamp\"\r\n\"ana@contoso.com\",\"ana@fabrikam.com\",\"Success\",\"{at}\"\r\n"),
    )
    .unwrap();
    path
}

fn send_with_move(site: &Site, export: &Path) -> Run {
    site.send_mapping(
        &fixture("move-state/map.csv"),
        &["--move-state", export.to_str().unwrap()],
    )
}

#[test]
fn evidence_older_than_the_age_limit_keeps_the_gate_closed() {
    let sink = Sink::start();
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::new(sink.port).env(ANY_EVIDENCE_AGE.0, "30");
    confirm(&site, tmp.path(), Duration::days(40));
    site.send(&[])
        .status(3)
        .contains("the evidence for 2 of 2 host pairs is too old to count")
        .contains("days ago; [trust] max_evidence_age_days allows 30")
        .contains("t2t-notify trust script --tenant source")
        .contains("then `t2t-notify trust confirm` the new files");
    site.t2t().args(["trust", "status"]).run().status(3);
    assert!(sink.messages().is_empty());

    confirm(&site, tmp.path(), Duration::days(20));
    site.send(&[]).status(0);
    assert_eq!(sink.messages().len(), 30);
}

#[test]
fn evidence_checked_before_the_newest_move_keeps_the_gate_closed() {
    let sink = Sink::start();
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::new(sink.port).env(ANY_EVIDENCE_AGE.0, "30");
    confirm(&site, tmp.path(), Duration::days(2));
    let moved = export(tmp.path(), Duration::days(1));
    send_with_move(&site, &moved)
        .status(3)
        .contains("before the newest move in the --move-state exports");
    assert!(sink.messages().is_empty());

    confirm(&site, tmp.path(), Duration::hours(1));
    send_with_move(&site, &moved).status(0);
    assert_eq!(sink.messages().len(), 1, "ana, the one moved user");
}
