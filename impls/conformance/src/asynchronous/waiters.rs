//! Futures and their wakers, polled by hand ([`Hand`]) so no executor
//! hides what the channel does:
//!
//! - **The latest waker** (R12): a future polled again with a new waker,
//!   as when its task moves to another worker, must be woken through that
//!   waker. tokio re-polls a task with the same waker, so only hand-polling
//!   shows a channel that keeps the first one.
//! - **Many waiters, back to back** (R12): several receive futures wait,
//!   then as many sends follow with no poll between them; several send
//!   futures wait on a full channel, then receives free room for them all.
//!   Every one must be woken without any further event.
//! - **Cancellation gives back what it reserved** (R4, R12): after a send
//!   future is dropped, pending or woken with room on its way, the channel
//!   holds exactly its capacity again (emptied, then filled to `Full` and
//!   counted), no value is lost or doubled, and a wake-up the dropped
//!   future will not use reaches another waiting send future. A future
//!   dropped before anything could take its value leaves no trace of it,
//!   on a rendezvous channel too.

use std::time::Duration;

use chanlab_contract::{AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, TryRecvError};

use super::{
    Driven, Hand, capacities_of, drive, drive_until, either_woken, fill_async, open_async,
    patience, receiver_count, receivers,
};
use crate::checks::waiters::WAITERS;
use crate::checks::{CheckOutcome, stall_limit};
use crate::spec::ensure;
use crate::{Rule, Settings, Violation};

/// The value a lone send future carries.
const VALUE: u64 = 7;

/// Where the check's own values start, above any filler.
const SENT: u64 = 1000;

/// R12 through a new waker: a receive future at every capacity, and a
/// send future on a rendezvous channel (the send futures of a full
/// channel are re-polled by `async_capacity_and_rendezvous`).
pub(crate) fn async_wakes_latest_waker<A: AsyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let (wait, limit) = (patience(settings), stall_limit(settings));
    for capacity in capacities_of::<A>() {
        receive_polled_again::<A>(capacity, wait, limit)?;
        if capacity == Capacity::RENDEZVOUS {
            rendezvous_send_polled_again::<A>(wait, limit)?;
        }
    }
    Ok(CheckOutcome::Pass)
}

fn receive_polled_again<A: AsyncFlavor>(
    capacity: Capacity,
    wait: Duration,
    limit: Duration,
) -> Result<(), Violation> {
    let (tx, mut rx) = open_async::<A, u64>(capacity)?;
    let mut recv = Hand::new(rx.recv());
    ensure(recv.poll().is_none(), Rule::ExactlyOnce, || {
        format!("{capacity}: a receive future on an empty channel completed")
    })?;
    recv.repoll_with_new_waker(Rule::ExactlyOnce, || {
        format!("{capacity}: a receive future polled again on an empty channel completed")
    })?;
    let mut send = Hand::new(tx.send(VALUE));
    send.poll();
    recv.expect_woken(wait, || {
        format!(
            "{capacity}: a receive future polled again with a new waker (as when its task moves) was not woken through the new waker within {wait:?} by a send"
        )
    })?;
    let arrived = drive(&mut recv, Some(&mut send), limit);
    let got = recv.into_output();
    ensure(
        arrived && matches!(got, Some(Ok(VALUE))),
        Rule::ExactlyOnce,
        || format!("{capacity}: the re-polled receive future gave {got:?}, not the value sent"),
    )
}

fn rendezvous_send_polled_again<A: AsyncFlavor>(
    wait: Duration,
    limit: Duration,
) -> Result<(), Violation> {
    let capacity = Capacity::RENDEZVOUS;
    let (tx, mut rx) = open_async::<A, u64>(capacity)?;
    let mut send = Hand::new(tx.send(VALUE));
    ensure(send.poll().is_none(), Rule::Rendezvous, || {
        format!("{capacity}: a send future completed with no receiver")
    })?;
    send.repoll_with_new_waker(Rule::Rendezvous, || {
        format!("{capacity}: a send future polled again completed with no receiver")
    })?;
    let mut recv = Hand::new(rx.recv());
    recv.poll();
    send.expect_woken(wait, || {
        format!(
            "{capacity}: a send future polled again with a new waker was not woken through it within {wait:?} when a receive future took its value"
        )
    })?;
    let arrived = drive(&mut send, Some(&mut recv), limit);
    let got = recv.into_output();
    ensure(
        arrived && matches!(got, Some(Ok(VALUE))),
        Rule::ExactlyOnce,
        || {
            format!(
                "{capacity}: the receive future gave {got:?}, not the value of the re-polled send"
            )
        },
    )
}

