//! chanlab's async reference channel: a bounded, unbounded or rendezvous
//! MPMC channel on one mutex and std's [`Waker`], with no runtime and no
//! library.
//!
//! Like the blocking [`reference`](crate::reference) channel it is written
//! to be read, not to be fast, and it is the async suite's yardstick: what
//! it does is what the suite asks of every async flavor, cancellation
//! included.
//!
//! # Waiting
//!
//! A future that must wait registers its waker under an id of its own in
//! `receiving` or `sending`. Waking a waiter removes it from the list, so a
//! future whose id is no longer listed has been woken and not yet polled.
//! If it is dropped then, it passes the wake-up on to the next waiter of
//! its kind, so a cancelled future never swallows one.
//!
//! # Rendezvous
//!
//! A rendezvous send future offers its value (`offers`) and completes once a
//! receiver has taken it (its id is in `handed`); dropped before that, it
//! withdraws the offer and the value is dropped with it, never delivered.
//! `try_send` on a rendezvous channel succeeds only while a receive future
//! is waiting, and queues the value for it.
//!
//! # Cancellation
//!
//! A receive future takes a value only in the poll that returns it, so
//! dropping one at any point loses nothing. A send future either completed
//! (its value delivered) or, dropped, drops its value itself.
//!
//! # Invariants (hold whenever the lock is free)
//! - `queue.len() <= capacity` for a bounded channel with capacity > 0.
//! - Once `receivers == 0` the queue is empty and stays empty; offers stay
//!   until their send futures take them back.
//! - Wakers are woken and values dropped after the lock is released.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use chanlab_contract::{
    Api, AsyncFlavor, Capabilities, Capacity, FlavorInfo, RecvError, SendError, TryRecvError,
    TrySendError, UnsupportedError,
};
use chanlab_sync::{Arc, Mutex, MutexGuard};

/// chanlab's own async channel ([module docs](self)).
pub struct AsyncReference;

impl AsyncFlavor for AsyncReference {
    type Sender<T: Send + 'static> = Sender<T>;
    type Receiver<T: Send + 'static> = Receiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "reference-async",
        library: "chanlab",
        api: Api::Async,
        capabilities: Capabilities {
            multi_consumer: true,
            rendezvous: true,
            unbounded: true,
            select: true,
            cancel_safe_recv: true,
        },
        note: None,
        known_failures: &[],
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<T>, Receiver<T>), UnsupportedError> {
        Ok(channel(capacity))
    }
}

/// Creates an async reference channel of any capacity.
pub fn channel<T>(capacity: Capacity) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(State {
        queue: VecDeque::new(),
        offers: VecDeque::new(),
        handed: Vec::new(),
        capacity: capacity.bound(),
        senders: 1,
        receivers: 1,
        receiving: Waiters::default(),
        sending: Waiters::default(),
        next_id: 0,
    }));
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

type Shared<T> = Arc<Mutex<State<T>>>;

struct State<T> {
    /// Values sent and not yet received, oldest first.
    queue: VecDeque<T>,
    /// Rendezvous: the values of waiting send futures, by their ids.
    offers: VecDeque<(u64, T)>,
    /// Rendezvous: ids of offers taken whose send futures have not seen it.
    handed: Vec<u64>,
    /// `None` for unbounded; `Some(0)` for rendezvous.
    capacity: Option<usize>,
    senders: usize,
    receivers: usize,
    /// Receive futures waiting for a value.
    receiving: Waiters,
    /// Send futures waiting for room (bounded) or for their offer to be
    /// taken (rendezvous).
    sending: Waiters,
    next_id: u64,
}

