//! Supervisor / restart: a worker that fails is restarted, after a backoff
//! that doubles each time, until a restart budget is spent; then the
//! supervisor gives up and reports.
//!
//! Use it for long-lived workers that can crash on bad input or a lost
//! dependency, where a fresh start usually helps but endless restarts
//! would hide a real fault. The job queue outlives the worker, so a
//! restarted worker carries on with the next job; the job it failed on is
//! reported, not retried.
//!
//! The worker fails on every [`POISON_EVERY`]th job. Two runs: one with a
//! budget for every failure, which completes, and one with a budget one
//! short, which gives up. On threads each attempt is a fresh thread; as
//! tasks ([`run_async`]) the supervisor awaits each attempt, a panic
//! caught as a failure, and sleeps its backoffs on the clock's async
//! sleep, while the producer is a task of its own.
//!
//! Params: `items` jobs per run, `capacity` of the queue, `work` per job.
//!
//! Oracle: in both runs every job is processed, reported failed, or (after
//! giving up) still in the queue, exactly once; the failures are exactly the
//! poison jobs met, each followed by one restart with the policy's backoff;
//! the first run completes and the second gives up with its budget spent.

use std::sync::Arc;
use std::time::Duration;

use chanlab_contract::{AsyncFlavor, AsyncReceiver, AsyncSender, Receiver, Sender, SyncFlavor};

use super::{busy, require};
use crate::coord::{
    Attempt, Executor, Exit, RestartPolicy, SharedClock, Supervisor, SupervisorReport, SystemClock,
    TaskSet, Tokio, WaitGroup, yield_now,
};
use crate::oracle::exactly_once;
use crate::outcome::ensure;
use crate::{Outcome, Params, ScenarioError};

/// Every this many jobs, one makes the worker fail.
pub const POISON_EVERY: u64 = 50;

fn is_poison(job: u64) -> bool {
    job % POISON_EVERY == POISON_EVERY - 1
}

/// What survives the worker's restarts.
struct Jobs<R> {
    queue: R,
    processed: Vec<u64>,
    failed: Vec<u64>,
}

/// What the pattern needs of a supervisor: [`Supervisor`] is the one it
/// runs on; the tests' broken twin implements it too, to show the oracle
/// rejects it.
trait Restarts {
    fn new(policy: RestartPolicy) -> Self;
    fn run<S, W>(&self, state: S, worker: W) -> (S, SupervisorReport)
    where
        S: Send + 'static,
        W: FnMut(&mut S) -> Result<(), String> + Send + 'static;
}

impl Restarts for Supervisor {
    fn new(policy: RestartPolicy) -> Self {
        Supervisor::new(Arc::new(SystemClock::new()), policy)
    }
    fn run<S, W>(&self, state: S, worker: W) -> (S, SupervisorReport)
    where
        S: Send + 'static,
        W: FnMut(&mut S) -> Result<(), String> + Send + 'static,
    {
        Supervisor::run(self, state, worker)
    }
}

/// Runs both supervised runs on threads.
pub fn run<F: SyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    run_with::<F, Supervisor>(params)
}

fn run_with<F: SyncFlavor, R: Restarts>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let poison = poison_in(params);
    let full = supervise::<F, R>(params, poison)?;
    let short = match poison {
        0 => None,
        _ => Some(supervise::<F, R>(params, poison - 1)?),
    };
    both_runs(params, poison, full, short)
}

/// Runs both supervised runs as tasks on async flavor `F`, backing off on
/// the system clock.
pub async fn run_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    run_async_on::<F, Tokio>(params, Arc::new(SystemClock::new())).await
}

/// [`run_async`] on executor `E`, backing off on `clock`.
pub async fn run_async_on<F: AsyncFlavor, E: Executor>(
    params: &Params,
    clock: SharedClock,
) -> Result<Outcome, ScenarioError> {
    run_async_with::<F, E>(params, clock, |policy| policy).await
}

/// [`run_async_on`] with the supervisor given `actual(policy)` instead of
/// the policy the oracle holds it to.
async fn run_async_with<F: AsyncFlavor, E: Executor>(
    params: &Params,
    clock: SharedClock,
    actual: fn(RestartPolicy) -> RestartPolicy,
) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let poison = poison_in(params);
    let full = supervise_async::<F, E>(params, Arc::clone(&clock), poison, actual).await?;
    let short = match poison {
        0 => None,
        _ => Some(supervise_async::<F, E>(params, clock, poison - 1, actual).await?),
    };
    both_runs(params, poison, full, short)
}

