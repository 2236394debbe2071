//! loom models of the synchronization chanlab owns under the patterns:
//! every interleaving within a preemption bound, with a deliberately broken
//! twin beside each model that loom must catch.
//!
//! Only built under the project's loom cfg, in its own target dir:
//!
//! ```sh
//! RUSTFLAGS="--cfg chanlab_loom" CARGO_TARGET_DIR=target-loom \
//!     cargo test --release -p chanlab-scenarios --test loom
//! ```
//!
//! Bounds: at most three threads besides the model's main thread, one or
//! two items each, and a preemption bound of [`PREEMPTIONS`]
//! ([`SHUTDOWN_PREEMPTIONS`] for the pattern shutdown models).
#![cfg(chanlab_loom)]

use chanlab_scenarios::coord::{
    CancelReason, CancelToken, ErrGroup, ManualClock, Pool, Semaphore, Singleflight, TokenBucket,
};
use chanlab_sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use chanlab_sync::{Arc, Condvar, Mutex, lock, thread};

/// loom explores every schedule with at most this many preemptions.
const PREEMPTIONS: usize = 3;
/// The bound for the pattern shutdown models, whose four threads make the
/// state space too large for [`PREEMPTIONS`] within a minute.
const SHUTDOWN_PREEMPTIONS: usize = 2;

/// Checks `body` on every schedule within the bound.
fn model(body: impl Fn() + Sync + Send + 'static) {
    model_within(PREEMPTIONS, body);
}

/// Checks `body` on every schedule with at most `preemptions` preemptions.
fn model_within(preemptions: usize, body: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder.check(body);
}

/// Checks a broken twin's `body`, which loom must fail, and returns loom's
/// report. loom ends a deadlocked model with a panic that cannot unwind, so
/// the model runs in a child process (`test` is the calling test's name).
fn loom_finds(test: &str, body: impl Fn() + Sync + Send + 'static) -> String {
    chanlab_broken::child::must_fail(test, || model(body))
}

// ---------------------------------------------------------------------------
// Semaphore: never more holders than permits; every permit comes back; a
// waiter is always woken.

/// What the semaphore model needs; the real one and its twins implement it.
trait Permits: Send + Sync + 'static {
    fn new(permits: usize) -> Self;
    fn acquire(&self);
    fn release(&self);
    fn available(&self) -> usize;
}

/// chanlab's semaphore, with the permit guard held by the caller.
struct Real(Semaphore, Mutex<Vec<chanlab_scenarios::coord::Permit>>);

impl Permits for Real {
    fn new(permits: usize) -> Self {
        Real(Semaphore::new(permits), Mutex::new(Vec::new()))
    }
    fn acquire(&self) {
        let permit = self.0.acquire();
        lock(&self.1).push(permit);
    }
    fn release(&self) {
        let permit = lock(&self.1).pop();
        drop(permit);
    }
    fn available(&self) -> usize {
        self.0.available()
    }
}

/// Broken: checks for a free permit and takes it under two separate locks.
struct CheckThenAct(Mutex<usize>, Condvar);

impl Permits for CheckThenAct {
    fn new(permits: usize) -> Self {
        CheckThenAct(Mutex::new(permits), Condvar::new())
    }
    fn acquire(&self) {
        loop {
            let free = *lock(&self.0) > 0;
            if free {
                // Wraps rather than panics in a debug build, so the model
                // fails on its own assertion.
                let mut available = lock(&self.0);
                *available = available.wrapping_sub(1);
                return;
            }
            thread::yield_now();
        }
    }
    fn release(&self) {
        *lock(&self.0) += 1;
        self.1.notify_one();
    }
    fn available(&self) -> usize {
        *lock(&self.0)
    }
}

/// Broken: returns a permit without waking anyone waiting for it.
struct SilentRelease(Mutex<usize>, Condvar);

