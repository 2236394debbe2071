//! Pub/sub as tasks, on an async flavor's channels: [`AsyncBroker`], whose
//! blocking policy awaits the send, with the same subscribers, quitter and
//! oracle as the threads' version (`mod.rs`).

use std::sync::Arc as StdArc;

use chanlab_contract::{AsyncFlavor, AsyncReceiver, AsyncSender};

use super::{
    AsyncBroker, Fanned, Fate, Seen, SlowSubscriber, busy, finish, policies, require, share, stamp,
    topic_names, work_of,
};
use crate::coord::{Executor, TaskSet, Tokio, yield_now};
use crate::{Outcome, Params, ScenarioError};

impl<F: AsyncFlavor, T: Clone + Send + 'static> AsyncBroker<F, T> {
    /// Delivers `message` to every subscriber of `topic`, each under its
    /// policy, awaiting the blocking ones; subscribers found gone are
    /// removed. Returns how many received it.
    pub async fn publish(&self, topic: &str, message: T) -> usize {
        let mut fanned = Fanned::default();
        for entry in self.snapshot(topic) {
            let fate = match entry.deliver_or_hand_back(message.clone()) {
                Ok(fate) => fate,
                Err(message) => match entry.sender.send(message).await {
                    Ok(()) => Fate::Delivered,
                    Err(_) => Fate::Gone,
                },
            };
            fanned.count(entry.id, fate);
        }
        self.settle(topic, fanned)
    }
}

/// Runs the pattern as tasks on async flavor `F`.
pub async fn run_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    run_async_on::<F, Tokio>(params).await
}

/// [`run_async`] on executor `E`.
pub async fn run_async_on<F: AsyncFlavor, E: Executor>(
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let policies = policies(&F::INFO, params.capacity);
    let broker = StdArc::new(AsyncBroker::<F, u64>::new(params.capacity)?);
    let topics = topic_names(params);
    let mut subscribers = E::Tasks::<Seen>::default();
    for (topic, name) in topics.iter().enumerate() {
        let published = share(params.items, params.producers, topic);
        for subscriber in 0..params.workers {
            let policy = policies[subscriber % policies.len()];
            let mut subscription = broker.subscribe(name, policy)?;
            let work = work_of(policy, params);
            subscribers.spawn(async move {
                let mut received = Vec::new();
                while let Ok(id) = subscription.receiver.recv().await {
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
        // Weak, as on threads: a quitter that never gets half-way cannot
        // keep the broker, and so its own subscription, alive.
        let (broker, name) = (StdArc::downgrade(&broker), name.clone());
        subscribers.spawn(async move {
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
                match quitter.receiver.recv().await {
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
    let mut publishers = E::Tasks::<()>::default();
    for (topic, name) in topics.into_iter().enumerate() {
        let broker = StdArc::clone(&broker);
        let count = share(params.items, params.producers, topic);
        publishers.spawn(async move {
            for seq in 0..count {
                broker.publish(&name, stamp(topic, seq)).await;
                // As tokio's broadcast and watch publishers do (`tokio.rs`),
                // so every async row's publisher gives way alike.
                yield_now().await;
            }
        });
    }
    let publishers = publishers.join().await?.len();
    drop(broker);
    let seen = subscribers.join().await?;
    finish(params, &seen, publishers + seen.len())
}
