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
//! ([`mix64`]). The oracle compares those tallies with what was sent after
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
//! Oracle: every message is received exactly once (per producer, as many
//! as it sent, and the sum of mixed stamps matches the sum over what was
//! sent, so one lost message and another delivered twice do not cancel),
//! each consumer sees each producer's messages in the order they were sent,
//! and every thread ends.

use std::sync::{Arc, Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, Bridge, Capacity, FlavorInfo, Receiver, Sender,
    SyncFlavor,
};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::coord::WaitGroup;
use crate::oracle::{mix64, source_of, stamp};
use crate::outcome::ensure;
use crate::params::{MAX_ITEMS, MAX_THREADS, capacity_within, count_within};
use crate::patterns::{join_tasks, share};
use crate::{ParamError, Refusal, Runtime, ScenarioError};

/// The message sizes a load can carry, in bytes. `0` sends a zero-sized
/// message, which has no room for a stamp: its oracle only counts. `8`
/// sends a bare `u64` stamp, with no room for a time: it cannot measure
/// latency. Larger messages carry a stamp, a time and padding.
pub const MESSAGE_SIZES: [usize; 5] = [0, 8, 16, 256, 4096];

/// The smallest message that carries a time, so latency can be measured.
pub const TIMED_MESSAGE_BYTES: usize = 16;

/// Highest latency a histogram records: 60 s, in nanoseconds. Longer
/// latencies are recorded as this value.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// In the closed loop, one message in this many of each producer carries
/// its send time and is recorded: reading the clock at both ends of every
/// message costs about as much as a buffered hand-off itself, and would
/// slow the very traffic being measured. The sample is systematic (every
/// 8th message of each producer), so it favours no phase of the run.
pub const CLOSED_LOOP_SAMPLE: usize = 8;

/// Most messages in an idle load: ten minutes of [`IDLE_GAP`]s per
/// producer at most, so a mistaken size cannot hang a run for hours.
pub const MOST_IDLE_ITEMS: usize = 600_000;

/// The time carried by a message that is not timed.
const UNTIMED: u64 = u64::MAX;

/// How a load is timed. Named in every result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum Measure {
    /// Send as fast as the channel takes; no per-message clock.
    Throughput,
    /// Send as fast as the channel takes; latency from the moment of `send`.
    ClosedLoop,
    /// Send on a fixed schedule of `rate` messages per second in total;
    /// latency from each message's scheduled time.
    OpenLoop {
        /// Messages per second across all producers.
        rate: f64,
    },
    /// Each producer sleeps [`IDLE_GAP`] before each message (a sleep,
    /// never a spin), so the consumers wait on an empty channel; no
    /// per-message clock.
    Idle,
}

/// How long each producer sleeps before each message under
/// [`Measure::Idle`]: long enough that a receiver which spins before it
/// parks has given up spinning, so the run shows which receivers park.
pub const IDLE_GAP: Duration = Duration::from_millis(1);

impl Measure {
    /// The mode's name in filters and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Measure::Throughput => "throughput",
            Measure::ClosedLoop => "closed-loop",
            Measure::OpenLoop { .. } => "open-loop",
            Measure::Idle => "idle",
        }
    }

    fn records_latency(&self) -> bool {
        matches!(self, Measure::ClosedLoop | Measure::OpenLoop { .. })
    }
}

/// One load: who sends, who receives, through what, and how it is timed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSpec {
    /// Producer threads or tasks.
    pub producers: usize,
    /// Consumer threads or tasks; more than one needs a multi-consumer
    /// receiver.
    pub consumers: usize,
    /// The channel's capacity.
    pub capacity: Capacity,
    /// Bytes per message, one of [`MESSAGE_SIZES`].
    pub message_bytes: usize,
    /// Messages in the run.
    pub items: usize,
    /// How the run is timed.
    pub measure: Measure,
}

