//! The rules across a bridge: one channel with a blocking end and an async
//! end. One blocking call wakes a waiting future and back (R12); threads
//! send to tasks and tasks to threads (R2, R3); a blocking
//! send on a rendezvous channel waits for the async receive and an async
//! send for the blocking one (R5); either side leaving wakes the other
//! (R6, R7); values are dropped exactly once across the mix (R9); and a
//! value a blocking send hands to a waiting receive future that is then
//! dropped is not lost where the async end declares `cancel_safe_recv`.

use std::thread;
use std::time::Duration;

use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, Bridge, Capacity, Receiver, RecvTimeoutError, Sender,
    SyncFlavor,
};

use super::drops::send_tracked;
use super::{Hand, Runtime, drive, join_within, patience, run_on, spawn_task};
use crate::checks::drops::verify_made;
use crate::checks::stress::account;
use crate::checks::{Budget, CheckOutcome, PROBED_CAPACITIES, Pending, fill_with, stall_limit};
use crate::payload::{Ledger, Stamp, Tracked};
use crate::spec::ensure;
use crate::{Rule, Settings, Violation};

/// Producers on each side of the traffic checks.
const PRODUCERS: u32 = 2;

/// Most values one producer makes in the drop checks.
const PER_PRODUCER: usize = 2048;

/// The capacities both ends of `B` declare.
fn bridge_capacities<B: Bridge>() -> Vec<Capacity> {
    let (blocking, asynchronous) = (
        <B::Sync as SyncFlavor>::INFO.capabilities,
        <B::Async as AsyncFlavor>::INFO.capabilities,
    );
    PROBED_CAPACITIES
        .into_iter()
        .filter(|&capacity| blocking.supports(capacity) && asynchronous.supports(capacity))
        .collect()
}

fn unsupported(capacity: Capacity, err: impl std::fmt::Display) -> Violation {
    Violation::new(
        Rule::Capabilities,
        format!("both ends declare {capacity} but the bridge failed: {err}"),
    )
}

/// R2, R3 and R5 across the mix.
pub(crate) fn mixed_exactly_once<B: Bridge>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let limit = stall_limit(settings);
    for capacity in bridge_capacities::<B>() {
        wakes_across::<B>(capacity, patience(settings), limit)?;
        threads_to_tasks::<B>(capacity, settings, limit)?;
        tasks_to_thread::<B>(capacity, settings, limit)?;
        if capacity == Capacity::RENDEZVOUS {
            rendezvous_across::<B>(settings, limit)?;
        }
    }
    Ok(CheckOutcome::Pass)
}

/// R12 across the mix, with no later event to rescue a lost wake-up: one
/// blocking `try_send` wakes a waiting async receive, and one blocking
/// `try_recv` wakes an async send waiting on a full channel, each future
/// through the waker of its latest poll.
fn wakes_across<B: Bridge>(
    capacity: Capacity,
    wait: Duration,
    limit: Duration,
) -> Result<(), Violation> {
    if capacity != Capacity::RENDEZVOUS {
        let (tx, mut rx) =
            B::sync_to_async::<u64>(capacity).map_err(|err| unsupported(capacity, err))?;
        let mut recv = Hand::new(rx.recv());
        ensure(recv.poll().is_none(), Rule::ExactlyOnce, || {
            format!("{capacity}: an async receive on an empty channel completed")
        })?;
        // Polled again with a new waker, as when its task moves.
        recv.repoll_with_new_waker(Rule::ExactlyOnce, || {
            format!("{capacity}: an async receive polled again on an empty channel completed")
        })?;
        fill_with(|value| tx.try_send(value), [1], &capacity.to_string())?;
        recv.expect_woken(wait, || {
            format!(
                "{capacity}: one blocking try_send did not wake a waiting async receive, polled again with a new waker, through that waker within {wait:?}"
            )
        })?;
        let arrived = drive::<_, ()>(&mut recv, None, limit);
        let got = recv.into_output();
        ensure(
            arrived && matches!(got, Some(Ok(1))),
            Rule::ExactlyOnce,
            || format!("{capacity}: the woken async receive gave {got:?}, not the value sent"),
        )?;
    }
    if let Some(room) = capacity.bound().filter(|&room| room > 0) {
        let (tx, mut rx) =
            B::async_to_sync::<u64>(capacity).map_err(|err| unsupported(capacity, err))?;
        fill_with(
            |value| tx.try_send(value),
            0..room as u64,
            &capacity.to_string(),
        )?;
        let mut send = Hand::new(tx.send(99));
        ensure(send.poll().is_none(), Rule::Capacity, || {
            format!("{capacity}: an async send future on a full channel completed")
        })?;
        send.repoll_with_new_waker(Rule::Capacity, || {
            format!("{capacity}: an async send future polled again on a full channel completed")
        })?;
        ensure(rx.try_recv() == Ok(0), Rule::Fifo, || {
            format!("{capacity}: a blocking try_recv did not give the first message")
        })?;
        send.expect_woken(wait, || {
            format!(
                "{capacity}: one blocking try_recv did not wake an async send waiting on the full channel, polled again with a new waker, through that waker within {wait:?}"
            )
        })?;
        ensure(drive::<_, ()>(&mut send, None, limit), Rule::Wakeup, || {
            format!("{capacity}: a woken async send did not complete within {limit:?}")
        })?;
    }
    Ok(())
}

