//! Twins whose fault is a lost or partial wake-up.
//!
//! The reference channel notifies its waiters inside its own lock, out of
//! reach of a wrapper, so these twins keep the reference channel's queue,
//! capacity and disconnection but block on a wake-up signal of their own: a
//! blocked call retries the reference channel's non-blocking call each time
//! the signal's generation moves. With every notification in place that is
//! a correct channel (without rendezvous, which needs a receiver the queue
//! can see waiting); each twin leaves one notification out.

use chanlab_sync::{Arc, Condvar, Mutex, MutexGuard};
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use chanlab_contract::{
    Api, Capabilities, Capacity, FlavorInfo, RecvError, RecvTimeoutError, SendError, SyncEnds,
    SyncFlavor, TryRecvError, TrySendError, UnsupportedError,
};
use chanlab_impls::reference;

use crate::{Fault, FaultKind};

/// The reference channel's queue behind a wake-up signal that fault `K`
/// gets wrong.
pub struct Polling<K>(PhantomData<K>);

impl<K: FaultKind> SyncFlavor for Polling<K> {
    type Sender<T: Send + 'static> = Sender<K, T>;
    type Receiver<T: Send + 'static> = Receiver<K, T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: K::NAME,
        library: "chanlab-broken",
        api: Api::Sync,
        capabilities: Capabilities {
            rendezvous: false,
            ..chanlab_impls::Reference::INFO.capabilities
        },
        note: Some("deliberately broken"),
        known_failures: &[],
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<SyncEnds<Self, T>, UnsupportedError> {
        Self::INFO.check(capacity)?;
        let (tx, rx) = reference::channel(capacity);
        let signal = Arc::new(Signal {
            state: Mutex::new(Counts {
                generation: 0,
                senders: 1,
                receivers: 1,
                queued: 0,
                capacity: capacity.bound(),
            }),
            moved: Condvar::new(),
        });
        Ok((
            Sender {
                inner: tx,
                signal: signal.clone(),
                kind: PhantomData,
            },
            Receiver {
                inner: rx,
                signal,
                kind: PhantomData,
            },
        ))
    }
}

/// Live handles and a generation that moves on every change a blocked call
/// may be waiting for.
#[derive(Clone, Copy)]
struct Counts {
    generation: u64,
    senders: usize,
    receivers: usize,
    /// Values in the queue.
    queued: usize,
    capacity: Option<usize>,
}

struct Signal {
    state: Mutex<Counts>,
    moved: Condvar,
}

impl Signal {
    fn lock(&self) -> MutexGuard<'_, Counts> {
        self.state.lock()
    }

    fn snapshot(&self) -> Counts {
        *self.lock()
    }

    /// Moves the generation and wakes every waiter, or only one.
    fn bump(&self, every_waiter: bool) {
        self.lock().generation += 1;
        if every_waiter {
            self.moved.notify_all();
        } else {
            self.moved.notify_one();
        }
    }

    /// A value went in: wakes every waiter, but for the twin that wakes
    /// one and only when the queue was empty, and the one that forgets.
    fn sent(&self, fault: Fault, forgets: bool) {
        let was_empty = {
            let mut state = self.lock();
            state.queued += 1;
            state.queued == 1
        };
        match fault {
            _ if forgets => {}
            Fault::SendWakesOnlyWhenEmpty if !was_empty => {}
            Fault::SendWakesOnlyWhenEmpty => self.bump(false),
            _ => self.bump(true),
        }
    }

    /// A value came out: wakes every waiter, but for the twin that wakes
    /// one and only when the queue was full, and the one that forgets.
    fn received(&self, fault: Fault, forgets: bool) {
        let was_full = {
            let mut state = self.lock();
            let full = state.capacity.is_some_and(|room| state.queued >= room);
            state.queued = state.queued.saturating_sub(1);
            full
        };
        match fault {
            _ if forgets => {}
            Fault::SendWakesOnlyWhenEmpty if !was_full => {}
            Fault::SendWakesOnlyWhenEmpty => self.bump(false),
            _ => self.bump(true),
        }
    }

    /// Waits until the generation moves past `seen`; false when `deadline`
    /// passes first.
    fn wait_past(&self, seen: u64, deadline: Option<Instant>) -> bool {
        let mut state = self.lock();
        while state.generation == seen {
            state = match deadline {
                None => self.moved.wait(state),
                Some(deadline) => {
                    let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                        return false;
                    };
                    self.moved.wait_timeout(state, left).0
                }
            };
        }
        true
    }

    /// One side's handle left; the last one wakes the other side.
    fn leave(&self, side: impl FnOnce(&mut Counts) -> &mut usize, every_waiter: bool) {
        let last = {
            let mut state = self.lock();
            let count = side(&mut state);
            *count -= 1;
            *count == 0
        };
        if last {
            self.bump(every_waiter);
        }
    }
}

