//! Wake-ups among tasks, on both runtimes: every task waiting on one side
//! wakes when the other side leaves (R6, R7), and each single send or
//! receive wakes a task it unblocks, with no later event to rescue a lost
//! waker (R12). Acknowledgements travel over a tokio semaphore, not a
//! channel under test.

use std::sync::Arc;
use std::time::Duration;

use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, TryRecvError, TrySendError,
};
use tokio::sync::Semaphore;

use super::{
    fill_async, join_within, on_each_runtime_and_capacity, open_async, receiver_count, receivers,
    run_on, spawn_task,
};
use crate::checks::{CheckOutcome, stall_limit};
use crate::spec::ensure;
use crate::{Rule, Settings, Violation};

/// How many tasks wait at once.
const WAITING: usize = 3;

/// R6, R7: receive tasks waiting in `recv` all wake with `Disconnected`
/// when the last sender leaves; send tasks waiting on a full or rendezvous
/// channel all wake with their own value when the last receiver leaves.
pub(crate) fn async_every_blocked_party_wakes<A: AsyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let (settle, limit) = (settings.settle, stall_limit(settings));
    on_each_runtime_and_capacity::<A>(|runtime, capacity, situation| {
        run_on(
            runtime,
            receivers_wake::<A>(capacity, settle, limit, situation),
        )?;
        if capacity != Capacity::Unbounded {
            run_on(
                runtime,
                senders_wake::<A>(capacity, settle, limit, situation),
            )?;
        }
        Ok(())
    })
}

async fn receivers_wake<A: AsyncFlavor>(
    capacity: Capacity,
    settle: Duration,
    limit: Duration,
    situation: &str,
) -> Result<(), Violation> {
    let (tx, rx) = open_async::<A, u64>(capacity)?;
    let count = receiver_count::<A>(WAITING);
    let tasks: Vec<_> = receivers(rx, count)?
        .into_iter()
        .map(|mut rx| spawn_task(async move { rx.recv().await }))
        .collect();
    tokio::time::sleep(settle).await;
    for (index, task) in tasks.iter().enumerate() {
        ensure(!task.is_finished(), Rule::SendersGone, || {
            format!("{situation}: receive task {index} returned before anything was sent")
        })?;
    }
    drop(tx);
    for (index, task) in tasks.into_iter().enumerate() {
        match join_within(task, limit).await? {
            Some(Err(_)) => {}
            Some(Ok(value)) => ensure(false, Rule::ExactlyOnce, || {
                format!("{situation}: receive task {index} got {value}, which was never sent")
            })?,
            None => ensure(false, Rule::SendersGone, || {
                format!(
                    "{situation}: receive task {index} of {count} waiting in recv did not wake within {limit:?} when the last sender left"
                )
            })?,
        }
    }
    Ok(())
}

async fn senders_wake<A: AsyncFlavor>(
    capacity: Capacity,
    settle: Duration,
    limit: Duration,
    situation: &str,
) -> Result<(), Violation> {
    let (tx, rx) = open_async::<A, u64>(capacity)?;
    let room = capacity.bound().unwrap_or(0) as u64;
    fill_async(&tx, 0..room, situation)?;
    let tasks: Vec<_> = (0..WAITING as u64)
        .map(|index| {
            let tx = tx.clone();
            spawn_task(async move { tx.send(100 + index).await.map_err(|err| err.into_inner()) })
        })
        .collect();
    drop(tx);
    tokio::time::sleep(settle).await;
    for (index, task) in tasks.iter().enumerate() {
        ensure(!task.is_finished(), Rule::Capacity, || {
            format!("{situation}: send task {index} completed on a full channel with no receive")
        })?;
    }
    drop(rx);
    for (index, task) in tasks.into_iter().enumerate() {
        let own = 100 + index as u64;
        match join_within(task, limit).await? {
            Some(Err(Some(value))) if value == own => {}
            Some(outcome) => ensure(false, Rule::ReceiversGone, || {
                format!(
                    "{situation}: send task {index}, waiting when the last receiver left, got {outcome:?}, not Err(Some({own}))"
                )
            })?,
            None => ensure(false, Rule::ReceiversGone, || {
                format!(
                    "{situation}: send task {index} of {WAITING} waiting on a full channel did not wake within {limit:?} when the last receiver left"
                )
            })?,
        }
    }
    Ok(())
}

/// R12 among tasks: with several receive tasks waiting, each single `send`
/// or `try_send` must wake one of them; with several send tasks waiting on
/// a full channel, each single `recv` or `try_recv` must let one through.
/// Each round waits for its one acknowledgement, so a lost waker stalls it.
pub(crate) fn async_no_lost_waker<A: AsyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let (settle, limit) = (settings.settle, stall_limit(settings));
    on_each_runtime_and_capacity::<A>(|runtime, capacity, situation| {
        run_on(
            runtime,
            receive_rounds::<A>(capacity, settle, limit, situation),
        )?;
        if capacity != Capacity::Unbounded {
            run_on(
                runtime,
                send_rounds::<A>(capacity, settle, limit, situation),
            )?;
        }
        Ok(())
    })
}

