//! Linearizability of `try_send` and `try_recv` (rule R11).
//!
//! Three threads make short random runs of non-blocking calls on one fresh
//! channel, each call stamped with a shared logical clock before and after;
//! then the channel is drained. The history must be linearizable against
//! the sequential channel (see [`crate::history`]). Many short histories
//! are recorded until the time budget is spent: interleavings come from the
//! threads racing, and short histories keep the search small.

use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Instant;

use chanlab_contract::{Capacity, Receiver, Sender, SyncFlavor, TryRecvError, TrySendError};

use super::{CheckOutcome, open};
use crate::history::{Call, Op, linearizable};
use crate::{Rule, Settings, Violation};

/// Threads per history.
const THREADS: usize = 3;
/// Calls per thread per history.
const CALLS: usize = 6;

/// R11 at a small bound, where `Full` happens, and unbounded.
pub(crate) fn histories_are_linearizable<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    for capacity in [Capacity::Bounded(2), Capacity::Unbounded] {
        if !F::INFO.capabilities.supports(capacity) {
            continue;
        }
        // Short histories are cheap; four times the stress budget buys enough of
        // them to catch faults that need a rare interleaving.
        let deadline = Instant::now() + 4 * settings.stress_budget;
        let mut round = 0;
        while round == 0 || Instant::now() < deadline {
            let history = record::<F>(capacity, round)?;
            if !linearizable(&history, capacity.bound()) {
                let calls: Vec<String> = history.iter().map(Call::to_string).collect();
                return Err(Violation::new(
                    Rule::Linearizable,
                    format!(
                        "{capacity}: no sequential order of these calls, keeping their real-time order, is a run of a FIFO channel:\n  {}",
                        calls.join("\n  ")
                    ),
                ));
            }
            round += 1;
        }
    }
    Ok(CheckOutcome::Pass)
}

/// One history on a fresh channel. Thread `t` of round `round` picks its
/// calls from a small generator seeded by both, so rounds differ.
fn record<F: SyncFlavor>(capacity: Capacity, round: u64) -> Result<Vec<Call>, Violation> {
    let (tx, rx) = open::<F, u64>(capacity)?;
    // Every thread receives where receivers can be shared; otherwise only
    // the first does, and the others only send.
    let mut receivers: Vec<Option<F::Receiver<u64>>> =
        (1..THREADS).map(|_| rx.try_clone()).collect();
    receivers.insert(0, Some(rx));
    let clock = AtomicU64::new(0);
    // Released together, so their calls overlap rather than run in turn.
    let start = Barrier::new(THREADS);
    let histories = thread::scope(|scope| {
        let workers: Vec<_> = receivers
            .iter_mut()
            .enumerate()
            .map(|(thread, rx)| {
                let (tx, clock, start) = (tx.clone(), &clock, &start);
                scope.spawn(move || {
                    start.wait();
                    calls(thread, round, &tx, rx.as_mut(), clock)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join())
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(|_| Violation::new(Rule::Liveness, "a try_send or try_recv panicked"))?;
    let mut history: Vec<Call> = histories.into_iter().flatten().collect();

    // Drain what is left, after every thread has finished.
    let Some(rx) = receivers[0].as_mut() else {
        unreachable!("the first receiver is always kept");
    };
    loop {
        let invoked = clock.fetch_add(1, Ordering::SeqCst);
        let result = rx.try_recv();
        let returned = clock.fetch_add(1, Ordering::SeqCst);
        let op = match result {
            Ok(value) => Op::Received(value),
            Err(TryRecvError::Empty) => Op::Empty,
            Err(TryRecvError::Disconnected) => Op::Disconnected,
        };
        history.push(Call {
            thread: THREADS,
            invoked,
            returned,
            op,
        });
        if !matches!(op, Op::Received(_)) || history.len() >= 120 {
            break;
        }
    }
    drop(tx);
    Ok(history)
}

/// One thread's calls: sends of values unique to it, and receives where it
/// has a receiver.
fn calls<S: Sender<u64>, R: Receiver<u64>>(
    thread: usize,
    round: u64,
    tx: &S,
    mut rx: Option<&mut R>,
    clock: &AtomicU64,
) -> Vec<Call> {
    let mut state = round.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (thread as u64 + 1);
    let mut history = Vec::with_capacity(CALLS);
    for n in 0..CALLS {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let value = (thread * CALLS + n) as u64;
        let invoked = clock.fetch_add(1, Ordering::SeqCst);
        let op = match rx.as_deref_mut() {
            Some(rx) if state.is_multiple_of(2) => match rx.try_recv() {
                Ok(value) => Op::Received(value),
                Err(TryRecvError::Empty) => Op::Empty,
                // Every sender lives through the run: never a legal answer.
                Err(TryRecvError::Disconnected) => Op::Disconnected,
            },
            _ => match tx.try_send(value) {
                Ok(()) => Op::Sent(value),
                Err(TrySendError::Full(_)) => Op::Full(value),
                Err(TrySendError::Disconnected(_)) => Op::Disconnected,
            },
        };
        let returned = clock.fetch_add(1, Ordering::SeqCst);
        history.push(Call {
            thread,
            invoked,
            returned,
            op,
        });
        // A short, varying pause widens the windows in which the threads'
        // calls overlap.
        for _ in 0..state % 64 {
            std::hint::spin_loop();
        }
    }
    history
}
