//! The async suite: the rules driven by an async flavor's own futures, on
//! tokio's current-thread and multi-thread runtimes, and the mixed suite
//! over a bridge's blocking and async ends.
//!
//! Where a check must see exactly what an executor sees (which future was
//! woken, and what a future dropped between a wake-up and its next poll
//! does), it polls the futures by hand with a [`Probe`] and polls again
//! only after a wake-up, so no extra poll rescues a lost one.

pub(crate) mod basics;
pub(crate) mod cancel;
pub(crate) mod drops;
pub(crate) mod mixed;
pub(crate) mod timeout;
pub(crate) mod waiters;
pub(crate) mod wakeup;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use chanlab_contract::{AsyncEnds, AsyncFlavor, AsyncReceiver, AsyncSender, Capacity};
use tokio::task::JoinHandle;

use crate::checks::{CheckOutcome, declared_capacities, fill_with};
use crate::spec::ensure;
use crate::watchdog::panic_message;
use crate::{Rule, Settings, Violation};

/// The runtimes every check that spawns tasks runs on.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Runtime {
    CurrentThread,
    MultiThread,
}

impl Runtime {
    pub(crate) const BOTH: [Runtime; 2] = [Runtime::CurrentThread, Runtime::MultiThread];
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Runtime::CurrentThread => "current-thread runtime",
            Runtime::MultiThread => "multi-thread runtime (2 workers)",
        })
    }
}

/// Runs `body` to completion on a new runtime of `kind`. Tasks it leaves
/// behind (after a violation) are dropped in the background, never waited
/// for.
pub(crate) fn run_on<R>(
    kind: Runtime,
    body: impl Future<Output = Result<R, Violation>>,
) -> Result<R, Violation> {
    let mut builder = match kind {
        Runtime::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        Runtime::MultiThread => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(2);
            builder
        }
    };
    let runtime = builder.enable_time().build().map_err(|err| {
        Violation::new(Rule::Liveness, format!("could not build a {kind}: {err}"))
    })?;
    // Boxed: one copy of the runtime's polling loop per result type, not
    // one per check and flavor.
    let body: Pin<Box<dyn Future<Output = Result<R, Violation>> + '_>> = Box::pin(body);
    let result = runtime.block_on(body);
    runtime.shutdown_background();
    result
}

/// `tokio::spawn` with the task's future boxed: one copy of tokio's task
/// machinery per output type, not one per task site and flavor.
pub(crate) fn spawn_task<T: Send + 'static>(
    task: impl Future<Output = T> + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    let task: Pin<Box<dyn Future<Output = T> + Send>> = Box::pin(task);
    tokio::spawn(task)
}

/// The capacities the suite exercises, as far as `A` declares them.
pub(crate) fn capacities_of<A: AsyncFlavor>() -> Vec<Capacity> {
    declared_capacities(&A::INFO)
}

/// Builds an async channel of a capacity the flavor declares.
pub(crate) fn open_async<A: AsyncFlavor, T: Send + 'static>(
    capacity: Capacity,
) -> Result<AsyncEnds<A, T>, Violation> {
    A::channel(capacity).map_err(|err| {
        Violation::new(
            Rule::Capabilities,
            format!("declared {capacity} but channel() failed: {err}"),
        )
    })
}

/// `count` receivers on one queue: `rx` and clones of it.
pub(crate) fn receivers<T, R: AsyncReceiver<T>>(rx: R, count: usize) -> Result<Vec<R>, Violation> {
    let mut all = Vec::with_capacity(count);
    for _ in 1..count {
        let clone = rx.try_clone().ok_or_else(|| {
            Violation::new(
                Rule::Capabilities,
                "declares multi_consumer but try_clone returned None",
            )
        })?;
        all.push(clone);
    }
    all.push(rx);
    Ok(all)
}

/// How many receivers a check runs: several where the flavor declares
/// `multi_consumer`, else one.
pub(crate) fn receiver_count<A: AsyncFlavor>(several: usize) -> usize {
    if A::INFO.capabilities.multi_consumer {
        several
    } else {
        1
    }
}

