//! Cancellation: a cancel reaches a child blocked in `wait`.

use super::*;

/// What the cancellation model needs.
trait Cancel: Clone + Send + Sync + 'static {
    fn root() -> Self;
    fn child(&self) -> Self;
    fn cancel(&self);
    fn wait(&self);
}

impl Cancel for CancelToken {
    fn root() -> Self {
        CancelToken::new()
    }
    fn child(&self) -> Self {
        CancelToken::child(self)
    }
    fn cancel(&self) {
        CancelToken::cancel(self);
    }
    fn wait(&self) {
        assert_eq!(CancelToken::wait(self), CancelReason::Cancelled);
    }
}

/// Broken: one flag for the whole tree, and a cancel that wakes only one
/// waiter.
#[derive(Clone)]
struct WakesOne(Arc<(Mutex<bool>, Condvar)>);

impl Cancel for WakesOne {
    fn root() -> Self {
        WakesOne(Arc::new((Mutex::new(false), Condvar::new())))
    }
    fn child(&self) -> Self {
        self.clone()
    }
    fn cancel(&self) {
        *self.0.0.lock() = true;
        self.0.1.notify_one();
    }
    fn wait(&self) {
        let mut cancelled = self.0.0.lock();
        while !*cancelled {
            cancelled = self.0.1.wait(cancelled);
        }
    }
}

/// Two workers wait on children of one root; the root is cancelled.
fn cancel_model<C: Cancel>() {
    let root = C::root();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let token = root.child();
            thread::spawn(move || token.wait())
        })
        .collect();
    root.cancel();
    for worker in workers {
        worker.join().unwrap();
    }
}

#[test]
fn cancellation_wakes_every_waiting_descendant() {
    model(cancel_model::<CancelToken>);
}

#[test]
fn cancellation_twin_that_wakes_one_waiter_deadlocks() {
    let report = loom_finds(
        "cancel::cancellation_twin_that_wakes_one_waiter_deadlocks",
        cancel_model::<WakesOne>,
    );
    assert!(report.contains("deadlock"), "{report}");
}
