//! The blocking family of the contract: channels used from OS threads.

use std::time::Duration;

use crate::{
    Capacity, FlavorInfo, RecvError, RecvTimeoutError, SelectError, SelectWait, Selected,
    SendError, TryRecvError, TrySendError, UnsupportedError,
};

/// A channel implementation used with blocking calls.
pub trait SyncFlavor: Sized + 'static {
    /// The sending half for messages of type `T`.
    type Sender<T: Send + 'static>: Sender<T>;
    /// The receiving half for messages of type `T`.
    type Receiver<T: Send + 'static>: Receiver<T>;

    /// Name and declared capabilities.
    const INFO: FlavorInfo;

    /// Creates a channel, or fails when the capacity is not declared in
    /// [`FlavorInfo::capabilities`]. It never panics on an unsupported
    /// capacity.
    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<SyncEnds<Self, T>, UnsupportedError>;

    /// Waits on all of `receivers` with the library's own select and receives
    /// from the first that is ready. Flavors that declare
    /// [`Capabilities::select`](crate::Capabilities) override it; the default
    /// reports [`SelectError::Unsupported`].
    fn select<T: Send + 'static>(
        receivers: &mut [Self::Receiver<T>],
        wait: SelectWait,
    ) -> Result<Selected<T>, SelectError> {
        let _ = (receivers, wait);
        Err(SelectError::Unsupported {
            flavor: Self::INFO.name,
        })
    }
}

/// The sending half of a blocking channel. Clones send into the same channel;
/// the channel disconnects for receivers when the last clone is dropped.
pub trait Sender<T>: Clone + Send + 'static {
    /// Sends `value`, waiting while a bounded channel is full (for a
    /// rendezvous channel: until a receiver takes it). Fails, handing the
    /// value back, when every receiver is gone.
    fn send(&self, value: T) -> Result<(), SendError<T>>;

    /// Sends `value` only if that needs no waiting.
    fn try_send(&self, value: T) -> Result<(), TrySendError<T>>;
}

/// The receiving half of a blocking channel.
pub trait Receiver<T>: Send + 'static {
    /// Waits for a message. Once every sender is gone, returns what is still
    /// buffered, then [`RecvError`].
    fn recv(&mut self) -> Result<T, RecvError>;

    /// Takes a message only if one is ready now.
    fn try_recv(&mut self) -> Result<T, TryRecvError>;

    /// Waits at most `timeout` for a message.
    fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError>;

    /// A second receiver on the same queue, where the flavor declares
    /// `multi_consumer`; `None` otherwise.
    fn try_clone(&self) -> Option<Self>
    where
        Self: Sized;
}

/// The two ends of a channel of blocking flavor `F` carrying `T`: what
/// [`SyncFlavor::channel`] returns.
pub type SyncEnds<F, T> = (<F as SyncFlavor>::Sender<T>, <F as SyncFlavor>::Receiver<T>);
