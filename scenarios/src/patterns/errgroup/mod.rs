//! Error group: tasks run under one cancellation token; the first task to
//! fail cancels the others, and waiting on the group joins every task and
//! returns that first error. An optional limit bounds how many tasks run at
//! once.
//!
//! Use it for subtasks that succeed or fail together (fetch every part of a
//! page, check every file of a tree): once one has failed the others are
//! wasted work and should stop early, and the caller wants the cause, not
//! the cancellations it set off. Go's `errgroup.Group` with `SetLimit`.
//!
//! Each task is a thread, so the number of tasks is bounded: `items` must
//! be 2..=64, and a run asking for more is refused (the registry's
//! `most_items`), never capped. Task 0 is spawned first and fails after two units of
//! work; every other task works unit by unit, checking the group's token
//! between units, until it sees the cancellation. Task 0 goes first because
//! the others end only on cancellation: spawned later, it could wait
//! forever for a slot they hold.
//!
//! As tasks (`tasks.rs`), the same workload runs on chanlab's
//! [`AsyncErrGroup`](crate::coord::AsyncErrGroup), and on tokio's
//! `JoinSet` the way its users write an error group: spawn while under the
//! limit, and on the first error abort every other task and spawn no more.
//! There a task stops when it is dropped at an await, not when it sees a
//! token, and the tasks not yet spawned never run: both count as stopped.
//! Tasks work unit by unit and yield between units, so a one-thread runtime
//! runs the failing task too.
//!
//! Params: `items` tasks (2..=64), `workers` tasks at most at
//! once (the group's limit), `work` per unit of a task's work.
//!
//! Oracle: waiting returns task 0's error, not a cancellation; every other
//! task that began stopped (saw the token cancelled, or was aborted); every
//! task was started (Go's errgroup runs every task it is given; a `JoinSet`
//! that stops spawning is excused); no more than `workers` tasks ran at
//! once; every task started ended; the group's error did not cancel its
//! parent token. In a run where no task fails, waiting returns `Ok` and no
//! task sees a cancellation.

mod tasks;

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use chanlab_sync::Arc;
use chanlab_sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::busy;
use crate::coord::{CancelReason, CancelToken, ErrGroup, Executor, Tokio};
use crate::oracle::{Gauge, GaugeGuard};
use crate::outcome::ensure;
use crate::runtime::RuntimeExt;
use crate::{Outcome, ParamError, Params, Pattern, Primitive, Refusal, Runtime, ScenarioError};

/// Fewest tasks in a run: one that fails and one it cancels.
const MIN_TASKS: usize = 2;
/// Most tasks in a run: each is a thread.
pub(crate) const MAX_TASKS: usize = Pattern::ErrGroup.most_items().0;
/// The task that fails, spawned first.
const FAILING: usize = 0;
/// Units of work the failing task does before it fails.
const FAIL_AFTER: u32 = 2;
/// Units of work each task does in a run where none fails.
const UNITS: usize = 4;
/// How long, beyond the failing task's own work, the other tasks wait for a
/// cancellation before they give up: a safety bound, so a cancellation that
/// never comes fails the oracle instead of hanging the run.
const GIVE_UP: Duration = Duration::from_secs(10);

/// Why a task returned an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskError {
    /// The designated task's own failure.
    Failed { task: usize },
    /// The task stopped because it saw the group's token cancelled.
    Cancelled { task: usize, reason: CancelReason },
}

/// Whether the designated task fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Task 0 fails; the others run until cancelled.
    OneFails,
    /// Every task does its units of work and succeeds.
    NoneFails,
}

/// What the tasks record beside their results (the group keeps only the
/// first error).
struct Log {
    /// Tasks running the task body at once.
    running: Gauge,
    /// Per task: whether its body began.
    began: Vec<AtomicBool>,
    /// Per task: whether it saw the token cancelled.
    saw_cancel: Vec<AtomicBool>,
    /// Per task: whether it was dropped before it returned.
    aborted: Vec<AtomicBool>,
    /// Tasks that returned or were dropped.
    ended: AtomicUsize,
}

