//! Shared state: a counter and a read-mostly map that every worker uses at
//! once, behind each kind of lock and behind atomics, so the primitives can
//! be compared on one workload.
//!
//! Use it when state is small, shared and touched briefly, where handing it
//! to one owner over channels would cost more than it saves: a counter, a
//! cache read far more often than it is written. Which primitive:
//! - a mutex when reads and writes are both short, or about as frequent;
//!   `parking_lot`'s is smaller and does not poison;
//! - an `RwLock` when reads dominate and last long enough for parallel
//!   readers to pay off; writers wait for every reader, so on tiny critical
//!   sections it can lose to a mutex;
//! - atomics for a single word (a counter, one value per fixed key): no lock
//!   at all, but no invariant that spans two words;
//! - `arc-swap` when reads far outnumber writes and a reader may see the
//!   map as it was a moment ago: a read takes no lock, a write copies the
//!   whole map;
//! - `dashmap` for a map whose keys are used independently: each shard has
//!   its own lock, so work on different keys rarely waits;
//! - tokio's `Mutex` or `RwLock` only when a guard must be held across an
//!   `.await`; otherwise a blocking lock is faster, in async code too.
//!
//! The counter and the map each have their own lock of the kind compared:
//! every op bumps the counter, one in ten writes the map. One lock over both
//! would make every op a writer and leave an `RwLock` nothing to share. The
//! map has `KEYS` fixed keys, stored as a table indexed by key in every
//! variant, so the primitive is all that differs.
//!
//! Under a lock each map entry is a pair, a value and its copy, that a write
//! changes in two steps: a reader that sees them differ saw half a write.
//! Atomics cannot keep such a pair; there each entry is one atomic value and
//! the pair check holds trivially.
//!
//! `arc-swap` and `dashmap` are maps, not locks: with them the counter is an
//! atomic, and what differs is the map.
//!
//! The locks are std's, `parking_lot`'s and tokio's by their real paths, not
//! through the `chanlab-sync` facade: they are what this pattern compares,
//! so loom does not check it. Each library's adapters have a file of their
//! own beside this one, as the channel adapters do in `chanlab-impls`.
//!
//! Params: `items` operations, split among `workers` threads (tasks on the
//! cell's runtime for tokio's locks), `work` per operation, outside
//! any lock.
//!
//! Oracle: once every worker is joined, the counter equals the number of
//! operations, each key holds exactly the writes made to it (so the values
//! sum to the write operations), and no read, during the run or after it,
//! saw a torn pair.

#[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
mod arc_swap;
mod atomics;
#[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
mod dashmap;
mod parking_lot;
mod std_locks;
mod tokio;

#[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
use arc_swap::Snapshots;
use atomics::Atomics;
#[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
use dashmap::Sharded;

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ::tokio::task::JoinSet;

use super::{busy, join_tasks, share};
use crate::coord::WaitGroup;
use crate::outcome::ensure;
use crate::runtime::RuntimeExt;
use crate::{Outcome, Params, Pattern, Primitive, Refusal, Runtime, ScenarioError};

/// Keys in the map: a prime, so the writes (every [`WRITE_EVERY`]th op, to
/// key `op % KEYS`) reach every key.
const KEYS: usize = 61;

/// One op in this many writes the map; the others read it.
const WRITE_EVERY: usize = 10;

/// Runs the workload on `primitive`: on threads, or as tasks on `runtime`
/// for tokio's locks. The outcome counts the map writes as `writes`.
pub fn run(
    primitive: Primitive,
    params: &Params,
    runtime: Runtime,
) -> Result<Outcome, ScenarioError> {
    match primitive {
        Primitive::StdMutex => run_threads(
            Locked::new(std::sync::Mutex::new, std::sync::Mutex::new),
            params,
        ),
        Primitive::StdRwLock => run_threads(
            Locked::new(std::sync::RwLock::new, std::sync::RwLock::new),
            params,
        ),
        Primitive::ParkingLotMutex => run_threads(
            Locked::new(::parking_lot::Mutex::new, ::parking_lot::Mutex::new),
            params,
        ),
        Primitive::ParkingLotRwLock => run_threads(
            Locked::new(::parking_lot::RwLock::new, ::parking_lot::RwLock::new),
            params,
        ),
        Primitive::Atomics => run_threads(Atomics::new(), params),
        #[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
        Primitive::ArcSwap => run_threads(Snapshots::new(), params),
        #[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
        Primitive::DashMap => run_threads(Sharded::new(), params),
        Primitive::TokioMutex => runtime.block_on(run_tasks(
            Locked::new(::tokio::sync::Mutex::new, ::tokio::sync::Mutex::new),
            params,
        )),
        Primitive::TokioRwLock => runtime.block_on(run_tasks(
            Locked::new(::tokio::sync::RwLock::new, ::tokio::sync::RwLock::new),
            params,
        )),
        other => Err(Refusal::not_on(Pattern::SharedState, other)),
    }
}

