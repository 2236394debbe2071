//! kanal: bounded, rendezvous and unbounded MPMC channels with a blocking
//! API ([`Kanal`]) and an async one ([`KanalAsync`]).
//!
//! kanal's `send` drops the value when it fails, so these adapters report
//! [`SendError::value_lost`] there. Its `send_option_timeout`, which keeps
//! the value, is not used: in kanal 0.1.1 it drops a value twice when the
//! send hands it to a receiver that was not yet waiting (chanlab measured 150
//! drops for 100 values through a rendezvous channel).

use std::future::Future;
use std::time::Duration;

use chanlab_contract::{
    Api, AsyncFlavor, Bridge, Capabilities, Capacity, FlavorInfo, KnownFailure, RecvError,
    RecvTimeoutError, Rule, SendError, SyncFlavor, TryRecvError, TrySendError, UnsupportedError,
};

/// kanal's blocking API.
pub struct Kanal;

/// kanal's async API.
pub struct KanalAsync;

const CAPABILITIES: Capabilities = Capabilities {
    multi_consumer: true,
    rendezvous: true,
    unbounded: true,
    select: false,
    cancel_safe_recv: false,
};

impl SyncFlavor for Kanal {
    type Sender<T: Send + 'static> = Sender<T>;
    type Receiver<T: Send + 'static> = Receiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "kanal",
        library: "kanal",
        api: Api::Sync,
        capabilities: CAPABILITIES,
        note: None,
        known_failures: &SYNC_KNOWN_FAILURES,
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<T>, Receiver<T>), UnsupportedError> {
        let (tx, rx) = match capacity {
            Capacity::Bounded(n) => kanal::bounded(n),
            Capacity::Unbounded => kanal::unbounded(),
        };
        Ok((Sender(tx), Receiver(rx)))
    }
}

/// Where kanal 0.1.1 breaks the spec, as chanlab's conformance suite finds
/// it, shared by both APIs and the bridge: a send that fails because every
/// receiver is gone drops the value instead of handing it back (R7).
const VALUE_DROPPED_ON_DISCONNECT: [KnownFailure; 6] = [
    KnownFailure {
        check: "receivers_gone_disconnects",
        rule: Rule::ReceiversGone,
        case: "failed send handed back None",
        why: "kanal 0.1.1: send drops the value when every receiver is gone",
        intermittent: false,
    },
    KnownFailure {
        check: "receivers_gone_disconnects",
        rule: Rule::ReceiversGone,
        case: "blocked when the last receiver dropped got Err(None)",
        why: "kanal 0.1.1: a blocked send woken by disconnection drops its value",
        intermittent: false,
    },
    KnownFailure {
        check: "every_blocked_party_wakes",
        rule: Rule::ReceiversGone,
        case: "got Some(Err(None))",
        why: "kanal 0.1.1: a blocked send woken by disconnection drops its value",
        intermittent: false,
    },
    KnownFailure {
        check: "agrees_with_model",
        rule: Rule::ReceiversGone,
        case: "the channel gave Refused(None)",
        why: "kanal 0.1.1: send drops the value when every receiver is gone",
        intermittent: false,
    },
    KnownFailure {
        check: "async_every_blocked_party_wakes",
        rule: Rule::ReceiversGone,
        case: "got Err(None)",
        why: "kanal 0.1.1: a waiting send future woken by disconnection drops its value",
        intermittent: false,
    },
    KnownFailure {
        check: "mixed_disconnect_and_drops",
        rule: Rule::ReceiversGone,
        case: "got Some(Err(None))",
        why: "kanal 0.1.1: a waiting send woken by disconnection drops its value",
        intermittent: false,
    },
];

