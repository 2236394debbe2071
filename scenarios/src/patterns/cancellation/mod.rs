//! Timeouts and cancellation: a tree of [`CancelToken`]s, Go's `context`,
//! stops every worker under the node that is cancelled and no other.
//!
//! Use it whenever work must stop early: a user gives up, a sibling failed,
//! a deadline passed. Each worker waits on its token and its queue
//! together, Go's `select { case <-ctx.Done(): … case job := <-jobs: … }`,
//! so it stops promptly without being killed, and drops its end of the
//! channel so its producer stops too.
//!
//! How a worker waits on both:
//! - on threads, through the library's own select: the token's done signal
//!   is a channel of the flavor, of the queue's message type, never sent
//!   on and closed when the token is cancelled ([`CancelToken::on_cancel`]),
//!   as Go's `ctx.Done()` is; the select's timeout is the time left to the
//!   deadline, which the token observes when asked;
//! - as tasks, through `tokio::select!` over the token's `cancelled()` and
//!   the queue's receive, on flavors whose receive is cancel-safe;
//! - a flavor with neither keeps the polling form, a receive with a short
//!   timeout then a look at the token, and its results say so
//!   (`native_select` = 0).
//!
//! The run has three groups of `workers` workers, each group fed by its
//! own producer on its own channel:
//! - group A's token is a child of the root; a worker of A cancels it after
//!   A has done half of `items` jobs (cancel from inside);
//! - group B's token has a deadline of [`DEADLINE`] (a timeout);
//! - group C's token is a plain child of the root; the root is cancelled
//!   once A and B have stopped (cancel from above).
//!
//! Params: `items` (A's half-way mark is `items / 2`), `workers` per group,
//! `capacity` of each channel (bounded: producers never pause), `work` per
//! job.
//!
//! Oracle: cancelling A reaches neither the root nor B nor C; every worker
//! of A stops as cancelled, of B as past its deadline, of C as cancelled by
//! the root; group A reached its half-way mark; every worker and producer
//! ends.

mod tasks;
#[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
mod tokio_util;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chanlab_contract::{
    Capacity, Receiver, RecvTimeoutError, SelectError, SelectWait, Selected, Sender, SyncFlavor,
};

use super::{busy, require};
use crate::coord::{CancelReason, CancelToken, SharedClock, SystemClock, WaitGroup};
use crate::outcome::ensure;
#[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
use crate::runtime::RuntimeExt;
use crate::{Outcome, ParamError, Params, Pattern, Primitive, Refusal, Runtime, ScenarioError};

pub use tasks::run_async;

/// Group B's deadline.
pub const DEADLINE: Duration = Duration::from_millis(20);
/// How long a polling worker waits for a job before it looks at its token.
const POLL: Duration = Duration::from_millis(1);

/// How a worker stopped.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// It saw its token cancelled, for this reason.
    Cancelled(CancelReason),
    /// Its channel closed first: its producer stopped while it was working.
    Disconnected,
    /// The flavor declared a select, and its select refused.
    SelectRefused,
}

/// What the pattern needs of a cancellation token. [`CancelToken`] is the
/// one it runs on; the tests' broken twins implement it too, to show the
/// oracle rejects them.
trait Token: Clone + Send + 'static {
    fn child(&self) -> Self;
    fn child_with_timeout(&self, clock: SharedClock, timeout: Duration) -> Self;
    fn cancel(&self);
    fn reason(&self) -> Option<CancelReason>;
    fn wait_timeout(&self, timeout: Duration) -> Option<CancelReason>;
    fn on_cancel(&self, callback: impl FnOnce() + Send + 'static);
    fn until_deadline(&self) -> Option<Duration>;
}

impl Token for CancelToken {
    fn child(&self) -> Self {
        CancelToken::child(self)
    }
    fn child_with_timeout(&self, clock: SharedClock, timeout: Duration) -> Self {
        CancelToken::child_with_timeout(self, clock, timeout)
    }
    fn cancel(&self) {
        CancelToken::cancel(self);
    }
    fn reason(&self) -> Option<CancelReason> {
        CancelToken::reason(self)
    }
    fn wait_timeout(&self, timeout: Duration) -> Option<CancelReason> {
        CancelToken::wait_timeout(self, timeout)
    }
    fn on_cancel(&self, callback: impl FnOnce() + Send + 'static) {
        CancelToken::on_cancel(self, callback);
    }
    fn until_deadline(&self) -> Option<Duration> {
        CancelToken::until_deadline(self)
    }
}

