//! The list of patterns and the three ways to run one.

use std::fmt;
use std::future::Future;
use std::str::FromStr;

use chanlab_contract::{AsyncFlavor, SyncFlavor};
use serde::{Deserialize, Serialize};

use crate::patterns::{
    cancellation, errgroup, event_loop, fan_out_in, map_reduce, pipeline, producer_consumer,
    pubsub, rate_limit, resource_pool, select, semaphore, shared_state, singleflight, supervisor,
    worker_pool,
};
use crate::{Outcome, Params, ScenarioError};

macro_rules! patterns {
    ($($variant:ident => $name:literal: $summary:literal,)+) => {
        /// A Go concurrency pattern. Each has a module in
        /// [`patterns`](crate::patterns) that says when to use it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(into = "&'static str", try_from = "String")]
        pub enum Pattern {
            $(#[doc = $summary] $variant,)+
        }

        impl Pattern {
            /// Every pattern, in the order of the Go patterns catalogue.
            pub const ALL: &'static [Pattern] = &[$(Pattern::$variant,)+];

            /// The pattern's name in filters and reports.
            pub fn name(self) -> &'static str {
                match self {
                    $(Pattern::$variant => $name,)+
                }
            }

            /// One line on what the pattern does.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Pattern::$variant => $summary,)+
                }
            }
        }
    };
}

patterns! {
    WorkerPool => "worker-pool": "Fixed workers pull jobs from one shared queue.",
    FanOutFanIn => "fan-out-fan-in": "One source feeds workers with their own outputs, merged into one stream.",
    Pipeline => "pipeline": "Stages on their own threads (map, filter, batch) joined by channels, with backpressure.",
    ProducerConsumer => "producer-consumer": "Producers and consumers share one bounded buffer.",
    PubSub => "pub-sub": "Topics deliver each message to every subscriber, with a slow-subscriber policy.",
    Select => "select": "Wait on several channels with a timeout or a default branch.",
    Cancellation => "cancellation": "A cancellation tree with a deadline stops every worker.",
    ErrGroup => "errgroup": "Tasks under one token: the first error cancels the rest and is returned.",
    Semaphore => "semaphore": "At most N at once: channel tokens, Mutex + Condvar, tokio's Semaphore.",
    RateLimit => "rate-limit": "A fixed-interval ticker and a token bucket with a burst.",
    MapReduce => "map-reduce": "Word count: split, map in parallel, shuffle by key, reduce.",
    Singleflight => "singleflight": "Concurrent callers for one key share one execution.",
    EventLoop => "event-loop": "One thread owns the state and serves events from several sources.",
    ResourcePool => "resource-pool": "A bounded pool of reusable connections, broken ones replaced.",
    Supervisor => "supervisor": "Restart a failing worker with backoff and a restart budget.",
    SharedState => "shared-state": "A counter and a read-mostly map under each kind of lock.",
}

impl Pattern {
    /// Whether the pattern runs on channels ([`run_sync`]); the others run
    /// only on the primitives they compare ([`run_primitive`]).
    pub fn uses_channels(self) -> bool {
        !matches!(
            self,
            Pattern::ErrGroup
                | Pattern::Singleflight
                | Pattern::ResourcePool
                | Pattern::SharedState
        )
    }

    /// Whether the pattern also runs as tasks on async flavors
    /// ([`run_async`]).
    pub fn has_async_version(self) -> bool {
        matches!(
            self,
            Pattern::WorkerPool
                | Pattern::FanOutFanIn
                | Pattern::Pipeline
                | Pattern::ProducerConsumer
                | Pattern::Select
                | Pattern::Cancellation
                | Pattern::Semaphore
                | Pattern::MapReduce
                | Pattern::EventLoop
        )
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<Pattern> for &'static str {
    fn from(pattern: Pattern) -> Self {
        pattern.name()
    }
}

impl TryFrom<String> for Pattern {
    type Error = ScenarioError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

impl FromStr for Pattern {
    type Err = ScenarioError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Pattern::ALL
            .iter()
            .copied()
            .find(|pattern| pattern.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Pattern::ALL.iter().map(|p| p.name()).collect();
                ScenarioError::InvalidParams(format!(
                    "no pattern named {name:?}; the patterns are {}",
                    known.join(", ")
                ))
            })
    }
}

/// What a pattern that is about a lock or a coordination primitive, rather
/// than a channel, runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Primitive {
    /// chanlab's own primitive on the `chanlab-sync` facade (in
    /// [`coord`](crate::coord)).
    Chanlab,
    /// `tokio::sync::Semaphore`, on a multi-thread runtime.
    TokioSemaphore,
    /// `std::sync::Mutex`.
    StdMutex,
    /// `std::sync::RwLock`.
    StdRwLock,
    /// `parking_lot::Mutex`.
    ParkingLotMutex,
    /// `parking_lot::RwLock`.
    ParkingLotRwLock,
    /// Atomics only: an atomic counter and a fixed map of atomic values.
    Atomics,
    /// `tokio::sync::Mutex`, on a multi-thread runtime.
    TokioMutex,
    /// `tokio::sync::RwLock`, on a multi-thread runtime.
    TokioRwLock,
}

impl Primitive {
    /// Every primitive.
    pub const ALL: [Primitive; 9] = [
        Primitive::Chanlab,
        Primitive::TokioSemaphore,
        Primitive::StdMutex,
        Primitive::StdRwLock,
        Primitive::ParkingLotMutex,
        Primitive::ParkingLotRwLock,
        Primitive::Atomics,
        Primitive::TokioMutex,
        Primitive::TokioRwLock,
    ];