/// kanal's blocking API: [`VALUE_DROPPED_ON_DISCONNECT`], and its
/// `recv_timeout`, which reports `Timeout` where the senders are gone and
/// panics on a timeout past what `Instant` can represent (R8).
const SYNC_KNOWN_FAILURES: [KnownFailure; 9] = [
    VALUE_DROPPED_ON_DISCONNECT[0],
    VALUE_DROPPED_ON_DISCONNECT[1],
    VALUE_DROPPED_ON_DISCONNECT[2],
    VALUE_DROPPED_ON_DISCONNECT[3],
    VALUE_DROPPED_ON_DISCONNECT[4],
    VALUE_DROPPED_ON_DISCONNECT[5],
    KnownFailure {
        check: "recv_timeout_edges",
        rule: Rule::RecvTimeout,
        case: "every sender gone gave Returned((Ok(8), Err(Timeout)))",
        why: "kanal 0.1.1: recv_timeout on a drained channel whose senders are gone reports Timeout, not Disconnected",
        intermittent: false,
    },
    KnownFailure {
        check: "recv_timeout_edges",
        rule: Rule::RecvTimeout,
        case: "empty channel with every sender gone gave Returned(Err(Timeout))",
        why: "kanal 0.1.1: recv_timeout on an empty channel whose senders are gone reports Timeout, not Disconnected",
        intermittent: false,
    },
    KnownFailure {
        check: "recv_timeout_edges",
        rule: Rule::RecvTimeout,
        case: "called `Option::unwrap()` on a `None` value",
        why: "kanal 0.1.1: recv_timeout unwraps Instant::now().checked_add(timeout), which panics past what Instant represents, even with a message ready",
        intermittent: false,
    },
];

/// kanal's async API: [`VALUE_DROPPED_ON_DISCONNECT`], and a waiting send
/// future that keeps its first waker (R12).
const ASYNC_KNOWN_FAILURES: [KnownFailure; 9] = [
    VALUE_DROPPED_ON_DISCONNECT[0],
    VALUE_DROPPED_ON_DISCONNECT[1],
    VALUE_DROPPED_ON_DISCONNECT[2],
    VALUE_DROPPED_ON_DISCONNECT[3],
    VALUE_DROPPED_ON_DISCONNECT[4],
    VALUE_DROPPED_ON_DISCONNECT[5],
    KnownFailure {
        check: "async_capacity_and_rendezvous",
        rule: Rule::Wakeup,
        case: "polled again with a new waker, was not woken",
        why: STALE_SEND_WAKER,
        intermittent: false,
    },
    KnownFailure {
        check: "async_wakes_latest_waker",
        rule: Rule::Wakeup,
        case: "a send future polled again with a new waker was not woken",
        why: STALE_SEND_WAKER,
        intermittent: false,
    },
    KnownFailure {
        check: "mixed_exactly_once",
        rule: Rule::Wakeup,
        case: "an async send waiting on the full channel, polled again with a new waker",
        why: STALE_SEND_WAKER,
        intermittent: false,
    },
];

/// Why kanal's send future misses a wake-up after its task moves.
const STALE_SEND_WAKER: &str = "kanal 0.1.1: a waiting send future polled with a new waker keeps the old one (SendFuture::poll leaves the update commented out), so a task that moved is never woken";

impl AsyncFlavor for KanalAsync {
    type Sender<T: Send + 'static> = AsyncSender<T>;
    type Receiver<T: Send + 'static> = AsyncReceiver<T>;

    const INFO: FlavorInfo = FlavorInfo {
        name: "kanal-async",
        library: "kanal",
        api: Api::Async,
        capabilities: CAPABILITIES,
        note: None,
        known_failures: &ASYNC_KNOWN_FAILURES,
    };

    fn channel<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(AsyncSender<T>, AsyncReceiver<T>), UnsupportedError> {
        let (tx, rx) = match capacity {
            Capacity::Bounded(n) => kanal::bounded_async(n),
            Capacity::Unbounded => kanal::unbounded_async(),
        };
        Ok((AsyncSender(tx), AsyncReceiver(rx)))
    }
}

/// kanal's blocking sender.
pub struct Sender<T>(kanal::Sender<T>);

