//! `recv_timeout` at the edges of its argument (rule R8): zero, a
//! nanosecond, microseconds, an hour, and durations past what `Instant` can
//! represent. Libraries have shipped panics on `Instant + timeout`
//! overflow and deadlines that wrap to "now"; this check calls each edge on
//! a helper thread, so a panic or a hang is reported as R8 with the
//! duration that caused it.

use std::thread;
use std::time::{Duration, Instant};

use chanlab_contract::{Capacity, Receiver, RecvTimeoutError, Sender, SyncFlavor};

use super::{
    Called, CheckOutcome, Pending, buffering, call_within, capacities, let_settle, open,
    stall_limit,
};
use crate::spec::ensure;
use crate::{Rule, Settings, Violation};

/// Durations a caller can hand `recv_timeout` that a deadline computation
/// can get wrong.
const EDGES: [Duration; 9] = [
    Duration::ZERO,
    Duration::from_nanos(1),
    Duration::from_micros(5),
    // Under a millisecond, where a timeout rounded down to whole
    // milliseconds returns at once; and just past one.
    Duration::from_micros(500),
    Duration::from_micros(1500),
    Duration::from_secs(3600),
    // Past `Instant::now() + timeout` on every platform std supports.
    Duration::from_secs(u64::MAX / 2),
    Duration::from_secs(u64::MAX),
    Duration::MAX,
];

/// Edges too large to wait out: `recv_timeout` must behave as `recv`.
fn is_huge(timeout: Duration) -> bool {
    timeout >= Duration::from_secs(3600)
}

/// Attempts the upper bound of a short timeout gets, so one scheduling
/// hiccup on a loaded machine is not a failure.
const ATTEMPTS: usize = 5;

/// R8 at every edge: never a panic, a ready message at once, `Disconnected`
/// once the senders are gone, a short timeout neither early nor far late,
/// and a huge one waiting like `recv`.
pub(crate) fn recv_timeout_edges<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let limit = stall_limit(settings);
    for timeout in EDGES {
        for capacity in buffering::<F>(1) {
            let (tx, mut rx) = open::<F, u32>(capacity)?;
            let _ = tx.try_send(7);
            let ready = call_within(limit, move || rx.recv_timeout(timeout));
            expect(ready, Ok(7), || {
                format!("{capacity}: recv_timeout({timeout:?}) with a message ready")
            })?;

            let (tx, mut rx) = open::<F, u32>(capacity)?;
            let _ = tx.try_send(8);
            drop(tx);
            let drained = call_within(limit, move || {
                (rx.recv_timeout(timeout), rx.recv_timeout(timeout))
            });
            let want = (Ok(8), Err(RecvTimeoutError::Disconnected));
            ensure(drained == Called::Returned(want), Rule::RecvTimeout, || {
                format!(
                    "{capacity}: recv_timeout({timeout:?}) twice with one message buffered and every sender gone gave {drained:?}, want {want:?}"
                )
            })?;
        }

        for capacity in capacities::<F>() {
            let (tx, mut rx) = open::<F, u32>(capacity)?;
            drop(tx);
            let gone = call_within(limit, move || rx.recv_timeout(timeout));
            expect(gone, Err(RecvTimeoutError::Disconnected), || {
                format!(
                    "{capacity}: recv_timeout({timeout:?}) on an empty channel with every sender gone"
                )
            })?;

            if is_huge(timeout) {
                waits_like_recv::<F>(capacity, timeout, settings)?;
            } else {
                times_out_in_bounds::<F>(capacity, timeout, limit)?;
            }
        }
    }
    Ok(CheckOutcome::Pass)
}

/// Fails unless the call returned `want`.
fn expect(
    called: Called<Result<u32, RecvTimeoutError>>,
    want: Result<u32, RecvTimeoutError>,
    case: impl FnOnce() -> String,
) -> Result<(), Violation> {
    let detail = || format!("{} gave {called:?}, want {want:?}", case());
    ensure(called == Called::Returned(want), Rule::RecvTimeout, detail)
}

