//! Criterion micro-benchmarks of every channel flavor chanlab ships.
//!
//! # What is benched
//!
//! Every flavor that `chanlab_impls::visit_all` lists, blocking ones on OS
//! threads and async ones as `tokio::spawn` tasks on a multi-thread runtime
//! with two workers, over the classic matrix. One criterion group per shape:
//!
//! - `sequential`: one thread (or task) sends a batch of 128 messages, then
//!   receives them, over and over; only on capacities that hold a batch
//!   (`bounded(128)` and `unbounded`).
//! - `spsc`: one producer, one consumer.
//! - `mpsc`: four producers, one consumer.
//! - `mpmc`: four producers, four consumers sharing one queue; only on
//!   flavors that declare `multi_consumer`.
//! - `select`: four channels, one producer each, and one consumer waiting on
//!   all four; only on flavors that declare `select` (blocking flavors use
//!   `SyncFlavor::select`, async ones race their cancel-safe receives in
//!   `tokio::select!`).
//!
//! Each shape runs at capacities `rendezvous` (`bounded(0)`, only where
//! declared), `bounded(1)`, `bounded(128)` and `unbounded` (only where
//! declared), with small (`usize`) and large (`[u8; 256]`, labelled
//! `bytes256`) messages. A cell a flavor does not declare is skipped, never
//! run. Benchmark ids read `shape/flavor/cap=N/message`, with the capacity as
//! cell ids write it (`0` is rendezvous), e.g. `spsc/crossbeam/cap=1/usize`.
//!
//! # How it is measured
//!
//! Each criterion iteration moves a fixed number of messages
//! ([`MESSAGES`], or [`HANDOFF_MESSAGES`] at capacities 0 and 1, where
//! nearly every message wakes a parked thread: tens of microseconds each on
//! a small VM), and the group's throughput is set to that count, so
//! criterion reports messages per second. The concurrent shapes use
//! `Bencher::iter_custom`: for a sample of `iters` iterations the channel is
//! built and the threads (or tasks) are spawned first, and they and the
//! measuring thread wait on a barrier. The clock starts when the barrier
//! releases (the earliest instant any participant passed it, not only the
//! measuring thread's: on two cores that thread may run late, and with
//! tasks it always wakes after the workers) and stops when the last consumer
//! has received everything (its channels disconnected); only then are the
//! workers joined. Thread start-up and channel construction are not timed.
//!
//! The configuration is short (100 ms warm-up, 300 ms measurement, 10
//! samples) so the whole matrix runs in a few minutes; command-line options
//! such as `--measurement-time` override it.
//!
//! # Running a subset
//!
//! Arguments after `--` are a regular expression over the benchmark ids:
//!
//! ```text
//! cargo bench -p chanlab --bench channels -- spsc/crossbeam
//! cargo bench -p chanlab --bench channels -- 'mpsc/.*/bounded\(1\)/usize'
//! cargo bench -p chanlab --bench channels -- 'select/tokio-mpsc/'
//! ```

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, FlavorInfo, FlavorVisitor, Receiver,
    RecvError, SelectWait, Sender, SyncFlavor,
};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use tokio::runtime::Runtime;

/// Messages moved per criterion iteration.
const MESSAGES: u64 = 4_096;
/// Messages moved per iteration at capacities 0 and 1, where nearly every
/// message is a hand-off to a parked thread (tens of microseconds each on a
/// two-core VM), so the short criterion config still fits its samples.
const HANDOFF_MESSAGES: u64 = 512;
/// Producers in the `mpsc` and `mpmc` shapes.
const PRODUCERS: usize = 4;
/// Consumers in the `mpmc` shape.
const CONSUMERS: usize = 4;
/// Channels, each with its own producer, in the `select` shape.
const SELECT_CHANNELS: usize = 4;
/// Messages sent before they are received back in the `sequential` shape.
const SEQUENTIAL_BATCH: u64 = 128;
/// Worker threads of the runtime that drives the async flavors.
const ASYNC_WORKERS: usize = 2;
/// The capacities of the matrix.
const CAPACITIES: [Capacity; 4] = [
    Capacity::RENDEZVOUS,
    Capacity::Bounded(1),
    Capacity::Bounded(128),
    Capacity::Unbounded,
];