impl Log {
    fn new(tasks: usize) -> Self {
        let flags = || (0..tasks).map(|_| AtomicBool::new(false)).collect();
        Log {
            running: Gauge::new(),
            began: flags(),
            saw_cancel: flags(),
            aborted: flags(),
            ended: AtomicUsize::new(0),
        }
    }

    /// What the oracle judges, once every task has ended.
    fn seen(&self, result: Result<(), TaskError>, started: usize, parent_cancelled: bool) -> Seen {
        let read = |flags: &[AtomicBool]| flags.iter().map(|f| f.load(Ordering::SeqCst)).collect();
        Seen {
            result,
            tasks: self.began.len(),
            started,
            ended: self.ended.load(Ordering::SeqCst),
            most_at_once: self.running.most(),
            began: read(&self.began),
            saw_cancel: read(&self.saw_cancel),
            aborted: read(&self.aborted),
            parent_cancelled,
        }
    }
}

/// One task's body, recorded from when it begins to when it ends, however
/// it ends: a task dropped at an await before it returned was aborted.
struct Record<'a> {
    log: &'a Log,
    task: usize,
    returned: bool,
    _inside: GaugeGuard<'a>,
}

impl<'a> Record<'a> {
    fn begin(log: &'a Log, task: usize) -> Self {
        log.began[task].store(true, Ordering::SeqCst);
        Record {
            log,
            task,
            returned: false,
            _inside: log.running.enter(),
        }
    }

    /// The task returned `result`.
    fn returned(mut self, result: &Result<(), TaskError>) {
        if let Err(TaskError::Cancelled { .. }) = result {
            self.log.saw_cancel[self.task].store(true, Ordering::SeqCst);
        }
        self.returned = true;
    }
}

impl Drop for Record<'_> {
    fn drop(&mut self) {
        if !self.returned {
            self.log.aborted[self.task].store(true, Ordering::SeqCst);
        }
        self.log.ended.fetch_add(1, Ordering::SeqCst);
    }
}

/// What the oracle judges, read once the group has been waited on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    result: Result<(), TaskError>,
    tasks: usize,
    started: usize,
    ended: usize,
    most_at_once: usize,
    began: Vec<bool>,
    saw_cancel: Vec<bool>,
    aborted: Vec<bool>,
    parent_cancelled: bool,
}

impl Seen {
    /// The outcome of a run the oracle passed.
    fn outcome(&self) -> Outcome {
        let stopped = |flags: &[bool]| flags.iter().filter(|&&f| f).count() as u64;
        Outcome::new(self.tasks as u64, self.started)
            .with("started", self.started as u64)
            .with("cancelled", stopped(&self.saw_cancel))
            .with("aborted", stopped(&self.aborted))
            .with("most_at_once", self.most_at_once as u64)
    }
}

/// Whether the group promises to run every task it is given, as Go's
/// errgroup does, or may stop spawning after the first error, as a
/// `JoinSet` written as an error group does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spawns {
    Every,
    UntilAnError,
}

