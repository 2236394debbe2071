//! The producers' and consumers' loops, on threads or as tasks: each
//! producer sends its share on its schedule, each consumer tallies what it
//! receives until every sender is gone.

use std::sync::Arc;
use std::time::Instant;

use chanlab_contract::{AsyncReceiver, AsyncSender, Receiver, Sender};
use tokio::task::JoinSet;

use super::Produced;
use super::message::LoadMessage;
use super::schedule::{Schedule, Shared, pace, pace_async};
use super::tally::Received;
use crate::coord::WaitGroup;
use crate::oracle::stamp;

/// A consumer thread per receiver; each calls `started` before its first
/// receive.
pub(super) fn consume_on_threads<M: LoadMessage, R: Receiver<M>>(
    receivers: Vec<R>,
    tallies: Vec<Received>,
    started: impl Fn() -> (Arc<Shared>, Instant) + Clone + Send + 'static,
) -> WaitGroup<Received> {
    let mut consumers = WaitGroup::new();
    for (mut receiver, mut received) in receivers.into_iter().zip(tallies) {
        let started = started.clone();
        consumers.spawn(move || {
            let _watched = crate::watch::started();
            let (shared, start) = started();
            let schedule = Schedule {
                shared: &shared,
                start,
            };
            while let Ok(message) = receiver.recv() {
                received.take(message, schedule);
            }
            received
        });
    }
    consumers
}

/// `producers` producer threads on clones of `sender`; each calls
/// `started` before its first send.
pub(super) fn produce_on_threads<M: LoadMessage, S: Sender<M>>(
    sender: &S,
    producers: usize,
    started: impl Fn() -> (Arc<Shared>, Instant) + Clone + Send + 'static,
) -> WaitGroup<Produced> {
    let mut wait_group = WaitGroup::new();
    for producer in 0..producers {
        let (sender, started) = (sender.clone(), started.clone());
        wait_group.spawn(move || {
            let _watched = crate::watch::started();
            let (shared, start) = started();
            let schedule = Schedule {
                shared: &shared,
                start,
            };
            let share = schedule.share(producer);
            for seq in 0..share {
                pace(schedule, producer, seq);
                let message = M::new(stamp(producer, seq), schedule.time_for(producer, seq));
                if sender.send(message).is_err() {
                    return Err(format!("producer {producer}: every receiver is gone"));
                }
            }
            Ok((producer, share as u64))
        });
    }
    wait_group
}

/// A consumer task per receiver.
pub(super) fn consume_in_tasks<M: LoadMessage, R: AsyncReceiver<M>>(
    receivers: Vec<R>,
    tallies: Vec<Received>,
    shared: &Arc<Shared>,
    start: Instant,
) -> JoinSet<Received> {
    let mut consumers = JoinSet::new();
    for (mut receiver, mut received) in receivers.into_iter().zip(tallies) {
        let shared = shared.clone();
        consumers.spawn(async move {
            let schedule = Schedule {
                shared: &shared,
                start,
            };
            while let Ok(message) = receiver.recv().await {
                received.take(message, schedule);
            }
            received
        });
    }
    consumers
}

/// `producers` producer tasks on clones of `sender`.
pub(super) fn produce_in_tasks<M: LoadMessage, S: AsyncSender<M>>(
    sender: &S,
    producers: usize,
    shared: &Arc<Shared>,
    start: Instant,
) -> JoinSet<Produced> {
    let mut tasks = JoinSet::new();
    for producer in 0..producers {
        let (sender, shared) = (sender.clone(), shared.clone());
        tasks.spawn(async move {
            let schedule = Schedule {
                shared: &shared,
                start,
            };
            let share = schedule.share(producer);
            for seq in 0..share {
                pace_async(schedule, producer, seq).await;
                let message = M::new(stamp(producer, seq), schedule.time_for(producer, seq));
                if sender.send(message).await.is_err() {
                    return Err(format!("producer {producer}: every receiver is gone"));
                }
            }
            Ok((producer, share as u64))
        });
    }
    tasks
}
