//! Running an async scenario on a fresh tokio runtime of the kind a
//! [`Runtime`] names, its threads announced as measured ([`crate::watch`]),
//! and the check that a run left no task behind.

use std::future::Future;

use crate::{Refusal, Runtime, ScenarioError};

/// Runs async work on a fresh tokio runtime of a [`Runtime`]'s kind.
pub(crate) trait RuntimeExt {
    /// Runs `work` to completion on a fresh runtime of this kind, then
    /// checks that every task it spawned has ended.
    fn block_on<T>(
        self,
        work: impl Future<Output = Result<T, ScenarioError>>,
    ) -> Result<T, ScenarioError>;
}

impl RuntimeExt for Runtime {
    fn block_on<T>(
        self,
        work: impl Future<Output = Result<T, ScenarioError>>,
    ) -> Result<T, ScenarioError> {
        let mut builder = match self {
            Runtime::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            Runtime::MultiThread => tokio::runtime::Builder::new_multi_thread(),
        };
        let runtime = builder
            .enable_time()
            .on_thread_start(crate::watch::worker_started)
            .on_thread_stop(crate::watch::worker_stopped)
            .build()
            .map_err(|err| {
                ScenarioError::NotApplicable(Refusal::RuntimeUnavailable {
                    runtime: self,
                    error: err.to_string(),
                })
            })?;
        // A current-thread runtime runs its tasks on this thread.
        let watched = (self == Runtime::CurrentThread).then(crate::watch::started);
        let result = runtime.block_on(work);
        drop(watched);
        let result = result?;
        no_task_left(&runtime)?;
        Ok(result)
    }
}

/// Checks that every task on `runtime` has ended, polling briefly: a task
/// that just finished is counted until the runtime releases it, which a
/// current-thread runtime only does while driven.
fn no_task_left(runtime: &tokio::runtime::Runtime) -> Result<(), ScenarioError> {
    let metrics = runtime.metrics();
    for _ in 0..1_000 {
        if metrics.num_alive_tasks() == 0 {
            return Ok(());
        }
        runtime.block_on(async {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        });
    }
    Err(ScenarioError::Oracle(format!(
        "{} tasks still alive after the pattern returned",
        metrics.num_alive_tasks()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_left_running_fails_the_run() {
        for runtime in Runtime::ALL {
            let left = runtime.block_on(async {
                tokio::spawn(std::future::pending::<()>());
                Ok(())
            });
            assert_eq!(
                left,
                Err(ScenarioError::Oracle(
                    "1 tasks still alive after the pattern returned".into()
                )),
                "{}",
                runtime.name()
            );
        }
    }
}
