//! The patterns, as data: one row each in [`pattern_table!`], from which
//! [`Pattern`] and its facts are generated here and the entry points that
//! run each pattern are generated in `chanlab-scenarios`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{MAX_ITEMS, ParamError, Primitive};

/// The patterns' one table. Every fact about a pattern is a column of its
/// row: its name, its module under `chanlab_scenarios::patterns`, what it
/// does, its blocking and async entry points, the primitives it compares
/// (with their entry point), and the most items a run takes where that is
/// below the workload limit. Invokes `$callback!` with the rows, so the
/// data here and the dispatch in `chanlab-scenarios` come from one list: a
/// new pattern is one row (and its module), and a row naming an entry
/// point that does not exist fails to compile.
#[macro_export]
macro_rules! pattern_table {
    ($callback:ident) => {
        $callback! {
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
                most_items: 64, because " (each task is a thread)",
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
    };
}

/// `true` for a column the row fills, `false` for one it leaves out.
macro_rules! given {
    () => {
        false
    };
    ($($column:tt)+) => {
        true
    };
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

/// [`Pattern`] and its facts, from the table.
macro_rules! define_patterns {
    ($(
        $variant:ident => $name:literal in $module:ident: $summary:literal {
            $(sync: $sync_run:ident,)?
            $(async: $async_run:ident,)?
            $(primitives: [$($each:ident),+] => $each_run:ident,)?
            $(most_items: $most_items:expr, because $why:literal,)?
        }
    )+) => {
        /// A Go concurrency pattern. Each has a module in
        /// `chanlab_scenarios::patterns` that says when to use it.
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

            /// Whether the pattern runs on blocking channel flavors; the
            /// others run only on the primitives they compare.
            pub fn uses_channels(self) -> bool {
                match self {
                    $(Pattern::$variant => given!($($sync_run)?),)+
                }
            }

            /// Whether the pattern also runs as tasks on async flavors.
            pub fn has_async_version(self) -> bool {
                match self {
                    $(Pattern::$variant => given!($($async_run)?),)+
                }
            }

            /// The most items one run of the pattern takes, and why it has
            /// a limit below [`MAX_ITEMS`]. A run asking for more is
            /// refused, never capped.
            pub const fn most_items(self) -> (usize, &'static str) {
                match self {
                    $(Pattern::$variant => most_items!($($most_items, $why)?),)+
                }
            }

            /// The primitives the pattern compares; empty for a pattern
            /// that only runs on channels.
            pub fn primitives(self) -> &'static [Primitive] {
                match self {
                    $(Pattern::$variant => &[$($(Primitive::$each,)+)?],)+
                }
            }
        }
    };
}

pattern_table!(define_patterns);

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
    type Error = ParamError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

impl FromStr for Pattern {
    type Err = ParamError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Pattern::ALL
            .iter()
            .copied()
            .find(|pattern| pattern.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Pattern::ALL.iter().map(|p| p.name()).collect();
                ParamError::new(
                    "pattern",
                    format!("{name:?}"),
                    format!("one of {}", known.join(", ")),
                )
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
