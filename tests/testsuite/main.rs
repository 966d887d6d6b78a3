//! The one integration-test binary: runs the built `t2t-notify` on fixture files and real
//! servers on 127.0.0.1. Each area of the tool has its own module; `harness` is shared.

mod cdp;
mod cli;
mod faults;
mod graph;
mod harness;
mod http_stub;
mod move_state;
mod preview;
mod report;
mod security;
mod send;
mod sink;
mod smtp;
mod smtp_peer;
mod summary;
mod tls_server;
mod trust;
mod validate;
mod webhook;
