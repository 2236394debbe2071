//! loom models of the synchronization chanlab owns under the patterns, one
//! module per primitive:
//! every interleaving within a preemption bound, with a deliberately broken
//! twin beside each model that loom must catch.
//!
//! Only built under the project's loom cfg, in its own target dir:
//!
//! ```sh
//! RUSTFLAGS="--cfg chanlab_loom" CARGO_TARGET_DIR=target-loom \
//!     cargo test --release -p chanlab-scenarios --test loom
//! ```
//!
//! Bounds: at most three threads besides the model's main thread, one or
//! two items each, and a preemption bound of [`PREEMPTIONS`]
//! ([`SHUTDOWN_PREEMPTIONS`] for the pattern shutdown models).
#![cfg(chanlab_loom)]

use chanlab_scenarios::coord::{
    CancelReason, CancelToken, ErrGroup, ManualClock, Pool, Semaphore, Singleflight, TokenBucket,
};
use chanlab_sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use chanlab_sync::{Arc, Condvar, Mutex, thread};

/// loom explores every schedule with at most this many preemptions.
const PREEMPTIONS: usize = 3;
/// The bound for the pattern shutdown models, whose four threads make the
/// state space too large for [`PREEMPTIONS`] within a minute.
const SHUTDOWN_PREEMPTIONS: usize = 2;

/// Checks `body` on every schedule within the bound.
fn model(body: impl Fn() + Sync + Send + 'static) {
    model_within(PREEMPTIONS, body);
}

/// Checks `body` on every schedule with at most `preemptions` preemptions.
fn model_within(preemptions: usize, body: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder.check(body);
}

/// Checks a broken twin's `body`, which loom must fail, and returns loom's
/// report. loom ends a deadlocked model with a panic that cannot unwind, so
/// the model runs in a child process (`test` is the calling test's name).
fn loom_finds(test: &str, body: impl Fn() + Sync + Send + 'static) -> String {
    chanlab_broken::child::must_fail(test, || model(body))
}

mod cancel;
mod errgroup;
mod pool;
mod pubsub;
mod semaphore;
mod shutdown;
mod singleflight;
mod supervisor;
mod tasks;
mod token_bucket;
