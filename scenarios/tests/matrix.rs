//! Every pattern on every implementation whose capabilities allow it, at a
//! small size, at each capacity the implementation supports: the oracle
//! must hold, and a cell is refused only for a documented reason.

mod support;

use std::time::Duration;

use chanlab_contract::{AsyncFlavor, Capacity, FlavorInfo, SyncFlavor};
use chanlab_impls::{Crossbeam, FlumeAsync};
use chanlab_scenarios::{
    Outcome, Params, Pattern, Runtime, ScenarioError, run_async, run_primitive, run_sync,
};
use support::{runtimes_for, small, within};

const LIMIT: Duration = Duration::from_secs(60);

/// Whether a pattern may refuse to run on `info` at `params`, by the
/// requirements its module documents.
fn may_refuse(
    pattern: Pattern,
    info: &FlavorInfo,
    params: &Params,
    runtime: Option<Runtime>,
) -> bool {
    let caps = info.capabilities;
    let bounded_permits = matches!(params.capacity, Capacity::Bounded(n) if n > 0);
    let primitives_only = !pattern.uses_channels();
    let no_async_version = runtime.is_some() && !pattern.has_async_version();
    primitives_only
        || no_async_version
        || match pattern {
            Pattern::WorkerPool => !caps.multi_consumer && params.workers > 1,
            Pattern::ProducerConsumer => !caps.multi_consumer && params.workers > 1,
            Pattern::Semaphore => !caps.multi_consumer || !bounded_permits,
            Pattern::Select => !caps.select,
            Pattern::Cancellation => params.capacity == Capacity::Unbounded,
            _ => false,
        }
}

/// Runs one cell under the watchdog and checks the result is an outcome or
/// an allowed refusal. Returns a one-word verdict for the printed matrix.
fn cell(
    pattern: Pattern,
    info: &FlavorInfo,
    params: &Params,
    runtime: Option<Runtime>,
    run: impl FnOnce() -> Result<Outcome, ScenarioError> + Send + 'static,
) -> &'static str {
    let place = format!(
        "{pattern} on {}{} at {}",
        info.name,
        runtime
            .map(|r| format!(" ({})", r.name()))
            .unwrap_or_default(),
        params.capacity
    );
    match within(LIMIT, run) {
        None => panic!("{place}: did not finish within {LIMIT:?}"),
        Some(Ok(outcome)) => {
            assert!(outcome.threads > 0, "{place}: no thread was counted");
            "ok"
        }
        Some(Err(ScenarioError::NotApplicable(_) | ScenarioError::InvalidParams(_)))
            if may_refuse(pattern, info, params, runtime) =>
        {
            "n/a"
        }
        Some(Err(err)) => panic!("{place}: {err}"),
    }
}

fn capacities(info: &FlavorInfo) -> Vec<Capacity> {
    [
        Capacity::Bounded(4),
        Capacity::RENDEZVOUS,
        Capacity::Unbounded,
    ]
    .into_iter()
    .filter(|&capacity| info.capabilities.supports(capacity))
    .collect()
}

fn sync_matrix<F: SyncFlavor>() {
    for capacity in capacities(&F::INFO) {
        let params = small(capacity);
        let verdicts: Vec<String> = Pattern::ALL
            .iter()
            .map(|&pattern| {
                let p = params.clone();
                let verdict = cell(pattern, &F::INFO, &params, None, move || {
                    run_sync::<F>(pattern, &p)
                });
                format!("{pattern}={verdict}")
            })
            .collect();
        println!("{} {capacity}: {}", F::INFO.name, verdicts.join(" "));
    }
}

fn async_matrix<F: AsyncFlavor>() {
    for runtime in Runtime::ALL {
        for capacity in capacities(&F::INFO) {
            let params = small(capacity);
            let verdicts: Vec<String> = Pattern::ALL
                .iter()
                .map(|&pattern| {
                    let p = params.clone();
                    let verdict = cell(pattern, &F::INFO, &params, Some(runtime), move || {
                        run_async::<F>(pattern, &p, runtime)
                    });
                    format!("{pattern}={verdict}")
                })
                .collect();
            println!(
                "{} ({}) {capacity}: {}",
                F::INFO.name,
                runtime.name(),
                verdicts.join(" ")
            );
        }
    }
}

/// One test per flavor of the registry's table
/// (`chanlab_impls::shipped_flavors!`), each running that flavor's whole
/// matrix: threads for a blocking flavor, tasks on both runtimes for an
/// async one.
macro_rules! matrix_tests {
    (
        flavors: [$($visit:ident $name:ident: $flavor:ty,)+],
        bridges: [$($bridge_name:ident: $bridge:ty,)+],
    ) => {$(
        #[test]
        fn $name() {
            matrix_test!($visit $flavor);
        }
    )+};
}

/// The matrix of one flavor, by how the registry visits it.
macro_rules! matrix_test {
    (visit_sync $flavor:ty) => {
        sync_matrix::<$flavor>()
    };
    (visit_async $flavor:ty) => {
        async_matrix::<$flavor>()
    };
}

chanlab_impls::shipped_flavors!(matrix_tests);

#[test]
fn primitives() {
    for &pattern in Pattern::ALL {
        for &primitive in pattern.primitives() {
            let mut params = small(Capacity::Bounded(2));
            // Within the pattern's own limit (errgroup: a thread per task).
            params.items = params.items.min(pattern.most_items().0);
            for &runtime in runtimes_for(primitive) {
                let place = format!("{pattern} on {primitive} ({})", runtime.name());
                let p = params.clone();
                match within(LIMIT, move || {
                    run_primitive(pattern, primitive, &p, runtime)
                }) {
                    None => panic!("{place}: did not finish within {LIMIT:?}"),
                    Some(Ok(outcome)) => println!("{place}: ok, {outcome:?}"),
                    Some(Err(err)) => panic!("{place}: {err}"),
                }
            }
        }
    }
}

/// The flavors that can run everything do run everything: a matrix of
/// refusals would pass the tests above and prove nothing. Crossbeam (sync)
/// and flume (async) have every capability, so only the documented
/// structural refusals remain.
#[test]
fn capable_flavors_refuse_nothing() {
    let params = small(Capacity::Bounded(4));
    let mut async_patterns = 0;
    for &pattern in Pattern::ALL {
        let p = params.clone();
        let sync = within(LIMIT, move || run_sync::<Crossbeam>(pattern, &p));
        match sync {
            Some(Ok(_)) => {}
            Some(Err(ScenarioError::NotApplicable(_)))
                if may_refuse(pattern, &Crossbeam::INFO, &params, None) => {}
            other => panic!("{pattern} on crossbeam: {other:?}"),
        }
        for runtime in Runtime::ALL {
            let p = params.clone();
            let result = within(LIMIT, move || run_async::<FlumeAsync>(pattern, &p, runtime));
            match result {
                Some(Ok(_)) => async_patterns += 1,
                Some(Err(ScenarioError::NotApplicable(_)))
                    if may_refuse(pattern, &FlumeAsync::INFO, &params, Some(runtime)) => {}
                other => panic!("{pattern} on flume-async ({}): {other:?}", runtime.name()),
            }
        }
    }
    assert_eq!(
        async_patterns,
        2 * 12,
        "every pattern on channels, twelve, has an async version, on two runtimes"
    );
}
