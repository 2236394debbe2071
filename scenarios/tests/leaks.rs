//! Nothing a pattern starts outlives it: after each run, the process's
//! thread count returns to where it was (tasks are checked by every async
//! run itself, against tokio's count of alive tasks).
//!
//! One test, so no other test's threads share the count. Linux only: the
//! count comes from /proc.
//!
//! A crate that starts one helper thread for the whole process, on first
//! use, and keeps it (`governor` sleeps on `futures-timer`'s timer thread)
//! is run once before the baseline is taken, listed in
//! [`PROCESS_HELPERS`]; after that, each of its runs must leave the count
//! as it found it like every other.

mod support;

use std::time::{Duration, Instant};

use chanlab_contract::Capacity;
use chanlab_impls::{Crossbeam, FlumeAsync};
use chanlab_scenarios::{Params, Pattern, Primitive, Runtime, run_async, run_primitive, run_sync};
use support::{runtimes_for, small, within};

/// Primitives whose crate keeps one helper thread for the process, and
/// the pattern that starts it.
const PROCESS_HELPERS: [(Pattern, Primitive, &str); 1] = [(
    Pattern::RateLimit,
    Primitive::Governor,
    "futures-timer's timer thread",
)];

/// Threads in this process now.
fn threads() -> usize {
    let status =
        std::fs::read_to_string("/proc/self/status").expect("/proc/self/status is readable");
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|count| count.trim().parse().ok())
        .expect("/proc/self/status has a Threads line")
}

/// Waits up to a second for the thread count to fall back to `baseline`:
/// a joined thread may take a moment to leave the kernel's count.
fn settles_to(baseline: usize) -> Result<(), usize> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let now = threads();
        if now <= baseline {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(now);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn every_pattern_leaves_the_thread_count_where_it_found_it() {
    let params = small(Capacity::Bounded(4));
    for (pattern, primitive, helper) in PROCESS_HELPERS {
        let started = run_primitive(pattern, primitive, &params, Runtime::CurrentThread);
        assert!(
            started.is_ok(),
            "{pattern} on {primitive} (starting {helper}): {started:?}"
        );
    }
    let baseline = threads();

    // The check can fail: a thread left running is seen.
    let (stop, parked) = std::sync::mpsc::channel::<()>();
    let left = std::thread::spawn(move || parked.recv());
    assert_eq!(settles_to(baseline), Err(baseline + 1));
    drop(stop);
    let _ = left.join();
    assert_eq!(settles_to(baseline), Ok(()));

    let mut checked = 0;
    for &pattern in Pattern::ALL {
        let mut runs: Vec<(String, Box<dyn FnOnce() -> bool + Send>)> = Vec::new();
        let params = Params {
            items: params.items.min(pattern.most_items().0),
            ..params.clone()
        };
        let p = params.clone();
        runs.push((
            format!("{pattern} on crossbeam"),
            Box::new(move || run_sync::<Crossbeam>(pattern, &p).is_ok()),
        ));
        for runtime in Runtime::ALL {
            let p = params.clone();
            runs.push((
                format!("{pattern} on flume-async ({})", runtime.name()),
                Box::new(move || run_async::<FlumeAsync>(pattern, &p, runtime).is_ok()),
            ));
        }
        for &primitive in pattern.primitives() {
            for &runtime in runtimes_for(primitive) {
                let p = params.clone();
                runs.push((
                    format!("{pattern} on {primitive} ({})", runtime.name()),
                    Box::new(move || run_primitive(pattern, primitive, &p, runtime).is_ok()),
                ));
            }
        }
        for (what, run) in runs {
            let finished = within(Duration::from_secs(60), run);
            assert!(finished.is_some(), "{what}: did not finish within 60 s");
            // Refused runs too: a refusal must not leave a thread behind.
            if let Err(now) = settles_to(baseline) {
                panic!("{what}: {now} threads after the run, {baseline} before");
            }
            checked += usize::from(finished == Some(true));
        }
    }
    assert!(checked >= 30, "only {checked} runs were checked");
}