    /// The primitive's name in filters and reports.
    pub fn name(self) -> &'static str {
        match self {
            Primitive::Chanlab => "chanlab-coord",
            Primitive::TokioSemaphore => "tokio-semaphore",
            Primitive::StdMutex => "std-mutex",
            Primitive::StdRwLock => "std-rwlock",
            Primitive::ParkingLotMutex => "parking_lot-mutex",
            Primitive::ParkingLotRwLock => "parking_lot-rwlock",
            Primitive::Atomics => "atomics",
            Primitive::TokioMutex => "tokio-mutex",
            Primitive::TokioRwLock => "tokio-rwlock",
        }
    }

    /// The primitives `pattern` compares; empty for a pattern that only
    /// runs on channels.
    pub fn for_pattern(pattern: Pattern) -> &'static [Primitive] {
        match pattern {
            Pattern::ErrGroup
            | Pattern::Singleflight
            | Pattern::ResourcePool
            | Pattern::RateLimit => &[Primitive::Chanlab],
            Pattern::Semaphore => &[Primitive::Chanlab, Primitive::TokioSemaphore],
            Pattern::SharedState => &[
                Primitive::StdMutex,
                Primitive::StdRwLock,
                Primitive::ParkingLotMutex,
                Primitive::ParkingLotRwLock,
                Primitive::Atomics,
                Primitive::TokioMutex,
                Primitive::TokioRwLock,
            ],
            _ => &[],
        }
    }
}

impl fmt::Display for Primitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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
            ScenarioError::NotApplicable(format!("cannot build a {} runtime: {err}", self.name()))
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

/// Runs `pattern` on blocking flavor `F`, on threads.
pub fn run_sync<F: SyncFlavor>(
    pattern: Pattern,
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    params.validate(pattern)?;
    match pattern {
        Pattern::WorkerPool => worker_pool::run::<F>(params),
        Pattern::FanOutFanIn => fan_out_in::run::<F>(params),
        Pattern::Pipeline => pipeline::run::<F>(params),
        Pattern::ProducerConsumer => producer_consumer::run::<F>(params),
        Pattern::PubSub => pubsub::run::<F>(params),
        Pattern::Select => select::run::<F>(params),
        Pattern::Cancellation => cancellation::run::<F>(params),
        Pattern::Semaphore => semaphore::run_channel::<F>(params),
        Pattern::RateLimit => rate_limit::run_ticker::<F>(params),
        Pattern::MapReduce => map_reduce::run::<F>(params),
        Pattern::EventLoop => event_loop::run::<F>(params),
        Pattern::Supervisor => supervisor::run::<F>(params),
        Pattern::ErrGroup
        | Pattern::Singleflight
        | Pattern::ResourcePool
        | Pattern::SharedState => Err(ScenarioError::NotApplicable(format!(
            "{pattern} uses no channel; it runs on the primitives it compares"
        ))),
    }
}

/// Runs `pattern` on async flavor `F`, as tasks on a fresh tokio `runtime`.
pub fn run_async<F: AsyncFlavor>(
    pattern: Pattern,
    params: &Params,
    runtime: Runtime,
) -> Result<Outcome, ScenarioError> {
    params.validate(pattern)?;
    if !pattern.has_async_version() {
        return Err(ScenarioError::NotApplicable(format!(
            "{pattern} has no async version; it runs on blocking flavors{}",
            if pattern.uses_channels() {
                ""
            } else {
                " or its primitives"
            }
        )));
    }
    match pattern {
        Pattern::WorkerPool => runtime.block_on(worker_pool::run_async::<F>(params)),
        Pattern::FanOutFanIn => runtime.block_on(fan_out_in::run_async::<F>(params)),
        Pattern::Pipeline => runtime.block_on(pipeline::run_async::<F>(params)),
        Pattern::ProducerConsumer => runtime.block_on(producer_consumer::run_async::<F>(params)),
        Pattern::Select => runtime.block_on(select::run_async::<F>(params)),
        Pattern::Cancellation => runtime.block_on(cancellation::run_async::<F>(params)),
        Pattern::Semaphore => runtime.block_on(semaphore::run_channel_async::<F>(params)),
        Pattern::MapReduce => runtime.block_on(map_reduce::run_async::<F>(params)),
        Pattern::EventLoop => runtime.block_on(event_loop::run_async::<F>(params)),
        other => Err(ScenarioError::NotApplicable(format!(
            "{other} has no async version"
        ))),
    }
}

/// Runs `pattern` on `primitive`, one of [`Primitive::for_pattern`].
pub fn run_primitive(
    pattern: Pattern,
    primitive: Primitive,
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    params.validate(pattern)?;
    if !Primitive::for_pattern(pattern).contains(&primitive) {
        return Err(ScenarioError::NotApplicable(format!(
            "{pattern} does not run on {primitive}"
        )));
    }
    match pattern {
        Pattern::ErrGroup => errgroup::run(params),
        Pattern::Singleflight => singleflight::run(params),
        Pattern::ResourcePool => resource_pool::run(params),
        Pattern::RateLimit => rate_limit::run_token_bucket(params),
        Pattern::Semaphore => semaphore::run_primitive(primitive, params),
        Pattern::SharedState => shared_state::run(primitive, params),
        _ => Err(ScenarioError::NotApplicable(format!(
            "{pattern} runs on channels, not on {primitive}"
        ))),
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