impl<T> State<T> {
    fn has_room(&self) -> bool {
        match self.capacity {
            None => true,
            Some(0) => false,
            Some(cap) => self.queue.len() < cap,
        }
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Takes the oldest value, queued or offered, and picks the send future
    /// to wake: one waiting for room, or the offer's owner.
    fn take(&mut self) -> Option<(T, Option<Waker>)> {
        if let Some(value) = self.queue.pop_front() {
            let wake = match self.capacity {
                Some(cap) if cap > 0 => self.sending.wake_one(),
                _ => None,
            };
            return Some((value, wake));
        }
        let (id, value) = self.offers.pop_front()?;
        self.handed.push(id);
        Some((value, self.sending.remove(id)))
    }

    /// Whether a value is ready for a receiver.
    fn has_value(&self) -> bool {
        !self.queue.is_empty() || !self.offers.is_empty()
    }
}

/// Wakers of waiting futures, oldest first.
#[derive(Default)]
struct Waiters(VecDeque<(u64, Waker)>);

impl Waiters {
    /// Registers (or refreshes) the waker of future `id`.
    fn register(&mut self, id: u64, waker: &Waker) {
        match self.0.iter_mut().find(|(listed, _)| *listed == id) {
            Some((_, known)) => known.clone_from(waker),
            None => self.0.push_back((id, waker.clone())),
        }
    }

    /// Removes future `id`, returning its waker if it was listed.
    fn remove(&mut self, id: u64) -> Option<Waker> {
        let index = self.0.iter().position(|(listed, _)| *listed == id)?;
        self.0.remove(index).map(|(_, waker)| waker)
    }

    /// Removes and returns the oldest waiter's waker.
    fn wake_one(&mut self) -> Option<Waker> {
        self.0.pop_front().map(|(_, waker)| waker)
    }

    fn wake_all(&mut self) -> Vec<Waker> {
        self.0.drain(..).map(|(_, waker)| waker).collect()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Releases the lock, then wakes.
fn wake_after<T>(state: MutexGuard<'_, State<T>>, wakers: impl IntoIterator<Item = Waker>) {
    drop(state);
    wakers.into_iter().for_each(Waker::wake);
}

/// The sending half of an async reference channel.
pub struct Sender<T> {
    shared: Shared<T>,
}

/// The receiving half of an async reference channel; clones share the
/// queue.
pub struct Receiver<T> {
    shared: Shared<T>,
}

impl<T: Send + 'static> chanlab_contract::AsyncSender<T> for Sender<T> {
    fn send(&self, value: T) -> impl Future<Output = Result<(), SendError<T>>> + Send {
        SendFuture {
            shared: &self.shared,
            value: Some(value),
            id: None,
            offered: false,
        }
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut state = self.shared.lock();
        if state.receivers == 0 {
            return Err(TrySendError::Disconnected(value));
        }
        let admitted = match state.capacity {
            Some(0) => !state.receiving.is_empty(),
            _ => state.has_room(),
        };
        if !admitted {
            return Err(TrySendError::Full(value));
        }
        state.queue.push_back(value);
        let wake = state.receiving.wake_one();
        wake_after(state, wake);
        Ok(())
    }
}

impl<T: Send + 'static> chanlab_contract::AsyncReceiver<T> for Receiver<T> {
    fn recv(&mut self) -> impl Future<Output = Result<T, RecvError>> + Send {
        RecvFuture {
            shared: &self.shared,
            id: None,
        }
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.shared.lock();
        match state.take() {
            Some((value, wake)) => {
                wake_after(state, wake);
                Ok(value)
            }
            None if state.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    fn try_clone(&self) -> Option<Self> {
        self.shared.lock().receivers += 1;
        Some(Receiver {
            shared: self.shared.clone(),
        })
    }
}

/// The future of [`Sender::send`](chanlab_contract::AsyncSender::send).
struct SendFuture<'a, T> {
    shared: &'a Shared<T>,
    /// The value, until it is queued or offered.
    value: Option<T>,
    /// Set once the future has waited.
    id: Option<u64>,
    /// Rendezvous: the value is in `offers` under `id`.
    offered: bool,
}

// The value is never pinned: the future only moves it in and out of the
// channel, so it may move freely whatever `T` is.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = this.shared.lock();
        if this.offered {
            return this.poll_offer(state, cx);
        }
        let Some(value) = this.value.take() else {
            return Poll::Ready(Ok(()));
        };
        if state.receivers == 0 {
            if let Some(id) = this.id.take() {
                state.sending.remove(id);
            }
            return Poll::Ready(Err(SendError::new(value)));
        }
        if state.capacity == Some(0) {
            let id = *this.id.get_or_insert_with(|| state.new_id());
            state.offers.push_back((id, value));
            state.sending.register(id, cx.waker());
            this.offered = true;
            let wake = state.receiving.wake_one();
            wake_after(state, wake);
            return Poll::Pending;
        }
        if state.has_room() {
            if let Some(id) = this.id.take() {
                state.sending.remove(id);
            }
            state.queue.push_back(value);
            let wake = state.receiving.wake_one();
            wake_after(state, wake);
            return Poll::Ready(Ok(()));
        }
        let id = *this.id.get_or_insert_with(|| state.new_id());
        state.sending.register(id, cx.waker());
        this.value = Some(value);
        Poll::Pending
    }
}

