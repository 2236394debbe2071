//! R8's async form: a receive raced against a runtime timer
//! (`tokio::time::timeout`). A ready message wins even a zero timeout, the
//! race on an empty channel ends near the timer, a disconnection ends it at
//! once, and, where the receive is declared cancel-safe, the timer winning
//! loses nothing: every message a producer sends during a stream of
//! receives that time out arrives once and in order.

use std::time::{Duration, Instant};

use chanlab_contract::{AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, TrySendError};
use tokio::time::timeout;

use super::{Runtime, capacities_of, join_within, open_async, run_on, spawn_task};
use crate::checks::stress::account;
use crate::checks::{Budget, CheckOutcome, stall_limit};
use crate::payload::Stamp;
use crate::spec::ensure;
use crate::{Rule, Settings, Violation};

/// The timeout raced on an empty channel.
const RACED: Duration = Duration::from_millis(20);

/// Attempts at the upper bound, as in the blocking suite's R8.
const ATTEMPTS: usize = 5;

/// The timers the stream of receives races, in turn.
const STREAM_TIMEOUTS: [Duration; 4] = [
    Duration::ZERO,
    Duration::from_micros(50),
    Duration::from_micros(300),
    Duration::from_millis(1),
];

pub(crate) fn async_recv_raced_with_timer<A: AsyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let limit = stall_limit(settings);
    for runtime in Runtime::BOTH {
        run_on(runtime, edges::<A>(runtime, limit))?;
        if A::INFO.capabilities.cancel_safe_recv {
            for capacity in capacities_of::<A>() {
                let shape =
                    format!("{runtime}, {capacity}, receives raced against timers of 0 to 1 ms");
                let (sent, received, timeouts) = run_on(
                    runtime,
                    stream::<A>(capacity, settings, limit, shape.clone()),
                )?;
                account(&shape, &sent, &[received]).map_err(|violation| {
                    Violation::new(
                        Rule::RecvTimeout,
                        format!("{} ({timeouts} timer(s) won)", violation.detail),
                    )
                })?;
            }
        }
    }
    Ok(CheckOutcome::Pass)
}

/// A ready message, an empty channel and a disconnected one.
async fn edges<A: AsyncFlavor>(runtime: Runtime, limit: Duration) -> Result<(), Violation> {
    let capacity = if A::INFO.capabilities.unbounded {
        Capacity::Unbounded
    } else {
        Capacity::Bounded(1)
    };
    let (tx, mut rx) = open_async::<A, u64>(capacity)?;
    if let Err(err) = tx.try_send(7) {
        return Err(Violation::new(
            Rule::Capacity,
            format!("{runtime}, {capacity}: try_send into an empty channel failed: {err:?}"),
        ));
    }
    let raced = timeout(Duration::ZERO, rx.recv()).await;
    ensure(matches!(raced, Ok(Ok(7))), Rule::RecvTimeout, || {
        format!(
            "{runtime}, {capacity}: a receive raced against a zero timer, with a message ready, gave {raced:?}, not the message"
        )
    })?;

    let mut best = Duration::MAX;
    for _ in 0..ATTEMPTS {
        let start = Instant::now();
        let raced = timeout(RACED, rx.recv()).await;
        let took = start.elapsed();
        ensure(raced.is_err(), Rule::ExactlyOnce, || {
            format!("{runtime}: a receive on an empty channel gave {raced:?}")
        })?;
        best = best.min(took);
    }
    let bound = RACED * 10 + Duration::from_millis(200);
    ensure(best < bound, Rule::RecvTimeout, || {
        format!(
            "{runtime}: a receive raced against a {RACED:?} timer on an empty channel ended after {best:?} at best of {ATTEMPTS}, past {bound:?}: the receive future blocks its thread"
        )
    })?;

    drop(tx);
    let raced = timeout(limit, rx.recv()).await;
    ensure(matches!(raced, Ok(Err(_))), Rule::SendersGone, || {
        format!(
            "{runtime}: a receive raced against a long timer after the last sender left gave {raced:?}, not Disconnected"
        )
    })
}

/// A producer task sends for the stress budget while this task receives
/// only through short timers; returns what was sent, what arrived and how
/// often the timer won.
async fn stream<A: AsyncFlavor>(
    capacity: Capacity,
    settings: &Settings,
    limit: Duration,
    shape: String,
) -> Result<(Vec<u64>, Vec<Stamp>, usize), Violation> {
    let (tx, mut rx) = open_async::<A, Stamp>(capacity)?;
    let budget = Budget::start(settings.stress_budget);
    let producer = spawn_task(async move {
        let mut seq = 0;
        while !budget.spent(seq) {
            let stamp = Stamp { producer: 0, seq };
            let accepted = match tx.try_send(stamp) {
                Ok(()) => true,
                Err(TrySendError::Full(stamp)) => tx.send(stamp).await.is_ok(),
                Err(TrySendError::Disconnected(_)) => false,
            };
            if !accepted {
                break;
            }
            seq += 1;
            if seq % 8 == 0 {
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
        }
        seq
    });
    let mut received = Vec::new();
    let mut timeouts = 0;
    for turn in 0.. {
        match timeout(STREAM_TIMEOUTS[turn % STREAM_TIMEOUTS.len()], rx.recv()).await {
            Ok(Ok(stamp)) => received.push(stamp),
            Ok(Err(_)) => break,
            Err(_) => timeouts += 1,
        }
    }
    let sent = join_within(producer, limit).await?.ok_or_else(|| {
        Violation::new(
            Rule::Liveness,
            format!("{shape}: the producer task did not finish within {limit:?}"),
        )
    })?;
    Ok((vec![sent], received, timeouts))
}
