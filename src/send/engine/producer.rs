//! The producer thread: applies the skip rules to the candidates (or the decision they carry) and builds the chosen ones'
//! messages in parallel chunks (rayon), off the async executor, queueing them in order.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Shared, Task};
use crate::ledger::deliveries::DeliveryState;
use crate::send::select::SendSelection;
use crate::send::summary::Count;
use crate::send::{BuildError, Candidate, SendJob};

/// How many messages the producer builds at a time (in parallel, with rayon).
const BUILD_CHUNK: usize = 256;

pub(super) fn spawn_producer<I>(
    candidates: I,
    selection: SendSelection,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Task>,
) where
    I: Iterator<Item = Candidate> + Send + 'static,
{
    let spawned = std::thread::Builder::new()
        .name("send-producer".into())
        .spawn(move || {
            let mut candidates = candidates.peekable();
            while candidates.peek().is_some() {
                let mut chosen = Vec::with_capacity(BUILD_CHUNK);
                for mut candidate in candidates.by_ref().take(BUILD_CHUNK) {
                    match candidate.decide(&selection) {
                        Ok(prior) => chosen.push((candidate, prior)),
                        Err(skip) => shared.counts.add(Count::Skipped(skip)),
                    }
                }
                if !produce(chosen, &shared, &tx) {
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the thread that prepares messages: {e}");
    }
}

/// Builds the chosen candidates' messages in parallel and queues them in order; false when
/// the dispatcher no longer takes any (the run stopped).
fn produce(
    chosen: Vec<(Candidate, Option<DeliveryState>)>,
    shared: &Shared,
    tx: &mpsc::Sender<Task>,
) -> bool {
    use rayon::prelude::*;
    let built: Vec<(String, Result<SendJob, BuildError>, Option<DeliveryState>)> = chosen
        .into_par_iter()
        .map(|(candidate, prior)| (candidate.key.clone(), candidate.build(), prior))
        .collect();
    for (key, job, prior) in built {
        match job {
            Ok(job) => {
                let task = Task {
                    job,
                    prior,
                    attempts: 0,
                };
                if tx.blocking_send(task).is_err() {
                    return false;
                }
            }
            Err(why) => {
                tracing::error!(user = %key, "not sent: the message cannot be built: {why}");
                shared.counts.add(Count::Failed);
            }
        }
    }
    true
}