/// What the pattern needs of an error group: [`ErrGroup`] is the one it
/// runs on; the tests' broken twin implements it too, to show the oracle
/// rejects it.
trait Group: Sized {
    fn with_limit(parent: &CancelToken, limit: NonZeroUsize) -> Self;
    fn spawn(&mut self, task: impl FnOnce(CancelToken) -> Result<(), TaskError> + Send + 'static);
    fn started(&self) -> usize;
    fn wait(self) -> Result<Result<(), TaskError>, ScenarioError>;
}

impl Group for ErrGroup<TaskError> {
    fn with_limit(parent: &CancelToken, limit: NonZeroUsize) -> Self {
        ErrGroup::with_limit(parent, limit)
    }
    fn spawn(&mut self, task: impl FnOnce(CancelToken) -> Result<(), TaskError> + Send + 'static) {
        ErrGroup::spawn(self, task);
    }
    fn started(&self) -> usize {
        ErrGroup::started(self)
    }
    fn wait(self) -> Result<Result<(), TaskError>, ScenarioError> {
        ErrGroup::wait(self)
    }
}

/// Runs the group with one failing task: chanlab's on threads, or as tasks
/// on `runtime` chanlab's async group or tokio's `JoinSet`.
pub fn run(
    primitive: Primitive,
    params: &Params,
    runtime: Runtime,
) -> Result<Outcome, ScenarioError> {
    let setup = Setup::new(params, GIVE_UP)?;
    match primitive {
        Primitive::Chanlab => run_mode::<ErrGroup<TaskError>>(params, setup, Mode::OneFails),
        Primitive::ChanlabAsync => runtime.block_on(tasks::on_async_group::<Tokio>(params, setup)),
        Primitive::TokioJoinSet => runtime.block_on(tasks::on_join_set(params, setup)),
        other => Err(Refusal::not_on(Pattern::ErrGroup, other)),
    }
}

/// The group with one failing task, as tasks on executor `E`, on chanlab's
/// [`AsyncErrGroup`](crate::coord::AsyncErrGroup).
pub async fn run_async_on<E: Executor>(params: &Params) -> Result<Outcome, ScenarioError> {
    let setup = Setup::new(params, GIVE_UP)?;
    tasks::on_async_group::<E>(params, setup).await
}

/// What every version of a run shares: the tasks, the limit, when the
/// others give up waiting for a cancellation, and the log.
struct Setup {
    tasks: usize,
    limit: NonZeroUsize,
    give_up: Instant,
    log: Arc<Log>,
}

impl Setup {
    fn new(params: &Params, give_up: Duration) -> Result<Self, ScenarioError> {
        let tasks = params.items;
        if !(MIN_TASKS..=MAX_TASKS).contains(&tasks) {
            return Err(ParamError::new(
                "items",
                tasks,
                format!(
                    "between {MIN_TASKS} and {MAX_TASKS} for errgroup: one task that fails, \
                 one it cancels, and each is a thread"
                ),
            )
            .into());
        }
        let give_up = give_up
            .checked_add(params.work.saturating_mul(FAIL_AFTER))
            .and_then(|wait| Instant::now().checked_add(wait))
            .ok_or_else(|| {
                ParamError::new("work", format!("{:?}", params.work), "short enough to time")
            })?;
        Ok(Setup {
            tasks,
            limit: NonZeroUsize::new(params.workers).unwrap_or(NonZeroUsize::MIN),
            give_up,
            log: Arc::new(Log::new(tasks)),
        })
    }
}

fn run_mode<G: Group>(params: &Params, setup: Setup, mode: Mode) -> Result<Outcome, ScenarioError> {
    let Setup {
        tasks,
        limit,
        give_up,
        log,
    } = setup;
    let parent = CancelToken::new();
    let mut group = G::with_limit(&parent, limit);
    for task in 0..tasks {
        let log = Arc::clone(&log);
        let work = params.work;
        group.spawn(move |token| {
            let record = Record::begin(&log, task);
            let result = if mode == Mode::OneFails && task == FAILING {
                fail(task, work)
            } else {
                let units = (mode == Mode::NoneFails).then_some(UNITS);
                work_until_cancelled(task, &token, work, units, give_up)
            };
            record.returned(&result);
            result
        });
    }
    let started = group.started();
    let result = group.wait()?;
    let seen = log.seen(result, started, parent.is_cancelled());
    check(&seen, limit.get(), mode, Spawns::Every)?;
    Ok(seen.outcome())
}

/// The designated task: a little work, then its own error.
fn fail(task: usize, work: Duration) -> Result<(), TaskError> {
    for _ in 0..FAIL_AFTER {
        busy(work);
    }
    Err(TaskError::Failed { task })
}

/// Works unit by unit until the token is cancelled, or `units` units are
/// done when given, or else until the run gives up waiting.
fn work_until_cancelled(
    task: usize,
    token: &CancelToken,
    work: Duration,
    units: Option<usize>,
    give_up: Instant,
) -> Result<(), TaskError> {
    let mut done = 0;
    loop {
        if let Some(reason) = token.reason() {
            return Err(TaskError::Cancelled { task, reason });
        }
        match units {
            Some(units) if done == units => return Ok(()),
            Some(_) => {}
            None => {
                let left = give_up.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    // The oracle fails this task: it never saw the cancellation.
                    return Ok(());
                }
                if work.is_zero() {
                    // No work to simulate: wait for the cancellation, not spin.
                    token.wait_timeout(left);
                    continue;
                }
            }
        }
        busy(work);
        done += 1;
    }
}