/// R12 with several waiters and operations back to back, at every
/// declared capacity: receive futures where the flavor has several
/// receivers, send futures where the channel can fill.
pub(crate) fn async_many_waiters_back_to_back<A: AsyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let limit = stall_limit(settings);
    for capacity in capacities_of::<A>() {
        if receiver_count::<A>(WAITERS) > 1 {
            waiting_receive_futures::<A>(capacity, limit)?;
        }
        if let Some(room) = capacity.bound().filter(|&room| room > 0) {
            waiting_send_futures::<A>(capacity, room as u64, limit)?;
        }
    }
    Ok(CheckOutcome::Pass)
}

fn waiting_receive_futures<A: AsyncFlavor>(
    capacity: Capacity,
    limit: Duration,
) -> Result<(), Violation> {
    let (tx, rx) = open_async::<A, u64>(capacity)?;
    let mut all_rx = receivers(rx, WAITERS)?;
    let mut recvs: Vec<_> = all_rx.iter_mut().map(|rx| Hand::new(rx.recv())).collect();
    for recv in &mut recvs {
        ensure(recv.poll().is_none(), Rule::ExactlyOnce, || {
            format!("{capacity}: a receive future on an empty channel completed")
        })?;
    }
    // Back to back: each send future polled once, none awaited.
    let mut sends: Vec<_> = (0..WAITERS as u64)
        .map(|index| Hand::new(tx.send(SENT + index)))
        .collect();
    for send in &mut sends {
        send.poll();
    }
    let mut hands: Vec<&mut dyn Driven> = recvs
        .iter_mut()
        .map(|hand| hand as &mut dyn Driven)
        .chain(sends.iter_mut().map(|hand| hand as &mut dyn Driven))
        .collect();
    drive_until(&mut hands, 2 * WAITERS, limit);
    drop(hands);
    let got: Vec<_> = recvs.into_iter().map(Hand::into_output).collect();
    let woken = got.iter().filter(|output| output.is_some()).count();
    ensure(woken == WAITERS, Rule::Wakeup, || {
        format!(
            "{capacity}: {WAITERS} receive futures waited, then {WAITERS} sends back to back; {} of them were never woken within {limit:?} (they got {got:?})",
            WAITERS - woken
        )
    })?;
    let mut values: Vec<u64> = got.into_iter().flatten().filter_map(Result::ok).collect();
    values.sort_unstable();
    ensure(
        values == (SENT..SENT + WAITERS as u64).collect::<Vec<_>>(),
        Rule::ExactlyOnce,
        || format!("{capacity}: {WAITERS} woken receive futures got {values:?}"),
    )
}

fn waiting_send_futures<A: AsyncFlavor>(
    capacity: Capacity,
    room: u64,
    limit: Duration,
) -> Result<(), Violation> {
    let (tx, mut rx) = open_async::<A, u64>(capacity)?;
    fill_async(&tx, 0..room, &capacity.to_string())?;
    let mut sends: Vec<_> = (0..WAITERS as u64)
        .map(|index| Hand::new(tx.send(SENT + index)))
        .collect();
    for send in &mut sends {
        ensure(send.poll().is_none(), Rule::Capacity, || {
            format!("{capacity} full: a send future completed at once")
        })?;
    }
    // Back to back: every buffered value taken, no poll between.
    let taken: Vec<_> = (0..room).map(|_| rx.try_recv()).collect();
    ensure(
        taken.iter().copied().eq((0..room).map(Ok)),
        Rule::Fifo,
        || format!("{capacity}: {room} try_recv on a full channel gave {taken:?}"),
    )?;
    let freed = WAITERS.min(room as usize);
    let mut hands: Vec<&mut dyn Driven> = sends
        .iter_mut()
        .map(|hand| hand as &mut dyn Driven)
        .collect();
    let done = drive_until(&mut hands, freed, limit);
    drop(hands);
    ensure(done >= freed, Rule::Wakeup, || {
        format!(
            "{capacity} full: {WAITERS} send futures waited, then {room} try_recv back to back freed room for {freed}; only {done} were woken and completed within {limit:?}"
        )
    })
}

/// R4 and R12 through cancelled send futures, at every bounded capacity
/// with room: the capacity is exact again after each case. On a rendezvous
/// channel (R3, R12): a dropped send future's value reaches no receiver,
/// a receiver meets the send future still waiting, and a send future whose
/// value was taken completes whatever becomes of the others.
pub(crate) fn cancelled_send_gives_back<A: AsyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let (wait, limit) = (patience(settings), stall_limit(settings));
    for capacity in capacities_of::<A>() {
        if capacity == Capacity::RENDEZVOUS {
            rendezvous_send_dropped::<A>(limit)?;
            rendezvous_taken_then_dropped::<A>(limit)?;
            continue;
        }
        let Some(room) = capacity.bound().filter(|&room| room > 0) else {
            continue;
        };
        let room = room as u64;
        for case in [Cancelled::Pending, Cancelled::Woken] {
            dropped_alone::<A>(capacity, room, case, wait)?;
        }
        dropped_beside_another::<A>(capacity, room, wait, limit)?;
    }
    Ok(CheckOutcome::Pass)
}

