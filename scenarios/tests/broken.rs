//! Every oracle must be able to fail: each channel pattern is run on the
//! deliberately broken twins of `chanlab-broken`, and must reject every
//! fault that breaks a promise the pattern makes. A pattern that promises
//! nothing about a fault (a worker pool does not promise order) is not
//! asked to catch it.
//!
//! The oracles of the patterns that run on primitives rather than channels
//! have their broken twins beside them, in the pattern modules' unit tests.

mod support;

use std::time::Duration;

use chanlab_broken::{Broken, Duplicates, IgnoresCapacity, Loses, NeverDisconnects, Reorders};
use chanlab_contract::{Capacity, SyncFlavor};
use chanlab_scenarios::{Params, Pattern, ScenarioError, run_sync};
use support::{small, within};

const LIMIT: Duration = Duration::from_secs(60);

/// Runs `pattern` on twin `F` and asserts the oracle rejects it, within
/// `attempts` runs (faults that show only under contention may need more
/// than one).
fn caught<F: SyncFlavor>(pattern: Pattern, params: Params, attempts: usize) {
    let place = format!("{pattern} on {}", F::INFO.name);
    for _ in 0..attempts {
        let p = params.clone();
        match within(LIMIT, move || run_sync::<F>(pattern, &p)) {
            None => panic!("{place}: hung instead of failing its oracle"),
            Some(Err(ScenarioError::Oracle(why))) => {
                println!("{place}: caught: {why}");
                return;
            }
            Some(Ok(_)) => {}
            Some(Err(other)) => panic!("{place}: failed for another reason: {other}"),
        }
    }
    panic!("{place}: the oracle passed a broken channel {attempts} times");
}

/// Enough items that every channel of every pattern carries more than the
/// few messages a twin lets through before its fault fires.
fn all_caught<F: SyncFlavor>(patterns: &[Pattern]) {
    let params = Params {
        items: 3_000,
        ..small(Capacity::Bounded(4))
    };
    for &pattern in patterns {
        caught::<F>(pattern, params.clone(), 1);
    }
}

#[test]
fn lost_messages_are_caught() {
    all_caught::<Broken<Loses>>(&[
        Pattern::WorkerPool,
        Pattern::FanOutFanIn,
        Pattern::Pipeline,
        Pattern::ProducerConsumer,
        Pattern::PubSub,
        Pattern::MapReduce,
        Pattern::EventLoop,
        Pattern::Supervisor,
    ]);
}

#[test]
fn duplicated_messages_are_caught() {
    all_caught::<Broken<Duplicates>>(&[
        Pattern::WorkerPool,
        Pattern::FanOutFanIn,
        Pattern::Pipeline,
        Pattern::ProducerConsumer,
        Pattern::PubSub,
        Pattern::Supervisor,
    ]);
}

#[test]
fn reordered_messages_are_caught_where_order_is_promised() {
    all_caught::<Broken<Reorders>>(&[
        Pattern::FanOutFanIn,
        Pattern::Pipeline,
        Pattern::ProducerConsumer,
        Pattern::PubSub,
        Pattern::EventLoop,
    ]);
}

#[test]
fn a_pipeline_without_backpressure_is_caught() {
    let params = Params {
        items: 2_000,
        capacity: Capacity::Bounded(2),
        work: Duration::from_micros(20),
        ..small(Capacity::Bounded(2))
    };
    caught::<Broken<IgnoresCapacity>>(Pattern::Pipeline, params, 5);
}

#[test]
fn a_semaphore_that_admits_too_many_is_caught() {
    let params = Params {
        items: 400,
        workers: 4,
        capacity: Capacity::Bounded(1),
        work: Duration::from_micros(100),
        ..small(Capacity::Bounded(1))
    };
    caught::<Broken<IgnoresCapacity>>(Pattern::Semaphore, params, 5);
}

/// A channel that never reports its senders gone leaves a worker pool's
/// workers waiting forever: the pattern does not end, and the watchdog is
/// what reports it (the runner does the same per cell).
#[test]
fn a_channel_that_never_closes_hangs_the_pool() {
    let params = small(Capacity::Bounded(4));
    let finished = within(Duration::from_secs(3), move || {
        run_sync::<Broken<NeverDisconnects>>(Pattern::WorkerPool, &params)
    });
    assert!(finished.is_none(), "the pool finished: {finished:?}");
}

/// Select twins: crossbeam's channels with a select that is wrong in one
/// way, since the broken reference twins have no select at all.
mod select_twins {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use chanlab_contract::{
        Capacity, FlavorInfo, SelectError, SelectWait, Selected, SyncEnds, SyncFlavor,
        UnsupportedError,
    };
    use chanlab_impls::Crossbeam;

