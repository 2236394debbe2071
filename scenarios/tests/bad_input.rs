//! Bad input is refused with a clear error before anything starts: never a
//! hang, never a panic.

mod support;

use std::time::Duration;

use chanlab_contract::Capacity;
use chanlab_impls::{Crossbeam, StdMpsc, TokioMpsc, TokioMpscBlocking};
use chanlab_scenarios::{
    Outcome, Params, Pattern, Primitive, Runtime, ScenarioError, run_async, run_primitive, run_sync,
};
use support::{small, within};

/// Runs `run` under a short watchdog and returns its error, failing the
/// test on a hang, a panic or a success.
fn refused(
    what: &str,
    run: impl FnOnce() -> Result<Outcome, ScenarioError> + Send + 'static,
) -> ScenarioError {
    match within(Duration::from_secs(10), move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
    }) {
        None => panic!("{what}: hung instead of refusing"),
        Some(Err(_)) => panic!("{what}: panicked instead of refusing"),
        Some(Ok(Ok(outcome))) => panic!("{what}: ran ({outcome:?}) instead of refusing"),
        Some(Ok(Err(err))) => {
            println!("{what}: {err}");
            err
        }
    }
}

fn invalid(what: &str, run: impl FnOnce() -> Result<Outcome, ScenarioError> + Send + 'static) {
    let err = refused(what, run);
    assert!(
        matches!(err, ScenarioError::InvalidParams(_)),
        "{what}: {err}"
    );
}

fn not_applicable(
    what: &str,
    run: impl FnOnce() -> Result<Outcome, ScenarioError> + Send + 'static,
) {
    let err = refused(what, run);
    assert!(
        matches!(err, ScenarioError::NotApplicable(_)),
        "{what}: {err}"
    );
}

#[test]
fn zero_workers_producers_or_items_are_refused_by_every_pattern() {
    let broken = [
        Params {
            workers: 0,
            ..small(Capacity::Bounded(4))
        },
        Params {
            producers: 0,
            ..small(Capacity::Bounded(4))
        },
        Params {
            items: 0,
            ..small(Capacity::Bounded(4))
        },
    ];
    for params in broken {
        for &pattern in Pattern::ALL {
            // A pattern that does not run on a blocking flavor is refused as
            // not applicable there before its parameters are read.
            if pattern.uses_channels() {
                let p = params.clone();
                invalid(&format!("{pattern} with {params:?}"), move || {
                    run_sync::<Crossbeam>(pattern, &p)
                });
            }
            for &primitive in pattern.primitives() {
                let p = params.clone();
                invalid(&format!("{pattern} on {primitive}"), move || {
                    run_primitive(pattern, primitive, &p, Runtime::MultiThread)
                });
            }
        }
    }
}

#[test]
fn a_rate_limiter_without_a_rate_or_burst_is_refused() {
    for rate in [0.0, -5.0, f64::NAN, f64::INFINITY] {
        let params = Params {
            rate,
            ..small(Capacity::Bounded(4))
        };
        let p = params.clone();
        invalid(&format!("ticker at {rate}/s"), move || {
            run_sync::<Crossbeam>(Pattern::RateLimit, &p)
        });
        invalid(&format!("token bucket at {rate}/s"), move || {
            run_primitive(
                Pattern::RateLimit,
                Primitive::Chanlab,
                &params,
                Runtime::MultiThread,
            )
        });
    }
    let params = Params {
        burst: 0,
        ..small(Capacity::Bounded(4))
    };
    invalid("token bucket with burst 0", move || {
        run_primitive(
            Pattern::RateLimit,
            Primitive::Chanlab,
            &params,
            Runtime::MultiThread,
        )
    });
}

#[test]
fn a_semaphore_needs_permits() {
    for capacity in [Capacity::RENDEZVOUS, Capacity::Unbounded] {
        let params = small(capacity);
        let p = params.clone();
        invalid(&format!("channel semaphore at {capacity}"), move || {
            run_sync::<Crossbeam>(Pattern::Semaphore, &p)
        });
        invalid(&format!("chanlab semaphore at {capacity}"), move || {
            run_primitive(
                Pattern::Semaphore,
                Primitive::Chanlab,
                &params,
                Runtime::MultiThread,
            )
        });
    }
}

#[test]
fn oversized_workloads_are_refused() {
    let huge = [
        Params {
            workers: 1_000_000,
            ..small(Capacity::Bounded(4))
        },
        Params {
            items: usize::MAX,
            ..small(Capacity::Bounded(4))
        },
        Params {
            payload: 1 << 30,
            ..small(Capacity::Bounded(4))
        },
        Params {
            work: Duration::from_secs(3600),
            ..small(Capacity::Bounded(4))
        },
    ];
    for params in huge {
        invalid(&format!("{params:?}"), move || {
            run_sync::<Crossbeam>(Pattern::ProducerConsumer, &params)
        });
    }
}

#[test]
fn a_capacity_or_capability_the_flavor_lacks_is_not_applicable() {
    not_applicable("tokio rendezvous", || {
        run_sync::<TokioMpscBlocking>(Pattern::Pipeline, &small(Capacity::RENDEZVOUS))
    });
    not_applicable("a shared job queue on std mpsc", || {
        run_sync::<StdMpsc>(Pattern::WorkerPool, &small(Capacity::Bounded(4)))
    });
    not_applicable("select on std mpsc", || {
        run_sync::<StdMpsc>(Pattern::Select, &small(Capacity::Bounded(4)))
    });
    not_applicable("a pattern with no version on async channels", || {
        run_async::<TokioMpsc>(
            Pattern::ErrGroup,
            &small(Capacity::Bounded(4)),
            Runtime::CurrentThread,
        )
    });
    not_applicable("a lock pattern on a channel", || {
        run_sync::<Crossbeam>(Pattern::SharedState, &small(Capacity::Bounded(4)))
    });
    not_applicable("a primitive the pattern does not compare", || {
        run_primitive(
            Pattern::Singleflight,
            Primitive::StdMutex,
            &small(Capacity::Bounded(4)),
            Runtime::MultiThread,
        )
    });
}

#[test]
fn unknown_pattern_names_list_the_known_ones() {
    let err = "worker_pool".parse::<Pattern>().unwrap_err();
    assert!(err.to_string().contains("worker-pool"), "{err}");
    for &pattern in Pattern::ALL {
        assert_eq!(pattern.name().parse::<Pattern>(), Ok(pattern));
    }
}
