//! Cancellation of receive futures (`cancel_safe_recv`): a receive future
//! dropped at any point takes no message, and one dropped after its wake-up
//! passes the wake-up on. Futures are polled by hand, so the check sees
//! exactly what an executor would, and each case is one the field has
//! shipped: kanal 0.1.1's receive future, woken with a value handed to it
//! and then dropped, drops the value (fereidani/kanal#24).
//!
//! Where the capability is not declared the check still looks, and says in
//! its outcome whether it saw a loss.

use std::time::Duration;

use chanlab_contract::{AsyncFlavor, AsyncReceiver, AsyncSender, Capacity};

use super::{Hand, capacities_of, drive, either_woken, fill_async, open_async, patience};
use crate::checks::CheckOutcome;
use crate::spec::ensure;
use crate::{Rule, Settings, Violation};

/// The value each case sends.
const VALUE: u64 = 42;

pub(crate) fn cancel_safe_recv<A: AsyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let capabilities = A::INFO.capabilities;
    ensure(
        !capabilities.select || capabilities.cancel_safe_recv,
        Rule::Capabilities,
        || {
            "declares select but not cancel_safe_recv: tokio::select! drops the receive futures that lose".to_owned()
        },
    )?;
    let wait = patience(settings);
    if !capabilities.cancel_safe_recv {
        let mut lost = false;
        for capacity in capacities_of::<A>() {
            lost |= cancelled_receive::<A>(capacity, wait, Cancelled::AfterItsWakeUp)?.is_some();
        }
        return Ok(CheckOutcome::NotApplicable(if lost {
            "cancel_safe_recv is not declared, and a receive future woken with a value and then dropped did lose it"
        } else {
            "cancel_safe_recv is not declared, though no dropped receive future lost a value here"
        }));
    }
    for capacity in capacities_of::<A>() {
        for when in [Cancelled::AfterItsWakeUp, Cancelled::BeforeTheSend] {
            if let Some(loss) = cancelled_receive::<A>(capacity, wait, when)? {
                ensure(false, Rule::Capabilities, || {
                    format!("declares cancel_safe_recv, but {capacity}: {loss}")
                })?;
            }
        }
        if capabilities.multi_consumer {
            woken_dropped_passes_on::<A>(capacity, wait)?;
        }
    }
    Ok(CheckOutcome::Pass)
}

/// When a waiting receive future is dropped.
#[derive(Clone, Copy, Debug)]
enum Cancelled {
    /// After a send woke it, before its next poll.
    AfterItsWakeUp,
    /// Before anything was sent.
    BeforeTheSend,
}

/// A receive future waits and is dropped (`when`); the value a send future
/// sends must still reach a new receive. Returns how it was lost.
fn cancelled_receive<A: AsyncFlavor>(
    capacity: Capacity,
    wait: Duration,
    when: Cancelled,
) -> Result<Option<String>, Violation> {
    let (tx, mut rx) = open_async::<A, u64>(capacity)?;
    let mut recv = Hand::new(rx.recv());
    ensure(recv.poll().is_none(), Rule::ExactlyOnce, || {
        format!("{capacity}: a receive future on an empty channel completed")
    })?;
    let mut send = Hand::new(tx.send(VALUE));
    // Where the channel buffers two, a second value queued behind the
    // first shows a taken value put back out of order.
    let behind = capacity.bound().is_none_or(|room| room >= 2);
    if let Cancelled::AfterItsWakeUp = when {
        send.poll();
        ensure(recv.wait_woken(wait), Rule::Wakeup, || {
            format!(
                "{capacity}: a send to a waiting receive future did not wake it within {wait:?}"
            )
        })?;
        if behind {
            fill_async(&tx, [VALUE + 1], &capacity.to_string())?;
        }
    }
    drop(recv);
    let mut again = Hand::new(rx.recv());
    let arrived = drive(&mut again, Some(&mut send), wait);
    let first = again.into_output();
    if !(arrived && matches!(first, Some(Ok(VALUE)))) {
        return Ok(Some(format!(
            "a waiting receive future was dropped {when:?}, and a new receive then gave {first:?} within {wait:?}, not the value sent"
        )));
    }
    if behind && matches!(when, Cancelled::AfterItsWakeUp) {
        let second = rx.try_recv();
        ensure(second == Ok(VALUE + 1), Rule::Fifo, || {
            format!(
                "{capacity}: after a receive future woken with the first of two values was dropped, the values came back as {VALUE} then {second:?}"
            )
        })?;
    }
    Ok(None)
}

/// R12 through cancellation: two receive futures wait on one queue, one
/// send wakes one of them, and that one is dropped without another poll.
/// The other must be woken and get the value.
fn woken_dropped_passes_on<A: AsyncFlavor>(
    capacity: Capacity,
    wait: Duration,
) -> Result<(), Violation> {
    let (tx, mut first_rx) = open_async::<A, u64>(capacity)?;
    let Some(mut second_rx) = first_rx.try_clone() else {
        return Err(Violation::new(
            Rule::Capabilities,
            "declares multi_consumer but try_clone returned None",
        ));
    };
    let mut first = Hand::new(first_rx.recv());
    let mut second = Hand::new(second_rx.recv());
    ensure(
        first.poll().is_none() && second.poll().is_none(),
        Rule::ExactlyOnce,
        || format!("{capacity}: a receive future on an empty channel completed"),
    )?;
    let mut send = Hand::new(tx.send(VALUE));
    send.poll();
    ensure(either_woken(&first, &second, wait), Rule::Wakeup, || {
        format!("{capacity}: one send to two waiting receive futures woke neither within {wait:?}")
    })?;
    let mut survivor = if first.woken() {
        drop(first);
        second
    } else {
        drop(second);
        first
    };
    ensure(
        survivor.woken() || survivor.wait_woken(wait),
        Rule::Wakeup,
        || {
            format!(
                "{capacity}: a receive future woken by a send was dropped before its next poll, and the other waiting receive future was never woken within {wait:?}: the wake-up was not passed on"
            )
        },
    )?;
    let arrived = drive(&mut survivor, Some(&mut send), wait);
    let got = survivor.into_output();
    ensure(
        arrived && matches!(got, Some(Ok(VALUE))),
        Rule::Capabilities,
        || {
            format!(
                "declares cancel_safe_recv, but {capacity}: after the woken receive future was dropped, the other one gave {got:?}"
            )
        },
    )
}
