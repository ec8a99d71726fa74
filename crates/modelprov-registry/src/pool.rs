//! Database connections for the server: at most `size` in use, each request's work run on a
//! blocking thread (the driver blocks), a connection the server dropped replaced on the next
//! request. While the database is down, requests fail at once with `unavailable` (a refused
//! connection) or after the request timeout, never hang.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::access::Identity;
use crate::error::RegistryError;
use crate::group_commit::GroupCommit;
use crate::registry::Registry;

/// How long one request's database work may take before the request is answered `unavailable`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A pool of registry connections.
pub struct Pool {
    url: String,
    idle: Mutex<Vec<Registry>>,
    slots: Arc<Semaphore>,
    /// Where the connections' publications are stored together.
    pub(crate) group_commit: GroupCommit,
}

impl Pool {
    /// A pool of at most `size` connections to `url`, with `first` (already connected and
    /// migrated) in it.
    pub fn new(url: String, size: usize, first: Registry) -> Arc<Pool> {
        Arc::new(Pool {
            url,
            idle: Mutex::new(vec![first]),
            slots: Arc::new(Semaphore::new(size.max(1))),
            group_commit: GroupCommit::default(),
        })
    }

    /// `work` for the caller `token` names, authenticated first on the same connection (`None`:
    /// no token): how every endpoint but health and readiness runs.
    pub async fn run_as<T: Send + 'static>(
        self: &Arc<Self>,
        token: Option<String>,
        work: impl FnOnce(&Registry, Option<&Identity>) -> Result<T, RegistryError> + Send + 'static,
    ) -> Result<T, RegistryError> {
        self.run(move |registry| {
            let who = registry.authenticate(token.as_deref())?;
            work(registry, who.as_ref())
        })
        .await
    }

    /// Runs `work` with a connection, on a blocking thread.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Registry) -> Result<T, RegistryError> + Send + 'static,
    ) -> Result<T, RegistryError> {
        let wait = tokio::time::timeout(REQUEST_TIMEOUT, self.slots.clone().acquire_owned());
        let Ok(Ok(slot)) = wait.await else {
            return Err(RegistryError::Busy(
                "every database connection stayed busy for the whole request timeout".into(),
            ));
        };
        let pool = Arc::clone(self);
        let task = tokio::task::spawn_blocking(move || {
            // The slot is held until the work is done, even if the request gave up on it.
            let _slot = slot;
            let idle = pool.take_idle();
            let registry = match idle {
                Some(registry) => registry,
                None => Registry::open(&pool.url)?,
            };
            let result = work(&registry);
            if !registry.is_closed() {
                pool.idle
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(registry);
            }
            result
        });
        match tokio::time::timeout(REQUEST_TIMEOUT, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(RegistryError::Internal(format!(
                "the request's work stopped: {join}"
            ))),
            Err(_) => Err(RegistryError::Busy(
                "the database did not answer within the request timeout".into(),
            )),
        }
    }

    /// An idle connection that is still open; closed ones are dropped.
    fn take_idle(&self) -> Option<Registry> {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some(registry) = idle.pop() {
            if !registry.is_closed() {
                return Some(registry);
            }
        }
        None
    }
}

impl Drop for Pool {
    /// The driver's blocking connections must not be dropped on the runtime's threads (closing
    /// one blocks on its own runtime, which panics there); they are closed on a thread of their
    /// own. The pool goes away once, when the server stops.
    fn drop(&mut self) {
        let idle = std::mem::take(
            &mut *self
                .idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if idle.is_empty() {
            return;
        }
        let _ = std::thread::spawn(move || drop(idle)).join();
    }
}