impl LoadSpec {
    /// The shape's conventional name: `spsc`, `mpsc`, `spmc` or `mpmc`.
    pub fn shape(&self) -> &'static str {
        match (self.producers > 1, self.consumers > 1) {
            (false, false) => "spsc",
            (true, false) => "mpsc",
            (false, true) => "spmc",
            (true, true) => "mpmc",
        }
    }

    /// Messages per second the load's schedule sends, when a schedule and
    /// not the channel sets its pace: the open loop's rate, or an idle
    /// load's one message per [`IDLE_GAP`] per producer (an upper bound:
    /// sleeps overshoot).
    pub fn scheduled_rate(&self) -> Option<f64> {
        match self.measure {
            Measure::OpenLoop { rate } if rate > 0.0 => Some(rate),
            Measure::Idle => Some(self.producers as f64 / IDLE_GAP.as_secs_f64()),
            _ => None,
        }
    }

    /// Rejects a load `info`'s flavor cannot run, or that makes no sense,
    /// before anything starts.
    pub fn validate(&self, info: &FlavorInfo) -> Result<(), ScenarioError> {
        let threads = " (each is a thread)";
        count_within("producers", self.producers, MAX_THREADS, threads)?;
        count_within("consumers", self.consumers, MAX_THREADS, threads)?;
        count_within("items", self.items, MAX_ITEMS, "")?;
        capacity_within(self.capacity)?;
        if !MESSAGE_SIZES.contains(&self.message_bytes) {
            return Err(ParamError::new(
                "message size",
                self.message_bytes,
                format!("one of {MESSAGE_SIZES:?} bytes"),
            )
            .into());
        }
        if self.message_bytes < TIMED_MESSAGE_BYTES && self.measure.records_latency() {
            return Err(ParamError::new(
                "message size",
                self.message_bytes,
                format!(
                    "at least {TIMED_MESSAGE_BYTES} bytes to carry a time when latency is measured"
                ),
            )
            .into());
        }
        if let Measure::OpenLoop { rate } = self.measure
            && !(rate.is_finite() && rate >= 1.0)
        {
            return Err(
                ParamError::new("open-loop rate", rate, "at least 1 message per second").into(),
            );
        }
        info.check(self.capacity)?;
        if self.measure == Measure::Idle && self.items > MOST_IDLE_ITEMS {
            return Err(ParamError::new(
                "items",
                self.items,
                format!(
                    "at most {MOST_IDLE_ITEMS} in an idle load, one every {IDLE_GAP:?} per producer"
                ),
            )
            .into());
        }
        if self.consumers > 1 && !info.capabilities.multi_consumer {
            return Err(ScenarioError::NotApplicable(Refusal::NoMultiConsumer {
                flavor: info.name,
                needs: format!("{} consumers share one", self.consumers),
            }));
        }
        Ok(())
    }
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
    spec.validate(&F::INFO)?;
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
    spec.validate(&F::INFO)?;
    match spec.message_bytes {
        0 => runtime.block_on(load_async::<F, ()>(spec)),
        8 => runtime.block_on(load_async::<F, u64>(spec)),
        16 => runtime.block_on(load_async::<F, Message<0>>(spec)),
        256 => runtime.block_on(load_async::<F, Message<240>>(spec)),
        _ => runtime.block_on(load_async::<F, Message<4080>>(spec)),
    }
}

/// A message of a load: a [`stamp`], a time in nanoseconds since the start
/// (or [`UNTIMED`]), and padding up to its size.
trait LoadMessage: Send + 'static {
    fn new(stamp: u64, at_ns: u64) -> Self;
    /// The stamp, or `None` for a message too small to carry one.
    fn stamp(&self) -> Option<u64>;
    fn at_ns(&self) -> u64;
}

impl LoadMessage for () {
    fn new(_stamp: u64, _at_ns: u64) -> Self {}
    fn stamp(&self) -> Option<u64> {
        None
    }
    fn at_ns(&self) -> u64 {
        UNTIMED
    }
}