/// Poison jobs among a run's.
fn poison_in(params: &Params) -> u32 {
    (0..params.items as u64)
        .filter(|&job| is_poison(job))
        .count() as u32
}

/// Checks how the two runs ended: the full budget completes, the short one
/// gives up.
fn both_runs(
    params: &Params,
    poison: u32,
    full: Run,
    short: Option<Run>,
) -> Result<Outcome, ScenarioError> {
    ensure(full.exit == Exit::Completed, || {
        format!(
            "with a budget of {poison} restarts for {poison} failures the supervisor ended with {:?}",
            full.exit
        )
    })?;
    let mut threads = full.threads;
    let mut restarts = full.restarts;
    if let Some(short) = short {
        ensure(matches!(short.exit, Exit::GaveUp { .. }), || {
            format!(
                "with a budget one short the supervisor ended with {:?}",
                short.exit
            )
        })?;
        threads += short.threads;
        restarts += short.restarts;
    }
    Ok(Outcome::new(params.items as u64, threads).with("restarts", restarts))
}

/// The policy of a run allowed `max_restarts`.
fn policy_of(max_restarts: u32) -> RestartPolicy {
    RestartPolicy {
        max_restarts,
        initial_backoff: Duration::from_micros(10),
        max_backoff: Duration::from_millis(1),
    }
}

/// One supervised run's summary.
struct Run {
    exit: Exit,
    restarts: u64,
    threads: usize,
}

fn supervise<F: SyncFlavor, R: Restarts>(
    params: &Params,
    max_restarts: u32,
) -> Result<Run, ScenarioError> {
    let policy = policy_of(max_restarts);
    let mut producer = WaitGroup::new();
    let (jobs, queue) = F::channel::<u64>(params.capacity)?;
    let items = params.items as u64;
    producer.spawn(move || {
        for job in 0..items {
            if jobs.send(job).is_err() {
                return;
            }
        }
    });
    let state = Jobs {
        queue,
        processed: Vec::new(),
        failed: Vec::new(),
    };
    let work = params.work;
    let supervisor = R::new(policy);
    let (mut state, report) = supervisor.run(state, move |jobs: &mut Jobs<F::Receiver<u64>>| {
        while let Ok(job) = jobs.queue.recv() {
            if is_poison(job) {
                jobs.failed.push(job);
                return Err(format!("poison job {job}"));
            }
            busy(work);
            jobs.processed.push(job);
        }
        Ok(())
    });
    let mut left = Vec::new();
    while let Ok(job) = state.queue.recv() {
        left.push(job);
    }
    let attempts = report.failures.len() + usize::from(report.exit == Exit::Completed);
    let threads = producer.started() + attempts;
    producer.join()?;
    judge(params, policy, &state, &left, report, threads)
}

/// One run as tasks: the producer a task, the supervisor awaiting its
/// attempts.
async fn supervise_async<F: AsyncFlavor, E: Executor>(
    params: &Params,
    clock: SharedClock,
    max_restarts: u32,
    actual: fn(RestartPolicy) -> RestartPolicy,
) -> Result<Run, ScenarioError> {
    let policy = policy_of(max_restarts);
    let (jobs, queue) = F::channel::<u64>(params.capacity)?;
    let items = params.items as u64;
    let mut producer = E::Tasks::<()>::default();
    producer.spawn(async move {
        for job in 0..items {
            if jobs.send(job).await.is_err() {
                return;
            }
        }
    });
    let state = Jobs {
        queue,
        processed: Vec::new(),
        failed: Vec::new(),
    };
    let work = params.work;
    let supervisor = Supervisor::new(clock, actual(policy));
    let (mut state, report) = supervisor
        .run_async(
            state,
            move |jobs: &mut Jobs<F::Receiver<u64>>| -> Attempt<'_> {
                Box::pin(async move {
                    while let Ok(job) = jobs.queue.recv().await {
                        if is_poison(job) {
                            jobs.failed.push(job);
                            return Err(format!("poison job {job}"));
                        }
                        busy(work);
                        jobs.processed.push(job);
                        yield_now().await;
                    }
                    Ok(())
                })
            },
        )
        .await;
    let mut left = Vec::new();
    while let Ok(job) = state.queue.recv().await {
        left.push(job);
    }
    let tasks = producer.join().await?.len() + 1;
    judge(params, policy, &state, &left, report, tasks)
}

