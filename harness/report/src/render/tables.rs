//! The report's tables, shared by the HTML page, the Markdown and the
//! terminal.

use std::collections::BTreeMap;

use crate::fidelity::{Agreement, Fidelity};
use crate::format::{duration, rate};
use crate::metric::{Metric, percentile};
use crate::recommend::{MarkWords, Passing, Recommendation, Recommendations};
use crate::schema::{
    CellResult, Class, GO_REFERENCE, Instructions, Results, Spread, Status, Verdict, Workload,
};
use crate::table::Table;
use chanlab_workload::Measure;

use super::{Source, measured};

/// The answer first: for each ranked job and class, the pick with its
/// lead over the next and the gate's mark, and where the pick fails the
/// gate, the best of those that pass.
pub fn answer(recommendations: &Recommendations) -> Table {
    let mut table = Table::new(&[
        "job",
        "class",
        "pick: lead over the next [95% interval]",
        "best of those that pass the gate",
    ]);
    let same = |name: &str| name.to_owned();
    for row in &recommendations.rows {
        let Some((metric, lead)) = row.pick() else {
            continue;
        };
        let passing = match &row.passing {
            None => String::new(),
            Some(Passing::Ranked(passing)) => passing.brief(metric, &same, MarkWords::Gist),
            Some(Passing::Only(name, median)) => {
                format!("{name} {} (the only one)", metric.format(*median))
            }
            Some(Passing::Nobody) => "none passes".to_owned(),
        };
        table.rows.push(vec![
            format!("{} {}", row.scenario, row.workload),
            class_label(row),
            lead.brief(metric, &same, MarkWords::Gist),
            passing,
        ]);
    }
    table
}

/// A row's class, with its runtime when it has one.
fn class_label(row: &Recommendation) -> String {
    match row.runtime {
        Some(runtime) => format!("{} on {}", row.class.name(), runtime.name()),
        None => row.class.name().to_owned(),
    }
}

