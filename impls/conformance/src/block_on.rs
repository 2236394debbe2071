//! [`BlockOn`], the blocking view of any async flavor, so the blocking
//! checks run on the library's own futures. It needs only the contract and
//! tokio, so a library author checks an async channel without pulling in
//! the libraries chanlab ships.
//!
//! Each OS thread that uses it gets its own current-thread tokio runtime
//! with only the timer enabled. Never call it from inside an async task.

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

/// Runs `future` to completion on this thread. Boxed, so the runtime's
/// polling loop is compiled once per output type, not once per operation
/// and flavor.
fn block_on<F: Future>(future: F) -> F::Output {
    let future: std::pin::Pin<Box<dyn Future<Output = F::Output> + '_>> = Box::pin(future);
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// The blocking view of an async flavor: every operation runs the flavor's
/// own future to completion on the calling thread, and `recv_timeout` races
/// the receive future against a tokio timer (so it also exercises the
/// receive future's cancel-safety). Its `INFO` is the async flavor's own:
/// this view is a checking device, never a flavor that reports measure.
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

impl<S> BlockOnSender<S> {
    /// The blocking view of an async sender: one end of a bridge built
    /// from an async flavor alone.
    pub fn new(sender: S) -> Self {
        BlockOnSender(sender)
    }
}

impl<R> BlockOnReceiver<R> {
    /// The blocking view of an async receiver.
    pub fn new(receiver: R) -> Self {
        BlockOnReceiver(receiver)
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
        block_on(async {
            match tokio::time::timeout(timeout, self.0.recv()).await {
                Ok(received) => Ok(received?),
                Err(_) => Err(RecvTimeoutError::Timeout),
            }
        })
    }

    fn try_clone(&self) -> Option<Self> {
        self.0.try_clone().map(BlockOnReceiver)
    }
}
