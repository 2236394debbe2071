//! A small MPMC channel with a blocking end and an async end over one
//! queue, written as a library author would bring it to chanlab: it
//! implements `chanlab-contract`'s traits, and its tests run chanlab's
//! conformance suites on it (`tests/conformance.rs`).
//!
//! # Algorithm
//! One mutex over a queue and the handle counts. Every change (a value
//! queued or taken, the last sender or receiver gone) bumps a generation
//! counter and wakes every waiter: threads through one condition variable,
//! tasks through the wakers they left. A waiter that saw generation `g`
//! sleeps until the generation moves past `g`, and reads `g` under the same
//! lock as its failed attempt, so no change between the two is missed.
//! Waking everyone is simple and loses no wake-up; it is not fast, and
//! chanlab's benchmarks show what it costs. A receive takes a value only in
//! the poll that returns it, so a dropped receive future takes nothing.
//! Values are dropped outside the lock.

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

/// What both flavors declare: bounded (capacity 1 or more) and unbounded,
/// many producers and consumers, no rendezvous, no select.
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
        let (sender, receiver) = Handles::new(capacity);
        Ok((Sender(sender), Receiver(receiver)))
    }
}

impl AsyncFlavor for ExampleAsync {
    type Sender<T: Send + 'static> = AsyncSender<T>;
    type Receiver<T: Send + 'static> = AsyncReceiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "example-async",
        library: "example-channel",
        api: Api::Async,
        capabilities: CAPABILITIES,
        note: None,
        known_failures: &[],
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<AsyncEnds<Self, T>, UnsupportedError> {
        Self::INFO.check(capacity)?;
        let (sender, receiver) = Handles::new(capacity);
        Ok((AsyncSender(sender), AsyncReceiver(receiver)))
    }
}

impl Bridge for ExampleBridge {
    type Sync = Example;
    type Async = ExampleAsync;

    fn sync_to_async<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<T>, AsyncReceiver<T>), UnsupportedError> {
        Example::INFO.check(capacity)?;
        let (sender, receiver) = Handles::new(capacity);
        Ok((Sender(sender), AsyncReceiver(receiver)))
    }

    fn async_to_sync<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(AsyncSender<T>, Receiver<T>), UnsupportedError> {
        Example::INFO.check(capacity)?;
        let (sender, receiver) = Handles::new(capacity);
        Ok((AsyncSender(sender), Receiver(receiver)))
    }
}

/// What the two ends share.
struct Shared<T> {
    /// Everything mutable, under one lock.
    state: Mutex<State<T>>,
    /// Signalled, to every waiting thread, on every change.
    changed: Condvar,
}

struct State<T> {
    /// Values sent and not yet received, oldest first.
    queue: VecDeque<T>,
    /// `None` for unbounded.
    capacity: Option<usize>,
    /// Live sender handles, blocking and async.
    senders: usize,
    /// Live receiver handles, blocking and async.
    receivers: usize,
    /// Bumped on every change a waiter could be waiting for.
    generation: u64,
    /// The tasks waiting for the next change.
    wakers: Vec<Waker>,
}

/// What a non-blocking send found.
enum Push<T> {
    Done,
    /// The queue is full: the value back, and the generation to wait past.
    Full(T, u64),
    Disconnected(T),
}

/// What a non-blocking receive found.
enum Pop<T> {
    Value(T),
    /// Nothing queued: the generation to wait past.
    Empty(u64),
    Disconnected,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No code of a user runs under the lock, so a poisoned lock still
        // holds consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a change and wakes every waiter, threads and tasks.
    fn publish(&self, mut state: MutexGuard<'_, State<T>>) {
        state.generation += 1;
        let wakers = std::mem::take(&mut state.wakers);
        drop(state);
        self.changed.notify_all();
        wakers.into_iter().for_each(Waker::wake);
    }

    fn try_push(&self, value: T) -> Push<T> {
        let mut state = self.lock();
        if state.receivers == 0 {
            return Push::Disconnected(value);
        }
        if state
            .capacity
            .is_some_and(|capacity| state.queue.len() >= capacity)
        {
            return Push::Full(value, state.generation);
        }
        state.queue.push_back(value);
        self.publish(state);
        Push::Done
    }

    fn try_pop(&self) -> Pop<T> {
        let mut state = self.lock();
        match state.queue.pop_front() {
            Some(value) => {
                self.publish(state);
                Pop::Value(value)
            }
            None if state.senders == 0 => Pop::Disconnected,
            None => Pop::Empty(state.generation),
        }
    }

