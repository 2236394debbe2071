//! Semaphore: never more holders than permits; every permit comes back; a
//! waiter is always woken.

use super::*;

/// What the semaphore model needs; the real one and its twins implement it.
trait Permits: Send + Sync + 'static {
    fn new(permits: usize) -> Self;
    fn acquire(&self);
    fn release(&self);
    fn available(&self) -> usize;
}

/// chanlab's semaphore, with the permit guard held by the caller.
struct Real(Semaphore, Mutex<Vec<chanlab_scenarios::coord::Permit>>);

impl Permits for Real {
    fn new(permits: usize) -> Self {
        Real(Semaphore::new(permits), Mutex::new(Vec::new()))
    }
    fn acquire(&self) {
        let permit = self.0.acquire();
        self.1.lock().push(permit);
    }
    fn release(&self) {
        let permit = self.1.lock().pop();
        drop(permit);
    }
    fn available(&self) -> usize {
        self.0.available()
    }
}

/// Broken: checks for a free permit and takes it under two separate locks.
struct CheckThenAct(Mutex<usize>, Condvar);

impl Permits for CheckThenAct {
    fn new(permits: usize) -> Self {
        CheckThenAct(Mutex::new(permits), Condvar::new())
    }
    fn acquire(&self) {
        loop {
            let free = *self.0.lock() > 0;
            if free {
                // Wraps rather than panics in a debug build, so the model
                // fails on its own assertion.
                let mut available = self.0.lock();
                *available = available.wrapping_sub(1);
                return;
            }
            thread::yield_now();
        }
    }
    fn release(&self) {
        *self.0.lock() += 1;
        self.1.notify_one();
    }
    fn available(&self) -> usize {
        *self.0.lock()
    }
}

/// Broken: returns a permit without waking anyone waiting for it.
struct SilentRelease(Mutex<usize>, Condvar);

impl Permits for SilentRelease {
    fn new(permits: usize) -> Self {
        SilentRelease(Mutex::new(permits), Condvar::new())
    }
    fn acquire(&self) {
        let mut free = self.0.lock();
        while *free == 0 {
            free = self.1.wait(free);
        }
        *free -= 1;
    }
    fn release(&self) {
        *self.0.lock() += 1;
    }
    fn available(&self) -> usize {
        *self.0.lock()
    }
}

/// Two threads contend for one permit.
fn semaphore_model<P: Permits>() {
    let permits = Arc::new(P::new(1));
    let inside = Arc::new(AtomicUsize::new(0));
    let holders: Vec<_> = (0..2)
        .map(|_| {
            let (permits, inside) = (Arc::clone(&permits), Arc::clone(&inside));
            thread::spawn(move || {
                permits.acquire();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(now <= 1, "{now} holders of 1 permit");
                inside.fetch_sub(1, Ordering::SeqCst);
                permits.release();
            })
        })
        .collect();
    for holder in holders {
        holder.join().unwrap();
    }
    assert_eq!(permits.available(), 1, "a permit was not returned");
}

#[test]
fn semaphore_admits_one_holder_per_permit_and_wakes_waiters() {
    model(semaphore_model::<Real>);
}

#[test]
fn semaphore_twin_with_check_then_act_admits_two() {
    let report = loom_finds(
        "semaphore::semaphore_twin_with_check_then_act_admits_two",
        semaphore_model::<CheckThenAct>,
    );
    assert!(report.contains("holders of 1 permit"), "{report}");
}

#[test]
fn semaphore_twin_without_wake_up_deadlocks() {
    let report = loom_finds(
        "semaphore::semaphore_twin_without_wake_up_deadlocks",
        semaphore_model::<SilentRelease>,
    );
    assert!(report.contains("deadlock"), "{report}");
}
