//! Pub/sub: a broker delivers each message published on a topic to every
//! subscriber of that topic; subscribers may unsubscribe at any time.
//!
//! Use it when producers should not know their consumers: components
//! subscribe to what interests them. A slow subscriber must not stall the
//! rest unless it asks to, so each subscription names its
//! [`SlowSubscriber`] policy: `Block` (lossless, the publisher waits),
//! `DropNewest` (a full subscriber misses new messages) or `DropOldest` (a
//! full subscriber loses its oldest buffered message to make room; the
//! broker evicts it through a receiver clone, so this policy needs a
//! multi-consumer, buffered channel).
//!
//! The broker ([`Hub`]) is written once over the [`Ends`] of a
//! subscription's channel: [`Broker`] on a blocking flavor's, for threads,
//! and [`AsyncBroker`] on an async flavor's, for tasks (`tasks.rs`), whose
//! blocking policy awaits the send. Its registry is behind a facade
//! `Mutex`; publishing sends outside the lock, to a snapshot of the topic's
//! subscribers, so a blocked subscriber never blocks subscribing or
//! unsubscribing.
//!
//! Beside the channel-per-subscriber brokers, as tasks (`tokio.rs`):
//! `tokio::sync::broadcast`, one ring buffer per topic whose slow receiver
//! loses the oldest messages and is told how many (`Lagged`), the
//! drop-oldest policy; and `tokio::sync::watch`, which keeps only the
//! latest value, so a slow subscriber sees the newest message and skips
//! the ones before it, the latest-value policy.
//!
//! Params: `producers` topics, each with one publisher of its share of
//! `items`; `workers` subscribers per topic, their policies taken in turn,
//! plus one per topic that unsubscribes half-way; `capacity` of every
//! subscription; `work` per message in the dropping subscribers (the slow
//! ones).
//!
//! Oracle: every subscriber receives only its topic's messages, in order,
//! none twice; a blocking subscriber receives all of them; a dropping one's
//! received plus dropped count equals what was published, and under
//! `DropOldest` (and watch's latest value) the last message always
//! arrives; after unsubscribing, at most what was buffered plus one
//! in-flight message arrives, then the subscription closes.

mod tasks;
#[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
mod tokio;

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc as StdArc;
use std::time::Duration;

use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, FlavorInfo, Receiver, Sender, SyncFlavor,
    TryRecvError, TrySendError, UnsupportedError,
};
use chanlab_sync::atomic::{AtomicBool, AtomicU64, Ordering};
use chanlab_sync::{Arc, Mutex};

use super::{busy, require, share};
use crate::coord::WaitGroup;
use crate::oracle::{source_of, stamp};
use crate::outcome::ensure;
#[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
use crate::runtime::RuntimeExt;
use crate::{Outcome, Params, Pattern, Primitive, Refusal, Runtime, ScenarioError};

pub use tasks::{run_async, run_async_on};

/// A subscription channel's two ends, from either API: [`Threads`] for a
/// blocking flavor, [`Tasks`] for an async one. What the broker needs of
/// them besides the blocking send: the calls that never wait.
pub trait Ends<T: Send + 'static>: 'static {
    /// The broker's end.
    type Sender: Clone + Send + 'static;
    /// The subscriber's end.
    type Receiver: Send + 'static;
    /// The flavor's declaration.
    const INFO: FlavorInfo;
    /// A channel of `capacity`.
    fn channel(capacity: Capacity) -> Result<(Self::Sender, Self::Receiver), UnsupportedError>;
    /// Sends without waiting.
    fn try_send(sender: &Self::Sender, value: T) -> Result<(), TrySendError<T>>;
    /// Receives without waiting.
    fn try_recv(receiver: &mut Self::Receiver) -> Result<T, TryRecvError>;
    /// A second receiver on the same channel, if the flavor has one.
    fn try_clone(receiver: &Self::Receiver) -> Option<Self::Receiver>;
}

/// A blocking flavor's ends, for threads.
pub struct Threads<F>(PhantomData<F>);

