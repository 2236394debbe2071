//! [`Pool`]: a bounded pool of reusable resources. Acquire waits (with a
//! timeout) while all are in use; a resource goes back on drop of its
//! [`Pooled`] guard, and one marked broken is discarded so the next acquire
//! creates a fresh one. Tasks acquire with [`Pool::acquire_async`].

use std::fmt;
use std::future::poll_fn;
use std::ops::{Deref, DerefMut};
use std::task::Poll;
use std::time::{Duration, Instant};

use chanlab_sync::{Arc, Condvar, Mutex, MutexGuard};

use super::waiters::{Waiters, wake};

/// A pool of at most `size` resources made by a factory on demand.
pub struct Pool<R> {
    inner: Arc<Inner<R>>,
}

struct Inner<R> {
    state: Mutex<State<R>>,
    /// Signalled when a resource is returned or a slot frees.
    released: Condvar,
    size: usize,
    factory: Box<dyn Fn() -> R + Send + Sync>,
}

struct State<R> {
    idle: Vec<R>,
    /// Resources that exist: idle plus lent out plus being created.
    live: usize,
    /// Tasks waiting in [`Pool::acquire_async`].
    tasks: Waiters,
}

/// No resource became free in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no pooled resource was free within {0:?}")]
pub struct AcquireTimeout(pub Duration);

/// A resource lent by the pool; it goes back when this guard drops.
pub struct Pooled<R> {
    resource: Option<R>,
    broken: bool,
    pool: Arc<Inner<R>>,
}

impl<R: Send + 'static> Pool<R> {
    /// A pool of at most `size` resources, each made by `factory` when
    /// first needed. A pool of size 0 can lend nothing.
    pub fn new(size: usize, factory: impl Fn() -> R + Send + Sync + 'static) -> Self {
        Pool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    idle: Vec::new(),
                    live: 0,
                    tasks: Waiters::default(),
                }),
                released: Condvar::new(),
                size,
                factory: Box::new(factory),
            }),
        }
    }

    /// Waits for a resource, however long it takes.
    pub fn acquire(&self) -> Pooled<R> {
        self.acquire_until(None)
            .unwrap_or_else(|_| unreachable!("an acquire without deadline does not time out"))
    }

    /// Waits at most `timeout` for a resource.
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<Pooled<R>, AcquireTimeout> {
        self.acquire_until(Some(Instant::now() + timeout))
            .map_err(|()| AcquireTimeout(timeout))
    }

    fn acquire_until(&self, deadline: Option<Instant>) -> Result<Pooled<R>, ()> {
        let mut state = self.inner.state.lock();
        loop {
            state = match self.try_take(state) {
                Ok(pooled) => return Ok(pooled),
                Err(state) => state,
            };
            state = match deadline {
                None => self.inner.released.wait(state),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(());
                    }
                    self.inner.released.wait_timeout(state, left).0
                }
            };
        }
    }

    /// Waits for a resource as a task, however long it takes (a caller
    /// wanting a timeout wraps it in its runtime's). Dropping the future
    /// before it is ready takes nothing.
    pub async fn acquire_async(&self) -> Pooled<R> {
        poll_fn(|cx| match self.try_take(self.inner.state.lock()) {
            Ok(pooled) => Poll::Ready(pooled),
            Err(mut state) => {
                state.tasks.register(cx.waker());
                Poll::Pending
            }
        })
        .await
    }

    /// An idle resource, or a new one if the pool has room; otherwise the
    /// lock back, to wait on.
    fn try_take<'a>(
        &self,
        mut state: MutexGuard<'a, State<R>>,
    ) -> Result<Pooled<R>, MutexGuard<'a, State<R>>> {
        if let Some(resource) = state.idle.pop() {
            return Ok(self.lend(resource));
        }
        if state.live < self.inner.size {
            state.live += 1;
            drop(state);
            let slot = Slot(&self.inner);
            let resource = (self.inner.factory)();
            std::mem::forget(slot);
            return Ok(self.lend(resource));
        }
        Err(state)
    }

    fn lend(&self, resource: R) -> Pooled<R> {
        Pooled {
            resource: Some(resource),
            broken: false,
            pool: Arc::clone(&self.inner),
        }
    }

    /// Resources that exist now: idle, lent out, or being made.
    pub fn live(&self) -> usize {
        self.inner.state.lock().live
    }

    /// Resources waiting in the pool now.
    pub fn idle(&self) -> usize {
        self.inner.state.lock().idle.len()
    }
}