/// The oracle over one run: every job processed, failed or left exactly
/// once; the failures the poison jobs met; the backoffs and restarts the
/// policy's.
fn judge<R>(
    params: &Params,
    policy: RestartPolicy,
    state: &Jobs<R>,
    left: &[u64],
    report: SupervisorReport,
    threads: usize,
) -> Result<Run, ScenarioError> {
    let (items, max_restarts) = (params.items as u64, policy.max_restarts);
    let all: Vec<u64> = [&state.processed[..], &state.failed[..], left]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    exactly_once("supervised jobs", 0..items, &all)?;
    ensure(state.failed.iter().all(|&job| is_poison(job)), || {
        format!("jobs {:?} failed but only poison jobs fail", state.failed)
    })?;
    let met = state
        .processed
        .iter()
        .chain(&state.failed)
        .filter(|&&job| is_poison(job))
        .count();
    ensure(
        met == report.failures.len() && met == state.failed.len(),
        || {
            format!(
                "the worker met {met} poison jobs and the supervisor saw {} failures",
                report.failures.len()
            )
        },
    )?;
    let expected: Vec<Duration> = (0..report.backoffs.len() as u32)
        .map(|restart| policy.backoff(restart))
        .collect();
    ensure(report.backoffs == expected, || {
        format!("backoffs {:?}, expected {expected:?}", report.backoffs)
    })?;
    let restarts = report.backoffs.len() as u64;
    let allowed = report.failures.len().min(max_restarts as usize) as u64;
    ensure(restarts == allowed, || {
        format!(
            "{restarts} restarts for {} failures with a budget of {max_restarts}",
            report.failures.len()
        )
    })?;
    Ok(Run {
        exit: report.exit,
        restarts,
        threads,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::RuntimeExt;
    use chanlab_impls::Crossbeam;

    /// A supervisor that ignores its policy: it restarts forever, without
    /// backing off.
    struct Relentless(Supervisor);

    impl Restarts for Relentless {
        fn new(policy: RestartPolicy) -> Self {
            let relentless = RestartPolicy {
                max_restarts: u32::MAX,
                initial_backoff: Duration::ZERO,
                ..policy
            };
            Relentless(Supervisor::new(Arc::new(SystemClock::new()), relentless))
        }
        fn run<S, W>(&self, state: S, worker: W) -> (S, SupervisorReport)
        where
            S: Send + 'static,
            W: FnMut(&mut S) -> Result<(), String> + Send + 'static,
        {
            self.0.run(state, worker)
        }
    }

    #[test]
    fn the_policy_is_kept() {
        assert!(run::<Crossbeam>(&crate::small_params(200)).is_ok());
    }

    #[test]
    fn as_tasks_the_policy_is_kept_and_a_relentless_supervisor_is_caught() {
        use chanlab_impls::FlumeAsync;

        use crate::Runtime;
        for runtime in Runtime::ALL {
            let kept = runtime.block_on(run_async::<FlumeAsync>(&crate::small_params(200)));
            assert!(kept.is_ok(), "{runtime:?}: {kept:?}");
            let relentless = |policy| RestartPolicy {
                max_restarts: u32::MAX,
                initial_backoff: Duration::ZERO,
                ..policy
            };
            let caught = runtime.block_on(run_async_with::<FlumeAsync, Tokio>(
                &crate::small_params(200),
                Arc::new(SystemClock::new()),
                relentless,
            ));
            assert!(
                matches!(caught, Err(ScenarioError::Oracle(_))),
                "{runtime:?}: {caught:?}"
            );
        }
    }

    #[test]
    fn a_supervisor_that_ignores_its_policy_is_caught() {
        let caught = run_with::<Crossbeam, Relentless>(&crate::small_params(200));
        assert!(
            matches!(caught, Err(ScenarioError::Oracle(_))),
            "{caught:?}"
        );
    }
}