/// What op number `index` does: every [`WRITE_EVERY`]th writes its key,
/// the others read it.
#[derive(Debug, Clone, Copy)]
enum Op {
    Read(usize),
    Write(usize),
}

impl Op {
    fn of(index: usize) -> Op {
        let key = index % KEYS;
        if index.is_multiple_of(WRITE_EVERY) {
            Op::Write(key)
        } else {
            Op::Read(key)
        }
    }
}

/// The op numbers of each worker: `0..items`, cut into `workers`
/// consecutive ranges.
fn op_ranges(params: &Params) -> impl Iterator<Item = Range<usize>> {
    let (items, workers) = (params.items, params.workers);
    (0..workers).scan(0, move |start, worker| {
        let ops = *start..*start + share(items, workers, worker);
        *start = ops.end;
        Some(ops)
    })
}

/// One map entry as a read saw it: the value and the copy written with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Entry {
    value: u64,
    copy: u64,
}

impl Entry {
    /// An entry that is one value, for a map that cannot keep a pair.
    fn single(value: u64) -> Self {
        Entry { value, copy: value }
    }

    /// Whether the value and its copy agree: no write was seen half done.
    fn whole(self) -> bool {
        self.value == self.copy
    }
}

/// The map under a lock: an entry per key.
#[derive(Debug, Clone)]
struct Table(Vec<Entry>);

impl Table {
    fn new() -> Self {
        Table(vec![Entry::default(); KEYS])
    }

    fn get(&self, key: usize) -> Entry {
        self.0[key]
    }

    /// Increments the value, then its copy: two steps only the lock makes
    /// look like one.
    fn put(&mut self, key: usize) {
        let entry = &mut self.0[key];
        entry.value += 1;
        entry.copy += 1;
    }
}

/// The state once no worker runs: the counter and every entry by key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    counter: u64,
    entries: Vec<Entry>,
}

/// A counter and a map shared by every thread: one implementation per
/// primitive compared.
trait SharedState: Send + Sync + 'static {
    /// Adds one to the counter.
    fn bump(&self);
    /// The entry at `key`, as this read saw it.
    fn read(&self, key: usize) -> Entry;
    /// Adds one to the entry at `key`.
    fn write(&self, key: usize);
    /// The counter and every entry.
    fn snapshot(&self) -> Snapshot;
}

/// [`SharedState`] for tokio's locks, whose every access is awaited.
trait AsyncSharedState: Send + Sync + 'static {
    /// Adds one to the counter.
    fn bump(&self) -> impl Future<Output = ()> + Send;
    /// The entry at `key`, as this read saw it.
    fn read(&self, key: usize) -> impl Future<Output = Entry> + Send;
    /// Adds one to the entry at `key`.
    fn write(&self, key: usize) -> impl Future<Output = ()> + Send;
    /// The counter and every entry.
    fn snapshot(&self) -> impl Future<Output = Snapshot> + Send;
}

/// Runs the workload on threads, one per worker, and checks it.
fn run_threads<S: SharedState>(state: S, params: &Params) -> Result<Outcome, ScenarioError> {
    let state = Arc::new(state);
    let mut wait_group = WaitGroup::new();
    for ops in op_ranges(params) {
        let state = Arc::clone(&state);
        let work = params.work;
        wait_group.spawn(move || {
            let mut torn = 0;
            for op in ops {
                busy(work);
                state.bump();
                match Op::of(op) {
                    Op::Write(key) => state.write(key),
                    Op::Read(key) => torn += u64::from(!state.read(key).whole()),
                }
            }
            torn
        });
    }
    let threads = wait_group.started();
    let torn = wait_group.join()?.into_iter().sum();
    finish(params, threads, torn, &state.snapshot())
}

