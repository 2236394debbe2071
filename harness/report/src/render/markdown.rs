//! The report as GitHub-ready Markdown: the same tables as the HTML page,
//! with the charts left to the page beside it.

use super::{Figure, Report, tables};
use crate::table::{escape, markdown_text};

/// The whole document.
pub fn document(report: &Report, figures: &[Figure]) -> String {
    let mut text = format!("# chanlab report: {}\n\n", markdown_text(&report.title));
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
            tables::provenance(source).markdown()
        );
    }
    text += &format!(
        "## Which library for which job\n\n{}\n\n",
        super::RECOMMENDATION_RULE
    );
    for (source, recommendations) in report.recommendations() {
        if report.is_merged() {
            text += &format!("### {}\n\n", markdown_text(&source.machine));
        }
        text += &if recommendations.is_empty() {
            format!("{}\n", super::NO_RECOMMENDATION)
        } else {
            tables::recommendations(&recommendations).markdown()
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
    text += "## Failures\n\n";
    for source in &report.sources {
        let failures = tables::failures(&source.results);
        if report.is_merged() {
            text += &format!("### {}\n\n", markdown_text(&source.machine));
        }
        text += &if failures.rows.is_empty() {
            "Every cell that ran passed its oracle: none failed, hung or crashed.\n\n".into()
        } else {
            failures.markdown() + "\n"
        };
    }
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