/// Cancels its token when dropped: on an early return, every group stops,
/// so the wait groups can join their workers.
struct CancelOnDrop<T: Token>(T);

impl<T: Token> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// What one group's workers did.
struct Group<T> {
    token: T,
    done: Arc<AtomicU64>,
    workers: WaitGroup<Stop>,
    started: usize,
}

/// Runs the pattern on threads.
pub fn run<F: SyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    run_with::<F, CancelToken>(params, CancelToken::new())
}

/// Runs the pattern on `primitive`, as tasks on `runtime`: tokio-util's
/// `CancellationToken` over tokio's mpsc channels.
// Its primitives are out of the loom and shuttle builds, and so is every
// use of its arguments.
#[cfg_attr(any(chanlab_loom, chanlab_shuttle), allow(unused_variables))]
pub fn run_primitive(
    primitive: Primitive,
    params: &Params,
    runtime: Runtime,
) -> Result<Outcome, ScenarioError> {
    match primitive {
        #[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
        Primitive::TokioUtilCancellationToken => runtime.block_on(tokio_util::run(params)),
        other => Err(Refusal::not_on(Pattern::Cancellation, other)),
    }
}

fn refuse_unbounded(params: &Params) -> Result<(), ScenarioError> {
    if params.capacity == Capacity::Unbounded {
        return Err(ParamError::new(
            "capacity",
            params.capacity,
            "bounded: cancellation's producers send without pause until their workers stop, so an unbounded channel would grow without limit",
        )
        .into());
    }
    Ok(())
}

/// Group A's half-way mark, where one of its workers cancels it.
fn halfway(params: &Params) -> u64 {
    (params.items / 2).max(1) as u64
}

fn run_with<F: SyncFlavor, T: Token>(params: &Params, root: T) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    refuse_unbounded(params)?;
    let mut producers = WaitGroup::new();
    let halfway = halfway(params);

    let a = start::<F, T>(params, root.child(), Some(halfway), &mut producers)?;
    let b_token = root.child_with_timeout(Arc::new(SystemClock::new()), DEADLINE);
    let b = start::<F, T>(params, b_token, None, &mut producers)?;
    let c = start::<F, T>(params, root.child(), None, &mut producers)?;
    let stop_all = CancelOnDrop(root);

    let a_stops = a.workers.join()?;
    // Only A is cancelled at this point, unless B's deadline has passed.
    let (root_after_a, c_after_a) = (stop_all.0.reason(), c.token.reason());
    let b_stops = b.workers.join()?;
    stop_all.0.cancel();
    let c_stops = c.workers.join()?;
    let threads = a.started + b.started + c.started + producers.started();
    producers.join()?;
    judge(Verdict {
        threads,
        native_select: F::INFO.capabilities.select,
        halfway,
        root_after_a,
        c_after_a,
        stops: [a_stops, b_stops, c_stops],
        done: [&a.done, &b.done, &c.done].map(|done| done.load(Ordering::SeqCst)),
    })
}

/// What a run observed, for the oracle.
struct Verdict {
    threads: usize,
    /// Whether workers waited through a select (the library's, or
    /// `tokio::select!`), not by polling.
    native_select: bool,
    halfway: u64,
    /// The root's and group C's state right after group A stopped.
    root_after_a: Option<CancelReason>,
    c_after_a: Option<CancelReason>,
    /// How each group's workers stopped, and how many jobs each group did.
    stops: [Vec<Stop>; 3],
    done: [u64; 3],
}