impl<F: SyncFlavor, T: Send + 'static> Ends<T> for Threads<F> {
    type Sender = F::Sender<T>;
    type Receiver = F::Receiver<T>;
    const INFO: FlavorInfo = F::INFO;
    fn channel(capacity: Capacity) -> Result<(Self::Sender, Self::Receiver), UnsupportedError> {
        F::channel(capacity)
    }
    fn try_send(sender: &Self::Sender, value: T) -> Result<(), TrySendError<T>> {
        sender.try_send(value)
    }
    fn try_recv(receiver: &mut Self::Receiver) -> Result<T, TryRecvError> {
        receiver.try_recv()
    }
    fn try_clone(receiver: &Self::Receiver) -> Option<Self::Receiver> {
        receiver.try_clone()
    }
}

/// An async flavor's ends, for tasks.
pub struct Tasks<F>(PhantomData<F>);

impl<F: AsyncFlavor, T: Send + 'static> Ends<T> for Tasks<F> {
    type Sender = F::Sender<T>;
    type Receiver = F::Receiver<T>;
    const INFO: FlavorInfo = F::INFO;
    fn channel(capacity: Capacity) -> Result<(Self::Sender, Self::Receiver), UnsupportedError> {
        F::channel(capacity)
    }
    fn try_send(sender: &Self::Sender, value: T) -> Result<(), TrySendError<T>> {
        sender.try_send(value)
    }
    fn try_recv(receiver: &mut Self::Receiver) -> Result<T, TryRecvError> {
        receiver.try_recv()
    }
    fn try_clone(receiver: &Self::Receiver) -> Option<Self::Receiver> {
        receiver.try_clone()
    }
}

/// What the broker does when a subscriber's channel is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowSubscriber {
    /// Wait until the subscriber makes room: nothing is lost, and the
    /// publisher goes at the slowest subscriber's pace.
    Block,
    /// Drop the message being published, for this subscriber only.
    DropNewest,
    /// Drop the subscriber's oldest buffered message to make room.
    DropOldest,
}

/// A topic registry that fans messages out to subscribers, over the ends
/// `E` of their channels.
pub struct Hub<E: Ends<T>, T: Send + 'static> {
    capacity: Capacity,
    registry: Mutex<Registry<E, T>>,
}

/// The broker for threads, on a blocking flavor.
pub type Broker<F, T> = Hub<Threads<F>, T>;

/// The broker for tasks, on an async flavor.
pub type AsyncBroker<F, T> = Hub<Tasks<F>, T>;

struct Registry<E: Ends<T>, T: Send + 'static> {
    next_id: u64,
    topics: HashMap<String, Vec<Entry<E, T>>>,
}

/// The broker's side of one subscription.
struct Entry<E: Ends<T>, T: Send + 'static> {
    id: u64,
    policy: SlowSubscriber,
    sender: E::Sender,
    /// For `DropOldest`: a receiver on the subscriber's channel, to evict.
    evict: Option<Arc<Mutex<E::Receiver>>>,
    dropped: Arc<AtomicU64>,
    /// Set when the subscriber drops its [`Subscription`]. The evicting
    /// receiver keeps a drop-oldest channel connected, so the channel
    /// alone cannot tell the broker the subscriber is gone.
    closed: Arc<AtomicBool>,
}

impl<E: Ends<T>, T: Send + 'static> Clone for Entry<E, T> {
    fn clone(&self) -> Self {
        Entry {
            id: self.id,
            policy: self.policy,
            sender: self.sender.clone(),
            evict: self.evict.clone(),
            dropped: Arc::clone(&self.dropped),
            closed: Arc::clone(&self.closed),
        }
    }
}

impl<E: Ends<T>, T: Send + 'static> Entry<E, T> {
    /// Sends `message` to this subscriber under a dropping policy, or hands
    /// it back for the caller's blocking send under `Block`.
    fn deliver_or_hand_back(&self, message: T) -> Result<Fate, T> {
        if self.closed.load(Ordering::SeqCst) {
            return Ok(Fate::Gone);
        }
        match (self.policy, &self.evict) {
            (SlowSubscriber::Block, _) => Err(message),
            (SlowSubscriber::DropNewest, _) => Ok(match E::try_send(&self.sender, message) {
                Ok(()) => Fate::Delivered,
                Err(TrySendError::Full(_)) => {
                    self.dropped.fetch_add(1, Ordering::SeqCst);
                    Fate::Dropped
                }
                Err(TrySendError::Disconnected(_)) => Fate::Gone,
            }),
            (SlowSubscriber::DropOldest, Some(evict)) => Ok(drop_oldest::<E, T>(
                &self.sender,
                evict,
                &self.dropped,
                message,
            )),
            (SlowSubscriber::DropOldest, None) => {
                unreachable!("a drop-oldest subscription always has its evicting receiver")
            }
        }
    }
}

