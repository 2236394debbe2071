//! The charts of one run: latency percentiles, latency against offered
//! load, scaling curves, and closed loop against open loop. Throughput
//! bars, which merge several runs, are drawn in `mod.rs`.

use std::collections::{BTreeMap, BTreeSet};

use chanlab_workload::{LoadSpec, Measure};

use super::charts::{self, Bar, Bars, Lines, XAxis};
use super::{Figure, FigureKind, Source, measured};
use crate::caveat::{self, Caveat};
use crate::format::{duration, rate};
use crate::metric::{Metric, percentile};
use crate::schema::{self, CellResult, Group, Offered, Spread, Workload};
use crate::{ReportError, Result};

/// One chart per load timed for latency: a percentile curve per
/// implementation.
pub(super) fn latency(source: &Source, suffix: &str) -> Result<Vec<Figure>> {
    let colors = colors(source);
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
                (cell.group(), p99),
                caveat::labelled(cell, source.results.machine.cores),
                percentile_curve(&histogram),
            ));
        }
        // By class, then the best p99 (the cell's, as the tables show it)
        // first: never an order across classes.
        lines.sort_by(|a, b| a.0.0.cmp(&b.0.0).then(a.0.1.total_cmp(&b.0.1)));
        let lines = lines
            .into_iter()
            .map(|(_, name, curve)| (name, curve))
            .collect();
        figures.push(Figure {
            kind: FigureKind::Latency,
            id: String::new(),
            title: format!("{scenario} [{label}]{suffix}"),
            svg: charts::lines_svg(&Lines {
                colors: colors.clone(),
                whiskers: Vec::new(),
                x_axis: XAxis::Nines,
                y_axis: "latency, every repetition pooled (log scale)".into(),
                lines,
                format: |v| duration(v),
            })?,
        });
    }
    Ok(figures)
}

