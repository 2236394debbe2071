//! A small MPMC channel with a blocking end and an async end over one
//! queue, written as a library author would bring it to chanlab: it
//! implements `chanlab-contract`'s traits, its tests run chanlab's
//! conformance suites on it (`tests/conformance.rs`), and its runner
//! (`runner/`) measures it beside the shipped libraries. The contract's
//! docs (`chanlab_contract::implementing`) show this file as their
//! complete example and compile it as a doctest.
//!
//! # Algorithm
//! One mutex over a queue and the handle counts; every change wakes every
//! waiting thread (one condition variable) and every waiting task (the
//! wakers they left). A waiter checks and sleeps under one lock, so no
//! change between the two is missed. Waking everyone loses no wake-up and
//! is slow; chanlab's benchmarks show by how much. A receive takes a value
//! only in the poll that returns it, so a dropped receive future takes
//! nothing (`cancel_safe_recv`); a send future holds nothing while it
//! waits, so dropping it has nothing to give back. Bounded (capacity 1 and
//! more) and unbounded channels; no rendezvous, no select.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use chanlab_contract::{
    Api, AsyncEnds, AsyncFlavor, Bridge, Capabilities, Capacity, FlavorInfo, RecvError,
    RecvTimeoutError, SendError, SyncEnds, SyncFlavor, TryRecvError, TrySendError,
    UnsupportedError,
};

/// What both flavors declare: bounded and unbounded, many producers and
/// consumers, cancel-safe receive futures.
const CAPABILITIES: Capabilities = Capabilities {
    multi_consumer: true,
    rendezvous: false,
    unbounded: true,
    select: false,
    cancel_safe_recv: true,
};

/// The channel's blocking flavor.
pub struct Example;

/// The channel's async flavor.
pub struct ExampleAsync;

/// Its blocking and async ends over one channel.
pub struct ExampleBridge;

struct State<T> {
    queue: VecDeque<T>,
    bound: Option<usize>,
    senders: usize,
    receivers: usize,
    tasks: Vec<Waker>,
}

impl<T> State<T> {
    fn handles(&mut self, sends: bool) -> &mut usize {
        if sends {
            &mut self.senders
        } else {
            &mut self.receivers
        }
    }
}

struct Shared<T> {
    state: Mutex<State<T>>,
    threads: Condvar,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No user code runs under the lock: a poisoned one is consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake_all(&self, state: &mut State<T>) {
        self.threads.notify_all();
        state.tasks.drain(..).for_each(Waker::wake);
    }

    /// One attempt to send, under the lock the caller may go on to wait on.
    fn push(&self, state: &mut State<T>, value: T) -> Result<(), TrySendError<T>> {
        if state.receivers == 0 {
            return Err(TrySendError::Disconnected(value));
        }
        if state.bound.is_some_and(|bound| state.queue.len() >= bound) {
            return Err(TrySendError::Full(value));
        }
        state.queue.push_back(value);
        self.wake_all(state);
        Ok(())
    }

    fn pop(&self, state: &mut State<T>) -> Result<T, TryRecvError> {
        match state.queue.pop_front() {
            Some(value) => {
                self.wake_all(state);
                Ok(value)
            }
            None if state.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }
}

/// One end of either family: the counts follow its clones and drops.
struct End<T> {
    shared: Arc<Shared<T>>,
    sends: bool,
}

fn ends<T>(capacity: Capacity) -> (End<T>, End<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            bound: capacity.bound(),
            senders: 1,
            receivers: 1,
            tasks: Vec::new(),
        }),
        threads: Condvar::new(),
    });
    let receiving = End {
        shared: Arc::clone(&shared),
        sends: false,
    };
    (
        End {
            shared,
            sends: true,
        },
        receiving,
    )
}

impl<T> Clone for End<T> {
    fn clone(&self) -> Self {
        *self.shared.lock().handles(self.sends) += 1;
        End {
            shared: Arc::clone(&self.shared),
            sends: self.sends,
        }
    }
}

impl<T> Drop for End<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        let left = state.handles(self.sends);
        *left -= 1;
        if *left > 0 {
            return;
        }
        // The last receiver takes the queue with it (dropped outside the lock).
        let stranded = if self.sends {
            VecDeque::new()
        } else {
            std::mem::take(&mut state.queue)
        };
        self.shared.wake_all(&mut state);
        drop(state);
        drop(stranded);
    }
}

