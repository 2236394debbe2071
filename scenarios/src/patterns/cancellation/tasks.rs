//! Cancellation as tasks: the same three groups and oracle as on threads
//! (`mod.rs`), over any token with an async wait ([`AsyncToken`]):
//! chanlab's [`CancelToken`], or tokio-util's (`tokio_util.rs`).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chanlab_contract::{AsyncFlavor, AsyncReceiver, AsyncSender};
use tokio::task::JoinSet;

use super::{DEADLINE, Jobs, POLL, Stop, Verdict, halfway, judge, refuse_unbounded};
use crate::coord::{CancelReason, CancelToken, SystemClock};
use crate::patterns::{join_tasks, require};
use crate::{Outcome, Params, ScenarioError};

/// What the pattern needs of a cancellation token for tasks.
pub(super) trait AsyncToken: Clone + Send + Sync + 'static {
    /// A token cancelled with this one, or on its own.
    fn child(&self) -> Self;
    /// A child also cancelled `timeout` from now, on the system clock.
    fn child_with_timeout(&self, timeout: Duration) -> Self;
    fn cancel(&self);
    /// Why the token is cancelled, observing its deadline.
    fn reason(&self) -> Option<CancelReason>;
    /// How long until the token's deadline, if it has one.
    fn until_deadline(&self) -> Option<Duration>;
    /// Resolves once the token is cancelled (a deadline alone does not).
    fn cancelled(&self) -> impl Future<Output = ()> + Send;
}

impl AsyncToken for CancelToken {
    fn child(&self) -> Self {
        CancelToken::child(self)
    }
    fn child_with_timeout(&self, timeout: Duration) -> Self {
        CancelToken::child_with_timeout(self, Arc::new(SystemClock::new()), timeout)
    }
    fn cancel(&self) {
        CancelToken::cancel(self);
    }
    fn reason(&self) -> Option<CancelReason> {
        CancelToken::reason(self)
    }
    fn until_deadline(&self) -> Option<Duration> {
        CancelToken::until_deadline(self)
    }
    async fn cancelled(&self) {
        CancelToken::cancelled(self).await;
    }
}

/// Cancels its token when dropped, on every way out of a scope.
struct CancelOnDrop<K: AsyncToken>(K);

impl<K: AsyncToken> Drop for CancelOnDrop<K> {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Runs the pattern as tasks on async flavor `F`, with chanlab's token.
pub async fn run_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    run_async_on::<F, CancelToken>(params, CancelToken::new()).await
}

/// Runs the pattern as tasks on flavor `F` under the tree rooted at `root`.
pub(super) async fn run_async_on<F: AsyncFlavor, K: AsyncToken>(
    params: &Params,
    root: K,
) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    refuse_unbounded(params)?;
    let mut producers = JoinSet::new();
    let halfway = halfway(params);

    let a = start::<F, K>(params, root.child(), Some(halfway), &mut producers)?;
    let b = start::<F, K>(
        params,
        root.child_with_timeout(DEADLINE),
        None,
        &mut producers,
    )?;
    let c = start::<F, K>(params, root.child(), None, &mut producers)?;
    let stop_all = CancelOnDrop(root);

    let a_stops = join_tasks(a.workers).await?;
    let (root_after_a, c_after_a) = (stop_all.0.reason(), c.token.reason());
    let b_stops = join_tasks(b.workers).await?;
    stop_all.0.cancel();
    let c_stops = join_tasks(c.workers).await?;
    let producers = join_tasks(producers).await?.len();
    judge(Verdict {
        threads: a_stops.len() + b_stops.len() + c_stops.len() + producers,
        native_select: F::INFO.capabilities.cancel_safe_recv,
        halfway,
        root_after_a,
        c_after_a,
        stops: [a_stops, b_stops, c_stops],
        done: [&a.done, &b.done, &c.done].map(|done| done.load(Ordering::SeqCst)),
    })
}

/// What one group's tasks did.
struct Group<K> {
    token: K,
    done: Arc<AtomicU64>,
    workers: JoinSet<Stop>,
}

