//! A twin whose cancelled sends linger, at every capacity rendezvous
//! included: chanlab's async reference channel carries each value in a
//! slot, and a send future dropped while it waits leaves its value behind
//! for the next receive instead of withdrawing it (flume documents the
//! withdrawal as what its `SendFut` does on drop). Without the fault it is
//! the reference channel.

use chanlab_sync::{Arc, Mutex};
use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use chanlab_contract::{
    AsyncEnds, AsyncFlavor, Capacity, FlavorInfo, RecvError, SendError, TryRecvError, TrySendError,
    UnsupportedError,
};
use chanlab_impls::AsyncReference;

use crate::{Fault, FaultKind};

/// A value on its way: whoever takes it first, receiver or withdrawing
/// sender, has it.
type Slot<T> = Arc<Mutex<Option<T>>>;

/// Values that dropped send futures left behind, served before the queue.
type Left<T> = Arc<Mutex<VecDeque<T>>>;

/// The async reference channel whose dropped send futures fault `K` gets
/// wrong.
pub struct Lingering<K>(PhantomData<K>);

impl<K: FaultKind> AsyncFlavor for Lingering<K> {
    type Sender<T: Send + 'static> = Sender<K, T>;
    type Receiver<T: Send + 'static> = Receiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: K::NAME,
        note: Some("deliberately broken"),
        known_failures: &[],
        ..AsyncReference::INFO
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<AsyncEnds<Self, T>, UnsupportedError> {
        Self::INFO.check(capacity)?;
        let (inner_tx, inner_rx) = AsyncReference::channel::<Slot<T>>(capacity)?;
        let left = Left::default();
        Ok((
            Sender {
                inner: inner_tx,
                left: left.clone(),
                kind: PhantomData,
            },
            Receiver {
                inner: inner_rx,
                left,
            },
        ))
    }
}

/// Sender half of [`Lingering`].
pub struct Sender<K, T: Send + 'static> {
    inner: <AsyncReference as AsyncFlavor>::Sender<Slot<T>>,
    left: Left<T>,
    kind: PhantomData<K>,
}

/// Receiver half of [`Lingering`].
pub struct Receiver<T: Send + 'static> {
    inner: <AsyncReference as AsyncFlavor>::Receiver<Slot<T>>,
    left: Left<T>,
}

impl<K, T: Send + 'static> Clone for Sender<K, T> {
    fn clone(&self) -> Self {
        Sender {
            inner: self.inner.clone(),
            left: self.left.clone(),
            kind: PhantomData,
        }
    }
}

/// The value out of a slot the channel handed back.
fn unwrap_slot<T>(slot: Slot<T>) -> Option<T> {
    slot.lock().take()
}

impl<K: FaultKind, T: Send + 'static> chanlab_contract::AsyncSender<T> for Sender<K, T> {
    fn send(&self, value: T) -> impl Future<Output = Result<(), SendError<T>>> + Send {
        let slot = Slot::new(Mutex::new(Some(value)));
        SendFuture::<K, T> {
            inner: Box::pin(self.inner.send(slot.clone())),
            slot,
            left: &self.left,
            finished: false,
            kind: PhantomData,
        }
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.inner
            .try_send(Slot::new(Mutex::new(Some(value))))
            .map_err(|err| {
                let full = err.is_full();
                match unwrap_slot(err.into_inner()) {
                    Some(value) if full => TrySendError::Full(value),
                    Some(value) => TrySendError::Disconnected(value),
                    None => unreachable!("a refused slot was never shared"),
                }
            })
    }
}

type InnerSend<'a, T> = Pin<Box<dyn Future<Output = Result<(), SendError<Slot<T>>>> + Send + 'a>>;

struct SendFuture<'a, K: FaultKind, T: Send + 'static> {
    inner: InnerSend<'a, T>,
    slot: Slot<T>,
    left: &'a Left<T>,
    finished: bool,
    kind: PhantomData<fn() -> K>,
}

impl<K: FaultKind, T: Send + 'static> Future for SendFuture<'_, K, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let outcome = std::task::ready!(this.inner.as_mut().poll(cx));
        this.finished = true;
        Poll::Ready(
            outcome.map_err(|err| match err.into_inner().and_then(unwrap_slot) {
                Some(value) => SendError::new(value),
                None => SendError::value_lost(),
            }),
        )
    }
}

impl<K: FaultKind, T: Send + 'static> Drop for SendFuture<'_, K, T> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Withdrawn: no receiver will find it in the slot.
        let withdrawn = self.slot.lock().take();
        if K::FAULT == Fault::CancelledSendLingers
            && let Some(value) = withdrawn
        {
            self.left.lock().push_back(value);
        }
    }
}

impl<T: Send + 'static> chanlab_contract::AsyncReceiver<T> for Receiver<T> {
    async fn recv(&mut self) -> Result<T, RecvError> {
        loop {
            if let Some(value) = self.left.lock().pop_front() {
                return Ok(value);
            }
            if let Some(value) = unwrap_slot(self.inner.recv().await?) {
                return Ok(value);
            }
        }
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        loop {
            if let Some(value) = self.left.lock().pop_front() {
                return Ok(value);
            }
            if let Some(value) = unwrap_slot(self.inner.try_recv()?) {
                return Ok(value);
            }
        }
    }

    fn try_clone(&self) -> Option<Self> {
        Some(Receiver {
            inner: self.inner.try_clone()?,
            left: self.left.clone(),
        })
    }
}