/// Sending half of a wake-up twin.
pub struct Sender<K: FaultKind, T> {
    inner: reference::Sender<T>,
    signal: Arc<Signal>,
    kind: PhantomData<K>,
}

/// Receiving half of a wake-up twin.
pub struct Receiver<K: FaultKind, T> {
    inner: reference::Receiver<T>,
    signal: Arc<Signal>,
    kind: PhantomData<K>,
}

impl<K: FaultKind, T> Clone for Sender<K, T> {
    fn clone(&self) -> Self {
        self.signal.lock().senders += 1;
        Sender {
            inner: self.inner.clone(),
            signal: self.signal.clone(),
            kind: PhantomData,
        }
    }
}

impl<K: FaultKind, T> Drop for Sender<K, T> {
    fn drop(&mut self) {
        let every = K::FAULT != Fault::DisconnectWakesOne;
        self.signal.leave(|counts| &mut counts.senders, every);
    }
}

impl<K: FaultKind, T> Drop for Receiver<K, T> {
    fn drop(&mut self) {
        let every = K::FAULT != Fault::DisconnectWakesOne;
        self.signal.leave(|counts| &mut counts.receivers, every);
    }
}

impl<K: FaultKind, T: Send + 'static> chanlab_contract::Sender<T> for Sender<K, T> {
    fn send(&self, mut value: T) -> Result<(), SendError<T>> {
        loop {
            let seen = self.signal.snapshot();
            if seen.receivers == 0 {
                return Err(SendError::new(value));
            }
            match chanlab_contract::Sender::try_send(&self.inner, value) {
                Ok(()) => {
                    self.signal.sent(K::FAULT, false);
                    return Ok(());
                }
                Err(TrySendError::Disconnected(back)) => return Err(SendError::new(back)),
                Err(TrySendError::Full(back)) => {
                    value = back;
                    self.signal.wait_past(seen.generation, None);
                }
            }
        }
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        chanlab_contract::Sender::try_send(&self.inner, value)?;
        self.signal
            .sent(K::FAULT, K::FAULT == Fault::TrySendForgetsWake);
        Ok(())
    }
}

impl<K: FaultKind, T: Send + 'static> chanlab_contract::Receiver<T> for Receiver<K, T> {
    fn recv(&mut self) -> Result<T, RecvError> {
        self.recv_until(None).map_err(|_| RecvError)
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let value = chanlab_contract::Receiver::try_recv(&mut self.inner)?;
        self.signal
            .received(K::FAULT, K::FAULT == Fault::TryRecvForgetsWake);
        Ok(value)
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.recv_until(Instant::now().checked_add(timeout))
    }

    fn try_clone(&self) -> Option<Self> {
        let inner = chanlab_contract::Receiver::try_clone(&self.inner)?;
        self.signal.lock().receivers += 1;
        Some(Receiver {
            inner,
            signal: self.signal.clone(),
            kind: PhantomData,
        })
    }
}

impl<K: FaultKind, T: Send + 'static> Receiver<K, T> {
    fn recv_until(&mut self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        loop {
            let seen = self.signal.snapshot();
            match chanlab_contract::Receiver::try_recv(&mut self.inner) {
                Ok(value) => {
                    self.signal.received(K::FAULT, false);
                    return Ok(value);
                }
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) if seen.senders == 0 => {
                    return Err(RecvTimeoutError::Disconnected);
                }
                Err(TryRecvError::Empty) => {
                    if !self.signal.wait_past(seen.generation, deadline) {
                        return Err(RecvTimeoutError::Timeout);
                    }
                }
            }
        }
    }
}
