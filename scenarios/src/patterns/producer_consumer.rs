//! Producer-consumer: M producers and N consumers share one bounded buffer.
//!
//! Use it to decouple the pace of whoever makes work from whoever does it:
//! the buffer absorbs bursts, and when it is full producers wait
//! (backpressure). With several consumers the buffer is a shared queue, so
//! the channel must be multi-consumer; with one consumer any channel works.
//!
//! Params: `items` in total, `producers`, `workers` consumers, `capacity`
//! of the buffer, `payload` bytes carried with each message (0 sends bare
//! ids), `work` per item in the consumer.
//!
//! Oracle: every message is consumed exactly once with its payload intact,
//! each consumer sees each producer's messages in the order they were
//! sent, and every producer and consumer ends once the producers are done.

use chanlab_contract::{AsyncFlavor, AsyncReceiver, AsyncSender, Receiver, Sender, SyncFlavor};

use super::worker_pool::worker_receivers;
use super::{Executor, TaskSet, Tokio, busy, require, share};
use crate::coord::WaitGroup;
use crate::oracle::{exactly_once, per_source_order, stamp, stamps};
use crate::outcome::ensure;
use crate::{Outcome, Params, ScenarioError};

const SHARED: &str = "several consumers share the one buffer";

/// A message of the workload: a stamp and, optionally, a payload whose
/// bytes the consumer can verify.
trait Message: Send + 'static {
    fn new(id: u64, payload: usize) -> Self;
    fn id(&self) -> u64;
    /// Whether the message carries the payload it was made with.
    fn intact(&self, payload: usize) -> bool;
}

impl Message for u64 {
    fn new(id: u64, _payload: usize) -> Self {
        id
    }
    fn id(&self) -> u64 {
        *self
    }
    fn intact(&self, _payload: usize) -> bool {
        true
    }
}

/// A stamp with a heap payload filled from the stamp.
struct Padded {
    id: u64,
    body: Box<[u8]>,
}

impl Message for Padded {
    fn new(id: u64, payload: usize) -> Self {
        Padded {
            id,
            body: vec![id as u8; payload].into_boxed_slice(),
        }
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn intact(&self, payload: usize) -> bool {
        self.body.len() == payload && self.body.iter().all(|&byte| byte == self.id as u8)
    }
}

/// Runs the pattern on threads.
pub fn run<F: SyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    match params.payload {
        0 => run_with::<F, u64>(params),
        _ => run_with::<F, Padded>(params),
    }
}

/// Runs the pattern as tasks.
pub async fn run_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    run_async_on::<F, Tokio>(params).await
}

/// [`run_async`] on executor `E`.
pub async fn run_async_on<F: AsyncFlavor, E: Executor>(
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    match params.payload {
        0 => run_async_with::<F, E, u64>(params).await,
        _ => run_async_with::<F, E, Padded>(params).await,
    }
}

/// What one consumer saw: the ids in arrival order, and whether every
/// payload was intact.
type Consumed = (Vec<u64>, bool);

fn run_with<F: SyncFlavor, M: Message>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(
        &F::INFO,
        params.capacity,
        (params.workers > 1).then_some(SHARED),
    )?;
    let mut consumers = WaitGroup::new();
    let mut wait_group = WaitGroup::new();
    let (buffer, receiver) = F::channel::<M>(params.capacity)?;
    for mut queue in worker_receivers(F::INFO.name, receiver, params.workers, |rx| rx.try_clone())?
    {
        let (work, payload) = (params.work, params.payload);
        consumers.spawn(move || {
            let (mut ids, mut intact) = (Vec::new(), true);
            while let Ok(message) = queue.recv() {
                busy(work);
                intact &= message.intact(payload);
                ids.push(message.id());
            }
            (ids, intact)
        });
    }
    for producer in 0..params.producers {
        let buffer = buffer.clone();
        let (count, payload) = (
            share(params.items, params.producers, producer),
            params.payload,
        );
        wait_group.spawn(move || {
            for seq in 0..count {
                if buffer.send(M::new(stamp(producer, seq), payload)).is_err() {
                    break;
                }
            }
        });
    }
    drop(buffer);
    let threads = wait_group.started() + consumers.started();
    wait_group.join()?;
    let consumed = consumers.join()?;
    check(params, &consumed)?;
    Ok(Outcome::new(params.items as u64, threads))
}

async fn run_async_with<F: AsyncFlavor, E: Executor, M: Message>(
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    require(
        &F::INFO,
        params.capacity,
        (params.workers > 1).then_some(SHARED),
    )?;
    let (buffer, receiver) = F::channel::<M>(params.capacity)?;
    let mut consumers: E::Tasks<Consumed> = Default::default();
    for mut queue in worker_receivers(F::INFO.name, receiver, params.workers, |rx| rx.try_clone())?
    {
        let (work, payload) = (params.work, params.payload);
        consumers.spawn(async move {
            let (mut ids, mut intact) = (Vec::new(), true);
            while let Ok(message) = queue.recv().await {
                busy(work);
                intact &= message.intact(payload);
                ids.push(message.id());
            }
            (ids, intact)
        });
    }
    let mut producers: E::Tasks<()> = Default::default();
    for producer in 0..params.producers {
        let buffer = buffer.clone();
        let (count, payload) = (
            share(params.items, params.producers, producer),
            params.payload,
        );
        producers.spawn(async move {
            for seq in 0..count {
                if buffer
                    .send(M::new(stamp(producer, seq), payload))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        });
    }
    drop(buffer);
    let producers = producers.join().await?.len();
    let consumed = consumers.join().await?;
    let threads = producers + consumed.len();
    check(params, &consumed)?;
    Ok(Outcome::new(params.items as u64, threads))
}

fn check(params: &Params, consumed: &[Consumed]) -> Result<(), ScenarioError> {
    ensure(consumed.iter().all(|(_, intact)| *intact), || {
        "a message arrived with a corrupted payload".into()
    })?;
    for (consumer, (ids, _)) in consumed.iter().enumerate() {
        per_source_order(&format!("consumer {consumer}"), ids)?;
    }
    let all: Vec<u64> = consumed
        .iter()
        .flat_map(|(ids, _)| ids.iter().copied())
        .collect();
    let expected = stamps(params.items, params.producers);
    exactly_once("consumed messages", expected, &all)
}
