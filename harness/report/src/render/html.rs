//! The report as one self-contained HTML page: inline CSS and inline SVG
//! charts, no script, no external font or image, so it reads offline, in
//! any browser, and in print.

use super::{Figure, FigureKind, Report, tables};
use crate::schema::Results;
use crate::table::{Table, escape};

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1b1b1b; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem; }
h1 { margin-bottom: 0.2rem; }
.lede { color: #555; margin-top: 0; }
nav ul { columns: 2; }
table { border-collapse: collapse; margin: 0.8rem 0 1.6rem; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
tbody tr:nth-child(even) { background: #fafafa; }
figure.chart { margin: 1rem 0 2rem; break-inside: avoid; page-break-inside: avoid; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption { font-weight: 600; margin-bottom: 0.3rem; }
code { background: #f2f2f2; padding: 0.1rem 0.3rem; border-radius: 3px; }
.note { color: #555; font-size: 0.9rem; }
@media print { main { max-width: none; padding: 0; } nav { display: none; } h2 { break-before: page; } }
";

/// The whole page.
pub fn page(report: &Report, figures: &[Figure], dir: &std::path::Path) -> String {
    let go_tables: Vec<(&str, crate::table::Table)> = report
        .sources
        .iter()
        .map(|s| (s.machine.as_str(), tables::go_reference(&s.results)))
        .filter(|(_, table)| !table.rows.is_empty())
        .collect();
    let mut body = format!(
        "<h1>chanlab report: {}</h1>\n<p class=\"lede\">{}</p>\n",
        escape(&report.title),
        escape(&lede(report))
    );
    if let Some(notice) = report.partial_notice() {
        body += &format!(
            "<p class=\"partial\"><strong>{}</strong></p>\n",
            escape(&notice)
        );
    }
    // Ranked once, for the answer and for the full table.
    let recommendations = report.recommendations();
    body += &format!(
        "<section id=\"answer\"><h2>The answer</h2>\n<p class=\"note\">{}</p>\n",
        escape(super::ANSWER_NOTE)
    );
    for (source, recommendations) in &recommendations {
        if report.is_merged() {
            body += &format!("<h3>{}</h3>\n", escape(&source.machine));
        }
        body += &tables::answer(recommendations).html();
    }
    body += "</section>\n";
    body += "<nav><h2>Contents</h2><ul>\n<li><a href=\"#provenance\">How this was measured</a></li>\n<li><a href=\"#verdicts\">Correctness: what the gate found</a></li>\n<li><a href=\"#recommendations\">Which library for which job</a></li>\n";
    for kind in FigureKind::ALL {
        if figures.iter().any(|f| f.kind == kind) {
            body += &format!(
                "<li><a href=\"#{}\">{}</a></li>\n",
                kind.slug(),
                kind.heading()
            );
        }
    }
    if !go_tables.is_empty() {
        body += "<li><a href=\"#go\">Go reference</a></li>\n";
    }
    body += "<li><a href=\"#problems\">Failures</a></li>\n<li><a href=\"#refused\">Not applicable</a></li>\n<li><a href=\"#cells\">Every cell</a></li>\n</ul></nav>\n";

    body += "<section id=\"provenance\"><h2>How this was measured</h2>\n";
    for source in &report.sources {
        body += &format!(
            "<h3>{}</h3>\n<p>Reproduce with <code>{}</code> on a machine like this one.</p>\n{}",
            escape(&source.machine),
            escape(&source.results.command),
            tables::provenance(source, dir).html()
        );
        for (heading, paragraph) in super::methodology(source, report.fidelity.as_ref()) {
            body += &format!(
                "<p><strong>{}.</strong> {}</p>\n",
                escape(&heading),
                escape(&paragraph)
            );
        }
    }
    if let Some(fidelity) = &report.fidelity {
        body += &tables::fidelity(fidelity).html();
    }
    body += "</section>\n";

    body += &format!(
        "<section id=\"verdicts\"><h2>Correctness: what the gate found</h2>\n<p class=\"note\">{}</p>\n",
        escape(super::VERDICT_NOTE)
    );
    for source in &report.sources {
        if report.is_merged() {
            body += &format!("<h3>{}</h3>\n", escape(&source.machine));
        }
        body += &tables::verdicts(&source.results).html();
    }
    body += "</section>\n";

    body += &format!(
        "<section id=\"recommendations\"><h2>Which library for which job</h2>\n<p class=\"note\">{}</p>\n",
        escape(super::RECOMMENDATION_RULE)
    );
    for (source, recommendations) in &recommendations {
        if report.is_merged() {
            body += &format!("<h3>{}</h3>\n", escape(&source.machine));
        }
        body += &if recommendations.rows.is_empty() {
            format!("<p>{}</p>\n", super::NO_RECOMMENDATION)
        } else {
            format!(
                "<p class=\"note\">{}</p>\n{}",
                escape(&super::recommendation_note(recommendations)),
                tables::recommendations(recommendations).html()
            )
        };
    }
    body += "</section>\n";

    for kind in FigureKind::ALL {
        let of_kind: Vec<&Figure> = figures.iter().filter(|f| f.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        body += &format!(
            "<section id=\"{}\"><h2>{}</h2>\n<p class=\"note\">{}</p>\n",
            kind.slug(),
            kind.heading(),
            escape(kind.explanation())
        );
        for figure in of_kind {
            body += &format!(
                "<figure class=\"chart\" id=\"{}\" data-kind=\"{}\">\n<figcaption>{}</figcaption>\n{}\n</figure>\n",
                figure.id,
                kind.slug(),
                escape(&figure.title),
                figure.svg
            );
        }
        body += "</section>\n";
    }

    if !go_tables.is_empty() {
        body += &format!(
            "<section id=\"go\"><h2>Go reference</h2>\n<p class=\"note\">{}</p>\n",
            escape(super::GO_NOTE)
        );
        for (machine, table) in go_tables {
            if report.is_merged() {
                body += &format!("<h3>{}</h3>\n", escape(machine));
            }
            body += &table.html();
        }
        body += "</section>\n";
    }

    body += &format!(
        "<section id=\"instructions\"><h2>Instructions per operation</h2>\n<p class=\"note\">{}</p>\n",
        escape(super::INSTRUCTIONS_NOTE)
    );
    body += &per_machine(report, tables::instructions, super::NO_INSTRUCTIONS);
    body += "</section>\n";
    body += &format!(
        "<section id=\"waiting\"><h2>CPU while waiting</h2>\n<p class=\"note\">{}</p>\n",
        escape(super::WAITING_NOTE)
    );
    body += &per_machine(report, tables::waiting, super::NO_WAITING);
    body += "</section>\n";
    body += "<section id=\"problems\"><h2>Failures</h2>\n";
    body += &per_machine(report, tables::failures, super::NO_FAILURES);
    body += "</section>\n<section id=\"refused\"><h2>Not applicable</h2>\n";
    body += &per_machine(report, tables::not_applicable, super::NONE_REFUSED);
    body += "</section>\n<section id=\"cells\"><h2>Every cell</h2>\n";
    for source in &report.sources {
        if report.is_merged() {
            body += &format!("<h3>{}</h3>\n", escape(&source.machine));
        }
        body += &tables::cells(&source.results).html();
    }
    body += "</section>\n";

    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>chanlab report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main data-charts=\"{}\">\n{body}</main>\n</body>\n</html>\n",
        escape(&report.title),
        figures.len()
    )
}

/// `table` of each run, under the machine's name when the report merges
/// several, or `empty` for a run where it has no row.
fn per_machine(report: &Report, table: fn(&Results) -> Table, empty: &str) -> String {
    let mut html = String::new();
    for source in &report.sources {
        if report.is_merged() {
            html += &format!("<h3>{}</h3>\n", escape(&source.machine));
        }
        let table = table(&source.results);
        html += &if table.rows.is_empty() {
            format!("<p>{}</p>\n", escape(empty))
        } else {
            table.html()
        };
    }
    html
}

/// The line under the title: what was measured, where.
fn lede(report: &Report) -> String {
    let machines: Vec<String> = report
        .sources
        .iter()
        .map(|s| {
            format!(
                "{} ({}, {} cores)",
                s.machine, s.results.machine.cpu_model, s.results.machine.cores
            )
        })
        .collect();
    let cells: usize = report.sources.iter().map(|s| s.results.cells.len()).sum();
    format!(
        "{cells} cells from {} run{} on {}.",
        report.sources.len(),
        if report.sources.len() == 1 { "" } else { "s" },
        machines.join(" and ")
    )
}
