//! Rate limiting: a fixed-interval ticker, and a token bucket with a burst.
//!
//! Use a ticker to pace work evenly (one request per tick, Go's
//! `time.Tick` loop); use a token bucket when short bursts are fine but the
//! long-run rate is not. Both run on a [`Clock`], so tests drive them on a
//! [`ManualClock`] deterministically; real runs use the system clock.
//!
//! The ticker delivers ticks on a channel of capacity 1 built by the
//! flavor, dropping ticks nobody is ready for: on a thread over a blocking
//! flavor, or as a task over an async one ([`run_ticker_async`]). The token bucket is
//! [`TokenBucket`], shared by `workers` threads, or by `workers` tasks
//! through [`TokenBucket::acquire_async`], which sleeps on tokio's timer
//! for whole milliseconds and yields through the rest of a wait. Beside it as tasks, `governor`'s direct limiter (the
//! same GCRA) with the same rate and burst, awaited with `until_ready`,
//! which sleeps on `futures-timer`'s thread.
//!
//! Params: `items` requests, `rate` permits per second, `burst` (token
//! bucket), `workers` threads (or tasks) asking the bucket.
//!
//! Oracle: over every window of the run, admissions never exceed what the
//! rate allows: for the ticker, the ticks consumed are at least one
//! interval apart; for the bucket, any `k` consecutive admissions beyond
//! the burst span at least `k` intervals. Each admission's time is the
//! limiter's own reading of the clock when it admitted: chanlab's bucket
//! returns it, and `governor` reads it from a clock of chanlab's that
//! records, on the admitting thread, the last time it gave out.
//!
//! [`ManualClock`]: crate::coord::ManualClock

#[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
mod governor;

use std::sync::Arc;
use std::time::Duration;

use chanlab_contract::{AsyncFlavor, AsyncReceiver, Receiver, SyncFlavor};

use super::share;
use crate::coord::{
    Clock, Executor, SharedClock, SystemClock, TaskSet, TokenBucket, Tokio, WaitGroup, interval_of,
    ticker, ticker_async,
};
use crate::outcome::ensure;
use crate::runtime::RuntimeExt;
use crate::{Outcome, Params, Pattern, Primitive, Refusal, Runtime, ScenarioError};
use chanlab_workload::rate_error;

/// Paces `items` requests with a ticker on the system clock.
pub fn run_ticker<F: SyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    let interval = interval_of(params.rate).map_err(|err| rate_error(params.rate, &err))?;
    ticker_on::<F>(
        Arc::new(SystemClock::new()),
        interval,
        interval,
        params.items,
    )
}

/// Paces `items` requests with a ticker task on the system clock, over
/// async flavor `F`.
pub async fn run_ticker_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    run_ticker_async_on::<F, Tokio>(params, Arc::new(SystemClock::new())).await
}

/// [`run_ticker_async`] on executor `E` and `clock`.
pub async fn run_ticker_async_on<F: AsyncFlavor, E: Executor>(
    params: &Params,
    clock: SharedClock,
) -> Result<Outcome, ScenarioError> {
    let interval = interval_of(params.rate).map_err(|err| rate_error(params.rate, &err))?;
    ticker_as_task::<F, E>(clock, interval, interval, params.items).await
}

/// [`ticker_on`] as tasks: the ticker a task, the consumer this one.
async fn ticker_as_task<F: AsyncFlavor, E: Executor>(
    clock: SharedClock,
    tick: Duration,
    allowed: Duration,
    items: usize,
) -> Result<Outcome, ScenarioError> {
    let (ticking, mut ticks) = ticker_async::<F>(Arc::clone(&clock), tick)?;
    let mut ticker = E::Tasks::<u64>::default();
    ticker.spawn(ticking);
    let mut consumed = Vec::with_capacity(items);
    for _ in 0..items {
        let Ok(sent_at) = ticks.recv().await else {
            return Err(ScenarioError::Oracle("the ticker stopped early".into()));
        };
        consume(&*clock, sent_at, &mut consumed)?;
    }
    drop(ticks);
    let sent = ticker.join().await?.iter().sum::<u64>();
    ticked(&consumed, allowed, items, 2, sent)
}

/// Takes one tick sent at `sent_at`: it cannot arrive before it was sent.
fn consume(
    clock: &dyn Clock,
    sent_at: Duration,
    consumed: &mut Vec<Duration>,
) -> Result<(), ScenarioError> {
    let admitted = clock.now();
    ensure(admitted >= sent_at, || {
        format!("a tick sent at {sent_at:?} was received at {admitted:?}")
    })?;
    consumed.push(sent_at);
    Ok(())
}

/// Checks the ticks consumed against the interval `allowed`.
fn ticked(
    consumed: &[Duration],
    allowed: Duration,
    items: usize,
    threads: usize,
    sent: u64,
) -> Result<Outcome, ScenarioError> {
    within_rate("ticker", consumed, allowed, 1)?;
    Ok(
        Outcome::new(items as u64, threads)
            .with("ticks_dropped", sent.saturating_sub(items as u64)),
    )
}

