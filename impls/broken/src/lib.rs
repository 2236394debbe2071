//! Deliberately broken channels. A checker that cannot fail proves nothing,
//! so every checker in chanlab is run against these twins and must reject
//! each one. They are never part of a default run.
//!
//! Each twin is chanlab's reference channel with one [`Fault`] injected in
//! a thin wrapper ([`Broken`]), so everything else about it is correct and
//! the fault is the only thing a checker can catch. Wake-up faults live
//! inside a channel's locking, out of a wrapper's reach: their twins
//! ([`Polling`]) keep the reference channel's queue behind a wake-up signal
//! of their own, and leave one notification out. The async twins
//! ([`AsyncPolling`]) put futures of their own in front of that queue and
//! get one thing wrong in how they wait, wake, hand off or drop.

mod asynchronous;
pub mod child;
mod lingering;
mod wakeup;

pub use asynchronous::{AsyncPolling, PollingBridge};
pub use lingering::Lingering;
pub use wakeup::Polling;

use chanlab_sync::atomic::{AtomicUsize, Ordering};
use chanlab_sync::{Arc, Mutex};
use std::any::Any;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use chanlab_conformance::payload::{Stamp, Tracked};
use chanlab_contract::{
    Api, Capacity, FlavorInfo, FlavorVisitor, RecvError, RecvTimeoutError, SendError, SyncEnds,
    SyncFlavor, TryRecvError, TrySendError, UnsupportedError,
};
use chanlab_impls::reference;

/// The one thing a twin gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every 7th accepted message is silently discarded.
    Loses,
    /// Every 7th received message is delivered twice (for the plain
    /// `Copy` message types the checks and patterns send).
    Duplicates,
    /// Every 5th receive swaps a message with the one behind it.
    Reorders,
    /// Every 7th message a sender handle sends is replaced by a copy of the
    /// one it sent before (for the plain `Copy` message types): one message
    /// lost and another delivered twice, so that producer's count still
    /// adds up. With several receivers the copy may reach a different one
    /// than the original.
    ReplacesWithDuplicate,
    /// Receivers never see the senders disconnect.
    NeverDisconnects,
    /// One in `one_in` of the sends that start while another send is in
    /// progress is accepted and silently discarded: a fault that shows
    /// only sometimes, and only under contention (the detection-power
    /// twins, `ci/power.sh`).
    LosesUnderContention {
        /// How many contended sends per lost message.
        one_in: usize,
    },
    /// Values still buffered when the last receiver leaves are leaked.
    Leaks,
    /// Values still buffered when the last receiver leaves are leaked, but
    /// only once the buffer has turned past its capacity (a drop that
    /// walks its ring from head to tail without wrapping).
    LeaksAfterWrap,
    /// A bounded channel accepts without limit.
    IgnoresCapacity,
    /// A rendezvous channel secretly buffers one message.
    FakesRendezvous,
    /// A send that fails drops the value instead of handing it back.
    SwallowsRefusedValue,
    /// `recv_timeout` gives up after a tenth of the timeout.
    TimesOutEarly,
    /// `recv_timeout` waits twenty times its timeout, from
    /// [`LATE_FROM`] on: right at the edges, far too late in between.
    TimesOutLate,
    /// `recv_timeout` rounds its timeout down to whole milliseconds, so
    /// one under a millisecond returns at once.
    RoundsTimeoutDown,
    /// `recv_timeout` computes its deadline as `Instant::now() + timeout`,
    /// which panics when the timeout is too large to represent.
    PanicsOnHugeTimeout,
    /// `recv_timeout` turns a deadline it cannot represent into "now", so
    /// a huge timeout returns `Timeout` at once instead of waiting.
    HugeTimeoutReturnsAtOnce,
    /// Every 7th received drop-counted value ([`Tracked`]) is dropped a
    /// second time (a count through a clone with the same id, not undefined
    /// behaviour).
    ///
    /// [`Tracked`]: chanlab_conformance::payload::Tracked
    DropsTwice,
    /// `try_send` does not wake a receiver blocked waiting for a message
    /// ([`Polling`] twin).
    TrySendForgetsWake,
    /// `try_recv` does not wake a sender blocked waiting for room
    /// ([`Polling`] twin).
    TryRecvForgetsWake,
    /// The last handle of one side leaving wakes only one of the parties
    /// blocked on the other side ([`Polling`] twin).
    DisconnectWakesOne,
    /// Receive futures share one waker slot per channel: with several
    /// waiting, only the newest is known, and a send wakes no other
    /// ([`AsyncPolling`] twin).
    LosesWaker,
    /// A send hands its value directly to a waiting receive future, which
    /// drops it if it is dropped before its next poll, as kanal 0.1.1's
    /// does ([`AsyncPolling`] twin).
    RecvTakesThenDrops,
    /// A send future dropped while it waits for room delivers its value
    /// anyway, and counts a drop of it too ([`AsyncPolling`] twin).
    DroppedSendDeliversAndDrops,
    /// A receive future woken for a value and dropped before its next poll
    /// does not pass the wake-up on to another waiting receive future
    /// ([`AsyncPolling`] twin).
    WokenRecvSwallowsWake,
    /// A send wakes a blocked receiver only when the queue was empty
    /// before it, and a receive wakes a blocked sender only when the queue
    /// was full: right for one waiter at a time, and all but one of several
    /// waiters sleep on through back-to-back operations ([`Polling`] twin).
    SendWakesOnlyWhenEmpty,
    /// A receive future keeps the waker of its first poll: polled again
    /// with another (its task moved), it is woken through the stale one
    /// ([`AsyncPolling`] twin).
    RecvKeepsFirstWaker,
    /// A send wakes a waiting receive future only when the queue was empty
    /// before it ([`AsyncPolling`] twin).
    AsyncWakesOnlyWhenEmpty,
    /// A send future woken for room and dropped before its next poll keeps
    /// the slot it was woken for, for good ([`AsyncPolling`] twin).
    DroppedSendKeepsSlot,
    /// A send future dropped while it waits leaves its value behind for
    /// the next receive, at every capacity, rendezvous included
    /// ([`Lingering`] twin).
    CancelledSendLingers,
    /// Correct, but every send first spins for [`SLOW_SEND`]: the twin of
    /// the regression gate (`chanlab compare`), which must flag it against
    /// the reference channel.
    Slow,
    /// Correct, but a receive on an empty channel spins on `try_recv`
    /// instead of parking: the twin of the idle load, whose CPU figure
    /// must show it busy while it waits.
    SpinsWhenEmpty,
}

