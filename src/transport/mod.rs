//! How rendered messages leave: a small trait that takes the envelope and the exact bytes that
//! were previewed, with SMTP, Graph and file behind it (and a recording stub for the engine's unit tests). Every failure carries
//! its class, decided by the transport from the reply's type, never by callers matching text.

mod build;
pub mod file;
pub mod graph;
pub mod smtp;
#[cfg(test)]
pub mod stub;

pub use build::{from_config, BuildError};

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Who the message is from and to, as the server sees it (not the headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub from: String,
    pub to: Vec<String>,
}

/// The server took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The server's reply (`250 2.0.0 Ok: queued as ...`, `202 Accepted`).
    pub reply: String,
}

/// What a failure means for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureClass {
    /// Try this message again later (4xx, timeout, dropped connection).
    Transient,
    /// The mailbox or tenant is out of budget: stop starting messages, resume later.
    Quota,
    /// No message can succeed (authentication, TLS, wrong server): stop the run.
    Fatal,
    /// This recipient cannot be reached (unknown user): fail this user, go on.
    Permanent,
}

/// Why one message was not accepted.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reply}")]
pub struct SendError {
    pub class: FailureClass,
    /// The server's reply or the local cause, for the ledger and the report. No secrets.
    pub reply: String,
    /// How long the server asked us to wait (Graph `Retry-After`).
    pub retry_after: Option<Duration>,
    /// True when the message may have reached the server although no success came back
    /// (connection lost after the data was sent): the user must not be retried blindly.
    pub maybe_delivered: bool,
}

impl SendError {
    /// A failure of the given class with no wait and no doubt about delivery.
    pub fn new(class: FailureClass, reply: impl Into<String>) -> Self {
        SendError {
            class,
            reply: reply.into(),
            retry_after: None,
            maybe_delivered: false,
        }
    }
}

/// A boxed future, so transports can sit behind `dyn Transport`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Carries one rendered message. Implementations must be safe to call concurrently.
pub trait Transport: Send + Sync {
    /// Hands `message` (the complete RFC 5322 bytes) to the server for `envelope`.
    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Accepted, SendError>>;

    /// The most messages this transport carries at once: each takes one of its connections
    /// (an SMTP session, a Graph request) for its whole attempt, and connections are reused for
    /// the next message. The engine starts no more than this, so a stop (Ctrl-C, a fatal reply)
    /// reaches every message that has not left instead of one waiting inside the transport.
    fn max_in_flight(&self) -> usize;

    /// What the admin should know about how the transport ran (e.g. it used fewer connections
    /// than asked because the server refused more), for the end of the run's summary.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// A short description for logs and the report (`smtp://host:587`, `graph`, `file:/dir`).
    fn describe(&self) -> String;

    /// Closes open connections politely at the end of a run (SMTP `QUIT`).
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}
