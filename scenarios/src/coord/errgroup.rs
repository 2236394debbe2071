//! [`ErrGroup`]: Go's `errgroup`. Tasks run on their own threads under one
//! cancellation token; the first error cancels the token, and
//! [`ErrGroup::wait`] joins every task and returns that error.
//! [`AsyncErrGroup`] is the same group for tasks on an [`Executor`].

use std::future::Future;
use std::num::NonZeroUsize;

use chanlab_sync::{Arc, Mutex};

use super::{CancelToken, DropGuard, Executor, Semaphore, TaskSet, WaitGroup};
use crate::ScenarioError;

/// A group of fallible tasks sharing a cancellation token.
pub struct ErrGroup<E> {
    token: CancelToken,
    first_error: Arc<Mutex<Option<E>>>,
    limit: Option<Semaphore>,
    /// Dropped before `wait_group` (fields drop in order): a group dropped without
    /// [`ErrGroup::wait`] cancels its tasks before joining them.
    _stop_on_drop: DropGuard,
    wait_group: WaitGroup<()>,
}

impl<E: Send + 'static> ErrGroup<E> {
    /// A group whose token is a child of `parent`.
    pub fn new(parent: &CancelToken) -> Self {
        let token = parent.child();
        ErrGroup {
            _stop_on_drop: token.drop_guard(),
            token,
            first_error: Arc::new(Mutex::new(None)),
            limit: None,
            wait_group: WaitGroup::new(),
        }
    }

    /// A group that runs at most `limit` tasks at once: [`spawn`] waits for
    /// a running task to finish (Go's `SetLimit`).
    ///
    /// [`spawn`]: ErrGroup::spawn
    pub fn with_limit(parent: &CancelToken, limit: NonZeroUsize) -> Self {
        ErrGroup {
            limit: Some(Semaphore::new(limit.get())),
            ..ErrGroup::new(parent)
        }
    }

    /// The group's token: cancelled by the first error, or by the parent.
    pub fn token(&self) -> &CancelToken {
        &self.token
    }

    /// Starts `task` with the group's token, first waiting for a free slot
    /// when the group has a limit.
    pub fn spawn(&mut self, task: impl FnOnce(CancelToken) -> Result<(), E> + Send + 'static) {
        let permit = self.limit.as_ref().map(Semaphore::acquire);
        let token = self.token.clone();
        let first_error = Arc::clone(&self.first_error);
        self.wait_group.spawn(move || {
            let _permit = permit;
            let _cancel_on_panic = CancelOnPanic(token.clone());
            if let Err(error) = task(token.clone()) {
                let mut first = first_error.lock();
                if first.is_none() {
                    *first = Some(error);
                    drop(first);
                    token.cancel();
                }
            }
        });
    }

    /// Tasks started so far.
    pub fn started(&self) -> usize {
        self.wait_group.started()
    }

    /// Joins every task, cancels the token (Go does too), and returns the
    /// first error. A task that panicked is reported as
    /// [`ScenarioError::Panicked`] in the outer result.
    pub fn wait(self) -> Result<Result<(), E>, ScenarioError> {
        let joined = self.wait_group.join();
        self.token.cancel();
        joined?;
        Ok(match self.first_error.lock().take() {
            Some(error) => Err(error),
            None => Ok(()),
        })
    }
}

/// [`ErrGroup`] for tasks: each runs on executor `X` under the group's
/// token, and a limit makes [`spawn`](AsyncErrGroup::spawn) await a slot.
pub struct AsyncErrGroup<E, X: Executor> {
    token: CancelToken,
    first_error: Arc<Mutex<Option<E>>>,
    limit: Option<Semaphore>,
    /// Dropped before `tasks`: a group dropped without
    /// [`wait`](AsyncErrGroup::wait) cancels its tasks first.
    _stop_on_drop: DropGuard,
    tasks: X::Tasks<()>,
    started: usize,
}

