//! Shared by the scenario tests: small parameters and a watchdog.

#![allow(dead_code, reason = "each test binary uses only part of this module")]

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use chanlab_contract::Capacity;
use chanlab_scenarios::{Params, Primitive, Runtime, World};

/// A small run of every pattern: quick, but with enough threads and items
/// to interleave.
pub fn small(capacity: Capacity) -> Params {
    Params {
        items: 300,
        producers: 2,
        workers: 3,
        capacity,
        payload: 0,
        work: Duration::ZERO,
        rate: 50_000.0,
        burst: 4,
    }
}

/// Runs `run` on its own thread and returns its result, or `None` if it
/// has not finished within `limit` (the thread is then left behind; the
/// test process ends it).
pub fn within<T: Send + 'static>(
    limit: Duration,
    run: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (done, result) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(run());
    });
    result.recv_timeout(limit).ok()
}

/// The runtimes a run on `primitive` covers: both for one that runs as
/// tasks, one (which it ignores) for one on threads.
pub fn runtimes_for(primitive: Primitive) -> &'static [Runtime] {
    match primitive.world() {
        World::Tasks => &Runtime::ALL,
        World::Threads => &[Runtime::MultiThread],
    }
}
