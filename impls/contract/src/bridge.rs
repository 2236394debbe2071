//! Bridges: one channel with a blocking end and an async end, for libraries
//! that offer both APIs on the same channel. A thread can then feed tasks,
//! or tasks feed a thread, which is how sync code and async code meet.

use crate::{AsyncFlavor, Capacity, SyncFlavor, UnsupportedError};

/// A library's blocking flavor and async flavor over one channel.
pub trait Bridge: 'static {
    /// The blocking side.
    type Sync: SyncFlavor;
    /// The async side.
    type Async: AsyncFlavor;

    /// A channel whose sender blocks and whose receiver is async.
    #[allow(clippy::type_complexity)]
    fn sync_to_async<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<
        (
            <Self::Sync as SyncFlavor>::Sender<T>,
            <Self::Async as AsyncFlavor>::Receiver<T>,
        ),
        UnsupportedError,
    >;

    /// A channel whose sender is async and whose receiver blocks.
    #[allow(clippy::type_complexity)]
    fn async_to_sync<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<
        (
            <Self::Async as AsyncFlavor>::Sender<T>,
            <Self::Sync as SyncFlavor>::Receiver<T>,
        ),
        UnsupportedError,
    >;
}

/// Runs generic code over a list of bridges chosen at run time.
pub trait BridgeVisitor {
    /// Called once per bridge.
    fn visit<B: Bridge>(&mut self);
}
