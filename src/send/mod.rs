//! The sending engine: takes rendered messages (jobs) one by one, skips users the ledger says
//! are done, and hands the rest to a [`Transport`](crate::transport::Transport) with the
//! mailbox's pacing, bounded concurrency, retries with backoff, and every step recorded in the
//! ledger: `in-flight` committed before a message leaves, its outcome after.
//!
//! The engine knows nothing about templates or SMTP: any transport (SMTP, Graph, file, the test
//! stub) plugs in, and jobs come from any iterator. See [`engine::run`].

pub mod engine;
pub mod pacing;
pub mod progress;
pub mod retry;
pub mod select;
pub mod stop;
pub mod summary;

pub use engine::{run, Run, Settings};
pub use select::Selection;
pub use stop::{Stop, StopReason};
pub use summary::Summary;

use crate::transport::Envelope;

/// One rendered message for one user.
#[derive(Debug, Clone)]
pub struct Job {
    /// The user's source UPN in lower case: the ledger's key.
    pub key: String,
    pub envelope: Envelope,
    /// The complete RFC 5322 message, exactly as previewed.
    pub message: Vec<u8>,
    pub message_id: String,
    /// SHA-256 of the message, recorded with the attempt.
    pub content_hash: String,
    /// The migration batch the user belongs to, when known.
    pub batch: Option<String>,
}

impl Job {
    /// How many recipients the message spends from the day's budget.
    pub fn recipients(&self) -> u32 {
        u32::try_from(self.envelope.to.len()).unwrap_or(u32::MAX)
    }
}

/// The hex SHA-256 of a message, for [`Job::content_hash`].
pub fn content_hash(message: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(message))
}