impl LoadMessage for u64 {
    fn new(stamp: u64, _at_ns: u64) -> Self {
        stamp
    }
    fn stamp(&self) -> Option<u64> {
        Some(*self)
    }
    fn at_ns(&self) -> u64 {
        UNTIMED
    }
}

/// 16 bytes of stamp and time, then `PAD` bytes.
struct Message<const PAD: usize> {
    stamp: u64,
    at_ns: u64,
    _pad: [u8; PAD],
}

impl<const PAD: usize> LoadMessage for Message<PAD> {
    fn new(stamp: u64, at_ns: u64) -> Self {
        Message {
            stamp,
            at_ns,
            _pad: [0; PAD],
        }
    }
    fn stamp(&self) -> Option<u64> {
        Some(self.stamp)
    }
    fn at_ns(&self) -> u64 {
        self.at_ns
    }
}

/// What every thread of one run shares: the shares and the schedule.
struct Shared {
    items: usize,
    producers: usize,
    measure: Measure,
    /// Nanoseconds between two due times in the open loop.
    interval_ns: f64,
}

impl Shared {
    fn new(spec: &LoadSpec) -> Self {
        let interval_ns = match spec.measure {
            Measure::OpenLoop { rate } => 1e9 / rate,
            _ => 0.0,
        };
        Shared {
            items: spec.items,
            producers: spec.producers,
            measure: spec.measure,
            interval_ns,
        }
    }
}

/// [`Shared`] with the moment the run started, as each thread sees it.
#[derive(Clone, Copy)]
struct Schedule<'a> {
    shared: &'a Shared,
    start: Instant,
}

impl Schedule<'_> {
    /// How many messages `producer` sends.
    fn share(&self, producer: usize) -> usize {
        share(self.shared.items, self.shared.producers, producer)
    }

    /// The place of message `seq` of `producer` on the common schedule:
    /// the producers take turns, so the indices are `0..items` once each.
    fn index(&self, producer: usize, seq: usize) -> usize {
        seq * self.shared.producers + producer
    }

    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// When the message at `index` is due, in the open loop.
    fn due_ns(&self, index: usize) -> u64 {
        (index as f64 * self.shared.interval_ns) as u64
    }

    /// The time message `seq` of `producer` carries: its send time for one
    /// message in [`CLOSED_LOOP_SAMPLE`] in the closed loop, its due time in
    /// the open loop, and [`UNTIMED`] otherwise.
    fn time_for(&self, producer: usize, seq: usize) -> u64 {
        match self.shared.measure {
            Measure::ClosedLoop if seq.is_multiple_of(CLOSED_LOOP_SAMPLE) => self.now_ns(),
            Measure::OpenLoop { .. } => self.due_ns(self.index(producer, seq)),
            Measure::Throughput | Measure::ClosedLoop | Measure::Idle => UNTIMED,
        }
    }

    /// How long a producer should wait before sending message `seq`: zero
    /// in the closed loop or when it is already late.
    fn wait_for(&self, producer: usize, seq: usize) -> Duration {
        match self.shared.measure {
            Measure::OpenLoop { .. } => Duration::from_nanos(
                self.due_ns(self.index(producer, seq))
                    .saturating_sub(self.now_ns()),
            ),
            _ => Duration::ZERO,
        }
    }
}

/// Longer waits than this sleep (short of the due time); shorter ones
/// yield, because a sleep overshoots by tens of microseconds.
const SLEEP_ABOVE: Duration = Duration::from_micros(200);

/// Waits on a thread until message `seq` of `producer` is due; in an idle
/// load, sleeps [`IDLE_GAP`].
fn pace(schedule: Schedule<'_>, producer: usize, seq: usize) {
    if schedule.shared.measure == Measure::Idle {
        thread::sleep(IDLE_GAP);
        return;
    }
    loop {
        let wait = schedule.wait_for(producer, seq);
        if wait.is_zero() {
            return;
        }
        if wait > SLEEP_ABOVE {
            thread::sleep(wait - SLEEP_ABOVE / 2);
        } else {
            thread::yield_now();
        }
    }
}

