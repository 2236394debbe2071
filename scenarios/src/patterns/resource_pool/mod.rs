//! Resource pool: a bounded pool of reusable resources, here fake
//! connections. A job acquires one, waiting with a timeout while every one
//! is lent out; the connection goes back when its guard drops; a connection
//! marked broken is discarded, and a later acquire makes a fresh one.
//!
//! Use it when resources are costly to make and limited in number (database
//! connections, sockets, large buffers): reuse spreads the cost of making
//! them, the bound caps what the far end sees, and the timeout turns
//! exhaustion into an error instead of an endless wait. Go's `database/sql`
//! pool, or a buffered channel of connections.
//!
//! Params: `workers` threads share `items` jobs; the pool holds `capacity`
//! connections when that is bounded and not zero, 4 otherwise; `work` per
//! job. Connections are made on demand, so the pool is contended only when
//! `workers` exceeds its size. Every seventh job (job % 7 == 3) breaks its
//! connection.
//!
//! Oracle: every job got a connection within a generous timeout (else the
//! pool starved); no connection was lent to two jobs at once, nor lent again
//! once broken; never more connections lent at once, nor alive, than the
//! pool's size; connections made are at most the pool's size plus one
//! replacement per broken one, and at the end the pool holds exactly the
//! ones made and not broken, all idle.

#[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
mod deadpool;
mod tasks;

pub use tasks::run_async_on;

use std::ops::DerefMut;
use std::time::Duration;

use chanlab_sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use chanlab_sync::{Arc, Mutex};

use super::{busy, share};
use crate::coord::{AcquireTimeout, Pool, Pooled, Tokio, WaitGroup};
use crate::oracle::Gauge;
use crate::outcome::ensure;
use crate::runtime::RuntimeExt;
use crate::{Outcome, Params, Pattern, Primitive, Refusal, Runtime, ScenarioError};

/// Pool size when `capacity` is unbounded or zero.
const DEFAULT_SIZE: usize = 4;
/// Beyond the longest a correct pool can make a job wait (every other
/// worker ahead of it, each holding a connection for `work`), how long an
/// acquire waits before the oracle calls the pool starved.
const ACQUIRE_GRACE: Duration = Duration::from_secs(10);
/// Job `job` breaks its connection when `job % BREAK_EVERY == BREAK_AT`.
const BREAK_EVERY: usize = 7;
/// See [`BREAK_EVERY`].
const BREAK_AT: usize = 3;

/// A stand-in for a connection: which one it is, and how many jobs used it.
#[derive(Debug)]
struct FakeConnection {
    id: usize,
    uses: u64,
}

/// What the oracle tracks about one connection, whoever holds it.
#[derive(Debug)]
struct ConnState {
    /// Set while a job holds the connection.
    in_use: AtomicBool,
    /// Set once a job has broken it.
    broken: AtomicBool,
    /// Times it was lent.
    lends: AtomicU64,
}

/// Every connection the factory made, by id.
#[derive(Debug)]
struct Registry {
    conns: Mutex<Vec<Arc<ConnState>>>,
}

impl Registry {
    fn new() -> Self {
        Registry {
            conns: Mutex::new(Vec::new()),
        }
    }

    /// The factory: a new connection, registered under the next id.
    fn create(&self) -> FakeConnection {
        let mut conns = self.conns.lock();
        let id = conns.len();
        conns.push(Arc::new(ConnState {
            in_use: AtomicBool::new(false),
            broken: AtomicBool::new(false),
            lends: AtomicU64::new(0),
        }));
        FakeConnection { id, uses: 0 }
    }

    fn state(&self, id: usize) -> Option<Arc<ConnState>> {
        self.conns.lock().get(id).cloned()
    }

    fn all(&self) -> Vec<Arc<ConnState>> {
        self.conns.lock().clone()
    }
}

/// What the pattern needs of any pool, however it lends: [`Pool`] is
/// chanlab's; the tests' broken twin implements it too, to show the oracle
/// rejects it.
trait Pooling: Send + Sync + 'static {
    /// A connection on loan, returned when dropped.
    type Lease: DerefMut<Target = FakeConnection> + Send;
    /// Gives back a leased connection as broken, so the pool replaces it.
    fn discard(lease: Self::Lease);
    fn live(&self) -> usize;
    fn idle(&self) -> usize;
}

/// A pool threads borrow from.
trait Lender: Pooling {
    fn lend(&self, timeout: Duration) -> Result<Self::Lease, AcquireTimeout>;
}

impl Pooling for Pool<FakeConnection> {
    type Lease = Pooled<FakeConnection>;
    fn discard(mut lease: Self::Lease) {
        lease.mark_broken();
    }
    fn live(&self) -> usize {
        Pool::live(self)
    }
    fn idle(&self) -> usize {
        Pool::idle(self)
    }
}

