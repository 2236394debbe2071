//! crossbeam-channel: bounded, rendezvous and unbounded MPMC channels with
//! `select!`.

use std::time::Duration;

use chanlab_contract::{
    Api, Capabilities, Capacity, FlavorInfo, RecvError, RecvTimeoutError, SelectError, SelectWait,
    Selected, SendError, SyncFlavor, TryRecvError, TrySendError, UnsupportedError,
};

/// crossbeam-channel's blocking API.
pub struct Crossbeam;

impl SyncFlavor for Crossbeam {
    type Sender<T: Send + 'static> = Sender<T>;
    type Receiver<T: Send + 'static> = Receiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "crossbeam",
        library: "crossbeam-channel",
        api: Api::Sync,
        capabilities: Capabilities {
            multi_consumer: true,
            rendezvous: true,
            unbounded: true,
            select: true,
            cancel_safe_recv: false,
        },
        note: None,
        known_failures: &[],
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<T>, Receiver<T>), UnsupportedError> {
        let (tx, rx) = match capacity {
            Capacity::Bounded(n) => crossbeam_channel::bounded(n),
            Capacity::Unbounded => crossbeam_channel::unbounded(),
        };
        Ok((Sender(tx), Receiver(rx)))
    }

    /// crossbeam's dynamic `Select`, the machinery under `select!`.
    fn select<T: Send + 'static>(
        receivers: &mut [Receiver<T>],
        wait: SelectWait,
    ) -> Result<Selected<T>, SelectError> {
        if receivers.is_empty() {
            return Err(SelectError::NotReady);
        }
        let mut select = crossbeam_channel::Select::new();
        for receiver in receivers.iter() {
            select.recv(&receiver.0);
        }
        let operation = match wait {
            SelectWait::Forever => select.select(),
            SelectWait::Timeout(timeout) => select
                .select_timeout(timeout)
                .map_err(|_| SelectError::NotReady)?,
            SelectWait::NoWait => select.try_select().map_err(|_| SelectError::NotReady)?,
        };
        let index = operation.index();
        let message = operation
            .recv(&receivers[index].0)
            .map_err(|crossbeam_channel::RecvError| RecvError);
        Ok(Selected { index, message })
    }
}

/// crossbeam's sender; the inner handle is public for native `select!`.
pub struct Sender<T>(pub crossbeam_channel::Sender<T>);

/// crossbeam's receiver; the inner handle is public for native `select!`.
pub struct Receiver<T>(pub crossbeam_channel::Receiver<T>);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender(self.0.clone())
    }
}

impl<T: Send + 'static> chanlab_contract::Sender<T> for Sender<T> {
    fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.0
            .send(value)
            .map_err(|crossbeam_channel::SendError(value)| SendError::new(value))
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.0.try_send(value).map_err(|err| match err {
            crossbeam_channel::TrySendError::Full(value) => TrySendError::Full(value),
            crossbeam_channel::TrySendError::Disconnected(value) => {
                TrySendError::Disconnected(value)
            }
        })
    }
}

impl<T: Send + 'static> chanlab_contract::Receiver<T> for Receiver<T> {
    fn recv(&mut self) -> Result<T, RecvError> {
        self.0
            .recv()
            .map_err(|crossbeam_channel::RecvError| RecvError)
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.0.try_recv().map_err(|err| match err {
            crossbeam_channel::TryRecvError::Empty => TryRecvError::Empty,
            crossbeam_channel::TryRecvError::Disconnected => TryRecvError::Disconnected,
        })
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.0.recv_timeout(timeout).map_err(|err| match err {
            crossbeam_channel::RecvTimeoutError::Timeout => RecvTimeoutError::Timeout,
            crossbeam_channel::RecvTimeoutError::Disconnected => RecvTimeoutError::Disconnected,
        })
    }

    fn try_clone(&self) -> Option<Self> {
        Some(Receiver(self.0.clone()))
    }
}
