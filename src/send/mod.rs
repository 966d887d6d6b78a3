//! The sending engine: takes rendered messages (jobs) one by one, skips users the ledger says
//! are done, and hands the rest to a [`Transport`](crate::transport::Transport) with the
//! mailbox's pacing, bounded concurrency, retries with backoff, and every step recorded in the
//! ledger: `in-flight` committed before a message leaves, its outcome after.
//!
//! The engine knows nothing about templates or SMTP: any transport (SMTP, Graph, file, the test
//! stub) plugs in, and candidates come from any iterator. See [`engine::run`].

pub mod engine;
pub mod opening;
pub mod pacing;
pub mod progress;
pub mod retry;
pub mod select;
pub mod stop;
pub mod summary;

pub use engine::{run, Run, Settings};
pub use select::SendSelection;
pub use stop::{Stop, StopReason};
pub use summary::RunSummary;

use crate::ledger::deliveries::DeliveryState;
use crate::transport::Envelope;

/// One rendered message for one user.
#[derive(Debug, Clone)]
pub struct SendJob {
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

/// Whether a user is sent to in this run (with the state to restore if the run stops), or
/// why not.
pub type Decision = Result<Option<DeliveryState>, select::SkipReason>;

/// One user the run may send to. The message is built only when the ledger says the user is
/// to be sent (a rerun after 39,000 of 40,000 were sent renders 1,000 messages, not 40,000).
/// `send` decides each user once, in its check, and the candidate carries that decision; a
/// candidate without one is decided by the run's [`SendSelection`].
pub struct Candidate {
    pub key: String,
    decision: Option<Decision>,
    build: Box<dyn FnOnce() -> Result<SendJob, BuildError> + Send>,
}

/// Why a candidate's message could not be built (its source says what: a template, a link).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BuildError(pub Box<dyn std::error::Error + Send + Sync>);

impl Candidate {
    /// A user keyed by `key` whose message `build` makes (or says why it cannot).
    pub fn new<E>(
        key: String,
        build: impl FnOnce() -> Result<SendJob, E> + Send + 'static,
    ) -> Candidate
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Candidate {
            key,
            decision: None,
            build: Box::new(move || build().map_err(|e| BuildError(Box::new(e)))),
        }
    }

    /// The candidate with the decision already made for it.
    pub fn decided(self, decision: Decision) -> Candidate {
        Candidate {
            decision: Some(decision),
            ..self
        }
    }

    /// The decision made for it, if any.
    pub fn decision(&self) -> Option<&Decision> {
        self.decision.as_ref()
    }

    /// Its decision: the one it carries, else `selection`'s.
    pub fn decide(&mut self, selection: &SendSelection) -> Decision {
        self.decision
            .take()
            .unwrap_or_else(|| selection.decide(&self.key))
    }

    /// Builds the message.
    pub fn build(self) -> Result<SendJob, BuildError> {
        (self.build)()
    }
}

impl From<SendJob> for Candidate {
    fn from(job: SendJob) -> Candidate {
        Candidate::new(job.key.clone(), move || {
            Ok::<_, std::convert::Infallible>(job)
        })
    }
}

impl SendJob {
    /// How many recipients the message spends from the day's budget.
    pub fn recipients(&self) -> u32 {
        u32::try_from(self.envelope.to.len()).unwrap_or(u32::MAX)
    }
}

/// The hex SHA-256 of a message, for [`SendJob::content_hash`].
pub fn content_hash(message: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(message))
}
