//! Detection power: how often the blocking suite, with the settings a user
//! gets, catches a channel whose fault shows only sometimes, one lost
//! message in N contended sends. Each run is the whole suite, as the gate
//! runs it on a flavor, or one check alone (`CHANLAB_POWER_CHECK`). A
//! measurement, not a test of the suite: ignored by the gate and run by
//! `ci/power.sh`, which sets how many runs each twin gets
//! (`CHANLAB_POWER_RUNS`, 20 by default) and which twins
//! (`CHANLAB_POWER_ONLY`: 64, 1024 or 16384).

use std::time::Instant;

use chanlab_broken::{Broken, LosesOneIn64, LosesOneIn1024, LosesOneIn16384};
use chanlab_conformance::{CheckResult, Settings, run_check, run_suite};
use chanlab_contract::SyncFlavor;

/// One twin's tally: runs, runs that caught it, and which checks did.
struct Tally {
    runs: usize,
    caught: usize,
    by_check: Vec<(&'static str, usize)>,
    seconds: f64,
}

/// The whole blocking suite on `F`, or the one check named.
fn checks<F: SyncFlavor>(settings: &Settings, only: Option<&str>) -> Vec<CheckResult> {
    match only {
        Some(check) => run_check::<F>(check, settings, &[]).into_iter().collect(),
        None => run_suite::<F>(settings),
    }
}

type Suite = fn(&Settings, Option<&str>) -> Vec<CheckResult>;

fn tally(runs: usize, suite: Suite, only: Option<&str>) -> Tally {
    let settings = Settings::default();
    let started = Instant::now();
    let mut tally = Tally {
        runs,
        caught: 0,
        by_check: Vec::new(),
        seconds: 0.0,
    };
    for run in 0..runs {
        let failed: Vec<&'static str> = suite(&settings, only)
            .iter()
            .filter(|result| result.verdict.is_err())
            .map(|result| result.check.name)
            .collect();
        if !failed.is_empty() {
            tally.caught += 1;
        }
        for check in failed {
            match tally.by_check.iter_mut().find(|(name, _)| *name == check) {
                Some((_, count)) => *count += 1,
                None => tally.by_check.push((check, 1)),
            }
        }
        eprintln!(
            "power: run {} of {runs}: {} caught so far",
            run + 1,
            tally.caught
        );
    }
    tally.seconds = started.elapsed().as_secs_f64();
    tally
}

/// The one-sided 95% upper bound on the miss rate after `runs` runs with
/// `missed` misses; with none missed, the rule of three, 3 / runs.
fn miss_bound(runs: usize, missed: usize) -> f64 {
    if missed == 0 {
        3.0 / runs as f64
    } else {
        // Wilson score bound, z = 1.645.
        let (n, p, z) = (runs as f64, missed as f64 / runs as f64, 1.645_f64);
        let centre = p + z * z / (2.0 * n);
        let spread = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
        (centre + spread) / (1.0 + z * z / n)
    }
}

#[test]
#[ignore = "a measurement of minutes: ci/power.sh runs it"]
fn detection_power() {
    let runs: usize = std::env::var("CHANLAB_POWER_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(20);
    let only = std::env::var("CHANLAB_POWER_ONLY").ok();
    let check = std::env::var("CHANLAB_POWER_CHECK").ok();
    let twins: [(&str, Suite); 3] = [
        ("64", checks::<Broken<LosesOneIn64>>),
        ("1024", checks::<Broken<LosesOneIn1024>>),
        ("16384", checks::<Broken<LosesOneIn16384>>),
    ];
    println!(
        "{}, default settings",
        check
            .as_deref()
            .map_or("the whole blocking suite".to_owned(), |check| format!(
                "{check} alone"
            ))
    );
    println!(
        "| one lost in N contended sends | runs | caught | 95% bound on the miss rate | checks that caught it (runs) | time |"
    );
    println!("|---|---|---|---|---|---|");
    for (n, suite) in twins {
        if only.as_deref().is_some_and(|only| only != n) {
            continue;
        }
        let tally = tally(runs, suite, check.as_deref());
        let checks: Vec<String> = tally
            .by_check
            .iter()
            .map(|(check, count)| format!("{check} ({count})"))
            .collect();
        println!(
            "| {n} | {} | {} | {:.1}% | {} | {:.0} s |",
            tally.runs,
            tally.caught,
            miss_bound(tally.runs, tally.runs - tally.caught) * 100.0,
            checks.join(", "),
            tally.seconds
        );
    }
}
