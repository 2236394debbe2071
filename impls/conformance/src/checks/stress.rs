//! Many producers and consumers at once (rules R3 and R2 under contention).
//!
//! Producers stamp every message with their index and a sequence number and
//! send until a time budget is spent, using blocking and non-blocking sends
//! in turn; consumers receive until disconnection, with `recv`, `try_recv`
//! and `recv_timeout` in turn. The check then accounts for every stamp.

use std::collections::HashMap;
use std::thread;
use std::time::Duration;

use chanlab_contract::{
    Capacity, Receiver, RecvTimeoutError, Sender, SyncFlavor, TryRecvError, TrySendError,
};

use super::{Budget, CheckOutcome, capacities, open};
use crate::payload::Stamp;
use crate::{Rule, Settings, Violation};

/// How a consumer receives.
#[derive(Clone, Copy, Debug)]
enum ReceiveWith {
    Recv,
    TryRecv,
    RecvTimeout,
}

/// R3 and R2: under every producer/consumer shape the flavor allows, each
/// stamp that was sent is received exactly once and each consumer sees every
/// producer's stamps in increasing order.
pub(crate) fn exactly_once_under_contention<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let mut shapes = vec![(1, 1), (3, 1)];
    if F::INFO.capabilities.multi_consumer {
        shapes.extend([(1, 3), (3, 3)]);
    }
    for capacity in capacities::<F>() {
        for &(producers, consumers) in &shapes {
            run_shape::<F>(capacity, producers, consumers, settings.stress_budget)?;
        }
    }
    Ok(CheckOutcome::Pass)
}

fn run_shape<F: SyncFlavor>(
    capacity: Capacity,
    producers: u32,
    consumers: usize,
    budget: Duration,
) -> Result<(), Violation> {
    let shape = format!("{capacity}, {producers} producer(s) x {consumers} consumer(s)");
    let (tx, rx) = open::<F, Stamp>(capacity)?;
    let mut receivers = vec![rx];
    while receivers.len() < consumers {
        let clone = receivers[0].try_clone().ok_or_else(|| {
            Violation::new(
                Rule::Capabilities,
                "multi_consumer declared but try_clone() gave None",
            )
        })?;
        receivers.push(clone);
    }
    let budget = Budget::start(budget);

    let (sent, received) = thread::scope(|scope| {
        let producer_threads: Vec<_> = (0..producers)
            .map(|producer| {
                let tx = tx.clone();
                // A rendezvous try_send only succeeds against a receiver
                // blocked in recv, which consumer 0 always is.
                let blocking = producer % 2 == 0;
                scope.spawn(move || produce(&tx, producer, blocking, budget))
            })
            .collect();
        let consumer_threads: Vec<_> = receivers
            .into_iter()
            .enumerate()
            .map(|(index, mut rx)| {
                let mode = match index % 3 {
                    0 => ReceiveWith::Recv,
                    1 => ReceiveWith::TryRecv,
                    _ => ReceiveWith::RecvTimeout,
                };
                scope.spawn(move || consume(&mut rx, mode))
            })
            .collect();
        drop(tx);
        let sent: Vec<u64> = producer_threads.into_iter().map(join_or_panic).collect();
        let received: Vec<Vec<Stamp>> = consumer_threads.into_iter().map(join_or_panic).collect();
        (sent, received)
    });
    account(&shape, &sent, &received)
}

fn join_or_panic<R>(handle: thread::ScopedJoinHandle<'_, R>) -> R {
    // A panic in a helper propagates to the watchdog, which reports it.
    match handle.join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn produce<S: Sender<Stamp>>(tx: &S, producer: u32, blocking: bool, budget: Budget) -> u64 {
    let mut seq = 0;
    while !budget.spent(seq) {
        let stamp = Stamp { producer, seq };
        let accepted = if blocking {
            tx.send(stamp).is_ok()
        } else {
            loop {
                match tx.try_send(stamp) {
                    Ok(()) => break true,
                    Err(TrySendError::Full(_)) if !budget.spent(0) => thread::yield_now(),
                    Err(_) => break false,
                }
            }
        };
        if !accepted {
            break;
        }
        seq += 1;
    }
    seq
}

fn consume<R: Receiver<Stamp>>(rx: &mut R, mode: ReceiveWith) -> Vec<Stamp> {
    let mut received = Vec::new();
    loop {
        let next = match mode {
            ReceiveWith::Recv => rx.recv().ok(),
            ReceiveWith::TryRecv => match rx.try_recv() {
                Ok(stamp) => Some(stamp),
                Err(TryRecvError::Empty) => {
                    thread::yield_now();
                    continue;
                }
                Err(TryRecvError::Disconnected) => None,
            },
            ReceiveWith::RecvTimeout => match rx.recv_timeout(Duration::from_millis(5)) {
                Ok(stamp) => Some(stamp),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => None,
            },
        };
        match next {
            Some(stamp) => received.push(stamp),
            None => return received,
        }
    }
}

/// Checks per-consumer order, then that the union of everything received
/// is exactly every producer's `0..sent`.
pub(crate) fn account(shape: &str, sent: &[u64], received: &[Vec<Stamp>]) -> Result<(), Violation> {
    for (consumer, stamps) in received.iter().enumerate() {
        let mut last: HashMap<u32, u64> = HashMap::new();
        for stamp in stamps {
            if let Some(&previous) = last.get(&stamp.producer)
                && stamp.seq <= previous
            {
                let rule = if stamp.seq == previous {
                    Rule::ExactlyOnce
                } else {
                    Rule::Fifo
                };
                return Err(Violation::new(
                    rule,
                    format!(
                        "{shape}: consumer {consumer} got producer {}'s #{} after #{previous}",
                        stamp.producer, stamp.seq
                    ),
                ));
            }
            last.insert(stamp.producer, stamp.seq);
        }
    }

    let mut seen: Vec<Vec<u32>> = sent.iter().map(|&n| vec![0; n as usize]).collect();
    for stamp in received.iter().flatten() {
        let slot = seen
            .get_mut(stamp.producer as usize)
            .and_then(|counts| counts.get_mut(stamp.seq as usize));
        match slot {
            Some(count) => *count += 1,
            None => {
                return Err(Violation::new(
                    Rule::ExactlyOnce,
                    format!(
                        "{shape}: received producer {}'s #{}, which was never sent",
                        stamp.producer, stamp.seq
                    ),
                ));
            }
        }
    }
    for (producer, counts) in seen.iter().enumerate() {
        let lost: Vec<usize> = positions(counts, |c| c == 0);
        let duplicated: Vec<usize> = positions(counts, |c| c > 1);
        if !lost.is_empty() || !duplicated.is_empty() {
            return Err(Violation::new(
                Rule::ExactlyOnce,
                format!(
                    "{shape}: producer {producer} sent {}; lost {} (first {:?}), duplicated {} (first {:?})",
                    counts.len(),
                    lost.len(),
                    &lost[..lost.len().min(5)],
                    duplicated.len(),
                    &duplicated[..duplicated.len().min(5)],
                ),
            ));
        }
    }
    Ok(())
}

fn positions(counts: &[u32], keep: impl Fn(u32) -> bool) -> Vec<usize> {
    counts
        .iter()
        .enumerate()
        .filter(|&(_, &count)| keep(count))
        .map(|(seq, _)| seq)
        .collect()
}