/// The shortest timeout a [`Fault::TimesOutLate`] twin overstays.
pub const LATE_FROM: Duration = Duration::from_millis(10);

/// How long a [`Fault::Slow`] twin spins before each send.
pub const SLOW_SEND: Duration = Duration::from_micros(5);

/// Names a fault at the type level, so each twin is its own flavor.
pub trait FaultKind: Send + Sync + 'static {
    /// The fault this twin has.
    const FAULT: Fault;
    /// The twin's flavor name.
    const NAME: &'static str;
}

/// A marker's fault: the variant of its name, or the one given.
macro_rules! fault_of {
    ($kind:ident) => {
        Fault::$kind
    };
    ($kind:ident $fault:expr) => {
        $fault
    };
}

macro_rules! twins {
    ($($kind:ident $(= $fault:expr)? => $name:literal in $flavor:ident as $visit:ident,)+) => {
        $(
            #[doc = concat!("Marker for the `", $name, "` twin.")]
            pub struct $kind;
            impl FaultKind for $kind {
                const FAULT: Fault = fault_of!($kind $($fault)?);
                const NAME: &'static str = $name;
            }
        )+

        /// Calls `visitor` once for every broken twin.
        pub fn visit_all(visitor: &mut impl FlavorVisitor) {
            $(visitor.$visit::<$flavor<$kind>>();)+
        }
    };
}

