//! The recommendations on hand-made results.

use super::*;
use crate::schema::Finding;
use crate::schema::tests::{cell_with, results_with};

fn many(base: f64) -> Vec<f64> {
    (0..8).map(|i| base + i as f64).collect()
}

fn pass() -> Verdict {
    Verdict::Pass {
        checked_at: String::new(),
    }
}

#[test]
fn separated_samples_make_a_clear_winner_with_enough_repetitions() {
    let mut results = results_with(vec![
        cell_with("crossbeam", &many(100.0)),
        cell_with("flume", &many(50.0)),
    ]);
    results.verdicts = [("crossbeam", pass()), ("flume", pass())]
        .map(|(name, verdict)| (name.to_owned(), verdict))
        .into();
    let recommendations = recommend(&results);
    assert_eq!(recommendations.rows.len(), 1);
    let (metric, throughput) = recommendations.rows[0].main.as_ref().unwrap();
    assert_eq!(*metric, Metric::Throughput);
    assert_eq!(throughput.leader, "crossbeam");
    assert!(throughput.is_clear());
    assert_eq!(throughput.warning, None);
    assert_eq!(recommendations.repetitions_needed, None);
}

#[test]
fn four_repetitions_cannot_make_a_clear_lead_and_the_page_says_how_many_would() {
    let results = results_with(vec![
        cell_with("crossbeam", &[100.0, 110.0, 105.0, 108.0]),
        cell_with("flume", &[50.0, 60.0, 55.0, 52.0]),
    ]);
    let recommendations = recommend(&results);
    let (_, throughput) = recommendations.rows[0].main.as_ref().unwrap();
    assert!(!throughput.is_clear());
    // Every pair one way at best: 1 / 2^n < 5% from n = 5.
    assert_eq!(recommendations.repetitions_needed, Some(5));
}

#[test]
fn overlapping_samples_are_no_clear_winner() {
    let results = results_with(vec![
        cell_with(
            "crossbeam",
            &[100.0, 80.0, 105.0, 90.0, 99.0, 101.0, 97.0, 95.0],
        ),
        cell_with("kanal", &[90.0, 95.0, 85.0, 100.0, 98.0, 92.0, 96.0, 94.0]),
        cell_with("flume", &many(10.0)),
    ]);
    let (_, throughput) = recommend(&results).rows[0].main.clone().unwrap();
    assert_eq!(throughput.leader, "crossbeam");
    assert!(!throughput.is_clear());
    assert_eq!(throughput.contenders, vec!["kanal".to_owned()]);
    let text = throughput.describe(Metric::Throughput);
    assert!(text.starts_with("can't tell"), "{text}");
    assert!(text.contains("needs about"), "{text}");
}

#[test]
fn paired_rounds_within_a_percent_are_a_tie() {
    // 30 rounds that drift together: each pair within 1% of the other.
    let drift: Vec<f64> = (0..30).map(|i| 100.0 + (i % 7) as f64 * 10.0).collect();
    let close: Vec<f64> = drift
        .iter()
        .enumerate()
        .map(|(i, v)| v * (1.0 + ((i % 5) as f64 - 2.0) / 400.0))
        .collect();
    let results = results_with(vec![
        cell_with("crossbeam", &drift),
        cell_with("kanal", &close),
    ]);
    let (_, lead) = recommend(&results).rows[0].main.clone().unwrap();
    assert!(
        matches!(lead.decision, Decision::Tied { within } if within <= 0.01),
        "{lead:?}"
    );
    assert!(
        lead.describe(Metric::Throughput)
            .starts_with("tied within 1%")
    );
}

#[test]
fn a_planted_tenth_apart_is_clear_in_seven_paired_rounds_despite_drift() {
    // The machine's speed doubles halfway: unpaired, the samples overlap.
    let fast: Vec<f64> = [10.0, 10.5, 9.8, 20.0, 21.0, 19.5, 20.5].to_vec();
    let slow: Vec<f64> = fast.iter().map(|v| v / 1.1).collect();
    let results = results_with(vec![
        cell_with("crossbeam", &fast),
        cell_with("planted", &slow),
    ]);
    let (_, lead) = recommend(&results).rows[0].main.clone().unwrap();
    assert!(lead.is_clear(), "{lead:?}");
    let margin = lead.margin.expect("a margin");
    assert!((margin.estimate - 1.1).abs() < 1e-9, "{margin:?}");
}

#[test]
fn a_leader_that_fails_the_gate_carries_the_warning_in_its_row() {
    let mut results = results_with(vec![
        cell_with("kanal", &many(100.0)),
        cell_with("crossbeam", &many(50.0)),
    ]);
    results.verdicts.insert(
        "kanal".into(),
        Verdict::Deviates {
            checked_at: String::new(),
            findings: vec![Finding {
                rule: "R7 receivers-gone".into(),
                check: "blocking disconnect".into(),
                detail: "send dropped the value".into(),
                declared: true,
            }],
        },
    );
    let (_, lead) = recommend(&results).rows[0].main.clone().unwrap();
    let text = lead.describe(Metric::Throughput);
    assert!(
        text.contains("Warning: kanal fails R7 receivers-gone (declared)"),
        "{text}"
    );
    let same = |name: &str| name.to_owned();
    let brief = lead.brief(Metric::Throughput, &same, MarkWords::Gist);
    assert!(brief.contains("[fails R7: may lose or hang]"), "{brief}");
    let brief = lead.brief(Metric::Throughput, &same, MarkWords::RulesOnly);
    assert!(brief.contains("[fails R7]"), "{brief}");
}

#[test]
fn a_primitive_no_suite_applies_to_carries_no_warning_but_an_unchecked_flavor_does() {
    let mut results = results_with(vec![
        cell_with("atomics", &many(100.0)),
        cell_with("std-mutex", &many(50.0)),
    ]);
    results.verdicts.insert(
        "atomics".into(),
        Verdict::NoSuite {
            reason: "a primitive".into(),
        },
    );
    let (_, lead) = recommend(&results).rows[0].main.clone().unwrap();
    assert_eq!(lead.warning, None);
    results.verdicts.insert(
        "atomics".into(),
        Verdict::Unknown {
            reason: "not checked on this build".into(),
        },
    );
    let (_, lead) = recommend(&results).rows[0].main.clone().unwrap();
    assert_eq!(lead.warning.as_deref(), Some("not checked"));
}

#[test]
fn reference_lines_and_other_classes_are_never_ranked_against_libraries() {
    let mut go = cell_with("go-chan", &many(1000.0));
    go.reference = true;
    let mut tokio = cell_with("tokio-mpsc", &many(500.0));
    tokio.class = Some(Class::Async);
    let results = results_with(vec![
        go,
        tokio,
        cell_with("crossbeam", &many(100.0)),
        cell_with("flume", &many(50.0)),
    ]);
    let recommendations = recommend(&results);
    assert_eq!(
        recommendations.rows.len(),
        1,
        "only the blocking class has two"
    );
    let row = &recommendations.rows[0];
    assert_eq!(row.class, Class::Blocking);
    assert_eq!(row.main.as_ref().unwrap().1.leader, "crossbeam");
    assert_eq!(row.references, vec![("go-chan".to_owned(), 1003.5)]);
}

#[test]
fn a_lone_implementation_gets_no_verdict() {
    let results = results_with(vec![cell_with("crossbeam", &[100.0, 101.0, 99.0])]);
    assert!(recommend(&results).rows.is_empty());
}
