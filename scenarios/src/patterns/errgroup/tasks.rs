//! The error group as tasks: chanlab's [`AsyncErrGroup`], and tokio's
//! `JoinSet` written as an error group. The workload and the oracle are
//! the blocking version's (`mod.rs`).

use std::time::{Duration, Instant};

use chanlab_sync::Arc;
use tokio::task::{JoinError, JoinSet};

use super::{FAIL_AFTER, FAILING, Log, Mode, Record, Setup, Spawns, TaskError, busy, check};
use crate::coord::{AsyncErrGroup, CancelToken, Executor, Tokio, yield_now};
use crate::{Outcome, Params, ScenarioError};

/// One task's body: task 0 fails after its units of work, the others work
/// until their token is cancelled (or until they are aborted).
async fn task_body<E: Executor>(
    log: Arc<Log>,
    task: usize,
    token: CancelToken,
    work: Duration,
    give_up: Instant,
) -> Result<(), TaskError> {
    let record = Record::begin(&log, task);
    let result = if task == FAILING {
        for _ in 0..FAIL_AFTER {
            busy(work);
            yield_now().await;
        }
        Err(TaskError::Failed { task })
    } else {
        work_until_cancelled::<E>(task, &token, work, give_up).await
    };
    record.returned(&result);
    result
}

/// Works unit by unit, yielding between units, until the token is
/// cancelled or the run gives up waiting.
async fn work_until_cancelled<E: Executor>(
    task: usize,
    token: &CancelToken,
    work: Duration,
    give_up: Instant,
) -> Result<(), TaskError> {
    loop {
        if let Some(reason) = token.reason() {
            return Err(TaskError::Cancelled { task, reason });
        }
        let left = give_up.saturating_duration_since(Instant::now());
        if left.is_zero() {
            // The oracle fails this task: it never saw the cancellation.
            return Ok(());
        }
        if work.is_zero() {
            // No work to simulate: wait for the cancellation, not spin.
            let _ = E::timeout(left, token.cancelled()).await;
            continue;
        }
        busy(work);
        yield_now().await;
    }
}

/// On chanlab's [`AsyncErrGroup`], its tasks on executor `E`.
pub(super) async fn on_async_group<E: Executor>(
    params: &Params,
    setup: Setup,
) -> Result<Outcome, ScenarioError> {
    let parent = CancelToken::new();
    let mut group = AsyncErrGroup::<TaskError, E>::new(&parent, Some(setup.limit));
    for task in 0..setup.tasks {
        let log = Arc::clone(&setup.log);
        let (work, give_up) = (params.work, setup.give_up);
        group
            .spawn(move |token| task_body::<E>(log, task, token, work, give_up))
            .await;
    }
    let started = group.started();
    let result = group.wait().await?;
    let seen = setup.log.seen(result, started, parent.is_cancelled());
    check(&seen, setup.limit.get(), Mode::OneFails, Spawns::Every)?;
    Ok(seen.outcome())
}

/// On tokio's `JoinSet`, as its users write an error group: at most
/// `limit` tasks in the set, and on the first error every other task
/// aborted and no more spawned. The tasks' tokens are never cancelled:
/// abort is what stops them.
pub(super) async fn on_join_set(params: &Params, setup: Setup) -> Result<Outcome, ScenarioError> {
    let mut set = JoinSet::new();
    let mut first_error = None;
    let mut started = 0;
    for task in 0..setup.tasks {
        while set.len() >= setup.limit.get() && first_error.is_none() {
            settle(set.join_next().await, &mut first_error, &mut set)?;
        }
        if first_error.is_some() {
            break;
        }
        let log = Arc::clone(&setup.log);
        let (work, give_up) = (params.work, setup.give_up);
        set.spawn(task_body::<Tokio>(
            log,
            task,
            CancelToken::new(),
            work,
            give_up,
        ));
        started += 1;
    }
    while let Some(joined) = set.join_next().await {
        settle(Some(joined), &mut first_error, &mut set)?;
    }
    let result = first_error.map_or(Ok(()), Err);
    let seen = setup.log.seen(result, started, false);
    check(
        &seen,
        setup.limit.get(),
        Mode::OneFails,
        Spawns::UntilAnError,
    )?;
    Ok(seen.outcome())
}

/// Takes one joined task's result: the first error aborts the rest; a
/// panic is reported.
fn settle(
    joined: Option<Result<Result<(), TaskError>, JoinError>>,
    first_error: &mut Option<TaskError>,
    set: &mut JoinSet<Result<(), TaskError>>,
) -> Result<(), ScenarioError> {
    match joined {
        Some(Ok(Err(error))) if first_error.is_none() => {
            *first_error = Some(error);
            set.abort_all();
        }
        Some(Err(err)) if err.is_panic() => {
            return Err(ScenarioError::Panicked(err.to_string()));
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::RuntimeExt;
    use crate::{Primitive, Runtime};

    fn params(tasks: usize, limit: usize, work_us: u64) -> Params {
        Params {
            items: tasks,
            workers: limit,
            work: Duration::from_micros(work_us),
            ..Params::default()
        }
    }

    #[test]
    fn both_groups_stop_the_rest_on_both_runtimes() {
        for primitive in [Primitive::ChanlabAsync, Primitive::TokioJoinSet] {
            for runtime in Runtime::ALL {
                for (tasks, limit, work) in [(8, 3, 50), (5, 1, 0), (6, 6, 0)] {
                    let outcome =
                        super::super::run(primitive, &params(tasks, limit, work), runtime)
                            .unwrap_or_else(|err| panic!("{primitive} on {runtime:?}: {err}"));
                    let stopped = outcome.counters["cancelled"] + outcome.counters["aborted"];
                    assert!(outcome.counters["most_at_once"] <= limit as u64);
                    if primitive == Primitive::ChanlabAsync {
                        assert_eq!(stopped, tasks as u64 - 1, "{outcome:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_join_set_that_aborts_nothing_is_caught() {
        let p = params(4, 4, 0);
        let setup = Setup::new(&p, Duration::from_millis(50)).unwrap();
        let caught = Runtime::MultiThread.block_on(async {
            let mut set = JoinSet::new();
            for task in 0..setup.tasks {
                let log = Arc::clone(&setup.log);
                set.spawn(task_body::<Tokio>(
                    log,
                    task,
                    CancelToken::new(),
                    p.work,
                    setup.give_up,
                ));
            }
            let mut first_error = None;
            while let Some(joined) = set.join_next().await {
                if let Ok(Err(error)) = joined {
                    first_error.get_or_insert(error);
                }
            }
            let seen = setup
                .log
                .seen(first_error.map_or(Ok(()), Err), setup.tasks, false);
            check(&seen, 4, Mode::OneFails, Spawns::UntilAnError)
        });
        assert!(
            matches!(&caught, Err(ScenarioError::Oracle(why)) if why.contains("never saw")),
            "{caught:?}"
        );
    }
}