impl Lender for Pool<FakeConnection> {
    fn lend(&self, timeout: Duration) -> Result<Self::Lease, AcquireTimeout> {
        self.acquire_timeout(timeout)
    }
}

/// What the workers share.
struct Shared<L> {
    pool: L,
    registry: Arc<Registry>,
    /// Connections lent at once.
    lent: Gauge,
    /// The most connections the pool said were alive, sampled by each job.
    most_live: AtomicUsize,
    /// How long one acquire may wait before the pool counts as starved.
    acquire_timeout: Duration,
}

/// What the oracle judges at the end of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tally {
    size: usize,
    items: usize,
    lends: u64,
    created: usize,
    broken: usize,
    most_lent: usize,
    most_live: usize,
    live: usize,
    idle: usize,
    held_at_end: usize,
}

/// The pool size `params` asks for.
fn pool_size(params: &Params) -> usize {
    match params.capacity.bound() {
        Some(size) if size > 0 => size,
        _ => DEFAULT_SIZE,
    }
}

/// A pool of `size` connections made by `registry`.
fn new_pool(size: usize, registry: &Arc<Registry>) -> Pool<FakeConnection> {
    let registry = Arc::clone(registry);
    Pool::new(size, move || registry.create())
}

/// Runs the jobs against one pool: chanlab's on threads, or as tasks on
/// `runtime` chanlab's or deadpool's.
pub fn run(
    primitive: Primitive,
    params: &Params,
    runtime: Runtime,
) -> Result<Outcome, ScenarioError> {
    let registry = Arc::new(Registry::new());
    let size = pool_size(params);
    match primitive {
        Primitive::Chanlab => run_with(params, new_pool(size, &registry), registry),
        Primitive::ChanlabAsync => runtime.block_on(tasks::run_with::<Tokio, _>(
            params,
            new_pool(size, &registry),
            registry,
        )),
        #[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
        Primitive::Deadpool => {
            let pool = deadpool::new_pool(size, &registry)?;
            runtime.block_on(tasks::run_with::<Tokio, _>(params, pool, registry))
        }
        other => Err(Refusal::not_on(Pattern::ResourcePool, other)),
    }
}

impl<P: Pooling> Shared<P> {
    fn new(params: &Params, pool: P, registry: Arc<Registry>) -> Arc<Self> {
        let size = pool_size(params);
        Arc::new(Shared {
            pool,
            registry,
            lent: Gauge::new(),
            most_live: AtomicUsize::new(0),
            acquire_timeout: params
                .work
                .saturating_mul(params.workers.div_ceil(size) as u32)
                .saturating_add(ACQUIRE_GRACE),
        })
    }

    /// What the oracle judges once every job is done.
    fn tally(&self, params: &Params, broken: usize) -> Tally {
        let conns = self.registry.all();
        Tally {
            size: pool_size(params),
            items: params.items,
            lends: conns
                .iter()
                .map(|conn| conn.lends.load(Ordering::SeqCst))
                .sum(),
            created: conns.len(),
            broken,
            most_lent: self.lent.most(),
            most_live: self.most_live.load(Ordering::SeqCst),
            live: self.pool.live(),
            idle: self.pool.idle(),
            held_at_end: conns
                .iter()
                .filter(|conn| conn.in_use.load(Ordering::SeqCst))
                .count(),
        }
    }
}

/// Checks the end of a run and counts what it did.
fn finish(tally: &Tally, threads: usize) -> Result<Outcome, ScenarioError> {
    check(tally)?;
    Ok(Outcome::new(tally.items as u64, threads)
        .with("created", tally.created as u64)
        .with("broken", tally.broken as u64))
}

fn run_with<L: Lender>(
    params: &Params,
    pool: L,
    registry: Arc<Registry>,
) -> Result<Outcome, ScenarioError> {
    let mut wait_group = WaitGroup::new();
    let shared = Shared::new(params, pool, registry);
    for worker in 0..params.workers {
        let shared = Arc::clone(&shared);
        let jobs = share(params.items, params.workers, worker);
        let (workers, work) = (params.workers, params.work);
        // Worker `worker` takes jobs worker, worker + workers, ...: between
        // them the workers take every job of 0..items once.
        wait_group.spawn(move || {
            (0..jobs).try_fold(0, |broken, nth| {
                let broke = run_job(&shared, nth * workers + worker, work)?;
                Ok::<_, ScenarioError>(broken + usize::from(broke))
            })
        });
    }
    let threads = wait_group.started();
    let mut broken = 0;
    for result in wait_group.join()? {
        broken += result?;
    }
    finish(&shared.tally(params, broken), threads)
}

