//! compare on hand-made results.

use super::*;
use crate::schema::tests::{cell_with, results_with};

#[test]
fn a_rerun_passes_and_a_slowdown_fails() {
    let base = results_with(vec![cell_with(
        "crossbeam",
        &[
            100.0, 101.0, 99.0, 100.5, 99.5, 100.2, 99.8, 100.1, 99.9, 100.3,
        ],
    )]);
    let same = results_with(vec![cell_with(
        "crossbeam",
        &[
            100.4, 99.6, 100.0, 101.2, 98.9, 100.0, 99.7, 100.6, 99.2, 100.1,
        ],
    )]);
    let slow = results_with(vec![cell_with(
        "crossbeam",
        &[80.0, 81.0, 79.0, 80.5, 79.5, 80.2, 79.8, 80.1, 79.9, 80.3],
    )]);
    let options = Options::default();
    let rerun = compare(&base, &same, &options);
    assert!(rerun.passed(), "{}", rerun.summary());
    assert_eq!(rerun.changes[0].verdict, Shift::NoSignificantChange);
    let slowed = compare(&base, &slow, &options);
    assert!(!slowed.passed(), "{}", slowed.summary());
    assert_eq!(slowed.changes[0].verdict, Shift::Regressed);
    // A 20% loss under a 25% threshold is worse, not a failure.
    let lenient = Options {
        max_regression: 0.25,
        ..Options::default()
    };
    assert_eq!(
        compare(&base, &slow, &lenient).changes[0].verdict,
        Shift::Worse
    );
}

#[test]
fn three_repetitions_cannot_show_a_change_and_say_so() {
    let base = results_with(vec![cell_with("flume", &[100.0, 101.0, 99.0])]);
    let slow = results_with(vec![cell_with("flume", &[10.0, 11.0, 9.0])]);
    let comparison = compare(&base, &slow, &Options::default());
    // A tenth of the throughput, undecidable: can't tell, never a pass.
    assert_eq!(
        comparison.ruling(),
        Ruling::CantTell,
        "{}",
        comparison.summary()
    );
    // Two comparisons (throughput and p99) need five repetitions a side.
    assert_eq!(comparison.underpowered, Some(5));
    assert!(comparison.summary().contains("--repetitions 5"));
    assert!(comparison.summary().contains("verdict: CAN'T TELL"));
}

#[test]
fn a_correctness_failure_always_fails() {
    let base = results_with(vec![cell_with("kanal", &[100.0; 5])]);
    let mut broken = cell_with("kanal", &[]);
    broken.status = Status::Failed {
        reason: "message 7 lost".into(),
    };
    let comparison = compare(&base, &results_with(vec![broken]), &Options::default());
    assert!(!comparison.passed());
    // Reported as the failure it is, not also as a lost cell.
    assert!(comparison.missing.is_empty());
    assert!(comparison.summary().contains("message 7 lost"));
}

#[test]
fn a_cell_gone_or_now_not_applicable_fails_unless_allowed() {
    let base = results_with(vec![
        cell_with("flume", &[100.0; 10]),
        cell_with("kanal", &[100.0; 10]),
    ]);
    let mut refused = cell_with("flume", &[]);
    refused.status = Status::NotApplicable {
        reason: "capacity 0 is not supported".into(),
        kind: "capability".into(),
    };
    let current = results_with(vec![refused]);
    let comparison = compare(&base, &current, &Options::default());
    assert!(!comparison.passed(), "{}", comparison.summary());
    let reasons: Vec<&str> = comparison
        .missing
        .iter()
        .map(|(_, why)| why.as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            "now not applicable: capacity 0 is not supported",
            "gone from the run"
        ]
    );
    assert!(comparison.summary().contains("--allow-missing"));
    let allowed = Options {
        allow_missing: true,
        ..Options::default()
    };
    // Allowed, the lost cells do not fail it; with nothing left to
    // compare, it cannot tell.
    let allowed = compare(&base, &current, &allowed);
    assert_eq!(allowed.ruling(), Ruling::CantTell, "{}", allowed.summary());
    assert!(allowed.summary().contains("nothing was compared"));
}

#[test]
fn an_empty_or_partial_baseline_cannot_tell() {
    let current = results_with(vec![cell_with("flume", &[100.0; 10])]);
    let empty = compare(&results_with(Vec::new()), &current, &Options::default());
    assert_eq!(empty.ruling(), Ruling::CantTell, "{}", empty.summary());
    assert_eq!(empty.ruling().exit_status(), 3);
    let mut partial = results_with(vec![cell_with("flume", &[100.0; 10])]);
    partial.finished_at = None;
    let judged = compare(&partial, &current, &Options::default());
    assert_eq!(judged.ruling(), Ruling::CantTell, "{}", judged.summary());
    assert!(judged.summary().contains("baseline run was interrupted"));
}

