//! [`Waiters`]: the wakers of tasks waiting on a primitive's state, kept
//! under that state's lock. It is what gives chanlab's primitives their
//! async face beside the blocking one: a future that finds the state not
//! ready registers here and returns `Pending`; whoever changes the state
//! takes the wakers under the lock and wakes them after releasing it.
//!
//! Every change wakes every waiter, and each re-checks the state. That
//! costs wake-ups under contention but cannot lose one: a woken future that
//! is dropped before it runs takes nothing with it, so no hand-off to a
//! chosen waiter can be stranded.

use std::task::Waker;

/// Wakers waiting for a change, one per task.
#[derive(Debug, Default)]
pub(crate) struct Waiters(Vec<Waker>);

impl Waiters {
    /// Keeps `waker` until the next change, unless one that wakes the same
    /// task is already kept.
    pub(crate) fn register(&mut self, waker: &Waker) {
        if !self.0.iter().any(|kept| kept.will_wake(waker)) {
            self.0.push(waker.clone());
        }
    }

    /// Takes every waker, for [`wake`] once the lock is released.
    #[must_use = "the wakers must be woken"]
    pub(crate) fn take(&mut self) -> Vec<Waker> {
        std::mem::take(&mut self.0)
    }
}

/// Wakes every waker [`Waiters::take`] returned.
pub(crate) fn wake(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    /// A task's waker that counts its wake-ups.
    struct Counting(AtomicUsize);

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn each_task_is_kept_once_and_woken_once_per_change() {
        let tasks = [0, 1].map(|_| Arc::new(Counting(AtomicUsize::new(0))));
        let wakers = tasks.clone().map(Waker::from);
        let mut waiters = Waiters::default();
        waiters.register(&wakers[0]);
        waiters.register(&wakers[1]);
        waiters.register(&wakers[0]);
        wake(waiters.take());
        let woken = tasks.each_ref().map(|task| task.0.load(Ordering::SeqCst));
        assert_eq!(woken, [1, 1]);
        assert!(waiters.take().is_empty(), "a change takes every waker");
    }
}
