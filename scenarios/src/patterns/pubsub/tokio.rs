//! tokio's own answers to pub/sub, as tasks: a `broadcast` channel per
//! topic, and a `watch` channel per topic. Each has one slow-subscriber
//! policy, built in:
//! - `broadcast` keeps the last `capacity` messages in a ring; a receiver
//!   that falls further behind loses the oldest and is told how many
//!   (`Lagged`): drop-oldest, and the publisher never waits;
//! - `watch` keeps only the latest value; a subscriber sees the newest
//!   message and skips those before it: latest value, whatever the
//!   capacity.
//!
//! A subscriber unsubscribes by dropping its receiver. The workload is the
//! broker's (`mod.rs`), with every subscriber under the channel's own
//! policy, and a publisher that yields after each message as the async
//! broker's does (`tasks.rs`); the oracle holds a subscriber that
//! unsubscribed to the dropping rules, as these channels have no lossless
//! policy.

use chanlab_contract::UnsupportedError;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

use super::{Refusal, Seen, SlowSubscriber, busy, finish, share, stamp};
use crate::coord::yield_now;
use crate::patterns::join_tasks;
use crate::{Outcome, Params, ScenarioError};

/// On a broadcast channel of `capacity` per topic.
pub(super) async fn on_broadcast(params: &Params) -> Result<Outcome, ScenarioError> {
    let capacity = match params.capacity.bound() {
        Some(capacity) if capacity > 0 => capacity,
        _ => {
            return Err(ScenarioError::NotApplicable(Refusal::Capacity(
                UnsupportedError {
                    flavor: "tokio-broadcast",
                    capacity: params.capacity,
                },
            )));
        }
    };
    let mut subscribers = JoinSet::new();
    let mut publishers = JoinSet::new();
    for topic in 0..params.producers {
        let published = share(params.items, params.producers, topic);
        let (sender, _) = broadcast::channel::<u64>(capacity);
        for _ in 0..params.workers {
            let receiver = sender.subscribe();
            let work = params.work;
            subscribers.spawn(listen(receiver, topic, work, None));
        }
        let quitter = sender.subscribe();
        subscribers.spawn(listen(
            quitter,
            topic,
            params.work,
            Some(published.div_ceil(2)),
        ));
        publishers.spawn(async move {
            for seq in 0..published {
                // An error means no receiver is left: nothing to deliver.
                let _ = sender.send(stamp(topic, seq));
                yield_now().await;
            }
        });
    }
    finish_tasks(params, publishers, subscribers).await
}

/// A broadcast subscriber: receives until the channel closes, or, as the
/// quitter, until `quit_after` messages were received or lost.
async fn listen(
    mut receiver: broadcast::Receiver<u64>,
    topic: usize,
    work: std::time::Duration,
    quit_after: Option<usize>,
) -> Seen {
    let mut received = Vec::new();
    let mut dropped = 0;
    loop {
        if quit_after.is_some_and(|quit| received.len() + dropped as usize >= quit) {
            break;
        }
        match receiver.recv().await {
            Ok(id) => {
                busy(work);
                received.push(id);
            }
            Err(RecvError::Lagged(missed)) => dropped += missed,
            Err(RecvError::Closed) => break,
        }
    }
    drop(receiver);
    Seen {
        topic,
        policy: SlowSubscriber::DropOldest,
        unsubscribed_at: quit_after.map(|_| received.len()),
        received,
        dropped,
    }
}

