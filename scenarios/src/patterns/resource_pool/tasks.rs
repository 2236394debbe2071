//! The resource pool as tasks: chanlab's [`Pool`] through
//! [`Pool::acquire_async`], and deadpool's (`deadpool.rs`). The jobs and
//! the oracle are the blocking version's (`mod.rs`); a task yields after
//! each job, so the tasks of a one-thread runtime take turns.

use std::future::Future;
use std::time::Duration;

use chanlab_sync::Arc;
use tokio::task::JoinSet;

use super::{FakeConnection, Pooling, Registry, Shared, finish, use_lease};
use crate::coord::{AcquireTimeout, Pool, yield_now};
use crate::patterns::{join_tasks, share};
use crate::{Outcome, Params, ScenarioError};

/// A pool tasks borrow from, waiting at most `timeout`.
pub(super) trait AsyncLender: Pooling {
    fn lend(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Result<Self::Lease, AcquireTimeout>> + Send;
}

impl AsyncLender for Pool<FakeConnection> {
    async fn lend(&self, timeout: Duration) -> Result<Self::Lease, AcquireTimeout> {
        tokio::time::timeout(timeout, self.acquire_async())
            .await
            .map_err(|_| AcquireTimeout(timeout))
    }
}

/// `workers` tasks share the jobs, each taking every `workers`th job as
/// the threads do.
pub(super) async fn run_with<L: AsyncLender>(
    params: &Params,
    pool: L,
    registry: Arc<Registry>,
) -> Result<Outcome, ScenarioError> {
    let shared = Shared::new(params, pool, registry);
    let mut tasks = JoinSet::new();
    for worker in 0..params.workers {
        let shared = Arc::clone(&shared);
        let jobs = share(params.items, params.workers, worker);
        let (workers, work) = (params.workers, params.work);
        tasks.spawn(async move {
            let mut broken = 0;
            for nth in 0..jobs {
                let job = nth * workers + worker;
                let lent = shared.pool.lend(shared.acquire_timeout).await;
                broken += usize::from(use_lease(&shared, job, lent, work)?);
                yield_now().await;
            }
            Ok::<_, ScenarioError>(broken)
        });
    }
    let mut broken = 0;
    for result in join_tasks(tasks).await? {
        broken += result?;
    }
    finish(&shared.tally(params, broken), params.workers)
}
