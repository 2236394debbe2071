//! Resource pool, against a twin that forgets to wake a waiter.

use super::*;

/// What the pool model needs.
trait Lend: Send + Sync + 'static {
    fn new() -> Self;
    /// Lends the pool's one resource to `use_it`, waiting for it if lent.
    fn with_resource(&self, use_it: &dyn Fn(&AtomicBool));
}

impl Lend for Pool<Arc<AtomicBool>> {
    fn new() -> Self {
        Pool::new(1, || Arc::new(AtomicBool::new(false)))
    }
    fn with_resource(&self, use_it: &dyn Fn(&AtomicBool)) {
        use_it(&self.acquire());
    }
}

/// Broken: a pool of one that returns its resource without waking a
/// waiter.
struct ForgetsWaiters(Mutex<Option<Arc<AtomicBool>>>, Condvar);

impl Lend for ForgetsWaiters {
    fn new() -> Self {
        ForgetsWaiters(
            Mutex::new(Some(Arc::new(AtomicBool::new(false)))),
            Condvar::new(),
        )
    }
    fn with_resource(&self, use_it: &dyn Fn(&AtomicBool)) {
        let mut slot = self.0.lock();
        let resource = loop {
            match slot.take() {
                Some(resource) => break resource,
                None => slot = self.1.wait(slot),
            }
        };
        drop(slot);
        use_it(&resource);
        *self.0.lock() = Some(resource);
    }
}

/// Two holders share a pool of one.
fn pool_model<L: Lend>() {
    let pool = Arc::new(L::new());
    let holders: Vec<_> = (0..2)
        .map(|_| {
            let pool = Arc::clone(&pool);
            thread::spawn(move || {
                pool.with_resource(&|resource| {
                    assert!(
                        !resource.swap(true, Ordering::SeqCst),
                        "lent to two at once"
                    );
                    resource.store(false, Ordering::SeqCst);
                });
            })
        })
        .collect();
    for holder in holders {
        holder.join().unwrap();
    }
}

#[test]
fn pool_wakes_a_waiter_when_a_resource_comes_back() {
    model(pool_model::<Pool<Arc<AtomicBool>>>);
}

#[test]
fn pool_twin_that_forgets_waiters_deadlocks() {
    let report = loom_finds(
        "pool::pool_twin_that_forgets_waiters_deadlocks",
        pool_model::<ForgetsWaiters>,
    );
    assert!(report.contains("deadlock"), "{report}");
}