/// A subscriber's side: its messages arrive on `receiver`, which closes
/// once it is unsubscribed (or the broker is dropped) and drained.
pub struct Subscription<E: Ends<T>, T: Send + 'static> {
    /// Identifies the subscription to [`Hub::unsubscribe`].
    pub id: u64,
    /// Where the messages arrive.
    pub receiver: E::Receiver,
    dropped: Arc<AtomicU64>,
    closed: Arc<AtomicBool>,
}

impl<E: Ends<T>, T: Send + 'static> Drop for Subscription<E, T> {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::SeqCst);
    }
}

impl<E: Ends<T>, T: Send + 'static> Subscription<E, T> {
    /// Messages the broker dropped for this subscriber under its policy.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::SeqCst)
    }
}

impl<E: Ends<T>, T: Clone + Send + 'static> Hub<E, T> {
    /// A broker whose subscriptions have `capacity`.
    pub fn new(capacity: Capacity) -> Result<Self, ScenarioError> {
        E::INFO.check(capacity)?;
        Ok(Hub {
            capacity,
            registry: Mutex::new(Registry {
                next_id: 0,
                topics: HashMap::new(),
            }),
        })
    }

    /// Subscribes to `topic` under `policy`.
    pub fn subscribe(
        &self,
        topic: &str,
        policy: SlowSubscriber,
    ) -> Result<Subscription<E, T>, ScenarioError> {
        let (sender, receiver) = E::channel(self.capacity)?;
        let evict = match policy {
            SlowSubscriber::DropOldest => {
                if self.capacity == Capacity::RENDEZVOUS {
                    return Err(ScenarioError::NotApplicable(Refusal::NoBufferToDropFrom));
                }
                let evict = E::try_clone(&receiver).ok_or_else(|| {
                    ScenarioError::NotApplicable(Refusal::NoMultiConsumer {
                        flavor: E::INFO.name,
                        needs: "drop-oldest evicts through a second receiver".into(),
                    })
                })?;
                Some(Arc::new(Mutex::new(evict)))
            }
            SlowSubscriber::Block | SlowSubscriber::DropNewest => None,
        };
        let dropped = Arc::new(AtomicU64::new(0));
        let closed = Arc::new(AtomicBool::new(false));
        let mut registry = self.registry.lock();
        let id = registry.next_id;
        registry.next_id += 1;
        registry
            .topics
            .entry(topic.to_owned())
            .or_default()
            .push(Entry {
                id,
                policy,
                sender,
                evict,
                dropped: Arc::clone(&dropped),
                closed: Arc::clone(&closed),
            });
        Ok(Subscription {
            id,
            receiver,
            dropped,
            closed,
        })
    }

    /// Ends subscription `id` to `topic`: no publish that starts after this
    /// returns delivers to it. Returns whether it was subscribed.
    pub fn unsubscribe(&self, topic: &str, id: u64) -> bool {
        let mut registry = self.registry.lock();
        let Some(entries) = registry.topics.get_mut(topic) else {
            return false;
        };
        let before = entries.len();
        entries.retain(|entry| entry.id != id);
        before != entries.len()
    }

    /// The subscribers of `topic` now, to publish to outside the lock.
    fn snapshot(&self, topic: &str) -> Vec<Entry<E, T>> {
        self.registry
            .lock()
            .topics
            .get(topic)
            .map_or_else(Vec::new, |entries| entries.to_vec())
    }

    /// Removes the subscribers a publish found gone; returns how many
    /// received the message.
    fn settle(&self, topic: &str, fanned: Fanned) -> usize {
        if !fanned.gone.is_empty()
            && let Some(entries) = self.registry.lock().topics.get_mut(topic)
        {
            entries.retain(|entry| !fanned.gone.contains(&entry.id));
        }
        fanned.delivered
    }
}

impl<F: SyncFlavor, T: Clone + Send + 'static> Broker<F, T> {
    /// Delivers `message` to every subscriber of `topic`, each under its
    /// policy; subscribers found gone are removed. Returns how many
    /// received it.
    pub fn publish(&self, topic: &str, message: T) -> usize {
        let mut fanned = Fanned::default();
        for entry in self.snapshot(topic) {
            let fate = entry
                .deliver_or_hand_back(message.clone())
                .unwrap_or_else(|message| match entry.sender.send(message) {
                    Ok(()) => Fate::Delivered,
                    Err(_) => Fate::Gone,
                });
            fanned.count(entry.id, fate);
        }
        self.settle(topic, fanned)
    }
}

