//! t2t-notify: tell each user whose OneDrive moved tenants what changed for them, once.
//!
//! Data flows one way: `inputs` -> `plan` -> `render` -> `gate` -> `transport` (driven by
//! `send`) -> `ledger` -> `report`. `cmd` wires them per subcommand; `run` is the entry point.

pub mod campaign;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod diag;
pub mod exit;
pub mod gate;
pub mod inputs;
pub mod ledger;
pub mod notify;
pub mod oauth;
pub mod output;
pub mod plan;
pub mod platform;
pub mod render;
pub mod run;
pub mod secret;
pub mod send;
pub mod serve;
pub mod sign_ins;
pub mod transport;
pub mod trust;
pub mod webhook;
