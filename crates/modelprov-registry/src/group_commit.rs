//! Group commit for publications. Every write holds the registry's write lock (the audit log's
//! gapless sequence is assigned under it), so concurrent publications are stored one after the
//! other; doing so one transaction each pays the lock, the transaction and the commit's WAL
//! flush per request. Here, requests whose statements are verified (in parallel, outside the
//! lock) wait in a queue; the first to find no one storing becomes the leader, takes everything
//! queued and stores it in one transaction ([`Registry::store_together`], each request in a
//! savepoint), then answers each. Those that arrived meanwhile form the next group.
//!
//! Every request is acknowledged only after the commit that holds it, and a request refused
//! inside a group (a conflict) is rolled back alone.

use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::RegistryError;
use crate::publish::{CheckedPublications, StoreOutcome};
use crate::registry::Registry;

/// The most requests stored in one transaction: a bound on how long a leader holds the lock.
pub const MAX_GROUP: usize = 64;

struct Waiting {
    request: CheckedPublications,
    answer: mpsc::Sender<StoreOutcome>,
}

/// The queue of publications waiting to be stored, shared by a server's connections.
#[derive(Default)]
pub struct GroupCommit {
    queue: Mutex<Vec<Waiting>>,
    /// Held by whoever is storing a group.
    leader: Mutex<()>,
}

impl GroupCommit {
    /// Stores `request` with whatever else is waiting, on `registry`'s connection if this
    /// caller leads the group; answers once the transaction holding it has committed.
    pub fn store(&self, registry: &Registry, request: CheckedPublications) -> StoreOutcome {
        let (answer, answered) = mpsc::channel();
        lock(&self.queue).push(Waiting { request, answer });
        loop {
            let leading = lock(&self.leader);
            // A leader answers its group before it lets the next one lead, so a request is
            // either answered by now or still in the queue.
            if let Ok(outcome) = answered.try_recv() {
                return outcome;
            }
            let group: Vec<Waiting> = {
                let mut queue = lock(&self.queue);
                let take = queue.len().min(MAX_GROUP);
                queue.drain(..take).collect()
            };
            store_group(registry, group);
            drop(leading);
            match answered.try_recv() {
                Ok(outcome) => return outcome,
                // Ours is in a later group (more than MAX_GROUP were waiting): lead again.
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => {
                    return Err(RegistryError::Internal(
                        "the publication's group stopped before answering it".into(),
                    ));
                }
            }
        }
    }
}

/// Stores `group` in one transaction and answers each of its requests.
fn store_group(registry: &Registry, group: Vec<Waiting>) {
    let (requests, answers): (Vec<_>, Vec<_>) =
        group.into_iter().map(|w| (w.request, w.answer)).unzip();
    match registry.store_together(requests) {
        Ok(outcomes) => {
            for (answer, outcome) in answers.into_iter().zip(outcomes) {
                // A requester that gave up (timed out) no longer listens; its write stands.
                let _ = answer.send(outcome);
            }
        }
        Err(error) => {
            // The transaction failed: every request of the group is answered its error (for
            // a group of one, that is the request's own refusal).
            for answer in &answers[1..] {
                let _ = answer.send(Err(error.duplicate()));
            }
            let _ = answers[0].send(Err(error));
        }
    }
}

/// A lock whose holder panicked is still sound here: the queue is only pushed to and drained.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
