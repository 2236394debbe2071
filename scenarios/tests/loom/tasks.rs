//! The async faces of chanlab's primitives: a task waiting for a permit or
//! for a cancellation is woken by the thread that returns the permit or
//! cancels, whatever the interleaving of its poll with that change. The
//! task is polled by loom's `block_on`, which parks its thread while the
//! future is pending, so a lost wake-up is a deadlock loom reports.

use std::future::poll_fn;
use std::task::{Poll, Waker};

use super::*;

/// What the wake-up model needs: one permit, taken by a task and returned
/// by a thread.
trait AsyncPermits: Send + Sync + 'static {
    fn new(permits: usize) -> Self;
    /// Takes a permit, as a task.
    fn acquire(&self) -> impl Future<Output = ()>;
    fn release(&self);
}

/// chanlab's semaphore, its permit guard kept by the caller.
struct Real(Semaphore, Mutex<Vec<chanlab_scenarios::coord::Permit>>);

impl AsyncPermits for Real {
    fn new(permits: usize) -> Self {
        Real(Semaphore::new(permits), Mutex::new(Vec::new()))
    }
    async fn acquire(&self) {
        let permit = self.0.acquire_async().await;
        self.1.lock().push(permit);
    }
    fn release(&self) {
        let permit = self.1.lock().pop();
        drop(permit);
    }
}

/// Broken: keeps the waiting task's waker but returns a permit without
/// waking it.
struct SilentRelease(Mutex<(usize, Option<Waker>)>);

impl AsyncPermits for SilentRelease {
    fn new(permits: usize) -> Self {
        SilentRelease(Mutex::new((permits, None)))
    }
    async fn acquire(&self) {
        poll_fn(|cx| {
            let mut state = self.0.lock();
            if state.0 == 0 {
                state.1 = Some(cx.waker().clone());
                return Poll::Pending;
            }
            state.0 -= 1;
            Poll::Ready(())
        })
        .await;
    }
    fn release(&self) {
        self.0.lock().0 += 1;
    }
}

/// The main thread holds the only permit; a task on another thread waits
/// for it while the main thread returns it.
fn wake_up_model<P: AsyncPermits>() {
    let permits = Arc::new(P::new(1));
    loom::future::block_on(permits.acquire());
    let waiter = {
        let permits = Arc::clone(&permits);
        thread::spawn(move || {
            loom::future::block_on(permits.acquire());
            permits.release();
        })
    };
    permits.release();
    waiter.join().unwrap();
}

#[test]
fn a_task_waiting_for_a_permit_is_woken() {
    model(wake_up_model::<Real>);
}

#[test]
fn async_semaphore_twin_without_wake_up_deadlocks() {
    let report = loom_finds(
        "tasks::async_semaphore_twin_without_wake_up_deadlocks",
        wake_up_model::<SilentRelease>,
    );
    assert!(report.contains("deadlock"), "{report}");
}

/// What the cancellation model needs: a token a task awaits.
trait AsyncToken: Clone + Send + Sync + 'static {
    fn new() -> Self;
    fn cancel(&self);
    fn cancelled(&self) -> impl Future<Output = ()>;
}

impl AsyncToken for CancelToken {
    fn new() -> Self {
        CancelToken::new()
    }
    fn cancel(&self) {
        CancelToken::cancel(self);
    }
    async fn cancelled(&self) {
        CancelToken::cancelled(self).await;
    }
}

/// Broken: a task that finds the token not cancelled is never told when it
/// is.
#[derive(Clone)]
struct Unheard(Arc<Mutex<bool>>);

impl AsyncToken for Unheard {
    fn new() -> Self {
        Unheard(Arc::new(Mutex::new(false)))
    }
    fn cancel(&self) {
        *self.0.lock() = true;
    }
    async fn cancelled(&self) {
        poll_fn(|_| match *self.0.lock() {
            true => Poll::Ready(()),
            false => Poll::Pending,
        })
        .await;
    }
}

/// A task on another thread awaits the token while the main thread cancels
/// it.
fn cancellation_model<T: AsyncToken>() {
    let token = T::new();
    let waiter = {
        let token = token.clone();
        thread::spawn(move || loom::future::block_on(token.cancelled()))
    };
    token.cancel();
    waiter.join().unwrap();
}

#[test]
fn a_task_waiting_for_a_cancellation_is_woken() {
    model(cancellation_model::<CancelToken>);
}

#[test]
fn cancellation_twin_that_never_wakes_deadlocks() {
    let report = loom_finds(
        "tasks::cancellation_twin_that_never_wakes_deadlocks",
        cancellation_model::<Unheard>,
    );
    assert!(report.contains("deadlock"), "{report}");
}

/// The pool's async face: the main thread holds the only resource, a task
/// on another thread waits for it, and the main thread gives it back. A
/// pool that kept the waker but did not wake it deadlocks here as the
/// semaphore twin above does; both wake through the same `Waiters`.
#[test]
fn a_task_waiting_for_a_pooled_resource_is_woken() {
    model(|| {
        let pool = Arc::new(Pool::new(1, || 7_u8));
        let held = pool.acquire();
        let waiter = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || *loom::future::block_on(pool.acquire_async()))
        };
        drop(held);
        assert_eq!(waiter.join().unwrap(), 7);
    });
}