impl Permits for SilentRelease {
    fn new(permits: usize) -> Self {
        SilentRelease(Mutex::new(permits), Condvar::new())
    }
    fn acquire(&self) {
        let mut free = lock(&self.0);
        while *free == 0 {
            free = self
                .1
                .wait(free)
                .unwrap_or_else(chanlab_sync::PoisonError::into_inner);
        }
        *free -= 1;
    }
    fn release(&self) {
        *lock(&self.0) += 1;
    }
    fn available(&self) -> usize {
        *lock(&self.0)
    }
}

/// Two threads contend for one permit.
fn semaphore_model<P: Permits>() {
    let permits = Arc::new(P::new(1));
    let inside = Arc::new(AtomicUsize::new(0));
    let holders: Vec<_> = (0..2)
        .map(|_| {
            let (permits, inside) = (Arc::clone(&permits), Arc::clone(&inside));
            thread::spawn(move || {
                permits.acquire();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(now <= 1, "{now} holders of 1 permit");
                inside.fetch_sub(1, Ordering::SeqCst);
                permits.release();
            })
        })
        .collect();
    for holder in holders {
        holder.join().unwrap();
    }
    assert_eq!(permits.available(), 1, "a permit was not returned");
}

#[test]
fn semaphore_admits_one_holder_per_permit_and_wakes_waiters() {
    model(semaphore_model::<Real>);
}

#[test]
fn semaphore_twin_with_check_then_act_admits_two() {
    let report = loom_finds(
        "semaphore_twin_with_check_then_act_admits_two",
        semaphore_model::<CheckThenAct>,
    );
    assert!(report.contains("holders of 1 permit"), "{report}");
}

#[test]
fn semaphore_twin_without_wake_up_deadlocks() {
    let report = loom_finds(
        "semaphore_twin_without_wake_up_deadlocks",
        semaphore_model::<SilentRelease>,
    );
    assert!(report.contains("deadlock"), "{report}");
}

// ---------------------------------------------------------------------------
// Cancellation: a cancel reaches a child blocked in `wait`.

/// What the cancellation model needs.
trait Cancel: Clone + Send + Sync + 'static {
    fn root() -> Self;
    fn child(&self) -> Self;
    fn cancel(&self);
    fn wait(&self);
}

impl Cancel for CancelToken {
    fn root() -> Self {
        CancelToken::new()
    }
    fn child(&self) -> Self {
        CancelToken::child(self)
    }
    fn cancel(&self) {
        CancelToken::cancel(self);
    }
    fn wait(&self) {
        assert_eq!(CancelToken::wait(self), CancelReason::Cancelled);
    }
}

/// Broken: one flag for the whole tree, and a cancel that wakes only one
/// waiter.
#[derive(Clone)]
struct WakesOne(Arc<(Mutex<bool>, Condvar)>);

impl Cancel for WakesOne {
    fn root() -> Self {
        WakesOne(Arc::new((Mutex::new(false), Condvar::new())))
    }
    fn child(&self) -> Self {
        self.clone()
    }
    fn cancel(&self) {
        *lock(&self.0.0) = true;
        self.0.1.notify_one();
    }
    fn wait(&self) {
        let mut cancelled = lock(&self.0.0);
        while !*cancelled {
            cancelled = self
                .0
                .1
                .wait(cancelled)
                .unwrap_or_else(chanlab_sync::PoisonError::into_inner);
        }
    }
}

/// Two workers wait on children of one root; the root is cancelled.
fn cancel_model<C: Cancel>() {
    let root = C::root();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let token = root.child();
            thread::spawn(move || token.wait())
        })
        .collect();
    root.cancel();
    for worker in workers {
        worker.join().unwrap();
    }
}

#[test]
fn cancellation_wakes_every_waiting_descendant() {
    model(cancel_model::<CancelToken>);
}

#[test]
fn cancellation_twin_that_wakes_one_waiter_deadlocks() {
    let report = loom_finds(
        "cancellation_twin_that_wakes_one_waiter_deadlocks",
        cancel_model::<WakesOne>,
    );
    assert!(report.contains("deadlock"), "{report}");
}