impl<T> End<T> {
    fn send_blocking(&self, mut value: T) -> Result<(), SendError<T>> {
        let mut state = self.shared.lock();
        loop {
            match self.shared.push(&mut state, value) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Disconnected(back)) => return Err(SendError::new(back)),
                Err(TrySendError::Full(back)) => value = back,
            }
            state = self
                .shared
                .threads
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn recv_blocking(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let mut state = self.shared.lock();
        loop {
            match self.shared.pop(&mut state) {
                Ok(value) => return Ok(value),
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {}
            }
            let threads = &self.shared.threads;
            state = match deadline {
                None => threads.wait(state).unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(RecvTimeoutError::Timeout);
                    }
                    threads
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.shared.push(&mut self.shared.lock(), value)
    }

    fn try_recv(&self) -> Result<T, TryRecvError> {
        self.shared.pop(&mut self.shared.lock())
    }
}

impl<T: Send> End<T> {
    fn send_async(&self, value: T) -> impl Future<Output = Result<(), SendError<T>>> + Send + '_ {
        let mut value = Some(value);
        poll_fn(move |cx| {
            let mut state = self.shared.lock();
            let attempt = value.take().expect("polled after it completed");
            match self.shared.push(&mut state, attempt) {
                Ok(()) => Poll::Ready(Ok(())),
                Err(TrySendError::Disconnected(back)) => Poll::Ready(Err(SendError::new(back))),
                Err(TrySendError::Full(back)) => {
                    value = Some(back);
                    // The latest waker is the one to wake.
                    state.tasks.push(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }

    fn recv_async(&self) -> impl Future<Output = Result<T, RecvError>> + Send + '_ {
        poll_fn(move |cx| {
            let mut state = self.shared.lock();
            match self.shared.pop(&mut state) {
                Ok(value) => Poll::Ready(Ok(value)),
                Err(TryRecvError::Disconnected) => Poll::Ready(Err(RecvError)),
                Err(TryRecvError::Empty) => {
                    state.tasks.push(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }
}

/// The blocking sending half.
pub struct Sender<T>(End<T>);

/// The blocking receiving half.
pub struct Receiver<T>(End<T>);

/// The async sending half.
pub struct AsyncSender<T>(End<T>);

/// The async receiving half.
pub struct AsyncReceiver<T>(End<T>);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender(self.0.clone())
    }
}

impl<T> Clone for AsyncSender<T> {
    fn clone(&self) -> Self {
        AsyncSender(self.0.clone())
    }
}

impl<T: Send + 'static> chanlab_contract::Sender<T> for Sender<T> {
    fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.0.send_blocking(value)
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.0.try_send(value)
    }
}

impl<T: Send + 'static> chanlab_contract::Receiver<T> for Receiver<T> {
    fn recv(&mut self) -> Result<T, RecvError> {
        self.0.recv_blocking(None).map_err(|_| RecvError)
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.0.try_recv()
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        // A deadline past what `Instant` holds waits like `recv` (R8).
        self.0.recv_blocking(Instant::now().checked_add(timeout))
    }

    fn try_clone(&self) -> Option<Self> {
        Some(Receiver(self.0.clone()))
    }
}

impl<T: Send + 'static> chanlab_contract::AsyncSender<T> for AsyncSender<T> {
    fn send(&self, value: T) -> impl Future<Output = Result<(), SendError<T>>> + Send {
        self.0.send_async(value)
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.0.try_send(value)
    }
}

impl<T: Send + 'static> chanlab_contract::AsyncReceiver<T> for AsyncReceiver<T> {
    fn recv(&mut self) -> impl Future<Output = Result<T, RecvError>> + Send {
        self.0.recv_async()
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.0.try_recv()
    }

    fn try_clone(&self) -> Option<Self> {
        Some(AsyncReceiver(self.0.clone()))
    }
}

impl SyncFlavor for Example {
    type Sender<T: Send + 'static> = Sender<T>;
    type Receiver<T: Send + 'static> = Receiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "example",
        library: "example-channel",
        api: Api::Sync,
        capabilities: CAPABILITIES,
        note: None,
        known_failures: &[],
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<SyncEnds<Self, T>, UnsupportedError> {
        Self::INFO.check(capacity)?;
        let (sending, receiving) = ends(capacity);
        Ok((Sender(sending), Receiver(receiving)))
    }
}

impl AsyncFlavor for ExampleAsync {
    type Sender<T: Send + 'static> = AsyncSender<T>;
    type Receiver<T: Send + 'static> = AsyncReceiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "example-async",
        api: Api::Async,
        ..Example::INFO
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<AsyncEnds<Self, T>, UnsupportedError> {
        Self::INFO.check(capacity)?;
        let (sending, receiving) = ends(capacity);
        Ok((AsyncSender(sending), AsyncReceiver(receiving)))
    }
}

impl Bridge for ExampleBridge {
    type Sync = Example;
    type Async = ExampleAsync;

    fn sync_to_async<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<T>, AsyncReceiver<T>), UnsupportedError> {
        Example::INFO.check(capacity)?;
        let (sending, receiving) = ends(capacity);
        Ok((Sender(sending), AsyncReceiver(receiving)))
    }

    fn async_to_sync<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(AsyncSender<T>, Receiver<T>), UnsupportedError> {
        Example::INFO.check(capacity)?;
        let (sending, receiving) = ends(capacity);
        Ok((AsyncSender(sending), Receiver(receiving)))
    }
}