// Every count must split evenly between producers, channels and batches.
const _: () = assert!(MESSAGES.is_multiple_of(SEQUENTIAL_BATCH));
const _: () = assert!(MESSAGES.is_multiple_of(PRODUCERS as u64));
const _: () = assert!(HANDOFF_MESSAGES.is_multiple_of(PRODUCERS as u64));
const _: () = assert!(MESSAGES.is_multiple_of(SELECT_CHANNELS as u64));
const _: () = assert!(HANDOFF_MESSAGES.is_multiple_of(SELECT_CHANNELS as u64));

const CHECKED: &str = "the capacity was checked against the flavor's declaration";
const CLONABLE: &str = "the flavor declares multi_consumer, so its receiver clones";
const RECEIVER_ALIVE: &str = "the consumers outlive every send";
const BUFFERED: &str = "the batch was sent into a channel that holds it";

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(ASYNC_WORKERS)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("channels bench: cannot start the tokio runtime: {err}");
            std::process::exit(1);
        }
    };
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(300))
        .sample_size(10)
        .configure_from_args();
    for shape in Shape::ALL {
        let mut group = criterion.benchmark_group(shape.name());
        chanlab_impls::visit_all(&mut ShapeBench {
            group: &mut group,
            shape,
            runtime: &runtime,
        });
        group.finish();
    }
    criterion.final_summary();
}

/// A message type of the matrix.
trait Message: Send + 'static {
    /// The label in benchmark ids.
    const LABEL: &'static str;
    /// The `seq`-th message a producer sends.
    fn make(seq: u64) -> Self;
}

impl Message for usize {
    const LABEL: &'static str = "usize";
    fn make(seq: u64) -> Self {
        seq as usize
    }
}

/// The large message: a quarter kilobyte moved by value.
type Large = [u8; 256];

impl Message for Large {
    const LABEL: &'static str = "bytes256";
    fn make(seq: u64) -> Self {
        [seq as u8; 256]
    }
}

/// How producers and consumers are arranged around the channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Sequential,
    Spsc,
    Mpsc,
    Mpmc,
    Select,
}

impl Shape {
    const ALL: [Shape; 5] = [
        Shape::Sequential,
        Shape::Spsc,
        Shape::Mpsc,
        Shape::Mpmc,
        Shape::Select,
    ];

    /// The criterion group name.
    fn name(self) -> &'static str {
        match self {
            Shape::Sequential => "sequential",
            Shape::Spsc => "spsc",
            Shape::Mpsc => "mpsc",
            Shape::Mpmc => "mpmc",
            Shape::Select => "select",
        }
    }

    /// Whether a flavor that declares `info` can run this shape at
    /// `capacity`.
    fn runs(self, info: &FlavorInfo, capacity: Capacity) -> bool {
        if info.check(capacity).is_err() {
            return false;
        }
        match self {
            Shape::Sequential => capacity
                .bound()
                .is_none_or(|bound| bound as u64 >= SEQUENTIAL_BATCH),
            Shape::Spsc | Shape::Mpsc => true,
            Shape::Mpmc => info.capabilities.multi_consumer,
            Shape::Select => info.capabilities.select,
        }
    }

    /// Producers and consumers of the single-queue shapes.
    fn ends(self) -> (usize, usize) {
        match self {
            Shape::Mpsc => (PRODUCERS, 1),
            Shape::Mpmc => (PRODUCERS, CONSUMERS),
            Shape::Sequential | Shape::Spsc | Shape::Select => (1, 1),
        }
    }
}

/// Messages per criterion iteration at `capacity`.
fn messages_per_iter(capacity: Capacity) -> u64 {
    if matches!(capacity, Capacity::Bounded(0 | 1)) {
        HANDOFF_MESSAGES
    } else {
        MESSAGES
    }
}

/// Registers one shape's cells for every flavor it visits.
struct ShapeBench<'g, 'c> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    shape: Shape,
    runtime: &'g Runtime,
}

impl ShapeBench<'_, '_> {
    /// Sets the throughput of the next cell and returns its messages per
    /// iteration and its id.
    fn prepare<T: Message>(&mut self, info: &FlavorInfo, capacity: Capacity) -> (u64, BenchmarkId) {
        let messages = messages_per_iter(capacity);
        self.group.throughput(Throughput::Elements(messages));
        let parameter = format!("cap={}/{}", capacity.label(), T::LABEL);
        (messages, BenchmarkId::new(info.name, parameter))
    }

