//! Drop accounting (rule R9): every value is dropped exactly once, wherever
//! its life ends, with one thread or many.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chanlab_contract::{Capacity, Receiver, RecvTimeoutError, Sender, SyncFlavor};

use super::{
    Budget, CheckOutcome, Pending, UNBOUNDED_TURN, buffering, capacities, fill, let_settle, open,
    stall_limit, wrap_buffer, wrap_values,
};
use crate::payload::{Ledger, Tracked, ZeroSized};
use crate::spec::ensure;
use crate::{Rule, Settings, Violation};

/// R9: values received, handed back by failed sends, left buffered, or
/// handed from a blocked sender to a receiver are each dropped once.
pub(crate) fn values_dropped_once<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    for capacity in buffering::<F>(8) {
        // Some received, the rest still buffered when both halves go; on a
        // fresh buffer, and on one turned past its capacity first.
        for wrapped in [false, true] {
            let turned = if wrapped {
                wrap_values(capacity.bound().unwrap_or(UNBOUNDED_TURN))
            } else {
                0
            };
            let ledger = Ledger::leak(8 + turned);
            let (tx, mut rx) = open::<F, Tracked>(capacity)?;
            let state = if wrapped {
                let room = capacity.bound().unwrap_or(UNBOUNDED_TURN);
                let situation = capacity.to_string();
                let value = |i| ledger.value(8 + i);
                wrap_buffer(
                    |v| tx.try_send(v),
                    || rx.try_recv(),
                    room,
                    value,
                    &situation,
                )?;
                ", turned past its capacity"
            } else {
                ""
            };
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
                &format!("{capacity}{state}: 3 of 8 received, the channel dropped"),
            )?;
        }

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
    Ok(CheckOutcome::Pass)
}

pub(crate) fn verify(ledger: &Ledger, situation: &str) -> Result<(), Violation> {
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

/// Fails with R9 unless each value producer `p` made (the first `made[p]`
/// of its ids `p * per_producer ..`) was dropped exactly once, and no
/// other id at all.
pub(crate) fn verify_made(
    ledger: &Ledger,
    made: &[usize],
    per_producer: usize,
    situation: &str,
) -> Result<(), Violation> {
    let mismatches: Vec<(usize, usize)> = (0..made.len() * per_producer)
        .map(|id| (id, ledger.drops(id)))
        .filter(|&(id, drops)| drops != usize::from(made[id / per_producer] > id % per_producer))
        .collect();
    ensure(mismatches.is_empty(), Rule::DropOnce, || {
        format!(
            "{situation}: {} value(s) not dropped exactly once (id, drops): {:?}",
            mismatches.len(),
            &mismatches[..mismatches.len().min(6)]
        )
    })
}

/// Producers in the concurrent drop check; each sends at most
/// [`PER_PRODUCER`] values.
const PRODUCERS: usize = 3;
const PER_PRODUCER: usize = 4096;

/// Makes the zero-sized phases of concurrent checks take turns: they read a
/// process-wide count.
static ZERO_SIZED_TURN: Mutex<()> = Mutex::new(());

/// R9 under concurrency: several producers and consumers move heap-owning
/// values (`Box<Tracked>`) and zero-sized ones; one consumer leaves
/// mid-traffic and the last leaves while producers are blocked on a full
/// channel. Every value made is dropped exactly once.
pub(crate) fn drops_under_concurrency<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    for capacity in capacities::<F>() {
        let ledger = Ledger::leak(PRODUCERS * PER_PRODUCER);
        let made =
            traffic::<F, Box<Tracked>>(capacity, settings, move |id| Box::new(ledger.value(id)))?;
        verify_made(
            ledger,
            &made,
            PER_PRODUCER,
            &format!(
                "{capacity}: {PRODUCERS} producers sending Box<Tracked>, receivers leaving mid-traffic"
            ),
        )?;

        let _turn = ZERO_SIZED_TURN
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let before = ZeroSized::live();
        let made = traffic::<F, ZeroSized>(capacity, settings, |_| ZeroSized::new())?;
        let leaked = ZeroSized::live() - before;
        ensure(leaked == 0, Rule::DropOnce, || {
            format!(
                "{capacity}: {PRODUCERS} producers sending zero-sized values, receivers leaving mid-traffic: {} made, {} never dropped (negative: dropped more than once)",
                made.iter().sum::<usize>(),
                leaked
            )
        })?;
    }
    Ok(CheckOutcome::Pass)
}

/// Runs the traffic and returns how many values each producer made. Value
/// `id` of producer `p` is `make(p * PER_PRODUCER + id)`.
fn traffic<F: SyncFlavor, T: Send + 'static>(
    capacity: Capacity,
    settings: &Settings,
    make: impl Fn(usize) -> T + Send + Sync + Copy + 'static,
) -> Result<Vec<usize>, Violation> {
    let (tx, rx) = open::<F, T>(capacity)?;
    let mut receivers = vec![rx];
    if let Some(second) = receivers[0].try_clone() {
        receivers.push(second);
    }
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let tx = tx.clone();
            Pending::start(move || {
                let mut made = 0;
                while made < PER_PRODUCER {
                    let value = make(producer * PER_PRODUCER + made);
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
    let count = receivers.len();
    let consumers: Vec<_> = receivers
        .into_iter()
        .enumerate()
        .map(|(index, mut rx)| {
            // The first of two consumers leaves after a few turns; the
            // last (or only) one stays until the budget is spent, then
            // leaves with producers blocked (or values buffered).
            let leave_after = if index + 1 < count { 5 } else { u64::MAX };
            Pending::start(move || {
                let mut taken = 0u64;
                while taken < leave_after && !budget.spent(taken) {
                    match rx.recv_timeout(Duration::from_millis(5)) {
                        Ok(value) => drop(value),
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                    taken += 1;
                }
            })
        })
        .collect();
    let limit = stall_limit(settings);
    for consumer in consumers {
        consumer.join()?;
    }
    producers
        .into_iter()
        .enumerate()
        .map(|(index, producer)| {
            producer.join_within(limit)?.ok_or_else(|| {
                Violation::new(
                    Rule::ReceiversGone,
                    format!(
                        "{capacity}: producer #{index} stayed blocked in send after every receiver left"
                    ),
                )
            })
        })
        .collect()
}
