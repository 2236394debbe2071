//! Async twins: faults in how futures wait, wake, hand off and drop.
//!
//! Like the [`Polling`](crate::Polling) twins, these keep the blocking
//! reference channel's queue, capacity and disconnection (through its
//! non-blocking calls) and put futures of their own in front of it, with
//! their own list of waiting futures. With no fault that is a correct
//! async channel (without rendezvous); each twin gets one thing wrong, the
//! way async channels have shipped it.

use chanlab_sync::{Arc, Mutex, MutexGuard};
use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use chanlab_conformance::{BlockOn, BlockOnReceiver, BlockOnSender};
use chanlab_contract::{
    Api, AsyncEnds, AsyncFlavor, Bridge, Capabilities, Capacity, FlavorInfo, Receiver as _,
    RecvError, SendError, Sender as _, TryRecvError, TrySendError, UnsupportedError,
};
use chanlab_impls::{AsyncReference, reference};

use crate::{Fault, FaultKind, drop_a_second_time};

/// The reference channel's queue behind futures whose waiting fault `K`
/// gets wrong.
pub struct AsyncPolling<K>(PhantomData<K>);

/// [`AsyncPolling`] as a bridge: its own futures at the async end, and
/// those futures driven to completion ([`BlockOn`]) at the blocking end,
/// for the mixed suite's twins.
pub struct PollingBridge<K>(PhantomData<K>);

impl<K: FaultKind> Bridge for PollingBridge<K> {
    type Sync = BlockOn<AsyncPolling<K>>;
    type Async = AsyncPolling<K>;

    fn sync_to_async<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(BlockOnSender<Sender<K, T>>, Receiver<K, T>), UnsupportedError> {
        let (tx, rx) = AsyncPolling::<K>::channel(capacity)?;
        Ok((BlockOnSender::new(tx), rx))
    }

    fn async_to_sync<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<K, T>, BlockOnReceiver<Receiver<K, T>>), UnsupportedError> {
        let (tx, rx) = AsyncPolling::<K>::channel(capacity)?;
        Ok((tx, BlockOnReceiver::new(rx)))
    }
}

impl<K: FaultKind> AsyncFlavor for AsyncPolling<K> {
    type Sender<T: Send + 'static> = Sender<K, T>;
    type Receiver<T: Send + 'static> = Receiver<K, T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: K::NAME,
        library: "chanlab-broken",
        api: Api::Async,
        capabilities: Capabilities {
            rendezvous: false,
            ..AsyncReference::INFO.capabilities
        },
        note: Some("deliberately broken"),
        known_failures: &[],
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<AsyncEnds<Self, T>, UnsupportedError> {
        Self::INFO.check(capacity)?;
        let (tx, rx) = reference::channel(capacity);
        let shared = Arc::new(Mutex::new(Waiting {
            receivers: VecDeque::new(),
            senders: VecDeque::new(),
            queued: 0,
            live_senders: 1,
            live_receivers: 1,
            next_id: 0,
            capacity: capacity.bound(),
            kept_slots: 0,
        }));
        Ok((
            Sender {
                inner: tx,
                shared: shared.clone(),
                kind: PhantomData,
            },
            Receiver {
                inner: rx,
                shared,
                kind: PhantomData,
            },
        ))
    }
}

/// Who waits, and what the queue holds; every call takes this lock before
/// it touches the queue, so a wake-up cannot slip between a look at the
/// queue and the registration of a waker.
struct Waiting<T> {
    /// Receive futures waiting for a value.
    receivers: VecDeque<Arc<Ticket<T>>>,
    /// Send futures waiting for room, by id.
    senders: VecDeque<(u64, Waker)>,
    /// Values in the queue.
    queued: usize,
    live_senders: usize,
    live_receivers: usize,
    next_id: u64,
    capacity: Option<usize>,
    /// Slots dropped send futures kept (the slot-keeping twin).
    kept_slots: usize,
}

/// A waiting receive future: its waker and, for the hand-off twin, the
/// value a sender gave it directly.
struct Ticket<T> {
    waker: Mutex<Waker>,
    handed: Mutex<Option<T>>,
}

impl<T> Waiting<T> {
    fn register_receiver<K: FaultKind>(&mut self, ticket: &Arc<Ticket<T>>) {
        if self
            .receivers
            .iter()
            .any(|listed| Arc::ptr_eq(listed, ticket))
        {
            return;
        }
        if K::FAULT == Fault::LosesWaker {
            // One slot: the newest waiter replaces the others.
            self.receivers.clear();
        }
        self.receivers.push_back(ticket.clone());
    }

    fn remove_receiver(&mut self, ticket: &Arc<Ticket<T>>) -> bool {
        let before = self.receivers.len();
        self.receivers.retain(|listed| !Arc::ptr_eq(listed, ticket));
        self.receivers.len() != before
    }