/// One job on a thread: acquire a connection, use it, maybe break it, give
/// it back. Returns whether it broke the connection.
fn run_job<L: Lender>(
    shared: &Shared<L>,
    job: usize,
    work: Duration,
) -> Result<bool, ScenarioError> {
    let lent = shared.pool.lend(shared.acquire_timeout);
    use_lease(shared, job, lent, work)
}

/// What a job does with the connection it was lent, or with the pool's
/// refusal to lend one in time.
fn use_lease<P: Pooling>(
    shared: &Shared<P>,
    job: usize,
    lent: Result<P::Lease, AcquireTimeout>,
    work: Duration,
) -> Result<bool, ScenarioError> {
    let mut conn =
        lent.map_err(|err| ScenarioError::Oracle(format!("pool starved: job {job}: {err}")))?;
    let lent = shared.lent.enter();
    shared
        .most_live
        .fetch_max(shared.pool.live(), Ordering::SeqCst);
    let id = conn.id;
    let state = shared.registry.state(id).ok_or_else(|| {
        ScenarioError::Oracle(format!(
            "job {job} was lent connection {id}, which the factory never made"
        ))
    })?;
    ensure(!state.in_use.swap(true, Ordering::SeqCst), || {
        format!("connection {id} was lent to job {job} while another job held it")
    })?;
    let held = Held(&state.in_use);
    ensure(!state.broken.load(Ordering::SeqCst), || {
        format!("broken connection {id} was lent again, to job {job}")
    })?;
    conn.uses += 1;
    let lends = state.lends.fetch_add(1, Ordering::SeqCst) + 1;
    ensure(conn.uses == lends, || {
        format!(
            "connection {id} counts {} uses but was lent {lends} times",
            conn.uses
        )
    })?;

    busy(work);

    let breaks = job % BREAK_EVERY == BREAK_AT;
    if breaks {
        state.broken.store(true, Ordering::SeqCst);
    }
    drop(held);
    drop(lent);
    if breaks {
        P::discard(conn);
    } else {
        drop(conn);
    }
    Ok(breaks)
}

/// Marks a connection no longer held, on every way out of a job.
struct Held<'a>(&'a AtomicBool);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// The oracle over the end of the run.
fn check(t: &Tally) -> Result<(), ScenarioError> {
    let size = t.size;
    ensure(t.lends == t.items as u64, || {
        format!("{} connections lent for {} jobs", t.lends, t.items)
    })?;
    ensure(t.most_lent <= size, || {
        format!(
            "{} connections lent at once from a pool of {size}",
            t.most_lent
        )
    })?;
    ensure(t.most_live.max(t.live) <= size, || {
        format!(
            "{} connections alive at once in a pool of {size}",
            t.most_live.max(t.live)
        )
    })?;
    ensure(t.created <= size + t.broken, || {
        format!(
            "{} connections made: more than the pool's {size} plus {} replacements",
            t.created, t.broken
        )
    })?;
    ensure(t.created.checked_sub(t.broken) == Some(t.live), || {
        format!(
            "the pool holds {} connections, but {} were made and {} broken",
            t.live, t.created, t.broken
        )
    })?;
    ensure(t.idle == t.live && t.held_at_end == 0, || {
        format!(
            "{} of {} connections idle at the end, {} still held",
            t.idle, t.live, t.held_at_end
        )
    })
}

#[cfg(test)]
mod tests {
    use chanlab_contract::Capacity;

    use super::*;
    use crate::coord::Executor;