/// When a send future waiting on a full channel is dropped.
#[derive(Clone, Copy, Debug)]
enum Cancelled {
    /// Before anything freed room.
    Pending,
    /// After a receive freed room and woke it, before its next poll.
    Woken,
}

/// One send future waits on a full channel and is dropped (`case`).
fn dropped_alone<A: AsyncFlavor>(
    capacity: Capacity,
    room: u64,
    case: Cancelled,
    wait: Duration,
) -> Result<(), Violation> {
    let (tx, mut rx) = open_async::<A, u64>(capacity)?;
    fill_async(&tx, 0..room, &capacity.to_string())?;
    let mut send = Hand::new(tx.send(VALUE + SENT));
    ensure(send.poll().is_none(), Rule::Capacity, || {
        format!("{capacity} full: a send future completed at once")
    })?;
    let mut received = Vec::new();
    if let Cancelled::Woken = case {
        received.push(rx.try_recv());
        ensure(send.wait_woken(wait), Rule::Wakeup, || {
            format!(
                "{capacity}: a try_recv on the full channel did not wake the waiting send future within {wait:?}"
            )
        })?;
    }
    drop(send);
    let situation =
        format!("{capacity}: a send future waiting on the full channel was dropped {case:?}");
    // Dropped with no room ever freed, its value never left it: it must
    // not appear. Woken, it may have moved in as it was woken.
    let may_have_sent: &[u64] = match case {
        Cancelled::Pending => &[],
        Cancelled::Woken => &[VALUE + SENT],
    };
    exact_again(&tx, &mut rx, room, received, may_have_sent, &situation)
}

/// Two send futures wait on a rendezvous channel with no receiver; the
/// first is dropped. A receive future must get the second's value, never
/// the dropped one's, and the second must complete; then no value is left.
fn rendezvous_send_dropped<A: AsyncFlavor>(limit: Duration) -> Result<(), Violation> {
    let capacity = Capacity::RENDEZVOUS;
    let (tx, mut rx) = open_async::<A, u64>(capacity)?;
    let mut dropped = Hand::new(tx.send(SENT + 1));
    let mut waiting = Hand::new(tx.send(SENT + 2));
    ensure(
        dropped.poll().is_none() && waiting.poll().is_none(),
        Rule::Rendezvous,
        || format!("{capacity}: a send future completed with no receiver"),
    )?;
    drop(dropped);
    let mut recv = Hand::new(rx.recv());
    let met = drive(&mut recv, Some(&mut waiting), limit);
    let sent = waiting.into_output();
    let got = recv.into_output();
    ensure(
        !matches!(got, Some(Ok(value)) if value == SENT + 1),
        Rule::ExactlyOnce,
        || {
            format!(
                "{capacity}: of two send futures waiting with no receiver, the first was dropped, and a receive future then got its value: a cancelled send was delivered"
            )
        },
    )?;
    ensure(
        met && matches!(got, Some(Ok(value)) if value == SENT + 2) && matches!(sent, Some(Ok(()))),
        Rule::Wakeup,
        || {
            format!(
                "{capacity}: of two send futures waiting with no receiver, the first was dropped; a receive future then gave {got:?} and the other send {sent:?} within {limit:?}, not its value and Ok"
            )
        },
    )?;
    let mut after = Hand::new(rx.recv());
    let ghost = after.poll();
    ensure(ghost.is_none(), Rule::ExactlyOnce, || {
        format!(
            "{capacity}: after a dropped send future and a completed one, a receive future with no sender waiting gave {ghost:?}"
        )
    })
}

