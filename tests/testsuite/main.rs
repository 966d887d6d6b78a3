//! The one integration-test binary: runs the built `t2t-notify` on fixture files and real
//! servers on 127.0.0.1. Each area of the tool has its own module; `harness` is shared.
//!
//! Unix only: it drives Postfix's `smtp-sink`, Chromium, POSIX signals, umask and `/proc`.
//! Windows is checked by the library's unit tests and `tests/windows/e2e.sh` under Wine.
#![cfg(unix)]

mod cdp;
mod cli;
mod closed_stdout;
mod config_checks;
mod conversation;
mod faults;
mod graph;
mod harness;
mod http_stub;
mod limits;
mod move_state;
mod preview;
mod preview_out;
mod report;
mod same_directory;
mod security;
mod send;
mod serve;
mod sink;
mod smtp;
mod smtp_peer;
mod summary;
mod test_command;
mod tls_server;
mod trust;
mod trust_age;
mod validate;
mod webhook;
