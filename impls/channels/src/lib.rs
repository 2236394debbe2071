//! The implementations under test: one adapter per library, each in its own
//! file, putting that library behind the `chanlab-contract` traits, plus
//! chanlab's own [`reference`](mod@reference) and [`reference_async`] channels.
//!
//! Adapters are thin: they map the library's calls and errors one to one and
//! add no logic of their own, so what the conformance suite finds and what
//! the benchmarks measure is the library. Where an operation has to be built
//! from others (a `recv_timeout` the blocking API lacks, a shared receiver),
//! the flavor says so in [`FlavorInfo::note`](chanlab_contract::FlavorInfo).
//!
//! [`shipped_flavors!`] is the registry's one table: every flavor, and the
//! libraries whose blocking and async ends meet on one channel (bridges);
//! [`visit_all`] and [`visit_bridges`] walk it.

mod async_channel;
mod bridge;
mod crossbeam;
mod flume;
mod kanal;
pub mod reference;
pub mod reference_async;
mod std_mpsc;
mod timer;
mod tokio;

pub use async_channel::{AsyncChannel, AsyncChannelBlocking};
pub use bridge::{AsyncChannelBridge, FlumeBridge, TokioBridge};
pub use crossbeam::Crossbeam;
pub use flume::{Flume, FlumeAsync};
pub use kanal::{Kanal, KanalAsync, KanalBridge};
pub use reference::Reference;
pub use reference_async::AsyncReference;
pub use std_mpsc::{StdMpsc, StdMpscShared};
pub use tokio::{TokioMpsc, TokioMpscBlocking};

use chanlab_contract::{BridgeVisitor, FlavorVisitor};

/// The registry's one table: every flavor chanlab ships (the reference
/// channels first), each with the name its tests take and how a visitor
/// visits it, then every bridge. Invokes `$callback!` with the table:
///
/// ```text
/// flavors: [visit_sync reference: $crate::Reference, visit_async ..., ...],
/// bridges: [flume: $crate::FlumeBridge, ...],
/// ```
///
/// [`visit_all`] and [`visit_bridges`] are generated from it, and so is
/// every test that runs "every flavor" (the conformance file, the pattern
/// matrix), each through a macro of its own, so a new flavor is one row
/// here.
#[macro_export]
macro_rules! shipped_flavors {
    ($callback:ident) => {
        $callback! {
            flavors: [
                visit_sync reference: $crate::Reference,
                visit_async reference_async: $crate::AsyncReference,
                visit_sync std_mpsc: $crate::StdMpsc,
                visit_sync std_mpsc_shared: $crate::StdMpscShared,
                visit_sync crossbeam: $crate::Crossbeam,
                visit_sync flume: $crate::Flume,
                visit_async flume_async: $crate::FlumeAsync,
                visit_async tokio_mpsc: $crate::TokioMpsc,
                visit_sync tokio_mpsc_blocking: $crate::TokioMpscBlocking,
                visit_sync kanal: $crate::Kanal,
                visit_async kanal_async: $crate::KanalAsync,
                visit_async async_channel: $crate::AsyncChannel,
                visit_sync async_channel_blocking: $crate::AsyncChannelBlocking,
            ],
            bridges: [
                flume: $crate::FlumeBridge,
                tokio: $crate::TokioBridge,
                kanal: $crate::KanalBridge,
                async_channel: $crate::AsyncChannelBridge,
            ],
        }
    };
}

/// A flavor's library, by how the registry visits it.
macro_rules! flavor_library {
    (visit_sync $flavor:ty) => {
        <$flavor as chanlab_contract::SyncFlavor>::INFO.library
    };
    (visit_async $flavor:ty) => {
        <$flavor as chanlab_contract::AsyncFlavor>::INFO.library
    };
}

/// [`visit_all`], [`libraries`] and [`visit_bridges`], from
/// [`shipped_flavors!`].
macro_rules! visits {
    (
        flavors: [$($visit:ident $name:ident: $flavor:ty,)+],
        bridges: [$($bridge_name:ident: $bridge:ty,)+],
    ) => {
        /// Calls `visitor` once for every flavor chanlab ships, the reference
        /// channels first.
        pub fn visit_all(visitor: &mut impl FlavorVisitor) {
            $(visitor.$visit::<$flavor>();)+
        }

        /// The library of every flavor chanlab ships, in table order, each
        /// once.
        pub fn libraries() -> Vec<&'static str> {
            let mut libraries: Vec<&'static str> = Vec::new();
            for library in [$(flavor_library!($visit $flavor)),+] {
                if !libraries.contains(&library) {
                    libraries.push(library);
                }
            }
            libraries
        }

        /// Calls `visitor` once for every library that offers a blocking and
        /// an async API on one channel.
        pub fn visit_bridges(visitor: &mut impl BridgeVisitor) {
            $(visitor.visit::<$bridge>();)+
        }
    };
}

shipped_flavors!(visits);
