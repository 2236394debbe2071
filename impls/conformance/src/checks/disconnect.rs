//! Disconnection in both directions (rules R6 and R7).

use chanlab_contract::{
    Capacity, Receiver, RecvError, RecvTimeoutError, Sender, SyncFlavor, TryRecvError, TrySendError,
};

use super::{CheckOutcome, Pending, buffering, capacities, fill, let_settle, open};
use crate::spec::ensure;
use crate::{Rule, Settings, Violation};

/// R6: with every sender gone, receivers drain the buffer and then see
/// `Disconnected`; blocked receivers wake; a live sender clone keeps the
/// channel open.
pub(crate) fn senders_gone_disconnects<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    for capacity in buffering::<F>(16) {
        let (tx, mut rx) = open::<F, u32>(capacity)?;
        let clone = tx.clone();
        for value in 0..3 {
            tx.send(value).map_err(|_| {
                Violation::new(
                    Rule::ReceiversGone,
                    format!("{capacity}: send with a live receiver failed"),
                )
            })?;
        }
        drop(tx);
        for expected in 0..3 {
            let got = rx.try_recv();
            ensure(got == Ok(expected), Rule::SendersGone, || {
                format!(
                    "{capacity}: buffered message #{expected} after one sender clone dropped: got {got:?}"
                )
            })?;
        }
        let open_still = rx.try_recv();
        ensure(
            open_still == Err(TryRecvError::Empty),
            Rule::SendersGone,
            || {
                format!(
                    "{capacity}: with a sender clone alive, try_recv on an empty channel gave {open_still:?}, want Empty"
                )
            },
        )?;
        clone.send(3).map_err(|_| {
            Violation::new(
                Rule::SendersGone,
                format!("{capacity}: the surviving sender clone cannot send"),
            )
        })?;
        drop(clone);
        let last = rx.recv();
        ensure(last == Ok(3), Rule::SendersGone, || {
            format!("{capacity}: message buffered before the last sender dropped: got {last:?}")
        })?;
        // Non-blocking forms first, so a channel that never disconnects
        // fails here instead of hanging in recv.
        let after = (rx.try_recv(), rx.recv_timeout(settings.settle));
        ensure(
            after
                == (
                    Err(TryRecvError::Disconnected),
                    Err(RecvTimeoutError::Disconnected),
                ),
            Rule::SendersGone,
            || {
                format!(
                    "{capacity}: drained with every sender gone: try_recv/recv_timeout gave {after:?}, want Disconnected from each"
                )
            },
        )?;
        let blocking = rx.recv();
        ensure(blocking == Err(RecvError), Rule::SendersGone, || {
            format!(
                "{capacity}: drained with every sender gone: recv gave {blocking:?}, want Disconnected"
            )
        })?;
    }

    for capacity in capacities::<F>() {
        let (tx, rx) = open::<F, u32>(capacity)?;
        let mut receivers = vec![rx];
        if let Some(second) = receivers[0].try_clone() {
            receivers.push(second);
        }
        let blocked: Vec<_> = receivers
            .into_iter()
            .map(|mut rx| Pending::start(move || rx.recv()))
            .collect();
        let_settle(settings.settle);
        drop(tx);
        for (index, receiver) in blocked.into_iter().enumerate() {
            let got = receiver.join_within(settings.watchdog / 2)?;
            ensure(got == Some(Err(RecvError)), Rule::SendersGone, || {
                format!(
                    "{capacity}: receiver #{index} blocked in recv when the last sender dropped got {got:?}, want Some(Disconnected) (None: still blocked)"
                )
            })?;
        }
    }
    Ok(CheckOutcome::Pass)
}

/// R7: with every receiver gone, sends fail and hand the very value back,
/// even on a full channel; blocked senders wake; a live receiver clone keeps
/// the channel open.
pub(crate) fn receivers_gone_disconnects<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    for capacity in capacities::<F>() {
        let (tx, rx) = open::<F, u32>(capacity)?;
        if let Some(clone) = rx.try_clone() {
            drop(rx);
            let sent = if capacity == Capacity::RENDEZVOUS {
                tx.try_send(1).map_err(|err| err.is_disconnected())
            } else {
                tx.send(1).map_err(|_| true)
            };
            ensure(sent != Err(true), Rule::ReceiversGone, || {
                format!(
                    "{capacity}: a send failed as disconnected while a receiver clone was alive"
                )
            })?;
            drop(clone);
        } else {
            drop(rx);
        }
        let sent = tx.send(41);
        ensure(sent.is_err(), Rule::ReceiversGone, || {
            format!("{capacity}: send with every receiver gone succeeded")
        })?;
        if let Err(err) = sent {
            let back = err.into_inner();
            ensure(back == Some(41), Rule::ReceiversGone, || {
                format!(
                    "{capacity}: failed send handed back {back:?}, want Some(41) (the value was dropped by the channel)"
                )
            })?;
        }
        let tried = tx.try_send(42);
        ensure(
            matches!(tried, Err(TrySendError::Disconnected(42))),
            Rule::ReceiversGone,
            || {
                format!(
                    "{capacity}: try_send with every receiver gone gave {tried:?}, want Disconnected(42)"
                )
            },
        )?;
    }

    let (tx, rx) = open::<F, u32>(Capacity::Bounded(1))?;
    fill(&tx, [0], "bounded(1)")?;
    drop(rx);
    let tried = tx.try_send(1);
    ensure(
        matches!(tried, Err(TrySendError::Disconnected(1))),
        Rule::ReceiversGone,
        || {
            format!(
                "bounded(1), full, every receiver gone: try_send gave {tried:?}, want Disconnected(1)"
            )
        },
    )?;

    for capacity in capacities::<F>()
        .into_iter()
        .filter(|c| c.bound().is_some())
    {
        let (tx, rx) = open::<F, u32>(capacity)?;
        let room = capacity.bound().unwrap_or(0) as u32;
        fill(&tx, 0..room, &capacity.to_string())?;
        let blocked = Pending::start(move || tx.send(99).map_err(|err| err.into_inner()));
        let_settle(settings.settle);
        drop(rx);
        let outcome = blocked.join()?;
        ensure(outcome == Err(Some(99)), Rule::ReceiversGone, || {
            format!(
                "{capacity}, full: a sender blocked when the last receiver dropped got {outcome:?}, want the error with Some(99) handed back"
            )
        })?;
    }
    Ok(CheckOutcome::Pass)
}
