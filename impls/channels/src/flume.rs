//! flume: one MPMC core for bounded, rendezvous and unbounded channels, used
//! here through its blocking API ([`Flume`]) and its async API
//! ([`FlumeAsync`]). Both flavors share the wrapper types.

use std::future::Future;
use std::time::Duration;

use chanlab_contract::{
    Api, AsyncFlavor, Capabilities, Capacity, FlavorInfo, RecvError, RecvTimeoutError, SelectError,
    SelectWait, Selected, SendError, SyncFlavor, TryRecvError, TrySendError, UnsupportedError,
};

/// flume's blocking API.
pub struct Flume;

/// flume's async API (`send_async`, `recv_async`).
pub struct FlumeAsync;

const CAPABILITIES: Capabilities = Capabilities {
    multi_consumer: true,
    rendezvous: true,
    unbounded: true,
    select: true,
    cancel_safe_recv: false,
};

impl SyncFlavor for Flume {
    type Sender<T: Send + 'static> = Sender<T>;
    type Receiver<T: Send + 'static> = Receiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "flume",
        library: "flume",
        api: Api::Sync,
        capabilities: CAPABILITIES,
        note: None,
        known_failures: &[],
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<T>, Receiver<T>), UnsupportedError> {
        Ok(new_channel(capacity))
    }

    /// flume's `Selector`, one `recv` arm per receiver.
    fn select<T: Send + 'static>(
        receivers: &mut [Receiver<T>],
        wait: SelectWait,
    ) -> Result<Selected<T>, SelectError> {
        if receivers.is_empty() {
            return Err(SelectError::NotReady);
        }
        let selector = receivers.iter().enumerate().fold(
            flume::Selector::new(),
            |selector, (index, receiver)| {
                selector.recv(&receiver.0, move |message| Selected {
                    index,
                    message: message.map_err(|flume::RecvError::Disconnected| RecvError),
                })
            },
        );
        match wait {
            SelectWait::Forever => Ok(selector.wait()),
            SelectWait::Timeout(timeout) => selector
                .wait_timeout(timeout)
                .map_err(|_| SelectError::NotReady),
            SelectWait::NoWait => selector
                .wait_timeout(Duration::ZERO)
                .map_err(|_| SelectError::NotReady),
        }
    }
}

impl AsyncFlavor for FlumeAsync {
    type Sender<T: Send + 'static> = Sender<T>;
    type Receiver<T: Send + 'static> = Receiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "flume-async",
        library: "flume",
        api: Api::Async,
        capabilities: Capabilities {
            cancel_safe_recv: true,
            ..CAPABILITIES
        },
        note: None,
        known_failures: &[],
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<T>, Receiver<T>), UnsupportedError> {
        Ok(new_channel(capacity))
    }
}

fn new_channel<T>(capacity: Capacity) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = match capacity {
        Capacity::Bounded(n) => flume::bounded(n),
        Capacity::Unbounded => flume::unbounded(),
    };
    (Sender(tx), Receiver(rx))
}

/// flume's sender; the inner handle is public for flume's `Selector`.
pub struct Sender<T>(pub flume::Sender<T>);

/// flume's receiver; the inner handle is public for flume's `Selector`.
pub struct Receiver<T>(pub flume::Receiver<T>);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender(self.0.clone())
    }
}

fn map_try_send<T>(err: flume::TrySendError<T>) -> TrySendError<T> {
    match err {
        flume::TrySendError::Full(value) => TrySendError::Full(value),
        flume::TrySendError::Disconnected(value) => TrySendError::Disconnected(value),
    }
}

fn map_try_recv(err: flume::TryRecvError) -> TryRecvError {
    match err {
        flume::TryRecvError::Empty => TryRecvError::Empty,
        flume::TryRecvError::Disconnected => TryRecvError::Disconnected,
    }
}

impl<T: Send + 'static> chanlab_contract::Sender<T> for Sender<T> {
    fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.0
            .send(value)
            .map_err(|flume::SendError(value)| SendError::new(value))
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.0.try_send(value).map_err(map_try_send)
    }
}

impl<T: Send + 'static> chanlab_contract::Receiver<T> for Receiver<T> {
    fn recv(&mut self) -> Result<T, RecvError> {
        self.0
            .recv()
            .map_err(|flume::RecvError::Disconnected| RecvError)
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.0.try_recv().map_err(map_try_recv)
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.0.recv_timeout(timeout).map_err(|err| match err {
            flume::RecvTimeoutError::Timeout => RecvTimeoutError::Timeout,
            flume::RecvTimeoutError::Disconnected => RecvTimeoutError::Disconnected,
        })
    }

    fn try_clone(&self) -> Option<Self> {
        Some(Receiver(self.0.clone()))
    }
}

impl<T: Send + 'static> chanlab_contract::AsyncSender<T> for Sender<T> {
    fn send(&self, value: T) -> impl Future<Output = Result<(), SendError<T>>> + Send {
        let sending = self.0.send_async(value);
        async move {
            sending
                .await
                .map_err(|flume::SendError(value)| SendError::new(value))
        }
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.0.try_send(value).map_err(map_try_send)
    }
}

impl<T: Send + 'static> chanlab_contract::AsyncReceiver<T> for Receiver<T> {
    fn recv(&mut self) -> impl Future<Output = Result<T, RecvError>> + Send {
        let receiving = self.0.recv_async();
        async move {
            receiving
                .await
                .map_err(|flume::RecvError::Disconnected| RecvError)
        }
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.0.try_recv().map_err(map_try_recv)
    }

    fn try_clone(&self) -> Option<Self> {
        Some(Receiver(self.0.clone()))
    }
}
