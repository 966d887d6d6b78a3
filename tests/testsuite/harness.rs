//! A small fluent harness: `t2t().args([...]).current_dir(dir).run()` runs the built binary
//! and returns its status and output, with assertions that print everything on failure.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root (for `sample-data/`, `templates/`, `tests/fixtures/`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture file under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures").join(rel)
}

/// A t2t-notify invocation being built.
pub struct T2t {
    cmd: Command,
}

/// Starts building a run of the binary, with a clean environment of `T2T_NOTIFY_*` variables.
pub fn t2t() -> T2t {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_t2t-notify"));
    for (k, _) in std::env::vars() {
        if k.starts_with("T2T_NOTIFY_") {
            cmd.env_remove(k);
        }
    }
    cmd.stdin(Stdio::null());
    T2t { cmd }
}

impl T2t {
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(a);
        self
    }
    pub fn args<I, S>(mut self, a: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(a);
        self
    }
    pub fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }
    pub fn current_dir(mut self, d: impl AsRef<Path>) -> Self {
        self.cmd.current_dir(d);
        self
    }
    /// The underlying command, for tests that spawn and kill it.
    pub fn command(self) -> Command {
        self.cmd
    }
    /// Runs to completion.
    pub fn run(mut self) -> Run {
        let output = self.cmd.output().expect("run t2t-notify");
        Run { output }
    }
}

/// A finished run.
pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    /// Asserts the exit status, showing the output when it differs.
    pub fn status(self, expected: i32) -> Self {
        assert_eq!(
            self.code(),
            expected,
            "exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
    /// Asserts that stdout or stderr contains `needle`.
    pub fn contains(self, needle: &str) -> Self {
        let all = format!("{}{}", self.stdout(), self.stderr());
        assert!(all.contains(needle), "expected {needle:?} in output\n{all}");
        self
    }
    /// Asserts that neither stdout nor stderr contains `needle`.
    pub fn lacks(self, needle: &str) -> Self {
        let all = format!("{}{}", self.stdout(), self.stderr());
        assert!(
            !all.contains(needle),
            "did not expect {needle:?} in output\n{all}"
        );
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.output.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout()))
    }
}

/// The trust fixtures were checked on 2026-11-20: runs that confirm them allow evidence of any
/// age, so that they pass whatever today's date is (`trust_age.rs` tests the limit itself with
/// evidence it dates).
pub const ANY_EVIDENCE_AGE: (&str, &str) = ("T2T_NOTIFY_TRUST_MAX_EVIDENCE_AGE_DAYS", "36500");

/// The shipped sample config.
pub fn sample_config() -> PathBuf {
    root().join("sample-data/t2t-notify.toml")
}

/// The per-person files with extension `ext` a preview wrote into the numbered folders under
/// `out/messages/` (not the folders' text pages), sorted.
pub fn preview_files(out: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![out.join("messages")];
    while let Some(dir) = folders.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == ext)
                && !path.ends_with(t2t_notify::cmd::preview::TEXT_PAGE)
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}