/// Two send futures wait on a rendezvous channel; two receive futures take
/// their values, and the first send future is dropped before its next
/// poll. The second's value was taken: it must complete with `Ok`. A
/// channel whose receive futures do not take a waiting send's value on
/// their first poll (the sender moves it when polled again) cannot reach
/// this state, and passes.
fn rendezvous_taken_then_dropped<A: AsyncFlavor>(limit: Duration) -> Result<(), Violation> {
    let capacity = Capacity::RENDEZVOUS;
    let (tx, mut rx) = open_async::<A, u64>(capacity)?;
    let mut first = Hand::new(tx.send(SENT + 1));
    let mut second = Hand::new(tx.send(SENT + 2));
    ensure(
        first.poll().is_none() && second.poll().is_none(),
        Rule::Rendezvous,
        || format!("{capacity}: a send future completed with no receiver"),
    )?;
    let mut taken = Vec::new();
    for _ in 0..2 {
        let mut recv = Hand::new(rx.recv());
        recv.poll();
        match recv.into_output() {
            Some(Ok(value)) => taken.push(value),
            _ => return Ok(()),
        }
    }
    drop(first);
    let completed = drive(&mut second, None::<&mut Hand<'_, ()>>, limit);
    let sent = second.into_output();
    ensure(
        completed && matches!(sent, Some(Ok(()))),
        Rule::Wakeup,
        || {
            format!(
                "{capacity}: two send futures waited, two receive futures took {taken:?} at once, and the first send future was dropped before its next poll; the second then gave {sent:?} within {limit:?}, not Ok, though its value was taken"
            )
        },
    )
}

/// Two send futures wait on a full channel; a receive wakes one, which is
/// dropped before its next poll. The room it leaves must reach the other.
fn dropped_beside_another<A: AsyncFlavor>(
    capacity: Capacity,
    room: u64,
    wait: Duration,
    limit: Duration,
) -> Result<(), Violation> {
    let (tx, mut rx) = open_async::<A, u64>(capacity)?;
    fill_async(&tx, 0..room, &capacity.to_string())?;
    let mut first = Hand::new(tx.send(SENT + 1));
    let mut second = Hand::new(tx.send(SENT + 2));
    ensure(
        first.poll().is_none() && second.poll().is_none(),
        Rule::Capacity,
        || format!("{capacity} full: a send future completed at once"),
    )?;
    let received = vec![rx.try_recv()];
    ensure(either_woken(&first, &second, wait), Rule::Wakeup, || {
        format!(
            "{capacity}: a try_recv on the full channel woke neither of two waiting send futures within {wait:?}"
        )
    })?;
    let mut survivor = if first.woken() {
        drop(first);
        second
    } else {
        drop(second);
        first
    };
    if survivor.wait_woken(wait) {
        drive::<_, ()>(&mut survivor, None, limit);
    } else {
        // Legitimate only if the dropped future's value already took the
        // room (some channels move it in as they wake it): then the
        // channel is full again.
        ensure(tx.try_send(SENT + 3).is_err(), Rule::Wakeup, || {
            format!(
                "{capacity}: of two send futures waiting on the full channel, the one a try_recv woke was dropped before its next poll, and the other was not woken within {wait:?} though the room was free: the wake-up was not passed on"
            )
        })?;
    }
    drop(survivor);
    let situation = format!(
        "{capacity}: of two send futures waiting on the full channel, the woken one was dropped and the other went on"
    );
    exact_again(
        &tx,
        &mut rx,
        room,
        received,
        &[SENT + 1, SENT + 2, SENT + 3],
        &situation,
    )
}

/// Empties the channel and fills it to `Full`, counting: it must hold
/// exactly `room` again. What it held must be the filler `0..room` less
/// what was `received` before, in order, with each of the `cancelled`
/// send futures' values at most once (a send that completed before its
/// future was dropped delivered it).
fn exact_again<S: AsyncSender<u64>, R: AsyncReceiver<u64>>(
    tx: &S,
    rx: &mut R,
    room: u64,
    received: Vec<Result<u64, TryRecvError>>,
    cancelled: &[u64],
    situation: &str,
) -> Result<(), Violation> {
    let bound = room as usize + cancelled.len() + 1;
    let held: Vec<u64> = std::iter::from_fn(|| rx.try_recv().ok())
        .take(bound)
        .collect();
    let filler: Vec<Result<u64, TryRecvError>> = received
        .iter()
        .copied()
        .chain(held.iter().map(|&value| Ok(value)))
        .filter(|value| !value.as_ref().is_ok_and(|value| cancelled.contains(value)))
        .collect();
    ensure(
        filler.iter().copied().eq((0..room).map(Ok)),
        Rule::ExactlyOnce,
        || {
            format!(
                "{situation}; then the channel gave {received:?} and held {held:?}, not 0..{room} in order"
            )
        },
    )?;
    for value in cancelled {
        let times = held.iter().filter(|&held| held == value).count();
        ensure(times <= 1, Rule::ExactlyOnce, || {
            format!("{situation}; then the channel held {value} {times} times: {held:?}")
        })?;
    }
    let free = (0..=room)
        .take_while(|&value| tx.try_send(value).is_ok())
        .count() as u64;
    ensure(free == room, Rule::Capacity, || {
        format!(
            "{situation}; then, emptied, the channel took {free} values before Full, not its capacity of {room}: the cancelled send kept a slot"
        )
    })
}
