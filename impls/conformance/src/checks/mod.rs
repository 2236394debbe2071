//! The checks, grouped by the part of the spec they exercise. Each check is
//! a generic function over the flavor; [`crate::CHECKS`] lists them.

pub(crate) mod basics;
pub(crate) mod disconnect;
pub(crate) mod drops;
pub(crate) mod linear;
pub(crate) mod stress;
pub(crate) mod timeout;
pub(crate) mod waiters;
pub(crate) mod wakeup;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use chanlab_contract::{
    Capacity, FlavorInfo, Sender, SyncEnds, SyncFlavor, TryRecvError, TrySendError,
};

use crate::spec::ensure;
use crate::watchdog::panic_message;
use crate::{Rule, Settings, Violation};

/// What a check concluded when it found no violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Every rule the check exercises held.
    Pass,
    /// The check does not apply to this flavor; the reason says why.
    NotApplicable(&'static str),
}

/// One capacity of each kind: rendezvous, minimal, a small odd one, a
/// large one, unbounded.
pub(crate) const PROBED_CAPACITIES: [Capacity; 5] = [
    Capacity::RENDEZVOUS,
    Capacity::Bounded(1),
    Capacity::Bounded(3),
    Capacity::Bounded(64),
    Capacity::Unbounded,
];

/// The capacities the suite exercises, as far as `F` declares them.
pub(crate) fn capacities<F: SyncFlavor>() -> Vec<Capacity> {
    declared_capacities(&F::INFO)
}

/// The capacities the suite exercises, as far as `info` declares them.
pub(crate) fn declared_capacities(info: &FlavorInfo) -> Vec<Capacity> {
    PROBED_CAPACITIES
        .into_iter()
        .filter(|&capacity| info.capabilities.supports(capacity))
        .collect()
}

/// Declared capacities that buffer at least `n` messages.
pub(crate) fn buffering<F: SyncFlavor>(n: usize) -> Vec<Capacity> {
    [Capacity::Bounded(n), Capacity::Unbounded]
        .into_iter()
        .filter(|&capacity| F::INFO.capabilities.supports(capacity))
        .collect()
}

/// Builds a channel of a capacity the flavor declares.
pub(crate) fn open<F: SyncFlavor, T: Send + 'static>(
    capacity: Capacity,
) -> Result<SyncEnds<F, T>, Violation> {
    F::channel(capacity).map_err(|err| {
        Violation::new(
            Rule::Capabilities,
            format!("declared {capacity} but channel() failed: {err}"),
        )
    })
}

/// A blocking operation started on another thread, so the check can see
/// whether it is still blocked.
pub(crate) struct Pending<R> {
    finished: Arc<AtomicBool>,
    handle: thread::JoinHandle<R>,
}

impl<R: Send + 'static> Pending<R> {
    /// Starts `op` on a new thread and returns once that thread is about to
    /// call it, so a later "still blocked?" look is not fooled by a thread
    /// that simply has not started.
    pub(crate) fn start(op: impl FnOnce() -> R + Send + 'static) -> Self {
        Self::start_boxed(Box::new(op))
    }

    /// [`Pending::start`] with `op` boxed: one copy of the thread
    /// machinery per result type, not one per call site and flavor.
    fn start_boxed(op: Box<dyn FnOnce() -> R + Send>) -> Self {
        let started = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let (started_flag, finished_flag) = (started.clone(), finished.clone());
        let handle = thread::spawn(move || {
            started_flag.store(true, Ordering::SeqCst);
            // Set when `op` returns or unwinds, so a panic is joined and
            // reported as one, not waited out as a hang.
            let _finished = SetOnDrop(finished_flag);
            op()
        });
        while !started.load(Ordering::SeqCst) {
            thread::yield_now();
        }
        Pending { finished, handle }
    }

    /// Waits `settle`, then tells whether the operation is still blocked.
    pub(crate) fn still_blocked_after(&self, settle: Duration) -> bool {
        let_settle(settle);
        !self.finished()
    }

    /// Whether the operation has returned yet.
    pub(crate) fn finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// Waits up to `limit` for the operation; `None` if it is still
    /// blocked then, in which case its thread is left behind.
    pub(crate) fn join_within(self, limit: Duration) -> Result<Option<R>, Violation> {
        let deadline = Instant::now() + limit;
        while !self.finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        if self.finished() {
            self.join().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Waits for the operation (the check's watchdog bounds this wait).
    pub(crate) fn join(self) -> Result<R, Violation> {
        self.handle.join().map_err(|panic| {
            Violation::new(
                Rule::Liveness,
                format!(
                    "an operation panicked on a helper thread: {}",
                    panic_message(&*panic)
                ),
            )
        })
    }
}

/// Sets its flag when dropped, on return or unwinding alike.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// What became of a call made on a helper thread within a time limit.
#[derive(Debug, PartialEq)]
pub(crate) enum Called<R> {
    /// It returned this.
    Returned(R),
    /// It panicked with this message.
    Panicked(String),
    /// It was still running when the limit passed; its thread is left
    /// behind, blocked.
    StillBlocked,
}

/// Runs `op` on a helper thread and waits at most `limit` for it, catching
/// a panic, so a check can name the rule a hang or a panic breaks.
pub(crate) fn call_within<R: Send + 'static>(
    limit: Duration,
    op: impl FnOnce() -> R + Send + 'static,
) -> Called<R> {
    match Pending::start_catching(op).join_within(limit) {
        Ok(Some(Ok(value))) => Called::Returned(value),
        Ok(Some(Err(message))) => Called::Panicked(message),
        Ok(None) => Called::StillBlocked,
        Err(violation) => Called::Panicked(violation.detail),
    }
}

/// How long a check waits for an operation that should return promptly
/// before it calls it hung: far beyond any scheduling delay, well inside
/// the watchdog.
pub(crate) fn stall_limit(settings: &Settings) -> Duration {
    settings.watchdog / 3
}

impl<T: Send + 'static> Pending<Result<T, String>> {
    /// Like [`Pending::start`], but a panic in `op` comes back as its
    /// message instead of unwinding the helper thread.
    pub(crate) fn start_catching(op: impl FnOnce() -> T + Send + 'static) -> Self {
        Pending::start(move || {
            catch_unwind(AssertUnwindSafe(op)).map_err(|panic| panic_message(&*panic).to_owned())
        })
    }
}

