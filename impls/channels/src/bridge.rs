//! The bridges: for each library that offers a blocking and an async API on
//! one channel, the pair as a [`Bridge`]. [`crate::visit_bridges`] lists them.

use chanlab_contract::{AsyncFlavor, Bridge, Capacity, SyncFlavor, UnsupportedError};

use crate::{AsyncChannel, AsyncChannelBlocking, Flume, FlumeAsync, TokioMpsc, TokioMpscBlocking};

/// A bridge for a library whose two flavors share their sender and
/// receiver types: the blocking flavor's channel serves both ends.
macro_rules! shared_bridge {
    ($(#[$doc:meta])* $name:ident: $sync:ty, $async:ty) => {
        $(#[$doc])*
        pub struct $name;

        impl Bridge for $name {
            type Sync = $sync;
            type Async = $async;

            fn sync_to_async<T: Send + 'static>(
                capacity: Capacity,
            ) -> Result<
                (<$sync as SyncFlavor>::Sender<T>, <$async as AsyncFlavor>::Receiver<T>),
                UnsupportedError,
            > {
                <$sync as SyncFlavor>::channel(capacity)
            }

            fn async_to_sync<T: Send + 'static>(
                capacity: Capacity,
            ) -> Result<
                (<$async as AsyncFlavor>::Sender<T>, <$sync as SyncFlavor>::Receiver<T>),
                UnsupportedError,
            > {
                <$sync as SyncFlavor>::channel(capacity)
            }
        }
    };
}

shared_bridge!(
    /// flume: `send`/`recv` and `send_async`/`recv_async` on one channel.
    FlumeBridge: Flume, FlumeAsync
);
shared_bridge!(
    /// tokio's mpsc: `blocking_send`/`blocking_recv` beside `send`/`recv`.
    TokioBridge: TokioMpscBlocking, TokioMpsc
);
shared_bridge!(
    /// async-channel: `send_blocking`/`recv_blocking` beside the futures.
    AsyncChannelBridge: AsyncChannelBlocking, AsyncChannel
);
