//! The table printed at the end of a run: one row per cell, grouped by
//! scenario and parameters, fastest first.

use comfy_table::{Cell as TableCell, Color, Table, presets::UTF8_FULL_CONDENSED};

use super::results::{CellResult, Results, Status};

/// The end-of-run table, then the count of cells that could not run.
pub fn table(results: &Results) -> String {
    let mut rows: Vec<&CellResult> = results
        .cells
        .iter()
        .filter(|c| !matches!(c.status, Status::NotApplicable { .. } | Status::Pending))
        .collect();
    rows.sort_by(|a, b| {
        (&a.scenario, a.cell.workload.label())
            .cmp(&(&b.scenario, b.cell.workload.label()))
            .then_with(|| throughput(b).total_cmp(&throughput(a)))
    });
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header([
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
        let implementation = match cell.cell.runtime {
            Some(runtime) => format!("{}@{}", cell.cell.implementation, runtime.name()),
            None => cell.cell.implementation.clone(),
        };
        let mut row = vec![
            TableCell::new(&cell.scenario),
            TableCell::new(cell.cell.workload.label()),
            TableCell::new(implementation),
        ];
        match (&cell.status, &cell.summary) {
            (Status::Measured, Some(summary)) => {
                let t = summary.throughput;
                let latency = |name: &str| {
                    summary
                        .latency
                        .as_ref()
                        .and_then(|l| l.percentiles_ns.get(name))
                        .map_or_else(String::new, |&ns| duration(ns as f64))
                };
                let fairness = summary
                    .consumer_fairness
                    .or(summary.producer_fairness)
                    .map_or_else(String::new, |f| format!("{:.2}", f.median));
                row.extend([
                    TableCell::new(rate(t.median)),
                    TableCell::new(format!("±{:.0}%", spread_percent(t.min, t.max, t.median))),
                    TableCell::new(duration(summary.cpu_ns_per_item.median)),
                    TableCell::new(latency("p50")),
                    TableCell::new(latency("p99")),
                    TableCell::new(latency("p99.9")),
                    TableCell::new(fairness),
                ]);
            }
            (status, _) => row.push(TableCell::new(status_word(status)).fg(Color::Red)),
        }
        table.add_row(row);
    }
    let not_applicable = results
        .cells
        .iter()
        .filter(|c| matches!(c.status, Status::NotApplicable { .. }))
        .count();
    format!(
        "{table}\n{not_applicable} cells not applicable (a capability the implementation lacks; reasons in the results file)\n\
         fairness: the least-served consumer's (or producer's) share over the most-served one's; 1.00 is even\n"
    )
}

fn throughput(cell: &CellResult) -> f64 {
    cell.summary.as_ref().map_or(0.0, |s| s.throughput.median)
}

fn status_word(status: &Status) -> &'static str {
    match status {
        Status::Failed { .. } => "FAILED",
        Status::Hung { .. } => "HUNG",
        Status::Crashed { .. } => "CRASHED",
        Status::Measured => "no repetition",
        Status::Pending => "pending",
        Status::NotApplicable { .. } => "n/a",
    }
}

/// Half the range as a percentage of the median.
fn spread_percent(min: f64, max: f64, median: f64) -> f64 {
    if median > 0.0 {
        (max - min) / 2.0 / median * 100.0
    } else {
        0.0
    }
}

/// `12.3M`, `456k`, `78`.
pub fn rate(per_second: f64) -> String {
    match per_second {
        r if r >= 1e9 => format!("{:.2}G", r / 1e9),
        r if r >= 1e6 => format!("{:.2}M", r / 1e6),
        r if r >= 1e3 => format!("{:.1}k", r / 1e3),
        r => format!("{r:.0}"),
    }
}

/// `85ns`, `1.2µs`, `3.4ms`, `1.1s`.
pub fn duration(ns: f64) -> String {
    match ns {
        n if n >= 1e9 => format!("{:.2}s", n / 1e9),
        n if n >= 1e6 => format!("{:.1}ms", n / 1e6),
        n if n >= 1e3 => format!("{:.1}µs", n / 1e3),
        n => format!("{n:.0}ns"),
    }
}