fn threads_to_tasks<B: Bridge>(
    capacity: Capacity,
    settings: &Settings,
    limit: Duration,
) -> Result<(), Violation> {
    let shape = format!("{capacity}, {PRODUCERS} sending threads to an async receiver");
    let (tx, mut rx) =
        B::sync_to_async::<Stamp>(capacity).map_err(|err| unsupported(capacity, err))?;
    let budget = Budget::start(settings.stress_budget);
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let tx = tx.clone();
            Pending::start(move || {
                let mut seq = 0;
                while !budget.spent(seq) && tx.send(Stamp { producer, seq }).is_ok() {
                    seq += 1;
                }
                seq
            })
        })
        .collect();
    drop(tx);
    let received = run_on(Runtime::CurrentThread, async {
        let mut received = Vec::new();
        loop {
            match tokio::time::timeout(limit, rx.recv()).await {
                Ok(Ok(stamp)) => received.push(stamp),
                Ok(Err(_)) => return Ok(received),
                Err(_) => {
                    return Err(Violation::new(
                        Rule::Wakeup,
                        format!(
                            "{shape}: the async receive waited {limit:?} with nothing arriving and the senders not gone ({} received)",
                            received.len()
                        ),
                    ));
                }
            }
        }
    })?;
    let mut sent = Vec::new();
    for producer in producers {
        sent.push(producer.join_within(limit)?.ok_or_else(|| {
            Violation::new(
                Rule::Liveness,
                format!("{shape}: a producer thread did not finish within {limit:?}"),
            )
        })?);
    }
    account(&shape, &sent, &[received])
}

fn tasks_to_thread<B: Bridge>(
    capacity: Capacity,
    settings: &Settings,
    limit: Duration,
) -> Result<(), Violation> {
    let shape = format!("{capacity}, {PRODUCERS} sending tasks to a blocking receiver");
    let (tx, mut rx) =
        B::async_to_sync::<Stamp>(capacity).map_err(|err| unsupported(capacity, err))?;
    let budget = Budget::start(settings.stress_budget);
    let producing = Pending::start(move || {
        run_on(Runtime::MultiThread, async move {
            let tasks: Vec<_> = (0..PRODUCERS)
                .map(|producer| {
                    let tx = tx.clone();
                    spawn_task(async move {
                        let mut seq = 0;
                        while !budget.spent(seq) && tx.send(Stamp { producer, seq }).await.is_ok() {
                            seq += 1;
                        }
                        seq
                    })
                })
                .collect();
            drop(tx);
            let mut sent = Vec::new();
            for task in tasks {
                sent.push(join_within(task, limit).await?);
            }
            Ok(sent)
        })
    });
    let mut received = Vec::new();
    loop {
        match rx.recv_timeout(limit) {
            Ok(stamp) => received.push(stamp),
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                return Err(Violation::new(
                    Rule::Wakeup,
                    format!(
                        "{shape}: the blocking receive waited {limit:?} with nothing arriving and the senders not gone ({} received)",
                        received.len()
                    ),
                ));
            }
        }
    }
    let sent = producing
        .join_within(limit)?
        .transpose()?
        .and_then(|sent| sent.into_iter().collect::<Option<Vec<u64>>>())
        .ok_or_else(|| {
            Violation::new(
                Rule::Liveness,
                format!("{shape}: a producer task did not finish within {limit:?}"),
            )
        })?;
    account(&shape, &sent, &[received])
}