impl<E: Send + 'static, X: Executor> AsyncErrGroup<E, X> {
    /// A group whose token is a child of `parent`, running at most `limit`
    /// tasks at once when one is given.
    pub fn new(parent: &CancelToken, limit: Option<NonZeroUsize>) -> Self {
        let token = parent.child();
        AsyncErrGroup {
            _stop_on_drop: token.drop_guard(),
            token,
            first_error: Arc::new(Mutex::new(None)),
            limit: limit.map(|limit| Semaphore::new(limit.get())),
            tasks: Default::default(),
            started: 0,
        }
    }

    /// The group's token: cancelled by the first error, or by the parent.
    pub fn token(&self) -> &CancelToken {
        &self.token
    }

    /// Starts the task `task` makes of the group's token, first awaiting a
    /// free slot when the group has a limit.
    pub async fn spawn<T>(&mut self, task: impl FnOnce(CancelToken) -> T)
    where
        T: Future<Output = Result<(), E>> + Send + 'static,
    {
        let permit = match &self.limit {
            Some(limit) => Some(limit.acquire_async().await),
            None => None,
        };
        let token = self.token.clone();
        let first_error = Arc::clone(&self.first_error);
        let task = task(token.clone());
        self.tasks.spawn(async move {
            let _permit = permit;
            let _cancel_on_panic = CancelOnPanic(token.clone());
            if let Err(error) = task.await {
                let mut first = first_error.lock();
                if first.is_none() {
                    *first = Some(error);
                    drop(first);
                    token.cancel();
                }
            }
        });
        self.started += 1;
    }

    /// Tasks started so far.
    pub fn started(&self) -> usize {
        self.started
    }

    /// Awaits every task, cancels the token, and returns the first error;
    /// a task that panicked is reported in the outer result.
    pub async fn wait(mut self) -> Result<Result<(), E>, ScenarioError> {
        let joined = std::mem::take(&mut self.tasks).join().await;
        self.token.cancel();
        joined?;
        Ok(match self.first_error.lock().take() {
            Some(error) => Err(error),
            None => Ok(()),
        })
    }
}

/// Cancels the group when a task unwinds, so the others stop and `wait`
/// can report the panic instead of waiting for them forever.
struct CancelOnPanic(CancelToken);

impl Drop for CancelOnPanic {
    fn drop(&mut self) {
        // A task unwinds on the thread that polls it, so this holds for
        // tasks too.
        if std::thread::panicking() {
            self.0.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_error_cancels_the_rest_and_is_returned() {
        let mut group = ErrGroup::new(&CancelToken::new());
        group.spawn(|token| {
            token.wait();
            Err("cancelled")
        });
        group.spawn(|_| Err("first"));
        assert_eq!(group.wait(), Ok(Err("first")));
    }

    #[test]
    fn a_panic_cancels_the_rest_and_is_reported() {
        let mut group = ErrGroup::<()>::new(&CancelToken::new());
        group.spawn(|token| {
            token.wait();
            Ok(())
        });
        group.spawn(|_| panic!("task failed"));
        assert_eq!(
            group.wait(),
            Err(ScenarioError::Panicked("task failed".into()))
        );
    }

    #[test]
    fn a_limit_of_one_runs_one_task_at_a_time() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let running = std::sync::Arc::new(AtomicUsize::new(0));
        let most = std::sync::Arc::new(AtomicUsize::new(0));
        let mut group = ErrGroup::<()>::with_limit(&CancelToken::new(), NonZeroUsize::MIN);
        for _ in 0..3 {
            let (running, most) = (running.clone(), most.clone());
            group.spawn(move |_| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            });
        }
        assert_eq!(group.started(), 3);
        assert_eq!(group.wait(), Ok(Ok(())));
        assert_eq!(most.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_first_error_cancels_the_groups_own_token() {
        let mut group = ErrGroup::new(&CancelToken::new());
        group.spawn(|_| Err("first"));
        assert_eq!(
            group
                .token()
                .wait_timeout(std::time::Duration::from_secs(10)),
            Some(super::super::CancelReason::Cancelled)
        );
        assert_eq!(group.started(), 1);
        assert_eq!(group.wait(), Ok(Err("first")));
    }

    #[test]
    fn an_async_group_returns_the_first_error_through_its_token() {
        use super::super::Tokio;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let limit = NonZeroUsize::new(2);
            let mut group = AsyncErrGroup::<&str, Tokio>::new(&CancelToken::new(), limit);
            group
                .spawn(|token| async move {
                    token.cancelled().await;
                    Err("cancelled")
                })
                .await;
            group.spawn(|_| async { Err("first") }).await;
            assert_eq!(group.started(), 2);
            let cancelled = Tokio::timeout(
                std::time::Duration::from_secs(10),
                group.token().cancelled(),
            )
            .await;
            assert!(cancelled.is_some(), "the group's token was not cancelled");
            assert_eq!(group.wait().await, Ok(Err("first")));
        });
    }

    #[test]
    fn no_error_is_ok() {
        let mut group = ErrGroup::<()>::with_limit(&CancelToken::new(), NonZeroUsize::MIN);
        for _ in 0..3 {
            group.spawn(|_| Ok(()));
        }
        assert_eq!(group.wait(), Ok(Ok(())));
    }
}