    fn sync_cell<F: SyncFlavor, T: Message>(&mut self, capacity: Capacity) {
        let (messages, id) = self.prepare::<T>(&F::INFO, capacity);
        let shape = self.shape;
        self.group.bench_function(id, |b| {
            b.iter_custom(|iters| sync_run::<F, T>(shape, capacity, iters * messages));
        });
    }

    fn async_cell<F: AsyncFlavor, T: Message>(&mut self, capacity: Capacity) {
        let (messages, id) = self.prepare::<T>(&F::INFO, capacity);
        let shape = self.shape;
        let runtime = self.runtime;
        self.group.bench_function(id, |b| {
            b.to_async(runtime)
                .iter_custom(|iters| async_run::<F, T>(shape, capacity, iters * messages));
        });
    }
}

impl FlavorVisitor for ShapeBench<'_, '_> {
    fn visit_sync<F: SyncFlavor>(&mut self) {
        for capacity in CAPACITIES {
            if self.shape.runs(&F::INFO, capacity) {
                self.sync_cell::<F, usize>(capacity);
                self.sync_cell::<F, Large>(capacity);
            }
        }
    }

    fn visit_async<F: AsyncFlavor>(&mut self) {
        for capacity in CAPACITIES {
            if self.shape.runs(&F::INFO, capacity) {
                self.async_cell::<F, usize>(capacity);
                self.async_cell::<F, Large>(capacity);
            }
        }
    }
}

/// Checks that the consumers got exactly `total` messages and returns the
/// measured time.
fn checked((received, elapsed): (u64, Duration), total: u64) -> Duration {
    assert_eq!(received, total, "messages were lost or duplicated");
    elapsed
}

// ---------------------------------------------------------------------------
// Blocking flavors, on OS threads.
// ---------------------------------------------------------------------------

/// Moves `total` messages through a fresh channel of flavor `F` in `shape`
/// and returns the time it took.
fn sync_run<F: SyncFlavor, T: Message>(shape: Shape, capacity: Capacity, total: u64) -> Duration {
    match shape {
        Shape::Sequential => sync_sequential::<F, T>(capacity, total),
        Shape::Spsc | Shape::Mpsc | Shape::Mpmc => {
            let (producers, consumers) = shape.ends();
            sync_queue::<F, T>(capacity, producers, consumers, total)
        }
        Shape::Select => sync_select::<F, T>(capacity, total),
    }
}

fn sync_sequential<F: SyncFlavor, T: Message>(capacity: Capacity, total: u64) -> Duration {
    let (tx, mut rx) = F::channel::<T>(capacity).expect(CHECKED);
    let start = Instant::now();
    for _ in 0..total / SEQUENTIAL_BATCH {
        for seq in 0..SEQUENTIAL_BATCH {
            tx.send(T::make(seq)).expect(RECEIVER_ALIVE);
        }
        for _ in 0..SEQUENTIAL_BATCH {
            black_box(rx.recv().expect(BUFFERED));
        }
    }
    start.elapsed()
}

fn sync_queue<F: SyncFlavor, T: Message>(
    capacity: Capacity,
    producers: usize,
    consumers: usize,
    total: u64,
) -> Duration {
    let (tx, rx) = F::channel::<T>(capacity).expect(CHECKED);
    let mut receivers: Vec<_> = (1..consumers)
        .map(|_| rx.try_clone().expect(CLONABLE))
        .collect();
    receivers.push(rx);
    let per_producer = total / producers as u64;
    let producers: Vec<_> = (0..producers)
        .map(|_| {
            let tx = tx.clone();
            move || send_all::<_, T>(&tx, per_producer)
        })
        .collect();
    // Only the producers hold senders, so the consumers see the channel
    // disconnect once the last one is done.
    drop(tx);
    let consumers: Vec<_> = receivers
        .into_iter()
        .map(|mut rx| move || drain::<_, T>(&mut rx))
        .collect();
    checked(measure_threads(producers, consumers), total)
}

fn sync_select<F: SyncFlavor, T: Message>(capacity: Capacity, total: u64) -> Duration {
    let (senders, mut receivers): (Vec<_>, Vec<_>) = (0..SELECT_CHANNELS)
        .map(|_| F::channel::<T>(capacity).expect(CHECKED))
        .unzip();
    let per_channel = total / SELECT_CHANNELS as u64;
    let producers: Vec<_> = senders
        .into_iter()
        .map(|tx| move || send_all::<_, T>(&tx, per_channel))
        .collect();
    let consumer = move || {
        let mut received = 0;
        while !receivers.is_empty() {
            let selected = F::select(&mut receivers, SelectWait::Forever)
                .expect("the flavor declares select, and a Forever wait returns a receiver");
            match selected.message {
                Ok(message) => {
                    black_box(message);
                    received += 1;
                }
                Err(RecvError) => {
                    receivers.swap_remove(selected.index);
                }
            }
        }
        received
    };
    checked(measure_threads(producers, vec![consumer]), total)
}