/// A blocking send waits for the async receive; an async send future waits
/// for the blocking receive.
fn rendezvous_across<B: Bridge>(settings: &Settings, limit: Duration) -> Result<(), Violation> {
    let capacity = Capacity::RENDEZVOUS;
    let (tx, mut rx) =
        B::sync_to_async::<u64>(capacity).map_err(|err| unsupported(capacity, err))?;
    let sending = Pending::start(move || tx.send(1).is_ok());
    ensure(
        sending.still_blocked_after(settings.settle),
        Rule::Rendezvous,
        || "rendezvous: a blocking send completed with no async receive waiting".to_owned(),
    )?;
    let got = run_on(Runtime::CurrentThread, async {
        Ok(tokio::time::timeout(limit, rx.recv()).await)
    })?;
    ensure(matches!(got, Ok(Ok(1))), Rule::Rendezvous, || {
        format!("rendezvous: the async receive gave {got:?}, not the blocked send's value")
    })?;
    ensure(
        matches!(sending.join_within(limit)?, Some(true)),
        Rule::Rendezvous,
        || {
            "rendezvous: the blocking send did not complete once the async receive took its value"
                .to_owned()
        },
    )?;

    let (tx, mut rx) =
        B::async_to_sync::<u64>(capacity).map_err(|err| unsupported(capacity, err))?;
    let mut send = Hand::new(tx.send(2));
    ensure(send.poll().is_none(), Rule::Rendezvous, || {
        "rendezvous: an async send future completed with no blocking receive".to_owned()
    })?;
    thread::sleep(settings.settle);
    ensure(send.poll().is_none(), Rule::Rendezvous, || {
        "rendezvous: an async send future completed with no blocking receive, after a wait"
            .to_owned()
    })?;
    let receiving = Pending::start(move || rx.recv().ok());
    let sent = drive::<_, ()>(&mut send, None, limit);
    ensure(sent, Rule::Wakeup, || {
        format!(
            "rendezvous: an async send future was not woken to completion within {limit:?} by a blocking receive"
        )
    })?;
    let got = receiving.join_within(limit)?;
    ensure(got == Some(Some(2)), Rule::Rendezvous, || {
        format!("rendezvous: the blocking receive gave {got:?}, not the send future's value")
    })
}

/// R6, R7 and R9 across the mix.
pub(crate) fn mixed_disconnect_and_drops<B: Bridge>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let limit = stall_limit(settings);
    for capacity in bridge_capacities::<B>() {
        if let Some(room) = capacity.bound() {
            blocking_sender_sees_async_receiver_leave::<B>(room, settings, limit)?;
            async_sender_sees_blocking_receiver_leave::<B>(room, limit)?;
        }
        async_receiver_sees_blocking_sender_leave::<B>(capacity, limit)?;
        blocking_receiver_sees_async_sender_leave::<B>(capacity, settings, limit)?;
        drops_across::<B>(capacity, settings, limit)?;
    }
    Ok(CheckOutcome::Pass)
}

fn blocking_sender_sees_async_receiver_leave<B: Bridge>(
    room: usize,
    settings: &Settings,
    limit: Duration,
) -> Result<(), Violation> {
    let capacity = Capacity::Bounded(room);
    let (tx, rx) = B::sync_to_async::<u64>(capacity).map_err(|err| unsupported(capacity, err))?;
    fill_with(
        |value| tx.try_send(value),
        0..room as u64,
        &capacity.to_string(),
    )?;
    let blocked = Pending::start(move || tx.send(99).map_err(|err| err.into_inner()));
    ensure(
        blocked.still_blocked_after(settings.settle),
        Rule::Capacity,
        || format!("{capacity}: a blocking send on a full channel completed"),
    )?;
    drop(rx);
    let outcome = blocked.join_within(limit)?;
    ensure(
        matches!(outcome, Some(Err(Some(99)))),
        Rule::ReceiversGone,
        || {
            format!(
                "{capacity}: a blocking send waiting when the async receiver left got {outcome:?}, not Err(Some(99))"
            )
        },
    )
}

