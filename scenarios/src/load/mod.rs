//! Channel load: the raw channel matrix (SPSC, MPSC, MPMC) driven for
//! measurement rather than as a pattern.
//!
//! The load is the one the field's own channel benchmarks run
//! (crossbeam-channel's `benchmarks/`, kanal's, Go's): every producer sends
//! a fixed share of the messages (the first `items % producers` send one
//! more), and consumers receive until every sender is gone. The counts each
//! consumer received ([`LoadOutcome::received_by`]) show how the traffic
//! spread. On threads the clock runs from a start barrier, after every
//! thread is up, until every thread is joined; tasks are spawned with the
//! clock running (microseconds).
//!
//! A consumer's work per message is O(1) and allocates nothing: it counts
//! the message against its producer, checks that producer's sequence number
//! only grows, and adds a 64-bit mix of the stamp to a running sum
//! (`mix64`). The oracle compares those tallies with what was sent after
//! the clock stops.
//!
//! Four [`Measure`]s:
//! - [`Measure::Throughput`]: no clock is read per message, so throughput
//!   is what the channel does, not what timestamping costs.
//! - [`Measure::ClosedLoop`]: one message in [`CLOSED_LOOP_SAMPLE`] of each
//!   producer carries the time it was handed to `send`; its latency is
//!   receive time minus that. The others read no clock, so timing costs
//!   little per message.
//! - [`Measure::OpenLoop`]: the producers' messages interleave on one
//!   schedule of `rate` messages per second in total; each carries its due
//!   time. A producer that falls behind sends late messages at once, and
//!   their latency still counts from the due time, so a stall is not hidden
//!   by coordinated omission.
//! - [`Measure::Idle`]: each producer sleeps [`IDLE_GAP`] before each
//!   message, so the consumers spend the run blocked on an empty channel.
//!   The figure is the CPU the run burns: what a receiver costs while it
//!   waits (parked, or spinning), plus the sleeping producers' wake-ups.
//!
//! Latency is recorded per consumer into an HdrHistogram (1 ns to 60 s,
//! three significant digits) and merged after the run.
//!
//! The drivers are here; a message's layout in `message.rs`, the pacing
//! and the clock each producer and consumer reads in `schedule.rs`, the
//! producers' and consumers' loops in `ends.rs`, and the tallies and their
//! oracle in `tally.rs`. The load itself, as data, is `chanlab-workload`'s.
//!
//! Oracle: every message is received exactly once (per producer, as many
//! as it sent, and the sum of mixed stamps matches the sum over what was
//! sent, so one lost message and another delivered twice do not cancel),
//! each consumer sees each producer's messages in the order they were sent,
//! and every thread ends.

mod ends;
mod message;
mod schedule;
mod tally;

use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use chanlab_contract::{AsyncFlavor, AsyncReceiver, Bridge, FlavorInfo, Receiver, SyncFlavor};
pub use chanlab_workload::{
    IDLE_GAP, LoadSpec, MESSAGE_SIZES, MOST_IDLE_ITEMS, Measure, TIMED_MESSAGE_BYTES,
};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::outcome::ensure;
use crate::patterns::join_tasks;
use crate::runtime::RuntimeExt;
use crate::{Refusal, Runtime, ScenarioError};
use ends::{consume_in_tasks, consume_on_threads, produce_in_tasks, produce_on_threads};
use message::{LoadMessage, Message};
pub use schedule::CLOSED_LOOP_SAMPLE;
use schedule::Shared;
pub use tally::new_histogram;
use tally::{Received, check_tallies, tallies};

/// Rejects a load `info`'s flavor cannot run, or that makes no sense,
/// before anything starts.
pub fn validate(spec: &LoadSpec, info: &FlavorInfo) -> Result<(), ScenarioError> {
    spec.check_params()?;
    info.check(spec.capacity)?;
    if spec.consumers > 1 && !info.capabilities.multi_consumer {
        return Err(ScenarioError::NotApplicable(Refusal::NoMultiConsumer {
            flavor: info.name,
            needs: format!("{} consumers share one", spec.consumers),
        }));
    }
    Ok(())
}