async fn receive_rounds<A: AsyncFlavor>(
    capacity: Capacity,
    settle: Duration,
    limit: Duration,
    situation: &str,
) -> Result<(), Violation> {
    let (tx, rx) = open_async::<A, u64>(capacity)?;
    let count = receiver_count::<A>(WAITING);
    // Each task takes one value and ends, so a waker lost among several
    // is not rescued by a task that is awake anyway; a lone task takes two,
    // so both `send` and `try_send` are tried.
    let per_task = if count == 1 { 2 } else { 1 };
    let rounds = count * per_task;
    let acks = Arc::new(Semaphore::new(0));
    let tasks: Vec<_> = receivers(rx, count)?
        .into_iter()
        .map(|mut rx| {
            let acks = acks.clone();
            spawn_task(async move {
                let mut got = Vec::new();
                for _ in 0..per_task {
                    got.push(rx.recv().await);
                    acks.add_permits(1);
                }
                got
            })
        })
        .collect();
    tokio::time::sleep(settle).await;
    for round in 0..rounds {
        let value = round as u64;
        let how = if round % 2 == 0 { "send" } else { "try_send" };
        let sent = if round % 2 == 0 {
            match tokio::time::timeout(limit, tx.send(value)).await {
                Ok(result) => result.map_err(|err| format!("{err:?}")),
                Err(_) => Err(format!("did not complete within {limit:?}")),
            }
        } else {
            try_send_when_waited_for(&tx, value, capacity, limit).await
        };
        if let Err(err) = sent {
            return ensure(false, Rule::Wakeup, || {
                format!(
                    "{situation}: round {round}: {how} with receive task(s) waiting failed: {err}"
                )
            });
        }
        if !acknowledged(&acks, limit).await {
            let waiting = (rounds - round).div_ceil(per_task);
            return ensure(false, Rule::Wakeup, || {
                format!(
                    "{situation}: round {round}: one {how} with {waiting} receive task(s) waiting in recv woke none within {limit:?}"
                )
            });
        }
    }
    let mut got = Vec::new();
    for task in tasks {
        let received = join_within(task, limit).await?.unwrap_or_default();
        got.extend(received.into_iter().filter_map(Result::ok));
    }
    got.sort_unstable();
    let expected: Vec<u64> = (0..rounds as u64).collect();
    ensure(got == expected, Rule::ExactlyOnce, || {
        format!("{situation}: receive tasks got {got:?}, sent {expected:?}")
    })
}

async fn send_rounds<A: AsyncFlavor>(
    capacity: Capacity,
    settle: Duration,
    limit: Duration,
    situation: &str,
) -> Result<(), Violation> {
    let (tx, mut rx) = open_async::<A, u64>(capacity)?;
    let room = capacity.bound().unwrap_or(0) as u64;
    fill_async(&tx, 0..room, situation)?;
    let acks = Arc::new(Semaphore::new(0));
    let tasks: Vec<_> = (0..WAITING as u64)
        .map(|index| {
            let (tx, acks) = (tx.clone(), acks.clone());
            spawn_task(async move {
                let sent = tx.send(100 + index).await.is_ok();
                acks.add_permits(1);
                sent
            })
        })
        .collect();
    tokio::time::sleep(settle).await;
    ensure(acks.available_permits() == 0, Rule::Capacity, || {
        format!("{situation}: a send task completed on a full channel with no receive")
    })?;
    for round in 0..WAITING {
        let how = if round % 2 == 0 { "recv" } else { "try_recv" };
        let received = if round % 2 == 1 {
            match rx.try_recv() {
                Ok(_) => true,
                // A rendezvous channel may show a waiting sender only to a
                // receive that waits.
                Err(TryRecvError::Empty) if room == 0 => {
                    matches!(tokio::time::timeout(limit, rx.recv()).await, Ok(Ok(_)))
                }
                Err(_) => false,
            }
        } else {
            matches!(tokio::time::timeout(limit, rx.recv()).await, Ok(Ok(_)))
        };
        let waiting = WAITING - round;
        if !received {
            return ensure(false, Rule::Wakeup, || {
                format!(
                    "{situation}: round {round}: a {how} with {waiting} send task(s) waiting on a full channel got nothing within {limit:?}"
                )
            });
        }
        if !acknowledged(&acks, limit).await {
            return ensure(false, Rule::Wakeup, || {
                format!(
                    "{situation}: round {round}: one {how} from a full channel with {waiting} send task(s) waiting woke none within {limit:?}"
                )
            });
        }
    }
    drop((tx, rx));
    for task in tasks {
        join_within(task, limit).await?;
    }
    Ok(())
}

/// `try_send`; on a rendezvous channel, where it succeeds only while a
/// receive waits, retried until a task that just acknowledged is waiting
/// again (R5 has checks of its own).
async fn try_send_when_waited_for<S: AsyncSender<u64>>(
    tx: &S,
    value: u64,
    capacity: Capacity,
    limit: Duration,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut value = value;
    loop {
        match tx.try_send(value) {
            Err(TrySendError::Full(back))
                if capacity == Capacity::RENDEZVOUS && tokio::time::Instant::now() < deadline =>
            {
                value = back;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            other => return other.map_err(|err| format!("{err:?}")),
        }
    }
}

/// Waits at most `limit` for one acknowledgement.
async fn acknowledged(acks: &Semaphore, limit: Duration) -> bool {
    match tokio::time::timeout(limit, acks.acquire()).await {
        Ok(Ok(permit)) => {
            permit.forget();
            true
        }
        _ => false,
    }
}