/// "Which library for which job": one row per workload and class.
pub fn recommendations(recommendations: &Recommendations) -> Table {
    let mut table = Table::new(&[
        "scenario",
        "workload",
        "class",
        "ranked",
        "best",
        "best p99",
        "reference lines",
    ]);
    for r in &recommendations.rows {
        let (low, high) = r.threads;
        let threads = if low == high {
            format!("{low} threads")
        } else {
            format!("{low}-{high} threads")
        };
        let oversubscribed = match r.oversubscribed {
            0 => String::new(),
            n if n == r.measured => ", all oversubscribed".to_owned(),
            n => format!(", {n} oversubscribed"),
        };
        let main_metric = r
            .main
            .as_ref()
            .map_or(Metric::Throughput, |(metric, _)| *metric);
        table.rows.push(vec![
            r.scenario.clone(),
            r.workload.clone(),
            class_label(r),
            format!("{} ({threads}{oversubscribed})", r.measured),
            match (&r.main, r.not_ranked) {
                (Some((metric, lead)), _) => lead.describe(*metric),
                (None, Some(why)) => format!("not ranked: {why}"),
                (None, None) => "(open loop: the rate is set)".into(),
            },
            r.p99
                .as_ref()
                .map_or_else(|| "not timed".into(), |lead| lead.describe(Metric::P99)),
            r.references
                .iter()
                .map(|(name, value)| format!("{name} {}", main_metric.format(*value)))
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    table
}

/// chanlab's load beside the field's own benchmark, cell by cell.
pub fn fidelity(fidelity: &Fidelity) -> Table {
    let mut table = Table::new(&[
        "implementation",
        "cell",
        "threads",
        "messages",
        "chanlab /msg",
        "suite /msg",
        "ratio (median [min, max])",
        "95% interval",
        "within 10%",
        "suite A/A: 95% interval",
        "why it differs",
    ]);
    for cell in &fidelity.cells {
        let ns =
            |spread: Option<Spread>| spread.map_or_else(|| "-".to_owned(), |s| duration(s.median));
        table.rows.push(vec![
            cell.implementation.clone(),
            cell.cell.clone(),
            format!("{}+{}", cell.producers, cell.consumers),
            cell.items.to_string(),
            ns(cell.chanlab_ns),
            ns(cell.peer_ns),
            cell.ratio.map_or_else(
                || cell.problem.clone().unwrap_or_default(),
                |r| format!("{:.2} [{:.2}, {:.2}]", r.median, r.min, r.max),
            ),
            cell.ratio_interval
                .map_or_else(String::new, |(low, high)| format!("[{low:.2}, {high:.2}]")),
            cell.agreement().map_or("-", Agreement::word).to_owned(),
            cell.peer_again_interval
                .map_or_else(String::new, |(low, high)| {
                    let limit = if cell.machine_limited() {
                        " (machine)"
                    } else {
                        ""
                    };
                    format!("[{low:.2}, {high:.2}]{limit}")
                }),
            match cell.agreement() {
                Some(Agreement::Agrees) | None => String::new(),
                Some(_) => cell.difference.clone().unwrap_or_default(),
            },
        ]);
    }
    table
}

/// Each implementation's conformance verdict, with what it found.
pub fn verdicts(results: &Results) -> Table {
    let mut table = Table::new(&["implementation", "verdict", "findings", "checked"]);
    for (implementation, verdict) in &results.verdicts {
        let (findings, checked) = match verdict {
            Verdict::Pass { checked_at } => (String::new(), checked_at.clone()),
            Verdict::Deviates {
                checked_at,
                findings,
            } => (
                findings
                    .iter()
                    .map(|f| {
                        format!(
                            "{} in {}{}: {}",
                            f.rule,
                            f.check,
                            if f.declared { " (declared)" } else { "" },
                            f.detail
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                checked_at.clone(),
            ),
            Verdict::Unknown { reason } | Verdict::NoSuite { reason } => {
                (reason.clone(), String::new())
            }
        };
        table.rows.push(vec![
            implementation.clone(),
            verdict.short(),
            findings,
            checked,
        ]);
    }
    table
}

/// Every cell that did not run, grouped by why: the kind of refusal, the
/// reason, and the cells.
pub fn not_applicable(results: &Results) -> Table {
    let mut reasons: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for cell in &results.cells {
        if let Status::NotApplicable { reason, kind } = &cell.status {
            reasons
                .entry((kind.clone(), reason.clone()))
                .or_default()
                .push(cell.id.clone());
        }
    }
    let mut table = Table::new(&["kind", "reason", "cells"]);
    for ((kind, reason), cells) in reasons {
        table.rows.push(vec![
            kind,
            reason,
            format!("{}: {}", cells.len(), cells.join(", ")),
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
        (&a.scenario, a.cell.workload.label(), a.group())
            .cmp(&(&b.scenario, b.cell.workload.label(), b.group()))
            .then_with(|| b.median_throughput().total_cmp(&a.median_throughput()))
    });
    let mut table = Table::new(&[
        "scenario",
        "parameters",
        "class",
        "implementation",
        "verdict",
        "items/s (median)",
        "time/item",
        "spread",
        "CPU/item",
        "allocs/item",
        "p50",
        "p99",
        "p99.9",
        "fairness",
    ]);
    for cell in rows {
        let implementation = crate::caveat::labelled(cell, results.machine.cores);
        let verdict = results
            .verdicts
            .get(&cell.cell.implementation)
            .map_or_else(|| "not checked".to_owned(), Verdict::short);
        let mut row = vec![
            cell.scenario.clone(),
            cell.cell.workload.label(),
            cell.group_name(),
            implementation,
            verdict,
        ];
        match (&cell.status, &cell.summary) {
            (Status::Measured, Some(summary)) => {
                let t = summary.throughput;
                let latency = |name: &str| {
                    percentile(cell, name).map_or_else(String::new, |p| duration(p.median))
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
                    if t.median > 0.0 {
                        duration(1e9 / t.median)
                    } else {
                        String::new()
                    },
                    format!("±{spread:.0}%"),
                    duration(summary.cpu_ns_per_item.median),
                    Spread::of(
                        cell.repetitions
                            .iter()
                            .filter_map(|r| r.allocations_per_item),
                    )
                    .map_or_else(String::new, |a| format!("{:.2}", a.median)),
                    latency("p50"),
                    latency("p99"),
                    latency("p99.9"),
                    fairness,
                ]);
            }
            (status, _) => {
                row.push(status_word(status).into());
                row.extend(std::iter::repeat_n(String::new(), 8));
            }
        }
        table.rows.push(row);
    }
    table
}

/// Instructions per operation counted under valgrind: one row per
/// implementation, blocking flavors first, one column per operation path;
/// no rows when nothing was counted.
pub fn instructions(results: &Results) -> Table {
    let counts = results
        .instructions
        .as_ref()
        .map_or(&[][..], Instructions::counts);
    let mut paths: Vec<String> = Vec::new();
    let mut rows: BTreeMap<(bool, &str), BTreeMap<String, String>> = BTreeMap::new();
    for count in counts {
        let path = count.operation.label();
        if !paths.contains(&path) {
            paths.push(path.clone());
        }
        let asynchronous = results
            .cells
            .iter()
            .find(|cell| cell.cell.implementation == count.implementation)
            .is_some_and(|cell| cell.class() != Class::Blocking);
        let value = match (count.per_operation, &count.refused) {
            (Some(per_operation), _) => format!("{per_operation:.0}"),
            (None, Some(_)) => "-".to_owned(),
            (None, None) => String::new(),
        };
        rows.entry((asynchronous, &count.implementation))
            .or_default()
            .insert(path, value);
    }
    let mut header = vec!["implementation"];
    header.extend(paths.iter().map(String::as_str));
    let mut table = Table::new(&header);
    for ((_, implementation), values) in rows {
        let mut row = vec![implementation.to_owned()];
        row.extend(
            paths
                .iter()
                .map(|path| values.get(path).cloned().unwrap_or_default()),
        );
        table.rows.push(row);
    }
    table
}

/// Every idle load measured: the cores the run kept busy while its
/// receivers waited on an empty channel, least first, with the CPU and the
/// voluntary context switches per message.
pub fn waiting(results: &Results) -> Table {
    let mut rows: Vec<(&CellResult, Spread)> = measured(results)
        .filter(|cell| {
            matches!(&cell.cell.workload, Workload::Load { spec, .. } if spec.measure == Measure::Idle)
        })
        .filter_map(|cell| {
            Spread::of(cell.repetitions.iter().map(|r| r.busy_cores())).map(|busy| (cell, busy))
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.0.scenario, a.0.cell.workload.label(), a.0.group())
            .cmp(&(&b.0.scenario, b.0.cell.workload.label(), b.0.group()))
            .then_with(|| a.1.median.total_cmp(&b.1.median))
    });
    let mut table = Table::new(&[
        "scenario",
        "parameters",
        "class",
        "implementation",
        "busy while waiting",
        "CPU/item",
        "voluntary switches/item",
    ]);
    for (cell, busy) in rows {
        let cpu_per_message = cell
            .summary
            .as_ref()
            .map_or(0.0, |summary| summary.cpu_ns_per_item.median);
        let switches_per_message = Spread::of(
            cell.repetitions
                .iter()
                .map(|r| r.cpu.voluntary_switches as f64 / r.items.max(1) as f64),
        )
        .map_or(0.0, |s| s.median);
        table.rows.push(vec![
            cell.scenario.clone(),
            cell.cell.workload.label(),
            cell.group_name(),
            crate::caveat::labelled(cell, results.machine.cores),
            format!(
                "{:.1}% of a core ({:.1}-{:.1}%)",
                busy.median * 100.0,
                busy.min * 100.0,
                busy.max * 100.0
            ),
            duration(cpu_per_message),
            format!("{switches_per_message:.1}"),
        ]);
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
        "class",
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
        rows.sort_by(|a, b| {
            a.group()
                .cmp(&b.group())
                .then_with(|| b.median_throughput().total_cmp(&a.median_throughput()))
        });
        for cell in rows {
            let Some(summary) = &cell.summary else {
                continue;
            };
            let p99 = percentile(cell, "p99").map_or_else(String::new, |p| duration(p.median));
            table.rows.push(vec![
                cell.scenario.clone(),
                cell.cell.workload.label(),
                cell.group_name(),
                crate::caveat::labelled(cell, results.machine.cores),
                rate(summary.throughput.median),
                // A schedule sets an open-loop or idle load's pace.
                if go_rate > 0.0 && crate::metric::scheduled_rate(cell).is_none() {
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
pub fn provenance(source: &Source, page_dir: &std::path::Path) -> Table {
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
                "{} ({} cores, {}); clock {}; SMT {}",
                machine.cpu_model,
                machine.cores,
                machine.arch,
                machine.cpu_mhz.map_or_else(
                    || "not reported".to_owned(),
                    |mhz| format!("{mhz:.0} MHz as the OS reports it (nominal in a VM)")
                ),
                machine.smt.as_deref().unwrap_or("not reported"),
            ),
        ),
        ("steal", steal(results)),
        ("OS", format!("{}, kernel {}", machine.os, machine.kernel)),
        (
            "chanlab",
            format!(
                "{} at commit {}",
                results.chanlab.version, results.chanlab.git_commit
            ),
        ),
        (
            "compiler",
            format!(
                "{}, cargo profile {}",
                results.chanlab.rustc,
                results
                    .chanlab
                    .profile
                    .as_deref()
                    .unwrap_or("not recorded (a file before schema 6)")
            ),
        ),
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
                "profile {}, {} repetitions of about {} ms each, {} background threads",
                settings.profile,
                settings.repetitions,
                settings.budget_ms,
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
        ("results file", shown_path(&source.path, page_dir)),
    ];
    table.rows = rows
        .into_iter()
        .map(|(name, value)| vec![name.to_owned(), value])
        .collect();
    table
}

/// The hypervisor's steal time over the measured runs, as a share of the
/// machine's CPU time over them.
fn steal(results: &crate::schema::Results) -> String {
    let cores = results.machine.cores.max(1) as f64;
    let (mut stolen, mut available, mut recorded, mut all) = (0.0, 0.0, 0, 0);
    for repetition in results.cells.iter().flat_map(|cell| &cell.repetitions) {
        all += 1;
        if let Some(ns) = repetition.disturbance.as_ref().and_then(|d| d.steal_ns) {
            stolen += ns as f64;
            available += repetition.elapsed_ns as f64 * cores;
            recorded += 1;
        }
    }
    if recorded == 0 || available <= 0.0 {
        return "not recorded".to_owned();
    }
    format!(
        "{:.2}% of the machine's CPU time over the measured runs ({recorded} of {all} repetitions recorded it)",
        100.0 * stolen / available
    )
}

/// `path` as a reader of the page in `page_dir` finds it: its file name
/// when it lies beside the page, else as given.
fn shown_path(path: &std::path::Path, page_dir: &std::path::Path) -> String {
    let beside = path.parent().zip(path.file_name()).filter(|(parent, _)| {
        let canonical = |dir: &std::path::Path| std::fs::canonicalize(dir).ok();
        canonical(parent).is_some() && canonical(parent) == canonical(page_dir)
    });
    match beside {
        Some((_, name)) => format!("{}, beside this page", name.to_string_lossy()),
        None => path.display().to_string(),
    }
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
