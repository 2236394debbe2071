//! shuttle runs of the patterns over the reference channel at sizes loom
//! cannot explore (more threads, more messages), with its PCT scheduler:
//! randomized schedules that find bugs of small depth with a known
//! probability. A failure prints a schedule that `shuttle::replay` runs
//! again, deterministically.
//!
//! Only built under the project's shuttle cfg, in its own target dir:
//!
//! ```sh
//! RUSTFLAGS="--cfg chanlab_shuttle" CARGO_TARGET_DIR=target-shuttle \
//!     cargo test --release -p chanlab-scenarios --test shuttle
//! ```
//!
//! Bounds: [`ITERATIONS`] schedules per model, PCT depth [`DEPTH`].
#![cfg(chanlab_shuttle)]

use chanlab_broken::{Broken, NeverDisconnects, Reorders};
use chanlab_contract::{Capacity, SyncFlavor};
use chanlab_impls::Reference;
use chanlab_scenarios::{Params, Pattern, run_sync};

/// Schedules tried per model.
const ITERATIONS: usize = 300;
/// PCT's bug depth: the number of ordering constraints a bug may need.
const DEPTH: usize = 3;

/// Larger than any loom model: three or four threads per stage and a
/// dozen messages through channels of two.
fn medium() -> Params {
    Params {
        items: 12,
        producers: 2,
        workers: 3,
        capacity: Capacity::Bounded(2),
        ..Params::default()
    }
}

/// Runs `pattern` on flavor `F` under PCT, failing on any oracle error.
fn schedules<F: SyncFlavor>(pattern: Pattern, params: Params) {
    shuttle::check_pct(
        move || {
            if let Err(err) = run_sync::<F>(pattern, &params) {
                panic!("{pattern} on {}: {err}", F::INFO.name);
            }
        },
        ITERATIONS,
        DEPTH,
    );
}

/// Runs `pattern` on broken twin `F` in a child process (`test` is the
/// calling test's name) and returns shuttle's report of the failure.
fn shuttle_finds<F: SyncFlavor>(test: &str, pattern: Pattern) -> String {
    chanlab_broken::child::must_fail(test, || schedules::<F>(pattern, medium()))
}

macro_rules! pattern_models {
    ($($test:ident => $pattern:ident,)+) => {$(
        #[test]
        fn $test() {
            schedules::<Reference>(Pattern::$pattern, medium());
        }
    )+};
}

pattern_models! {
    worker_pool => WorkerPool,
    fan_out_fan_in => FanOutFanIn,
    pipeline => Pipeline,
    producer_consumer => ProducerConsumer,
    pub_sub => PubSub,
    map_reduce => MapReduce,
    event_loop => EventLoop,
    supervisor => Supervisor,
}

#[test]
fn pipeline_twin_that_never_closes_deadlocks() {
    let report = shuttle_finds::<Broken<NeverDisconnects>>(
        "pipeline_twin_that_never_closes_deadlocks",
        Pattern::Pipeline,
    );
    assert!(report.contains("deadlock"), "{report}");
    assert!(report.contains("failing schedule"), "{report}");
}

#[test]
fn fan_in_twin_that_reorders_is_caught() {
    let report = shuttle_finds::<Broken<Reorders>>(
        "fan_in_twin_that_reorders_is_caught",
        Pattern::FanOutFanIn,
    );
    assert!(report.contains("oracle failed"), "{report}");
    assert!(report.contains("failing schedule"), "{report}");
}

/// The async patterns on shuttle's executor: tasks are interleaved at their
/// await points, under the same PCT scheduler, over flume's async channels
/// and chanlab's async primitives. Time the logic depends on is a
/// [`ManualClock`]'s. Not here: the ones that wait in `tokio::select!` on
/// tokio's timers (select, cancellation, event loop).
mod tasks {
    use std::future::Future;
    use std::sync::Arc;
    use std::time::Duration;

    use chanlab_contract::Capacity;
    use chanlab_impls::FlumeAsync;
    use chanlab_scenarios::coord::{ManualClock, SharedClock, TokenBucket};
    use chanlab_scenarios::patterns::{
        Executor, TaskSet, errgroup, fan_out_in, map_reduce, pipeline, producer_consumer, pubsub,
        rate_limit, resource_pool, semaphore, singleflight, supervisor, worker_pool,
    };
    use chanlab_scenarios::{Outcome, Params, ScenarioError};

