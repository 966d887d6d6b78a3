//! A standard output closed before anything is read (`t2t-notify ... | head -1`): no panic, a
//! note once on stderr, the run's own exit status, and for `send` the ledger and the summary
//! file as after any run.

use std::process::{Output, Stdio};

use crate::harness::*;
use crate::send::helpers::Site;
use crate::sink::Sink;

/// Runs `cmd` with stdout a pipe whose reading end is already closed, so that every write
/// fails with EPIPE (as after `| head -1` has read its line).
fn run_with_closed_stdout(cmd: T2t) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = cmd.command();
    cmd.stdout(Stdio::from(writer)).stderr(Stdio::piped());
    cmd.output().expect("run t2t-notify")
}

fn assert_survived(output: &Output, expected: i32) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(expected), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stderr.matches("standard output was closed").count(),
        1,
        "said once: {stderr}"
    );
    stderr
}

#[test]
fn trust_script_into_a_closed_pipe_exits_0_without_a_panic() {
    let out = run_with_closed_stdout(
        t2t()
            .arg("--config")
            .arg(sample_config())
            .args(["trust", "script"]),
    );
    assert_survived(&out, 0);
}

#[test]
fn completions_into_a_closed_pipe_exit_0_without_a_panic() {
    for shell in ["bash", "powershell"] {
        let out = run_with_closed_stdout(t2t().args(["completions", shell]));
        assert_survived(&out, 0);
    }
}

#[test]
fn validate_json_into_a_closed_pipe_keeps_its_exit_status() {
    let sample = root().join("sample-data");
    let out = run_with_closed_stdout(
        t2t()
            .arg("--config")
            .arg(sample_config())
            .args(["validate", "--format", "json", "--mapping"])
            .arg(sample.join("identity-map.csv"))
            .arg("--directory")
            .arg(sample.join("directory.csv")),
    );
    assert_survived(&out, 0);
}

#[test]
fn send_into_a_closed_pipe_sends_once_and_still_writes_its_summary() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    site.open_gate();
    let sample = root().join("sample-data");
    let out = run_with_closed_stdout(
        site.t2t()
            .args(["send", "--mapping"])
            .arg(sample.join("identity-map.csv"))
            .arg("--directory")
            .arg(sample.join("directory.csv")),
    );
    let stderr = assert_survived(&out, 0);
    assert!(stderr.contains("Summary: "), "{stderr}");
    let summaries = std::fs::read_dir(site.ledger().parent().unwrap())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("summary-") && name.ends_with(".json")
        })
        .count();
    assert_eq!(summaries, 1);
    assert_eq!(sink.messages().len(), 30);
    let states = site.states();
    assert!(states.values().all(|s| s == "sent"), "{states:?}");
}
