//! The tokio runtimes async scenarios run on, and the check that a run left
//! no task behind.

use std::fmt;
use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::{Refusal, ScenarioError};

/// The tokio runtime an async scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runtime {
    /// One thread runs every task.
    CurrentThread,
    /// A worker thread per core.
    MultiThread,
}

impl Runtime {
    /// Both runtimes.
    pub const ALL: [Runtime; 2] = [Runtime::CurrentThread, Runtime::MultiThread];

    /// The runtime's name in filters and reports.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::CurrentThread => "current-thread",
            Runtime::MultiThread => "multi-thread",
        }
    }

    /// Runs `work` to completion on a fresh runtime of this kind, then
    /// checks that every task it spawned has ended.
    pub(crate) fn block_on<T>(
        self,
        work: impl Future<Output = Result<T, ScenarioError>>,
    ) -> Result<T, ScenarioError> {
        let mut builder = match self {
            Runtime::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            Runtime::MultiThread => tokio::runtime::Builder::new_multi_thread(),
        };
        let runtime = builder.enable_time().build().map_err(|err| {
            ScenarioError::NotApplicable(Refusal::RuntimeUnavailable {
                runtime: self,
                error: err.to_string(),
            })
        })?;
        let result = runtime.block_on(work)?;
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

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
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
