//! chanlab's reference channel: a bounded, unbounded or rendezvous MPMC
//! channel on one mutex and two condition variables.
//!
//! It is written to be read and model-checked, not to be fast. All state sits
//! behind one [`Mutex`]; blocked receivers wait on `not_empty`, blocked
//! senders on `ready`. It is built on the [`chanlab_sync`] facade so that
//! loom models can check this exact code; `recv_timeout` reads the real
//! clock and is outside what loom can model (loom's `wait_timeout` never
//! times out).
//!
//! # Rendezvous
//!
//! A rendezvous channel (capacity 0) admits a value only when a receiver is
//! already blocked waiting and has not been promised another value:
//! `queue.len() < waiting_receivers`. A waiting receiver always takes what is
//! queued before it gives up (on timeout or spurious wake-up), so an admitted
//! value is never stranded. A sender therefore never needs to take its value
//! back, and every value in the queue belongs to the receivers. A blocked
//! sender hands off only to a receiver waiting in `recv` or `recv_timeout`;
//! `try_recv` does not see it (crossbeam's zero-capacity channel differs
//! here; the spec allows both).
//!
//! # Invariants (hold whenever the lock is free)
//! - `queue.len() <= capacity` for a bounded channel with capacity > 0;
//!   `queue.len() <= waiting_receivers` for a rendezvous channel.
//! - Once `receivers == 0` the queue is empty and stays empty.
//! - Values are moved out of the lock before they are dropped, so no user
//!   `Drop` runs while the lock is held.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chanlab_contract::{
    Api, Capabilities, Capacity, FlavorInfo, RecvError, RecvTimeoutError, SendError, SyncFlavor,
    TryRecvError, TrySendError, UnsupportedError,
};
use chanlab_sync::{Arc, Condvar, Mutex, MutexGuard};

/// chanlab's own channel ([module docs](self)).
pub struct Reference;

impl SyncFlavor for Reference {
    type Sender<T: Send + 'static> = Sender<T>;
    type Receiver<T: Send + 'static> = Receiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "reference",
        library: "chanlab",
        api: Api::Sync,
        capabilities: Capabilities {
            multi_consumer: true,
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
        Ok(channel(capacity))
    }
}

/// Creates a reference channel of any capacity.
pub fn channel<T>(capacity: Capacity) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            capacity: capacity.bound(),
            senders: 1,
            receivers: 1,
            waiting_receivers: 0,
        }),
        not_empty: Condvar::new(),
        ready: Condvar::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

struct Shared<T> {
    /// Everything mutable, under one lock.
    state: Mutex<State<T>>,
    /// Signalled when a value is queued or the last sender leaves.
    not_empty: Condvar,
    /// Signalled when a sender may be able to push: space was freed, a
    /// receiver started waiting, or the last receiver left.
    ready: Condvar,
}

struct State<T> {
    /// Values sent and not yet received, oldest first.
    queue: VecDeque<T>,
    /// `None` for unbounded; `Some(0)` for rendezvous.
    capacity: Option<usize>,
    /// Live `Sender` handles.
    senders: usize,
    /// Live `Receiver` handles.
    receivers: usize,
    /// Receivers blocked in `recv`/`recv_timeout`; each may be promised one
    /// queued value on a rendezvous channel.
    waiting_receivers: usize,
}

impl<T> State<T> {
    fn has_room(&self) -> bool {
        match self.capacity {
            None => true,
            Some(0) => self.queue.len() < self.waiting_receivers,
            Some(cap) => self.queue.len() < cap,
        }
    }
}

impl<T> Shared<T> {
    fn wait<'a>(
        &self,
        condvar: &Condvar,
        guard: MutexGuard<'a, State<T>>,
    ) -> MutexGuard<'a, State<T>> {
        condvar.wait(guard)
    }

    /// Takes the oldest value, waking a sender that may now have room.
    fn pop(&self, state: &mut State<T>) -> Option<T> {
        let value = state.queue.pop_front()?;
        self.ready.notify_one();
        Some(value)
    }

    fn push(&self, state: &mut State<T>, value: T) {
        state.queue.push_back(value);
        self.not_empty.notify_one();
    }
}

/// The sending half of a reference channel.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half of a reference channel; clones share the queue.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Send + 'static> chanlab_contract::Sender<T> for Sender<T> {
    fn send(&self, value: T) -> Result<(), SendError<T>> {
        let shared = &*self.shared;
        let mut state = shared.state.lock();
        loop {
            if state.receivers == 0 {
                return Err(SendError::new(value));
            }
            if state.has_room() {
                shared.push(&mut state, value);
                return Ok(());
            }
            state = shared.wait(&shared.ready, state);
        }
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let shared = &*self.shared;
        let mut state = shared.state.lock();
        if state.receivers == 0 {
            Err(TrySendError::Disconnected(value))
        } else if state.has_room() {
            shared.push(&mut state, value);
            Ok(())
        } else {
            Err(TrySendError::Full(value))
        }
    }
}

impl<T: Send + 'static> chanlab_contract::Receiver<T> for Receiver<T> {
    fn recv(&mut self) -> Result<T, RecvError> {
        self.recv_until(None).map_err(|_| RecvError)
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let shared = &*self.shared;
        let mut state = shared.state.lock();
        match shared.pop(&mut state) {
            Some(value) => Ok(value),
            None if state.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        // A deadline too far to represent is no deadline.
        self.recv_until(Instant::now().checked_add(timeout))
    }

    fn try_clone(&self) -> Option<Self> {
        self.shared.state.lock().receivers += 1;
        Some(Receiver {
            shared: self.shared.clone(),
        })
    }
}

impl<T> Receiver<T> {
    /// Blocks until a value arrives, every sender is gone, or `deadline`.
    fn recv_until(&mut self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let shared = &*self.shared;
        let mut state = shared.state.lock();
        loop {
            // Always take a queued value before giving up: on a rendezvous
            // channel it may have been admitted on this receiver's promise.
            if let Some(value) = shared.pop(&mut state) {
                return Ok(value);
            }
            if state.senders == 0 {
                return Err(RecvTimeoutError::Disconnected);
            }
            let remaining = match deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(remaining) if !remaining.is_zero() => Some(remaining),
                    _ => return Err(RecvTimeoutError::Timeout),
                },
            };
            state.waiting_receivers += 1;
            if state.capacity == Some(0) {
                // A rendezvous sender may be waiting for exactly this.
                shared.ready.notify_one();
            }
            state = match remaining {
                None => shared.wait(&shared.not_empty, state),
                Some(remaining) => shared.not_empty.wait_timeout(state, remaining).0,
            };
            state.waiting_receivers -= 1;
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.state.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.shared.state.lock();
        state.senders -= 1;
        if state.senders == 0 {
            self.shared.not_empty.notify_all();
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.shared.state.lock();
        state.receivers -= 1;
        if state.receivers == 0 {
            // Nobody can receive these any more: drop them now, outside the
            // lock, and wake every blocked sender so it fails.
            let orphans = std::mem::take(&mut state.queue);
            self.shared.ready.notify_all();
            drop(state);
            drop(orphans);
        }
    }
}