// ---------------------------------------------------------------------------
// Singleflight: one execution per key in flight at a time, and every
// caller gets the result of an execution.

/// What the singleflight model needs.
trait Flights: Send + Sync + 'static {
    fn new() -> Self;
    fn run(&self, key: u8, work: &dyn Fn() -> usize) -> usize;
}

impl Flights for Singleflight<u8, usize> {
    fn new() -> Self {
        Singleflight::new()
    }
    fn run(&self, key: u8, work: &dyn Fn() -> usize) -> usize {
        Singleflight::run(self, key, work).value
    }
}

/// Broken: looks the key up and registers the call under two separate
/// locks, so two callers can both miss and both run.
struct LookThenRegister(Mutex<std::collections::HashMap<u8, usize>>);

impl Flights for LookThenRegister {
    fn new() -> Self {
        LookThenRegister(Mutex::new(std::collections::HashMap::new()))
    }
    fn run(&self, key: u8, work: &dyn Fn() -> usize) -> usize {
        let in_flight = lock(&self.0).contains_key(&key);
        if !in_flight {
            lock(&self.0).insert(key, 0);
            let value = work();
            lock(&self.0).remove(&key);
            return value;
        }
        // Joining a call in flight: wait for it to end, then run again.
        while lock(&self.0).contains_key(&key) {
            thread::yield_now();
        }
        work()
    }
}

/// Two callers ask for one key at once.
fn singleflight_model<F: Flights>() {
    let table = Arc::new(F::new());
    let running = Arc::new(AtomicUsize::new(0));
    let executions = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (table, running, executions) = (
                Arc::clone(&table),
                Arc::clone(&running),
                Arc::clone(&executions),
            );
            thread::spawn(move || {
                table.run(7, &|| {
                    let at_once = running.fetch_add(1, Ordering::SeqCst) + 1;
                    assert_eq!(at_once, 1, "two executions of one key in flight at once");
                    running.fetch_sub(1, Ordering::SeqCst);
                    executions.fetch_add(1, Ordering::SeqCst) + 1
                })
            })
        })
        .collect();
    for caller in callers {
        let execution = caller.join().unwrap();
        assert!(execution >= 1 && execution <= executions.load(Ordering::SeqCst));
    }
}

#[test]
fn singleflight_runs_one_execution_per_key_at_a_time() {
    model(singleflight_model::<Singleflight<u8, usize>>);
}

#[test]
fn singleflight_twin_with_check_then_act_runs_two_at_once() {
    let report = loom_finds(
        "singleflight_twin_with_check_then_act_runs_two_at_once",
        singleflight_model::<LookThenRegister>,
    );
    assert!(report.contains("in flight at once"), "{report}");
}

// ---------------------------------------------------------------------------
// Error group: the first error is returned and cancels the rest, and every
// task ends.

#[test]
fn errgroup_returns_the_first_error_and_ends_every_task() {
    model(|| {
        let mut group = ErrGroup::new(&CancelToken::new());
        group.spawn(|token| {
            token.wait();
            Err("cancelled")
        });
        group.spawn(|_| Err("first"));
        assert_eq!(group.wait(), Ok(Err("first")));
    });
}

