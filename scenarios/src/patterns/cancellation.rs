//! Timeouts and cancellation: a tree of [`CancelToken`]s, Go's `context`,
//! stops every worker under the node that is cancelled and no other.
//!
//! Use it whenever work must stop early: a user gives up, a sibling failed,
//! a deadline passed. Each worker checks its token between items and while
//! waiting for one (a receive with a short timeout), so it stops promptly
//! without being killed, and drops its end of the channel so its producer
//! stops too.
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

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, Receiver, RecvTimeoutError, Sender,
    SyncFlavor,
};
use tokio::task::JoinSet;

use super::{busy, join_tasks, require};
use crate::coord::{CancelReason, CancelToken, SharedClock, SystemClock, WaitGroup};
use crate::outcome::ensure;
use crate::{Outcome, ParamError, Params, ScenarioError};

/// Group B's deadline.
pub const DEADLINE: Duration = Duration::from_millis(20);
/// How long an idle worker waits for a job before it looks at its token.
const POLL: Duration = Duration::from_millis(1);

/// How a worker stopped.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// It saw its token cancelled, for this reason.
    Cancelled(CancelReason),
    /// Its channel closed first: its producer stopped while it was working.
    Disconnected,
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

/// Runs the pattern as tasks.
pub async fn run_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    refuse_unbounded(params)?;
    let root = CancelToken::new();
    let mut producers = JoinSet::new();
    let halfway = halfway(params);

    let a = start_async::<F>(params, root.child(), Some(halfway), &mut producers)?;
    let b_token = root.child_with_timeout(Arc::new(SystemClock::new()), DEADLINE);
    let b = start_async::<F>(params, b_token, None, &mut producers)?;
    let c = start_async::<F>(params, root.child(), None, &mut producers)?;
    let _stop_all = root.drop_guard();

    let a_stops = join_tasks(a.workers).await?;
    let (root_after_a, c_after_a) = (root.reason(), c.token.reason());
    let b_stops = join_tasks(b.workers).await?;
    root.cancel();
    let c_stops = join_tasks(c.workers).await?;
    let producers = join_tasks(producers).await?.len();
    judge(Verdict {
        threads: a_stops.len() + b_stops.len() + c_stops.len() + producers,
        halfway,
        root_after_a,
        c_after_a,
        stops: [a_stops, b_stops, c_stops],
        done: [&a.done, &b.done, &c.done].map(|done| done.load(Ordering::SeqCst)),
    })
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
    for mut queue in queues {
        let (token, done, work) = (token.clone(), Arc::clone(&done), params.work);
        workers.spawn(move || {
            // However this worker ends, a panic included, its group stops,
            // so the group's wait group can always be joined.
            let _stop_group = CancelOnDrop(token.clone());
            loop {
                if let Some(reason) = token.reason() {
                    return Stop::Cancelled(reason);
                }
                let Some(queue) = queue.as_mut() else {
                    token.wait_timeout(POLL);
                    continue;
                };
                match queue.recv_timeout(POLL) {
                    Ok(_job) => {
                        busy(work);
                        let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                        if cancel_at == Some(finished) {
                            token.cancel();
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return Stop::Disconnected,
                }
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

/// [`start`] for tasks.
fn start_async<F: AsyncFlavor>(
    params: &Params,
    token: CancelToken,
    cancel_at: Option<u64>,
    producers: &mut JoinSet<()>,
) -> Result<AsyncGroup, ScenarioError> {
    let (jobs, receiver) = F::channel::<u64>(params.capacity)?;
    producers.spawn(async move {
        let mut job = 0;
        while jobs.send(job).await.is_ok() {
            job += 1;
        }
    });
    let done = Arc::new(AtomicU64::new(0));
    let mut workers = JoinSet::new();
    let mut queues: Vec<Option<F::Receiver<u64>>> =
        (1..params.workers).map(|_| receiver.try_clone()).collect();
    queues.push(Some(receiver));
    for mut queue in queues {
        let (token, done, work) = (token.clone(), Arc::clone(&done), params.work);
        workers.spawn(async move {
            let _stop_group = token.drop_guard();
            loop {
                if let Some(reason) = token.reason() {
                    return Stop::Cancelled(reason);
                }
                let Some(queue) = queue.as_mut() else {
                    tokio::time::sleep(POLL).await;
                    continue;
                };
                match tokio::time::timeout(POLL, queue.recv()).await {
                    Ok(Ok(_job)) => {
                        busy(work);
                        let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                        if cancel_at == Some(finished) {
                            token.cancel();
                        }
                    }
                    Ok(Err(_)) => return Stop::Disconnected,
                    Err(_elapsed) => {}
                }
            }
        });
    }
    Ok(AsyncGroup {
        token,
        done,
        workers,
    })
}

/// What one group's tasks did.
struct AsyncGroup {
    token: CancelToken,
    done: Arc<AtomicU64>,
    workers: JoinSet<Stop>,
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
    use chanlab_impls::Crossbeam;

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
    }

    #[test]
    fn cancellation_reaches_exactly_the_cancelled_subtree() {
        assert!(run::<Crossbeam>(&Params::small(200)).is_ok());
    }

    #[test]
    fn a_cancellation_that_leaks_to_the_parent_is_caught() {
        let caught =
            run_with::<Crossbeam, Entangled>(&Params::small(200), Entangled(CancelToken::new()));
        assert!(
            matches!(&caught, Err(ScenarioError::Oracle(why)) if why.contains("reached its parent")),
            "{caught:?}"
        );
    }
}