/// What a load did.
#[derive(Debug, Clone)]
pub struct LoadOutcome {
    /// Messages received (all of them: the oracle held).
    pub items: u64,
    /// From the start barrier to the last receive.
    pub elapsed: Duration,
    /// Messages each producer sent.
    pub sent_by: Vec<u64>,
    /// Messages each consumer received.
    pub received_by: Vec<u64>,
    /// Per-message latency in nanoseconds, merged over consumers; `None`
    /// under [`Measure::Throughput`].
    pub latency: Option<Histogram<u64>>,
}

/// A finished load whose oracle has not run yet: the caller reads its
/// clocks first, then calls [`LoadRun::check`], so the oracle's work is
/// not counted as the channel's.
#[must_use = "a load is only valid once its oracle has passed: call `check`"]
pub struct LoadRun {
    spec: LoadSpec,
    elapsed: Duration,
    sent: Vec<Produced>,
    received: Vec<Received>,
}

impl LoadRun {
    /// From the start barrier to the last receive.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Runs the oracle on what the producers sent and the consumers
    /// received, then merges their latencies.
    pub fn check(self) -> Result<LoadOutcome, ScenarioError> {
        finish(&self.spec, self.elapsed, self.sent, self.received)
    }
}

/// Runs `spec` on blocking flavor `F`, on threads, and checks it.
pub fn run_load_sync<F: SyncFlavor>(spec: &LoadSpec) -> Result<LoadOutcome, ScenarioError> {
    start_load_sync::<F>(spec)?.check()
}

/// Runs `spec` on async flavor `F`, as tasks on a fresh tokio `runtime`,
/// and checks it.
pub fn run_load_async<F: AsyncFlavor>(
    spec: &LoadSpec,
    runtime: Runtime,
) -> Result<LoadOutcome, ScenarioError> {
    start_load_async::<F>(spec, runtime)?.check()
}

/// Runs `spec` on blocking flavor `F`, on threads; the oracle is left to
/// [`LoadRun::check`].
pub fn start_load_sync<F: SyncFlavor>(spec: &LoadSpec) -> Result<LoadRun, ScenarioError> {
    validate(spec, &F::INFO)?;
    match spec.message_bytes {
        0 => load_sync::<F, ()>(spec),
        8 => load_sync::<F, u64>(spec),
        16 => load_sync::<F, Message<0>>(spec),
        256 => load_sync::<F, Message<240>>(spec),
        _ => load_sync::<F, Message<4080>>(spec),
    }
}

/// Runs `spec` on async flavor `F`, as tasks on a fresh tokio `runtime`;
/// the oracle is left to [`LoadRun::check`].
pub fn start_load_async<F: AsyncFlavor>(
    spec: &LoadSpec,
    runtime: Runtime,
) -> Result<LoadRun, ScenarioError> {
    validate(spec, &F::INFO)?;
    match spec.message_bytes {
        0 => runtime.block_on(load_async::<F, ()>(spec)),
        8 => runtime.block_on(load_async::<F, u64>(spec)),
        16 => runtime.block_on(load_async::<F, Message<0>>(spec)),
        256 => runtime.block_on(load_async::<F, Message<240>>(spec)),
        _ => runtime.block_on(load_async::<F, Message<4080>>(spec)),
    }
}

