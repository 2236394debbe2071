//! Pattern shutdown over the reference channel: closing the job queue ends
//! every worker, and every result arrives once.

use chanlab_broken::{Broken, NeverDisconnects};
use chanlab_contract::Capacity;
use chanlab_impls::Reference;
use chanlab_scenarios::{Params, Pattern, run_sync};

use super::{SHUTDOWN_PREEMPTIONS, loom_finds, model_within};

/// Two jobs, two workers, a queue of one: the smallest pool in which
/// workers contend and the close must reach a blocked worker.
fn tiny() -> Params {
    Params {
        items: 2,
        producers: 1,
        workers: 2,
        capacity: Capacity::Bounded(1),
        ..Params::default()
    }
}

#[test]
fn worker_pool_ends_every_worker_and_loses_nothing() {
    model_within(SHUTDOWN_PREEMPTIONS, || {
        run_sync::<Reference>(Pattern::WorkerPool, &tiny()).unwrap();
    });
}

#[test]
fn worker_pool_twin_whose_queue_never_closes_deadlocks() {
    let report = loom_finds(
        "shutdown::worker_pool_twin_whose_queue_never_closes_deadlocks",
        || {
            let _ = run_sync::<Broken<NeverDisconnects>>(Pattern::WorkerPool, &tiny());
        },
    );
    assert!(report.contains("deadlock"), "{report}");
}
