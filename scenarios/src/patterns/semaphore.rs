//! Semaphore: at most N jobs inside a region at once.
//!
//! Use it to cap concurrency on a shared resource (connections, memory,
//! an API quota) while many threads do other work freely. Three ways are
//! compared on one workload:
//! - the Go way: a channel of capacity N; sending a token acquires, and
//!   receiving one releases, so the channel needs a receiver per worker
//!   (multi-consumer);
//! - chanlab's [`Semaphore`] (Mutex + Condvar), [`Primitive::Chanlab`] on
//!   threads, and through [`Semaphore::acquire_async`] as tasks,
//!   [`Primitive::ChanlabAsync`];
//! - `tokio::sync::Semaphore`, [`Primitive::TokioSemaphore`].
//!
//! Params: `capacity` is the number of permits (bounded, at least 1),
//! `workers` threads or tasks share `items` jobs, `work` per job inside the
//! region.
//!
//! Oracle: never more than N inside at once, and every permit is back at
//! the end.

use std::future::Future;
use std::sync::Arc;

use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, Receiver, Sender, SyncFlavor,
};

use super::worker_pool::worker_receivers;
use super::{Executor, TaskSet, Tokio, busy, require, share};
use crate::coord::{Semaphore, WaitGroup};
use crate::oracle::Gauge;
use crate::outcome::ensure;
use crate::runtime::RuntimeExt;
use crate::{Outcome, ParamError, Params, Pattern, Primitive, Refusal, Runtime, ScenarioError};

const SHARED: &str = "every worker releases tokens by receiving from the one channel";

/// A receiver kept aside to look for tokens nobody returned.
fn spare<R>(
    flavor: &'static str,
    release: &R,
    try_clone: impl Fn(&R) -> Option<R>,
) -> Result<R, ScenarioError> {
    try_clone(release).ok_or(ScenarioError::NotApplicable(Refusal::CloneRefused {
        flavor,
    }))
}

fn permits(params: &Params) -> Result<usize, ScenarioError> {
    match params.capacity {
        Capacity::Bounded(n) if n > 0 => Ok(n),
        other => Err(ParamError::new(
            "capacity",
            other,
            "bounded with at least one slot: a semaphore's permits",
        )
        .into()),
    }
}

/// The Go way on threads: a channel of N tokens.
pub fn run_channel<F: SyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    let permits = permits(params)?;
    require(&F::INFO, params.capacity, Some(SHARED))?;
    let gauge = Arc::new(Gauge::new());
    let mut wait_group = WaitGroup::new();
    let (tokens, release) = F::channel::<()>(params.capacity)?;
    let mut leftover = spare(F::INFO.name, &release, |rx| rx.try_clone())?;
    for (worker, mut release) in
        worker_receivers(F::INFO.name, release, params.workers, |rx| rx.try_clone())?
            .into_iter()
            .enumerate()
    {
        let (tokens, gauge) = (tokens.clone(), Arc::clone(&gauge));
        let (jobs, work) = (share(params.items, params.workers, worker), params.work);
        wait_group.spawn(move || {
            for _ in 0..jobs {
                if tokens.send(()).is_err() {
                    return;
                }
                {
                    let _inside = gauge.enter();
                    busy(work);
                }
                if release.recv().is_err() {
                    return;
                }
            }
        });
    }
    drop(tokens);
    let threads = wait_group.started();
    wait_group.join()?;
    let returned = leftover.try_recv().is_err();
    check(permits, &gauge, returned)?;
    Ok(Outcome::new(params.items as u64, threads).with("most_inside", gauge.most() as u64))
}

/// The Go way as tasks.
pub async fn run_channel_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    run_channel_async_on::<F, Tokio>(params).await
}

/// [`run_channel_async`] on executor `E`.
pub async fn run_channel_async_on<F: AsyncFlavor, E: Executor>(
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    let permits = permits(params)?;
    require(&F::INFO, params.capacity, Some(SHARED))?;
    let gauge = Arc::new(Gauge::new());
    let (tokens, release) = F::channel::<()>(params.capacity)?;
    let mut leftover = spare(F::INFO.name, &release, |rx| rx.try_clone())?;
    let mut tasks: E::Tasks<()> = Default::default();
    for (worker, mut release) in
        worker_receivers(F::INFO.name, release, params.workers, |rx| rx.try_clone())?
            .into_iter()
            .enumerate()
    {
        let (tokens, gauge) = (tokens.clone(), Arc::clone(&gauge));
        let (jobs, work) = (share(params.items, params.workers, worker), params.work);
        tasks.spawn(async move {
            for _ in 0..jobs {
                if tokens.send(()).await.is_err() {
                    return;
                }
                {
                    let _inside = gauge.enter();
                    busy(work);
                }
                if release.recv().await.is_err() {
                    return;
                }
            }
        });
    }
    drop(tokens);
    let threads = tasks.join().await?.len();
    let returned = leftover.try_recv().is_err();
    check(permits, &gauge, returned)?;
    Ok(Outcome::new(params.items as u64, threads).with("most_inside", gauge.most() as u64))
}

