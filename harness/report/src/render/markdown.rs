//! The report as GitHub-ready Markdown: the same tables as the HTML page,
//! with the charts left to the page beside it.

use super::{Figure, Report, tables};
use crate::schema::Results;
use crate::table::{Table, escape, markdown_text};

/// The whole document.
pub fn document(report: &Report, figures: &[Figure], dir: &std::path::Path) -> String {
    let mut text = format!("# chanlab report: {}\n\n", markdown_text(&report.title));
    if let Some(notice) = report.partial_notice() {
        text += &format!("**{}**\n\n", markdown_text(&notice));
    }
    // Ranked once, for the answer and for the full table.
    let recommendations = report.recommendations();
    text += &format!("## The answer\n\n{}\n\n", super::ANSWER_NOTE);
    for (source, recommendations) in &recommendations {
        if report.is_merged() {
            text += &format!("### {}\n\n", markdown_text(&source.machine));
        }
        text += &tables::answer(recommendations).markdown();
        text += "\n";
    }
    text += &format!(
        "{} charts are in `index.html` beside this file.\n\n",
        figures.len()
    );
    text += "## How this was measured\n\n";
    for source in &report.sources {
        if report.is_merged() {
            text += &format!("### {}\n\n", markdown_text(&source.machine));
        }
        text += &format!(
            "Reproduce with <code>{}</code> on a machine like this one.\n\n{}\n",
            escape(&source.results.command),
            tables::provenance(source, dir).markdown()
        );
        for (heading, paragraph) in super::methodology(source, report.fidelity.as_ref()) {
            text += &format!("**{heading}.** {}\n\n", markdown_text(&paragraph));
        }
    }
    if let Some(fidelity) = &report.fidelity {
        text += &tables::fidelity(fidelity).markdown();
        text += "\n";
    }
    text += &format!(
        "## Correctness: what the gate found\n\n{}\n\n",
        super::VERDICT_NOTE
    );
    for source in &report.sources {
        if report.is_merged() {
            text += &format!("### {}\n\n", markdown_text(&source.machine));
        }
        text += &tables::verdicts(&source.results).markdown();
        text += "\n";
    }
    text += &format!(
        "## Which library for which job\n\n{}\n\n",
        super::RECOMMENDATION_RULE
    );
    for (source, recommendations) in &recommendations {
        if report.is_merged() {
            text += &format!("### {}\n\n", markdown_text(&source.machine));
        }
        text += &if recommendations.rows.is_empty() {
            format!("{}\n", super::NO_RECOMMENDATION)
        } else {
            format!(
                "{}\n\n{}",
                super::recommendation_note(recommendations),
                tables::recommendations(recommendations).markdown()
            )
        };
        text += "\n";
    }
    let mut go_heading = false;
    for source in &report.sources {
        let table = tables::go_reference(&source.results);
        if table.rows.is_empty() {
            continue;
        }
        if !go_heading {
            text += &format!("## Go reference\n\n{}\n\n", super::GO_NOTE);
            go_heading = true;
        }
        if report.is_merged() {
            text += &format!("### {}\n\n", markdown_text(&source.machine));
        }
        text += &table.markdown();
        text += "\n";
    }
    text += &format!(
        "## Instructions per operation\n\n{}\n\n",
        super::INSTRUCTIONS_NOTE
    );
    text += &per_machine(report, tables::instructions, super::NO_INSTRUCTIONS);
    text += &format!("## CPU while waiting\n\n{}\n\n", super::WAITING_NOTE);
    text += &per_machine(report, tables::waiting, super::NO_WAITING);
    text += "## Failures\n\n";
    text += &per_machine(report, tables::failures, super::NO_FAILURES);
    text += "## Not applicable\n\n";
    text += &per_machine(report, tables::not_applicable, super::NONE_REFUSED);
    text += "## Every cell\n\n";
    for source in &report.sources {
        if report.is_merged() {
            text += &format!("### {}\n\n", markdown_text(&source.machine));
        }
        text += &tables::cells(&source.results).markdown();
        text += "\n";
    }
    text
}

/// `table` of each run, under the machine's name when the report merges
/// several, or `empty` for a run where it has no row.
fn per_machine(report: &Report, table: fn(&Results) -> Table, empty: &str) -> String {
    let mut text = String::new();
    for source in &report.sources {
        if report.is_merged() {
            text += &format!("### {}\n\n", markdown_text(&source.machine));
        }
        let table = table(&source.results);
        text += &if table.rows.is_empty() {
            format!("{empty}\n\n")
        } else {
            table.markdown() + "\n"
        };
    }
    text
}
