//! The implementations under test: one adapter per library, each in its own
//! file, putting that library behind the `chanlab-contract` traits, plus
//! chanlab's own [`reference`] and [`reference_async`] channels.
//!
//! Adapters are thin: they map the library's calls and errors one to one and
//! add no logic of their own, so what the conformance suite finds and what
//! the benchmarks measure is the library. Where an operation has to be built
//! from others (a `recv_timeout` the blocking API lacks, a shared receiver),
//! the flavor says so in [`FlavorInfo::note`](chanlab_contract::FlavorInfo).
//!
//! [`visit_all`] is the registry: the one place that lists every flavor;
//! [`visit_bridges`] lists the libraries whose blocking and async ends meet
//! on one channel.

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
pub use bridge::{AsyncChannelBridge, FlumeBridge, TokioBridge, visit_bridges};
pub use crossbeam::Crossbeam;
pub use flume::{Flume, FlumeAsync};
pub use kanal::{Kanal, KanalAsync, KanalBridge};
pub use reference::Reference;
pub use reference_async::AsyncReference;
pub use std_mpsc::{StdMpsc, StdMpscShared};
pub use tokio::{TokioMpsc, TokioMpscBlocking};

use chanlab_contract::{AsyncFlavor, FlavorInfo, FlavorVisitor, SyncFlavor};

/// Calls `visitor` once for every flavor chanlab ships, the reference
/// channels first.
pub fn visit_all(visitor: &mut impl FlavorVisitor) {
    visitor.visit_sync::<Reference>();
    visitor.visit_async::<AsyncReference>();
    visitor.visit_sync::<StdMpsc>();
    visitor.visit_sync::<StdMpscShared>();
    visitor.visit_sync::<Crossbeam>();
    visitor.visit_sync::<Flume>();
    visitor.visit_async::<FlumeAsync>();
    visitor.visit_async::<TokioMpsc>();
    visitor.visit_sync::<TokioMpscBlocking>();
    visitor.visit_sync::<Kanal>();
    visitor.visit_async::<KanalAsync>();
    visitor.visit_async::<AsyncChannel>();
    visitor.visit_sync::<AsyncChannelBlocking>();
}

/// The [`FlavorInfo`] of every flavor, in [`visit_all`] order.
pub fn all_infos() -> Vec<FlavorInfo> {
    struct Collect(Vec<FlavorInfo>);
    impl FlavorVisitor for Collect {
        fn visit_sync<F: SyncFlavor>(&mut self) {
            self.0.push(F::INFO);
        }
        fn visit_async<F: AsyncFlavor>(&mut self) {
            self.0.push(F::INFO);
        }
    }
    let mut collect = Collect(Vec::new());
    visit_all(&mut collect);
    collect.0
}
