//! The charts of one run: latency percentiles, latency against offered
//! load, scaling curves and sweeps over capacity and message size, and
//! closed loop against open loop; a line chart per class group. Throughput
//! bars, which merge several runs, are drawn in `mod.rs`.

use std::collections::{BTreeMap, BTreeSet};

use chanlab_contract::Capacity;
use chanlab_workload::{LoadSpec, Measure, Runtime};

use super::charts::{self, Bar, Bars, Line, Lines, XAxis};
use super::{Figure, FigureKind, Source, measured};
use crate::Result;
use crate::caveat::{self, Caveat};
use crate::format::{duration, rate};
use crate::metric::{Metric, percentile};
use crate::schema::{self, CellResult, Group, Offered, Spread, Workload};

/// One chart per load timed for latency and class group: a curve per
/// implementation through the median of its repetitions' own
/// percentiles, each with the range of the repetitions as a whisker. Of a
/// load offered fractions of each implementation's own saturation, only
/// the heaviest fraction gets one: the others differ from it only in the
/// rate, which the offered-load chart shows.
pub(super) fn latency(source: &Source, suffix: &str) -> Result<Vec<Figure>> {
    let colors = colors(source);
    let cores = source.results.machine.cores;
    let own_fraction = |cell: &CellResult| match &cell.cell.workload {
        Workload::Load {
            spec,
            offered: Some(own @ Offered::OwnSaturation { .. }),
        } => Some((load_title(cell, spec), own.fraction())),
        _ => None,
    };
    let mut heaviest: BTreeMap<String, f64> = BTreeMap::new();
    for (load, fraction) in measured(&source.results).filter_map(own_fraction) {
        let most = heaviest.entry(load).or_insert(fraction);
        *most = most.max(fraction);
    }
    let mut by_chart: BTreeMap<(String, String, Group), Vec<&CellResult>> = BTreeMap::new();
    for cell in measured(&source.results) {
        let lighter = own_fraction(cell).is_some_and(|(load, fraction)| {
            heaviest.get(&load).is_some_and(|most| fraction < *most)
        });
        if percentile(cell, "p99").is_none() || lighter {
            continue;
        }
        // Cells at their own offered loads share a chart, not a rate.
        let workload = match &cell.cell.workload {
            own @ Workload::Load {
                offered: Some(Offered::OwnSaturation { .. }),
                ..
            } => own.key_label(),
            other => other.label(),
        };
        by_chart
            .entry((cell.scenario.clone(), workload, cell.group()))
            .or_default()
            .push(cell);
    }
    let mut figures = Vec::new();
    for ((scenario, label, _), mut cells) in by_chart {
        // The best p99 (the cell's, as the tables show it) first.
        let p99 = |cell: &CellResult| percentile(cell, "p99").map_or(f64::INFINITY, |p| p.median);
        cells.sort_by(|a, b| p99(a).total_cmp(&p99(b)));
        let group = cells[0].group_name();
        let lines = cells
            .into_iter()
            .map(|cell| line(cell, caveat::labelled(cell, cores), &percentile_curve(cell)))
            .collect();
        figures.push(Figure {
            kind: FigureKind::Latency,
            id: String::new(),
            title: format!("{scenario} [{label}], {group}{suffix}"),
            svg: charts::lines_svg(&Lines {
                colors: colors.clone(),
                x_axis: XAxis::Nines,
                y_axis: "latency, median of the repetitions (log scale)".into(),
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

/// `cell`'s line in a chart, through the median of each `(x, spread)`
/// with the spread's range as its whisker: its colour by implementation,
/// dashed on the current-thread runtime.
fn line(cell: &CellResult, name: String, spreads: &[(f64, Spread)]) -> Line {
    Line {
        name,
        implementation: cell.cell.implementation.clone(),
        dashed: cell.cell.runtime == Some(Runtime::CurrentThread),
        points: spreads.iter().map(|(x, s)| (*x, s.median)).collect(),
        whiskers: spreads.iter().map(|(x, s)| (*x, s.min, s.max)).collect(),
    }
}

/// `(nines, spread)` of each percentile the repetitions resolve (p99.99
/// needs ten thousand messages), then of the maximum at the nines of the
/// median message count, when that lies beyond the last percentile.
fn percentile_curve(cell: &CellResult) -> Vec<(f64, Spread)> {
    let counts: Vec<f64> = cell
        .repetitions
        .iter()
        .filter_map(|r| r.latency.as_ref())
        .map(|latency| latency.count as f64)
        .collect();
    let resolved = crate::stats::median(&counts)
        .unwrap_or(1.0)
        .max(1.0)
        .log10();
    let mut spreads: Vec<(f64, Spread)> = schema::PERCENTILES
        .iter()
        .map(|&(name, q)| (-((100.0 - q) / 100.0).log10(), name))
        .filter(|&(nines, _)| nines <= resolved + 1e-6)
        .filter_map(|(nines, name)| Some((nines, percentile(cell, name)?)))
        .collect();
    let last = spreads.last().map_or(0.0, |(nines, _)| *nines);
    if let Some(max) = percentile(cell, "max").filter(|_| resolved > last + 1e-6) {
        spreads.push((resolved, max));
    }
    spreads
}

/// Scaling curves: throughput over producers (loads with as many
/// consumers as producers, and loads with one consumer) and over workers
/// (patterns), for every family with two or more points; a chart per
/// family and class group.
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
        let x_axis = XAxis::Count(axis);
        figures.extend(throughput_charts(curves, &title, suffix, &x_axis, &colors)?);
    }
    Ok(figures)
}

/// A chart per class group of `curves`, throughput over `x_axis`, the
/// best at the axis's end first.
fn throughput_charts(
    curves: Curves,
    title: &str,
    suffix: &str,
    x_axis: &XAxis,
    colors: &charts::Colors,
) -> Result<Vec<Figure>> {
    curves
        .by_group(|points| -points.last().map_or(0.0, |p| p.1))
        .into_iter()
        .map(|(group, lines)| {
            Ok(Figure {
                kind: FigureKind::Scaling,
                id: String::new(),
                title: format!("{title}, {group}{suffix}"),
                svg: charts::lines_svg(&Lines {
                    colors: colors.clone(),
                    x_axis: x_axis.clone(),
                    y_axis: "items per second (log scale)".into(),
                    lines,
                    format: |v| rate(v),
                })?,
            })
        })
        .collect()
}

/// Throughput of each channel load against its capacity, and against its
/// message size, where a run measured three or more of them (the full
/// profile); a chart per load and class group.
pub(super) fn sweeps(source: &Source, suffix: &str) -> Result<Vec<Figure>> {
    let colors = colors(source);
    let cores = source.results.machine.cores;
    // (title, axis name) -> the cells and the steps they ran at.
    let mut sweeps: BTreeMap<(String, &'static str), Sweep> = BTreeMap::new();
    for cell in measured(&source.results) {
        let (Workload::Load { spec, .. }, Some(summary)) = (&cell.cell.workload, &cell.summary)
        else {
            continue;
        };
        if spec.measure != Measure::Throughput {
            continue;
        }
        let shape = format!("{} [{}p {}c", cell.scenario, spec.producers, spec.consumers);
        let capacity = match spec.capacity {
            Capacity::Bounded(n) => n as u64,
            Capacity::Unbounded => u64::MAX,
        };
        let by_capacity = (
            format!("{shape} {}B]", spec.message_bytes),
            "capacity",
            (capacity, spec.capacity.label()),
        );
        let by_size = (
            format!("{shape} cap={}]", spec.capacity.label()),
            "message size",
            (
                spec.message_bytes as u64,
                format!("{}B", spec.message_bytes),
            ),
        );
        for (title, axis, step) in [by_capacity, by_size] {
            sweeps
                .entry((title, axis))
                .or_default()
                .add(cell, step, summary.throughput);
        }
    }
    let mut figures = Vec::new();
    for ((title, axis), sweep) in sweeps {
        if sweep.steps.len() < 3 {
            continue;
        }
        let steps: Vec<String> = sweep.steps.values().cloned().collect();
        let index: BTreeMap<u64, usize> = sweep
            .steps
            .keys()
            .enumerate()
            .map(|(index, key)| (*key, index))
            .collect();
        let mut curves = Curves::default();
        for (cell, step, throughput) in sweep.points {
            curves.add(cell, cores, index[&step] as f64, throughput);
        }
        let x_axis = XAxis::Steps(axis.to_owned(), steps);
        let title = format!("{title} by {axis}");
        figures.extend(throughput_charts(curves, &title, suffix, &x_axis, &colors)?);
    }
    Ok(figures)
}

/// The cells of one sweep, and the steps they were measured at.
#[derive(Default)]
struct Sweep<'a> {
    /// Each step's order key and its label.
    steps: BTreeMap<u64, String>,
    /// Each cell, its step's key and its throughput.
    points: Vec<(&'a CellResult, u64, Spread)>,
}

impl<'a> Sweep<'a> {
    /// Adds `cell`'s throughput at the step `(key, label)`.
    fn add(&mut self, cell: &'a CellResult, (key, label): (u64, String), throughput: Spread) {
        self.steps.insert(key, label);
        self.points.push((cell, key, throughput));
    }
}

/// For each load measured in open loop at two or more rates, p99 against
/// the rate achieved (the median over the repetitions: a load that could
/// not keep up sits left of what was offered, and is marked), a line per
/// implementation with two or more points; a chart per load and class
/// group.
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
        // The highest rate reached first.
        for (group, lines) in curves.by_group(|points| -points.last().map_or(0.0, |p| p.0)) {
            figures.push(Figure {
                kind: FigureKind::OfferedLoad,
                id: String::new(),
                title: format!("{load}, {group}{suffix}: p99 against the load achieved"),
                svg: charts::lines_svg(&Lines {
                    colors: colors.clone(),
                    x_axis: XAxis::Rate("achieved messages per second (log scale)".into()),
                    y_axis: "p99 latency (log scale)".into(),
                    lines,
                    format: |v| duration(v),
                })?,
            });
        }
    }
    Ok(figures)
}

/// The lines of one chart's family: a curve per implementation, keyed by
/// its class group first, each with the kinds of caveat any of its points
/// carries.
#[derive(Default)]
struct Curves<'a>(BTreeMap<(Group, String), Curve<'a>>);

struct Curve<'a> {
    /// A cell of the curve: its group, implementation and runtime are the
    /// curve's.
    cell: &'a CellResult,
    /// `(x, the spread over the repetitions)`.
    points: Vec<(f64, Spread)>,
    /// The kinds of caveat its points carry.
    caveats: BTreeSet<&'static str>,
}

impl<'a> Curves<'a> {
    /// Adds `cell`'s point to its implementation's curve: the median of
    /// `spread` at `x`, its range a whisker.
    fn add(&mut self, cell: &'a CellResult, cores: usize, x: f64, spread: Spread) {
        let curve = self
            .0
            .entry((cell.group(), cell.cell.implementation_label()))
            .or_insert_with(|| Curve {
                cell,
                points: Vec::new(),
                caveats: BTreeSet::new(),
            });
        curve.points.push((x, spread));
        curve
            .caveats
            .extend(caveat::caveats(cell, cores).into_iter().map(Caveat::kind));
    }

    /// Each class group's curves with two or more points, the group in
    /// words: every curve sorted along the horizontal axis and named with
    /// its caveats, the curves by `order` (lowest first). Groups with no
    /// such curve are left out.
    fn by_group(self, order: impl Fn(&[(f64, f64)]) -> f64) -> Vec<(String, Vec<Line>)> {
        let mut groups: BTreeMap<Group, (String, Vec<Line>)> = BTreeMap::new();
        for ((group, name), mut curve) in self.0 {
            if curve.points.len() < 2 {
                continue;
            }
            curve.points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let caveats: Vec<&str> = curve.caveats.into_iter().collect();
            let name = if caveats.is_empty() {
                name
            } else {
                caveat::marked(name, &[format!("some points {}", caveats.join(", "))])
            };
            let entry = groups
                .entry(group)
                .or_insert_with(|| (curve.cell.group_name(), Vec::new()));
            entry.1.push(line(curve.cell, name, &curve.points));
        }
        groups
            .into_values()
            .map(|(group, mut lines)| {
                lines.sort_by(|a, b| order(&a.points).total_cmp(&order(&b.points)));
                (group, lines)
            })
            .collect()
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
    /// Each side's name, as its caveats are marked.
    const SIDES: [&str; 2] = ["closed loop", "open loop"];
    // Load without its measure -> (class group, implementation) ->
    // [closed, open], each side's bar and caveats.
    type Sides = BTreeMap<(Group, String), [Option<(Bar, Vec<String>)>; 2]>;
    let mut loads: BTreeMap<String, Sides> = BTreeMap::new();
    let cores = source.results.machine.cores;
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
        let caveats = caveat::caveats(cell, cores)
            .into_iter()
            .map(|caveat| format!("{} {caveat}", SIDES[side]))
            .collect();
        loads
            .entry(load)
            .or_default()
            .entry((cell.group(), cell.cell.implementation_label()))
            .or_default()[side] = Some((Bar::from(p99), caveats));
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
        let open = |sides: &[Option<(Bar, Vec<String>)>; 2]| {
            sides[1]
                .as_ref()
                .map_or(f64::INFINITY, |(bar, _)| bar.median)
        };
        rows.sort_by(|a, b| a.0.0.cmp(&b.0.0).then(open(&a.1).total_cmp(&open(&b.1))));
        let rows: Vec<(String, Vec<Option<Bar>>)> = rows
            .into_iter()
            .map(|((_, name), sides)| {
                let caveats: Vec<&String> = sides.iter().flatten().flat_map(|(_, c)| c).collect();
                let bars = sides.iter().map(|side| side.as_ref().map(|(bar, _)| *bar));
                (caveat::marked(name, &caveats), bars.collect())
            })
            .collect();
        figures.push(Figure {
            kind: FigureKind::Loop,
            id: String::new(),
            title: format!("{load}{suffix}: p99, closed loop against open loop"),
            svg: charts::bars_svg(&Bars {
                axis: "p99 latency (log scale)".into(),
                series: SIDES.map(str::to_owned).into(),
                rows,
                format: |v| duration(v),
            })?,
        });
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::schema::tests::{load_cell, results_with};
    use crate::topology::Topology;

    fn source(cells: Vec<CellResult>) -> Source {
        let results = results_with(cells);
        Source {
            path: PathBuf::new(),
            machine: "testbox".into(),
            topology: Topology::of(&results),
            results,
        }
    }

    /// An SPSC throughput load at `capacity` on `implementation`, on
    /// `runtime` when it has one.
    fn throughput_at(
        implementation: &str,
        capacity: Capacity,
        runtime: Option<Runtime>,
    ) -> CellResult {
        let mut cell = load_cell(implementation, 1, 1, &[1e6, 1.2e6]);
        if let Workload::Load { spec, .. } = &mut cell.cell.workload {
            spec.capacity = capacity;
            spec.measure = Measure::Throughput;
        }
        cell.cell.runtime = runtime;
        cell.id = cell.cell.id();
        cell
    }

    #[test]
    fn a_percentile_chart_draws_the_figures_the_tables_show() {
        let cell = load_cell("crossbeam", 1, 1, &[1e6, 2e6, 3e6]);
        let Line {
            points, whiskers, ..
        } = line(&cell, String::new(), &percentile_curve(&cell));
        let p99 = percentile(&cell, "p99").expect("timed");
        let at_p99 = |x: f64| (x - 2.0).abs() < 1e-6;
        assert!(
            points.iter().any(|&(x, v)| at_p99(x) && v == p99.median),
            "{points:?}"
        );
        assert!(
            whiskers
                .iter()
                .any(|&(x, low, high)| at_p99(x) && (low, high) == (p99.min, p99.max))
        );
        // A hundred messages a repetition resolve p99, not p99.9, and the
        // maximum is the hundredth: the line ends at p99.
        assert!(points.iter().all(|&(x, _)| x < 2.0 + 1e-6), "{points:?}");
        // Three hundred resolve p99 too, and end at the maximum beyond it.
        let mut cell = cell;
        for repetition in &mut cell.repetitions {
            if let Some(latency) = &mut repetition.latency {
                latency.count = 300;
            }
        }
        let points = line(&cell, String::new(), &percentile_curve(&cell)).points;
        let max = percentile(&cell, "max").expect("timed");
        assert_eq!(points.last(), Some(&(300f64.log10(), max.median)));
    }

    #[test]
    fn each_class_gets_its_own_chart_and_a_sweep_needs_three_steps() {
        let capacities = [
            Capacity::RENDEZVOUS,
            Capacity::Bounded(1),
            Capacity::Bounded(64),
        ];
        let cells: Vec<CellResult> = capacities
            .into_iter()
            .flat_map(|capacity| {
                [
                    throughput_at("crossbeam", capacity, None),
                    throughput_at("tokio-mpsc", capacity, Some(Runtime::MultiThread)),
                ]
            })
            .collect();
        let groups = [cells[0].group_name(), cells[1].group_name()];
        assert_ne!(groups[0], groups[1]);
        let figures = sweeps(&source(cells.clone()), "").expect("draws");
        let titles: Vec<&str> = figures.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(titles.len(), 2, "{titles:?}");
        for (title, group) in titles.iter().zip(&groups) {
            assert!(title.contains("by capacity"), "{title}");
            assert!(title.ends_with(group.as_str()), "{title}");
        }
        let figures = sweeps(&source(cells[..4].to_vec()), "").expect("draws");
        assert!(figures.is_empty(), "two capacities are no sweep");
    }
}
