//! The locks and coordination primitives that the channel-free patterns
//! compare, with the library each comes from.

use std::fmt;

use serde::Serialize;

macro_rules! primitives {
    ($($variant:ident => $name:literal from $library:literal on $world:ident: $doc:literal,)+) => {
        /// What a pattern that is about a lock or a coordination primitive,
        /// rather than a channel, runs on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum Primitive {
            $(#[doc = $doc] $variant,)+
        }

        impl Primitive {
            /// Every primitive.
            pub const ALL: &'static [Primitive] = &[$(Primitive::$variant,)+];

            /// The primitive's name in filters and reports.
            pub fn name(self) -> &'static str {
                match self {
                    $(Primitive::$variant => $name,)+
                }
            }

            /// The crate it comes from, as results record its version
            /// (`chanlab` and `std` are versioned by the build's commit and
            /// rustc).
            pub fn library(self) -> &'static str {
                match self {
                    $(Primitive::$variant => $library,)+
                }
            }

            /// Whether it runs on threads or as tasks on a tokio runtime.
            pub fn world(self) -> World {
                match self {
                    $(Primitive::$variant => World::$world,)+
                }
            }
        }
    };
}

/// Where a primitive runs: the world a user picks it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// On threads, blocking.
    Threads,
    /// As tasks on a tokio runtime, awaiting.
    Tasks,
}

primitives! {
    Chanlab => "chanlab-coord" from "chanlab" on Threads:
        "chanlab's own primitive on the `chanlab-sync` facade (in `chanlab_scenarios::coord`).",
    ChanlabAsync => "chanlab-coord-async" from "chanlab" on Tasks:
        "chanlab's own primitive's async face, for tasks (in `chanlab_scenarios::coord`).",
    TokioSemaphore => "tokio-semaphore" from "tokio" on Tasks: "`tokio::sync::Semaphore`.",
    StdMutex => "std-mutex" from "std" on Threads: "`std::sync::Mutex`.",
    StdRwLock => "std-rwlock" from "std" on Threads: "`std::sync::RwLock`.",
    ParkingLotMutex => "parking_lot-mutex" from "parking_lot" on Threads: "`parking_lot::Mutex`.",
    ParkingLotRwLock => "parking_lot-rwlock" from "parking_lot" on Threads: "`parking_lot::RwLock`.",
    Atomics => "atomics" from "std" on Threads:
        "Atomics only: an atomic counter and a fixed map of atomic values.",
    ArcSwap => "arc-swap" from "arc-swap" on Threads:
        "`arc_swap::ArcSwap`: readers load a snapshot without a lock, a writer copies and swaps.",
    DashMap => "dashmap" from "dashmap" on Threads: "`dashmap::DashMap`: a map sharded under read-write locks.",
    TokioMutex => "tokio-mutex" from "tokio" on Tasks: "`tokio::sync::Mutex`.",
    TokioRwLock => "tokio-rwlock" from "tokio" on Tasks: "`tokio::sync::RwLock`.",
    Governor => "governor" from "governor" on Tasks:
        "`governor`'s direct rate limiter (GCRA), awaited with `until_ready`.",
    Deadpool => "deadpool" from "deadpool" on Tasks: "`deadpool::managed::Pool`.",
    AsyncSingleflight => "async_singleflight" from "async_singleflight" on Tasks:
        "`async_singleflight::Group`.",
    TokioBroadcast => "tokio-broadcast" from "tokio" on Tasks:
        "`tokio::sync::broadcast`, one channel per topic: a lagging receiver loses the oldest.",
    TokioWatch => "tokio-watch" from "tokio" on Tasks:
        "`tokio::sync::watch`, one channel per topic: subscribers see the latest value.",
    TokioUtilCancellationToken => "tokio-util-cancellation-token" from "tokio-util" on Tasks:
        "tokio-util's `CancellationToken`, over tokio's mpsc (as the `tokio-mpsc` row, with chanlab's token).",
    TokioJoinSet => "tokio-joinset" from "tokio" on Tasks:
        "`tokio::task::JoinSet` as an error group: the first error aborts the other tasks.",
}

impl fmt::Display for Primitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