fn load_sync<F: SyncFlavor, M: LoadMessage>(spec: &LoadSpec) -> Result<LoadRun, ScenarioError> {
    let (sender, receivers) = open(F::channel::<M>(spec.capacity)?, F::INFO.name, spec, |rx| {
        rx.try_clone()
    })?;
    let tallies = tallies(spec)?;
    // Threads meet twice: once all are up (then the clock starts), and
    // again to go, so thread start-up is not timed.
    let meet = Arc::new(Barrier::new(spec.producers + spec.consumers + 1));
    let shared = Arc::new(Shared::new(spec));
    let clock = Arc::new(OnceLock::<Instant>::new());
    let started = {
        let (meet, shared, clock) = (meet.clone(), shared.clone(), clock.clone());
        move || {
            meet.wait();
            meet.wait();
            // Set by the main thread between the two meetings.
            let start = clock.get().copied().unwrap_or_else(Instant::now);
            (shared.clone(), start)
        }
    };
    let consumers = consume_on_threads(receivers, tallies, started.clone());
    let producers = produce_on_threads(&sender, spec.producers, started);
    drop(sender);
    meet.wait();
    let start = Instant::now();
    // Cannot fail: this is the only place that sets it.
    let _ = clock.set(start);
    meet.wait();
    let sent = producers.join()?;
    let received = consumers.join()?;
    Ok(LoadRun {
        spec: spec.clone(),
        elapsed: start.elapsed(),
        sent,
        received,
    })
}

async fn load_async<F: AsyncFlavor, M: LoadMessage>(
    spec: &LoadSpec,
) -> Result<LoadRun, ScenarioError> {
    let (sender, receivers) = open(F::channel::<M>(spec.capacity)?, F::INFO.name, spec, |rx| {
        rx.try_clone()
    })?;
    let tallies = tallies(spec)?;
    let shared = Arc::new(Shared::new(spec));
    // Tasks cost microseconds to spawn, so the clock starts before them.
    let start = Instant::now();
    let consumers = consume_in_tasks(receivers, tallies, &shared, start);
    let producers = produce_in_tasks(&sender, spec.producers, &shared, start);
    drop(sender);
    let sent = join_producers(producers).await?;
    let received = join_tasks(consumers).await?;
    Ok(LoadRun {
        spec: spec.clone(),
        elapsed: start.elapsed(),
        sent,
        received,
    })
}

/// Which end of a [`Bridge`] is blocking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Producer threads feed consumer tasks.
    SyncToAsync,
    /// Producer tasks feed consumer threads.
    AsyncToSync,
}

impl Direction {
    /// Both directions.
    pub const ALL: [Direction; 2] = [Direction::SyncToAsync, Direction::AsyncToSync];

    /// The direction's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Direction::SyncToAsync => "sync-to-async",
            Direction::AsyncToSync => "async-to-sync",
        }
    }
}

/// Runs `spec` across bridge `B` in `direction`: threads on one end, tasks
/// on a fresh tokio `runtime` on the other; the oracle is left to
/// [`LoadRun::check`]. The clock starts before the threads and tasks do
/// (spawning costs microseconds).
pub fn start_load_bridge<B: Bridge>(
    spec: &LoadSpec,
    direction: Direction,
    runtime: Runtime,
) -> Result<LoadRun, ScenarioError> {
    // Both ends must take the capacity; the receiving end must be shared
    // by several consumers.
    let (sending, receiving) = match direction {
        Direction::SyncToAsync => (B::Sync::INFO, B::Async::INFO),
        Direction::AsyncToSync => (B::Async::INFO, B::Sync::INFO),
    };
    validate(spec, &receiving)?;
    sending.check(spec.capacity)?;
    match spec.message_bytes {
        0 => runtime.block_on(bridge::<B, ()>(spec, direction)),
        8 => runtime.block_on(bridge::<B, u64>(spec, direction)),
        16 => runtime.block_on(bridge::<B, Message<0>>(spec, direction)),
        256 => runtime.block_on(bridge::<B, Message<240>>(spec, direction)),
        _ => runtime.block_on(bridge::<B, Message<4080>>(spec, direction)),
    }
}

