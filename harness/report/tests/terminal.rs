//! The terminal summary of the published quick results: within 100
//! columns, one line per job and class, and every pick that fails the gate
//! marked, with the best of those that pass beside it.

use std::path::Path;

use chanlab_report::recommend::Passing;
use chanlab_report::render::Report;
use chanlab_report::terminal::{WIDTH, summary};

fn published() -> Report {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../reports/published/quick/results.json");
    Report::load("quick", &[path]).expect("the published quick results load")
}

#[test]
fn every_line_fits_in_the_width() {
    let text = summary(&published());
    for line in text.lines() {
        assert!(
            line.chars().count() <= WIDTH,
            "{} columns: {line}",
            line.chars().count()
        );
    }
}

#[test]
fn a_failing_pick_is_marked_and_the_best_passing_one_follows() {
    let report = published();
    let text = summary(&report);
    let (source, recommendations) = &report.recommendations()[0];
    let failing = recommendations
        .rows
        .iter()
        .filter(|row| matches!(row.passing, Some(Passing::Ranked(_) | Passing::Only(..))))
        .count();
    assert!(
        failing > 0,
        "the published run has picks that fail the gate"
    );
    let passing_lines = text
        .lines()
        .filter(|line| line.trim_start().starts_with("passing:"))
        .count();
    assert_eq!(passing_lines, failing);
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix("threads") else {
            continue;
        };
        let pick = rest.split_whitespace().next().unwrap_or_default();
        if let Some(verdict) = source.results.verdicts.get(pick)
            && !verdict.passes()
        {
            assert!(line.contains("[fails") || line.contains("[FAILS"), "{line}");
        }
    }
    assert!(text.contains("may lose a value"), "{text}");
}
