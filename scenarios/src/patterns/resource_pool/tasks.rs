//! The resource pool as tasks: chanlab's [`Pool`] through
//! [`Pool::acquire_async`], and deadpool's (`deadpool.rs`). The jobs and
//! the oracle are the blocking version's (`mod.rs`); a task yields after
//! each job, so the tasks of a one-thread runtime take turns.

use std::future::Future;
use std::time::Duration;

use chanlab_sync::Arc;

use super::{FakeConnection, Pooling, Registry, Shared, finish, new_pool, pool_size, use_lease};
use crate::coord::{AcquireTimeout, Executor, Pool, TaskSet, yield_now};
use crate::{Outcome, Params, ScenarioError};
use chanlab_workload::share;

/// A pool tasks borrow from, waiting at most `timeout` on executor `E`.
pub(super) trait AsyncLender: Pooling {
    fn lend<E: Executor>(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Result<Self::Lease, AcquireTimeout>> + Send;
}

impl AsyncLender for Pool<FakeConnection> {
    async fn lend<E: Executor>(&self, timeout: Duration) -> Result<Self::Lease, AcquireTimeout> {
        E::timeout(timeout, self.acquire_async())
            .await
            .ok_or(AcquireTimeout(timeout))
    }
}

/// The jobs as tasks on executor `E`, on chanlab's [`Pool`].
pub async fn run_async_on<E: Executor>(params: &Params) -> Result<Outcome, ScenarioError> {
    let registry = Arc::new(Registry::new());
    let pool = new_pool(pool_size(params), &registry);
    run_with::<E, _>(params, pool, registry).await
}

/// `workers` tasks on executor `E` share the jobs, each taking every
/// `workers`th job as the threads do.
pub(super) async fn run_with<E: Executor, L: AsyncLender>(
    params: &Params,
    pool: L,
    registry: Arc<Registry>,
) -> Result<Outcome, ScenarioError> {
    let shared = Shared::new(params, pool, registry);
    let mut tasks = E::Tasks::<Result<usize, ScenarioError>>::default();
    for worker in 0..params.workers {
        let shared = Arc::clone(&shared);
        let jobs = share(params.items, params.workers, worker);
        let (workers, work) = (params.workers, params.work);
        tasks.spawn(async move {
            let mut broken = 0;
            for nth in 0..jobs {
                let job = nth * workers + worker;
                let lent = shared.pool.lend::<E>(shared.acquire_timeout).await;
                broken += usize::from(use_lease(&shared, job, lent, work)?);
                yield_now().await;
            }
            Ok::<_, ScenarioError>(broken)
        });
    }
    let mut broken = 0;
    for result in tasks.join().await? {
        broken += result?;
    }
    finish(&shared.tally(params, broken), params.workers)
}
