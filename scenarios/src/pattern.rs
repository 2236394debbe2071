//! The registry of patterns, and the three ways to run one.
//!
//! Every fact about a pattern is a column of the one `patterns!` table: its
//! name, what it does, its blocking entry point, its async entry point, the
//! primitives it compares, and the most items a run takes where that is
//! below the workload limit. [`run_sync`], [`run_async`] and
//! [`run_primitive`] are generated from the table as exhaustive matches, so
//! a new pattern is one row, and a row naming an entry point that does not
//! exist fails to compile.

use std::fmt;
use std::str::FromStr;

use chanlab_contract::{AsyncFlavor, SyncFlavor};
use serde::{Deserialize, Serialize};

use crate::params::MAX_ITEMS;
use crate::patterns::{
    cancellation, errgroup, event_loop, fan_out_in, map_reduce, pipeline, producer_consumer,
    pubsub, rate_limit, resource_pool, select, semaphore, shared_state, singleflight, supervisor,
    worker_pool,
};
use crate::{Outcome, ParamError, Params, Primitive, Refusal, Runtime, ScenarioError};

/// `true` for a column the row fills, `false` for one it leaves out.
macro_rules! given {
    () => {
        false
    };
    ($($column:tt)+) => {
        true
    };
}

/// A call to a row's entry point, or the refusal for a row without one.
macro_rules! entry {
    (sync $pattern:ident, $params:ident, ) => {
        Err(ScenarioError::NotApplicable(Refusal::UsesNoChannel {
            pattern: Pattern::$pattern,
        }))
    };
    (sync $pattern:ident, $params:ident, $module:ident $run:ident) => {{
        $params.validate(Pattern::$pattern)?;
        $module::$run::<F>($params)
    }};
    (async $pattern:ident, $params:ident, $runtime:ident, ) => {
        Err(ScenarioError::NotApplicable(Refusal::NoAsyncVersion {
            pattern: Pattern::$pattern,
        }))
    };
    (async $pattern:ident, $params:ident, $runtime:ident, $module:ident $run:ident) => {{
        $params.validate(Pattern::$pattern)?;
        $runtime.block_on($module::$run::<F>($params))
    }};
    (primitive $pattern:ident, $params:ident, $primitive:ident, $runtime:ident, ) => {
        Err(ScenarioError::NotApplicable(Refusal::NotOnPrimitive {
            pattern: Pattern::$pattern,
            primitive: $primitive,
        }))
    };
    (primitive $pattern:ident, $params:ident, $primitive:ident, $runtime:ident, $module:ident $run:ident) => {{
        $params.validate(Pattern::$pattern)?;
        $module::$run($primitive, $params, $runtime)
    }};
}

/// A row's item limit, or the workload limit for a row without one.
macro_rules! most_items {
    () => {
        (MAX_ITEMS, "")
    };
    ($most_items:expr, $why:literal) => {
        ($most_items, $why)
    };
}

macro_rules! patterns {
    ($(
        $variant:ident => $name:literal in $module:ident: $summary:literal {
            $(sync: $sync_run:ident,)?
            $(async: $async_run:ident,)?
            $(primitives: [$($each:ident),+] => $each_run:ident,)?
            $(most_items: $most_items:expr, because $why:literal,)?
        }
    )+) => {
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

            /// Its module under `scenarios/src/patterns/`, which holds its
            /// entry points and its oracle.
            pub fn module(self) -> &'static str {
                match self {
                    $(Pattern::$variant => stringify!($module),)+
                }
            }

            /// One line on what the pattern does.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Pattern::$variant => $summary,)+
                }
            }

            /// Whether the pattern runs on blocking channel flavors
            /// ([`run_sync`]); the others run only on the primitives they
            /// compare ([`run_primitive`]).
            pub fn uses_channels(self) -> bool {
                match self {
                    $(Pattern::$variant => given!($($sync_run)?),)+
                }
            }

            /// Whether the pattern also runs as tasks on async flavors
            /// ([`run_async`]).
            pub fn has_async_version(self) -> bool {
                match self {
                    $(Pattern::$variant => given!($($async_run)?),)+
                }
            }

            /// The most items one run of the pattern takes, and why it has
            /// a limit below [`MAX_ITEMS`]. A run asking for more is
            /// refused, never capped.
            pub fn most_items(self) -> (usize, &'static str) {
                match self {
                    $(Pattern::$variant => most_items!($($most_items, $why)?),)+
                }
            }

            /// The primitives the pattern compares ([`run_primitive`]);
            /// empty for a pattern that only runs on channels.
            pub fn primitives(self) -> &'static [Primitive] {
                match self {
                    $(Pattern::$variant => &[$($(Primitive::$each,)+)?],)+
                }
            }
        }

        /// Runs `pattern` on blocking flavor `F`, on threads. A pattern
        /// that does not run there is refused before its parameters are
        /// checked.
        pub fn run_sync<F: SyncFlavor>(
            pattern: Pattern,
            params: &Params,
        ) -> Result<Outcome, ScenarioError> {
            match pattern {
                $(Pattern::$variant => entry!(sync $variant, params, $($module $sync_run)?),)+
            }
        }

        /// Runs `pattern` on async flavor `F`, as tasks on a fresh tokio
        /// `runtime`.
        pub fn run_async<F: AsyncFlavor>(
            pattern: Pattern,
            params: &Params,
            runtime: Runtime,
        ) -> Result<Outcome, ScenarioError> {
            match pattern {
                $(Pattern::$variant => entry!(async $variant, params, runtime, $($module $async_run)?),)+
            }
        }

        /// Runs `pattern` on `primitive`, one of [`Pattern::primitives`]:
        /// on threads, or as tasks on a fresh tokio `runtime` for a
        /// primitive of [`World::Tasks`](crate::World::Tasks) (a primitive on threads ignores
        /// `runtime`).
        pub fn run_primitive(
            pattern: Pattern,
            primitive: Primitive,
            params: &Params,
            runtime: Runtime,
        ) -> Result<Outcome, ScenarioError> {
            if !pattern.primitives().contains(&primitive) {
                return Err(Refusal::not_on(pattern, primitive));
            }
            match pattern {
                $(Pattern::$variant => entry!(
                    primitive $variant, params, primitive, runtime,
                    $($module $each_run)?
                ),)+
            }
        }
    };
}