/// What a publish did, subscriber by subscriber.
#[derive(Default)]
struct Fanned {
    delivered: usize,
    gone: Vec<u64>,
}

impl Fanned {
    fn count(&mut self, id: u64, fate: Fate) {
        match fate {
            Fate::Delivered => self.delivered += 1,
            Fate::Dropped => {}
            Fate::Gone => self.gone.push(id),
        }
    }
}

/// What became of a message for one subscriber.
enum Fate {
    Delivered,
    Dropped,
    Gone,
}

/// Sends `message`, evicting the oldest buffered message each time the
/// channel is full.
fn drop_oldest<E: Ends<T>, T: Send + 'static>(
    sender: &E::Sender,
    evict: &Mutex<E::Receiver>,
    dropped: &AtomicU64,
    mut message: T,
) -> Fate {
    loop {
        match E::try_send(sender, message) {
            Ok(()) => return Fate::Delivered,
            Err(TrySendError::Disconnected(_)) => return Fate::Gone,
            Err(TrySendError::Full(back)) => {
                message = back;
                match E::try_recv(&mut evict.lock()) {
                    Ok(_oldest) => {
                        dropped.fetch_add(1, Ordering::SeqCst);
                    }
                    // The subscriber made room itself in the meantime.
                    Err(TryRecvError::Empty) => {}
                    Err(TryRecvError::Disconnected) => return Fate::Gone,
                }
            }
        }
    }
}

/// One subscriber's view of a run.
struct Seen {
    topic: usize,
    policy: SlowSubscriber,
    received: Vec<u64>,
    dropped: u64,
    /// For the subscriber that unsubscribed: messages it had received when
    /// it did, and messages after.
    unsubscribed_at: Option<usize>,
}

/// The policies a run's subscribers take in turn: drop-oldest only where
/// the flavor can evict (a multi-consumer, buffered channel).
fn policies(info: &FlavorInfo, capacity: Capacity) -> Vec<SlowSubscriber> {
    let can_drop_oldest = info.capabilities.multi_consumer && capacity != Capacity::RENDEZVOUS;
    [
        SlowSubscriber::Block,
        SlowSubscriber::DropNewest,
        SlowSubscriber::DropOldest,
    ]
    .into_iter()
    .filter(|&policy| policy != SlowSubscriber::DropOldest || can_drop_oldest)
    .collect()
}

/// The simulated work of a subscriber under `policy`: the dropping ones
/// are the slow ones.
fn work_of(policy: SlowSubscriber, params: &Params) -> Duration {
    match policy {
        SlowSubscriber::Block => Duration::ZERO,
        SlowSubscriber::DropNewest | SlowSubscriber::DropOldest => params.work,
    }
}

/// The topics of a run, by name.
fn topic_names(params: &Params) -> Vec<String> {
    (0..params.producers)
        .map(|topic| format!("topic-{topic}"))
        .collect()
}

/// Checks every subscriber and counts the deliveries and the drops.
fn finish(params: &Params, seen: &[Seen], threads: usize) -> Result<Outcome, ScenarioError> {
    let mut dropped = 0;
    for subscriber in seen {
        check(params, subscriber)?;
        dropped += subscriber.dropped;
    }
    let delivered = seen.iter().map(|s| s.received.len() as u64).sum();
    Ok(Outcome::new(delivered, threads).with("dropped", dropped))
}

