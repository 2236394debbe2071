//! The charts of one run: latency percentiles, latency against offered
//! load, scaling curves, and closed loop against open loop. Throughput
//! bars, which merge several runs, are drawn in `mod.rs`.

use std::collections::BTreeMap;

use chanlab_workload::{LoadSpec, Measure};

use super::charts::{self, Bar, Bars, Lines, XAxis};
use super::{Figure, FigureKind, Source, measured};
use crate::format::{duration, rate};
use crate::metric::{Metric, percentile};
use crate::schema::{self, CellResult, Offered, Spread, Workload};
use crate::{ReportError, Result};

/// One chart per load timed for latency: a percentile curve per
/// implementation.
pub(super) fn latency(source: &Source, suffix: &str) -> Result<Vec<Figure>> {
    let mut workloads: BTreeMap<(String, String), Vec<&CellResult>> = BTreeMap::new();
    for cell in measured(&source.results) {
        if cell
            .summary
            .as_ref()
            .is_some_and(|s| s.pooled_histogram_v2.is_some())
        {
            // Cells at their own offered loads share a chart, not a rate.
            let workload = match &cell.cell.workload {
                own @ Workload::Load {
                    offered: Some(Offered::OwnSaturation { .. }),
                    ..
                } => own.key_label(),
                other => other.label(),
            };
            workloads
                .entry((cell.scenario.clone(), workload))
                .or_default()
                .push(cell);
        }
    }
    let mut figures = Vec::new();
    for ((scenario, label), cells) in workloads {
        let mut lines = Vec::new();
        for cell in cells {
            let Some(pooled) = cell
                .summary
                .as_ref()
                .and_then(|s| s.pooled_histogram_v2.as_ref())
            else {
                continue;
            };
            let histogram = schema::decode(pooled).map_err(|err| match err {
                ReportError::Histogram { what, detail } => ReportError::Histogram {
                    what: format!("{what} of {}", cell.id),
                    detail,
                },
                other => other,
            })?;
            let p99 = percentile(cell, "p99").map_or(f64::INFINITY, |p99| p99.median);
            lines.push((
                p99,
                cell.cell.implementation_label(),
                percentile_curve(&histogram),
            ));
        }
        // The best p99 (the cell's, as the tables show it) first.
        lines.sort_by(|a, b| a.0.total_cmp(&b.0));
        let lines = lines
            .into_iter()
            .map(|(_, name, curve)| (name, curve))
            .collect();
        figures.push(Figure {
            kind: FigureKind::Latency,
            id: String::new(),
            title: format!("{scenario} [{label}]{suffix}"),
            svg: charts::lines_svg(&Lines {
                x_axis: XAxis::Nines,
                y_axis: "latency, every repetition pooled (log scale)".into(),
                lines,
                format: |v| duration(v),
            })?,
        });
    }
    Ok(figures)
}

/// `(nines, value)` from p50 to the maximum, in steps of a twentieth of a
/// nine, ending at the recorded maximum.
fn percentile_curve(histogram: &hdrhistogram::Histogram<u64>) -> Vec<(f64, f64)> {
    let count = histogram.len().max(1) as f64;
    // Beyond 1 - 1/count the quantiles are all the maximum.
    let last = count.log10().max(charts::NINES_START);
    let mut points = Vec::new();
    let mut x = charts::NINES_START;
    while x < last {
        let quantile = 1.0 - 10f64.powf(-x);
        points.push((x, histogram.value_at_quantile(quantile) as f64));
        x += 0.05;
    }
    points.push((last, histogram.max() as f64));
    points
}

/// Scaling curves: throughput over producers (loads with as many
/// consumers as producers, and loads with one consumer) and over workers
/// (patterns), for every family with two or more points.
pub(super) fn scaling(source: &Source, suffix: &str) -> Result<Vec<Figure>> {
    // Family title and axis -> implementation -> (x, throughput).
    type Curves = BTreeMap<String, Vec<(f64, f64)>>;
    let mut families: BTreeMap<(String, String), Curves> = BTreeMap::new();
    for cell in measured(&source.results) {
        let Some(summary) = &cell.summary else {
            continue;
        };
        let family = match &cell.cell.workload {
            Workload::Load { spec, .. } if spec.measure == Measure::Throughput => {
                let shape = if spec.producers == spec.consumers {
                    "as many consumers as producers"
                } else if spec.consumers == 1 {
                    "one consumer"
                } else {
                    continue;
                };
                let capacity = spec.capacity.label();
                let title = format!(
                    "channel load, {shape}, cap={capacity}, {}B",
                    spec.message_bytes
                );
                let mut points = vec![(title, spec.producers)];
                // One producer and one consumer starts both families.
                if spec.producers == 1 && spec.consumers == 1 {
                    points.push((
                        format!(
                            "channel load, one consumer, cap={capacity}, {}B",
                            spec.message_bytes
                        ),
                        1,
                    ));
                }
                points
                    .into_iter()
                    .map(|(title, x)| ((title, "producers".to_owned()), x))
                    .collect()
            }
            Workload::Pattern { pattern, params } => {
                // Every parameter but the workers names the family.
                let others = Workload::Pattern {
                    pattern: *pattern,
                    params: chanlab_workload::Params {
                        workers: 0,
                        items: 0,
                        ..params.clone()
                    },
                };
                let title = format!(
                    "{} [{}]",
                    pattern.name(),
                    others.key_label().replace(" 0w", "")
                );
                vec![((title, "workers".to_owned()), params.workers)]
            }
            Workload::Load { .. } => continue,
        };
        for (key, x) in family {
            families
                .entry(key)
                .or_default()
                .entry(cell.cell.implementation_label())
                .or_default()
                .push((x as f64, summary.throughput.median));
        }
    }
    let mut figures = Vec::new();
    for ((title, axis), curves) in families {
        let mut lines = lines_of(curves);
        if lines.is_empty() {
            continue;
        }
        // Best at the largest count first.
        let last = |points: &[(f64, f64)]| points.last().map_or(0.0, |p| p.1);
        lines.sort_by(|a, b| last(&b.1).total_cmp(&last(&a.1)));
        figures.push(Figure {
            kind: FigureKind::Scaling,
            id: String::new(),
            title: format!("{title}{suffix}"),
            svg: charts::lines_svg(&Lines {
                x_axis: XAxis::Count(axis),
                y_axis: "items per second (log scale)".into(),
                lines,
                format: |v| rate(v),
            })?,
        });
    }
    Ok(figures)
}