/// Runs the workload as tasks, one per worker, and checks it.
async fn run_tasks<S: AsyncSharedState>(
    state: S,
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    let state = Arc::new(state);
    let torn = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for ops in op_ranges(params) {
        let state = Arc::clone(&state);
        let torn = Arc::clone(&torn);
        let work = params.work;
        tasks.spawn(async move {
            let mut seen = 0;
            for op in ops {
                busy(work);
                state.bump().await;
                match Op::of(op) {
                    Op::Write(key) => state.write(key).await,
                    Op::Read(key) => seen += u64::from(!state.read(key).await.whole()),
                }
            }
            torn.fetch_add(seen, Ordering::Relaxed);
        });
    }
    let threads = join_tasks(tasks).await?.len();
    let snapshot = state.snapshot().await;
    finish(params, threads, torn.load(Ordering::Relaxed), &snapshot)
}

/// A counter and a map each behind its own lock of one kind.
#[derive(Debug)]
struct Locked<C, M> {
    counter: C,
    map: M,
}

impl<C, M> Locked<C, M> {
    /// A zero counter and an empty table, each wrapped in its lock.
    fn new(counter: impl FnOnce(u64) -> C, map: impl FnOnce(Table) -> M) -> Self {
        Locked {
            counter: counter(0),
            map: map(Table::new()),
        }
    }
}

/// Checks the run and reports it, with the number of writes.
fn finish(
    params: &Params,
    threads: usize,
    torn: u64,
    seen: &Snapshot,
) -> Result<Outcome, ScenarioError> {
    let writes = check(params, torn, seen)?;
    Ok(Outcome::new(params.items as u64, threads).with("writes", writes))
}