/// Gives a reserved slot back if the factory panics.
struct Slot<'a, R>(&'a Inner<R>);

impl<R> Drop for Slot<'_, R> {
    fn drop(&mut self) {
        let tasks = {
            let mut state = self.0.state.lock();
            state.live -= 1;
            state.tasks.take()
        };
        self.0.released.notify_one();
        wake(tasks);
    }
}

impl<R> Pooled<R> {
    /// Marks the resource broken: it is discarded instead of returned, and
    /// its slot is freed for a new one.
    pub fn mark_broken(&mut self) {
        self.broken = true;
    }
}

impl<R> Deref for Pooled<R> {
    type Target = R;
    fn deref(&self) -> &R {
        self.resource
            .as_ref()
            .unwrap_or_else(|| unreachable!("the resource is only taken on drop"))
    }
}

impl<R> DerefMut for Pooled<R> {
    fn deref_mut(&mut self) -> &mut R {
        self.resource
            .as_mut()
            .unwrap_or_else(|| unreachable!("the resource is only taken on drop"))
    }
}

impl<R> Drop for Pooled<R> {
    fn drop(&mut self) {
        let Some(resource) = self.resource.take() else {
            return;
        };
        let mut state = self.pool.state.lock();
        let discarded = if self.broken {
            state.live -= 1;
            Some(resource)
        } else {
            state.idle.push(resource);
            None
        };
        let tasks = state.tasks.take();
        drop(state);
        // A discarded resource is dropped outside the lock.
        drop(discarded);
        // Either way exactly one waiting thread can now proceed.
        self.pool.released.notify_one();
        wake(tasks);
    }
}

impl<R: fmt::Debug> fmt::Debug for Pooled<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pooled")
            .field("resource", &**self)
            .field("broken", &self.broken)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhausted_pool_times_out_and_broken_is_replaced() {
        let made = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let pool = {
            let made = made.clone();
            Pool::new(1, move || {
                made.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            })
        };
        let mut first = pool.acquire();
        assert_eq!(*first, 0);
        assert_eq!(
            pool.acquire_timeout(Duration::from_millis(5)).err(),
            Some(AcquireTimeout(Duration::from_millis(5)))
        );
        first.mark_broken();
        drop(first);
        assert_eq!(
            *pool.acquire(),
            1,
            "a broken resource is replaced, not reused"
        );
        assert_eq!(*pool.acquire(), 1, "a healthy one is reused");
        assert_eq!((pool.live(), pool.idle()), (1, 1));
    }

    #[test]
    fn an_exhausted_pool_waits_its_timeout_and_counts_what_it_holds() {
        let pool = Pool::new(2, || ());
        let (first, second) = (pool.acquire(), pool.acquire());
        assert_eq!((pool.live(), pool.idle()), (2, 0));
        let timeout = Duration::from_millis(20);
        let started = std::time::Instant::now();
        assert!(pool.acquire_timeout(timeout).is_err());
        assert!(started.elapsed() >= timeout, "{:?}", started.elapsed());
        drop((first, second));
        assert_eq!((pool.live(), pool.idle()), (2, 2));
    }

    #[test]
    fn a_factory_that_panics_gives_its_slot_back() {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let pool = Pool::new(1, move || {
            if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                panic!("the first resource cannot be made");
            }
            7
        });
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pool.acquire()));
        assert!(panicked.is_err());
        assert_eq!(pool.live(), 0);
        let made = pool.acquire_timeout(Duration::from_secs(10));
        assert_eq!(made.map(|resource| *resource).ok(), Some(7));
    }

    #[test]
    fn debug_shows_the_resource_and_whether_it_broke() {
        let pool = Pool::new(1, || 7);
        let mut resource = pool.acquire();
        resource.mark_broken();
        let shown = format!("{resource:?}");
        assert_eq!(shown, "Pooled { resource: 7, broken: true }");
    }
}