    fn wake_receiver(&mut self) -> Option<Waker> {
        self.receivers
            .pop_front()
            .map(|ticket| ticket.waker.lock().clone())
    }

    fn wake_sender(&mut self) -> Option<Waker> {
        self.senders.pop_front().map(|(_, waker)| waker)
    }

    fn remove_sender(&mut self, id: u64) -> bool {
        let before = self.senders.len();
        self.senders.retain(|(listed, _)| *listed != id);
        self.senders.len() != before
    }
}

fn wake_after<T>(waiting: MutexGuard<'_, Waiting<T>>, wakers: impl IntoIterator<Item = Waker>) {
    drop(waiting);
    wakers.into_iter().for_each(Waker::wake);
}

/// Sender half of [`AsyncPolling`].
pub struct Sender<K, T> {
    inner: reference::Sender<T>,
    shared: Arc<Mutex<Waiting<T>>>,
    kind: PhantomData<K>,
}

/// Receiver half of [`AsyncPolling`].
pub struct Receiver<K, T> {
    inner: reference::Receiver<T>,
    shared: Arc<Mutex<Waiting<T>>>,
    kind: PhantomData<K>,
}

impl<K: FaultKind, T: Send + 'static> Sender<K, T> {
    /// Queues `value` (or hands it to a waiting receive future, for the
    /// hand-off twin) and wakes a receive future; the value back if full.
    fn offer(&self, waiting: &mut Waiting<T>, value: T) -> Result<Option<Waker>, TrySendError<T>> {
        // The counts, not the inner handles (which outlive `drop`), say
        // who is gone.
        if waiting.live_receivers == 0 {
            return Err(TrySendError::Disconnected(value));
        }
        if K::FAULT == Fault::RecvTakesThenDrops
            && let Some(ticket) = waiting.receivers.pop_front()
        {
            *ticket.handed.lock() = Some(value);
            return Ok(Some(ticket.waker.lock().clone()));
        }
        if waiting
            .capacity
            .is_some_and(|capacity| waiting.queued + waiting.kept_slots >= capacity)
        {
            return Err(TrySendError::Full(value));
        }
        self.inner.try_send(value)?;
        waiting.queued += 1;
        if K::FAULT == Fault::AsyncWakesOnlyWhenEmpty && waiting.queued > 1 {
            return Ok(None);
        }
        Ok(waiting.wake_receiver())
    }
}

impl<K: FaultKind, T: Send + 'static> chanlab_contract::AsyncSender<T> for Sender<K, T> {
    fn send(&self, value: T) -> impl Future<Output = Result<(), SendError<T>>> + Send {
        SendFuture {
            sender: self,
            value: Some(value),
            id: None,
        }
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut waiting = self.shared.lock();
        let wake = self.offer(&mut waiting, value)?;
        wake_after(waiting, wake);
        Ok(())
    }
}

struct SendFuture<'a, K: FaultKind, T: Send + 'static> {
    sender: &'a Sender<K, T>,
    value: Option<T>,
    id: Option<u64>,
}

// The value is only moved in and out, never pinned.
impl<K: FaultKind, T: Send + 'static> Unpin for SendFuture<'_, K, T> {}

impl<K: FaultKind, T: Send + 'static> Future for SendFuture<'_, K, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(value) = this.value.take() else {
            return Poll::Ready(Ok(()));
        };
        let mut waiting = this.sender.shared.lock();
        match this.sender.offer(&mut waiting, value) {
            Ok(wake) => {
                if let Some(id) = this.id {
                    waiting.remove_sender(id);
                }
                wake_after(waiting, wake);
                Poll::Ready(Ok(()))
            }
            Err(TrySendError::Disconnected(value)) => Poll::Ready(Err(SendError::new(value))),
            Err(TrySendError::Full(value)) => {
                let id = *this.id.get_or_insert_with(|| {
                    waiting.next_id += 1;
                    waiting.next_id
                });
                waiting.remove_sender(id);
                waiting.senders.push_back((id, cx.waker().clone()));
                this.value = Some(value);
                Poll::Pending
            }
        }
    }
}

impl<K: FaultKind, T: Send + 'static> Drop for SendFuture<'_, K, T> {
    fn drop(&mut self) {
        let Some(id) = self.id else {
            return;
        };
        let mut waiting = self.sender.shared.lock();
        let listed = waiting.remove_sender(id);
        if K::FAULT == Fault::DroppedSendDeliversAndDrops
            && let Some(value) = self.value.take()
        {
            // Delivers the value if there is room, and counts a drop of
            // it either way.
            drop_a_second_time(&value);
            if self.sender.inner.try_send(value).is_ok() {
                waiting.queued += 1;
                let wake = waiting.wake_receiver();
                wake_after(waiting, wake);
                return;
            }
        }
        if !listed && K::FAULT == Fault::DroppedSendKeepsSlot {
            waiting.kept_slots += 1;
            return;
        }
        // Woken for room it will not use: pass the wake-up on.
        let wake = if listed { None } else { waiting.wake_sender() };
        wake_after(waiting, wake);
    }
}

