//! The admin summary after every `send`: built from the run, the plan and the ledger
//! ([`summary`]), written to a private file ([`file`]), posted to `[notify].webhook_url`
//! ([`crate::webhook`]) and mailed to `[notify].admin_email` ([`mail`], readable [`text`] with
//! the JSON attached). `cmd::send` decides when; this module knows what and how.

pub mod file;
pub mod mail;
pub mod summary;
pub mod text;

pub use summary::{build, AdminSummary, RunRecord};