/// A semaphore tasks wait on: chanlab's or tokio's.
trait AsyncPermits: Send + Sync + 'static {
    /// Waits for a permit, held until the returned guard is dropped.
    fn permit(&self) -> impl Future<Output = impl Send> + Send;
    /// Permits not held.
    fn available(&self) -> usize;
}

impl AsyncPermits for Semaphore {
    fn permit(&self) -> impl Future<Output = impl Send> + Send {
        self.acquire_async()
    }
    fn available(&self) -> usize {
        Semaphore::available(self)
    }
}

impl AsyncPermits for tokio::sync::Semaphore {
    async fn permit(&self) -> impl Send {
        // Never closed, so acquiring cannot fail.
        self.acquire().await.ok()
    }
    fn available(&self) -> usize {
        self.available_permits()
    }
}

/// chanlab's semaphore as tasks on executor `E`.
pub async fn run_chanlab_async_on<E: Executor>(params: &Params) -> Result<Outcome, ScenarioError> {
    let permits = permits(params)?;
    permits_as_tasks::<E, _>(Semaphore::new(permits), permits, params).await
}

/// chanlab's semaphore on threads or as tasks, or tokio's as tasks, on
/// `runtime`.
pub fn run_primitive(
    primitive: Primitive,
    params: &Params,
    runtime: Runtime,
) -> Result<Outcome, ScenarioError> {
    let permits = permits(params)?;
    match primitive {
        Primitive::Chanlab => permits_on_threads(Semaphore::new(permits), permits, params),
        Primitive::ChanlabAsync => runtime.block_on(run_chanlab_async_on::<Tokio>(params)),
        Primitive::TokioSemaphore => runtime.block_on(permits_as_tasks::<Tokio, _>(
            tokio::sync::Semaphore::new(permits),
            permits,
            params,
        )),
        other => Err(Refusal::not_on(Pattern::Semaphore, other)),
    }
}

/// `workers` threads share the jobs, each inside `semaphore` of `permits`.
fn permits_on_threads(
    semaphore: Semaphore,
    permits: usize,
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    let gauge = Arc::new(Gauge::new());
    let mut wait_group = WaitGroup::new();
    for worker in 0..params.workers {
        let (semaphore, gauge) = (semaphore.clone(), Arc::clone(&gauge));
        let (jobs, work) = (share(params.items, params.workers, worker), params.work);
        wait_group.spawn(move || {
            for _ in 0..jobs {
                let _permit = semaphore.acquire();
                let _inside = gauge.enter();
                busy(work);
            }
        });
    }
    let threads = wait_group.started();
    wait_group.join()?;
    check(permits, &gauge, semaphore.available() == permits)?;
    Ok(Outcome::new(params.items as u64, threads).with("most_inside", gauge.most() as u64))
}

/// `workers` tasks on executor `E` share the jobs, each inside `semaphore`
/// of `permits`.
async fn permits_as_tasks<E: Executor, S: AsyncPermits>(
    semaphore: S,
    permits: usize,
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    let semaphore = Arc::new(semaphore);
    let gauge = Arc::new(Gauge::new());
    let mut tasks: E::Tasks<()> = Default::default();
    for worker in 0..params.workers {
        let (semaphore, gauge) = (Arc::clone(&semaphore), Arc::clone(&gauge));
        let (jobs, work) = (share(params.items, params.workers, worker), params.work);
        tasks.spawn(async move {
            for _ in 0..jobs {
                let _permit = semaphore.permit().await;
                let _inside = gauge.enter();
                busy(work);
            }
        });
    }
    let threads = tasks.join().await?.len();
    check(permits, &gauge, semaphore.available() == permits)?;
    Ok(Outcome::new(params.items as u64, threads).with("most_inside", gauge.most() as u64))
}

fn check(permits: usize, gauge: &Gauge, all_returned: bool) -> Result<(), ScenarioError> {
    let most = gauge.most();
    ensure(most <= permits, || {
        format!("{most} jobs were inside at once with {permits} permits")
    })?;
    ensure(all_returned, || {
        "a permit was not returned at the end".into()
    })
}
