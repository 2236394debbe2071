//! `std::sync::mpsc`: `channel()` for unbounded, `sync_channel(n)` for
//! bounded and rendezvous. Single consumer; [`StdMpscShared`] is the common
//! emulation of a multi-consumer queue, named separately so no report hides
//! it.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use chanlab_contract::{
    Api, Capabilities, Capacity, FlavorInfo, KnownFailure, RecvError, RecvTimeoutError, Rule,
    SendError, SyncFlavor, TryRecvError, TrySendError, UnsupportedError,
};

/// `std::sync::mpsc` as it is: one receiver.
pub struct StdMpsc;

/// `std::sync::mpsc` with its receiver shared behind `Arc<Mutex<Receiver>>`,
/// the usual way to feed a worker pool from it. The mutex is parking_lot's,
/// for its timed lock: `try_recv` never waits for a clone blocked in `recv`,
/// and `recv_timeout` counts the wait for the lock against its timeout. The
/// price: `try_recv` answers `Empty` while any other clone holds the lock,
/// even with messages queued, so it is not linearizable (R11).
pub struct StdMpscShared;

impl SyncFlavor for StdMpsc {
    type Sender<T: Send + 'static> = Sender<T>;
    type Receiver<T: Send + 'static> = Receiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "std-mpsc",
        library: "std",
        api: Api::Sync,
        capabilities: Capabilities {
            multi_consumer: false,
            rendezvous: true,
            unbounded: true,
            select: false,
            cancel_safe_recv: false,
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

impl SyncFlavor for StdMpscShared {
    type Sender<T: Send + 'static> = Sender<T>;
    type Receiver<T: Send + 'static> = SharedReceiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "std-mpsc-shared",
        library: "std",
        api: Api::Sync,
        capabilities: Capabilities {
            multi_consumer: true,
            ..StdMpsc::INFO.capabilities
        },
        note: Some(
            "multi-consumer emulated: receiver shared behind Arc<parking_lot::Mutex<Receiver>>; try_recv reports Empty while another clone holds the lock",
        ),
        known_failures: &[KnownFailure {
            check: "histories_are_linearizable",
            rule: Rule::Linearizable,
            case: "no sequential order",
            why: "try_recv answers Empty whenever another clone holds the shared receiver's lock, even with messages queued",
            intermittent: false,
        }],
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<T>, SharedReceiver<T>), UnsupportedError> {
        let (tx, rx) = new_channel(capacity);
        Ok((
            tx,
            SharedReceiver {
                inner: Arc::new(Mutex::new(rx.0)),
            },
        ))
    }
}

fn new_channel<T>(capacity: Capacity) -> (Sender<T>, Receiver<T>) {
    match capacity {
        Capacity::Unbounded => {
            let (tx, rx) = mpsc::channel();
            (Sender::Unbounded(tx), Receiver(rx))
        }
        Capacity::Bounded(n) => {
            let (tx, rx) = mpsc::sync_channel(n);
            (Sender::Bounded(tx), Receiver(rx))
        }
    }
}

/// Either of std's two sender types.
pub enum Sender<T> {
    /// From `mpsc::channel()`.
    Unbounded(mpsc::Sender<T>),
    /// From `mpsc::sync_channel(n)`.
    Bounded(mpsc::SyncSender<T>),
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        match self {
            Sender::Unbounded(tx) => Sender::Unbounded(tx.clone()),
            Sender::Bounded(tx) => Sender::Bounded(tx.clone()),
        }
    }
}

impl<T: Send + 'static> chanlab_contract::Sender<T> for Sender<T> {
    fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self {
            Sender::Unbounded(tx) => tx.send(value),
            Sender::Bounded(tx) => tx.send(value),
        }
        .map_err(|mpsc::SendError(value)| SendError::new(value))
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self {
            Sender::Unbounded(tx) => tx
                .send(value)
                .map_err(|mpsc::SendError(value)| TrySendError::Disconnected(value)),
            Sender::Bounded(tx) => tx.try_send(value).map_err(|err| match err {
                mpsc::TrySendError::Full(value) => TrySendError::Full(value),
                mpsc::TrySendError::Disconnected(value) => TrySendError::Disconnected(value),
            }),
        }
    }
}

/// std's receiver.
pub struct Receiver<T>(mpsc::Receiver<T>);

impl<T: Send + 'static> chanlab_contract::Receiver<T> for Receiver<T> {
    fn recv(&mut self) -> Result<T, RecvError> {
        self.0.recv().map_err(|mpsc::RecvError| RecvError)
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.0.try_recv().map_err(map_try_recv)
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.0.recv_timeout(timeout).map_err(map_recv_timeout)
    }

    fn try_clone(&self) -> Option<Self> {
        None
    }
}

/// std's receiver behind a mutex, so it can be cloned.
pub struct SharedReceiver<T> {
    inner: Arc<Mutex<mpsc::Receiver<T>>>,
}

impl<T: Send + 'static> chanlab_contract::Receiver<T> for SharedReceiver<T> {
    fn recv(&mut self) -> Result<T, RecvError> {
        self.inner
            .lock()
            .recv()
            .map_err(|mpsc::RecvError| RecvError)
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        // Another clone holds the lock: report nothing ready rather than wait
        // behind a `recv` that may block for good. Messages may be queued
        // all the same (R11 catches it).
        match self.inner.try_lock() {
            Some(rx) => rx.try_recv().map_err(map_try_recv),
            None => Err(TryRecvError::Empty),
        }
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let started = Instant::now();
        let rx = self
            .inner
            .try_lock_for(timeout)
            .ok_or(RecvTimeoutError::Timeout)?;
        let remaining = timeout.saturating_sub(started.elapsed());
        rx.recv_timeout(remaining).map_err(map_recv_timeout)
    }

    fn try_clone(&self) -> Option<Self> {
        Some(SharedReceiver {
            inner: self.inner.clone(),
        })
    }
}

fn map_try_recv(err: mpsc::TryRecvError) -> TryRecvError {
    match err {
        mpsc::TryRecvError::Empty => TryRecvError::Empty,
        mpsc::TryRecvError::Disconnected => TryRecvError::Disconnected,
    }
}

fn map_recv_timeout(err: mpsc::RecvTimeoutError) -> RecvTimeoutError {
    match err {
        mpsc::RecvTimeoutError::Timeout => RecvTimeoutError::Timeout,
        mpsc::RecvTimeoutError::Disconnected => RecvTimeoutError::Disconnected,
    }
}