/// On a watch channel per topic. `u64::MAX`, no message's stamp, stands
/// for "nothing published yet".
pub(super) async fn on_watch(params: &Params) -> Result<Outcome, ScenarioError> {
    const NOTHING: u64 = u64::MAX;
    let mut subscribers = JoinSet::new();
    let mut publishers = JoinSet::new();
    for topic in 0..params.producers {
        let published = share(params.items, params.producers, topic);
        let (sender, _) = watch::channel(NOTHING);
        let quitter = Some(published.div_ceil(2));
        for quit_after in std::iter::repeat_n(None, params.workers).chain([quitter]) {
            let mut receiver = sender.subscribe();
            let work = params.work;
            subscribers.spawn(async move {
                let mut received = Vec::new();
                // A change is reported before the close, so the last
                // message is seen before the loop ends.
                while receiver.changed().await.is_ok() {
                    let id = *receiver.borrow_and_update();
                    busy(work);
                    received.push(id);
                    if quit_after.is_some_and(|quit| id >= stamp(topic, quit.saturating_sub(1))) {
                        break;
                    }
                }
                drop(receiver);
                let through = received
                    .last()
                    .map_or(0, |&id| id.saturating_sub(stamp(topic, 0)) + 1);
                Seen {
                    topic,
                    policy: SlowSubscriber::DropOldest,
                    unsubscribed_at: quit_after.map(|_| received.len()),
                    // The messages the latest-value policy skipped.
                    dropped: through.saturating_sub(received.len() as u64),
                    received,
                }
            });
        }
        publishers.spawn(async move {
            for seq in 0..published {
                sender.send_replace(stamp(topic, seq));
                yield_now().await;
            }
        });
    }
    finish_tasks(params, publishers, subscribers).await
}

/// Joins the publishers, then the subscribers, and checks them.
async fn finish_tasks(
    params: &Params,
    publishers: JoinSet<()>,
    subscribers: JoinSet<Seen>,
) -> Result<Outcome, ScenarioError> {
    let tasks = publishers.len() + subscribers.len();
    join_tasks(publishers).await?;
    let seen = join_tasks(subscribers).await?;
    finish(params, &seen, tasks)
}

#[cfg(test)]
mod tests {
    use chanlab_contract::Capacity;

    use super::super::check;
    use super::*;
    use crate::Runtime;
    use crate::runtime::RuntimeExt;

    fn params() -> Params {
        Params {
            items: 400,
            producers: 2,
            workers: 3,
            capacity: Capacity::Bounded(4),
            work: std::time::Duration::from_micros(20),
            ..Params::default()
        }
    }

    #[test]
    fn broadcast_and_watch_hold_their_policies_on_both_runtimes() {
        for runtime in Runtime::ALL {
            runtime
                .block_on(on_broadcast(&params()))
                .unwrap_or_else(|err| panic!("broadcast on {runtime:?}: {err}"));
            runtime
                .block_on(on_watch(&params()))
                .unwrap_or_else(|err| panic!("watch on {runtime:?}: {err}"));
        }
    }

    #[test]
    fn broadcast_refuses_what_it_cannot_buffer() {
        for capacity in [Capacity::RENDEZVOUS, Capacity::Unbounded] {
            let params = Params {
                capacity,
                ..params()
            };
            let refused = Runtime::CurrentThread.block_on(on_broadcast(&params));
            assert!(
                matches!(refused, Err(ScenarioError::NotApplicable(_))),
                "{refused:?}"
            );
        }
    }

    /// The oracle's dropping rules, as these channels are held to them: a
    /// lag miscounted, or the newest message lost, is caught.
    #[test]
    fn a_miscounted_lag_or_a_lost_newest_message_is_caught() {
        let params = Params {
            items: 10,
            producers: 1,
            ..params()
        };
        let seen = |received: &[usize], dropped| Seen {
            topic: 0,
            policy: SlowSubscriber::DropOldest,
            received: received.iter().map(|&seq| stamp(0, seq)).collect(),
            dropped,
            unsubscribed_at: None,
        };
        assert_eq!(check(&params, &seen(&[0, 7, 8, 9], 6)), Ok(()));
        let miscounted = check(&params, &seen(&[0, 7, 8, 9], 5)).unwrap_err();
        assert!(miscounted.to_string().contains("dropped"), "{miscounted}");
        let lost_newest = check(&params, &seen(&[0, 6, 7, 8], 6)).unwrap_err();
        assert!(lost_newest.to_string().contains("newest"), "{lost_newest}");
    }
}
