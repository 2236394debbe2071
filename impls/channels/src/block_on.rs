//! Driving futures from blocking code, for the flavors whose blocking API
//! lacks an operation (a receive with a timeout) and for [`BlockOn`], the
//! blocking view of any async flavor.
//!
//! Each OS thread that needs it gets its own current-thread tokio runtime
//! with only the timer enabled. Never call these from inside an async task.

use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, FlavorInfo, RecvError, RecvTimeoutError,
    SendError, SyncFlavor, TryRecvError, TrySendError, UnsupportedError,
};

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        // Building a current-thread runtime with only a timer opens no files
        // or sockets; failure here means the process cannot work at all.
        .expect("failed to build the per-thread tokio runtime for blocking calls");
}

/// Runs `future` to completion on this thread.
pub fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// Runs `future` for at most `timeout`; `None` if it did not finish.
pub fn block_on_timeout<F: Future>(timeout: Duration, future: F) -> Option<F::Output> {
    block_on(async { tokio::time::timeout(timeout, future).await.ok() })
}

/// Waits at most `timeout` for a receive future: the blocking
/// `recv_timeout` of flavors whose blocking API lacks one. When the timer
/// fires, the library's receive future is dropped, so this relies on it
/// being cancel-safe (a value is never taken by a dropped receive).
pub fn recv_timeout<T>(
    timeout: Duration,
    receive: impl Future<Output = Result<T, RecvError>>,
) -> Result<T, RecvTimeoutError> {
    match block_on_timeout(timeout, receive) {
        Some(received) => Ok(received?),
        None => Err(RecvTimeoutError::Timeout),
    }
}

/// The blocking view of an async flavor: every operation runs the flavor's
/// own future to completion on the calling thread.
///
/// The conformance suite checks async flavors through this view, so the
/// futures under test are the library's real ones; `recv_timeout` (see
/// [`recv_timeout`]) also exercises the cancel-safety of the library's
/// receive future. Its `INFO` is the async flavor's own: this view is a
/// checking device, never a flavor that reports measure.
pub struct BlockOn<A>(PhantomData<A>);

/// Sender half of [`BlockOn`].
pub struct BlockOnSender<S>(S);

/// Receiver half of [`BlockOn`].
pub struct BlockOnReceiver<R>(R);

impl<A: AsyncFlavor> SyncFlavor for BlockOn<A> {
    type Sender<T: Send + 'static> = BlockOnSender<A::Sender<T>>;
    type Receiver<T: Send + 'static> = BlockOnReceiver<A::Receiver<T>>;

    const INFO: FlavorInfo = A::INFO;

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Self::Sender<T>, Self::Receiver<T>), UnsupportedError> {
        let (tx, rx) = A::channel(capacity)?;
        Ok((BlockOnSender(tx), BlockOnReceiver(rx)))
    }
}

impl<S: Clone> Clone for BlockOnSender<S> {
    fn clone(&self) -> Self {
        BlockOnSender(self.0.clone())
    }
}

impl<T, S: AsyncSender<T>> chanlab_contract::Sender<T> for BlockOnSender<S> {
    fn send(&self, value: T) -> Result<(), SendError<T>> {
        block_on(self.0.send(value))
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.0.try_send(value)
    }
}

impl<T, R: AsyncReceiver<T>> chanlab_contract::Receiver<T> for BlockOnReceiver<R> {
    fn recv(&mut self) -> Result<T, RecvError> {
        block_on(self.0.recv())
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.0.try_recv()
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        recv_timeout(timeout, self.0.recv())
    }

    fn try_clone(&self) -> Option<Self> {
        self.0.try_clone().map(BlockOnReceiver)
    }
}