/// The counter counts every op, each key holds exactly the writes made to
/// it, and no read saw a torn pair. Returns the number of writes.
fn check(params: &Params, torn: u64, seen: &Snapshot) -> Result<u64, ScenarioError> {
    let ops = params.items as u64;
    ensure(seen.counter == ops, || {
        format!("the counter is {} after {ops} increments", seen.counter)
    })?;
    ensure(torn == 0, || {
        format!("torn reads, whose value and copy differed: {torn}")
    })?;
    let mut expected = vec![0_u64; KEYS];
    for op in 0..params.items {
        if let Op::Write(key) = Op::of(op) {
            expected[key] += 1;
        }
    }
    ensure(seen.entries.len() == KEYS, || {
        format!("the map has {} keys, not {KEYS}", seen.entries.len())
    })?;
    for (key, (entry, &writes)) in seen.entries.iter().zip(&expected).enumerate() {
        ensure(entry.whole(), || {
            format!(
                "key {key} is torn after the run: value {} but copy {}",
                entry.value, entry.copy
            )
        })?;
        ensure(entry.value == writes, || {
            format!(
                "key {key} holds {} after {writes} writes to it",
                entry.value
            )
        })?;
    }
    Ok(expected.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Params {
        Params {
            items: 2_000,
            workers: 3,
            ..Params::default()
        }
    }

    fn passes(primitive: Primitive) {
        let outcome = run(primitive, &small(), Runtime::MultiThread)
            .unwrap_or_else(|err| panic!("{primitive}: {err}"));
        assert_eq!(outcome.items, 2_000, "{primitive}");
        assert_eq!(outcome.threads, 3, "{primitive}");
        assert_eq!(outcome.counters.get("writes"), Some(&200), "{primitive}");
    }

    #[test]
    fn std_mutex_passes() {
        passes(Primitive::StdMutex);
    }

    #[test]
    fn std_rwlock_passes() {
        passes(Primitive::StdRwLock);
    }

    #[test]
    fn parking_lot_mutex_passes() {
        passes(Primitive::ParkingLotMutex);
    }

    #[test]
    fn parking_lot_rwlock_passes() {
        passes(Primitive::ParkingLotRwLock);
    }

    #[test]
    fn atomics_pass() {
        passes(Primitive::Atomics);
    }

    #[test]
    fn arc_swap_passes() {
        passes(Primitive::ArcSwap);
    }

    #[test]
    fn dashmap_passes() {
        passes(Primitive::DashMap);
    }

    #[test]
    fn tokio_mutex_passes() {
        passes(Primitive::TokioMutex);
    }

    #[test]
    fn tokio_rwlock_passes() {
        passes(Primitive::TokioRwLock);
    }

    #[test]
    fn every_compared_primitive_runs() {
        for &primitive in Pattern::SharedState.primitives() {
            for runtime in Runtime::ALL {
                assert!(run(primitive, &small(), runtime).is_ok(), "{primitive}");
            }
        }
    }

    #[test]
    fn other_primitives_are_refused() {
        for primitive in [Primitive::Chanlab, Primitive::TokioSemaphore] {
            let err = run(primitive, &small(), Runtime::MultiThread).unwrap_err();
            assert!(matches!(err, ScenarioError::NotApplicable(_)), "{err}");
        }
    }

    #[test]
    fn oracle_names_each_fault() {
        let params = small();
        let honest = || {
            let state = Atomics::new();
            for op in 0..params.items {
                state.bump();
                if let Op::Write(key) = Op::of(op) {
                    state.write(key);
                }
            }
            state.snapshot()
        };
        assert_eq!(check(&params, 0, &honest()), Ok(200));

        let mut lost = honest();
        lost.counter -= 1;
        let err = check(&params, 0, &lost).unwrap_err();
        assert!(err.to_string().contains("counter"), "{err}");

        let err = check(&params, 3, &honest()).unwrap_err();
        assert!(err.to_string().contains("torn"), "{err}");

        let mut torn = honest();
        torn.entries[7].copy += 1;
        let err = check(&params, 0, &torn).unwrap_err();
        assert!(err.to_string().contains("key 7 is torn"), "{err}");

        let mut misplaced = honest();
        misplaced.entries[0].value -= 1;
        misplaced.entries[0].copy -= 1;
        misplaced.entries[1].value += 1;
        misplaced.entries[1].copy += 1;
        let err = check(&params, 0, &misplaced).unwrap_err();
        assert!(err.to_string().contains("key 0 holds"), "{err}");
    }

    /// The atomics variant with a lost update: `bump` loads, then stores.
    struct RacyCounter(Atomics);

    impl SharedState for RacyCounter {
        fn bump(&self) {
            let value = self.0.counter.load(Ordering::Relaxed);
            std::hint::spin_loop();
            self.0.counter.store(value + 1, Ordering::Relaxed);
        }

        fn read(&self, key: usize) -> Entry {
            self.0.read(key)
        }

        fn write(&self, key: usize) {
            self.0.write(key);
        }

        fn snapshot(&self) -> Snapshot {
            self.0.snapshot()
        }
    }

    /// A map whose pairs are two atomics written one after the other, with
    /// no lock to make the two steps look like one.
    struct TornPairs {
        counter: AtomicU64,
        values: Vec<AtomicU64>,
        copies: Vec<AtomicU64>,
    }

    impl TornPairs {
        fn new() -> Self {
            let zeros = || (0..KEYS).map(|_| AtomicU64::new(0)).collect();
            TornPairs {
                counter: AtomicU64::new(0),
                values: zeros(),
                copies: zeros(),
            }
        }
    }

    impl SharedState for TornPairs {
        fn bump(&self) {
            self.counter.fetch_add(1, Ordering::Relaxed);
        }

        fn read(&self, key: usize) -> Entry {
            Entry {
                value: self.values[key].load(Ordering::SeqCst),
                copy: self.copies[key].load(Ordering::SeqCst),
            }
        }

        fn write(&self, key: usize) {
            self.values[key].fetch_add(1, Ordering::SeqCst);
            std::hint::spin_loop();
            self.copies[key].fetch_add(1, Ordering::SeqCst);
        }

        fn snapshot(&self) -> Snapshot {
            Snapshot {
                counter: self.counter.load(Ordering::Relaxed),
                entries: (0..KEYS).map(|key| self.read(key)).collect(),
            }
        }
    }

    /// Runs a broken state until the oracle rejects it with `fault` in its
    /// reason, and returns the attempt that did; a race may not show on
    /// every run, so it gets up to 20.
    fn caught<S: SharedState>(broken: impl Fn() -> S, fault: &str) -> usize {
        let params = Params {
            items: 200_000,
            workers: 4,
            ..Params::default()
        };
        for attempt in 1..=20 {
            match run_threads(broken(), &params) {
                Ok(_) => continue,
                Err(ScenarioError::Oracle(why)) => {
                    assert!(why.contains(fault), "wrong fault: {why}");
                    eprintln!("caught on attempt {attempt}: {why}");
                    return attempt;
                }
                Err(other) => panic!("not an oracle failure: {other}"),
            }
        }
        panic!("the oracle passed 20 runs of a broken state");
    }

    #[test]
    fn oracle_catches_a_racy_counter() {
        caught(|| RacyCounter(Atomics::new()), "counter");
    }

    #[test]
    fn oracle_catches_torn_pairs() {
        caught(TornPairs::new, "torn");
    }
}