/// The oracle over what the run saw.
fn check(seen: &Seen, limit: usize, mode: Mode, spawns: Spawns) -> Result<(), ScenarioError> {
    let may_stop_spawning = spawns == Spawns::UntilAnError && mode == Mode::OneFails;
    ensure(seen.started == seen.tasks || may_stop_spawning, || {
        format!("{} of {} tasks started", seen.started, seen.tasks)
    })?;
    // A task aborted before its first poll never began: only a group that
    // aborts may have such tasks.
    let began = seen.began.iter().filter(|&&began| began).count();
    ensure(began == seen.started || may_stop_spawning, || {
        format!("{began} of {} started tasks began", seen.started)
    })?;
    ensure(seen.ended == began, || {
        format!(
            "{} of {began} tasks that began ended before wait returned",
            seen.ended
        )
    })?;
    ensure(seen.most_at_once <= limit, || {
        format!(
            "{} tasks ran at once under a limit of {limit}",
            seen.most_at_once
        )
    })?;
    ensure(!seen.parent_cancelled, || {
        "the group's error cancelled its parent token".into()
    })?;
    match mode {
        Mode::OneFails => {
            let expected = Err(TaskError::Failed { task: FAILING });
            ensure(seen.result == expected, || {
                format!(
                    "wait returned {:?}, not task {FAILING}'s failure",
                    seen.result
                )
            })?;
            let stopped = |task: usize| seen.saw_cancel[task] || seen.aborted[task];
            let unstopped =
                (0..seen.tasks).find(|&task| task != FAILING && seen.began[task] && !stopped(task));
            match unstopped {
                Some(task) => Err(ScenarioError::Oracle(format!(
                    "task {task} never saw the group cancelled after task {FAILING} failed"
                ))),
                None => Ok(()),
            }
        }
        Mode::NoneFails => {
            ensure(seen.result.is_ok(), || {
                format!("no task failed, yet wait returned {:?}", seen.result)
            })?;
            let stopped = (0..seen.tasks).find(|&task| seen.saw_cancel[task] || seen.aborted[task]);
            match stopped {
                Some(task) => Err(ScenarioError::Oracle(format!(
                    "no task failed, yet task {task} saw the group cancelled or was aborted"
                ))),
                None => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an oracle message names, and the fault that should cause it.
    type Fault = (&'static str, fn(&mut Seen));

    /// A group whose first error does not reach the other tasks: each task
    /// gets a token of its own instead of the group's.
    struct Deaf(ErrGroup<TaskError>);

    impl Group for Deaf {
        fn with_limit(parent: &CancelToken, limit: NonZeroUsize) -> Self {
            Deaf(ErrGroup::with_limit(parent, limit))
        }
        fn spawn(
            &mut self,
            task: impl FnOnce(CancelToken) -> Result<(), TaskError> + Send + 'static,
        ) {
            self.0.spawn(move |_group_token| task(CancelToken::new()));
        }
        fn started(&self) -> usize {
            self.0.started()
        }
        fn wait(self) -> Result<Result<(), TaskError>, ScenarioError> {
            self.0.wait()
        }
    }

    #[test]
    fn a_group_whose_error_cancels_nothing_is_caught() {
        let give_up = Duration::from_millis(50);
        let p = params(4, 4, 0);
        let caught = run_mode::<Deaf>(&p, Setup::new(&p, give_up).unwrap(), Mode::OneFails);
        assert!(
            matches!(&caught, Err(ScenarioError::Oracle(why)) if why.contains("never saw")),
            "{caught:?}"
        );
    }

    fn run(params: &Params) -> Result<Outcome, ScenarioError> {
        super::run(Primitive::Chanlab, params, Runtime::MultiThread)
    }

    fn params(tasks: usize, limit: usize, work_us: u64) -> Params {
        Params {
            items: tasks,
            workers: limit,
            work: Duration::from_micros(work_us),
            ..Params::default()
        }
    }

    #[test]
    fn first_error_cancels_the_rest_and_is_returned() {
        let outcome = run(&params(8, 3, 50)).unwrap();
        assert_eq!(outcome.items, 8);
        assert_eq!(outcome.threads, 8);
        assert_eq!(outcome.counters["cancelled"], 7);
        assert!(outcome.counters["most_at_once"] <= 3);
    }

    #[test]
    fn a_limit_of_one_runs_one_task_at_a_time() {
        let outcome = run(&params(5, 1, 0)).unwrap();
        assert_eq!(outcome.counters["most_at_once"], 1);
        assert_eq!(outcome.counters["cancelled"], 4);
    }

    #[test]
    fn without_work_the_others_wait_on_the_token() {
        let outcome = run(&params(6, 6, 0)).unwrap();
        assert_eq!(outcome.counters["cancelled"], 5);
    }

    #[test]
    fn task_counts_out_of_range_are_refused_not_capped() {
        for tasks in [1, MAX_TASKS + 1] {
            match run(&params(tasks, 4, 0)) {
                Err(ScenarioError::InvalidParams(err)) => assert_eq!(err.field, "items"),
                other => panic!("{tasks} tasks: {other:?}"),
            }
        }
        assert_eq!(
            run(&params(MAX_TASKS, 8, 0)).unwrap().items,
            MAX_TASKS as u64
        );
    }

    #[test]
    fn no_failure_returns_ok() {
        let p = params(6, 2, 20);
        let setup = Setup::new(&p, GIVE_UP).unwrap();
        let outcome = run_mode::<ErrGroup<TaskError>>(&p, setup, Mode::NoneFails).unwrap();
        assert_eq!(outcome.counters["cancelled"], 0);
        assert!(outcome.counters["most_at_once"] <= 2);
    }

    fn good_seen() -> Seen {
        Seen {
            result: Err(TaskError::Failed { task: FAILING }),
            tasks: 3,
            started: 3,
            ended: 3,
            most_at_once: 2,
            began: vec![true; 3],
            saw_cancel: vec![false, true, true],
            aborted: vec![false; 3],
            parent_cancelled: false,
        }
    }

    #[test]
    fn oracle_rejects_each_fault() {
        assert_eq!(
            check(&good_seen(), 2, Mode::OneFails, Spawns::Every),
            Ok(())
        );
        let faults: [Fault; 5] = [
            ("wait returned", |s| {
                s.result = Err(TaskError::Cancelled {
                    task: 1,
                    reason: CancelReason::Cancelled,
                });
            }),
            ("never saw", |s| s.saw_cancel[2] = false),
            ("ran at once", |s| s.most_at_once = 3),
            ("ended", |s| s.ended = 2),
            ("parent", |s| s.parent_cancelled = true),
        ];
        for (what, fault) in faults {
            let mut seen = good_seen();
            fault(&mut seen);
            let err = check(&seen, 2, Mode::OneFails, Spawns::Every).unwrap_err();
            assert!(
                matches!(&err, ScenarioError::Oracle(m) if m.contains(what)),
                "{err}"
            );
        }
        let mut calm = good_seen();
        calm.result = Ok(());
        calm.saw_cancel = vec![false; 3];
        assert_eq!(check(&calm, 2, Mode::NoneFails, Spawns::Every), Ok(()));
        calm.saw_cancel[1] = true;
        let err = check(&calm, 2, Mode::NoneFails, Spawns::Every).unwrap_err();
        assert!(err.to_string().contains("yet task 1 saw"), "{err}");
    }
}
