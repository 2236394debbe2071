//! The blocking suite's basic rules, driven by futures: exactly once and in
//! order under contention between tasks and between futures joined in one
//! task (R2, R3), capacity (R4) and
//! rendezvous (R5) with send and receive futures polled by hand, and the
//! single receive or send that must wake a waiting future (R12).

use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, TryRecvError, TrySendError,
};

use super::{
    Hand, Runtime, capacities_of, drive, either_woken, fill_async, join_within, open_async,
    patience, receiver_count, receivers, run_on, spawn_task,
};
use crate::checks::stress::account;
use crate::checks::{Budget, CheckOutcome, let_settle, stall_limit, wrap_buffer};
use crate::payload::Stamp;
use crate::spec::ensure;
use crate::{Rule, Settings, Violation};

/// Producer tasks in the contention check.
const PRODUCERS: u32 = 3;

/// Consumer tasks where the flavor is multi-consumer.
const CONSUMERS: usize = 3;

/// `try_send`s that must all succeed on an unbounded channel.
const UNBOUNDED_PROBE: u64 = 1000;

/// R2, R3: producer tasks (`send`, and `try_send` falling back to `send`)
/// and consumer tasks (`recv`, and `try_recv` between awaits) on both
/// runtimes, at every capacity, for the stress budget: every message
/// arrives once, in each producer's order.
pub(crate) fn async_exactly_once_in_order<A: AsyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let limit = stall_limit(settings);
    for runtime in Runtime::BOTH {
        for capacity in capacities_of::<A>() {
            let consumers = receiver_count::<A>(CONSUMERS);
            let shape = format!(
                "{runtime}, {capacity}, {PRODUCERS} producer tasks, {consumers} consumer task(s)"
            );
            let (sent, received) = run_on(
                runtime,
                traffic::<A>(capacity, consumers, settings, limit, shape.clone()),
            )?;
            account(&shape, &sent, &received)?;

            let shape =
                format!("{runtime}, {capacity}, a producer and a consumer joined in one task");
            let (sent, received) = run_on(runtime, joined::<A>(capacity, settings))?;
            account(&shape, &[sent], &[received])?;
        }
    }
    Ok(CheckOutcome::Pass)
}

/// One producer and one consumer polled together by one task, so each
/// wake-up of either re-polls both: the shape in which flume 0.10.10
/// reordered messages (zesterer/flume#98).
async fn joined<A: AsyncFlavor>(
    capacity: Capacity,
    settings: &Settings,
) -> Result<(u64, Vec<Stamp>), Violation> {
    let (tx, mut rx) = open_async::<A, Stamp>(capacity)?;
    let budget = Budget::start(settings.stress_budget);
    let producer = async move {
        let mut seq = 0;
        while !budget.spent(seq) && tx.send(Stamp { producer: 0, seq }).await.is_ok() {
            seq += 1;
        }
        seq
    };
    let consumer = async {
        let mut got = Vec::new();
        while let Ok(stamp) = rx.recv().await {
            got.push(stamp);
        }
        got
    };
    Ok(tokio::join!(producer, consumer))
}

async fn traffic<A: AsyncFlavor>(
    capacity: Capacity,
    consumers: usize,
    settings: &Settings,
    limit: std::time::Duration,
    shape: String,
) -> Result<(Vec<u64>, Vec<Vec<Stamp>>), Violation> {
    let (tx, rx) = open_async::<A, Stamp>(capacity)?;
    let consuming: Vec<_> = receivers(rx, consumers)?
        .into_iter()
        .enumerate()
        .map(|(index, mut rx)| {
            spawn_task(async move {
                let mut got = Vec::new();
                loop {
                    if index % 2 == 1 {
                        match rx.try_recv() {
                            Ok(stamp) => {
                                got.push(stamp);
                                continue;
                            }
                            Err(TryRecvError::Disconnected) => break,
                            Err(TryRecvError::Empty) => {}
                        }
                    }
                    match rx.recv().await {
                        Ok(stamp) => got.push(stamp),
                        Err(_) => break,
                    }
                }
                got
            })
        })
        .collect();
    let budget = Budget::start(settings.stress_budget);
    let producing: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let tx = tx.clone();
            spawn_task(async move {
                let mut seq = 0;
                while !budget.spent(seq) {
                    let stamp = Stamp { producer, seq };
                    let accepted = if producer == 0 {
                        match tx.try_send(stamp) {
                            Ok(()) => true,
                            Err(TrySendError::Full(stamp)) => tx.send(stamp).await.is_ok(),
                            Err(TrySendError::Disconnected(_)) => false,
                        }
                    } else {
                        tx.send(stamp).await.is_ok()
                    };
                    if !accepted {
                        break;
                    }
                    seq += 1;
                    if seq % 32 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
                seq
            })
        })
        .collect();
    drop(tx);
    let hung = |who: &str| {
        Violation::new(
            Rule::Liveness,
            format!("{shape}: a {who} task did not finish within {limit:?}"),
        )
    };
    let mut sent = Vec::new();
    for task in producing {
        sent.push(
            join_within(task, limit)
                .await?
                .ok_or_else(|| hung("producer"))?,
        );
    }
    let mut received = Vec::new();
    for task in consuming {
        received.push(
            join_within(task, limit)
                .await?
                .ok_or_else(|| hung("consumer"))?,
        );
    }
    Ok((sent, received))
}