twins! {
    Loses => "broken-loses" in Broken as visit_sync,
    LosesOneIn64 = Fault::LosesUnderContention { one_in: 64 }
        => "broken-loses-1-in-64-under-contention" in Broken as visit_sync,
    LosesOneIn1024 = Fault::LosesUnderContention { one_in: 1024 }
        => "broken-loses-1-in-1024-under-contention" in Broken as visit_sync,
    LosesOneIn16384 = Fault::LosesUnderContention { one_in: 16_384 }
        => "broken-loses-1-in-16384-under-contention" in Broken as visit_sync,
    Duplicates => "broken-duplicates" in Broken as visit_sync,
    Reorders => "broken-reorders" in Broken as visit_sync,
    ReplacesWithDuplicate => "broken-replaces-with-duplicate" in Broken as visit_sync,
    NeverDisconnects => "broken-never-disconnects" in Broken as visit_sync,
    Leaks => "broken-leaks" in Broken as visit_sync,
    LeaksAfterWrap => "broken-leaks-after-wrap" in Broken as visit_sync,
    IgnoresCapacity => "broken-ignores-capacity" in Broken as visit_sync,
    FakesRendezvous => "broken-fakes-rendezvous" in Broken as visit_sync,
    SwallowsRefusedValue => "broken-swallows-refused-value" in Broken as visit_sync,
    TimesOutEarly => "broken-times-out-early" in Broken as visit_sync,
    TimesOutLate => "broken-times-out-late" in Broken as visit_sync,
    RoundsTimeoutDown => "broken-rounds-timeout-down" in Broken as visit_sync,
    PanicsOnHugeTimeout => "broken-panics-on-huge-timeout" in Broken as visit_sync,
    HugeTimeoutReturnsAtOnce => "broken-huge-timeout-returns-at-once" in Broken as visit_sync,
    DropsTwice => "broken-drops-twice" in Broken as visit_sync,
    TrySendForgetsWake => "broken-try-send-forgets-wake" in Polling as visit_sync,
    TryRecvForgetsWake => "broken-try-recv-forgets-wake" in Polling as visit_sync,
    DisconnectWakesOne => "broken-disconnect-wakes-one" in Polling as visit_sync,
    LosesWaker => "broken-async-loses-waker" in AsyncPolling as visit_async,
    RecvTakesThenDrops => "broken-async-recv-takes-then-drops" in AsyncPolling as visit_async,
    DroppedSendDeliversAndDrops => "broken-async-dropped-send-delivers-and-drops" in AsyncPolling as visit_async,
    WokenRecvSwallowsWake => "broken-async-woken-recv-swallows-wake" in AsyncPolling as visit_async,
    SendWakesOnlyWhenEmpty => "broken-send-wakes-only-when-empty" in Polling as visit_sync,
    RecvKeepsFirstWaker => "broken-async-recv-keeps-first-waker" in AsyncPolling as visit_async,
    AsyncWakesOnlyWhenEmpty => "broken-async-wakes-only-when-empty" in AsyncPolling as visit_async,
    DroppedSendKeepsSlot => "broken-async-dropped-send-keeps-slot" in AsyncPolling as visit_async,
    CancelledSendLingers => "broken-async-cancelled-send-lingers" in Lingering as visit_async,
    Slow => "broken-slow" in Broken as visit_sync,
    SpinsWhenEmpty => "broken-spins-when-empty" in Broken as visit_sync,
}

/// The reference channel with fault `K` injected.
pub struct Broken<K>(PhantomData<K>);

impl<K: FaultKind> SyncFlavor for Broken<K> {
    type Sender<T: Send + 'static> = Sender<K, T>;
    type Receiver<T: Send + 'static> = Receiver<K, T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: K::NAME,
        library: "chanlab-broken",
        api: Api::Sync,
        capabilities: chanlab_impls::Reference::INFO.capabilities,
        note: Some("deliberately broken"),
        known_failures: &[],
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<SyncEnds<Self, T>, UnsupportedError> {
        let inner_capacity = match (K::FAULT, capacity) {
            (Fault::IgnoresCapacity, Capacity::Bounded(n)) if n > 0 => Capacity::Unbounded,
            (Fault::FakesRendezvous, Capacity::Bounded(0)) => Capacity::Bounded(1),
            _ => capacity,
        };
        let (tx, rx) = reference::channel(inner_capacity);
        let keepalive = (K::FAULT == Fault::NeverDisconnects).then(|| tx.clone());
        let sender = Sender {
            inner: tx,
            accepted: Arc::new(AtomicUsize::new(0)),
            in_flight: Arc::new(AtomicUsize::new(0)),
            contended: Arc::new(AtomicUsize::new(0)),
            last_sent: Mutex::new((0, None)),
            kind: PhantomData,
        };
        let receiver = Receiver {
            inner: rx,
            received: 0,
            held_back: None,
            keepalive,
            receivers: Arc::new(AtomicUsize::new(1)),
            // An unbounded queue's blocks turn over as a ring's slots do.
            wraps_after: capacity.bound().unwrap_or(32),
            kind: PhantomData,
        };
        Ok((sender, receiver))
    }
}

/// Sending half of a twin.
pub struct Sender<K, T> {
    inner: reference::Sender<T>,
    /// Messages accepted through any clone, for [`Fault::Loses`]; sends
    /// in progress and contended sends, for
    /// [`Fault::LosesUnderContention`].
    accepted: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
    contended: Arc<AtomicUsize>,
    /// For [`Fault::ReplacesWithDuplicate`]: messages this handle sent, and
    /// a copy of the last one.
    last_sent: Mutex<(usize, Option<T>)>,
    kind: PhantomData<K>,
}