fn judge(verdict: Verdict) -> Result<Outcome, ScenarioError> {
    let Verdict {
        root_after_a,
        c_after_a,
        done,
        halfway,
        ..
    } = verdict;
    ensure(root_after_a.is_none() && c_after_a.is_none(), || {
        format!(
            "cancelling group A reached its parent or a sibling: root {root_after_a:?}, C {c_after_a:?}"
        )
    })?;
    let [a_stops, b_stops, c_stops] = &verdict.stops;
    check_stops(
        "A (cancelled from inside)",
        a_stops,
        CancelReason::Cancelled,
    )?;
    check_stops("B (deadline)", b_stops, CancelReason::DeadlineExceeded)?;
    check_stops("C (root cancelled)", c_stops, CancelReason::Cancelled)?;
    ensure(done[0] >= halfway, || {
        format!(
            "group A stopped after {} jobs, before its half-way mark {halfway}",
            done[0]
        )
    })?;
    Ok(Outcome::new(done.iter().sum(), verdict.threads)
        .with("native_select", u64::from(verdict.native_select))
        .with("jobs_a", done[0])
        .with("jobs_b", done[1])
        .with("jobs_c", done[2]))
}

/// Starts a producer that sends until its workers are gone, and `workers`
/// workers that take jobs until `token` is cancelled; the worker that does
/// job number `cancel_at` cancels the token itself.
fn start<F: SyncFlavor, T: Token>(
    params: &Params,
    token: T,
    cancel_at: Option<u64>,
    producers: &mut WaitGroup<()>,
) -> Result<Group<T>, ScenarioError> {
    let (jobs, receiver) = F::channel::<u64>(params.capacity)?;
    producers.spawn(move || {
        let mut job = 0;
        while jobs.send(job).is_ok() {
            job += 1;
        }
    });
    let done = Arc::new(AtomicU64::new(0));
    let mut workers = WaitGroup::new();
    // Workers share the queue where the flavor allows it; otherwise only
    // one worker of the group receives, and the others only watch the token.
    let mut queues: Vec<Option<F::Receiver<u64>>> =
        (1..params.workers).map(|_| receiver.try_clone()).collect();
    queues.push(Some(receiver));
    for queue in queues {
        let jobs = Jobs {
            done: Arc::clone(&done),
            work: params.work,
            cancel_at,
        };
        let waits = match queue {
            Some(queue) if F::INFO.capabilities.select => {
                // Go's ctx.Done(): closed, never sent on, when the token is.
                let (closer, signal) = F::channel::<u64>(Capacity::Bounded(1))?;
                token.on_cancel(move || drop(closer));
                Waits::Select([signal, queue])
            }
            Some(queue) => Waits::Poll(queue),
            None => Waits::TokenOnly,
        };
        let token = token.clone();
        workers.spawn(move || {
            // However this worker ends, a panic included, its group stops,
            // so the group's wait group can always be joined.
            let _stop_group = CancelOnDrop(token.clone());
            match waits {
                Waits::Select(pair) => by_select::<F, T>(&token, pair, &jobs),
                Waits::Poll(queue) => by_polling::<F, T>(&token, queue, &jobs),
                Waits::TokenOnly => until_cancelled(&token),
            }
        });
    }
    Ok(Group {
        token,
        done,
        started: workers.started(),
        workers,
    })
}

/// What a worker of a blocking flavor waits on.
enum Waits<R> {
    /// The token's done signal and the queue, through the library's select.
    Select([R; 2]),
    /// The queue with a short timeout, then the token: for a flavor with
    /// no select.
    Poll(R),
    /// The token alone: a worker with no queue of its own.
    TokenOnly,
}

/// What a worker does with each job, shared by its group.
struct Jobs {
    done: Arc<AtomicU64>,
    work: Duration,
    /// The group's job count at which its worker cancels the group.
    cancel_at: Option<u64>,
}

impl Jobs {
    fn take(&self, cancel: impl FnOnce()) {
        busy(self.work);
        let finished = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if self.cancel_at == Some(finished) {
            cancel();
        }
    }
}