/// R4, R5 and R12 with futures polled by hand: a full bounded channel
/// refuses `try_send` and keeps a send future waiting until one `try_recv`
/// or one receive future takes a message, which must wake it; an unbounded
/// one never waits; a rendezvous send future waits for a receive, a
/// receive completes it, and `try_send` succeeds only while a receive
/// future waits.
pub(crate) fn async_capacity_and_rendezvous<A: AsyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    for capacity in capacities_of::<A>() {
        match capacity.bound() {
            None => unbounded::<A>()?,
            Some(0) => rendezvous::<A>(settings)?,
            Some(room) => {
                // Fresh, and with the buffer turned past its capacity.
                bounded::<A>(room as u64, false, settings)?;
                bounded::<A>(room as u64, true, settings)?;
            }
        }
    }
    Ok(CheckOutcome::Pass)
}

fn unbounded<A: AsyncFlavor>() -> Result<(), Violation> {
    let (tx, _rx) = open_async::<A, u64>(Capacity::Unbounded)?;
    for value in 0..UNBOUNDED_PROBE {
        if let Err(err) = tx.try_send(value) {
            return Err(Violation::new(
                Rule::Capacity,
                format!("unbounded: try_send #{value} refused: {err:?}"),
            ));
        }
    }
    let mut send = Hand::new(tx.send(UNBOUNDED_PROBE));
    ensure(matches!(send.poll(), Some(Ok(()))), Rule::Capacity, || {
        format!(
            "unbounded: a send future after {UNBOUNDED_PROBE} messages did not complete at once"
        )
    })
}

fn bounded<A: AsyncFlavor>(room: u64, wrapped: bool, settings: &Settings) -> Result<(), Violation> {
    // Futures polled by hand on this thread are woken by calls on this
    // thread, at once: `wait` is ample, `limit` bounds what may block.
    let (wait, limit) = (patience(settings), stall_limit(settings));
    let (tx, mut rx) = open_async::<A, u64>(Capacity::Bounded(room as usize))?;
    let capacity = format!(
        "{}{}",
        Capacity::Bounded(room as usize),
        if wrapped {
            ", turned past its capacity"
        } else {
            ""
        }
    );
    if wrapped {
        let make = |i: usize| 1000 + i as u64;
        wrap_buffer(
            |v| tx.try_send(v),
            || rx.try_recv(),
            room as usize,
            make,
            &capacity,
        )?;
    }
    fill_async(&tx, 0..room, &capacity)?;
    match tx.try_send(room) {
        Err(TrySendError::Full(value)) => ensure(value == room, Rule::Capacity, || {
            format!("{capacity} full: try_send handed back {value}, not {room}")
        })?,
        other => ensure(false, Rule::Capacity, || {
            format!("{capacity} full: try_send of one more gave {other:?}, not Full")
        })?,
    }

    // One try_recv must wake a send future waiting on the full channel.
    let mut send = Hand::new(tx.send(room));
    ensure(send.poll().is_none(), Rule::Capacity, || {
        format!("{capacity} full: a send future completed at once")
    })?;
    let_settle(settings.settle);
    // Polled again with another waker, as when a task moves: the channel
    // must wake the newest one.
    send.repoll_with_new_waker(Rule::Capacity, || {
        format!("{capacity} full: a send future completed with no receive")
    })?;
    ensure(rx.try_recv() == Ok(0), Rule::Fifo, || {
        format!("{capacity}: the first try_recv did not give the first message")
    })?;
    send.expect_woken(wait, || {
        format!(
            "{capacity}: a send future waiting on the full channel, polled again with a new waker, was not woken (the new waker) within {wait:?} by one try_recv"
        )
    })?;
    ensure(drive::<_, ()>(&mut send, None, limit), Rule::Wakeup, || {
        format!("{capacity}: a woken send future did not complete within {limit:?}")
    })?;
    drop(send);

    // And one receive future must, too.
    let mut send = Hand::new(tx.send(room + 1));
    ensure(send.poll().is_none(), Rule::Capacity, || {
        format!("{capacity} full again: a send future completed at once")
    })?;
    let mut recv = Hand::new(rx.recv());
    ensure(matches!(recv.poll(), Some(Ok(1))), Rule::Fifo, || {
        format!(
            "{capacity}: a receive future on a full channel did not give the second message at once"
        )
    })?;
    drop(recv);
    ensure(send.wait_woken(wait), Rule::Wakeup, || {
        format!(
            "{capacity}: a send future waiting on the full channel was not woken within {wait:?} by one receive future"
        )
    })?;
    ensure(drive::<_, ()>(&mut send, None, limit), Rule::Wakeup, || {
        format!("{capacity}: a woken send future did not complete within {limit:?}")
    })?;
    drop(send);

    let drained: Vec<u64> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    let expected: Vec<u64> = (2..room + 2).collect();
    ensure(drained == expected, Rule::Fifo, || {
        format!("{capacity}: drained {drained:?}, expected {expected:?}")
    })?;
    woken_send_dropped_passes_on(&tx, &mut rx, room, wait)
}

