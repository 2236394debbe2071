//! One module per pattern. Each opens with when to use the pattern, runs it
//! generically over the contract (`run` on threads, `run_async` on tokio
//! where it has an async version), and ends with its oracle.

pub mod cancellation;
pub mod errgroup;
pub mod event_loop;
pub mod fan_out_in;
pub mod map_reduce;
pub mod pipeline;
pub mod producer_consumer;
pub mod pubsub;
pub mod rate_limit;
pub mod resource_pool;
pub mod select;
pub mod semaphore;
pub mod shared_state;
pub mod singleflight;
pub mod supervisor;
pub mod worker_pool;

use std::time::{Duration, Instant};

use chanlab_contract::{Capacity, FlavorInfo};

pub use chanlab_workload::share;

pub(crate) use crate::coord::join_tasks;
pub use crate::coord::{Executor, TaskSet, Tokio};
use crate::{Refusal, ScenarioError};

/// Refuses, before anything starts, a flavor that cannot build `capacity`
/// or, when the pattern shares one receiver among several consumers
/// (`shared` says why), one without a multi-consumer receiver.
pub(crate) fn require(
    info: &FlavorInfo,
    capacity: Capacity,
    shared: Option<&str>,
) -> Result<(), ScenarioError> {
    info.check(capacity)?;
    if let Some(why) = shared
        && !info.capabilities.multi_consumer
    {
        return Err(ScenarioError::NotApplicable(Refusal::NoMultiConsumer {
            flavor: info.name,
            needs: why.to_owned(),
        }));
    }
    Ok(())
}

/// Simulated work on an item: a busy loop of `work`.
pub(crate) fn busy(work: Duration) {
    if work.is_zero() {
        return;
    }
    let start = Instant::now();
    while start.elapsed() < work {
        std::hint::spin_loop();
    }
}

/// The result a job `id` must produce: an odd multiplier, so it is a
/// bijection and the oracle can tell every job's result apart.
pub(crate) fn job_result(id: u64) -> u64 {
    id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}