/// Receiving half of a twin.
pub struct Receiver<K: FaultKind, T: Send + 'static> {
    inner: reference::Receiver<T>,
    /// Messages this handle has returned.
    received: usize,
    /// For [`Fault::Reorders`] and [`Fault::Duplicates`]: the next message
    /// to hand out.
    held_back: Option<T>,
    /// For [`Fault::NeverDisconnects`]: a sender nobody can see.
    keepalive: Option<reference::Sender<T>>,
    /// Live receiver handles, for [`Fault::Leaks`].
    receivers: Arc<AtomicUsize>,
    /// Messages received after which the buffer has turned past its
    /// capacity, for [`Fault::LeaksAfterWrap`].
    wraps_after: usize,
    kind: PhantomData<K>,
}

impl<K, T: Send + 'static> Clone for Sender<K, T> {
    fn clone(&self) -> Self {
        Sender {
            inner: self.inner.clone(),
            accepted: self.accepted.clone(),
            in_flight: self.in_flight.clone(),
            contended: self.contended.clone(),
            last_sent: Mutex::new((0, None)),
            kind: PhantomData,
        }
    }
}

impl<K: FaultKind, T> Sender<K, T> {
    /// Whether the message just accepted is one [`Fault::Loses`] discards;
    /// a [`Fault::Slow`] twin spends its time here.
    fn loses_this_one(&self) -> bool {
        match K::FAULT {
            Fault::Slow => {
                let started = std::time::Instant::now();
                while started.elapsed() < SLOW_SEND {
                    std::hint::spin_loop();
                }
                false
            }
            Fault::Loses => self.accepted.fetch_add(1, Ordering::Relaxed) % 7 == 6,
            _ => false,
        }
    }

    /// Marks a send in progress until the guard drops; under
    /// [`Fault::LosesUnderContention`], whether this one is discarded.
    fn enter(&self) -> (InFlight<'_>, bool) {
        let Fault::LosesUnderContention { one_in } = K::FAULT else {
            return (InFlight(None), false);
        };
        let others = self.in_flight.fetch_add(1, Ordering::SeqCst);
        let lost =
            others > 0 && self.contended.fetch_add(1, Ordering::Relaxed) % one_in == one_in - 1;
        (InFlight(Some(&self.in_flight)), lost)
    }
}

impl<K: FaultKind, T: Send + 'static> Sender<K, T> {
    /// What this handle sends in place of `value`: under
    /// [`Fault::ReplacesWithDuplicate`], every 7th time a copy of the
    /// message it sent before, and `value` is lost.
    fn substitute(&self, value: T) -> T {
        if K::FAULT != Fault::ReplacesWithDuplicate {
            return value;
        }
        let mut last_sent = self.last_sent.lock();
        let (sent, previous) = &mut *last_sent;
        *sent += 1;
        let outgoing = match previous.take() {
            Some(copy) if *sent % 7 == 0 => copy,
            _ => value,
        };
        *previous = duplicate(&outgoing);
        outgoing
    }
}

/// A send in progress, counted until dropped.
struct InFlight<'a>(Option<&'a AtomicUsize>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(count) = self.0 {
            count.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl<K: FaultKind, T: Send + 'static> chanlab_contract::Sender<T> for Sender<K, T> {
    fn send(&self, value: T) -> Result<(), SendError<T>> {
        let (_in_flight, lost) = self.enter();
        if lost || self.loses_this_one() {
            return Ok(());
        }
        match chanlab_contract::Sender::send(&self.inner, self.substitute(value)) {
            Err(_) if K::FAULT == Fault::SwallowsRefusedValue => Err(SendError::value_lost()),
            other => other,
        }
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let (_in_flight, lost) = self.enter();
        if lost || self.loses_this_one() {
            return Ok(());
        }
        chanlab_contract::Sender::try_send(&self.inner, self.substitute(value))
    }
}

impl<K: FaultKind, T: Send + 'static> Receiver<K, T> {
    /// Applies the receive-side faults to a message just taken from the
    /// inner channel.
    fn deliver(&mut self, value: T) -> T {
        self.received += 1;
        match K::FAULT {
            Fault::Duplicates if self.received.is_multiple_of(7) => {
                if let Some(copy) = duplicate(&value) {
                    self.held_back = Some(copy);
                }
                value
            }
            Fault::DropsTwice if self.received.is_multiple_of(7) => {
                drop_a_second_time(&value);
                value
            }
            Fault::Reorders if self.received.is_multiple_of(5) => {
                match chanlab_contract::Receiver::try_recv(&mut self.inner) {
                    Ok(next) => {
                        self.held_back = Some(value);
                        next
                    }
                    Err(_) => value,
                }
            }
            _ => value,
        }
    }
}