/// kanal's blocking receiver.
pub struct Receiver<T>(kanal::Receiver<T>);

/// kanal's async sender.
pub struct AsyncSender<T>(kanal::AsyncSender<T>);

/// kanal's async receiver.
pub struct AsyncReceiver<T>(kanal::AsyncReceiver<T>);

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

/// kanal's `try_send_option` leaves the value in the option when it fails.
fn try_send_keeping<T>(
    try_send: impl FnOnce(&mut Option<T>) -> Result<bool, kanal::SendError>,
    value: T,
) -> Result<(), TrySendError<T>> {
    let mut slot = Some(value);
    let outcome = try_send(&mut slot);
    match (outcome, slot) {
        (Ok(true), _) => Ok(()),
        (Ok(false), Some(value)) => Err(TrySendError::Full(value)),
        (Err(_), Some(value)) => Err(TrySendError::Disconnected(value)),
        (Ok(false) | Err(_), None) => {
            unreachable!("kanal's try_send_option took the value yet reported failure")
        }
    }
}

fn map_try_recv<T>(received: Result<Option<T>, kanal::ReceiveError>) -> Result<T, TryRecvError> {
    match received {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(TryRecvError::Empty),
        Err(_) => Err(TryRecvError::Disconnected),
    }
}

impl<T: Send + 'static> chanlab_contract::Sender<T> for Sender<T> {
    fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.0.send(value).map_err(|_| SendError::value_lost())
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        try_send_keeping(|slot| self.0.try_send_option(slot), value)
    }
}

impl<T: Send + 'static> chanlab_contract::Receiver<T> for Receiver<T> {
    fn recv(&mut self) -> Result<T, RecvError> {
        self.0.recv().map_err(|_| RecvError)
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        map_try_recv(self.0.try_recv())
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.0.recv_timeout(timeout).map_err(|err| match err {
            kanal::ReceiveErrorTimeout::Timeout => RecvTimeoutError::Timeout,
            kanal::ReceiveErrorTimeout::Closed | kanal::ReceiveErrorTimeout::SendClosed => {
                RecvTimeoutError::Disconnected
            }
        })
    }

    fn try_clone(&self) -> Option<Self> {
        Some(Receiver(self.0.clone()))
    }
}

impl<T: Send + 'static> chanlab_contract::AsyncSender<T> for AsyncSender<T> {
    fn send(&self, value: T) -> impl Future<Output = Result<(), SendError<T>>> + Send {
        let sending = self.0.send(value);
        async move { sending.await.map_err(|_| SendError::value_lost()) }
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        try_send_keeping(|slot| self.0.try_send_option(slot), value)
    }
}

impl<T: Send + 'static> chanlab_contract::AsyncReceiver<T> for AsyncReceiver<T> {
    fn recv(&mut self) -> impl Future<Output = Result<T, RecvError>> + Send {
        let receiving = self.0.recv();
        async move { receiving.await.map_err(|_| RecvError) }
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        map_try_recv(self.0.try_recv())
    }

    fn try_clone(&self) -> Option<Self> {
        Some(AsyncReceiver(self.0.clone()))
    }
}

/// kanal's blocking and async handles, converted into one another
/// (`to_async`, `to_sync`) on one channel.
pub struct KanalBridge;

impl Bridge for KanalBridge {
    type Sync = Kanal;
    type Async = KanalAsync;

    fn sync_to_async<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(Sender<T>, AsyncReceiver<T>), UnsupportedError> {
        let (tx, rx) = Kanal::channel(capacity)?;
        Ok((tx, AsyncReceiver(rx.0.to_async())))
    }

    fn async_to_sync<T: Send + 'static>(
        capacity: Capacity,
    ) -> Result<(AsyncSender<T>, Receiver<T>), UnsupportedError> {
        let (tx, rx) = Kanal::channel(capacity)?;
        Ok((AsyncSender(tx.0.to_async()), rx))
    }
}