#[test]
fn no_change_passes_only_when_its_interval_rules_out_a_regression() {
    let steady = [100.0, 101.0, 99.0, 100.5, 99.5, 100.2, 99.8, 100.1];
    let base = results_with(vec![cell_with("flume", &steady)]);
    let same = compare(&base, &base, &Options::default());
    assert_eq!(same.ruling(), Ruling::Pass, "{}", same.summary());
    // Spread so wide that a 10% regression is not ruled out.
    let wild = [40.0, 160.0, 70.0, 130.0, 55.0, 145.0, 90.0, 110.0];
    let noisy = results_with(vec![cell_with("flume", &wild)]);
    let judged = compare(&base, &noisy, &Options::default());
    assert_eq!(
        judged.changes[0].verdict,
        Shift::CantTell,
        "{}",
        judged.summary()
    );
    assert_eq!(judged.ruling(), Ruling::CantTell);
}

#[test]
fn treat_as_matches_a_substituted_implementation() {
    let base = results_with(vec![cell_with("reference", &[100.0; 10])]);
    let cur = results_with(vec![cell_with("broken-slow", &[50.0; 10])]);
    let unmatched = compare(&base, &cur, &Options::default());
    // Unmatched, the baseline's cell is lost from the run.
    assert!(unmatched.changes.is_empty() && !unmatched.passed());
    let options = Options {
        treat_as: [("broken-slow".to_owned(), "reference".to_owned())].into(),
        ..Options::default()
    };
    let matched = compare(&base, &cur, &options);
    // Throughput halved and p99 doubled.
    assert_eq!(matched.regressions(), 2, "{}", matched.summary());
}

#[test]
fn open_loop_compares_latency_only_and_notes_a_new_rate() {
    // A derived rate differs from run to run; the cell is the same.
    let open_loop = |rate: f64, throughputs: &[f64]| {
        let mut cell = cell_with("flume", throughputs);
        if let crate::schema::Workload::Load { spec, offered } = &mut cell.cell.workload {
            spec.measure = chanlab_workload::Measure::OpenLoop { rate };
            *offered = Some(crate::schema::Offered::SlowestSaturation { fraction: 0.5 });
        }
        cell.id = cell.cell.id();
        results_with(vec![cell])
    };
    let comparison = compare(
        &open_loop(1000.0, &[100.0; 6]),
        &open_loop(1500.0, &[50.0; 6]),
        &Options::default(),
    );
    let metrics: Vec<Metric> = comparison.changes.iter().map(|c| c.metric).collect();
    assert_eq!(metrics, vec![Metric::P99]);
    assert_eq!(comparison.rate_changed.len(), 1);
    assert!(comparison.summary().contains("different offered loads"));
}

#[test]
fn fixed_rates_and_own_offered_loads_are_cells_of_their_own() {
    let at = |measure, offered| {
        let mut cell = cell_with("flume", &[100.0; 3]);
        if let crate::schema::Workload::Load { spec, offered: o } = &mut cell.cell.workload {
            spec.measure = measure;
            *o = offered;
        }
        cell.cell.key()
    };
    let open = |rate| chanlab_workload::Measure::OpenLoop { rate };
    let own = |fraction| Some(crate::schema::Offered::OwnSaturation { fraction });
    assert_ne!(at(open(1000.0), None), at(open(2000.0), None));
    assert_eq!(at(open(1000.0), own(0.5)), at(open(2000.0), own(0.5)));
    assert_ne!(at(open(1000.0), own(0.5)), at(open(1000.0), own(0.9)));
}

#[test]
fn paired_ratios_follow_rounds() {
    let results = results_with(vec![
        cell_with("crossbeam", &[100.0, 200.0, 100.0]),
        cell_with("flume", &[50.0, 100.0, 50.0]),
    ]);
    let pairs = paired(&results, "crossbeam", "flume", 0.95);
    let throughput = pairs
        .iter()
        .find(|p| p.metric == Metric::Throughput)
        .unwrap();
    assert_eq!(throughput.ratios, vec![0.5, 0.5, 0.5]);
    assert_eq!(throughput.median, 0.5);
    let p99 = pairs.iter().find(|p| p.metric == Metric::P99).unwrap();
    assert!((p99.median - 2.0).abs() < 0.01, "{p99:?}");
}
