//! Pipeline: source -> map -> filter -> batch -> sink, each stage on its own
//! thread (or task), joined by channels.
//!
//! Use it when work splits into steps that can overlap: every stage works
//! on a different item at the same time. Closing flows downstream (a stage
//! ends when its input closes and then drops its output), and bounded
//! channels give backpressure: a slow stage makes the ones before it wait
//! instead of letting items pile up.
//!
//! Stages: `map` multiplies by 3, `filter` keeps even values, `batch`
//! groups them by [`BATCH`].
//!
//! Params: `items` from the source, `capacity` of every channel, `work` per
//! item in the map stage.
//!
//! Oracle: the sink gets exactly the batches a sequential run computes, in
//! order; every stage ends; and with bounded channels, the items inside the
//! pipeline at once never exceed what its channels and stages can hold.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, Receiver, Sender, SyncFlavor,
};

use super::{Executor, TaskSet, Tokio, busy, require};
use crate::coord::WaitGroup;
use crate::outcome::ensure;
use crate::{Outcome, Params, ScenarioError};

/// Items per batch.
pub const BATCH: usize = 8;

/// Items admitted by the source and retired (filtered out or delivered),
/// to bound what is in flight. Instrumentation, so `std` atomics.
struct Flow {
    admitted: AtomicU64,
    retired: AtomicU64,
    most_in_flight: AtomicU64,
}

impl Flow {
    fn new() -> Self {
        Flow {
            admitted: AtomicU64::new(0),
            retired: AtomicU64::new(0),
            most_in_flight: AtomicU64::new(0),
        }
    }

    fn admit(&self) {
        let admitted = self.admitted.fetch_add(1, Ordering::SeqCst) + 1;
        // A channel that duplicates retires more than was admitted: the
        // oracle names that, so the count must not overflow first.
        let in_flight = admitted.saturating_sub(self.retired.load(Ordering::SeqCst));
        self.most_in_flight.fetch_max(in_flight, Ordering::SeqCst);
    }

    fn retire(&self, items: usize) {
        self.retired.fetch_add(items as u64, Ordering::SeqCst);
    }
}

fn map(item: u64) -> u64 {
    item * 3
}

fn keep(item: u64) -> bool {
    item.is_multiple_of(2)
}

/// Runs the pipeline on threads.
pub fn run<F: SyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let flow = Arc::new(Flow::new());
    let mut wait_group = WaitGroup::new();
    let (source, mut to_map) = F::channel::<u64>(params.capacity)?;
    let (mapped, mut to_filter) = F::channel::<u64>(params.capacity)?;
    let (filtered, mut to_batch) = F::channel::<u64>(params.capacity)?;
    let (batched, mut sink) = F::channel::<Vec<u64>>(params.capacity)?;

    let items = params.items as u64;
    let source_flow = Arc::clone(&flow);
    wait_group.spawn(move || {
        for item in 0..items {
            if source.send(item).is_err() {
                break;
            }
            source_flow.admit();
        }
    });
    let work = params.work;
    wait_group.spawn(move || {
        while let Ok(item) = to_map.recv() {
            busy(work);
            if mapped.send(map(item)).is_err() {
                break;
            }
        }
    });
    let filter_flow = Arc::clone(&flow);
    wait_group.spawn(move || {
        while let Ok(item) = to_filter.recv() {
            if !keep(item) {
                filter_flow.retire(1);
            } else if filtered.send(item).is_err() {
                break;
            }
        }
    });
    wait_group.spawn(move || {
        let mut batch = Vec::with_capacity(BATCH);
        while let Ok(item) = to_batch.recv() {
            batch.push(item);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if batched.send(full).is_err() {
                    return;
                }
            }
        }
        if !batch.is_empty() {
            // The sink may be gone too; nothing is left to do either way.
            let _ = batched.send(batch);
        }
    });

    let mut received = Vec::new();
    while let Ok(batch) = sink.recv() {
        flow.retire(batch.len());
        received.push(batch);
    }
    let threads = wait_group.started();
    wait_group.join()?;
    check(params, &received, &flow)?;
    Ok(Outcome::new(items, threads)
        .with("most_in_flight", flow.most_in_flight.load(Ordering::SeqCst)))
}