/// An empty, connected channel: `Timeout`, not before `timeout` has passed,
/// and before a plain sleep of `10 * timeout + 200 ms` started at the same
/// moment ends, on the best of [`ATTEMPTS`].
pub(crate) fn times_out_in_bounds<F: SyncFlavor>(
    capacity: Capacity,
    timeout: Duration,
    limit: Duration,
) -> Result<(), Violation> {
    let bound = timeout * 10 + Duration::from_millis(200);
    let (_tx, mut rx) = open::<F, u32>(capacity)?;
    let mut waits = Vec::new();
    for _ in 0..ATTEMPTS {
        let sleeper = thread::spawn(move || {
            thread::sleep(bound);
            Instant::now()
        });
        // Timed from the call itself, on the thread that makes it, so a
        // sub-millisecond timeout is not measured with a thread's start.
        let called = call_within(limit, move || {
            let started = Instant::now();
            let got = rx.recv_timeout(timeout);
            (got, started, Instant::now(), rx)
        });
        let (got, started, returned, back) = match called {
            Called::Returned(returned) => returned,
            other => {
                return Err(Violation::new(
                    Rule::RecvTimeout,
                    format!(
                        "{capacity}: recv_timeout({timeout:?}) on an empty channel {}",
                        match other {
                            Called::Panicked(message) => format!("panicked: {message}"),
                            _ => format!("had not returned after {limit:?}"),
                        }
                    ),
                ));
            }
        };
        rx = back;
        let waited = returned - started;
        ensure(
            got == Err(RecvTimeoutError::Timeout),
            Rule::RecvTimeout,
            || {
                format!(
                    "{capacity}: recv_timeout({timeout:?}) on an empty channel gave {got:?}, want Timeout"
                )
            },
        )?;
        ensure(waited >= timeout, Rule::RecvTimeout, || {
            format!("{capacity}: recv_timeout({timeout:?}) returned Timeout after only {waited:?}")
        })?;
        // The sleeper ends by itself; it is joined only when its wake-up
        // time is needed.
        if waited < bound {
            return Ok(());
        }
        let woke = sleeper.join().unwrap_or(returned);
        if returned <= woke {
            return Ok(());
        }
        waits.push(waited);
    }
    ensure(false, Rule::RecvTimeout, || {
        format!(
            "{capacity}: recv_timeout({timeout:?}) on an empty channel returned after a plain sleep of {bound:?} started with it, in each of {ATTEMPTS} attempts: waited {waits:?}"
        )
    })
}

/// A timeout too long to wait out blocks like `recv`: it ends with a
/// message sent later, or with the last sender leaving, never at once.
fn waits_like_recv<F: SyncFlavor>(
    capacity: Capacity,
    timeout: Duration,
    settings: &Settings,
) -> Result<(), Violation> {
    let limit = stall_limit(settings);
    for ends_with_message in [true, false] {
        let (tx, mut rx) = open::<F, u32>(capacity)?;
        let waiting = Pending::start_catching(move || rx.recv_timeout(timeout));
        let_settle(settings.settle);
        if waiting.finished() {
            let got = waiting.join()?;
            ensure(false, Rule::RecvTimeout, || {
                format!(
                    "{capacity}: recv_timeout({timeout:?}) on an empty channel returned {got:?} at once; a timeout too large to represent must wait like recv"
                )
            })?;
            continue;
        }
        let want = if ends_with_message {
            let sender = call_within(limit, move || tx.send(9).is_ok());
            ensure(
                matches!(sender, Called::Returned(true)),
                Rule::RecvTimeout,
                || {
                    format!(
                        "{capacity}: send to a receiver blocked in recv_timeout({timeout:?}) gave {sender:?}"
                    )
                },
            )?;
            Ok(Ok(9))
        } else {
            drop(tx);
            Ok(Err(RecvTimeoutError::Disconnected))
        };
        let got = waiting.join_within(limit)?;
        ensure(got.as_ref() == Some(&want), Rule::RecvTimeout, || {
            format!(
                "{capacity}: recv_timeout({timeout:?}) blocked on an empty channel, then {}: got {got:?}, want {want:?} (None: still blocked after {limit:?})",
                if ends_with_message {
                    "one send"
                } else {
                    "every sender left"
                }
            )
        })?;
    }
    Ok(())
}