/// Broken: an error group that records the first error but never cancels
/// its token, so a task waiting on the token never ends.
#[test]
fn errgroup_twin_that_does_not_cancel_deadlocks() {
    let report = loom_finds("errgroup_twin_that_does_not_cancel_deadlocks", || {
        let token = CancelToken::new();
        let first_error = Arc::new(Mutex::new(None));
        let tasks: Vec<_> = [true, false]
            .into_iter()
            .map(|fails| {
                let (token, first_error) = (token.clone(), Arc::clone(&first_error));
                thread::spawn(move || {
                    let result: Result<(), &str> = if fails {
                        Err("first")
                    } else {
                        token.wait();
                        Err("cancelled")
                    };
                    if let Err(error) = result {
                        lock(&first_error).get_or_insert(error);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.join().unwrap();
        }
    });
    assert!(report.contains("deadlock"), "{report}");
}

// ---------------------------------------------------------------------------
// Pattern shutdown over the reference channel: closing the job queue ends
// every worker, and every result arrives once.

mod shutdown {
    use chanlab_broken::{Broken, NeverDisconnects};
    use chanlab_contract::Capacity;
    use chanlab_impls::Reference;
    use chanlab_scenarios::{Params, Pattern, run_sync};

    use super::{SHUTDOWN_PREEMPTIONS, loom_finds, model_within};

    /// Two jobs, two workers, a queue of one: the smallest pool in which
    /// workers contend and the close must reach a blocked worker.
    fn tiny() -> Params {
        Params {
            items: 2,
            producers: 1,
            workers: 2,
            capacity: Capacity::Bounded(1),
            ..Params::default()
        }
    }

    #[test]
    fn worker_pool_ends_every_worker_and_loses_nothing() {
        model_within(SHUTDOWN_PREEMPTIONS, || {
            run_sync::<Reference>(Pattern::WorkerPool, &tiny()).unwrap();
        });
    }

    #[test]
    fn worker_pool_twin_whose_queue_never_closes_deadlocks() {
        let report = loom_finds(
            "shutdown::worker_pool_twin_whose_queue_never_closes_deadlocks",
            || {
                let _ = run_sync::<Broken<NeverDisconnects>>(Pattern::WorkerPool, &tiny());
            },
        );
        assert!(report.contains("deadlock"), "{report}");
    }
}

// ---------------------------------------------------------------------------
// Token bucket: two callers at the same instant never get more than the
// burst.

/// What the rate model needs.
trait Bucket: Send + Sync + 'static {
    fn new(burst: u32) -> Self;
    fn try_acquire(&self) -> bool;
}

impl Bucket for TokenBucket<ManualClock> {
    fn new(burst: u32) -> Self {
        TokenBucket::new(ManualClock::new(), 1.0, burst).unwrap()
    }
    fn try_acquire(&self) -> bool {
        TokenBucket::try_acquire(self).is_ok()
    }
}

/// Broken: counts tokens, checks and takes them under two separate locks.
struct TakesLate(Mutex<u32>);

impl Bucket for TakesLate {
    fn new(burst: u32) -> Self {
        TakesLate(Mutex::new(burst))
    }
    fn try_acquire(&self) -> bool {
        let available = *lock(&self.0) > 0;
        if available {
            let mut tokens = lock(&self.0);
            *tokens = tokens.wrapping_sub(1);
        }
        available
    }
}

/// Two callers, a burst of one, no time passing: one admission in all.
fn bucket_model<B: Bucket>() {
    let bucket = Arc::new(B::new(1));
    let admitted = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (bucket, admitted) = (Arc::clone(&bucket), Arc::clone(&admitted));
            thread::spawn(move || {
                if bucket.try_acquire() {
                    admitted.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for caller in callers {
        caller.join().unwrap();
    }
    let admitted = admitted.load(Ordering::SeqCst);
    assert_eq!(
        admitted, 1,
        "{admitted} admissions with a burst of 1 and no time passing"
    );
}

#[test]
fn token_bucket_admits_no_more_than_its_burst() {
    model(bucket_model::<TokenBucket<ManualClock>>);
}

#[test]
fn token_bucket_twin_that_checks_then_takes_admits_two() {
    let report = loom_finds(
        "token_bucket_twin_that_checks_then_takes_admits_two",
        bucket_model::<TakesLate>,
    );
    assert!(report.contains("admissions with a burst of 1"), "{report}");
}

// ---------------------------------------------------------------------------
// Resource pool, against a twin that forgets to wake a waiter.

/// What the pool model needs.
trait Lend: Send + Sync + 'static {
    fn new() -> Self;
    /// Lends the pool's one resource to `use_it`, waiting for it if lent.
    fn with_resource(&self, use_it: &dyn Fn(&AtomicBool));
}

impl Lend for Pool<Arc<AtomicBool>> {
    fn new() -> Self {
        Pool::new(1, || Arc::new(AtomicBool::new(false)))
    }
    fn with_resource(&self, use_it: &dyn Fn(&AtomicBool)) {
        use_it(&self.acquire());
    }
}

/// Broken: a pool of one that returns its resource without waking a
/// waiter.
struct ForgetsWaiters(Mutex<Option<Arc<AtomicBool>>>, Condvar);

impl Lend for ForgetsWaiters {
    fn new() -> Self {
        ForgetsWaiters(
            Mutex::new(Some(Arc::new(AtomicBool::new(false)))),
            Condvar::new(),
        )
    }
    fn with_resource(&self, use_it: &dyn Fn(&AtomicBool)) {
        let mut slot = lock(&self.0);
        let resource = loop {
            match slot.take() {
                Some(resource) => break resource,
                None => {
                    slot = self
                        .1
                        .wait(slot)
                        .unwrap_or_else(chanlab_sync::PoisonError::into_inner)
                }
            }
        };
        drop(slot);
        use_it(&resource);
        *lock(&self.0) = Some(resource);
    }
}

/// Two holders share a pool of one.
fn pool_model<L: Lend>() {
    let pool = Arc::new(L::new());
    let holders: Vec<_> = (0..2)
        .map(|_| {
            let pool = Arc::clone(&pool);
            thread::spawn(move || {
                pool.with_resource(&|resource| {
                    assert!(
                        !resource.swap(true, Ordering::SeqCst),
                        "lent to two at once"
                    );
                    resource.store(false, Ordering::SeqCst);
                });
            })
        })
        .collect();
    for holder in holders {
        holder.join().unwrap();
    }
}

#[test]
fn pool_wakes_a_waiter_when_a_resource_comes_back() {
    model(pool_model::<Pool<Arc<AtomicBool>>>);
}

#[test]
fn pool_twin_that_forgets_waiters_deadlocks() {
    let report = loom_finds(
        "pool_twin_that_forgets_waiters_deadlocks",
        pool_model::<ForgetsWaiters>,
    );
    assert!(report.contains("deadlock"), "{report}");
}

// ---------------------------------------------------------------------------
// Pub/sub registry: unsubscribing never waits for a publisher blocked on a
// full subscriber, and the subscription then closes.

mod registry {
    use chanlab_contract::{Capacity, Receiver};
    use chanlab_impls::Reference;
    use chanlab_scenarios::patterns::pubsub::{Broker, SlowSubscriber, Subscription};
    use chanlab_sync::{Arc, Mutex, lock, thread};

    use super::{loom_finds, model};

    /// What the registry model needs.
    trait Registry: Send + Sync + 'static {
        fn new() -> Self;
        fn subscribe(&self) -> Subscription<Reference, u64>;
        fn unsubscribe(&self, id: u64);
        fn publish(&self, message: u64);
    }

    impl Registry for Broker<Reference, u64> {
        fn new() -> Self {
            Broker::new(Capacity::Bounded(1)).unwrap()
        }
        fn subscribe(&self) -> Subscription<Reference, u64> {
            Broker::subscribe(self, "t", SlowSubscriber::Block).unwrap()
        }
        fn unsubscribe(&self, id: u64) {
            Broker::unsubscribe(self, "t", id);
        }
        fn publish(&self, message: u64) {
            Broker::publish(self, "t", message);
        }
    }

    /// Broken: publishes and unsubscribes under one big lock, as a broker
    /// that sends while holding its registry would.
    struct BigLock(Broker<Reference, u64>, Mutex<()>);

    impl Registry for BigLock {
        fn new() -> Self {
            BigLock(Registry::new(), Mutex::new(()))
        }
        fn subscribe(&self) -> Subscription<Reference, u64> {
            Registry::subscribe(&self.0)
        }
        fn unsubscribe(&self, id: u64) {
            let _registry = lock(&self.1);
            Registry::unsubscribe(&self.0, id);
        }
        fn publish(&self, message: u64) {
            let _registry = lock(&self.1);
            Registry::publish(&self.0, message);
        }
    }

    /// A publisher sends two messages into a subscription of one slot
    /// whose subscriber unsubscribes before it reads anything.
    fn unsubscribe_model<R: Registry>() {
        let broker = Arc::new(R::new());
        let mut subscription = broker.subscribe();
        let publisher = {
            let broker = Arc::clone(&broker);
            thread::spawn(move || {
                broker.publish(1);
                broker.publish(2);
            })
        };
        broker.unsubscribe(subscription.id);
        drop(broker);
        let mut received = 0;
        while subscription.receiver.recv().is_ok() {
            received += 1;
        }
        assert!(received <= 2);
        publisher.join().unwrap();
    }

    #[test]
    fn unsubscribing_never_waits_for_a_blocked_publisher() {
        model(unsubscribe_model::<Broker<Reference, u64>>);
    }

    #[test]
    fn registry_twin_that_sends_under_its_lock_deadlocks() {
        let report = loom_finds(
            "registry::registry_twin_that_sends_under_its_lock_deadlocks",
            unsubscribe_model::<BigLock>,
        );
        assert!(report.contains("deadlock"), "{report}");
    }
}

// ---------------------------------------------------------------------------
// Supervisor: a failed attempt is seen and restarted with the state it
// left, on every schedule.

mod restart {
    use std::time::Duration;

    use chanlab_scenarios::coord::{Exit, ManualClock, RestartPolicy, Supervisor};
    use chanlab_sync::{Arc, Mutex, lock, thread};

    use super::{loom_finds, model};

    const POLICY: RestartPolicy = RestartPolicy {
        max_restarts: 2,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
    };

    /// The worker fails on its first attempt and completes on its second.
    fn flaky(attempts: &mut u32) -> Result<(), String> {
        *attempts += 1;
        if *attempts == 1 {
            Err("first attempt".into())
        } else {
            Ok(())
        }
    }

    #[test]
    fn a_failed_attempt_is_restarted_with_its_state() {
        model(|| {
            let supervisor = Supervisor::new(std::sync::Arc::new(ManualClock::new()), POLICY);
            let (attempts, report) = supervisor.run(0u32, flaky);
            assert_eq!(attempts, 2);
            assert_eq!(report.exit, Exit::Completed);
            assert_eq!(report.failures, ["first attempt"]);
        });
    }

    /// Broken: reads an attempt's outcome from a shared slot right after
    /// starting it, without joining it first.
    fn impatient(max_restarts: u32) -> u32 {
        let attempts = Arc::new(Mutex::new(0u32));
        let mut restarts = 0;
        loop {
            let outcome = Arc::new(Mutex::new(None));
            let attempt = {
                let (attempts, outcome) = (Arc::clone(&attempts), Arc::clone(&outcome));
                thread::spawn(move || {
                    let result = flaky(&mut lock(&attempts));
                    *lock(&outcome) = Some(result);
                })
            };
            let seen = lock(&outcome).take();
            attempt.join().unwrap();
            match seen {
                Some(Err(_)) if restarts < max_restarts => restarts += 1,
                Some(_) => return *lock(&attempts),
                None => panic!("the supervisor lost an attempt's outcome"),
            }
        }
    }

    #[test]
    fn supervisor_twin_that_does_not_wait_for_its_worker_is_caught() {
        let report = loom_finds(
            "restart::supervisor_twin_that_does_not_wait_for_its_worker_is_caught",
            || {
                assert_eq!(impatient(POLICY.max_restarts), 2);
            },
        );
        assert!(report.contains("lost an attempt's outcome"), "{report}");
    }
}