    /// What an oracle message names, and the fault that should cause it.
    type Fault = (&'static str, fn(&mut Tally));

    fn run(params: &Params) -> Result<Outcome, ScenarioError> {
        super::run(Primitive::Chanlab, params, Runtime::MultiThread)
    }

    fn params(items: usize, workers: usize, capacity: Capacity) -> Params {
        Params {
            items,
            workers,
            capacity,
            work: Duration::from_micros(20),
            ..Params::default()
        }
    }

    /// Jobs of `0..items` that break their connection.
    fn breaking(items: usize) -> u64 {
        (0..items)
            .filter(|job| job % BREAK_EVERY == BREAK_AT)
            .count() as u64
    }

    #[test]
    fn one_worker_reuses_one_connection_and_replaces_broken_ones() {
        let outcome = run(&params(14, 1, Capacity::Bounded(3))).unwrap();
        assert_eq!(outcome.counters["broken"], 2);
        assert_eq!(outcome.counters["created"], 3, "one, then one per break");
    }

    #[test]
    fn contended_pool_stays_bounded() {
        let outcome = run(&params(60, 6, Capacity::Bounded(2))).unwrap();
        assert_eq!((outcome.items, outcome.threads), (60, 6));
        assert_eq!(outcome.counters["broken"], breaking(60));
        assert!(outcome.counters["created"] <= 2 + breaking(60));
    }

    #[test]
    fn unbounded_or_zero_capacity_uses_the_default_size() {
        for capacity in [Capacity::Unbounded, Capacity::RENDEZVOUS] {
            assert_eq!(pool_size(&params(1, 1, capacity)), DEFAULT_SIZE);
            let outcome = run(&params(40, 8, capacity)).unwrap();
            let created = outcome.counters["created"];
            assert!(created <= DEFAULT_SIZE as u64 + breaking(40), "{created}");
        }
    }

    #[test]
    fn exhausted_pool_times_out() {
        let registry = Arc::new(Registry::new());
        let pool = new_pool(1, &registry);
        let held = pool.acquire();
        let timeout = Duration::from_millis(1);
        assert_eq!(
            pool.acquire_timeout(timeout).err(),
            Some(AcquireTimeout(timeout))
        );
        drop(held);
        assert_eq!(
            pool.acquire_timeout(timeout).map(|conn| conn.id).ok(),
            Some(0)
        );
    }

    /// A pool that ignores `mark_broken`: broken connections go back to
    /// be lent again.
    struct KeepsBroken(Pool<FakeConnection>);

    impl Pooling for KeepsBroken {
        type Lease = Pooled<FakeConnection>;
        fn discard(_: Self::Lease) {}
        fn live(&self) -> usize {
            self.0.live()
        }
        fn idle(&self) -> usize {
            self.0.idle()
        }
    }

    impl Lender for KeepsBroken {
        fn lend(&self, timeout: Duration) -> Result<Self::Lease, AcquireTimeout> {
            self.0.acquire_timeout(timeout)
        }
    }

    impl tasks::AsyncLender for KeepsBroken {
        async fn lend<E: Executor>(&self, _: Duration) -> Result<Self::Lease, AcquireTimeout> {
            Ok(self.0.acquire_async().await)
        }
    }

    #[test]
    fn pools_for_tasks_pass_and_one_that_lends_broken_connections_is_caught() {
        let params = Params {
            items: 100,
            workers: 4,
            capacity: Capacity::Bounded(2),
            work: Duration::from_micros(20),
            ..Params::default()
        };
        for primitive in [Primitive::ChanlabAsync, Primitive::Deadpool] {
            for runtime in Runtime::ALL {
                let outcome = super::run(primitive, &params, runtime)
                    .unwrap_or_else(|err| panic!("{primitive} on {runtime:?}: {err}"));
                assert!(outcome.counters["created"] <= 2 + outcome.counters["broken"]);
            }
        }
        let registry = Arc::new(Registry::new());
        let pool = KeepsBroken(new_pool(2, &registry));
        let caught =
            Runtime::MultiThread.block_on(tasks::run_with::<Tokio, _>(&params, pool, registry));
        assert!(
            matches!(&caught, Err(ScenarioError::Oracle(why)) if why.contains("broken connection")),
            "{caught:?}"
        );
    }

    #[test]
    fn a_pool_that_lends_broken_connections_is_caught() {
        let params = Params {
            items: 100,
            workers: 2,
            capacity: Capacity::Bounded(2),
            ..Params::default()
        };
        let registry = Arc::new(Registry::new());
        let pool = KeepsBroken(new_pool(2, &registry));
        let caught = run_with(&params, pool, registry);
        assert!(
            matches!(&caught, Err(ScenarioError::Oracle(why)) if why.contains("broken connection")),
            "{caught:?}"
        );
    }

    #[test]
    fn oracle_rejects_each_fault() {
        let good = Tally {
            size: 2,
            items: 10,
            lends: 10,
            created: 3,
            broken: 1,
            most_lent: 2,
            most_live: 2,
            live: 2,
            idle: 2,
            held_at_end: 0,
        };
        assert_eq!(check(&good), Ok(()));
        let faults: [Fault; 6] = [
            ("lent for", |t| t.lends = 9),
            ("lent at once", |t| t.most_lent = 3),
            ("alive at once", |t| t.most_live = 3),
            ("replacements", |t| t.created = 4),
            ("were made", |t| t.live = 1),
            ("idle at the end", |t| t.idle = 1),
        ];
        for (what, fault) in faults {
            let mut tally = good.clone();
            fault(&mut tally);
            let err = check(&tally).unwrap_err();
            assert!(
                matches!(&err, ScenarioError::Oracle(m) if m.contains(what)),
                "{err}"
            );
        }
    }
}