fn async_sender_sees_blocking_receiver_leave<B: Bridge>(
    room: usize,
    limit: Duration,
) -> Result<(), Violation> {
    let capacity = Capacity::Bounded(room);
    let (tx, rx) = B::async_to_sync::<u64>(capacity).map_err(|err| unsupported(capacity, err))?;
    fill_with(
        |value| tx.try_send(value),
        0..room as u64,
        &capacity.to_string(),
    )?;
    let mut send = Hand::new(async { tx.send(99).await.map_err(|err| err.into_inner()) });
    ensure(send.poll().is_none(), Rule::Capacity, || {
        format!("{capacity}: an async send future on a full channel completed")
    })?;
    drop(rx);
    ensure(send.wait_woken(limit), Rule::ReceiversGone, || {
        format!(
            "{capacity}: an async send future waiting when the blocking receiver left was not woken within {limit:?}"
        )
    })?;
    drive::<_, ()>(&mut send, None, limit);
    let outcome = send.into_output();
    ensure(
        matches!(outcome, Some(Err(Some(99)))),
        Rule::ReceiversGone,
        || {
            format!(
                "{capacity}: an async send future waiting when the blocking receiver left got {outcome:?}, not Err(Some(99))"
            )
        },
    )
}

fn async_receiver_sees_blocking_sender_leave<B: Bridge>(
    capacity: Capacity,
    limit: Duration,
) -> Result<(), Violation> {
    let (tx, mut rx) =
        B::sync_to_async::<u64>(capacity).map_err(|err| unsupported(capacity, err))?;
    let mut recv = Hand::new(rx.recv());
    ensure(recv.poll().is_none(), Rule::ExactlyOnce, || {
        format!("{capacity}: an async receive on an empty channel completed")
    })?;
    drop(tx);
    ensure(recv.wait_woken(limit), Rule::SendersGone, || {
        format!(
            "{capacity}: an async receive waiting when the blocking sender left was not woken within {limit:?}"
        )
    })?;
    drive::<_, ()>(&mut recv, None, limit);
    let outcome = recv.into_output();
    ensure(matches!(outcome, Some(Err(_))), Rule::SendersGone, || {
        format!(
            "{capacity}: an async receive waiting when the blocking sender left got {outcome:?}, not Disconnected"
        )
    })
}

fn blocking_receiver_sees_async_sender_leave<B: Bridge>(
    capacity: Capacity,
    settings: &Settings,
    limit: Duration,
) -> Result<(), Violation> {
    let (tx, mut rx) =
        B::async_to_sync::<u64>(capacity).map_err(|err| unsupported(capacity, err))?;
    let blocked = Pending::start(move || rx.recv().is_err());
    ensure(
        blocked.still_blocked_after(settings.settle),
        Rule::ExactlyOnce,
        || format!("{capacity}: a blocking receive on an empty channel returned"),
    )?;
    drop(tx);
    let outcome = blocked.join_within(limit)?;
    ensure(outcome == Some(true), Rule::SendersGone, || {
        format!(
            "{capacity}: a blocking receive waiting when the async sender left gave {outcome:?} (Some(true) is Disconnected)"
        )
    })
}

/// Heap-owning values from threads to an async receiver that leaves
/// mid-traffic, and from tasks to a blocking receiver that does: each
/// value made is dropped exactly once.
fn drops_across<B: Bridge>(
    capacity: Capacity,
    settings: &Settings,
    limit: Duration,
) -> Result<(), Violation> {
    let ledger = Ledger::leak(PRODUCERS as usize * PER_PRODUCER);
    let (tx, mut rx) =
        B::sync_to_async::<Box<Tracked>>(capacity).map_err(|err| unsupported(capacity, err))?;
    let producers: Vec<_> = (0..PRODUCERS as usize)
        .map(|producer| {
            let tx = tx.clone();
            Pending::start(move || {
                let mut made = 0;
                while made < PER_PRODUCER {
                    let value = Box::new(ledger.value(producer * PER_PRODUCER + made));
                    made += 1;
                    if tx.send(value).is_err() {
                        break;
                    }
                }
                made
            })
        })
        .collect();
    drop(tx);
    let budget = Budget::start(settings.stress_budget);
    run_on(Runtime::CurrentThread, async move {
        let mut taken = 0;
        while !budget.spent(taken) {
            match tokio::time::timeout(Duration::from_millis(5), rx.recv()).await {
                Ok(Ok(value)) => drop(value),
                Ok(Err(_)) => break,
                Err(_) => {}
            }
            taken += 1;
        }
        Ok(())
    })?;
    let mut made = Vec::new();
    for producer in producers {
        made.push(producer.join_within(limit)?.ok_or_else(|| {
            Violation::new(
                Rule::ReceiversGone,
                format!(
                    "{capacity}: a blocking sender stayed blocked after the async receiver left"
                ),
            )
        })?);
    }
    verify_made(
        ledger,
        &made,
        PER_PRODUCER,
        &format!("{capacity}: threads to an async receiver that left mid-traffic"),
    )?;

    let ledger = Ledger::leak(PRODUCERS as usize * PER_PRODUCER);
    let (tx, mut rx) =
        B::async_to_sync::<Box<Tracked>>(capacity).map_err(|err| unsupported(capacity, err))?;
    let producing = Pending::start(move || {
        run_on(Runtime::MultiThread, async move {
            let tasks: Vec<_> = (0..PRODUCERS as usize)
                .map(|producer| {
                    let tx = tx.clone();
                    spawn_task(
                        async move { send_tracked(&tx, ledger, producer, PER_PRODUCER).await },
                    )
                })
                .collect();
            drop(tx);
            let mut made = Vec::new();
            for task in tasks {
                made.push(join_within(task, limit).await?);
            }
            Ok(made)
        })
    });
    let budget = Budget::start(settings.stress_budget);
    let mut taken = 0;
    while !budget.spent(taken) {
        match rx.recv_timeout(Duration::from_millis(5)) {
            Ok(value) => drop(value),
            Err(chanlab_contract::RecvTimeoutError::Disconnected) => break,
            Err(chanlab_contract::RecvTimeoutError::Timeout) => {}
        }
        taken += 1;
    }
    drop(rx);
    let made = producing.join_within(limit)?.transpose()?;
    let Some(made) = made.and_then(|made| made.into_iter().collect::<Option<Vec<usize>>>()) else {
        return Err(Violation::new(
            Rule::ReceiversGone,
            format!("{capacity}: a send task stayed waiting after the blocking receiver left"),
        ));
    };
    verify_made(
        ledger,
        &made,
        PER_PRODUCER,
        &format!("{capacity}: tasks to a blocking receiver that left mid-traffic"),
    )
}

