//! R9 with futures: values moved by tasks are each dropped once when
//! receivers leave mid-traffic with send tasks waiting, when send tasks are
//! aborted (their futures dropped) while a receiver takes values, and when a
//! send future is dropped right after a receive made room for it (it either
//! delivered its value or dropped it, never both).

use std::collections::HashSet;
use std::time::Duration;

use chanlab_contract::{AsyncFlavor, AsyncReceiver, AsyncSender, Capacity};

use super::{
    Hand, Runtime, capacities_of, drive, fill_async, join_within, open_async, patience,
    receiver_count, receivers, run_on, spawn_task,
};
use crate::checks::drops::{verify, verify_made};
use crate::checks::{Budget, CheckOutcome, stall_limit};
use crate::payload::{Ledger, Tracked};
use crate::spec::ensure;
use crate::{Rule, Settings, Violation};

/// Producer tasks in the traffic phase; each makes at most
/// [`PER_PRODUCER`] values.
const PRODUCERS: usize = 3;
const PER_PRODUCER: usize = 2048;

/// Send tasks aborted while they wait.
const ABORTED: usize = 3;

pub(crate) fn async_values_dropped_once<A: AsyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let limit = stall_limit(settings);
    for runtime in Runtime::BOTH {
        for capacity in capacities_of::<A>() {
            let situation = format!("{runtime}, {capacity}");
            let ledger = Ledger::leak(PRODUCERS * PER_PRODUCER);
            let made = run_on(
                runtime,
                traffic::<A>(capacity, settings, limit, ledger, &situation),
            )?;
            verify_made(
                ledger,
                &made,
                PER_PRODUCER,
                &format!(
                    "{situation}: {PRODUCERS} producer tasks sending Box<Tracked>, receivers leaving mid-traffic"
                ),
            )?;
            if capacity != Capacity::Unbounded {
                run_on(
                    runtime,
                    aborted_sends::<A>(capacity, settings.settle, limit, &situation),
                )?;
            }
        }
    }
    for capacity in capacities_of::<A>() {
        if capacity != Capacity::Unbounded {
            dropped_after_room::<A>(capacity, patience(settings))?;
        }
    }
    Ok(CheckOutcome::Pass)
}

/// Producer tasks send until every receiver has left; returns how many
/// values each made.
async fn traffic<A: AsyncFlavor>(
    capacity: Capacity,
    settings: &Settings,
    limit: Duration,
    ledger: &'static Ledger,
    situation: &str,
) -> Result<Vec<usize>, Violation> {
    let (tx, rx) = open_async::<A, Box<Tracked>>(capacity)?;
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let tx = tx.clone();
            spawn_task(async move { send_tracked(&tx, ledger, producer, PER_PRODUCER).await })
        })
        .collect();
    drop(tx);
    let budget = Budget::start(settings.stress_budget);
    let count = receiver_count::<A>(2);
    let consumers: Vec<_> = receivers(rx, count)?
        .into_iter()
        .enumerate()
        .map(|(index, mut rx)| {
            // The first of two leaves after a few values; the last stays
            // for the budget, then leaves with producers waiting.
            let leave_after = if index + 1 < count { 5 } else { u64::MAX };
            spawn_task(async move {
                let mut taken = 0u64;
                while taken < leave_after && !budget.spent(taken) {
                    match tokio::time::timeout(Duration::from_millis(5), rx.recv()).await {
                        Ok(Ok(value)) => drop(value),
                        Ok(Err(_)) => break,
                        Err(_) => {}
                    }
                    taken += 1;
                }
            })
        })
        .collect();
    for (index, consumer) in consumers.into_iter().enumerate() {
        if join_within(consumer, limit).await?.is_none() {
            return Err(Violation::new(
                Rule::Liveness,
                format!("{situation}: consumer task {index} did not finish within {limit:?}"),
            ));
        }
    }
    let mut made = Vec::new();
    for (index, producer) in producers.into_iter().enumerate() {
        match join_within(producer, limit).await? {
            Some(count) => made.push(count),
            None => {
                return Err(Violation::new(
                    Rule::ReceiversGone,
                    format!(
                        "{situation}: producer task {index} stayed waiting in send after every receiver left"
                    ),
                ));
            }
        }
    }
    Ok(made)
}