    use super::{DEPTH, ITERATIONS, medium};

    /// shuttle's future executor.
    struct Shuttle;

    impl Executor for Shuttle {
        type Tasks<T: Send + 'static> = ShuttleTasks<T>;

        /// shuttle has no clock: a wait that never ends is a deadlock it
        /// reports, so no limit is needed.
        async fn timeout<F: Future + Send>(_: Duration, future: F) -> Option<F::Output> {
            Some(future.await)
        }
    }

    /// Tasks spawned on shuttle's executor.
    struct ShuttleTasks<T>(Vec<shuttle::future::JoinHandle<T>>);

    impl<T> Default for ShuttleTasks<T> {
        fn default() -> Self {
            ShuttleTasks(Vec::new())
        }
    }

    impl<T: Send + 'static> TaskSet<T> for ShuttleTasks<T> {
        fn spawn(&mut self, task: impl Future<Output = T> + Send + 'static) {
            self.0.push(shuttle::future::spawn(task));
        }

        async fn join(self) -> Result<Vec<T>, ScenarioError> {
            let mut results = Vec::with_capacity(self.0.len());
            for task in self.0 {
                let result = task
                    .await
                    .map_err(|err| ScenarioError::Panicked(format!("{err:?}")))?;
                results.push(result);
            }
            Ok(results)
        }
    }

    fn schedules<R: Future<Output = Result<Outcome, ScenarioError>> + 'static>(
        name: &'static str,
        run: fn(Params) -> R,
    ) {
        schedules_with(name, medium(), run);
    }

    /// [`schedules`] with `params`; flume-async's capacity of two is kept.
    fn schedules_with<R: Future<Output = Result<Outcome, ScenarioError>> + 'static>(
        name: &'static str,
        params: Params,
        run: fn(Params) -> R,
    ) {
        shuttle::check_pct(
            move || {
                let params = Params {
                    capacity: Capacity::Bounded(2),
                    ..params
                };
                if let Err(err) = shuttle::future::block_on(run(params)) {
                    panic!("{name} on flume-async: {err}");
                }
            },
            ITERATIONS,
            DEPTH,
        );
    }

    /// A clock that moves only when a task sleeps on it: shuttle has none.
    fn manual_clock() -> SharedClock {
        Arc::new(ManualClock::new())
    }

    /// Enough jobs for the supervisor to meet two poison jobs, so its short
    /// budget runs out after one restart.
    fn two_poison_jobs() -> Params {
        Params {
            items: 2 * supervisor::POISON_EVERY as usize,
            ..medium()
        }
    }

    /// A token bucket at `params.rate` with `burst`, on a manual clock.
    fn bucket(params: &Params, burst: u32) -> TokenBucket<ManualClock> {
        TokenBucket::new(ManualClock::new(), params.rate, burst).expect("a valid rate")
    }

    #[test]
    fn worker_pool_as_tasks() {
        schedules("worker-pool", |p| async move {
            worker_pool::run_async_on::<FlumeAsync, Shuttle>(&p).await
        });
    }

    #[test]
    fn fan_out_fan_in_as_tasks() {
        schedules("fan-out-fan-in", |p| async move {
            fan_out_in::run_async_on::<FlumeAsync, Shuttle>(&p).await
        });
    }

    #[test]
    fn pipeline_as_tasks() {
        schedules("pipeline", |p| async move {
            pipeline::run_async_on::<FlumeAsync, Shuttle>(&p).await
        });
    }

    #[test]
    fn producer_consumer_as_tasks() {
        schedules("producer-consumer", |p| async move {
            producer_consumer::run_async_on::<FlumeAsync, Shuttle>(&p).await
        });
    }

    #[test]
    fn semaphore_as_tasks() {
        schedules("semaphore", |p| async move {
            semaphore::run_channel_async_on::<FlumeAsync, Shuttle>(&p).await
        });
    }

    #[test]
    fn chanlab_semaphore_as_tasks() {
        schedules("chanlab's semaphore", |p| async move {
            semaphore::run_chanlab_async_on::<Shuttle>(&p).await
        });
    }

    #[test]
    fn map_reduce_as_tasks() {
        schedules("map-reduce", |p| async move {
            map_reduce::run_async_on::<FlumeAsync, Shuttle>(&p).await
        });
    }

    #[test]
    fn pub_sub_as_tasks() {
        schedules("pub-sub", |p| async move {
            pubsub::run_async_on::<FlumeAsync, Shuttle>(&p).await
        });
    }

    #[test]
    fn supervisor_as_tasks() {
        schedules_with("supervisor", two_poison_jobs(), |p| async move {
            supervisor::run_async_on::<FlumeAsync, Shuttle>(&p, manual_clock()).await
        });
    }

    /// Under shuttle's random scheduler, not PCT: on a manual clock the
    /// ticker drops ticks in a loop, and PCT, which is not fair, can run
    /// that loop forever while the consumer waits.
    #[test]
    fn ticker_as_tasks() {
        shuttle::check_random(
            || {
                let params = Params {
                    capacity: Capacity::Bounded(2),
                    ..medium()
                };
                let run =
                    rate_limit::run_ticker_async_on::<FlumeAsync, Shuttle>(&params, manual_clock());
                if let Err(err) = shuttle::future::block_on(run) {
                    panic!("ticker on flume-async: {err}");
                }
            },
            ITERATIONS,
        );
    }

    #[test]
    fn token_bucket_as_tasks() {
        schedules("token bucket", |p| async move {
            rate_limit::run_token_bucket_async_on::<Shuttle, _>(bucket(&p, p.burst), &p).await
        });
    }

    #[test]
    fn errgroup_as_tasks() {
        schedules("errgroup", |p| async move {
            errgroup::run_async_on::<Shuttle>(&p).await
        });
    }

    #[test]
    fn singleflight_as_tasks() {
        schedules("singleflight", |p| async move {
            singleflight::run_async_on::<Shuttle>(&p).await
        });
    }

    #[test]
    fn resource_pool_as_tasks() {
        schedules("resource pool", |p| async move {
            resource_pool::run_async_on::<Shuttle>(&p).await
        });
    }

    #[test]
    #[should_panic(expected = "oracle failed")]
    fn a_token_bucket_with_twice_the_burst_is_caught() {
        schedules("token bucket", |p| async move {
            rate_limit::run_token_bucket_async_on::<Shuttle, _>(bucket(&p, 2 * p.burst), &p).await
        });
    }

    /// Every task waiting on an execution in flight is woken when it ends.
    /// The patterns above reach chanlab's shared wake-up code through many
    /// waits at once; this model checks it on one key with three callers,
    /// beside a twin that wakes only the first waiter (notify-one where
    /// every waiter needs the news), which shuttle must report as a
    /// deadlock.
    mod wake_all {
        use std::future::Future;
        use std::sync::Arc;
        use std::task::{Poll, Waker};

        use chanlab_scenarios::coord::{Singleflight, yield_now};
        use shuttle::sync::Mutex;

        use super::{DEPTH, ITERATIONS};

        /// What the model needs of a singleflight, for one key.
        pub trait Flights: Send + Sync + 'static {
            fn new() -> Self;
            fn run(
                &self,
                work: impl Future<Output = u64> + Send,
            ) -> impl Future<Output = u64> + Send;
        }

        impl Flights for Singleflight<u8, u64> {
            fn new() -> Self {
                Singleflight::new()
            }

            async fn run(&self, work: impl Future<Output = u64> + Send) -> u64 {
                self.run_async(0, work).await.value
            }
        }

        /// One execution for the one key; its end wakes only the first
        /// task that waited.
        pub struct WakesOne(Mutex<Execution>);

        #[derive(Default)]
        struct Execution {
            began: bool,
            value: Option<u64>,
            waiters: Vec<Waker>,
        }

        impl Flights for WakesOne {
            fn new() -> Self {
                WakesOne(Mutex::new(Execution::default()))
            }

            async fn run(&self, work: impl Future<Output = u64> + Send) -> u64 {
                let leads = !std::mem::replace(&mut self.0.lock().unwrap().began, true);
                if leads {
                    let value = work.await;
                    let mut execution = self.0.lock().unwrap();
                    execution.value = Some(value);
                    if let Some(first) = execution.waiters.first() {
                        first.wake_by_ref();
                    }
                    return value;
                }
                std::future::poll_fn(|cx| {
                    let mut execution = self.0.lock().unwrap();
                    match execution.value {
                        Some(value) => Poll::Ready(value),
                        None => {
                            execution.waiters.push(cx.waker().clone());
                            Poll::Pending
                        }
                    }
                })
                .await
            }
        }

        /// Three callers at once; the execution yields before its value,
        /// so callers can join it. Every caller must get the value.
        pub fn model<F: Flights>() {
            shuttle::check_pct(
                || {
                    let flights = Arc::new(F::new());
                    let callers: Vec<_> = (0..3)
                        .map(|_| {
                            let flights = Arc::clone(&flights);
                            shuttle::future::spawn(async move {
                                flights
                                    .run(async {
                                        yield_now().await;
                                        7
                                    })
                                    .await
                            })
                        })
                        .collect();
                    for caller in callers {
                        let value = shuttle::future::block_on(caller).expect("a caller panicked");
                        assert_eq!(value, 7);
                    }
                },
                ITERATIONS,
                DEPTH,
            );
        }
    }

    #[test]
    fn every_task_waiting_on_a_flight_is_woken() {
        wake_all::model::<chanlab_scenarios::coord::Singleflight<u8, u64>>();
    }

    #[test]
    #[should_panic(expected = "deadlock")]
    fn a_flight_that_wakes_only_its_first_waiter_deadlocks() {
        wake_all::model::<wake_all::WakesOne>();
    }

    /// A twin of flume's async flavor whose sender silently drops every
    /// seventh message: the worker pool's oracle must see it on some
    /// schedule.
    mod loses {
        use std::future::Future;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};

        use chanlab_contract::{
            AsyncEnds, AsyncFlavor, AsyncSender, Capacity, FlavorInfo, SendError, TrySendError,
            UnsupportedError,
        };
        use chanlab_impls::FlumeAsync;

        pub struct LosesAsync;

        pub struct Sender<T: Send + 'static> {
            inner: <FlumeAsync as AsyncFlavor>::Sender<T>,
            sent: Arc<AtomicUsize>,
        }

        impl<T: Send + 'static> Clone for Sender<T> {
            fn clone(&self) -> Self {
                Sender {
                    inner: self.inner.clone(),
                    sent: Arc::clone(&self.sent),
                }
            }
        }

        impl<T: Send + 'static> Sender<T> {
            fn lose(&self) -> bool {
                self.sent.fetch_add(1, Ordering::SeqCst) % 7 == 6
            }
        }

        impl<T: Send + 'static> AsyncSender<T> for Sender<T> {
            fn send(&self, value: T) -> impl Future<Output = Result<(), SendError<T>>> + Send {
                let lost = self.lose();
                let inner = self.inner.clone();
                async move {
                    if lost {
                        Ok(())
                    } else {
                        inner.send(value).await
                    }
                }
            }

            fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
                if self.lose() {
                    Ok(())
                } else {
                    self.inner.try_send(value)
                }
            }
        }

        impl AsyncFlavor for LosesAsync {
            type Sender<T: Send + 'static> = Sender<T>;
            type Receiver<T: Send + 'static> = <FlumeAsync as AsyncFlavor>::Receiver<T>;

            const INFO: FlavorInfo = FlavorInfo {
                name: "flume-async-loses",
                note: Some("deliberately broken"),
                ..FlumeAsync::INFO
            };

            fn channel<T: Send + 'static>(
                capacity: Capacity,
            ) -> Result<AsyncEnds<Self, T>, UnsupportedError> {
                let (inner, receiver) = FlumeAsync::channel(capacity)?;
                let sent = Arc::new(AtomicUsize::new(0));
                Ok((Sender { inner, sent }, receiver))
            }
        }
    }

    #[test]
    #[should_panic(expected = "oracle failed")]
    fn worker_pool_as_tasks_over_a_losing_channel_is_caught() {
        schedules("worker-pool", |p| async move {
            worker_pool::run_async_on::<loses::LosesAsync, Shuttle>(&p).await
        });
    }

    #[test]
    #[should_panic(expected = "oracle failed")]
    fn pub_sub_as_tasks_over_a_losing_channel_is_caught() {
        schedules("pub-sub", |p| async move {
            pubsub::run_async_on::<loses::LosesAsync, Shuttle>(&p).await
        });
    }

    #[test]
    #[should_panic(expected = "oracle failed")]
    fn supervisor_as_tasks_over_a_losing_channel_is_caught() {
        schedules_with("supervisor", two_poison_jobs(), |p| async move {
            supervisor::run_async_on::<loses::LosesAsync, Shuttle>(&p, manual_clock()).await
        });
    }
}
