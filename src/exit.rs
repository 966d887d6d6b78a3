//! Exit statuses, the same for every command (documented in README.md).

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: done.
    Success,
    /// 1: a runtime failure (server unreachable, authentication refused, disk full).
    Failure,
    /// 2: invalid input or usage; nothing was sent.
    Invalid,
    /// 3: the trust gate is closed; nothing was sent.
    GateClosed,
    /// 4: finished, but some recipients failed permanently.
    SomeFailed,
    /// 5: paused (quota or time window); run again to resume.
    Paused,
    /// 130: interrupted with Ctrl-C or SIGTERM after finishing the messages in flight.
    Interrupted,
}

impl Outcome {
    /// The process exit status.
    pub fn code(self) -> i32 {
        match self {
            Outcome::Success => 0,
            Outcome::Failure => 1,
            Outcome::Invalid => 2,
            Outcome::GateClosed => 3,
            Outcome::SomeFailed => 4,
            Outcome::Paused => 5,
            Outcome::Interrupted => 130,
        }
    }
}

/// An error that means the input or usage was wrong (exit 2), not that something broke.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);
