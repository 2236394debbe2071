//! Worker pool: a fixed number of workers pull jobs from one shared queue
//! and send their results to one collector.
//!
//! Use it to bound the parallelism of many independent jobs: the pool's
//! size, not the number of jobs, decides how many run at once, and a
//! bounded job queue pushes back on whoever submits. Closing the job queue
//! (dropping its last sender) is how the workers learn to stop.
//!
//! Needs a multi-consumer receiver when there is more than one worker:
//! every worker receives from the same queue.
//!
//! Params: `items` jobs, `workers` workers, `capacity` of both queues,
//! `work` per job.
//!
//! Oracle: every job's result arrives exactly once and is the right one,
//! and every worker ends once the job queue closes.

use chanlab_contract::{AsyncFlavor, AsyncReceiver, AsyncSender, Receiver, Sender, SyncFlavor};

use super::{Executor, TaskSet, Tokio, busy, job_result, require};
use crate::coord::WaitGroup;
use crate::oracle::exactly_once;
use crate::{Outcome, Params, Refusal, ScenarioError};

const SHARED: &str = "the workers share one job queue";

/// Runs the pool on threads.
pub fn run<F: SyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(
        &F::INFO,
        params.capacity,
        (params.workers > 1).then_some(SHARED),
    )?;
    let mut wait_group = WaitGroup::new();
    let (jobs, jobs_rx) = F::channel::<u64>(params.capacity)?;
    let (results_tx, mut results) = F::channel::<u64>(params.capacity)?;

    for mut queue in worker_receivers(F::INFO.name, jobs_rx, params.workers, |rx| rx.try_clone())? {
        let results_tx = results_tx.clone();
        let work = params.work;
        wait_group.spawn(move || {
            while let Ok(id) = queue.recv() {
                busy(work);
                if results_tx.send(job_result(id)).is_err() {
                    break;
                }
            }
        });
    }
    drop(results_tx);
    let items = params.items as u64;
    wait_group.spawn(move || {
        for id in 0..items {
            if jobs.send(id).is_err() {
                break;
            }
        }
    });

    let mut received = Vec::with_capacity(params.items);
    while let Ok(result) = results.recv() {
        received.push(result);
    }
    let threads = wait_group.started();
    wait_group.join()?;
    check(params, &received)?;
    Ok(Outcome::new(items, threads))
}

/// Runs the pool as tasks.
pub async fn run_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    run_async_on::<F, Tokio>(params).await
}

/// [`run_async`] on executor `E`.
pub async fn run_async_on<F: AsyncFlavor, E: Executor>(
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    require(
        &F::INFO,
        params.capacity,
        (params.workers > 1).then_some(SHARED),
    )?;
    let mut tasks: E::Tasks<()> = Default::default();
    let (jobs, jobs_rx) = F::channel::<u64>(params.capacity)?;
    let (results_tx, mut results) = F::channel::<u64>(params.capacity)?;

    for mut queue in worker_receivers(F::INFO.name, jobs_rx, params.workers, |rx| rx.try_clone())? {
        let results_tx = results_tx.clone();
        let work = params.work;
        tasks.spawn(async move {
            while let Ok(id) = queue.recv().await {
                busy(work);
                if results_tx.send(job_result(id)).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(results_tx);
    let items = params.items as u64;
    tasks.spawn(async move {
        for id in 0..items {
            if jobs.send(id).await.is_err() {
                break;
            }
        }
    });

    let mut received = Vec::with_capacity(params.items);
    while let Ok(result) = results.recv().await {
        received.push(result);
    }
    let threads = tasks.join().await?.len();
    check(params, &received)?;
    Ok(Outcome::new(items, threads))
}

/// `count` receivers on one queue of `flavor`: clones of `first`, then `first` itself.
pub(crate) fn worker_receivers<R>(
    flavor: &'static str,
    first: R,
    count: usize,
    try_clone: impl Fn(&R) -> Option<R>,
) -> Result<Vec<R>, ScenarioError> {
    let mut receivers = Vec::with_capacity(count);
    for _ in 1..count {
        receivers.push(try_clone(&first).ok_or(ScenarioError::NotApplicable(
            Refusal::CloneRefused { flavor },
        ))?);
    }
    receivers.push(first);
    Ok(receivers)
}

/// Every job's result exactly once.
fn check(params: &Params, received: &[u64]) -> Result<(), ScenarioError> {
    let expected = (0..params.items as u64).map(job_result);
    exactly_once("worker pool results", expected, received)
}