impl<K: FaultKind, T: Send + 'static> chanlab_contract::Receiver<T> for Receiver<K, T> {
    fn recv(&mut self) -> Result<T, RecvError> {
        if let Some(value) = self.held_back.take() {
            return Ok(value);
        }
        if K::FAULT == Fault::SpinsWhenEmpty {
            loop {
                match chanlab_contract::Receiver::try_recv(&mut self.inner) {
                    Ok(value) => return Ok(self.deliver(value)),
                    Err(TryRecvError::Empty) => std::hint::spin_loop(),
                    Err(TryRecvError::Disconnected) => return Err(RecvError),
                }
            }
        }
        let value = chanlab_contract::Receiver::recv(&mut self.inner)?;
        Ok(self.deliver(value))
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if let Some(value) = self.held_back.take() {
            return Ok(value);
        }
        let value = chanlab_contract::Receiver::try_recv(&mut self.inner)?;
        Ok(self.deliver(value))
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        if let Some(value) = self.held_back.take() {
            return Ok(value);
        }
        let timeout = match K::FAULT {
            Fault::TimesOutEarly => timeout / 10,
            Fault::TimesOutLate if (LATE_FROM..Duration::from_secs(3600)).contains(&timeout) => {
                timeout * 20
            }
            Fault::RoundsTimeoutDown => Duration::from_millis(timeout.as_millis() as u64),
            Fault::PanicsOnHugeTimeout => {
                let deadline = Instant::now() + timeout;
                deadline.saturating_duration_since(Instant::now())
            }
            Fault::HugeTimeoutReturnsAtOnce => Instant::now()
                .checked_add(timeout)
                .map_or(Duration::ZERO, |deadline| {
                    deadline.saturating_duration_since(Instant::now())
                }),
            _ => timeout,
        };
        let value = chanlab_contract::Receiver::recv_timeout(&mut self.inner, timeout)?;
        Ok(self.deliver(value))
    }

    fn try_clone(&self) -> Option<Self> {
        let inner = chanlab_contract::Receiver::try_clone(&self.inner)?;
        self.receivers.fetch_add(1, Ordering::SeqCst);
        Some(Receiver {
            inner,
            received: 0,
            held_back: None,
            keepalive: self.keepalive.clone(),
            receivers: self.receivers.clone(),
            wraps_after: self.wraps_after,
            kind: PhantomData,
        })
    }
}

impl<K: FaultKind, T: Send + 'static> Drop for Receiver<K, T> {
    fn drop(&mut self) {
        let last = self.receivers.fetch_sub(1, Ordering::SeqCst) == 1;
        let wrapped = self.received > self.wraps_after;
        let leaks = match K::FAULT {
            Fault::Leaks => true,
            Fault::LeaksAfterWrap => wrapped,
            _ => false,
        };
        if last && leaks {
            while let Ok(value) = chanlab_contract::Receiver::try_recv(&mut self.inner) {
                std::mem::forget(value);
            }
        }
    }
}

/// Counts a second drop of `value` if it is drop-counted, through a clone
/// that carries the same id.
pub(crate) fn drop_a_second_time<T: 'static>(value: &T) {
    let value: &dyn Any = value;
    if let Some(tracked) = value.downcast_ref::<Tracked>() {
        drop(tracked.clone());
    } else if let Some(boxed) = value.downcast_ref::<Box<Tracked>>() {
        drop(boxed.clone());
    }
}

/// A copy of `value` if it is one of the plain message types checks send.
fn duplicate<T: 'static>(value: &T) -> Option<T> {
    let value: &dyn Any = value;
    let copy: Box<dyn Any> = if let Some(stamp) = value.downcast_ref::<Stamp>() {
        Box::new(*stamp)
    } else if let Some(n) = value.downcast_ref::<u64>() {
        Box::new(*n)
    } else if let Some(n) = value.downcast_ref::<u32>() {
        Box::new(*n)
    } else if let Some(n) = value.downcast_ref::<usize>() {
        Box::new(*n)
    } else {
        return None;
    };
    copy.downcast::<T>().ok().map(|copy| *copy)
}
