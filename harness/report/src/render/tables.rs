//! The report's tables, shared by the HTML page, the Markdown and the
//! terminal.

use crate::format::{duration, rate};
use crate::metric::Metric;
use crate::recommend::Recommendation;
use crate::schema::{CellResult, GO_REFERENCE, Results, Status};
use crate::table::Table;

use super::{Source, measured};

/// "Which library for which job": one row per workload.
pub fn recommendations(recommendations: &[Recommendation]) -> Table {
    let mut table = Table::new(&[
        "scenario",
        "workload",
        "measured",
        "best throughput",
        "best p99",
    ]);
    for r in recommendations {
        table.rows.push(vec![
            r.scenario.clone(),
            r.workload.clone(),
            r.measured.to_string(),
            r.throughput.as_ref().map_or_else(
                || "(open loop: the rate is set)".into(),
                |lead| lead.describe(Metric::Throughput),
            ),
            r.p99
                .as_ref()
                .map_or_else(|| "not timed".into(), |lead| lead.describe(Metric::P99)),
        ]);
    }
    table
}

/// Every cell that ran, grouped by scenario and parameters, fastest
/// first; failures say what failed.
pub fn cells(results: &Results) -> Table {
    let mut rows: Vec<&CellResult> = results
        .cells
        .iter()
        .filter(|c| !matches!(c.status, Status::NotApplicable { .. } | Status::Pending))
        .collect();
    rows.sort_by(|a, b| {
        (&a.scenario, a.cell.workload.label())
            .cmp(&(&b.scenario, b.cell.workload.label()))
            .then_with(|| b.median_throughput().total_cmp(&a.median_throughput()))
    });
    let mut table = Table::new(&[
        "scenario",
        "parameters",
        "implementation",
        "items/s (median)",
        "spread",
        "CPU/item",
        "p50",
        "p99",
        "p99.9",
        "fairness",
    ]);
    for cell in rows {
        let mut row = vec![
            cell.scenario.clone(),
            cell.cell.workload.label(),
            cell.cell.implementation_label(),
        ];
        match (&cell.status, &cell.summary) {
            (Status::Measured, Some(summary)) => {
                let t = summary.throughput;
                let latency = |name: &str| {
                    summary
                        .percentile_ns(name)
                        .map_or_else(String::new, |ns| duration(ns as f64))
                };
                let fairness = summary
                    .consumer_fairness
                    .or(summary.producer_fairness)
                    .map_or_else(String::new, |f| format!("{:.2}", f.median));
                let spread = if t.median > 0.0 {
                    (t.max - t.min) / 2.0 / t.median * 100.0
                } else {
                    0.0
                };
                row.extend([
                    rate(t.median),
                    format!("±{spread:.0}%"),
                    duration(summary.cpu_ns_per_item.median),
                    latency("p50"),
                    latency("p99"),
                    latency("p99.9"),
                    fairness,
                ]);
            }
            (status, _) => {
                row.push(status_word(status).into());
                row.extend(std::iter::repeat_n(String::new(), 6));
            }
        }
        table.rows.push(row);
    }
    table
}

/// Go next to every Rust implementation on each workload the Go reference
/// measured: throughput (and as a multiple of Go's), p99 and CPU per item.
/// Empty when no `go-chan` cell was measured.
pub fn go_reference(results: &Results) -> Table {
    let mut table = Table::new(&[
        "scenario",
        "workload",
        "implementation",
        "items/s",
        "x Go",
        "p99",
        "CPU/item",
    ]);
    for go in measured(results).filter(|c| c.cell.implementation == GO_REFERENCE) {
        let go_rate = go.median_throughput();
        let mut rows: Vec<&CellResult> = measured(results)
            .filter(|c| {
                c.scenario == go.scenario
                    && c.cell.workload.key_label() == go.cell.workload.key_label()
            })
            .collect();
        rows.sort_by(|a, b| b.median_throughput().total_cmp(&a.median_throughput()));
        for cell in rows {
            let Some(summary) = &cell.summary else {
                continue;
            };
            let p99 = summary
                .percentile_ns("p99")
                .map_or_else(String::new, |ns| duration(ns as f64));
            table.rows.push(vec![
                cell.scenario.clone(),
                cell.cell.workload.label(),
                cell.cell.implementation_label(),
                rate(summary.throughput.median),
                if go_rate > 0.0 {
                    format!("{:.2}", summary.throughput.median / go_rate)
                } else {
                    String::new()
                },
                p99,
                duration(summary.cpu_ns_per_item.median),
            ]);
        }
    }
    table
}

/// Cells that failed, hung or crashed, with what happened.
pub fn failures(results: &Results) -> Table {
    let mut table = Table::new(&["cell", "status", "what happened"]);
    for cell in results.cells.iter().filter(|c| c.status.is_failure()) {
        let what = match &cell.status {
            Status::Failed { reason } => reason.clone(),
            Status::Hung { after_secs, during } => {
                format!("killed after {after_secs:.0}s during {during}")
            }
            Status::Crashed { exit, stderr_tail } => format!("{exit}: {stderr_tail}"),
            _ => String::new(),
        };
        table.rows.push(vec![
            cell.id.clone(),
            status_word(&cell.status).into(),
            what,
        ]);
    }
    table
}

/// Where and how a run was made, so a reader can reproduce it.
pub fn provenance(source: &Source) -> Table {
    let results = &source.results;
    let machine = &results.machine;
    let mut table = Table::new(&["", ""]);
    let libraries: Vec<String> = results
        .chanlab
        .libraries
        .iter()
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    let settings = &results.settings;
    let rows = [
        ("machine", source.machine.clone()),
        (
            "CPU",
            format!(
                "{} ({} cores, {})",
                machine.cpu_model, machine.cores, machine.arch
            ),
        ),
        ("OS", format!("{}, kernel {}", machine.os, machine.kernel)),
        (
            "chanlab",
            format!(
                "{} at commit {}",
                results.chanlab.version, results.chanlab.git_commit
            ),
        ),
        ("compiler", results.chanlab.rustc.clone()),
        (
            "Go",
            machine.go.as_ref().map_or_else(
                || "not used".into(),
                |go| format!("{}, GOMAXPROCS={}", go.version, go.gomaxprocs),
            ),
        ),
        ("libraries", libraries.join(", ")),
        ("command", results.command.clone()),
        (
            "settings",
            format!(
                "profile {}, {} repetitions of about {} ms each, open loop at {:.0}% of the slowest saturation, {} background threads",
                settings.profile,
                settings.repetitions,
                settings.budget_ms,
                settings.open_loop_fraction * 100.0,
                settings.background_threads
            ),
        ),
        (
            "ran",
            format!(
                "{} to {}",
                results.started_at,
                results
                    .finished_at
                    .as_deref()
                    .unwrap_or("(interrupted: partial results)")
            ),
        ),
        ("results file", source.path.display().to_string()),
    ];
    table.rows = rows
        .into_iter()
        .map(|(name, value)| vec![name.to_owned(), value])
        .collect();
    table
}

/// A status in one word.
pub fn status_word(status: &Status) -> &'static str {
    match status {
        Status::Failed { .. } => "FAILED",
        Status::Hung { .. } => "HUNG",
        Status::Crashed { .. } => "CRASHED",
        Status::Measured => "no repetition",
        Status::Pending => "pending",
        Status::NotApplicable { .. } => "n/a",
    }
}
