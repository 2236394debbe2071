//! [`Semaphore`]: at most N holders at once, built from a `Mutex` and a
//! `Condvar`, with an async face for tasks ([`Semaphore::acquire_async`]).
//! The patterns compare it with the Go way (a buffered channel of N
//! tokens) and with `tokio::sync::Semaphore`.

use std::future::poll_fn;
use std::task::Poll;

use chanlab_sync::{Arc, Condvar, Mutex};

use super::waiters::{Waiters, wake};

/// A counting semaphore. Clones share the permits.
#[derive(Clone, Debug)]
pub struct Semaphore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    /// Signalled each time a permit is returned.
    returned: Condvar,
}

#[derive(Debug)]
struct State {
    available: usize,
    /// Tasks waiting in [`Semaphore::acquire_async`].
    tasks: Waiters,
}

/// One permit, returned when dropped.
#[derive(Debug)]
#[must_use = "the permit is returned as soon as it is dropped"]
pub struct Permit {
    semaphore: Semaphore,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Self {
        Semaphore {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    available: permits,
                    tasks: Waiters::default(),
                }),
                returned: Condvar::new(),
            }),
        }
    }

    /// Waits for a permit, blocking the thread.
    pub fn acquire(&self) -> Permit {
        let mut state = self.inner.state.lock();
        while state.available == 0 {
            state = self.inner.returned.wait(state);
        }
        state.available -= 1;
        self.permit()
    }

    /// Waits for a permit as a task. Dropping the future before it is ready
    /// takes no permit.
    pub async fn acquire_async(&self) -> Permit {
        poll_fn(|cx| {
            let mut state = self.inner.state.lock();
            if state.available == 0 {
                state.tasks.register(cx.waker());
                return Poll::Pending;
            }
            state.available -= 1;
            Poll::Ready(self.permit())
        })
        .await
    }

    /// A permit if one is free now.
    pub fn try_acquire(&self) -> Option<Permit> {
        let mut state = self.inner.state.lock();
        if state.available == 0 {
            return None;
        }
        state.available -= 1;
        Some(self.permit())
    }

    fn permit(&self) -> Permit {
        Permit {
            semaphore: self.clone(),
        }
    }

    /// Permits free now.
    pub fn available(&self) -> usize {
        self.inner.state.lock().available
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let tasks = {
            let mut state = self.semaphore.inner.state.lock();
            state.available += 1;
            state.tasks.take()
        };
        // One permit back wakes one waiting thread: each needs exactly one.
        self.semaphore.inner.returned.notify_one();
        wake(tasks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_are_counted_and_returned() {
        let semaphore = Semaphore::new(2);
        let a = semaphore.acquire();
        let b = semaphore.try_acquire();
        assert!(b.is_some());
        assert!(semaphore.try_acquire().is_none());
        drop(a);
        assert_eq!(semaphore.available(), 1);
        drop(b);
        assert_eq!(semaphore.available(), 2);
    }

    #[test]
    fn a_task_takes_a_free_permit_and_waits_for_a_returned_one() {
        let semaphore = Semaphore::new(1);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let held = semaphore.acquire_async().await;
            assert_eq!(semaphore.available(), 0);
            let waiting = tokio::spawn({
                let semaphore = semaphore.clone();
                async move {
                    let _permit = semaphore.acquire_async().await;
                }
            });
            tokio::task::yield_now().await;
            assert!(!waiting.is_finished(), "took a permit none had returned");
            drop(held);
            waiting
                .await
                .expect("the waiting task gets the returned permit");
        });
        assert_eq!(semaphore.available(), 1);
    }
}
