//! Where async patterns and chanlab's task-based primitives run their
//! tasks: the [`Executor`] trait, with [`Tokio`] for real runs, so a model
//! checker's executor (shuttle's) can stand in.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;

use super::panic_message;
use crate::ScenarioError;

/// Where an async pattern runs its tasks: [`Tokio`] in real runs, or a
/// model checker's executor (shuttle's, in `tests/shuttle.rs`). Patterns
/// whose logic depends on time take a [`Clock`](super::Clock) as well; the
/// executor only bounds waits that should never be long.
pub trait Executor: 'static {
    /// A set of tasks returning `T`, spawned on this executor.
    type Tasks<T: Send + 'static>: TaskSet<T>;

    /// Awaits `future` for at most `limit`: `None` if it took longer. A
    /// model checker's executor may wait without limit, since it reports a
    /// wait that never ends as a deadlock.
    fn timeout<F: Future + Send>(
        limit: Duration,
        future: F,
    ) -> impl Future<Output = Option<F::Output>> + Send;
}

/// Tasks spawned together and joined together.
pub trait TaskSet<T>: Default {
    /// Starts `task`.
    fn spawn(&mut self, task: impl Future<Output = T> + Send + 'static);
    /// Awaits every task and returns their results, in no particular
    /// order. A task that panicked is reported as
    /// [`ScenarioError::Panicked`] (or by the executor itself, as shuttle
    /// does).
    fn join(self) -> impl Future<Output = Result<Vec<T>, ScenarioError>>;
}

/// tokio's executor: the runtime the pattern is run on.
pub struct Tokio;

impl Executor for Tokio {
    type Tasks<T: Send + 'static> = JoinSet<T>;

    async fn timeout<F: Future + Send>(limit: Duration, future: F) -> Option<F::Output> {
        tokio::time::timeout(limit, future).await.ok()
    }
}

impl<T: Send + 'static> TaskSet<T> for JoinSet<T> {
    fn spawn(&mut self, task: impl Future<Output = T> + Send + 'static) {
        JoinSet::spawn(self, task);
    }

    fn join(self) -> impl Future<Output = Result<Vec<T>, ScenarioError>> {
        join_tasks(self)
    }
}

/// Awaits every task of `tasks` and returns their results, in the order
/// they finished; a task that panicked is reported after all are joined.
pub(crate) async fn join_tasks<T: 'static>(mut tasks: JoinSet<T>) -> Result<Vec<T>, ScenarioError> {
    let mut results = Vec::with_capacity(tasks.len());
    let mut panic = None;
    while let Some(result) = tasks.join_next().await {
        match result {
            Ok(value) => results.push(value),
            Err(err) => {
                panic.get_or_insert_with(|| match err.try_into_panic() {
                    Ok(payload) => panic_message(payload.as_ref()),
                    Err(err) => err.to_string(),
                });
            }
        }
    }
    match panic {
        None => Ok(results),
        Some(message) => Err(ScenarioError::Panicked(message)),
    }
}

/// Lets the executor run other tasks before this one goes on: for a task
/// that works in a loop without awaiting anything, on a runtime with one
/// thread. Any executor's, not only tokio's (`tokio::task::yield_now`).
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokio_times_out_only_a_future_slower_than_the_limit() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        let hour = Duration::from_secs(3600);
        assert_eq!(runtime.block_on(Tokio::timeout(hour, async { 5 })), Some(5));
        let never = std::future::pending::<()>();
        let limit = Duration::from_millis(1);
        assert_eq!(runtime.block_on(Tokio::timeout(limit, never)), None);
    }
}