/// Sends `values` with `try_send` into a channel that has room for all of
/// them; a refusal breaks R4.
pub(crate) fn fill<T, S: Sender<T>>(
    tx: &S,
    values: impl IntoIterator<Item = T>,
    situation: &str,
) -> Result<(), Violation> {
    fill_with(|value| tx.try_send(value), values, situation)
}

/// [`fill`] through any `try_send`: a blocking or an async sender's.
pub(crate) fn fill_with<T>(
    try_send: impl Fn(T) -> Result<(), TrySendError<T>>,
    values: impl IntoIterator<Item = T>,
    situation: &str,
) -> Result<(), Violation> {
    for (index, value) in values.into_iter().enumerate() {
        try_send(value).map_err(|err| {
            Violation::new(
                Rule::Capacity,
                format!("{situation}: try_send #{index} within capacity failed: {err:?}"),
            )
        })?;
    }
    Ok(())
}

/// Times [`wrap_buffer`] fills and drains a buffer.
const WRAPS: usize = 3;

/// The buffer an unbounded channel is turned past: more than one block of
/// the linked blocks such channels keep (crossbeam's hold 31 values).
pub(crate) const UNBOUNDED_TURN: usize = 64;

/// Values [`wrap_buffer`] sends through a buffer of `room`.
pub(crate) fn wrap_values(room: usize) -> usize {
    WRAPS * room + 1
}

/// Turns a channel's buffer past its capacity before a check: [`WRAPS`]
/// times filled with `room` values and drained, then one value through,
/// so a ring buffer starts the check wrapped and off its first slot (a
/// state a fresh channel never shows). `make(i)` gives the i-th of the
/// [`wrap_values`] values; each must come back, in order of `i`.
pub(crate) fn wrap_buffer<T>(
    try_send: impl Fn(T) -> Result<(), TrySendError<T>>,
    mut try_recv: impl FnMut() -> Result<T, TryRecvError>,
    room: usize,
    make: impl Fn(usize) -> T,
    situation: &str,
) -> Result<(), Violation> {
    let turns = (0..WRAPS).map(|_| room).chain([1]);
    let mut next = 0;
    for batch in turns {
        fill_with(&try_send, (next..next + batch).map(&make), situation)?;
        for _ in 0..batch {
            let got = try_recv();
            ensure(got.is_ok(), Rule::ExactlyOnce, || {
                format!(
                    "{situation}, turning the buffer past its capacity: a try_recv with values buffered gave {:?}",
                    got.as_ref().err()
                )
            })?;
        }
        next += batch;
    }
    Ok(())
}

/// Gives a started blocking operation time to (wrongly) complete.
pub(crate) fn let_settle(settle: Duration) {
    thread::sleep(settle);
}

/// A stress phase's time budget: workloads are sized by time, not by a
/// message count, because a rendezvous hand-off can cost a thousand times
/// what a buffered one does.
#[derive(Clone, Copy)]
pub(crate) struct Budget {
    deadline: Instant,
}

impl Budget {
    /// Most messages one producer sends in a phase, whatever the budget.
    const MAX_MESSAGES: u64 = 1 << 20;

    pub(crate) fn start(budget: Duration) -> Self {
        Budget {
            deadline: Instant::now() + budget,
        }
    }

    /// Whether a producer that has sent `sent` messages should stop. The
    /// clock is read every 64 messages.
    pub(crate) fn spent(&self, sent: u64) -> bool {
        sent >= Self::MAX_MESSAGES || (sent.is_multiple_of(64) && Instant::now() >= self.deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_helper_that_panics_is_reported_as_a_panic_not_a_hang() {
        let pending = Pending::start(|| -> u8 { panic!("planted") });
        let joined = pending.join_within(Duration::from_secs(60));
        let violation = joined.expect_err("a panic is a violation");
        assert_eq!(violation.rule, Rule::Liveness);
        assert!(violation.detail.contains("planted"), "{}", violation.detail);
    }
}
