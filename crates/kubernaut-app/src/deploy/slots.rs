//! The worker's apply slots: at most `max_parallel` deployments apply (or prune) at once, while
//! any number wait for their rollouts without holding one.

use std::sync::Arc;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// The slots of one worker.
#[derive(Debug, Clone)]
pub(crate) struct Slots {
    semaphore: Arc<Semaphore>,
    freed: Arc<Notify>,
}

/// A slot held by a running deployment; dropping it frees it quietly (the worker learns of a
/// deployment's end from its task), [`Slot::free`] wakes the worker to claim another.
#[derive(Debug)]
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
    freed: Arc<Notify>,
}

impl Slots {
    /// `max` slots, all free.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(max)),
            freed: Arc::new(Notify::new()),
        }
    }

    /// The free slots, taken at once (none when all are held).
    pub(crate) fn take_free(&self) -> Vec<Slot> {
        std::iter::from_fn(|| self.semaphore.clone().try_acquire_owned().ok())
            .map(|permit| self.slot(permit))
            .collect()
    }

    /// A slot, once one is free.
    pub(crate) async fn take(&self) -> Slot {
        let permit = self
            .semaphore
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore of the slots is never closed");
        self.slot(permit)
    }

    /// Completes when a slot was freed by [`Slot::free`] (or had been, since the last call).
    pub(crate) async fn freed(&self) {
        self.freed.notified().await;
    }

    fn slot(&self, permit: OwnedSemaphorePermit) -> Slot {
        Slot {
            _permit: permit,
            freed: self.freed.clone(),
        }
    }
}

impl Slot {
    /// Frees the slot while the deployment goes on, and wakes the worker to fill it.
    pub(crate) fn free(self) {
        let freed = self.freed.clone();
        drop(self);
        freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn free_slots_are_taken_at_once_and_freeing_one_wakes_the_worker() {
        let slots = Slots::new(2);
        let taken = slots.take_free();
        assert_eq!(taken.len(), 2);
        assert!(slots.take_free().is_empty());
        let mut taken = taken.into_iter();
        drop(taken.next());
        assert_eq!(slots.take_free().len(), 1);
        taken.next().unwrap().free();
        tokio::time::timeout(std::time::Duration::from_secs(5), slots.freed())
            .await
            .expect("freeing a slot wakes the worker");
        let slot = tokio::time::timeout(std::time::Duration::from_secs(5), slots.take())
            .await
            .expect("a freed slot can be taken");
        drop(slot);
    }
}