/// Shares `items` requests among `workers` threads through one token
/// bucket on the system clock, or among `workers` tasks on `runtime`
/// through chanlab's bucket or `governor`'s limiter.
pub fn run_token_bucket(
    primitive: Primitive,
    params: &Params,
    runtime: Runtime,
) -> Result<Outcome, ScenarioError> {
    let bucket = || {
        TokenBucket::new(SystemClock::new(), params.rate, params.burst)
            .map_err(|err| rate_error(params.rate, &err))
    };
    match primitive {
        Primitive::Chanlab => bucket_on(bucket()?, params.burst, params.workers, params.items),
        Primitive::ChanlabAsync => {
            runtime.block_on(run_token_bucket_async_on::<Tokio, _>(bucket()?, params))
        }
        #[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
        Primitive::Governor => runtime.block_on(governor::run(params)),
        other => Err(Refusal::not_on(Pattern::RateLimit, other)),
    }
}

/// Ticks every `tick` and checks the consumption against `allowed`: the
/// interval the limiter promises.
fn ticker_on<F: SyncFlavor>(
    clock: SharedClock,
    tick: Duration,
    allowed: Duration,
    items: usize,
) -> Result<Outcome, ScenarioError> {
    let mut wait_group = WaitGroup::new();
    let (ticking, mut ticks) = ticker::<F>(Arc::clone(&clock), tick)?;
    wait_group.spawn(ticking);
    let mut consumed = Vec::with_capacity(items);
    for _ in 0..items {
        let Ok(sent_at) = ticks.recv() else {
            return Err(ScenarioError::Oracle("the ticker stopped early".into()));
        };
        consume(&*clock, sent_at, &mut consumed)?;
    }
    drop(ticks);
    let threads = wait_group.started();
    let sent = wait_group.join()?.iter().sum::<u64>();
    ticked(&consumed, allowed, items, threads, sent)
}

/// `workers` threads share `items` admissions from `bucket`, whose promised
/// burst is `burst`.
fn bucket_on<C: Clock>(
    bucket: TokenBucket<C>,
    burst: u32,
    workers: usize,
    items: usize,
) -> Result<Outcome, ScenarioError> {
    let interval = bucket.interval();
    let bucket = Arc::new(bucket);
    let mut wait_group = WaitGroup::new();
    for worker in 0..workers {
        let bucket = Arc::clone(&bucket);
        let requests = share(items, workers, worker);
        wait_group.spawn(move || (0..requests).map(|_| bucket.acquire()).collect::<Vec<_>>());
    }
    let threads = wait_group.started();
    let admitted = wait_group.join()?.into_iter().flatten().collect();
    admissions_within(admitted, interval, burst, threads, items)
}

/// `params.workers` tasks on executor `E` share `params.items` admissions
/// from `bucket`, held to the promise of `params.rate` with a burst of
/// `params.burst`.
pub async fn run_token_bucket_async_on<E: Executor, C: Clock>(
    bucket: TokenBucket<C>,
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    let interval = interval_of(params.rate).map_err(|err| rate_error(params.rate, &err))?;
    let (workers, items) = (params.workers, params.items);
    let bucket = Arc::new(bucket);
    let mut tasks = E::Tasks::<Vec<Duration>>::default();
    for worker in 0..workers {
        let bucket = Arc::clone(&bucket);
        let requests = share(items, workers, worker);
        tasks.spawn(async move {
            let mut admitted = Vec::with_capacity(requests);
            for _ in 0..requests {
                admitted.push(bucket.acquire_async().await);
            }
            admitted
        });
    }
    let admitted = tasks.join().await?.into_iter().flatten().collect();
    admissions_within(admitted, interval, params.burst, workers, items)
}

/// Sorts the admissions of a shared limiter and checks them against its
/// promise.
fn admissions_within(
    mut admitted: Vec<Duration>,
    interval: Duration,
    burst: u32,
    workers: usize,
    items: usize,
) -> Result<Outcome, ScenarioError> {
    admitted.sort_unstable();
    within_rate("token bucket", &admitted, interval, burst)?;
    Ok(Outcome::new(items as u64, workers))
}