/// A blocking send meets a waiting async receive future, which is woken
/// and then dropped before its next poll, at every capacity both ends
/// declare (rendezvous included): the value must reach the next receive,
/// whether it had left the sender or not, and the blocking send must
/// return `Ok` (on a rendezvous channel its `Ok` means a receiver has the
/// value). Where the async end does not declare `cancel_safe_recv` the
/// check still looks, and says what it saw.
pub(crate) fn mixed_cancelled_receive<B: Bridge>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let cancel_safe = <B::Async as AsyncFlavor>::INFO
        .capabilities
        .cancel_safe_recv;
    let (wait, limit) = (patience(settings), stall_limit(settings));
    let mut lost = None;
    for capacity in bridge_capacities::<B>() {
        let (tx, mut rx) =
            B::sync_to_async::<u64>(capacity).map_err(|err| unsupported(capacity, err))?;
        let mut recv = Hand::new(rx.recv());
        ensure(recv.poll().is_none(), Rule::ExactlyOnce, || {
            format!("{capacity}: an async receive on an empty channel completed")
        })?;
        let sending = Pending::start(move || tx.send(5).is_ok());
        ensure(recv.wait_woken(limit), Rule::Wakeup, || {
            format!(
                "{capacity}: a blocking send did not wake the waiting async receive within {limit:?}"
            )
        })?;
        drop(recv);
        let mut again = Hand::new(rx.recv());
        let arrived = drive::<_, ()>(&mut again, None, wait);
        let got = again.into_output();
        let sent = sending.join_within(limit)?;
        ensure(sent.is_some(), Rule::Wakeup, || {
            format!(
                "{capacity}: a blocking send whose value went to a dropped receive future, with another receive waiting, was still blocked after {limit:?}"
            )
        })?;
        if !(arrived && matches!(got, Some(Ok(5)))) {
            let send = if sent == Some(true) {
                "returned Ok"
            } else {
                "failed"
            };
            let seen = format!(
                "{capacity}: a blocking send {send} to a waiting receive future that was woken and dropped, and the next receive gave {got:?} within {wait:?}, not the value"
            );
            ensure(!cancel_safe, Rule::Capabilities, || {
                format!("declares cancel_safe_recv, but {seen}")
            })?;
            lost.get_or_insert(seen);
        }
    }
    Ok(match (cancel_safe, lost) {
        (true, _) => CheckOutcome::Pass,
        (false, Some(_)) => CheckOutcome::NotApplicable(
            "the async end does not declare cancel_safe_recv, and a receive future woken by a blocking send and then dropped did lose the value",
        ),
        (false, None) => CheckOutcome::NotApplicable(
            "the async end does not declare cancel_safe_recv, though no value a blocking send handed to a dropped receive future was lost here",
        ),
    })
}