/// The colour of each implementation of `source`, the same in each chart.
fn colors(source: &Source) -> charts::Colors {
    charts::Colors::of(
        source
            .results
            .cells
            .iter()
            .map(|cell| cell.cell.implementation.as_str()),
    )
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
    let colors = colors(source);
    // Family title and axis -> its curves of (x, throughput).
    let mut families: BTreeMap<(String, String), Curves> = BTreeMap::new();
    let cores = source.results.machine.cores;
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
                .add(cell, cores, x as f64, summary.throughput);
        }
    }
    let mut figures = Vec::new();
    for ((title, axis), curves) in families {
        // Best at the largest count first, within each class.
        let (lines, whiskers) = curves.lines(|points| -points.last().map_or(0.0, |p| p.1));
        if lines.is_empty() {
            continue;
        }
        figures.push(Figure {
            kind: FigureKind::Scaling,
            id: String::new(),
            title: format!("{title}{suffix}"),
            svg: charts::lines_svg(&Lines {
                colors: colors.clone(),
                whiskers,
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
/// the rate achieved (the median over the repetitions: a load that could
/// not keep up sits left of what was offered, and is marked), a line per
/// implementation with two or more points.
pub(super) fn offered_load(source: &Source, suffix: &str) -> Result<Vec<Figure>> {
    let colors = colors(source);
    // Load without its measure -> its curves of (achieved rate, p99).
    let mut loads: BTreeMap<String, Curves> = BTreeMap::new();
    let cores = source.results.machine.cores;
    for cell in measured(&source.results) {
        let Workload::Load { spec, .. } = &cell.cell.workload else {
            continue;
        };
        if !matches!(spec.measure, Measure::OpenLoop { .. }) {
            continue;
        }
        let (Some(p99), Some(summary)) = (percentile(cell, "p99"), &cell.summary) else {
            continue;
        };
        loads.entry(load_title(cell, spec)).or_default().add(
            cell,
            cores,
            summary.throughput.median,
            p99,
        );
    }
    let mut figures = Vec::new();
    for (load, curves) in loads {
        // The highest rate reached first, within each class.
        let (lines, whiskers) = curves.lines(|points| -points.last().map_or(0.0, |p| p.0));
        if lines.is_empty() {
            continue;
        }
        figures.push(Figure {
            kind: FigureKind::OfferedLoad,
            id: String::new(),
            title: format!("{load}{suffix}: p99 against the load achieved"),
            svg: charts::lines_svg(&Lines {
                colors: colors.clone(),
                whiskers,
                x_axis: XAxis::Rate("achieved messages per second (log scale)".into()),
                y_axis: "p99 latency (log scale)".into(),
                lines,
                format: |v| duration(v),
            })?,
        });
    }
    Ok(figures)
}

/// A named line of `(x, median)` points.
type Line = (String, Vec<(f64, f64)>);
/// `(x, low, high)`: the repetitions' range at a point.
type Whisker = (f64, f64, f64);

/// The lines of one chart: a curve per implementation, keyed by its class
/// group first, each with the kinds of caveat any of its points carries.
#[derive(Default)]
struct Curves(BTreeMap<(Group, String), Curve>);

#[derive(Default)]
struct Curve {
    /// `(x, the spread over the repetitions)`.
    points: Vec<(f64, Spread)>,
    /// The kinds of caveat its points carry.
    caveats: BTreeSet<&'static str>,
}

impl Curves {
    /// Adds `cell`'s point to its implementation's curve: the median of
    /// `spread` at `x`, its range a whisker.
    fn add(&mut self, cell: &CellResult, cores: usize, x: f64, spread: Spread) {
        let curve = self
            .0
            .entry((cell.group(), cell.cell.implementation_label()))
            .or_default();
        curve.points.push((x, spread));
        curve
            .caveats
            .extend(caveat::caveats(cell, cores).into_iter().map(Caveat::kind));
    }

    /// The curves with two or more points, each sorted along the
    /// horizontal axis and named with its caveats, by class group and
    /// within one by `order` (lowest first); and their whiskers.
    fn lines(self, order: impl Fn(&[(f64, f64)]) -> f64) -> (Vec<Line>, Vec<Vec<Whisker>>) {
        let mut lines: Vec<_> = self
            .0
            .into_iter()
            .filter(|(_, curve)| curve.points.len() >= 2)
            .map(|((group, name), mut curve)| {
                curve.points.sort_by(|a, b| a.0.total_cmp(&b.0));
                let caveats: Vec<&str> = curve.caveats.into_iter().collect();
                let name = if caveats.is_empty() {
                    name
                } else {
                    caveat::marked(name, &[format!("some points {}", caveats.join(", "))])
                };
                let medians: Vec<(f64, f64)> =
                    curve.points.iter().map(|(x, s)| (*x, s.median)).collect();
                let whiskers: Vec<Whisker> = curve
                    .points
                    .iter()
                    .map(|(x, s)| (*x, s.min, s.max))
                    .collect();
                (group, (name, medians), whiskers)
            })
            .collect();
        lines.sort_by(|a, b| a.0.cmp(&b.0).then(order(&a.1.1).total_cmp(&order(&b.1.1))));
        lines
            .into_iter()
            .map(|(_, line, whiskers)| (line, whiskers))
            .unzip()
    }
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
    // Load without its measure -> (class group, implementation) ->
    // [closed, open].
    type Sides = BTreeMap<(Group, String), [Option<Bar>; 2]>;
    let mut loads: BTreeMap<String, Sides> = BTreeMap::new();
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
            .entry((cell.group(), cell.cell.implementation_label()))
            .or_default()[side] = Some(Bar::from(p99));
    }
    let mut figures = Vec::new();
    for (load, implementations) in loads {
        let mut rows: Vec<_> = implementations
            .into_iter()
            .filter(|(_, sides)| sides.iter().all(Option::is_some))
            .collect();
        if rows.is_empty() {
            continue;
        }
        // The best open-loop p99 first within each class group.
        let open = |bars: &[Option<Bar>; 2]| bars[1].map_or(f64::INFINITY, |b| b.median);
        rows.sort_by(|a, b| a.0.0.cmp(&b.0.0).then(open(&a.1).total_cmp(&open(&b.1))));
        let rows: Vec<(String, Vec<Option<Bar>>)> = rows
            .into_iter()
            .map(|((_, name), sides)| (name, sides.to_vec()))
            .collect();
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