/// Waits in a task until message `seq` of `producer` is due. tokio's
/// timer ticks in milliseconds, so shorter waits yield to the runtime.
/// In an idle load, sleeps [`IDLE_GAP`] on the runtime's timer.
async fn pace_async(schedule: Schedule<'_>, producer: usize, seq: usize) {
    const TIMER_ABOVE: Duration = Duration::from_millis(2);
    if schedule.shared.measure == Measure::Idle {
        tokio::time::sleep(IDLE_GAP).await;
        return;
    }
    loop {
        let wait = schedule.wait_for(producer, seq);
        if wait.is_zero() {
            return;
        }
        if wait > TIMER_ABOVE {
            tokio::time::sleep(wait - TIMER_ABOVE / 2).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}

/// What one consumer saw, tallied in O(1) per message.
struct Received {
    count: u64,
    /// Per producer: messages received from it, and the sequence number
    /// the next one must reach (its last one plus one).
    from: Vec<FromProducer>,
    /// Wrapping sum of [`mix64`] over every stamp received.
    digest: u64,
    /// The first message that broke its producer's order: (stamp, the
    /// sequence number it should have reached).
    out_of_order: Option<(u64, u64)>,
    /// The first stamp naming a producer that does not exist.
    unknown: Option<u64>,
    latency: Option<Histogram<u64>>,
}

/// A consumer's tally of one producer's messages.
#[derive(Clone, Copy, Default)]
struct FromProducer {
    count: u64,
    next: u64,
}

impl Received {
    /// An empty tally for a run with `producers` producers, allocated
    /// before the clock starts, so recording allocates nothing.
    fn new(measure: Measure, producers: usize) -> Result<Self, ScenarioError> {
        let latency = if measure.records_latency() {
            Some(new_histogram()?)
        } else {
            None
        };
        Ok(Received {
            count: 0,
            from: vec![FromProducer::default(); producers],
            digest: 0,
            out_of_order: None,
            unknown: None,
            latency,
        })
    }

    fn take<M: LoadMessage>(&mut self, message: M, schedule: Schedule<'_>) {
        if let Some(latency) = &mut self.latency
            && message.at_ns() != UNTIMED
        {
            let ns = schedule.now_ns().saturating_sub(message.at_ns());
            latency.saturating_record(ns.clamp(1, MAX_LATENCY_NS));
        }
        self.count += 1;
        if let Some(stamp) = message.stamp() {
            self.digest = self.digest.wrapping_add(mix64(stamp));
            match self.from.get_mut(source_of(stamp)) {
                Some(from) => {
                    let seq = stamp & u64::from(u32::MAX);
                    if seq < from.next && self.out_of_order.is_none() {
                        self.out_of_order = Some((stamp, from.next));
                    }
                    from.next = seq + 1;
                    from.count += 1;
                }
                None => {
                    self.unknown.get_or_insert(stamp);
                }
            }
        }
    }
}

/// A histogram for latencies in nanoseconds, 1 ns to 60 s.
pub fn new_histogram() -> Result<Histogram<u64>, ScenarioError> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).map_err(|err| {
        ParamError::new(
            "latency histogram bounds",
            "1 ns to 60 s at 3 significant digits",
            format!("bounds HdrHistogram accepts ({err})"),
        )
        .into()
    })
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
    spec.validate(&receiving)?;
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

/// One empty tally per consumer, made before any thread starts so that a
/// failure cannot strand threads at a barrier.
fn tallies(spec: &LoadSpec) -> Result<Vec<Received>, ScenarioError> {
    (0..spec.consumers)
        .map(|_| Received::new(spec.measure, spec.producers))
        .collect()
}

/// What a producer returns: its number and how many it sent.
type Produced = Result<(usize, u64), String>;

/// A consumer thread per receiver; each calls `started` before its first
/// receive.
fn consume_on_threads<M: LoadMessage, R: Receiver<M>>(
    receivers: Vec<R>,
    tallies: Vec<Received>,
    started: impl Fn() -> (Arc<Shared>, Instant) + Clone + Send + 'static,
) -> WaitGroup<Received> {
    let mut consumers = WaitGroup::new();
    for (mut receiver, mut received) in receivers.into_iter().zip(tallies) {
        let started = started.clone();
        consumers.spawn(move || {
            let (shared, start) = started();
            let schedule = Schedule {
                shared: &shared,
                start,
            };
            while let Ok(message) = receiver.recv() {
                received.take(message, schedule);
            }
            received
        });
    }
    consumers
}

/// `producers` producer threads on clones of `sender`; each calls
/// `started` before its first send.
fn produce_on_threads<M: LoadMessage, S: Sender<M>>(
    sender: &S,
    producers: usize,
    started: impl Fn() -> (Arc<Shared>, Instant) + Clone + Send + 'static,
) -> WaitGroup<Produced> {
    let mut wait_group = WaitGroup::new();
    for producer in 0..producers {
        let (sender, started) = (sender.clone(), started.clone());
        wait_group.spawn(move || {
            let (shared, start) = started();
            let schedule = Schedule {
                shared: &shared,
                start,
            };
            let share = schedule.share(producer);
            for seq in 0..share {
                pace(schedule, producer, seq);
                let message = M::new(stamp(producer, seq), schedule.time_for(producer, seq));
                if sender.send(message).is_err() {
                    return Err(format!("producer {producer}: every receiver is gone"));
                }
            }
            Ok((producer, share as u64))
        });
    }
    wait_group
}

/// A consumer task per receiver.
fn consume_in_tasks<M: LoadMessage, R: AsyncReceiver<M>>(
    receivers: Vec<R>,
    tallies: Vec<Received>,
    shared: &Arc<Shared>,
    start: Instant,
) -> JoinSet<Received> {
    let mut consumers = JoinSet::new();
    for (mut receiver, mut received) in receivers.into_iter().zip(tallies) {
        let shared = shared.clone();
        consumers.spawn(async move {
            let schedule = Schedule {
                shared: &shared,
                start,
            };
            while let Ok(message) = receiver.recv().await {
                received.take(message, schedule);
            }
            received
        });
    }
    consumers
}

/// `producers` producer tasks on clones of `sender`.
fn produce_in_tasks<M: LoadMessage, S: AsyncSender<M>>(
    sender: &S,
    producers: usize,
    shared: &Arc<Shared>,
    start: Instant,
) -> JoinSet<Produced> {
    let mut tasks = JoinSet::new();
    for producer in 0..producers {
        let (sender, shared) = (sender.clone(), shared.clone());
        tasks.spawn(async move {
            let schedule = Schedule {
                shared: &shared,
                start,
            };
            let share = schedule.share(producer);
            for seq in 0..share {
                pace_async(schedule, producer, seq).await;
                let message = M::new(stamp(producer, seq), schedule.time_for(producer, seq));
                if sender.send(message).await.is_err() {
                    return Err(format!("producer {producer}: every receiver is gone"));
                }
            }
            Ok((producer, share as u64))
        });
    }
    tasks
}

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

/// Checks the consumers' tallies against what each producer sent: each
/// consumer saw each producer's messages in order, no stamp names a
/// producer that does not exist, each producer's messages arrived as often
/// as it sent them, and the mixed stamps add up to the sum over every
/// message sent, so a lost message and another delivered twice in its
/// place (to any consumer) do not cancel out.
fn check_tallies(sent_by: &[u64], received: &[Received]) -> Result<(), ScenarioError> {
    for (consumer, got) in received.iter().enumerate() {
        if let Some(stamp) = got.unknown {
            return Err(ScenarioError::Oracle(format!(
                "consumer {consumer}: {stamp:#x} was delivered but never sent (no producer {})",
                source_of(stamp)
            )));
        }
        if let Some((stamp, next)) = got.out_of_order {
            return Err(ScenarioError::Oracle(format!(
                "consumer {consumer}: {stamp:#x} arrived after message {} of producer {} \
                 (a message delivered twice, or out of order)",
                next - 1,
                source_of(stamp)
            )));
        }
    }
    let mut expected_digest = 0u64;
    for (producer, &sent) in sent_by.iter().enumerate() {
        let arrived: u64 = received.iter().map(|got| got.from[producer].count).sum();
        ensure(arrived == sent, || {
            format!("producer {producer}: {sent} messages sent, {arrived} received")
        })?;
        for seq in 0..sent as usize {
            expected_digest = expected_digest.wrapping_add(mix64(stamp(producer, seq)));
        }
    }
    let digest = received
        .iter()
        .fold(0u64, |sum, got| sum.wrapping_add(got.digest));
    ensure(digest == expected_digest, || {
        "as many messages arrived from each producer as it sent, but not the same ones: \
         at least one was lost and another delivered twice in its place"
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tallies of consumers that received `deliveries` (one list of
    /// (producer, seq) per consumer), in a run of `producers` producers.
    fn tallies_of(producers: usize, deliveries: &[&[(usize, usize)]]) -> Vec<Received> {
        let shared = Shared {
            items: 0,
            producers,
            measure: Measure::Throughput,
            interval_ns: 0.0,
        };
        let schedule = Schedule {
            shared: &shared,
            start: Instant::now(),
        };
        deliveries
            .iter()
            .map(|messages| {
                let mut tally = Received::new(Measure::Throughput, producers).unwrap();
                for &(producer, seq) in *messages {
                    tally.take(stamp(producer, seq), schedule);
                }
                tally
            })
            .collect()
    }

    const SENT: [u64; 2] = [4, 2];

    #[test]
    fn a_correct_delivery_passes() {
        let received = tallies_of(2, &[&[(0, 0), (1, 0), (0, 2)], &[(0, 1), (1, 1), (0, 3)]]);
        check_tallies(&SENT, &received).unwrap();
    }

    #[test]
    fn a_loss_and_a_duplicate_to_another_consumer_are_caught() {
        // Message 3 of producer 0 is lost, and message 2 arrives at both
        // consumers: each consumer's order holds and producer 0's count
        // adds up, so only the mixed sum can tell.
        let received = tallies_of(2, &[&[(0, 0), (1, 0), (0, 2)], &[(0, 1), (1, 1), (0, 2)]]);
        let err = check_tallies(&SENT, &received).unwrap_err().to_string();
        assert!(err.contains("not the same ones"), "{err}");
    }

    #[test]
    fn a_loss_and_a_duplicate_to_the_same_consumer_are_caught() {
        let received = tallies_of(2, &[&[(0, 0), (0, 1), (0, 1), (1, 0), (0, 2), (1, 1)]]);
        let err = check_tallies(&SENT, &received).unwrap_err().to_string();
        assert!(err.contains("delivered twice, or out of order"), "{err}");
    }

    #[test]
    fn a_loss_a_reorder_and_a_stranger_are_caught() {
        let lost = tallies_of(2, &[&[(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]]);
        let reordered = tallies_of(2, &[&[(0, 0), (0, 2), (0, 1), (0, 3), (1, 0), (1, 1)]]);
        let stranger = tallies_of(2, &[&[(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (7, 0)]]);
        for (what, received, says) in [
            ("lost", lost, "4 messages sent, 3 received"),
            ("reordered", reordered, "out of order"),
            ("stranger", stranger, "never sent"),
        ] {
            let err = check_tallies(&SENT, &received).unwrap_err().to_string();
            assert!(err.contains(says), "{what}: {err}");
        }
    }
}