fn send_all<S: Sender<T>, T: Message>(tx: &S, count: u64) {
    for seq in 0..count {
        tx.send(T::make(seq)).expect(RECEIVER_ALIVE);
    }
}

/// Receives until the channel disconnects; returns how many messages came.
fn drain<R: Receiver<T>, T: Message>(rx: &mut R) -> u64 {
    let mut received = 0;
    while let Ok(message) = rx.recv() {
        black_box(message);
        received += 1;
    }
    received
}

/// Runs every producer and consumer on its own thread, all released at once
/// by a barrier. Returns how many messages the consumers counted and the
/// time from the release until the last consumer returned.
fn measure_threads<P, C>(producers: Vec<P>, consumers: Vec<C>) -> (u64, Duration)
where
    P: FnOnce() + Send,
    C: FnOnce() -> u64 + Send,
{
    let barrier = Barrier::new(producers.len() + consumers.len() + 1);
    let barrier = &barrier;
    thread::scope(|scope| {
        let consumers: Vec<_> = consumers
            .into_iter()
            .map(|consume| {
                scope.spawn(move || {
                    barrier.wait();
                    let released = Instant::now();
                    let received = consume();
                    (received, released, Instant::now())
                })
            })
            .collect();
        let producers: Vec<_> = producers
            .into_iter()
            .map(|produce| {
                scope.spawn(move || {
                    barrier.wait();
                    let released = Instant::now();
                    produce();
                    released
                })
            })
            .collect();
        barrier.wait();
        let mut window = Window::new(Instant::now());
        for consumer in consumers {
            let (received, released, finished) =
                consumer.join().expect("a consumer thread panicked");
            window.consumer(received, released, finished);
        }
        for producer in producers {
            window.released(producer.join().expect("a producer thread panicked"));
        }
        window.measured()
    })
}

/// The measured window of one run. It opens when the barrier releases: the
/// earliest instant any participant saw past it, since on two cores the
/// measuring thread may be scheduled only after the workers have run for a
/// while. It closes when the last consumer has received everything.
struct Window {
    start: Instant,
    end: Instant,
    received: u64,
}

impl Window {
    /// A window as seen by the measuring thread, released at `released`.
    fn new(released: Instant) -> Self {
        Window {
            start: released,
            end: released,
            received: 0,
        }
    }

    /// A worker passed the barrier at `released`.
    fn released(&mut self, released: Instant) {
        self.start = self.start.min(released);
    }

    /// A consumer released at `released` received `received` messages and
    /// was done at `finished`.
    fn consumer(&mut self, received: u64, released: Instant, finished: Instant) {
        self.released(released);
        self.end = self.end.max(finished);
        self.received += received;
    }

    /// Messages received and the window's length.
    fn measured(&self) -> (u64, Duration) {
        (self.received, self.end.duration_since(self.start))
    }
}

// ---------------------------------------------------------------------------
// Async flavors, as tasks on the shared multi-thread runtime.
// ---------------------------------------------------------------------------

/// Moves `total` messages through a fresh channel of flavor `F` in `shape`
/// and returns the time it took. Runs inside the bench runtime.
async fn async_run<F: AsyncFlavor, T: Message>(
    shape: Shape,
    capacity: Capacity,
    total: u64,
) -> Duration {
    match shape {
        Shape::Sequential => async_sequential::<F, T>(capacity, total).await,
        Shape::Spsc | Shape::Mpsc | Shape::Mpmc => {
            let (producers, consumers) = shape.ends();
            async_queue::<F, T>(capacity, producers, consumers, total).await
        }
        Shape::Select => async_select::<F, T>(capacity, total).await,
    }
}

async fn async_sequential<F: AsyncFlavor, T: Message>(capacity: Capacity, total: u64) -> Duration {
    let (tx, mut rx) = F::channel::<T>(capacity).expect(CHECKED);
    let task = tokio::spawn(async move {
        let start = Instant::now();
        for _ in 0..total / SEQUENTIAL_BATCH {
            for seq in 0..SEQUENTIAL_BATCH {
                tx.send(T::make(seq)).await.expect(RECEIVER_ALIVE);
            }
            for _ in 0..SEQUENTIAL_BATCH {
                black_box(rx.recv().await.expect(BUFFERED));
            }
        }
        start.elapsed()
    });
    task.await.expect("the sequential task panicked")
}