impl<T> SendFuture<'_, T> {
    /// Rendezvous: completes once the offer is taken; takes it back when
    /// every receiver is gone.
    fn poll_offer(
        &mut self,
        mut state: MutexGuard<'_, State<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        let Some(id) = self.id else {
            return Poll::Ready(Ok(()));
        };
        if let Some(index) = state.handed.iter().position(|&handed| handed == id) {
            state.handed.swap_remove(index);
            self.offered = false;
            return Poll::Ready(Ok(()));
        }
        if state.receivers == 0 {
            state.sending.remove(id);
            self.offered = false;
            let withdrawn = withdraw(&mut state, id);
            drop(state);
            return Poll::Ready(match withdrawn {
                Some(value) => Err(SendError::new(value)),
                None => Ok(()),
            });
        }
        state.sending.register(id, cx.waker());
        Poll::Pending
    }
}

/// Takes offer `id` back, if no receiver took it.
fn withdraw<T>(state: &mut State<T>, id: u64) -> Option<T> {
    let index = state.offers.iter().position(|(offer, _)| *offer == id)?;
    state.offers.remove(index).map(|(_, value)| value)
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        let Some(id) = self.id else {
            return;
        };
        let mut state = self.shared.lock();
        let listed = state.sending.remove(id).is_some();
        if self.offered {
            let withdrawn = withdraw(&mut state, id);
            if withdrawn.is_none() {
                state.handed.retain(|&handed| handed != id);
            }
            drop(state);
            drop(withdrawn);
            return;
        }
        // Woken for room it will not use: pass the wake-up on.
        let wake = if !listed && state.has_room() {
            state.sending.wake_one()
        } else {
            None
        };
        wake_after(state, wake);
    }
}

/// The future of [`Receiver::recv`](chanlab_contract::AsyncReceiver::recv).
struct RecvFuture<'a, T> {
    shared: &'a Shared<T>,
    /// Set once the future has waited.
    id: Option<u64>,
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = this.shared.lock();
        if let Some((value, wake)) = state.take() {
            if let Some(id) = this.id.take() {
                state.receiving.remove(id);
            }
            wake_after(state, wake);
            return Poll::Ready(Ok(value));
        }
        if state.senders == 0 {
            if let Some(id) = this.id.take() {
                state.receiving.remove(id);
            }
            return Poll::Ready(Err(RecvError));
        }
        let id = *this.id.get_or_insert_with(|| state.new_id());
        state.receiving.register(id, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        let Some(id) = self.id else {
            return;
        };
        let mut state = self.shared.lock();
        let listed = state.receiving.remove(id).is_some();
        // Woken for a value it will not take: pass the wake-up on.
        let wake = if !listed && state.has_value() {
            state.receiving.wake_one()
        } else {
            None
        };
        wake_after(state, wake);
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.senders -= 1;
        if state.senders == 0 {
            let wakers = state.receiving.wake_all();
            wake_after(state, wakers);
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receivers -= 1;
        if state.receivers == 0 {
            // Nobody can receive these any more: drop them outside the lock
            // and wake every waiting sender so it fails with its value.
            let orphans = std::mem::take(&mut state.queue);
            let wakers = state.sending.wake_all();
            wake_after(state, wakers);
            drop(orphans);
        }
    }
}