/// Waits on the token's done signal and the queue at once, through the
/// library's select, at most until the deadline.
fn by_select<F: SyncFlavor, T: Token>(
    token: &T,
    mut waits: [F::Receiver<u64>; 2],
    jobs: &Jobs,
) -> Stop {
    const QUEUE: usize = 1;
    loop {
        if let Some(reason) = token.reason() {
            return Stop::Cancelled(reason);
        }
        let wait = token
            .until_deadline()
            .map_or(SelectWait::Forever, SelectWait::Timeout);
        match F::select(&mut waits, wait) {
            Ok(Selected {
                index: QUEUE,
                message: Ok(_job),
            }) => jobs.take(|| token.cancel()),
            Ok(Selected {
                index: QUEUE,
                message: Err(_),
            }) => return Stop::Disconnected,
            // The done signal closed, or the deadline came: the loop's head
            // reads which.
            Ok(_) | Err(SelectError::NotReady) => {}
            Err(SelectError::Unsupported { .. }) => return Stop::SelectRefused,
        }
    }
}

/// The form for a flavor with no select: a receive with a short timeout,
/// then a look at the token.
fn by_polling<F: SyncFlavor, T: Token>(
    token: &T,
    mut queue: F::Receiver<u64>,
    jobs: &Jobs,
) -> Stop {
    loop {
        if let Some(reason) = token.reason() {
            return Stop::Cancelled(reason);
        }
        match queue.recv_timeout(POLL) {
            Ok(_job) => jobs.take(|| token.cancel()),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Stop::Disconnected,
        }
    }
}

/// Waits on the token alone, at most until its deadline each time.
fn until_cancelled<T: Token>(token: &T) -> Stop {
    loop {
        if let Some(reason) = token.reason() {
            return Stop::Cancelled(reason);
        }
        token.wait_timeout(token.until_deadline().unwrap_or(Duration::from_secs(1)));
    }
}

fn check_stops(group: &str, stops: &[Stop], expected: CancelReason) -> Result<(), ScenarioError> {
    for (worker, stop) in stops.iter().enumerate() {
        ensure(*stop == Stop::Cancelled(expected), || {
            format!("group {group}: worker {worker} stopped with {stop:?}, expected {expected:?}")
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chanlab_impls::{Crossbeam, StdMpsc};

    /// A token whose "children" are the token itself, so cancelling a
    /// child cancels its parent and every sibling.
    #[derive(Clone)]
    struct Entangled(CancelToken);

    impl Token for Entangled {
        fn child(&self) -> Self {
            self.clone()
        }
        fn child_with_timeout(&self, clock: SharedClock, timeout: Duration) -> Self {
            Entangled(self.0.child_with_timeout(clock, timeout))
        }
        fn cancel(&self) {
            self.0.cancel();
        }
        fn reason(&self) -> Option<CancelReason> {
            self.0.reason()
        }
        fn wait_timeout(&self, timeout: Duration) -> Option<CancelReason> {
            self.0.wait_timeout(timeout)
        }
        fn on_cancel(&self, callback: impl FnOnce() + Send + 'static) {
            self.0.on_cancel(callback);
        }
        fn until_deadline(&self) -> Option<Duration> {
            self.0.until_deadline()
        }
    }

    #[test]
    fn cancellation_reaches_exactly_the_cancelled_subtree() {
        let selected = run::<Crossbeam>(&crate::small_params(200)).unwrap();
        assert_eq!(selected.counters["native_select"], 1);
        let polled = run::<StdMpsc>(&crate::small_params(200)).unwrap();
        assert_eq!(polled.counters["native_select"], 0);
    }

    #[test]
    fn tokio_util_tokens_stop_the_same_tree_on_both_runtimes() {
        for runtime in Runtime::ALL {
            let outcome = run_primitive(
                Primitive::TokioUtilCancellationToken,
                &crate::small_params(200),
                runtime,
            )
            .unwrap_or_else(|err| panic!("{runtime:?}: {err}"));
            assert_eq!(outcome.counters["native_select"], 1);
        }
    }

    #[test]
    fn a_cancellation_that_leaks_to_the_parent_is_caught() {
        let caught = run_with::<Crossbeam, Entangled>(
            &crate::small_params(200),
            Entangled(CancelToken::new()),
        );
        assert!(
            matches!(&caught, Err(ScenarioError::Oracle(why)) if why.contains("reached its parent")),
            "{caught:?}"
        );
    }
}