/// Sends `values` with `try_send` into a channel that has room for them;
/// a refusal breaks R4.
pub(crate) fn fill_async<T, S: AsyncSender<T>>(
    tx: &S,
    values: impl IntoIterator<Item = T>,
    situation: &str,
) -> Result<(), Violation> {
    fill_with(|value| tx.try_send(value), values, situation)
}

/// Runs `body` on both runtimes at every capacity `A` declares, with a
/// text naming the two.
pub(crate) fn on_each_runtime_and_capacity<A: AsyncFlavor>(
    mut body: impl FnMut(Runtime, Capacity, &str) -> Result<(), Violation>,
) -> Result<CheckOutcome, Violation> {
    for runtime in Runtime::BOTH {
        for capacity in capacities_of::<A>() {
            body(runtime, capacity, &format!("{runtime}, {capacity}"))?;
        }
    }
    Ok(CheckOutcome::Pass)
}

/// Awaits a spawned task for at most `limit`: `None` if it is still
/// running then (it is left to the runtime's shutdown); a panic in it is a
/// violation.
pub(crate) async fn join_within<R>(
    task: JoinHandle<R>,
    limit: Duration,
) -> Result<Option<R>, Violation> {
    match tokio::time::timeout(limit, task).await {
        Err(_) => Ok(None),
        Ok(Ok(value)) => Ok(Some(value)),
        Ok(Err(err)) if err.is_panic() => Err(Violation::new(
            Rule::Liveness,
            format!("a task panicked: {}", panic_message(&*err.into_panic())),
        )),
        Ok(Err(err)) => Err(Violation::new(
            Rule::Liveness,
            format!("a task was cancelled: {err}"),
        )),
    }
}

/// How long a check gives a value to show up after the event that should
/// have made it available: generous, and far below the watchdog.
pub(crate) fn patience(settings: &Settings) -> Duration {
    (settings.settle * 10).max(Duration::from_millis(200))
}

/// A waker that records that it was woken, so a check can poll a future by
/// hand as an executor would: again only once it has been woken.
pub(crate) struct Probe {
    woken: Arc<Flag>,
    waker: Waker,
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Probe {
    pub(crate) fn new() -> Self {
        let woken = Arc::new(Flag(AtomicBool::new(false)));
        Probe {
            waker: Waker::from(woken.clone()),
            woken,
        }
    }

    /// Polls `future` once with this probe's waker, forgetting earlier
    /// wake-ups.
    pub(crate) fn poll<F: Future + ?Sized>(&self, future: Pin<&mut F>) -> Poll<F::Output> {
        self.woken.0.store(false, Ordering::SeqCst);
        future.poll(&mut Context::from_waker(&self.waker))
    }

    /// Whether the waker was woken since the last poll.
    pub(crate) fn woken(&self) -> bool {
        self.woken.0.load(Ordering::SeqCst)
    }

    /// Waits at most `limit` for a wake-up; whether one came.
    pub(crate) fn wait_woken(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while !self.woken() {
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_micros(200));
        }
        true
    }
}

/// A future polled by hand: by the driver below, only when woken.
pub(crate) struct Hand<'a, O> {
    probe: Probe,
    future: Pin<Box<dyn Future<Output = O> + Send + 'a>>,
    /// Poll at the driver's first round even without a wake-up: the future
    /// has not been polled yet.
    fresh: bool,
    output: Option<O>,
}

impl<'a, O> Hand<'a, O> {
    /// A future not polled yet.
    pub(crate) fn new(future: impl Future<Output = O> + Send + 'a) -> Self {
        Hand {
            probe: Probe::new(),
            future: Box::pin(future),
            fresh: true,
            output: None,
        }
    }

    /// Polls once; the output, if it completed now or before.
    pub(crate) fn poll(&mut self) -> Option<&O> {
        if self.output.is_none() {
            self.fresh = false;
            if let Poll::Ready(output) = self.probe.poll(self.future.as_mut()) {
                self.output = Some(output);
            }
        }
        self.output.as_ref()
    }

