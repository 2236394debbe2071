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

use std::future::Future;
use std::time::{Duration, Instant};

use chanlab_contract::{Capacity, FlavorInfo};
use tokio::task::JoinSet;

use crate::coord::panic_message;
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

/// How many of `total` items part `part` of `parts` takes: the first
/// `total % parts` parts take one more. Every pattern splits its items
/// this way.
pub fn share(total: usize, parts: usize, part: usize) -> usize {
    total / parts + usize::from(part < total % parts)
}

/// The result a job `id` must produce: an odd multiplier, so it is a
/// bijection and the oracle can tell every job's result apart.
pub(crate) fn job_result(id: u64) -> u64 {
    id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Where an async pattern runs its tasks: [`Tokio`] in real runs, or a
/// model checker's executor (shuttle's, in `tests/shuttle.rs`) for the
/// patterns that need no timer.
pub trait Executor: 'static {
    /// A set of tasks returning `T`, spawned on this executor.
    type Tasks<T: Send + 'static>: TaskSet<T>;
}

/// Tasks spawned together and joined together.
pub trait TaskSet<T>: Default {
    /// Starts `task`.
    fn spawn(&mut self, task: impl Future<Output = T> + Send + 'static);
    /// Awaits every task and returns their results, in no particular
    /// order. A task that panicked is reported as
    /// [`ScenarioError::Panicked`] (or by the executor itself, as shuttle
    /// does).
    fn join(self) -> impl Future<Output = Result<Vec<T>, ScenarioError>>;
}

/// tokio's executor: the runtime the pattern is run on.
pub struct Tokio;

impl Executor for Tokio {
    type Tasks<T: Send + 'static> = JoinSet<T>;
}

impl<T: Send + 'static> TaskSet<T> for JoinSet<T> {
    fn spawn(&mut self, task: impl Future<Output = T> + Send + 'static) {
        JoinSet::spawn(self, task);
    }

    fn join(self) -> impl Future<Output = Result<Vec<T>, ScenarioError>> {
        join_tasks(self)
    }
}

/// Awaits every task of `tasks` and returns their results, in the order
/// they finished; a task that panicked is reported after all are joined.
pub(crate) async fn join_tasks<T: 'static>(mut tasks: JoinSet<T>) -> Result<Vec<T>, ScenarioError> {
    let mut results = Vec::with_capacity(tasks.len());
    let mut panic = None;
    while let Some(result) = tasks.join_next().await {
        match result {
            Ok(value) => results.push(value),
            Err(err) => {
                panic.get_or_insert_with(|| match err.try_into_panic() {
                    Ok(payload) => panic_message(payload.as_ref()),
                    Err(err) => err.to_string(),
                });
            }
        }
    }
    match panic {
        None => Ok(results),
        Some(message) => Err(ScenarioError::Panicked(message)),
    }
}