/// Starts a group's producer and workers, as the threads' version does.
fn start<F: AsyncFlavor, K: AsyncToken>(
    params: &Params,
    token: K,
    cancel_at: Option<u64>,
    producers: &mut JoinSet<()>,
) -> Result<Group<K>, ScenarioError> {
    let (sender, receiver) = F::channel::<u64>(params.capacity)?;
    producers.spawn(async move {
        let mut job = 0;
        while sender.send(job).await.is_ok() {
            job += 1;
        }
    });
    let done = Arc::new(AtomicU64::new(0));
    let mut workers = JoinSet::new();
    let mut queues: Vec<Option<F::Receiver<u64>>> =
        (1..params.workers).map(|_| receiver.try_clone()).collect();
    queues.push(Some(receiver));
    let selects = F::INFO.capabilities.cancel_safe_recv;
    for queue in queues {
        let jobs = Jobs {
            done: Arc::clone(&done),
            work: params.work,
            cancel_at,
        };
        let token = token.clone();
        workers.spawn(async move {
            let _stop_group = CancelOnDrop(token.clone());
            match queue {
                Some(queue) if selects => by_select(&token, queue, &jobs).await,
                Some(queue) => by_polling(&token, queue, &jobs).await,
                None => until_cancelled(&token).await,
            }
        });
    }
    Ok(Group {
        token,
        done,
        workers,
    })
}

/// Sleeps until the deadline, or forever without one.
async fn deadline(left: Option<Duration>) {
    match left {
        Some(left) => tokio::time::sleep(left).await,
        None => std::future::pending().await,
    }
}

/// Waits on the token and the queue at once with `tokio::select!`: the
/// losing receive is dropped, which the flavor declares loses nothing.
async fn by_select<K: AsyncToken, R: AsyncReceiver<u64>>(
    token: &K,
    mut queue: R,
    jobs: &Jobs,
) -> Stop {
    loop {
        if let Some(reason) = token.reason() {
            return Stop::Cancelled(reason);
        }
        tokio::select! {
            () = token.cancelled() => {}
            () = deadline(token.until_deadline()) => {}
            job = queue.recv() => match job {
                Ok(_job) => jobs.take(|| token.cancel()),
                Err(_) => return Stop::Disconnected,
            },
        }
    }
}

/// The form for a flavor whose receive is not cancel-safe: a receive with
/// a short timeout, then a look at the token.
async fn by_polling<K: AsyncToken, R: AsyncReceiver<u64>>(
    token: &K,
    mut queue: R,
    jobs: &Jobs,
) -> Stop {
    loop {
        if let Some(reason) = token.reason() {
            return Stop::Cancelled(reason);
        }
        match tokio::time::timeout(POLL, queue.recv()).await {
            Ok(Ok(_job)) => jobs.take(|| token.cancel()),
            Ok(Err(_)) => return Stop::Disconnected,
            Err(_elapsed) => {}
        }
    }
}

/// Waits on the token alone, at most until its deadline each time.
async fn until_cancelled<K: AsyncToken>(token: &K) -> Stop {
    loop {
        if let Some(reason) = token.reason() {
            return Stop::Cancelled(reason);
        }
        tokio::select! {
            () = token.cancelled() => {}
            () = deadline(token.until_deadline()) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use chanlab_impls::{FlumeAsync, TokioMpsc};

    use super::*;
    use crate::Runtime;
    use crate::runtime::RuntimeExt;

    /// A token whose "children" are the token itself, as the threads'
    /// twin: cancelling a child cancels its parent and every sibling.
    #[derive(Clone)]
    struct Entangled(CancelToken);

    impl AsyncToken for Entangled {
        fn child(&self) -> Self {
            self.clone()
        }
        fn child_with_timeout(&self, timeout: Duration) -> Self {
            Entangled(AsyncToken::child_with_timeout(&self.0, timeout))
        }
        fn cancel(&self) {
            self.0.cancel();
        }
        fn reason(&self) -> Option<CancelReason> {
            self.0.reason()
        }
        fn until_deadline(&self) -> Option<Duration> {
            self.0.until_deadline()
        }
        async fn cancelled(&self) {
            self.0.cancelled().await;
        }
    }

    #[test]
    fn tasks_stop_by_select_on_both_runtimes_and_an_entangled_tree_is_caught() {
        for runtime in Runtime::ALL {
            let outcomes = [
                runtime.block_on(run_async::<FlumeAsync>(&crate::small_params(200))),
                runtime.block_on(run_async::<TokioMpsc>(&crate::small_params(200))),
            ];
            for outcome in outcomes {
                let outcome = outcome.unwrap_or_else(|err| panic!("{runtime:?}: {err}"));
                assert_eq!(outcome.counters["native_select"], 1, "{outcome:?}");
            }
            let caught = runtime.block_on(run_async_on::<FlumeAsync, Entangled>(
                &crate::small_params(200),
                Entangled(CancelToken::new()),
            ));
            assert!(
                matches!(&caught, Err(ScenarioError::Oracle(why)) if why.contains("reached its parent")),
                "{runtime:?}: {caught:?}"
            );
        }
    }
}