async fn async_queue<F: AsyncFlavor, T: Message>(
    capacity: Capacity,
    producers: usize,
    consumers: usize,
    total: u64,
) -> Duration {
    let (tx, rx) = F::channel::<T>(capacity).expect(CHECKED);
    let mut receivers: Vec<_> = (1..consumers)
        .map(|_| rx.try_clone().expect(CLONABLE))
        .collect();
    receivers.push(rx);
    let per_producer = total / producers as u64;
    let producers: Vec<_> = (0..producers)
        .map(|_| send_all_async::<_, T>(tx.clone(), per_producer))
        .collect();
    drop(tx);
    let consumers: Vec<_> = receivers.into_iter().map(drain_async::<_, T>).collect();
    checked(measure_tasks(producers, consumers).await, total)
}

async fn async_select<F: AsyncFlavor, T: Message>(capacity: Capacity, total: u64) -> Duration {
    let [(tx0, rx0), (tx1, rx1), (tx2, rx2), (tx3, rx3)]: [_; SELECT_CHANNELS] =
        std::array::from_fn(|_| F::channel::<T>(capacity).expect(CHECKED));
    let per_channel = total / SELECT_CHANNELS as u64;
    let producers = [tx0, tx1, tx2, tx3]
        .into_iter()
        .map(|tx| send_all_async::<_, T>(tx, per_channel))
        .collect();
    let consumer = select_drain_async::<_, T>([rx0, rx1, rx2, rx3]);
    checked(measure_tasks(producers, vec![consumer]).await, total)
}

async fn send_all_async<S: AsyncSender<T>, T: Message>(tx: S, count: u64) {
    for seq in 0..count {
        tx.send(T::make(seq)).await.expect(RECEIVER_ALIVE);
    }
}

/// Receives until the channel disconnects; returns how many messages came.
async fn drain_async<R: AsyncReceiver<T>, T: Message>(mut rx: R) -> u64 {
    let mut received = 0;
    while let Ok(message) = rx.recv().await {
        black_box(message);
        received += 1;
    }
    received
}

/// Races the receives of all channels in `tokio::select!` until every one
/// has disconnected; returns how many messages came.
async fn select_drain_async<R: AsyncReceiver<T>, T: Message>(
    receivers: [R; SELECT_CHANNELS],
) -> u64 {
    let [mut rx0, mut rx1, mut rx2, mut rx3] = receivers;
    let mut open = [true; SELECT_CHANNELS];
    let mut received = 0;
    while open.contains(&true) {
        let (index, message) = tokio::select! {
            message = rx0.recv(), if open[0] => (0, message),
            message = rx1.recv(), if open[1] => (1, message),
            message = rx2.recv(), if open[2] => (2, message),
            message = rx3.recv(), if open[3] => (3, message),
        };
        match message {
            Ok(message) => {
                black_box(message);
                received += 1;
            }
            Err(RecvError) => open[index] = false,
        }
    }
    received
}

/// Spawns every producer and consumer as its own task, all released at once
/// by a barrier. Returns how many messages the consumers counted and the
/// time from the release until the last consumer finished.
async fn measure_tasks<P, C>(producers: Vec<P>, consumers: Vec<C>) -> (u64, Duration)
where
    P: Future<Output = ()> + Send + 'static,
    C: Future<Output = u64> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(
        producers.len() + consumers.len() + 1,
    ));
    let consumers: Vec<_> = consumers
        .into_iter()
        .map(|consume| {
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                let released = Instant::now();
                let received = consume.await;
                (received, released, Instant::now())
            })
        })
        .collect();
    let producers: Vec<_> = producers
        .into_iter()
        .map(|produce| {
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                let released = Instant::now();
                produce.await;
                released
            })
        })
        .collect();
    barrier.wait().await;
    let mut window = Window::new(Instant::now());
    for consumer in consumers {
        let (received, released, finished) = consumer.await.expect("a consumer task panicked");
        window.consumer(received, released, finished);
    }
    for producer in producers {
        window.released(producer.await.expect("a producer task panicked"));
    }
    window.measured()
}