/// Runs the pipeline as tasks.
pub async fn run_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    run_async_on::<F, Tokio>(params).await
}

/// [`run_async`] on executor `E`.
pub async fn run_async_on<F: AsyncFlavor, E: Executor>(
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let flow = Arc::new(Flow::new());
    let mut tasks: E::Tasks<()> = Default::default();
    let (source, mut to_map) = F::channel::<u64>(params.capacity)?;
    let (mapped, mut to_filter) = F::channel::<u64>(params.capacity)?;
    let (filtered, mut to_batch) = F::channel::<u64>(params.capacity)?;
    let (batched, mut sink) = F::channel::<Vec<u64>>(params.capacity)?;

    let items = params.items as u64;
    let source_flow = Arc::clone(&flow);
    tasks.spawn(async move {
        for item in 0..items {
            if source.send(item).await.is_err() {
                break;
            }
            source_flow.admit();
        }
    });
    let work = params.work;
    tasks.spawn(async move {
        while let Ok(item) = to_map.recv().await {
            busy(work);
            if mapped.send(map(item)).await.is_err() {
                break;
            }
        }
    });
    let filter_flow = Arc::clone(&flow);
    tasks.spawn(async move {
        while let Ok(item) = to_filter.recv().await {
            if !keep(item) {
                filter_flow.retire(1);
            } else if filtered.send(item).await.is_err() {
                break;
            }
        }
    });
    tasks.spawn(async move {
        let mut batch = Vec::with_capacity(BATCH);
        while let Ok(item) = to_batch.recv().await {
            batch.push(item);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if batched.send(full).await.is_err() {
                    return;
                }
            }
        }
        if !batch.is_empty() {
            // The sink may be gone too; nothing is left to do either way.
            let _ = batched.send(batch).await;
        }
    });

    let mut received = Vec::new();
    while let Ok(batch) = sink.recv().await {
        flow.retire(batch.len());
        received.push(batch);
    }
    let threads = tasks.join().await?.len();
    check(params, &received, &flow)?;
    Ok(Outcome::new(items, threads)
        .with("most_in_flight", flow.most_in_flight.load(Ordering::SeqCst)))
}

/// The batches a sequential run produces, in order; and the in-flight
/// bound: each of the three item channels holds `capacity` items, the
/// batch channel `capacity` batches; the map and filter stages hold one
/// item each, the batcher and the sink one batch each.
fn check(params: &Params, received: &[Vec<u64>], flow: &Flow) -> Result<(), ScenarioError> {
    let kept: Vec<u64> = (0..params.items as u64)
        .map(map)
        .filter(|&x| keep(x))
        .collect();
    let expected: Vec<Vec<u64>> = kept.chunks(BATCH).map(<[u64]>::to_vec).collect();
    if received != expected {
        let at = received
            .iter()
            .zip(&expected)
            .position(|(got, want)| got != want)
            .unwrap_or(received.len().min(expected.len()));
        return Err(ScenarioError::Oracle(format!(
            "the sink got {} batches where {} were expected; first difference at batch {at}: got {:?}, expected {:?}",
            received.len(),
            expected.len(),
            received.get(at),
            expected.get(at)
        )));
    }
    if let Capacity::Bounded(capacity) = params.capacity {
        let bound = (3 * capacity + capacity * BATCH + 2 + 2 * BATCH) as u64;
        let most = flow.most_in_flight.load(Ordering::SeqCst);
        ensure(most <= bound, || {
            format!(
                "{most} items were inside the pipeline at once, more than its bounded channels and stages can hold ({bound}): no backpressure"
            )
        })?;
    }
    Ok(())
}