patterns! {
    WorkerPool => "worker-pool" in worker_pool: "Fixed workers pull jobs from one shared queue." {
        sync: run,
        async: run_async,
    }
    FanOutFanIn => "fan-out-fan-in" in fan_out_in: "One source feeds workers with their own outputs, merged into one stream." {
        sync: run,
        async: run_async,
    }
    Pipeline => "pipeline" in pipeline: "Stages on their own threads (map, filter, batch) joined by channels, with backpressure." {
        sync: run,
        async: run_async,
    }
    ProducerConsumer => "producer-consumer" in producer_consumer: "Producers and consumers share one bounded buffer." {
        sync: run,
        async: run_async,
    }
    PubSub => "pub-sub" in pubsub: "Topics deliver each message to every subscriber, with a slow-subscriber policy." {
        sync: run,
        async: run_async,
        primitives: [TokioBroadcast, TokioWatch] => run_primitive,
    }
    Select => "select" in select: "Wait on several channels with a timeout or a default branch." {
        sync: run,
        async: run_async,
    }
    Cancellation => "cancellation" in cancellation: "A cancellation tree with a deadline stops every worker." {
        sync: run,
        async: run_async,
        primitives: [TokioUtilCancellationToken] => run_primitive,
    }
    ErrGroup => "errgroup" in errgroup: "Tasks under one token: the first error cancels the rest and is returned." {
        primitives: [Chanlab, ChanlabAsync, TokioJoinSet] => run,
        most_items: errgroup::MAX_TASKS, because " (each task is a thread)",
    }
    Semaphore => "semaphore" in semaphore: "At most N at once: channel tokens, chanlab's Mutex + Condvar, tokio's Semaphore." {
        sync: run_channel,
        async: run_channel_async,
        primitives: [Chanlab, ChanlabAsync, TokioSemaphore] => run_primitive,
    }
    RateLimit => "rate-limit" in rate_limit: "A fixed-interval ticker and a token bucket with a burst." {
        sync: run_ticker,
        async: run_ticker_async,
        primitives: [Chanlab, ChanlabAsync, Governor] => run_token_bucket,
    }
    MapReduce => "map-reduce" in map_reduce: "Word count: split, map in parallel, shuffle by key, reduce." {
        sync: run,
        async: run_async,
    }
    Singleflight => "singleflight" in singleflight: "Concurrent callers for one key share one execution." {
        primitives: [Chanlab, ChanlabAsync, AsyncSingleflight] => run,
    }
    EventLoop => "event-loop" in event_loop: "One thread owns the state and serves events from several sources." {
        sync: run,
        async: run_async,
    }
    ResourcePool => "resource-pool" in resource_pool: "A bounded pool of reusable connections, broken ones replaced." {
        primitives: [Chanlab, ChanlabAsync, Deadpool] => run,
    }
    Supervisor => "supervisor" in supervisor: "Restart a failing worker with backoff and a restart budget." {
        sync: run,
        async: run_async,
    }
    SharedState => "shared-state" in shared_state: "A counter and a read-mostly map under each kind of lock." {
        primitives: [StdMutex, StdRwLock, ParkingLotMutex, ParkingLotRwLock, Atomics, ArcSwap, DashMap, TokioMutex, TokioRwLock]
            => run,
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
                ScenarioError::InvalidParams(ParamError::new(
                    "pattern",
                    format!("{name:?}"),
                    format!("one of {}", known.join(", ")),
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_runs_on_something() {
        for &pattern in Pattern::ALL {
            assert!(
                pattern.uses_channels() || !pattern.primitives().is_empty(),
                "{pattern} runs on neither a channel nor a primitive"
            );
            assert!(
                !pattern.has_async_version() || pattern.uses_channels(),
                "{pattern} has an async version but no blocking one"
            );
        }
    }
}