/// R12 through cancellation, on the sending side: two send futures wait on
/// a full channel, one `try_recv` wakes one of them, and that one is
/// dropped before its next poll. Unless it delivered its value (then the
/// channel is full again), the other must be woken.
fn woken_send_dropped_passes_on<S: AsyncSender<u64>, R: AsyncReceiver<u64>>(
    tx: &S,
    rx: &mut R,
    room: u64,
    wait: std::time::Duration,
) -> Result<(), Violation> {
    let capacity = Capacity::Bounded(room as usize);
    fill_async(tx, 0..room, &capacity.to_string())?;
    let mut first = Hand::new(tx.send(room));
    let mut second = Hand::new(tx.send(room + 1));
    ensure(
        first.poll().is_none() && second.poll().is_none(),
        Rule::Capacity,
        || format!("{capacity} full: a send future completed at once"),
    )?;
    ensure(rx.try_recv() == Ok(0), Rule::Fifo, || {
        format!("{capacity}: try_recv did not give the first message")
    })?;
    ensure(either_woken(&first, &second, wait), Rule::Wakeup, || {
        format!(
            "{capacity}: one try_recv with two send futures waiting woke neither within {wait:?}"
        )
    })?;
    let survivor = if first.woken() {
        drop(first);
        second
    } else {
        drop(second);
        first
    };
    if survivor.woken() || survivor.wait_woken(wait) {
        return Ok(());
    }
    // Not woken: fine only if the dropped future had delivered its value.
    let room_left = tx.try_send(u64::MAX).is_ok();
    ensure(!room_left, Rule::Wakeup, || {
        format!(
            "{capacity}: a send future woken for room was dropped before its next poll without using it, and the other waiting send future was not woken within {wait:?}: the wake-up was not passed on"
        )
    })
}

fn rendezvous<A: AsyncFlavor>(settings: &Settings) -> Result<(), Violation> {
    let limit = stall_limit(settings);
    let (tx, mut rx) = open_async::<A, u64>(Capacity::RENDEZVOUS)?;
    match tx.try_send(1) {
        Err(TrySendError::Full(1)) => {}
        other => ensure(false, Rule::Rendezvous, || {
            format!(
                "rendezvous, no receiver waiting: try_send gave {other:?}, not Full with its value"
            )
        })?,
    }

    // A send future waits until a receive takes its value.
    let mut send = Hand::new(tx.send(2));
    ensure(send.poll().is_none(), Rule::Rendezvous, || {
        "rendezvous: a send future with no receiver completed at once".to_owned()
    })?;
    let_settle(settings.settle);
    ensure(send.poll().is_none(), Rule::Rendezvous, || {
        "rendezvous: a send future completed with no receiver".to_owned()
    })?;
    let mut recv = Hand::new(rx.recv());
    let both = drive(&mut recv, Some(&mut send), limit);
    ensure(both, Rule::Wakeup, || {
        format!(
            "rendezvous: a receive future and a waiting send future, each polled only when woken, did not both complete within {limit:?}"
        )
    })?;
    ensure(
        matches!(recv.into_output(), Some(Ok(2))),
        Rule::ExactlyOnce,
        || "rendezvous: the receive did not get the waiting send future's value".to_owned(),
    )?;
    drop(send);

    // With a receive future waiting, try_send succeeds and wakes it.
    let mut recv = Hand::new(rx.recv());
    ensure(recv.poll().is_none(), Rule::ExactlyOnce, || {
        "rendezvous: a receive future on an empty channel completed".to_owned()
    })?;
    match tx.try_send(3) {
        Ok(()) => {}
        other => ensure(false, Rule::Rendezvous, || {
            format!("rendezvous, a receive future waiting: try_send gave {other:?}")
        })?,
    }
    ensure(recv.wait_woken(limit), Rule::Wakeup, || {
        format!("rendezvous: try_send to a waiting receive future did not wake it within {limit:?}")
    })?;
    ensure(
        drive::<_, ()>(&mut recv, None, limit) && matches!(recv.into_output(), Some(Ok(3))),
        Rule::ExactlyOnce,
        || {
            "rendezvous: the woken receive future did not get the value try_send handed it"
                .to_owned()
        },
    )
}
