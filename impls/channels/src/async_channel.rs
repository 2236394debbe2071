//! async-channel: bounded (capacity at least 1) and unbounded MPMC channels
//! from smol's ecosystem. [`AsyncChannel`] is its async API;
//! [`AsyncChannelBlocking`] is `send_blocking`/`recv_blocking`.

use std::future::Future;
use std::time::Duration;

use chanlab_contract::{
    Api, AsyncFlavor, Capabilities, Capacity, FlavorInfo, RecvError, RecvTimeoutError, SendError,
    SyncFlavor, TryRecvError, TrySendError, UnsupportedError,
};

use crate::timer::recv_timeout;

/// async-channel from async code.
pub struct AsyncChannel;

/// async-channel through `send_blocking`/`recv_blocking`.
pub struct AsyncChannelBlocking;

const CAPABILITIES: Capabilities = Capabilities {
    multi_consumer: true,
    rendezvous: false,
    unbounded: true,
    select: false,
    cancel_safe_recv: false,
};

impl AsyncFlavor for AsyncChannel {
    type Sender<T: Send + 'static> = Sender<T>;
    type Receiver<T: Send + 'static> = Receiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "async-channel",
        library: "async-channel",
        api: Api::Async,
        // `Recv` is cancel-safe: it takes a message only when it completes
        // (the maintainers say so in smol-rs/async-channel#111, and the
        // async select pattern finds no loss), so it can be raced in
        // `tokio::select!`.
        capabilities: Capabilities {
            select: true,
            cancel_safe_recv: true,
            ..CAPABILITIES
        },
        note: None,
        known_failures: &[],
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<T>, Receiver<T>), UnsupportedError> {
        Self::INFO.check(capacity)?;
        Ok(new_channel(capacity))
    }
}

impl SyncFlavor for AsyncChannelBlocking {
    type Sender<T: Send + 'static> = Sender<T>;
    type Receiver<T: Send + 'static> = Receiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "async-channel-blocking",
        library: "async-channel",
        api: Api::Sync,
        capabilities: CAPABILITIES,
        note: Some("recv_timeout runs recv() under a tokio timer on a per-thread runtime"),
        known_failures: &[],
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<T>, Receiver<T>), UnsupportedError> {
        Self::INFO.check(capacity)?;
        Ok(new_channel(capacity))
    }
}

/// Callers check the capacity first: `async_channel::bounded(0)` panics.
fn new_channel<T>(capacity: Capacity) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = match capacity {
        Capacity::Bounded(n) => async_channel::bounded(n),
        Capacity::Unbounded => async_channel::unbounded(),
    };
    (Sender(tx), Receiver(rx))
}

/// async-channel's sender.
pub struct Sender<T>(async_channel::Sender<T>);

/// async-channel's receiver.
pub struct Receiver<T>(async_channel::Receiver<T>);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender(self.0.clone())
    }
}

impl<T> Sender<T> {
    fn nonblocking_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.0.try_send(value).map_err(|err| match err {
            async_channel::TrySendError::Full(value) => TrySendError::Full(value),
            async_channel::TrySendError::Closed(value) => TrySendError::Disconnected(value),
        })
    }
}

impl<T> Receiver<T> {
    fn nonblocking_recv(&mut self) -> Result<T, TryRecvError> {
        self.0.try_recv().map_err(|err| match err {
            async_channel::TryRecvError::Empty => TryRecvError::Empty,
            async_channel::TryRecvError::Closed => TryRecvError::Disconnected,
        })
    }
}

impl<T: Send + 'static> chanlab_contract::AsyncSender<T> for Sender<T> {
    fn send(&self, value: T) -> impl Future<Output = Result<(), SendError<T>>> + Send {
        let sending = self.0.send(value);
        async move {
            sending
                .await
                .map_err(|async_channel::SendError(value)| SendError::new(value))
        }
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.nonblocking_send(value)
    }
}

impl<T: Send + 'static> chanlab_contract::AsyncReceiver<T> for Receiver<T> {
    fn recv(&mut self) -> impl Future<Output = Result<T, RecvError>> + Send {
        let receiving = self.0.recv();
        async move {
            receiving
                .await
                .map_err(|async_channel::RecvError| RecvError)
        }
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.nonblocking_recv()
    }

    fn try_clone(&self) -> Option<Self> {
        Some(Receiver(self.0.clone()))
    }
}

impl<T: Send + 'static> chanlab_contract::Sender<T> for Sender<T> {
    fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.0
            .send_blocking(value)
            .map_err(|async_channel::SendError(value)| SendError::new(value))
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.nonblocking_send(value)
    }
}

impl<T: Send + 'static> chanlab_contract::Receiver<T> for Receiver<T> {
    fn recv(&mut self) -> Result<T, RecvError> {
        self.0
            .recv_blocking()
            .map_err(|async_channel::RecvError| RecvError)
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.nonblocking_recv()
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let receiving = self.0.recv();
        recv_timeout(timeout, async move {
            receiving
                .await
                .map_err(|async_channel::RecvError| RecvError)
        })
    }

    fn try_clone(&self) -> Option<Self> {
        Some(Receiver(self.0.clone()))
    }
}