    /// Blocks the thread until the generation moves past `seen`, or until
    /// `deadline`; false when the deadline came first.
    fn wait_past(&self, seen: u64, deadline: Option<Instant>) -> bool {
        let mut state = self.lock();
        while state.generation == seen {
            match deadline {
                None => {
                    state = self
                        .changed
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner)
                }
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    state = self
                        .changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
        true
    }

    /// A future that completes once the generation moves past `seen`.
    fn changed_past(&self, seen: u64) -> impl Future<Output = ()> + Send + '_
    where
        T: Send,
    {
        poll_fn(move |cx| {
            let mut state = self.lock();
            if state.generation != seen {
                return Poll::Ready(());
            }
            if !state.wakers.iter().any(|waker| waker.will_wake(cx.waker())) {
                state.wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
    }
}

/// The shared state seen through one sender handle or one receiver
/// handle: cloning and dropping one keeps the counts.
struct Handles<T> {
    shared: Arc<Shared<T>>,
    role: Role,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Sender,
    Receiver,
}

impl<T> Handles<T> {
    fn new(capacity: Capacity) -> (Handles<T>, Handles<T>) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                capacity: capacity.bound(),
                senders: 1,
                receivers: 1,
                generation: 0,
                wakers: Vec::new(),
            }),
            changed: Condvar::new(),
        });
        let receiver = Handles {
            shared: Arc::clone(&shared),
            role: Role::Receiver,
        };
        (
            Handles {
                shared,
                role: Role::Sender,
            },
            receiver,
        )
    }
}

impl<T> Clone for Handles<T> {
    fn clone(&self) -> Self {
        let mut state = self.shared.lock();
        match self.role {
            Role::Sender => state.senders += 1,
            Role::Receiver => state.receivers += 1,
        }
        Handles {
            shared: Arc::clone(&self.shared),
            role: self.role,
        }
    }
}

impl<T> Drop for Handles<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        let last = match self.role {
            Role::Sender => {
                state.senders -= 1;
                state.senders == 0
            }
            Role::Receiver => {
                state.receivers -= 1;
                state.receivers == 0
            }
        };
        if !last {
            return;
        }
        // The last receiver takes the queue with it: nobody can receive it.
        let stranded = if self.role == Role::Receiver {
            std::mem::take(&mut state.queue)
        } else {
            VecDeque::new()
        };
        self.shared.publish(state);
        drop(stranded);
    }
}

impl<T> Handles<T> {
    fn send_blocking(&self, mut value: T) -> Result<(), SendError<T>> {
        loop {
            match self.shared.try_push(value) {
                Push::Done => return Ok(()),
                Push::Disconnected(back) => return Err(SendError::new(back)),
                Push::Full(back, seen) => {
                    value = back;
                    self.shared.wait_past(seen, None);
                }
            }
        }
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.shared.try_push(value) {
            Push::Done => Ok(()),
            Push::Full(back, _) => Err(TrySendError::Full(back)),
            Push::Disconnected(back) => Err(TrySendError::Disconnected(back)),
        }
    }

    fn recv_blocking(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        loop {
            match self.shared.try_pop() {
                Pop::Value(value) => return Ok(value),
                Pop::Disconnected => return Err(RecvTimeoutError::Disconnected),
                Pop::Empty(seen) => {
                    if !self.shared.wait_past(seen, deadline) {
                        // One last look, so a value that came with the
                        // deadline is not left behind.
                        return match self.shared.try_pop() {
                            Pop::Value(value) => Ok(value),
                            Pop::Disconnected => Err(RecvTimeoutError::Disconnected),
                            Pop::Empty(_) => Err(RecvTimeoutError::Timeout),
                        };
                    }
                }
            }
        }
    }

    fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.shared.try_pop() {
            Pop::Value(value) => Ok(value),
            Pop::Empty(_) => Err(TryRecvError::Empty),
            Pop::Disconnected => Err(TryRecvError::Disconnected),
        }
    }
}

impl<T: Send> Handles<T> {
    async fn send_async(&self, mut value: T) -> Result<(), SendError<T>> {
        loop {
            match self.shared.try_push(value) {
                Push::Done => return Ok(()),
                Push::Disconnected(back) => return Err(SendError::new(back)),
                Push::Full(back, seen) => {
                    value = back;
                    self.shared.changed_past(seen).await;
                }
            }
        }
    }

    async fn recv_async(&self) -> Result<T, RecvError> {
        loop {
            match self.shared.try_pop() {
                Pop::Value(value) => return Ok(value),
                Pop::Disconnected => return Err(RecvError),
                Pop::Empty(seen) => self.shared.changed_past(seen).await,
            }
        }
    }
}

/// The blocking sending half.
pub struct Sender<T>(Handles<T>);

/// The blocking receiving half.
pub struct Receiver<T>(Handles<T>);

/// The async sending half.
pub struct AsyncSender<T>(Handles<T>);

/// The async receiving half.
pub struct AsyncReceiver<T>(Handles<T>);

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
        // A timeout past what `Instant` can hold waits like `recv`.
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
