//! The async family of the contract: channels used from futures.

use std::future::Future;

use crate::{
    Capacity, FlavorInfo, RecvError, SendError, TryRecvError, TrySendError, UnsupportedError,
};

/// A channel implementation used from async code. The futures it returns are
/// `Send`, so they run on multi-threaded runtimes.
pub trait AsyncFlavor: Sized + 'static {
    /// The sending half for messages of type `T`.
    type Sender<T: Send + 'static>: AsyncSender<T>;
    /// The receiving half for messages of type `T`.
    type Receiver<T: Send + 'static>: AsyncReceiver<T>;

    /// Name and declared capabilities.
    const INFO: FlavorInfo;

    /// Creates a channel, or fails when the capacity is not declared in
    /// [`FlavorInfo::capabilities`]. It never panics on an unsupported
    /// capacity.
    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<AsyncEnds<Self, T>, UnsupportedError>;
}

/// The sending half of an async channel. `Sync`, so tasks on a
/// multi-threaded runtime share one by reference.
pub trait AsyncSender<T>: Clone + Send + Sync + 'static {
    /// Sends `value`, waiting while a bounded channel is full. Fails, handing
    /// the value back, when every receiver is gone. Polled again with a new
    /// waker, the future wakes the latest one; dropped before it completes,
    /// it gives back any room it reserved and passes on a wake-up it was
    /// given, and its value is never received.
    fn send(&self, value: T) -> impl Future<Output = Result<(), SendError<T>>> + Send;

    /// Sends `value` only if that needs no waiting.
    fn try_send(&self, value: T) -> Result<(), TrySendError<T>>;
}

/// The receiving half of an async channel.
pub trait AsyncReceiver<T>: Send + 'static {
    /// Waits for a message. Once every sender is gone, returns what is still
    /// buffered, then [`RecvError`]. Polled again with a new waker, the
    /// future wakes the latest one; dropped before it completes, it takes
    /// no message where the flavor declares `cancel_safe_recv`.
    fn recv(&mut self) -> impl Future<Output = Result<T, RecvError>> + Send;

    /// Takes a message only if one is ready now.
    fn try_recv(&mut self) -> Result<T, TryRecvError>;

    /// A second receiver on the same queue, where the flavor declares
    /// `multi_consumer`; `None` otherwise.
    fn try_clone(&self) -> Option<Self>
    where
        Self: Sized;
}

/// The two ends of a channel of async flavor `F` carrying `T`: what
/// [`AsyncFlavor::channel`] returns.
pub type AsyncEnds<F, T> = (
    <F as AsyncFlavor>::Sender<T>,
    <F as AsyncFlavor>::Receiver<T>,
);
