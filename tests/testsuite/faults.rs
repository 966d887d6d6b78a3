//! The crash-and-fault suite: `send` killed with SIGKILL at random points of a 10,000-user run,
//! an SMTP server that dies mid-run, a full disk under the ledger, ledgers from an older schema,
//! corrupt or locked by another process, and two `send`s on one ledger. Every test ends by
//! checking the sink's dumped messages against the ledger: each user got exactly one notice,
//! except users reported `uncertain`, and nobody was skipped silently.

mod concurrent;
mod disk;
mod kills;
mod ledger_files;
mod read_only;
mod sink_restart;
pub mod support;