/// Runs the pattern on threads.
pub fn run<F: SyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let policies = policies(&F::INFO, params.capacity);

    let mut subscribers = WaitGroup::new();
    let mut publishers = WaitGroup::new();
    let broker = StdArc::new(Broker::<F, u64>::new(params.capacity)?);
    let topics = topic_names(params);

    for (topic, name) in topics.iter().enumerate() {
        let published = share(params.items, params.producers, topic);
        for subscriber in 0..params.workers {
            let policy = policies[subscriber % policies.len()];
            let mut subscription = broker.subscribe(name, policy)?;
            let work = work_of(policy, params);
            subscribers.spawn(move || {
                let mut received = Vec::new();
                while let Ok(id) = subscription.receiver.recv() {
                    busy(work);
                    received.push(id);
                }
                Seen {
                    topic,
                    policy,
                    received,
                    dropped: subscription.dropped(),
                    unsubscribed_at: None,
                }
            });
        }
        let mut quitter = broker.subscribe(name, SlowSubscriber::Block)?;
        // Weak, so a quitter that never gets half-way cannot keep the
        // broker, and so its own subscription, alive.
        let (broker, name) = (StdArc::downgrade(&broker), name.clone());
        subscribers.spawn(move || {
            let half = published.div_ceil(2);
            let mut unsubscribed_at = None;
            let mut received = Vec::new();
            loop {
                if received.len() == half && unsubscribed_at.is_none() {
                    if let Some(broker) = broker.upgrade() {
                        broker.unsubscribe(&name, quitter.id);
                    }
                    unsubscribed_at = Some(half);
                }
                match quitter.receiver.recv() {
                    Ok(id) => received.push(id),
                    Err(_) => break,
                }
            }
            Seen {
                topic,
                policy: SlowSubscriber::Block,
                received,
                dropped: 0,
                unsubscribed_at,
            }
        });
    }
    for (topic, name) in topics.into_iter().enumerate() {
        let broker = StdArc::clone(&broker);
        let count = share(params.items, params.producers, topic);
        publishers.spawn(move || {
            for seq in 0..count {
                broker.publish(&name, stamp(topic, seq));
            }
        });
    }
    let threads = subscribers.started() + publishers.started();
    publishers.join()?;
    drop(broker);
    let seen = subscribers.join()?;
    finish(params, &seen, threads)
}

/// Runs the pattern on `primitive`, as tasks on `runtime`: tokio's
/// broadcast or watch channels, one per topic.
// Its primitives are out of the loom and shuttle builds, and so is every
// use of its arguments.
#[cfg_attr(any(chanlab_loom, chanlab_shuttle), allow(unused_variables))]
pub fn run_primitive(
    primitive: Primitive,
    params: &Params,
    runtime: Runtime,
) -> Result<Outcome, ScenarioError> {
    match primitive {
        #[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
        Primitive::TokioBroadcast => runtime.block_on(tokio::on_broadcast(params)),
        #[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
        Primitive::TokioWatch => runtime.block_on(tokio::on_watch(params)),
        other => Err(Refusal::not_on(Pattern::PubSub, other)),
    }
}

fn check(params: &Params, seen: &Seen) -> Result<(), ScenarioError> {
    let published = share(params.items, params.producers, seen.topic) as u64;
    let who = format!("a {:?} subscriber of topic {}", seen.policy, seen.topic);
    let mut last = None;
    for &id in &seen.received {
        ensure(source_of(id) == seen.topic, || {
            format!("{who} received {id:#x}, from another topic")
        })?;
        ensure(last.is_none_or(|last| last < id), || {
            format!(
                "{who} received {id:#x} after {:#x}: out of order or twice",
                last.unwrap_or(0)
            )
        })?;
        last = Some(id);
    }
    let received = seen.received.len() as u64;
    if let Some(at) = seen.unsubscribed_at {
        if seen.policy == SlowSubscriber::Block {
            let expected: Vec<u64> = (0..received)
                .map(|seq| stamp(seen.topic, seq as usize))
                .collect();
            ensure(seen.received == expected, || {
                format!("{who} that unsubscribed missed messages before it did")
            })?;
        }
        if let Some(capacity) = params.capacity.bound() {
            let after = seen.received.len() - at;
            ensure(after <= capacity + 1, || {
                format!(
                    "{who} received {after} messages after unsubscribing, more than {capacity} buffered plus one in flight"
                )
            })?;
        }
        return Ok(());
    }
    match seen.policy {
        SlowSubscriber::Block => ensure(received == published, || {
            format!("{who} received {received} of {published} messages")
        }),
        SlowSubscriber::DropNewest | SlowSubscriber::DropOldest => {
            ensure(received + seen.dropped == published, || {
                format!(
                    "{who} received {received} and had {} dropped of {published}",
                    seen.dropped
                )
            })?;
            let newest = stamp(seen.topic, published.saturating_sub(1) as usize);
            ensure(
                seen.policy != SlowSubscriber::DropOldest || published == 0 || last == Some(newest),
                || format!("{who} lost the newest message {newest:#x}"),
            )
        }
    }
}
