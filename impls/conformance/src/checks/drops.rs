//! Drop accounting (rule R9): every value is dropped exactly once, wherever
//! its life ends.

use chanlab_contract::{Receiver, Sender, SyncFlavor};

use super::{Outcome, Pending, buffering, capacities, fill, let_settle, open};
use crate::payload::{Ledger, Tracked};
use crate::{Rule, Settings, Violation};

/// R9: values received, handed back by failed sends, left buffered, or
/// handed from a blocked sender to a receiver are each dropped once.
pub(crate) fn values_dropped_once<F: SyncFlavor>(
    settings: &Settings,
) -> Result<Outcome, Violation> {
    for capacity in buffering::<F>(8) {
        // Some received, the rest still buffered when both halves go.
        let ledger = Ledger::leak(8);
        let (tx, mut rx) = open::<F, Tracked>(capacity)?;
        fill(
            &tx,
            (0..8).map(|id| ledger.value(id)),
            &capacity.to_string(),
        )?;
        for _ in 0..3 {
            drop(rx.try_recv());
        }
        drop(tx);
        drop(rx);
        verify(
            ledger,
            &format!("{capacity}: 3 of 8 received, the channel dropped"),
        )?;

        // Receivers go first, then senders.
        let ledger = Ledger::leak(4);
        let (tx, rx) = open::<F, Tracked>(capacity)?;
        fill(
            &tx,
            (0..4).map(|id| ledger.value(id)),
            &capacity.to_string(),
        )?;
        drop(rx);
        drop(tx);
        verify(
            ledger,
            &format!("{capacity}: 4 buffered, receiver dropped before sender"),
        )?;
    }

    for capacity in capacities::<F>() {
        // Values handed back by failed sends, or dropped by the channel.
        let ledger = Ledger::leak(2);
        let (tx, rx) = open::<F, Tracked>(capacity)?;
        drop(rx);
        drop(tx.send(ledger.value(0)));
        drop(tx.try_send(ledger.value(1)));
        drop(tx);
        verify(
            ledger,
            &format!("{capacity}: sends after every receiver dropped"),
        )?;

        // Hand-offs between threads, through the blocking paths.
        const HANDED: usize = 200;
        let ledger = Ledger::leak(HANDED);
        let (tx, mut rx) = open::<F, Tracked>(capacity)?;
        let producer = Pending::start(move || {
            for id in 0..HANDED {
                if tx.send(ledger.value(id)).is_err() {
                    break;
                }
            }
        });
        for _ in 0..HANDED {
            if rx.recv().is_err() {
                break;
            }
        }
        producer.join()?;
        drop(rx);
        verify(
            ledger,
            &format!("{capacity}: {HANDED} values handed from a sending thread"),
        )?;

        // A sender blocked on a full channel when the last receiver leaves.
        if let Some(room) = capacity.bound() {
            let ledger = Ledger::leak(room + 1);
            let (tx, rx) = open::<F, Tracked>(capacity)?;
            let blocked = Pending::start(move || {
                for id in 0..=room {
                    if tx.send(ledger.value(id)).is_err() {
                        break;
                    }
                }
            });
            let_settle(settings.settle);
            drop(rx);
            blocked.join()?;
            verify(
                ledger,
                &format!("{capacity}: sender blocked when the receiver dropped"),
            )?;
        }
    }
    Ok(Outcome::Pass)
}

fn verify(ledger: &Ledger, situation: &str) -> Result<(), Violation> {
    let mismatches = ledger.mismatches();
    if mismatches.is_empty() {
        return Ok(());
    }
    let leaked = mismatches.iter().filter(|&&(_, count)| count == 0).count();
    let repeated = mismatches.len() - leaked;
    Err(Violation::new(
        Rule::DropOnce,
        format!(
            "{situation}: {leaked} value(s) never dropped, {repeated} dropped more than once (id, drops): {:?}",
            &mismatches[..mismatches.len().min(6)]
        ),
    ))
}
