//! Select: wait on several channels at once, with a timeout branch or a
//! default branch, using each library's own select.
//!
//! Use it when one consumer serves several independent sources and must
//! not block on a quiet one, or must give up after a while. Blocking
//! flavors go through [`SyncFlavor::select`], which each library implements
//! with its own mechanism (crossbeam's `Select`, flume's `Selector`);
//! flavors without one are not applicable, never emulated. Async flavors go
//! through `tokio::select!`, which races the library's receive futures, so
//! it needs flavors whose receive future is cancel-safe (the `select`
//! capability of an async flavor).
//!
//! Params: `items` in total, `producers` sources, each on its own channel
//! (`tokio::select!` has a fixed set of branches, so the async version uses
//! two sources), `capacity` of each channel.
//!
//! Oracle: before anything is sent, the timeout branch is taken (and, for a
//! blocking flavor, the default branch); then every message arrives exactly
//! once, each channel's in order, from the channel select names, and a
//! disconnected channel is reported as such.

use std::time::Duration;

use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, SelectError, SelectWait, Selected, Sender, SyncFlavor,
};
use tokio::task::JoinSet;

use super::{join_tasks, require, share};
use crate::coord::WaitGroup;
use crate::oracle::{exactly_once, per_source_order, stamp, stamps};
use crate::outcome::ensure;
use crate::{Outcome, Params, Refusal, ScenarioError};

/// How long a select waits in the timeout phase.
const SHORT: Duration = Duration::from_millis(1);
/// A select that waits this long while producers are still sending has
/// stalled.
const STALL: Duration = Duration::from_secs(10);

fn no_select(flavor: &'static str) -> ScenarioError {
    ScenarioError::NotApplicable(Refusal::NoSelect { flavor })
}

/// Runs the pattern on threads with the flavor's native select.
pub fn run<F: SyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    if !F::INFO.capabilities.select {
        return Err(no_select(F::INFO.name));
    }
    let mut wait_group = WaitGroup::new();
    let mut senders = Vec::with_capacity(params.producers);
    let mut receivers = Vec::with_capacity(params.producers);
    for _ in 0..params.producers {
        let (tx, rx) = F::channel::<u64>(params.capacity)?;
        senders.push(tx);
        receivers.push(rx);
    }
    let idle = F::select(&mut receivers, SelectWait::NoWait);
    ensure(idle == Err(SelectError::NotReady), || {
        format!("select with a default branch on empty channels returned {idle:?}")
    })?;
    let quiet = F::select(&mut receivers, SelectWait::Timeout(SHORT));
    ensure(quiet == Err(SelectError::NotReady), || {
        format!("select with a timeout on empty channels returned {quiet:?}")
    })?;

    for (producer, tx) in senders.into_iter().enumerate() {
        let count = share(params.items, params.producers, producer);
        wait_group.spawn(move || {
            for seq in 0..count {
                if tx.send(stamp(producer, seq)).is_err() {
                    break;
                }
            }
        });
    }
    // Receivers leave the set as they disconnect; `sources[i]` is the
    // producer of `receivers[i]`.
    let mut sources: Vec<usize> = (0..params.producers).collect();
    let mut received = Vec::with_capacity(params.items);
    while !receivers.is_empty() {
        match F::select(&mut receivers, SelectWait::Timeout(STALL)) {
            Ok(Selected {
                index,
                message: Ok(id),
            }) => {
                let from = crate::oracle::source_of(id);
                ensure(from == sources[index], || {
                    format!(
                        "select reported channel {} for a message of source {from}",
                        sources[index]
                    )
                })?;
                received.push(id);
            }
            Ok(Selected {
                index,
                message: Err(_),
            }) => {
                receivers.swap_remove(index);
                sources.swap_remove(index);
            }
            Err(err) => {
                return Err(ScenarioError::Oracle(format!(
                    "select stalled with producers still connected: {err}"
                )));
            }
        }
    }
    let threads = wait_group.started();
    wait_group.join()?;
    check(params, params.producers, &received)?;
    Ok(Outcome::new(params.items as u64, threads))
}

/// Runs the pattern as tasks with `tokio::select!` over two sources.
pub async fn run_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    if !F::INFO.capabilities.select {
        return Err(no_select(F::INFO.name));
    }
    const SOURCES: usize = 2;
    let (a_tx, mut a) = F::channel::<u64>(params.capacity)?;
    let (b_tx, mut b) = F::channel::<u64>(params.capacity)?;
    let quiet = tokio::select! {
        message = a.recv() => Some(message),
        message = b.recv() => Some(message),
        () = tokio::time::sleep(SHORT) => None,
    };
    ensure(quiet.is_none(), || {
        format!("tokio::select! on empty channels took {quiet:?} instead of the timeout")
    })?;

    let mut tasks = JoinSet::new();
    for (producer, tx) in [a_tx, b_tx].into_iter().enumerate() {
        let count = share(params.items, SOURCES, producer);
        tasks.spawn(async move {
            for seq in 0..count {
                if tx.send(stamp(producer, seq)).await.is_err() {
                    break;
                }
            }
        });
    }
    let (mut a_open, mut b_open) = (true, true);
    let mut received = Vec::with_capacity(params.items);
    while a_open || b_open {
        tokio::select! {
            message = a.recv(), if a_open => match message {
                Ok(id) => received.push(id),
                Err(_) => a_open = false,
            },
            message = b.recv(), if b_open => match message {
                Ok(id) => received.push(id),
                Err(_) => b_open = false,
            },
            () = tokio::time::sleep(STALL) => {
                return Err(ScenarioError::Oracle(
                    "tokio::select! stalled with producers still connected".into(),
                ));
            }
        }
    }
    let threads = join_tasks(tasks).await?.len();
    check(params, SOURCES, &received)?;
    Ok(Outcome::new(params.items as u64, threads))
}

fn check(params: &Params, sources: usize, received: &[u64]) -> Result<(), ScenarioError> {
    exactly_once("selected messages", stamps(params.items, sources), received)?;
    per_source_order("selected messages", received)
}