async fn bridge<B: Bridge, M: LoadMessage>(
    spec: &LoadSpec,
    direction: Direction,
) -> Result<LoadRun, ScenarioError> {
    let tallies = tallies(spec)?;
    let shared = Arc::new(Shared::new(spec));
    let start = Instant::now();
    let started = {
        let shared = shared.clone();
        move || (shared.clone(), start)
    };
    // Whichever end has threads, they are joined only after the tasks: by
    // then every sender is gone, so the threads have finished or are about
    // to, and the join does not hold up the runtime.
    let (sent, received) = match direction {
        Direction::SyncToAsync => {
            let (sender, receivers) = open(
                B::sync_to_async::<M>(spec.capacity)?,
                B::Async::INFO.name,
                spec,
                |rx| rx.try_clone(),
            )?;
            let consumers = consume_in_tasks(receivers, tallies, &shared, start);
            let producers = produce_on_threads(&sender, spec.producers, started);
            drop(sender);
            let received = join_tasks(consumers).await?;
            (producers.join()?, received)
        }
        Direction::AsyncToSync => {
            let (sender, receivers) = open(
                B::async_to_sync::<M>(spec.capacity)?,
                B::Sync::INFO.name,
                spec,
                |rx| rx.try_clone(),
            )?;
            let consumers = consume_on_threads(receivers, tallies, started);
            let producers = produce_in_tasks(&sender, spec.producers, &shared, start);
            drop(sender);
            let sent = join_producers(producers).await?;
            (sent, consumers.join()?)
        }
    };
    Ok(LoadRun {
        spec: spec.clone(),
        elapsed: start.elapsed(),
        sent,
        received,
    })
}

/// What a producer returns: its number and how many it sent.
type Produced = Result<(usize, u64), String>;

/// Joins producer tasks and puts each producer's count in its place:
/// tasks finish in any order.
async fn join_producers(tasks: JoinSet<Produced>) -> Result<Vec<Produced>, ScenarioError> {
    let mut sent = join_tasks(tasks).await?;
    sent.sort_by_key(|result| {
        result
            .as_ref()
            .map_or(usize::MAX, |&(producer, _)| producer)
    });
    Ok(sent)
}

/// The channel's sender and `spec.consumers` receivers on it.
fn open<S, R>(
    (sender, receiver): (S, R),
    flavor: &'static str,
    spec: &LoadSpec,
    clone: impl Fn(&R) -> Option<R>,
) -> Result<(S, Vec<R>), ScenarioError> {
    let mut receivers = vec![receiver];
    for _ in 1..spec.consumers {
        receivers.push(clone(&receivers[0]).ok_or(ScenarioError::NotApplicable(
            Refusal::CloneRefused { flavor },
        ))?);
    }
    Ok((sender, receivers))
}

/// Runs the oracle on what the producers sent (each producer's number and
/// count, in producer order) and the consumers received, then merges their
/// latencies.
fn finish(
    spec: &LoadSpec,
    elapsed: Duration,
    sent: Vec<Produced>,
    received: Vec<Received>,
) -> Result<LoadOutcome, ScenarioError> {
    let sent_by = sent
        .into_iter()
        .map(|result| result.map(|(_, count)| count))
        .collect::<Result<Vec<u64>, String>>()
        .map_err(ScenarioError::Oracle)?;
    let received_by: Vec<u64> = received.iter().map(|r| r.count).collect();
    let total: u64 = received_by.iter().sum();
    ensure(total == spec.items as u64, || {
        format!("{} messages sent, {total} received", spec.items)
    })?;
    if spec.message_bytes > 0 {
        check_tallies(&sent_by, &received)?;
    }
    let mut latency: Option<Histogram<u64>> = None;
    for histogram in received.into_iter().filter_map(|got| got.latency) {
        match &mut latency {
            None => latency = Some(histogram),
            Some(merged) => merged
                .add(&histogram)
                .map_err(|err| ScenarioError::Oracle(format!("merging latencies: {err}")))?,
        }
    }
    Ok(LoadOutcome {
        items: total,
        elapsed,
        sent_by,
        received_by,
        latency,
    })
}