/// Send tasks wait on a full channel; a receive task takes two values
/// while they are aborted. Every value is then received at most once and
/// dropped exactly once.
async fn aborted_sends<A: AsyncFlavor>(
    capacity: Capacity,
    settle: Duration,
    limit: Duration,
    situation: &str,
) -> Result<(), Violation> {
    let room = capacity.bound().unwrap_or(0);
    let ledger = Ledger::leak(room + ABORTED);
    let (tx, mut rx) = open_async::<A, Tracked>(capacity)?;
    fill_async(&tx, (0..room).map(|id| ledger.value(id)), situation)?;
    let senders: Vec<_> = (0..ABORTED)
        .map(|index| {
            let tx = tx.clone();
            let value = ledger.value(room + index);
            spawn_task(async move { tx.send(value).await.is_ok() })
        })
        .collect();
    drop(tx);
    tokio::time::sleep(settle).await;
    let mut received = Vec::new();
    for _ in 0..2 {
        if let Ok(Ok(value)) = tokio::time::timeout(limit, rx.recv()).await {
            received.push(value);
        }
    }
    for sender in &senders {
        sender.abort();
    }
    for sender in senders {
        if let Err(err) = sender.await
            && err.is_panic()
        {
            return Err(Violation::new(
                Rule::Liveness,
                format!("{situation}: an aborted send task panicked"),
            ));
        }
    }
    loop {
        match tokio::time::timeout(limit, rx.recv()).await {
            Ok(Ok(value)) => received.push(value),
            Ok(Err(_)) => break,
            Err(_) => {
                return Err(Violation::new(
                    Rule::SendersGone,
                    format!(
                        "{situation}: with every send task aborted and the sender dropped, a receive did not end within {limit:?}"
                    ),
                ));
            }
        }
    }
    let repeated = received_twice(received.iter().map(|value| value.id));
    ensure(repeated.is_empty(), Rule::ExactlyOnce, || {
        format!(
            "{situation}: values {repeated:?} were received twice after send tasks were aborted"
        )
    })?;
    drop(received);
    drop(rx);
    verify(
        ledger,
        &format!("{situation}: {ABORTED} send tasks aborted while a receive task took values"),
    )
}

/// A send future waits on a full (or rendezvous) channel; one receive
/// takes a value, which may let the send future deliver; the send future
/// is then dropped without another poll. Its value was delivered or
/// dropped by it, and is dropped exactly once either way.
fn dropped_after_room<A: AsyncFlavor>(capacity: Capacity, wait: Duration) -> Result<(), Violation> {
    let room = capacity.bound().unwrap_or(0);
    let ledger = Ledger::leak(room + 1);
    let (tx, mut rx) = open_async::<A, Tracked>(capacity)?;
    fill_async(
        &tx,
        (0..room).map(|id| ledger.value(id)),
        &capacity.to_string(),
    )?;
    let mut received = Vec::new();
    {
        let mut send = Hand::new(tx.send(ledger.value(room)));
        ensure(send.poll().is_none(), Rule::Capacity, || {
            format!("{capacity}: a send future on a full channel completed at once")
        })?;
        let mut recv = Hand::new(rx.recv());
        drive::<_, ()>(&mut recv, None, wait);
        if let Some(Ok(value)) = recv.into_output() {
            received.push(value);
        }
        drop(send);
    }
    drop(tx);
    while let Ok(value) = rx.try_recv() {
        received.push(value);
    }
    let repeated = received_twice(received.iter().map(|value| value.id));
    ensure(repeated.is_empty(), Rule::ExactlyOnce, || {
        format!("{capacity}: values {repeated:?} were received twice around a dropped send future")
    })?;
    drop(received);
    drop(rx);
    verify(
        ledger,
        &format!("{capacity}: a send future dropped right after a receive made room for it"),
    )
}

/// The ids that occur more than once.
fn received_twice(ids: impl IntoIterator<Item = usize>) -> Vec<usize> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|&id| !seen.insert(id)).collect()
}

/// Producer `producer`'s part of a drop-count run: sends `Box<Tracked>`
/// values with ids `producer * per_producer ..` until `per_producer` are
/// made or a send fails; returns how many it made.
pub(crate) async fn send_tracked<S: AsyncSender<Box<Tracked>>>(
    tx: &S,
    ledger: &'static Ledger,
    producer: usize,
    per_producer: usize,
) -> usize {
    let mut made = 0;
    while made < per_producer {
        let value = Box::new(ledger.value(producer * per_producer + made));
        made += 1;
        if tx.send(value).await.is_err() {
            break;
        }
    }
    made
}
