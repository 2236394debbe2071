//! The locks and coordination primitives that the channel-free patterns
//! compare, with the library each comes from.

use std::fmt;

use serde::Serialize;

macro_rules! primitives {
    ($($variant:ident => $name:literal from $library:literal: $doc:literal,)+) => {
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
        }
    };
}

primitives! {
    Chanlab => "chanlab-coord" from "chanlab":
        "chanlab's own primitive on the `chanlab-sync` facade (in [`coord`](crate::coord)).",
    TokioSemaphore => "tokio-semaphore" from "tokio":
        "`tokio::sync::Semaphore`, on a multi-thread runtime.",
    StdMutex => "std-mutex" from "std": "`std::sync::Mutex`.",
    StdRwLock => "std-rwlock" from "std": "`std::sync::RwLock`.",
    ParkingLotMutex => "parking_lot-mutex" from "parking_lot": "`parking_lot::Mutex`.",
    ParkingLotRwLock => "parking_lot-rwlock" from "parking_lot": "`parking_lot::RwLock`.",
    Atomics => "atomics" from "std":
        "Atomics only: an atomic counter and a fixed map of atomic values.",
    TokioMutex => "tokio-mutex" from "tokio": "`tokio::sync::Mutex`, on a multi-thread runtime.",
    TokioRwLock => "tokio-rwlock" from "tokio":
        "`tokio::sync::RwLock`, on a multi-thread runtime.",
}

impl fmt::Display for Primitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