/// For each load measured in open loop at two or more rates, p99 against
/// the offered rate, a line per implementation with two or more points.
pub(super) fn offered_load(source: &Source, suffix: &str) -> Result<Vec<Figure>> {
    // Load without its measure -> implementation -> (rate, p99).
    let mut loads: BTreeMap<String, BTreeMap<String, Vec<(f64, f64)>>> = BTreeMap::new();
    for cell in measured(&source.results) {
        let Workload::Load { spec, .. } = &cell.cell.workload else {
            continue;
        };
        let Measure::OpenLoop { rate } = spec.measure else {
            continue;
        };
        let Some(p99) = percentile(cell, "p99") else {
            continue;
        };
        loads
            .entry(load_title(cell, spec))
            .or_default()
            .entry(cell.cell.implementation_label())
            .or_default()
            .push((rate, p99.median));
    }
    let mut figures = Vec::new();
    for (load, curves) in loads {
        let mut lines = lines_of(curves);
        if lines.is_empty() {
            continue;
        }
        // The highest rate reached first.
        let reach = |points: &[(f64, f64)]| points.last().map_or(0.0, |p| p.0);
        lines.sort_by(|a, b| reach(&b.1).total_cmp(&reach(&a.1)));
        figures.push(Figure {
            kind: FigureKind::OfferedLoad,
            id: String::new(),
            title: format!("{load}{suffix}: p99 against offered load"),
            svg: charts::lines_svg(&Lines {
                x_axis: XAxis::Rate("offered messages per second (log scale)".into()),
                y_axis: "p99 latency (log scale)".into(),
                lines,
                format: |v| duration(v),
            })?,
        });
    }
    Ok(figures)
}

/// The lines of `curves` (implementation -> points) with two or more
/// points, each sorted along the horizontal axis.
fn lines_of(curves: BTreeMap<String, Vec<(f64, f64)>>) -> Vec<(String, Vec<(f64, f64)>)> {
    curves
        .into_iter()
        .filter(|(_, points)| points.len() >= 2)
        .map(|(name, mut points)| {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            (name, points)
        })
        .collect()
}

/// A load's scenario and shape, without its measure: `load/spsc [1p 1c
/// cap=64 16B]`.
fn load_title(cell: &CellResult, spec: &LoadSpec) -> String {
    format!(
        "{} [{}p {}c cap={} {}B]",
        cell.scenario,
        spec.producers,
        spec.consumers,
        spec.capacity.label(),
        spec.message_bytes
    )
}

/// For each load measured in both closed loop and open loop at the common
/// rate, p99 of each side per implementation.
pub(super) fn closed_against_open(source: &Source, suffix: &str) -> Result<Vec<Figure>> {
    // Load without its measure -> implementation -> [closed, open].
    let mut loads: BTreeMap<String, BTreeMap<String, [Option<Bar>; 2]>> = BTreeMap::new();
    for cell in measured(&source.results) {
        let Workload::Load { spec, offered } = &cell.cell.workload else {
            continue;
        };
        let side = match (spec.measure, offered) {
            (Measure::ClosedLoop, _) => 0,
            (Measure::OpenLoop { .. }, Some(Offered::SlowestSaturation { .. }) | None) => 1,
            _ => continue,
        };
        let Some(p99) = Spread::of(Metric::P99.samples(cell)) else {
            continue;
        };
        let load = load_title(cell, spec);
        loads
            .entry(load)
            .or_default()
            .entry(cell.cell.implementation_label())
            .or_default()[side] = Some(Bar::from(p99));
    }
    let mut figures = Vec::new();
    for (load, implementations) in loads {
        let mut rows: Vec<(String, Vec<Option<Bar>>)> = implementations
            .into_iter()
            .filter(|(_, sides)| sides.iter().all(Option::is_some))
            .map(|(name, sides)| (name, sides.to_vec()))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let open = |bars: &[Option<Bar>]| bars[1].map_or(f64::INFINITY, |b| b.median);
        rows.sort_by(|a, b| open(&a.1).total_cmp(&open(&b.1)));
        figures.push(Figure {
            kind: FigureKind::Loop,
            id: String::new(),
            title: format!("{load}{suffix}: p99, closed loop against open loop"),
            svg: charts::bars_svg(&Bars {
                axis: "p99 latency (log scale)".into(),
                series: vec!["closed loop".into(), "open loop".into()],
                rows,
                format: |v| duration(v),
            })?,
        });
    }
    Ok(figures)
}