    /// Whether it was woken since its last poll.
    pub(crate) fn woken(&self) -> bool {
        self.probe.woken()
    }

    /// Polls again with a new waker, as when its task moves to another
    /// worker; completing now, with nothing changed, breaks `rule` as
    /// `case` says.
    pub(crate) fn repoll_with_new_waker(
        &mut self,
        rule: Rule,
        case: impl FnOnce() -> String,
    ) -> Result<(), Violation> {
        // The old waker may still be woken, but no longer counts.
        self.probe = Probe::new();
        ensure(self.poll().is_none(), rule, case)
    }

    /// Waits at most `limit` for a wake-up.
    pub(crate) fn wait_woken(&self, limit: Duration) -> bool {
        self.probe.wait_woken(limit)
    }

    /// Waits at most `limit` for a wake-up; without one, a violation of
    /// R12 that `case` describes, after which (where a declared known
    /// failure lets the check go on) it is polled once by hand.
    pub(crate) fn expect_woken(
        &mut self,
        limit: Duration,
        case: impl FnOnce() -> String,
    ) -> Result<(), Violation> {
        if !self.wait_woken(limit) {
            ensure(false, Rule::Wakeup, case)?;
            self.poll();
        }
        Ok(())
    }

    /// Its output, once it completed.
    pub(crate) fn into_output(self) -> Option<O> {
        self.output
    }

    fn wants_poll(&self) -> bool {
        self.output.is_none() && (self.fresh || self.probe.woken())
    }

    fn done(&self) -> bool {
        self.output.is_some()
    }
}

/// Waits at most `limit` until `a` or `b` is woken; whether one was.
pub(crate) fn either_woken<A, B>(a: &Hand<'_, A>, b: &Hand<'_, B>, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while !(a.woken() || b.woken()) {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_micros(200));
    }
    true
}

/// Drives hand-polled futures as an executor with nothing else to do: each
/// is polled when fresh or woken, never otherwise, until all complete or
/// `limit` passes. Whether all completed.
pub(crate) fn drive<A, B>(
    a: &mut Hand<'_, A>,
    b: Option<&mut Hand<'_, B>>,
    limit: Duration,
) -> bool {
    let deadline = Instant::now() + limit;
    let mut b = b;
    loop {
        if a.wants_poll() {
            a.poll();
        }
        if let Some(b) = b.as_deref_mut()
            && b.wants_poll()
        {
            b.poll();
        }
        let b_done = b.as_deref().is_none_or(Hand::done);
        if a.done() && b_done {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        let b_wants = b.as_deref().is_some_and(Hand::wants_poll);
        if !a.wants_poll() && !b_wants {
            thread::sleep(Duration::from_micros(200));
        }
    }
}

/// A hand-polled future of any output, so several can be driven at once.
pub(crate) trait Driven {
    /// Whether an executor would poll it now: fresh or woken, not done.
    fn wants_poll(&self) -> bool;
    /// Polls it once.
    fn poll_once(&mut self);
    /// Whether it has completed.
    fn done(&self) -> bool;
}

impl<O> Driven for Hand<'_, O> {
    fn wants_poll(&self) -> bool {
        Hand::wants_poll(self)
    }

    fn poll_once(&mut self) {
        self.poll();
    }

    fn done(&self) -> bool {
        Hand::done(self)
    }
}

/// Drives hand-polled futures as an executor would, each polled only when
/// fresh or woken, until `enough` of them have completed or `limit`
/// passes; how many completed.
pub(crate) fn drive_until(hands: &mut [&mut dyn Driven], enough: usize, limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        for hand in hands.iter_mut() {
            if hand.wants_poll() {
                hand.poll_once();
            }
        }
        let done = hands.iter().filter(|hand| hand.done()).count();
        if done >= enough || Instant::now() >= deadline {
            return done;
        }
        if !hands.iter().any(|hand| hand.wants_poll()) {
            thread::sleep(Duration::from_micros(200));
        }
    }
}
