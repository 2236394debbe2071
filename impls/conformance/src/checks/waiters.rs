//! Many waiters, operations back to back (R12). Several parties block at
//! once, then the other side makes as many operations in a row with
//! nothing between them: no acknowledgement, no later event, no
//! disconnection. Every blocked party must wake and complete. A channel
//! that wakes a receiver only when its queue goes from empty to non-empty,
//! or a sender only when it goes from full to not full, leaves all but one
//! asleep here, where the one-event-at-a-time rounds of
//! [`no_lost_wakeup`](super::wakeup::no_lost_wakeup) cannot see it.

use std::collections::BTreeSet;
use std::sync::mpsc;

use chanlab_contract::{Capacity, Receiver, Sender, SyncFlavor};

use super::{CheckOutcome, Pending, capacities, fill, let_settle, open, stall_limit};
use crate::spec::ensure;
use crate::{Rule, Settings, Violation};

/// Parties blocked at once.
pub(crate) const WAITERS: usize = 3;

/// Receivers blocked in `recv` (where the flavor has several receivers),
/// then as many sends back to back; and senders blocked on a full channel,
/// then as many receives back to back. At every declared capacity.
pub(crate) fn many_waiters_back_to_back<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    for capacity in capacities::<F>() {
        if F::INFO.capabilities.multi_consumer {
            blocked_receivers::<F>(capacity, settings)?;
        }
        if capacity.bound().is_some() {
            blocked_senders::<F>(capacity, settings)?;
        }
    }
    Ok(CheckOutcome::Pass)
}

fn blocked_receivers<F: SyncFlavor>(
    capacity: Capacity,
    settings: &Settings,
) -> Result<(), Violation> {
    let limit = stall_limit(settings);
    let (tx, rx) = open::<F, u32>(capacity)?;
    let mut receivers = Vec::with_capacity(WAITERS);
    for _ in 1..WAITERS {
        receivers.push(rx.try_clone().ok_or_else(|| {
            Violation::new(
                Rule::Capabilities,
                "declares multi_consumer but try_clone returned None",
            )
        })?);
    }
    receivers.push(rx);
    let blocked: Vec<_> = receivers
        .into_iter()
        .map(|mut rx| Pending::start(move || rx.recv().ok()))
        .collect();
    let_settle(settings.settle);
    // Back to back, from one thread; on a small or rendezvous channel each
    // send waits for a receiver, so they run off this thread. The sender
    // is kept until every receiver has its value: a disconnection would
    // wake the ones a lost wake-up left asleep.
    let (done, until_done) = mpsc::channel::<()>();
    let sending = Pending::start(move || {
        let failed = (0..WAITERS as u32).find(|&value| tx.send(value).is_err());
        let _ = until_done.recv_timeout(limit);
        failed
    });
    let mut got = BTreeSet::new();
    for (index, receiver) in blocked.into_iter().enumerate() {
        let Some(received) = receiver.join_within(limit)? else {
            return Err(Violation::new(
                Rule::Wakeup,
                format!(
                    "{capacity}: {WAITERS} receivers blocked in recv, then {WAITERS} sends back to back; receiver #{index} was still blocked after {limit:?} (received so far: {got:?})"
                ),
            ));
        };
        ensure(
            received.is_some_and(|value| got.insert(value)),
            Rule::ExactlyOnce,
            || {
                format!(
                    "{capacity}: receiver #{index} of {WAITERS} woken by back-to-back sends got {received:?}, with {got:?} taken by the others"
                )
            },
        )?;
    }
    drop(done);
    let failed = sending.join()?;
    ensure(failed.is_none(), Rule::ExactlyOnce, || {
        format!("{capacity}: the send of {failed:?} failed with {WAITERS} receivers open")
    })
}

fn blocked_senders<F: SyncFlavor>(
    capacity: Capacity,
    settings: &Settings,
) -> Result<(), Violation> {
    let limit = stall_limit(settings);
    let room = capacity.bound().unwrap_or(0) as u32;
    let (tx, mut rx) = open::<F, u32>(capacity)?;
    fill(&tx, 0..room, &capacity.to_string())?;
    let blocked: Vec<_> = (0..WAITERS as u32)
        .map(|index| {
            let tx = tx.clone();
            Pending::start(move || tx.send(100 + index).is_ok())
        })
        .collect();
    let_settle(settings.settle);
    // Every value, back to back, from one thread that blocks only when the
    // channel is empty; the receiver stays open until it is done.
    let expected = room as usize + WAITERS;
    let receiving = Pending::start(move || {
        let mut got = Vec::with_capacity(expected);
        while got.len() < expected {
            match rx.recv() {
                Ok(value) => got.push(value),
                Err(_) => break,
            }
        }
        (got, rx)
    });
    for (index, sender) in blocked.into_iter().enumerate() {
        let Some(sent) = sender.join_within(limit)? else {
            return Err(Violation::new(
                Rule::Wakeup,
                format!(
                    "{capacity} full: {WAITERS} senders blocked in send, then receives back to back; sender #{index} was still blocked after {limit:?}"
                ),
            ));
        };
        ensure(sent, Rule::ExactlyOnce, || {
            format!("{capacity}: blocked sender #{index} failed with the receiver still open")
        })?;
    }
    drop(tx);
    let Some((got, _rx)) = receiving.join_within(limit)? else {
        return Err(Violation::new(
            Rule::Wakeup,
            format!(
                "{capacity}: every blocked sender returned, but the receiver did not get all {expected} values within {limit:?}"
            ),
        ));
    };
    let unique: BTreeSet<u32> = got.iter().copied().collect();
    let wanted: BTreeSet<u32> = (0..room)
        .chain((0..WAITERS as u32).map(|i| 100 + i))
        .collect();
    ensure(
        unique == wanted && got.len() == expected,
        Rule::ExactlyOnce,
        || {
            format!(
                "{capacity}: after {WAITERS} blocked senders were released by back-to-back receives, the receiver got {got:?}"
            )
        },
    )
}
