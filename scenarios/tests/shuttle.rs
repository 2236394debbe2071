//! shuttle runs of the patterns over the reference channel at sizes loom
//! cannot explore (more threads, more messages), with its PCT scheduler:
//! randomized schedules that find bugs of small depth with a known
//! probability. A failure prints a schedule that `shuttle::replay` runs
//! again, deterministically.
//!
//! Only built under the project's shuttle cfg, in its own target dir:
//!
//! ```sh
//! RUSTFLAGS="--cfg chanlab_shuttle" CARGO_TARGET_DIR=target-shuttle \
//!     cargo test --release -p chanlab-scenarios --test shuttle
//! ```
//!
//! Bounds: [`ITERATIONS`] schedules per model, PCT depth [`DEPTH`].
#![cfg(chanlab_shuttle)]

use chanlab_broken::{Broken, NeverDisconnects, Reorders};
use chanlab_contract::{Capacity, SyncFlavor};
use chanlab_impls::Reference;
use chanlab_scenarios::{Params, Pattern, run_sync};

/// Schedules tried per model.
const ITERATIONS: usize = 300;
/// PCT's bug depth: the number of ordering constraints a bug may need.
const DEPTH: usize = 3;

/// Set in the child process that runs a broken twin's model.
const TWIN: &str = "CHANLAB_SHUTTLE_TWIN";

/// Larger than any loom model: three or four threads per stage and a
/// dozen messages through channels of two.
fn medium() -> Params {
    Params {
        items: 12,
        producers: 2,
        workers: 3,
        capacity: Capacity::Bounded(2),
        ..Params::default()
    }
}

/// Runs `pattern` on flavor `F` under PCT, failing on any oracle error.
fn schedules<F: SyncFlavor>(pattern: Pattern, params: Params) {
    shuttle::check_pct(
        move || {
            if let Err(err) = run_sync::<F>(pattern, &params) {
                panic!("{pattern} on {}: {err}", F::INFO.name);
            }
        },
        ITERATIONS,
        DEPTH,
    );
}

/// Runs a broken twin's model in a child process (this test binary, asked
/// to run only `test`) and returns its report, which must be a failure.
fn shuttle_finds<F: SyncFlavor>(test: &str, pattern: Pattern) -> String {
    if std::env::var_os(TWIN).is_some() {
        schedules::<F>(pattern, medium());
        return String::new();
    }
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let child = std::process::Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(TWIN, "1")
        .output()
        .expect("the test binary can run itself");
    let report = String::from_utf8_lossy(&child.stderr).into_owned();
    assert!(
        !child.status.success(),
        "shuttle tried {ITERATIONS} schedules of {test} and found no failure:\n{report}"
    );
    report
}

macro_rules! pattern_models {
    ($($test:ident => $pattern:ident,)+) => {$(
        #[test]
        fn $test() {
            schedules::<Reference>(Pattern::$pattern, medium());
        }
    )+};
}

pattern_models! {
    worker_pool => WorkerPool,
    fan_out_fan_in => FanOutFanIn,
    pipeline => Pipeline,
    producer_consumer => ProducerConsumer,
    pub_sub => PubSub,
    map_reduce => MapReduce,
    event_loop => EventLoop,
    supervisor => Supervisor,
}

#[test]
fn pipeline_twin_that_never_closes_deadlocks() {
    let report = shuttle_finds::<Broken<NeverDisconnects>>(
        "pipeline_twin_that_never_closes_deadlocks",
        Pattern::Pipeline,
    );
    assert!(report.contains("deadlock"), "{report}");
    assert!(report.contains("failing schedule"), "{report}");
}

#[test]
fn fan_in_twin_that_reorders_is_caught() {
    let report = shuttle_finds::<Broken<Reorders>>(
        "fan_in_twin_that_reorders_is_caught",
        Pattern::FanOutFanIn,
    );
    assert!(report.contains("oracle failed"), "{report}");
    assert!(report.contains("failing schedule"), "{report}");
}
