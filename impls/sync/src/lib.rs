//! The synchronization facade: everything chanlab synchronizes itself (the
//! reference channel, the coordination primitives under the patterns) imports
//! its locks, atomics and threads from here, never from `std` directly.
//!
//! Normally these are the `std` types. Built with `RUSTFLAGS="--cfg
//! chanlab_loom"` they are loom's, and with `--cfg chanlab_shuttle`
//! shuttle's, so the same code is model-checked (loom: every schedule
//! within a bound) or schedule-tested (shuttle: random and PCT schedules of
//! larger models) unchanged. The cfg is chanlab's own rather than `loom` because a plain
//! `--cfg loom` also switches dependencies that test `cfg(loom)` themselves
//! (tokio, for one) and breaks their build.
//!
//! Only what every backend offers with the same signatures is exported.
//! [`Mutex`] and [`Condvar`] are wrapped so that `lock` and `wait` return
//! the guard itself on every backend: chanlab's code never handles
//! poisoning. Setting both cfgs is a compile error. Time is not exported:
//! loom has no clock, so code whose logic depends on time takes an
//! injected clock instead.

#[cfg(all(chanlab_loom, chanlab_shuttle))]
compile_error!(
    "--cfg chanlab_loom and --cfg chanlab_shuttle are both set: build the loom models (ci/loom.sh) and the shuttle runs (ci/shuttle.sh) separately"
);

#[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
mod imp {
    pub use std::sync::{Arc, Condvar, Mutex, MutexGuard, WaitTimeoutResult};
    pub use std::thread;

    /// Atomic types.
    pub mod atomic {
        pub use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }
}

#[cfg(chanlab_loom)]
mod imp {
    pub use loom::sync::{Arc, Condvar, Mutex, MutexGuard, WaitTimeoutResult};
    pub use loom::thread;

    /// Atomic types.
    pub mod atomic {
        pub use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }
}

#[cfg(all(chanlab_shuttle, not(chanlab_loom)))]
mod imp {
    pub use shuttle::sync::{Arc, Condvar, Mutex, MutexGuard, WaitTimeoutResult};
    pub use shuttle::thread;

    /// Atomic types.
    pub mod atomic {
        pub use shuttle::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }
}

use std::fmt;
use std::sync::PoisonError;
use std::time::Duration;

pub use imp::{Arc, MutexGuard, WaitTimeoutResult, atomic, thread};

/// A mutual exclusion lock whose [`lock`](Mutex::lock) returns the guard on
/// every backend.
///
/// chanlab's primitives keep their invariants across a panic in user code
/// (they never call user code while holding a lock), so poisoning carries
/// no information for them: a poisoned lock is taken like any other.
pub struct Mutex<T>(imp::Mutex<T>);

impl<T> Mutex<T> {
    /// A new unlocked mutex holding `value`.
    pub fn new(value: T) -> Self {
        Mutex(imp::Mutex::new(value))
    }

    /// Takes the lock, waiting for it if another thread holds it.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex").finish_non_exhaustive()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

/// A condition variable over a [`Mutex`]'s guard, without poisoning.
pub struct Condvar(imp::Condvar);

impl Condvar {
    /// A new condition variable.
    pub fn new() -> Self {
        Condvar(imp::Condvar::new())
    }

    /// Releases `guard`, waits for a notification, and takes the lock again.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.0.wait(guard).unwrap_or_else(PoisonError::into_inner)
    }

    /// Like [`wait`](Condvar::wait), but gives up after `timeout`.
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> (MutexGuard<'a, T>, WaitTimeoutResult) {
        self.0
            .wait_timeout(guard, timeout)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes one waiting thread.
    pub fn notify_one(&self) {
        self.0.notify_one();
    }

    /// Wakes every waiting thread.
    pub fn notify_all(&self) {
        self.0.notify_all();
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}

impl Default for Condvar {
    fn default() -> Self {
        Condvar::new()
    }
}
