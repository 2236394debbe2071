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
//! Only what both backends offer with the same signatures is exported. Time
//! is not: loom has no clock, so code whose logic depends on time takes an
//! injected clock instead.

#[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
mod imp {
    pub use std::sync::{
        Arc, Condvar, LockResult, Mutex, MutexGuard, PoisonError, RwLock, WaitTimeoutResult,
    };
    pub use std::thread;

    /// Atomic types.
    pub mod atomic {
        pub use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }
}

#[cfg(chanlab_loom)]
mod imp {
    pub use loom::sync::{Arc, Condvar, LockResult, Mutex, MutexGuard, RwLock, WaitTimeoutResult};
    pub use loom::thread;
    pub use std::sync::PoisonError;

    /// Atomic types.
    pub mod atomic {
        pub use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }
}

#[cfg(chanlab_shuttle)]
mod imp {
    pub use shuttle::sync::{
        Arc, Condvar, LockResult, Mutex, MutexGuard, PoisonError, RwLock, WaitTimeoutResult,
    };
    pub use shuttle::thread;

    /// Atomic types.
    pub mod atomic {
        pub use shuttle::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }
}

pub use imp::*;

/// Locks `mutex`, recovering the guard if a previous holder panicked.
///
/// chanlab's primitives keep their invariants across a panic in user code
/// (they never call user code while holding a lock), so poisoning carries no
/// information for them.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
