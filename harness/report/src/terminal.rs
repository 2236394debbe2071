//! What `chanlab run` and `chanlab report` print at the end, within
//! [`WIDTH`] columns on a terminal and in a pipe alike: for each job and
//! class one line with the pick, its margin and interval and the gate's
//! mark (or, when only one implementation ran, every cell), the failing
//! verdicts in words, the failures, and the counts. The full tables are in
//! `report.md` and `index.html`.

use std::collections::BTreeSet;

use chanlab_workload::Runtime;

use crate::recommend::{MarkWords, Passing, Recommendation, Recommendations};
use crate::render::{Report, tables};
use crate::schema::{Class, Results, Status, Verdict};

/// The columns every line of the summary fits in.
pub const WIDTH: usize = crate::table::TERMINAL_WIDTH as usize;

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
            picks(&recommendations)
        };
        text += "\n";
        text += &verdicts(results);
        let failures = tables::failures(results);
        if !failures.rows.is_empty() {
            text += &format!("{}\n", failures.terminal());
        }
        let count = |wanted: fn(&Status) -> bool| {
            results.cells.iter().filter(|c| wanted(&c.status)).count()
        };
        let findings = results.gate_findings();
        let undeclared = findings
            .values()
            .filter(|verdict| verdict.fails_undeclared())
            .count();
        text += &wrap(
            &format!(
                "{} cells: {} measured, {} not applicable (a capability the implementation lacks), {} failed, hung or crashed; {} implementations the gate does not pass ({undeclared} with failures they do not declare)",
                results.cells.len(),
                count(|s| *s == Status::Measured),
                count(|s| matches!(s, Status::NotApplicable { .. })),
                count(Status::is_failure),
                findings.len(),
            ),
            "",
        );
    }
    text
}

/// Where the class label ends and the pick starts.
const PICK_COLUMN: usize = 12;

/// One block per job, one line per class in it.
fn picks(recommendations: &Recommendations) -> String {
    let mut text = wrap(
        "Which library for which job: per class, the best median (throughput; open loop: p99), \
         its lead over the next with the 95% interval, and the gate's mark; \
         \"passing:\" the best of those that pass the gate. Every row in full: report.md.",
        "",
    );
    text += &wrap(&crate::render::recommendation_note(recommendations), "");
    let runtimes: BTreeSet<Runtime> = recommendations
        .rows
        .iter()
        .filter_map(|row| row.runtime)
        .collect();
    let name_runtime = runtimes.len() > 1;
    for job in recommendations
        .rows
        .chunk_by(|a, b| (&a.scenario, &a.workload) == (&b.scenario, &b.workload))
    {
        text += &format!(
            "\n{}\n",
            fit(&format!("{} {}", job[0].scenario, job[0].workload))
        );
        // A job no class ranks, all for one reason, says so once.
        let unranked = |row: &Recommendation| {
            (row.main.is_none() && row.p99.is_none()).then_some(row.not_ranked)
        };
        match unranked(&job[0]) {
            Some(why) if job.iter().all(|row| unranked(row) == Some(why)) => {
                let why = why.unwrap_or("the rate is set");
                text += &wrap(&format!("  not ranked: {why}"), "    ");
            }
            _ => job
                .iter()
                .for_each(|row| text += &row_lines(row, name_runtime)),
        }
    }
    match runtimes.into_iter().collect::<Vec<_>>().as_slice() {
        [] => {}
        [runtime] => {
            text += &format!(
                "\ntasks and bridges ran on tokio's {} runtime.\n",
                runtime.name()
            );
        }
        _ => {
            text += "\ntasks and bridges ran on tokio: mt on its multi-thread runtime, ct on its current-thread one.\n"
        }
    }
    text
}

/// A row's lines: the pick, and where the pick fails the gate, the best
/// of those that pass.
fn row_lines(row: &Recommendation, name_runtime: bool) -> String {
    let class = match row.runtime {
        Some(runtime) if name_runtime => format!("{} {}", class_word(row), runtime_word(runtime)),
        _ => class_word(row).to_owned(),
    };
    let indent = " ".repeat(PICK_COLUMN);
    let head = format!("  {class:<width$} ", width = PICK_COLUMN - 3);
    let Some((metric, lead)) = row.pick() else {
        let why = row.not_ranked.unwrap_or("the rate is set");
        return wrap(&format!("{head}not ranked: {why}"), &indent);
    };
    let strip = |name: &str| match row.runtime {
        Some(runtime) => name
            .strip_suffix(&format!("@{}", runtime.name()))
            .unwrap_or(name)
            .to_owned(),
        None => name.to_owned(),
    };
    let mut text = wrap(
        &format!("{head}{}", lead.brief(metric, &strip, MarkWords::RulesOnly)),
        &indent,
    );
    match &row.passing {
        Some(Passing::Ranked(passing)) => {
            text += &wrap(
                &format!(
                    "{indent}passing: {}",
                    passing.brief(metric, &strip, MarkWords::RulesOnly)
                ),
                &indent,
            );
        }
        Some(Passing::Only(name, median)) => {
            text += &wrap(
                &format!(
                    "{indent}passing: {} {} (the only one that passes)",
                    strip(name),
                    metric.format(*median)
                ),
                &indent,
            );
        }
        Some(Passing::Nobody) => {
            text += &wrap(
                &format!("{indent}passing: none of them passes the gate"),
                &indent,
            );
        }
        None => {}
    }
    text
}

/// The class in one word.
fn class_word(row: &Recommendation) -> &'static str {
    match row.class {
        Class::Blocking => "threads",
        Class::Async => "tasks",
        Class::Bridge => "bridge",
    }
}

/// A runtime in the class column: `mt` or `ct`, explained below the
/// picks.
fn runtime_word(runtime: Runtime) -> &'static str {
    match runtime {
        Runtime::CurrentThread => "ct",
        Runtime::MultiThread => "mt",
    }
}

/// Every implementation in the run that does not pass the gate, with what
/// its failures can do, once each.
fn verdicts(results: &Results) -> String {
    let findings = results.gate_findings();
    if findings.is_empty() {
        return String::new();
    }
    let mut text =
        "Implementations the gate does not pass (a declared failure is still one):\n".to_owned();
    for (name, verdict) in findings {
        let line = match verdict {
            Verdict::Deviates { .. } => {
                format!("  {name}: {}: {}", verdict.short(), verdict.consequences())
            }
            other => format!("  {name}: {}", other.short()),
        };
        text += &wrap(&line, "    ");
    }
    text += "\n";
    text
}

/// `line` cut at spaces into lines of at most [`WIDTH`] characters, each
/// after the first starting with `indent`; a word longer than a line is
/// cut. Runs of spaces inside a line are kept.
fn wrap(line: &str, indent: &str) -> String {
    let mut lines = Vec::new();
    let mut current = String::new();
    for (index, word) in line.split(' ').enumerate() {
        if index > 0 {
            let width = current.chars().count() + 1 + word.chars().count();
            if width > WIDTH && !word.is_empty() && !current.trim().is_empty() {
                lines.push(fit(current.trim_end()));
                current = indent.to_owned();
            } else {
                current.push(' ');
            }
        }
        current += word;
    }
    lines.push(fit(current.trim_end()));
    lines.join("\n") + "\n"
}

/// `line` cut to [`WIDTH`] characters, with `…` where it was cut.
fn fit(line: &str) -> String {
    if line.chars().count() <= WIDTH {
        return line.to_owned();
    }
    line.chars().take(WIDTH - 1).chain(['…']).collect()
}
