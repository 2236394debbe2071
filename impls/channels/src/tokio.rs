//! `tokio::sync::mpsc`: bounded (capacity at least 1) and unbounded,
//! single consumer. [`TokioMpsc`] is its async API; [`TokioMpscBlocking`]
//! is `blocking_send`/`blocking_recv`, the bridge tokio offers to threads.

use std::future::Future;
use std::time::Duration;

use chanlab_contract::{
    Api, AsyncFlavor, Capabilities, Capacity, FlavorInfo, KnownFailure, RecvError,
    RecvTimeoutError, Rule, SendError, SyncFlavor, TryRecvError, TrySendError, UnsupportedError,
};
use tokio::sync::mpsc;

use crate::timer::recv_timeout;

/// tokio's mpsc channel from async code.
pub struct TokioMpsc;

/// tokio's mpsc channel through `blocking_send`/`blocking_recv`.
pub struct TokioMpscBlocking;

impl AsyncFlavor for TokioMpsc {
    type Sender<T: Send + 'static> = Sender<T>;
    type Receiver<T: Send + 'static> = Receiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "tokio-mpsc",
        library: "tokio",
        api: Api::Async,
        capabilities: Capabilities {
            multi_consumer: false,
            rendezvous: false,
            unbounded: true,
            select: true,
            cancel_safe_recv: true,
        },
        note: None,
        known_failures: &OVERTAKEN_WHILE_HOLDING_CAPACITY,
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<T>, Receiver<T>), UnsupportedError> {
        Self::INFO.check(capacity)?;
        Ok(new_channel(capacity))
    }
}

/// Where tokio's bounded mpsc breaks the spec, as chanlab's conformance
/// suite finds it, for both APIs: a send takes capacity (a semaphore
/// permit) before it claims its place in the queue, so a sender preempted
/// between the two is overtaken by a later sender while its capacity
/// already counts, and `try_send`/`try_recv` histories are not
/// linearizable (R11). It shows only when a thread is preempted at that
/// moment: in 1 of 10 runs of the whole suite with both cores busy.
const OVERTAKEN_WHILE_HOLDING_CAPACITY: [KnownFailure; 1] = [KnownFailure {
    check: "histories_are_linearizable",
    rule: Rule::Linearizable,
    case: "no sequential order",
    why: "tokio 1.54.1: a try_send holds capacity before it takes its place in the queue, so a later send overtakes it while the channel reports Full",
    intermittent: true,
}];

impl SyncFlavor for TokioMpscBlocking {
    type Sender<T: Send + 'static> = Sender<T>;
    type Receiver<T: Send + 'static> = Receiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "tokio-mpsc-blocking",
        library: "tokio",
        api: Api::Sync,
        capabilities: Capabilities {
            select: false,
            cancel_safe_recv: false,
            ..TokioMpsc::INFO.capabilities
        },
        note: Some("recv_timeout runs recv() under a tokio timer on a per-thread runtime"),
        known_failures: &OVERTAKEN_WHILE_HOLDING_CAPACITY,
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<T>, Receiver<T>), UnsupportedError> {
        Self::INFO.check(capacity)?;
        Ok(new_channel(capacity))
    }
}

/// Callers check the capacity first: `mpsc::channel(0)` panics.
fn new_channel<T>(capacity: Capacity) -> (Sender<T>, Receiver<T>) {
    match capacity {
        Capacity::Bounded(n) => {
            let (tx, rx) = mpsc::channel(n);
            (Sender::Bounded(tx), Receiver::Bounded(rx))
        }
        Capacity::Unbounded => {
            let (tx, rx) = mpsc::unbounded_channel();
            (Sender::Unbounded(tx), Receiver::Unbounded(rx))
        }
    }
}

/// Either of tokio's sender types.
pub enum Sender<T> {
    /// From `mpsc::channel(n)`.
    Bounded(mpsc::Sender<T>),
    /// From `mpsc::unbounded_channel()`.
    Unbounded(mpsc::UnboundedSender<T>),
}

/// Either of tokio's receiver types.
pub enum Receiver<T> {
    /// From `mpsc::channel(n)`.
    Bounded(mpsc::Receiver<T>),
    /// From `mpsc::unbounded_channel()`.
    Unbounded(mpsc::UnboundedReceiver<T>),
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        match self {
            Sender::Bounded(tx) => Sender::Bounded(tx.clone()),
            Sender::Unbounded(tx) => Sender::Unbounded(tx.clone()),
        }
    }
}

impl<T> Sender<T> {
    fn nonblocking_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self {
            Sender::Bounded(tx) => tx.try_send(value).map_err(|err| match err {
                mpsc::error::TrySendError::Full(value) => TrySendError::Full(value),
                mpsc::error::TrySendError::Closed(value) => TrySendError::Disconnected(value),
            }),
            Sender::Unbounded(tx) => tx
                .send(value)
                .map_err(|mpsc::error::SendError(value)| TrySendError::Disconnected(value)),
        }
    }
}

impl<T> Receiver<T> {
    fn nonblocking_recv(&mut self) -> Result<T, TryRecvError> {
        match self {
            Receiver::Bounded(rx) => rx.try_recv(),
            Receiver::Unbounded(rx) => rx.try_recv(),
        }
        .map_err(|err| match err {
            mpsc::error::TryRecvError::Empty => TryRecvError::Empty,
            mpsc::error::TryRecvError::Disconnected => TryRecvError::Disconnected,
        })
    }

    async fn recv_async(&mut self) -> Result<T, RecvError> {
        match self {
            Receiver::Bounded(rx) => rx.recv().await,
            Receiver::Unbounded(rx) => rx.recv().await,
        }
        .ok_or(RecvError)
    }
}

impl<T: Send + 'static> chanlab_contract::AsyncSender<T> for Sender<T> {
    async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self {
            Sender::Bounded(tx) => tx.send(value).await,
            Sender::Unbounded(tx) => tx.send(value),
        }
        .map_err(|mpsc::error::SendError(value)| SendError::new(value))
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.nonblocking_send(value)
    }
}

impl<T: Send + 'static> chanlab_contract::AsyncReceiver<T> for Receiver<T> {
    fn recv(&mut self) -> impl Future<Output = Result<T, RecvError>> + Send {
        self.recv_async()
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.nonblocking_recv()
    }

    fn try_clone(&self) -> Option<Self> {
        None
    }
}

impl<T: Send + 'static> chanlab_contract::Sender<T> for Sender<T> {
    fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self {
            Sender::Bounded(tx) => tx.blocking_send(value),
            Sender::Unbounded(tx) => tx.send(value),
        }
        .map_err(|mpsc::error::SendError(value)| SendError::new(value))
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.nonblocking_send(value)
    }
}

impl<T: Send + 'static> chanlab_contract::Receiver<T> for Receiver<T> {
    fn recv(&mut self) -> Result<T, RecvError> {
        match self {
            Receiver::Bounded(rx) => rx.blocking_recv(),
            Receiver::Unbounded(rx) => rx.blocking_recv(),
        }
        .ok_or(RecvError)
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.nonblocking_recv()
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        recv_timeout(timeout, self.recv_async())
    }

    fn try_clone(&self) -> Option<Self> {
        None
    }
}