impl<K: FaultKind, T: Send + 'static> Receiver<K, T> {
    /// Takes a queued value and wakes a send future waiting for room.
    fn take(&mut self, waiting: &mut Waiting<T>) -> Result<(T, Option<Waker>), TryRecvError> {
        let value = match self.inner.try_recv() {
            Ok(value) => value,
            Err(TryRecvError::Empty) if waiting.live_senders == 0 => {
                return Err(TryRecvError::Disconnected);
            }
            Err(err) => return Err(err),
        };
        waiting.queued -= 1;
        Ok((value, waiting.wake_sender()))
    }
}

impl<K: FaultKind, T: Send + 'static> chanlab_contract::AsyncReceiver<T> for Receiver<K, T> {
    fn recv(&mut self) -> impl Future<Output = Result<T, RecvError>> + Send {
        RecvFuture {
            receiver: self,
            ticket: None,
        }
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let shared = self.shared.clone();
        let mut waiting = shared.lock();
        let (value, wake) = self.take(&mut waiting)?;
        wake_after(waiting, wake);
        Ok(value)
    }

    fn try_clone(&self) -> Option<Self> {
        let inner = self.inner.try_clone()?;
        self.shared.lock().live_receivers += 1;
        Some(Receiver {
            inner,
            shared: self.shared.clone(),
            kind: PhantomData,
        })
    }
}

struct RecvFuture<'a, K: FaultKind, T: Send + 'static> {
    receiver: &'a mut Receiver<K, T>,
    ticket: Option<Arc<Ticket<T>>>,
}

impl<K: FaultKind, T: Send + 'static> Future for RecvFuture<'_, K, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let shared = this.receiver.shared.clone();
        let mut waiting = shared.lock();
        if let Some(ticket) = &this.ticket
            && let Some(value) = ticket.handed.lock().take()
        {
            waiting.remove_receiver(ticket);
            return Poll::Ready(Ok(value));
        }
        match this.receiver.take(&mut waiting) {
            Ok((value, wake)) => {
                if let Some(ticket) = this.ticket.take() {
                    waiting.remove_receiver(&ticket);
                }
                wake_after(waiting, wake);
                Poll::Ready(Ok(value))
            }
            Err(TryRecvError::Disconnected) => Poll::Ready(Err(RecvError)),
            Err(TryRecvError::Empty) => {
                let ticket = this.ticket.get_or_insert_with(|| {
                    Arc::new(Ticket {
                        waker: Mutex::new(cx.waker().clone()),
                        handed: Mutex::new(None),
                    })
                });
                if K::FAULT != Fault::RecvKeepsFirstWaker {
                    ticket.waker.lock().clone_from(cx.waker());
                }
                waiting.register_receiver::<K>(ticket);
                Poll::Pending
            }
        }
    }
}

impl<K: FaultKind, T: Send + 'static> Drop for RecvFuture<'_, K, T> {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        let mut waiting = self.receiver.shared.lock();
        let listed = waiting.remove_receiver(&ticket);
        // A value handed to this future dies with it (the hand-off twin).
        let handed = ticket.handed.lock().take();
        // Woken for a value it will not take: pass the wake-up on.
        let pass_on = !listed && waiting.queued > 0 && K::FAULT != Fault::WokenRecvSwallowsWake;
        let wake = if pass_on {
            waiting.wake_receiver()
        } else {
            None
        };
        wake_after(waiting, wake);
        drop(handed);
    }
}

impl<K, T> Clone for Sender<K, T> {
    fn clone(&self) -> Self {
        self.shared.lock().live_senders += 1;
        Sender {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
            kind: PhantomData,
        }
    }
}

impl<K, T> Drop for Sender<K, T> {
    fn drop(&mut self) {
        let mut waiting = self.shared.lock();
        waiting.live_senders -= 1;
        if waiting.live_senders == 0 {
            let wakers: Vec<Waker> = waiting
                .receivers
                .drain(..)
                .map(|ticket| ticket.waker.lock().clone())
                .collect();
            wake_after(waiting, wakers);
        }
    }
}

impl<K, T> Drop for Receiver<K, T> {
    fn drop(&mut self) {
        let mut waiting = self.shared.lock();
        waiting.live_receivers -= 1;
        if waiting.live_receivers == 0 {
            waiting.queued = 0;
            let wakers: Vec<Waker> = waiting.senders.drain(..).map(|(_, waker)| waker).collect();
            wake_after(waiting, wakers);
        }
    }
}
