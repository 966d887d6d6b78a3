//! Exit statuses, the same for every command (documented in README.md).

/// How a command ended; the discriminant is the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: done.
    Success = 0,
    /// 1: a runtime failure (server unreachable, authentication refused, disk full).
    Failure = 1,
    /// 2: invalid input or usage; nothing was sent.
    Invalid = 2,
    /// 3: the trust gate is closed; nothing was sent.
    GateClosed = 3,
    /// 4: finished, but some recipients failed permanently.
    SomeFailed = 4,
    /// 5: paused (quota or time window); run again to resume.
    Paused = 5,
    /// 130: interrupted with Ctrl-C or SIGTERM after finishing the messages in flight.
    Interrupted = 130,
}

impl Outcome {
    /// The process exit status.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error that means the input or usage was wrong (exit 2), not that something broke.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

impl InvalidInput {
    /// Invalid input because of `source`, an error of the core that says what is wrong: it
    /// reads as `source` and keeps it in the chain of causes, and exits with status 2.
    pub fn because(source: impl std::error::Error + Send + Sync + 'static) -> InvalidBecause {
        InvalidBecause(Box::new(source))
    }
}

/// What [`InvalidInput::because`] makes: the error it wraps, marked as invalid input. It
/// reads as the wrapped error and its source is the wrapped error's source.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct InvalidBecause(Box<dyn std::error::Error + Send + Sync>);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("[transport] ca_file ca.pem: cannot read it")]
    struct CaFile(#[source] std::io::Error);

    #[test]
    fn an_invalid_input_because_of_an_error_reads_as_it_and_keeps_its_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err = anyhow::Error::from(InvalidInput::because(CaFile(io)));
        assert_eq!(
            err.to_string(),
            "[transport] ca_file ca.pem: cannot read it"
        );
        let causes: Vec<String> = err.chain().skip(1).map(|c| c.to_string()).collect();
        assert_eq!(causes, ["no such file"]);
        assert_eq!(crate::run::error_outcome(&err), Outcome::Invalid);
    }
}
