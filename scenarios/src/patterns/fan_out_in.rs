//! Fan-out / fan-in: one source deals jobs round-robin to workers, each
//! worker writes to its own output, and the outputs are merged into one
//! stream that closes when every worker is done.
//!
//! Use it when each worker should own its input and output (no shared
//! queue, so it runs on single-consumer channels too), and the consumer
//! wants one stream. The merge is Go's: one forwarder per output into the
//! merged channel, which closes when the last forwarder drops its sender.
//!
//! Params: `items` jobs, `workers` workers, `capacity` of every channel,
//! `work` per job.
//!
//! Oracle: every job comes out of the merged stream exactly once, each
//! worker's outputs in the order it produced them, and the merged stream
//! closes only after the last one.

use chanlab_contract::{AsyncFlavor, AsyncReceiver, AsyncSender, Receiver, Sender, SyncFlavor};

use super::{Executor, TaskSet, Tokio, busy, require};
use crate::coord::WaitGroup;
use crate::oracle::{exactly_once, per_source_order, stamp, stamps};
use crate::{Outcome, Params, ScenarioError};

/// Runs the pattern on threads.
pub fn run<F: SyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let mut wait_group = WaitGroup::new();
    let (merged_tx, mut merged) = F::channel::<u64>(params.capacity)?;
    let mut inputs = Vec::with_capacity(params.workers);
    for worker in 0..params.workers {
        let (input, mut jobs) = F::channel::<u64>(params.capacity)?;
        let (output, mut outputs) = F::channel::<u64>(params.capacity)?;
        inputs.push(input);
        let work = params.work;
        wait_group.spawn(move || {
            let mut seq = 0;
            while let Ok(_job) = jobs.recv() {
                busy(work);
                if output.send(stamp(worker, seq)).is_err() {
                    break;
                }
                seq += 1;
            }
        });
        let merged_tx = merged_tx.clone();
        wait_group.spawn(move || {
            while let Ok(result) = outputs.recv() {
                if merged_tx.send(result).is_err() {
                    break;
                }
            }
        });
    }
    drop(merged_tx);
    let items = params.items as u64;
    wait_group.spawn(move || {
        for (job, input) in (0..items).zip(inputs.iter().cycle()) {
            if input.send(job).is_err() {
                break;
            }
        }
    });

    let mut received = Vec::with_capacity(params.items);
    while let Ok(result) = merged.recv() {
        received.push(result);
    }
    let threads = wait_group.started();
    wait_group.join()?;
    check(params, &received)?;
    Ok(Outcome::new(items, threads))
}

/// Runs the pattern as tasks.
pub async fn run_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    run_async_on::<F, Tokio>(params).await
}

/// [`run_async`] on executor `E`.
pub async fn run_async_on<F: AsyncFlavor, E: Executor>(
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let mut tasks: E::Tasks<()> = Default::default();
    let (merged_tx, mut merged) = F::channel::<u64>(params.capacity)?;
    let mut inputs = Vec::with_capacity(params.workers);
    for worker in 0..params.workers {
        let (input, mut jobs) = F::channel::<u64>(params.capacity)?;
        let (output, mut outputs) = F::channel::<u64>(params.capacity)?;
        inputs.push(input);
        let work = params.work;
        tasks.spawn(async move {
            let mut seq = 0;
            while let Ok(_job) = jobs.recv().await {
                busy(work);
                if output.send(stamp(worker, seq)).await.is_err() {
                    break;
                }
                seq += 1;
            }
        });
        let merged_tx = merged_tx.clone();
        tasks.spawn(async move {
            while let Ok(result) = outputs.recv().await {
                if merged_tx.send(result).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(merged_tx);
    let items = params.items as u64;
    tasks.spawn(async move {
        for (job, input) in (0..items).zip(inputs.iter().cycle()) {
            if input.send(job).await.is_err() {
                break;
            }
        }
    });

    let mut received = Vec::with_capacity(params.items);
    while let Ok(result) = merged.recv().await {
        received.push(result);
    }
    let threads = tasks.join().await?.len();
    check(params, &received)?;
    Ok(Outcome::new(items, threads))
}

/// Worker `w` gets jobs `w, w + workers, ...`, so it must produce exactly
/// its share of stamps, in order.
fn check(params: &Params, received: &[u64]) -> Result<(), ScenarioError> {
    exactly_once(
        "merged stream",
        stamps(params.items, params.workers),
        received,
    )?;
    per_source_order("merged stream", received)
}
