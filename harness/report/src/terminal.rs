//! What `chanlab run` and `chanlab report` print at the end: the
//! recommendations (or, when only one implementation ran, every cell), the
//! failures, and the counts.

use crate::render::{Report, tables};
use crate::schema::Status;

/// The summary of `report` for a terminal.
pub fn summary(report: &Report) -> String {
    let mut text = String::new();
    for (source, recommendations) in report.recommendations() {
        let results = &source.results;
        if report.is_merged() {
            text += &format!("{}:\n", source.machine);
        }
        text += &if recommendations.rows.is_empty() {
            tables::cells(results).terminal()
        } else {
            format!(
                "Which library for which job (every cell is in report.md):\n{}{}\n",
                tables::recommendations(&recommendations).terminal(),
                crate::render::recommendation_note(&recommendations)
            )
        };
        text += "\n";
        let failures = tables::failures(results);
        if !failures.rows.is_empty() {
            text += &format!("{}\n", failures.terminal());
        }
        let count = |wanted: fn(&Status) -> bool| {
            results.cells.iter().filter(|c| wanted(&c.status)).count()
        };
        text += &format!(
            "{} cells: {} measured, {} not applicable (a capability the implementation lacks), {} failed, hung or crashed\n",
            results.cells.len(),
            count(|s| *s == Status::Measured),
            count(|s| matches!(s, Status::NotApplicable { .. })),
            count(Status::is_failure),
        );
    }
    text
}