    /// Which way the select is wrong.
    pub trait Fault: Send + Sync + 'static {
        const NAME: &'static str;
        /// Rewrites the `n`th selection out of `ready` receivers; `None`
        /// means it was swallowed and the select goes on waiting.
        fn distort<T>(n: usize, ready: usize, selected: Selected<T>) -> Option<Selected<T>>;
    }

    /// Swallows every 5th selected message.
    pub struct Swallows;
    impl Fault for Swallows {
        const NAME: &'static str = "select-swallows";
        fn distort<T>(n: usize, _: usize, selected: Selected<T>) -> Option<Selected<T>> {
            (n % 5 != 4 || selected.message.is_err()).then_some(selected)
        }
    }

    /// Reports every 5th message as coming from the next receiver.
    pub struct Mislabels;
    impl Fault for Mislabels {
        const NAME: &'static str = "select-mislabels";
        fn distort<T>(n: usize, ready: usize, mut selected: Selected<T>) -> Option<Selected<T>> {
            if n % 5 == 4 && selected.message.is_ok() {
                selected.index = (selected.index + 1) % ready;
            }
            Some(selected)
        }
    }

    pub struct Twin<K>(std::marker::PhantomData<K>);

    static SELECTIONS: AtomicUsize = AtomicUsize::new(0);

    impl<K: Fault> SyncFlavor for Twin<K> {
        type Sender<T: Send + 'static> = <Crossbeam as SyncFlavor>::Sender<T>;
        type Receiver<T: Send + 'static> = <Crossbeam as SyncFlavor>::Receiver<T>;

        const INFO: FlavorInfo = FlavorInfo {
            name: K::NAME,
            note: Some("deliberately broken"),
            ..Crossbeam::INFO
        };

        fn channel<T: Send + 'static>(
            capacity: Capacity,
        ) -> Result<SyncEnds<Self, T>, UnsupportedError> {
            Crossbeam::channel(capacity)
        }

        fn select<T: Send + 'static>(
            receivers: &mut [Self::Receiver<T>],
            wait: SelectWait,
        ) -> Result<Selected<T>, SelectError> {
            loop {
                let selected = Crossbeam::select(receivers, wait)?;
                let n = SELECTIONS.fetch_add(1, Ordering::Relaxed);
                if let Some(selected) = K::distort(n, receivers.len(), selected) {
                    return Ok(selected);
                }
            }
        }
    }
}

#[test]
fn a_select_that_swallows_or_mislabels_is_caught() {
    use select_twins::{Mislabels, Swallows, Twin};
    caught::<Twin<Swallows>>(Pattern::Select, small(Capacity::Bounded(4)), 1);
    caught::<Twin<Mislabels>>(Pattern::Select, small(Capacity::Bounded(4)), 1);
    // The event loop selects over its mailbox, ticker and quit signal: a
    // select that swallows an event loses an add or a tick.
    caught::<Twin<Swallows>>(Pattern::EventLoop, small(Capacity::Bounded(4)), 1);
}

/// An async flavor declared cancel-safe whatever the library says, to try
/// the async select oracle on a real receive future.
mod claims_select {
    use chanlab_contract::{
        AsyncEnds, AsyncFlavor, Capabilities, Capacity, FlavorInfo, UnsupportedError,
    };

    pub struct ClaimsSelect<A>(std::marker::PhantomData<A>);

    impl<A: AsyncFlavor> AsyncFlavor for ClaimsSelect<A> {
        type Sender<T: Send + 'static> = A::Sender<T>;
        type Receiver<T: Send + 'static> = A::Receiver<T>;

        const INFO: FlavorInfo = FlavorInfo {
            capabilities: Capabilities {
                select: true,
                ..A::INFO.capabilities
            },
            ..A::INFO
        };

        fn channel<T: Send + 'static>(
            capacity: Capacity,
        ) -> Result<AsyncEnds<Self, T>, UnsupportedError> {
            A::channel(capacity)
        }
    }
}

/// kanal's async receive future is not cancel-safe (its maintainer says so
/// in fereidani/kanal#24), which is why chanlab does not declare it: raced
/// in `tokio::select!`, a dropped future can take a message with it. The
/// async select oracle, run on it anyway, must see the loss.
#[test]
fn a_receive_future_that_loses_messages_when_dropped_is_caught() {
    use chanlab_scenarios::{Runtime, run_async};
    use claims_select::ClaimsSelect;
    let params = Params {
        items: 20_000,
        ..small(Capacity::Bounded(4))
    };
    for attempt in 1..=5 {
        let p = params.clone();
        let result = within(LIMIT, move || {
            run_async::<ClaimsSelect<chanlab_impls::KanalAsync>>(
                Pattern::Select,
                &p,
                Runtime::MultiThread,
            )
        });
        match result {
            Some(Err(ScenarioError::Oracle(why))) => {
                println!("kanal-async raced in tokio::select!: caught on attempt {attempt}: {why}");
                return;
            }
            Some(Ok(_)) => {}
            other => panic!("kanal-async in tokio::select!: {other:?}"),
        }
    }
    panic!("5 runs of tokio::select! over kanal-async lost nothing");
}