/// Checks sorted admission times against a rate of one per `interval` with
/// `burst` at once: for all `i < j`, the `j - i + 1` admissions in
/// `[t_i, t_j]` number at most `burst + (t_j - t_i) / interval`.
///
/// Rearranged, `t_i - i·interval <= t_j - (j + 1 - burst)·interval` for
/// every `i <= j - burst`, so one pass with a running maximum checks all
/// pairs.
fn within_rate(
    limiter: &str,
    admitted: &[Duration],
    interval: Duration,
    burst: u32,
) -> Result<(), ScenarioError> {
    let step = interval.as_nanos() as i128;
    let burst = burst as usize;
    let mut most_early: Option<i128> = None;
    for (j, t_j) in admitted.iter().enumerate() {
        if j >= burst {
            let i = j - burst;
            let u_i = admitted[i].as_nanos() as i128 - i as i128 * step;
            most_early = Some(most_early.map_or(u_i, |most| most.max(u_i)));
        }
        if let Some(most) = most_early {
            let bound = t_j.as_nanos() as i128 - (j + 1 - burst) as i128 * step;
            ensure(most <= bound, || {
                format!(
                    "{limiter}: admission {j} at {t_j:?} exceeds one per {interval:?} with a burst of {burst}"
                )
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::ManualClock;
    use chanlab_impls::Crossbeam;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_window_check_is_exact() {
        let at = |ms: &[u32]| ms.iter().map(|&m| MS * m).collect::<Vec<_>>();
        assert!(within_rate("t", &at(&[0, 0, 0, 1, 2, 3]), MS, 3).is_ok());
        assert!(within_rate("t", &at(&[0, 0, 0, 0]), MS, 3).is_err());
        assert!(within_rate("t", &at(&[0, 0, 0, 1, 1]), MS, 3).is_err());
        assert!(within_rate("t", &at(&[0, 1, 2, 3]), MS, 1).is_ok());
        assert!(within_rate("t", &at(&[0, 1, 1]), MS, 1).is_err());
    }

    #[test]
    fn bucket_keeps_its_rate_on_a_manual_clock() {
        let bucket = TokenBucket::new(ManualClock::new(), 1000.0, 4).unwrap();
        assert!(bucket_on(bucket, 4, 3, 200).is_ok());
    }

    #[test]
    fn a_bucket_with_a_larger_burst_than_promised_is_caught() {
        let bucket = TokenBucket::new(ManualClock::new(), 1000.0, 8).unwrap();
        let caught = bucket_on(bucket, 4, 3, 200);
        assert!(
            matches!(caught, Err(ScenarioError::Oracle(_))),
            "{caught:?}"
        );
    }

    #[test]
    fn the_bucket_as_tasks_keeps_its_rate_and_a_looser_one_is_caught() {
        for runtime in Runtime::ALL {
            let promise = Params {
                items: 200,
                rate: 1000.0,
                burst: 4,
                workers: 3,
                ..Params::default()
            };
            let bucket = TokenBucket::new(ManualClock::new(), 1000.0, 4).unwrap();
            let kept = run_token_bucket_async_on::<Tokio, _>(bucket, &promise);
            assert!(runtime.block_on(kept).is_ok());
            let looser = TokenBucket::new(ManualClock::new(), 1000.0, 8).unwrap();
            let caught = runtime.block_on(run_token_bucket_async_on::<Tokio, _>(looser, &promise));
            assert!(
                matches!(caught, Err(ScenarioError::Oracle(_))),
                "{caught:?}"
            );
            let faster = TokenBucket::new(ManualClock::new(), 2000.0, 4).unwrap();
            let caught = runtime.block_on(run_token_bucket_async_on::<Tokio, _>(faster, &promise));
            assert!(
                matches!(caught, Err(ScenarioError::Oracle(_))),
                "{caught:?}"
            );
        }
    }

    #[test]
    fn every_limiter_keeps_its_promise_on_real_time() {
        let params = Params {
            items: 200,
            rate: 20_000.0,
            burst: 8,
            workers: 3,
            ..Params::default()
        };
        for &primitive in Pattern::RateLimit.primitives() {
            for runtime in Runtime::ALL {
                run_token_bucket(primitive, &params, runtime)
                    .unwrap_or_else(|err| panic!("{primitive} on {runtime:?}: {err}"));
            }
        }
    }

    #[test]
    fn ticker_keeps_its_interval_on_a_manual_clock() {
        let clock: SharedClock = Arc::new(ManualClock::new());
        assert!(ticker_on::<Crossbeam>(clock, MS, MS, 100).is_ok());
    }

    #[test]
    fn ticker_as_task_keeps_its_interval_and_a_faster_one_is_caught() {
        use chanlab_impls::FlumeAsync;

        for runtime in crate::Runtime::ALL {
            let clock: SharedClock = Arc::new(ManualClock::new());
            let kept = runtime.block_on(ticker_as_task::<FlumeAsync, Tokio>(clock, MS, MS, 100));
            assert!(kept.is_ok(), "{runtime:?}: {kept:?}");
            let clock: SharedClock = Arc::new(SystemClock::new());
            let caught =
                runtime.block_on(ticker_as_task::<FlumeAsync, Tokio>(clock, MS / 5, MS, 100));
            assert!(
                matches!(caught, Err(ScenarioError::Oracle(_))),
                "{runtime:?}: {caught:?}"
            );
        }
    }

    /// On real time: a manual clock lets the ticker run ahead of the
    /// consumer, which would hide the fault behind dropped ticks.
    #[test]
    fn a_ticker_faster_than_promised_is_caught() {
        let clock: SharedClock = Arc::new(SystemClock::new());
        let caught = ticker_on::<Crossbeam>(clock, MS / 5, MS, 100);
        assert!(
            matches!(caught, Err(ScenarioError::Oracle(_))),
            "{caught:?}"
        );
    }
}
