//! A transport for tests of the engine: counts the messages it is given and records who each
//! accepted one went to, in memory, and can be told to fail chosen recipients (always, or a number of times) with a chosen class.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::transport::{Accepted, BoxFuture, Envelope, SendError, Transport};

/// The recording transport.
#[derive(Debug, Default)]
pub struct StubTransport {
    /// The first recipient of every message accepted, in order.
    accepted: Mutex<Vec<String>>,
    /// Messages handed over, accepted or not.
    attempts: Mutex<usize>,
    /// Per recipient address: the failure, and how many more times to fail.
    faults: Mutex<HashMap<String, (SendError, u32)>>,
    delay: Option<Duration>,
    /// (now, most ever) messages being handled at once.
    in_flight: Mutex<(usize, usize)>,
}

impl StubTransport {
    /// A stub that accepts everything at once.
    pub fn new() -> StubTransport {
        StubTransport::default()
    }

    /// A stub that takes `delay` for every message (for pacing and concurrency tests).
    pub fn with_delay(delay: Duration) -> StubTransport {
        StubTransport {
            delay: Some(delay),
            ..StubTransport::default()
        }
    }

    /// Fails every message to `address` with `error`.
    pub fn fail_always(&self, address: &str, error: SendError) {
        self.fail_times(address, u32::MAX, error);
    }

    /// Fails the next `times` messages to `address` with `error`, then accepts.
    pub fn fail_times(&self, address: &str, times: u32, error: SendError) {
        lock(&self.faults).insert(address.to_ascii_lowercase(), (error, times));
    }

    /// How many messages were handed over, accepted or not.
    pub fn attempts(&self) -> usize {
        *lock(&self.attempts)
    }

    /// The most messages the stub was handling at the same time.
    pub fn most_at_once(&self) -> usize {
        lock(&self.in_flight).1
    }

    /// The first recipient of every accepted message, in the order they were accepted.
    pub fn accepted_to(&self) -> Vec<String> {
        lock(&self.accepted).clone()
    }

    fn planned_failure(&self, envelope: &Envelope) -> Option<SendError> {
        let mut faults = lock(&self.faults);
        let key = envelope
            .to
            .iter()
            .map(|to| to.to_ascii_lowercase())
            .find(|to| faults.contains_key(to))?;
        let (error, remaining) = faults.get_mut(&key)?;
        // `u32::MAX` is "always": it is never counted down.
        match *remaining {
            0 => None,
            u32::MAX => Some(error.clone()),
            _ => {
                *remaining -= 1;
                Some(error.clone())
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Transport for StubTransport {
    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        _message: &'a [u8],
    ) -> BoxFuture<'a, Result<Accepted, SendError>> {
        Box::pin(async move {
            *lock(&self.attempts) += 1;
            {
                let mut n = lock(&self.in_flight);
                n.0 += 1;
                n.1 = n.1.max(n.0);
            }
            if let Some(delay) = self.delay {
                tokio::time::sleep(delay).await;
            }
            lock(&self.in_flight).0 -= 1;
            if let Some(error) = self.planned_failure(envelope) {
                return Err(error);
            }
            let n = {
                let mut accepted = lock(&self.accepted);
                accepted.push(envelope.to.first().cloned().unwrap_or_default());
                accepted.len()
            };
            Ok(Accepted {
                reply: format!("250 2.0.0 Ok: queued as STUB{n}"),
            })
        })
    }

    /// No limit of its own: the engine's settings decide.
    fn max_in_flight(&self) -> usize {
        usize::MAX
    }

    fn describe(&self) -> String {
        "stub".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::FailureClass;

    #[tokio::test]
    async fn records_and_fails_as_told() {
        let stub = StubTransport::new();
        stub.fail_times(
            "b@x.com",
            1,
            SendError::new(FailureClass::Transient, "451 4.3.0 try later"),
        );
        let env = |to: &str| Envelope {
            from: "it@x.com".into(),
            to: vec![to.into()],
        };
        stub.send(&env("a@x.com"), b"one").await.unwrap();
        let err = stub.send(&env("B@x.com"), b"two").await.unwrap_err();
        assert_eq!(err.class, FailureClass::Transient);
        stub.send(&env("b@x.com"), b"two").await.unwrap();
        assert_eq!(stub.accepted_to(), ["a@x.com", "b@x.com"]);
        assert_eq!(stub.attempts(), 3);
    }
}
