//! A report from one or more results files: the figures and tables are
//! built once ([`Report::figures`]), then written as a self-contained HTML
//! page (`index.html`, [`html`]) and GitHub-ready Markdown (`report.md`,
//! [`markdown`]). Several files (a CI matrix, two machines) merge into one
//! report with the machine as a dimension: throughput bars get one bar per
//! machine, and the other charts and tables come once per machine.

pub mod charts;
mod html;
mod markdown;
pub mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{ReportError, Result};

use chanlab_scenarios::load::Measure;

use crate::fidelity::Fidelity;
use crate::format::{duration, rate};
use crate::metric::Metric;
use crate::recommend::{self, Recommendations};
use crate::schema::{self, CellResult, Results, Spread, Status, Workload};
use charts::{Bar, Bars, Lines, XAxis};

/// How the recommendation table decides, in words for the reader.
pub const RECOMMENDATION_RULE: &str = "For each workload, and within each class a user chooses from (blocking calls on threads, async tasks, sync/async bridges), the implementation with the best median over the repetitions, on throughput (a rate limiter: on how close it holds its configured rate; a supervisor is not ranked) and on p99 latency. A lead is clear when the leader beats each other ranked implementation in a one-sided Mann-Whitney U test, with Holm's correction over every comparison on the page at 5%; otherwise the implementations it does not clearly beat are named. The Go reference, chanlab's own channels and primitives are reference lines beside the ranking, never in it. An implementation whose conformance verdict is not a clean pass carries a warning in its row.";

/// What the verdict table shows.
pub const VERDICT_NOTE: &str = "Each implementation's verdict from chanlab's conformance suites (blocking, async and mixed, as they apply), cached per library version and chanlab build: pass, the rules it fails with what the check saw (declared: a deviation the implementation documents), or why there is none. A figure elsewhere in this report is only worth as much as this verdict.";

/// What the failures section says when nothing failed.
pub const NO_FAILURES: &str =
    "Every cell that ran passed its oracle: none failed, hung or crashed.";

/// What the not-applicable section says when every cell ran.
pub const NONE_REFUSED: &str = "Every cell could run on its implementation.";

/// What the recommendations say when no workload ran on two implementations.
pub const NO_RECOMMENDATION: &str = "No workload was measured on two or more implementations, so there is nothing to recommend between.";

/// What the Go reference table shows.
pub const GO_NOTE: &str = "go-chan runs the same workloads on Go's own channels and goroutines (impls/go), with the same sizing, warm-up, oracles and histogram precision. Each workload the Go reference ran, every implementation on it: median items per second, that as a multiple of Go's, p99 latency where timed, and CPU time per item (all threads).";

/// What the recommendations of one run took: the comparisons corrected
/// for, and the repetitions a clear lead would need when it has fewer.
pub fn recommendation_note(recommendations: &Recommendations) -> String {
    let mut note = format!(
        "{} comparisons corrected for together.",
        recommendations.comparisons
    );
    if let Some(needed) = recommendations.repetitions_needed {
        note += &format!(
            " With this run's repetitions no lead can be clear over that many comparisons, even one whose every repetition beats every other's: that takes at least {needed} repetitions per cell (`--repetitions {needed}`)."
        );
    }
    note
}

/// The report's methodology for one run, as (heading, text) paragraphs:
/// what each mode times, how cells are sized, how repetitions interleave,
/// what is excluded, which percentile is which, and the fidelity figures
/// for the machine when there are any.
pub fn methodology(source: &Source, fidelity: Option<&Fidelity>) -> Vec<(String, String)> {
    let results = &source.results;
    let settings = &results.settings;
    let runs: Vec<(f64, &str)> = measured(results)
        .flat_map(|cell| {
            cell.repetitions
                .iter()
                .map(move |r| (r.elapsed_ns as f64, cell.id.as_str()))
        })
        .collect();
    let shortest =
        runs.iter()
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map_or_else(String::new, |(ns, id)| {
                format!(
                    " The shortest measured run here lasted {} ({id}).",
                    duration(*ns)
                )
            });
    let short: Vec<String> = results
        .cells
        .iter()
        .filter_map(|cell| {
            cell.short_of_budget
                .as_ref()
                .map(|why| format!("{} ({why})", cell.id))
        })
        .collect();
    let resized = results.cells.iter().filter(|cell| cell.resized > 0).count();
    let short = if short.is_empty() {
        " Every measured run lasted at least half the budget.".to_owned()
    } else {
        format!(
            " {} cells cannot reach half the budget and are marked: {}.",
            short.len(),
            short.join("; ")
        )
    };
    let mut paragraphs = vec![
        (
            "What is timed".to_owned(),
            "Channel loads: every producer sends a fixed share of the messages, as crossbeam-channel's, kanal's and Go's own benchmarks do, and consumers receive until every sender is gone. On threads the clock starts after every thread is up (a barrier) and stops when all are joined; tasks are spawned with the clock running. Each consumer tallies a message in O(1) (a count and the next sequence number per producer, and a sum of a 64-bit mix of its stamp); the oracle compares the tallies with what was sent after the clock stops. Throughput mode reads no clock per message; closed loop timestamps one message in eight of each producer at send; open loop sends on a fixed schedule and counts latency from each message's due time. Patterns are timed end to end: their threads or tasks start, work, end, and the pattern's oracle checks the run, all inside the clock.".to_owned(),
        ),
        (
            "How cells are sized".to_owned(),
            format!(
                "One rule for every worker, Rust and Go, applied by the parent run: probes (each a warm-up on a tenth, then the run) grow from 64 items by 2 to 16 times until one lasts a quarter of the {} ms budget, then the item count fills the budget at the probe's pace. A measured run under half the budget, or over four times it, re-sizes the cell from that run and is measured again, at most twice per cell ({resized} cells were re-sized here); a cell that cannot reach the budget (its pattern takes no more items, a deadline or an open-loop schedule sets its length, or re-sizing did not get there) is marked.{short}{shortest}",
                settings.budget_ms
            ),
        ),
        (
            "How repetitions interleave".to_owned(),
            format!(
                "{} measured repetitions per cell, each in a fresh worker process after an unmeasured warm-up on a tenth of the items. Round 1 measures every cell once, round 2 starts one cell later, and so on, so drift on a shared machine spreads over every implementation.",
                settings.repetitions
            ),
        ),
        (
            "What is excluded, and what a figure means".to_owned(),
            "Excluded from a load's clock: thread start-up, opening the channel, and the oracle. CPU time is the whole worker process's user and system time over the measured run (thread start-up included, a load's oracle excluded; in the open loop it includes the producers' pacing). Time per item is the inverse of the median throughput. Latency percentiles (p50, p99, p99.9, max) are each repetition's own, from its HdrHistogram (3 significant digits), and a table shows their median over the repetitions: the same p99 in every table and verdict. A cell marked oversubscribed ran more threads than the machine has cores.".to_owned(),
        ),
    ];
    paragraphs.push((
        "Fidelity: chanlab's load against the field's own benchmark".to_owned(),
        match fidelity {
            None => "No fidelity figures accompany this report: `ci/fidelity.sh` measures chanlab's load beside crossbeam-channel's own benchmark suite on the same cells and writes them for the report.".to_owned(),
            Some(fidelity) => {
                let same = fidelity.machine.hostname == results.machine.hostname
                    && fidelity.machine.cpu_model == results.machine.cpu_model;
                format!(
                    "Measured {} on {} ({}{}), chanlab's figure against the suite's for the same cell over {} interleaved pairs of runs of about {} ms: {}. The table below gives each cell's ratio (chanlab's time per message over the suite's) with its spread and 95% interval, and what differs between the two loops where a cell is off.",
                    fidelity.started_at,
                    fidelity.machine.hostname,
                    fidelity.machine.cpu_model,
                    if same { ", the machine of this run" } else { ", not the machine of this run" },
                    fidelity.repetitions,
                    fidelity.budget_ms,
                    fidelity.summary(),
                )
            }
        },
    ));
    paragraphs
}

/// One results file in a report.
pub struct Source {
    /// Where it was read from.
    pub path: PathBuf,
    /// The machine's name in this report: its host name, made unique.
    pub machine: String,
    /// What it holds.
    pub results: Results,
}

/// A report over one or more runs.
pub struct Report {
    /// The title, usually the report's folder name.
    pub title: String,
    /// The runs, in the order given.
    pub sources: Vec<Source>,
    /// The fidelity figures its methodology quotes, if any.
    pub fidelity: Option<Fidelity>,
}

/// What a chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureKind {
    /// Throughput per implementation on one workload.
    Throughput,
    /// Latency percentiles, p50 to max, per implementation.
    Latency,
    /// Throughput as producers or workers grow.
    Scaling,
    /// p99 in closed and open loop side by side.
    Loop,
}

impl FigureKind {
    /// Every kind, in the order the report shows them.
    pub const ALL: [FigureKind; 4] = [
        FigureKind::Throughput,
        FigureKind::Latency,
        FigureKind::Scaling,
        FigureKind::Loop,
    ];

    /// The kind's section heading.
    pub fn heading(self) -> &'static str {
        match self {
            FigureKind::Throughput => "Throughput by scenario",
            FigureKind::Latency => "Latency percentiles",
            FigureKind::Scaling => "Scaling",
            FigureKind::Loop => "Closed loop against open loop",
        }
    }

    /// What the section's charts show and how to read them.
    pub fn explanation(self) -> &'static str {
        match self {
            FigureKind::Throughput => {
                "Items per second, median of the repetitions (bar) with their range (whisker), on a log scale. Longer is better."
            }
            FigureKind::Latency => {
                "Per-message latency from the merged HdrHistograms of all repetitions, from p50 to the maximum (the dot), on a \"nines\" axis: each step right is ten times rarer. Lower is better."
            }
            FigureKind::Scaling => {
                "Median throughput as producers (channel loads) or workers (patterns) grow, on a log scale. Flat is good; a fall means contention."
            }
            FigureKind::Loop => {
                "p99 latency of the same load timed in closed loop (every message waits for room, so the queue's own delay is included) and open loop (messages sent on a fixed schedule below saturation, latency counted from the due time)."
            }
        }
    }

    /// Its name in ids and attributes.
    pub fn slug(self) -> &'static str {
        match self {
            FigureKind::Throughput => "throughput",
            FigureKind::Latency => "latency",
            FigureKind::Scaling => "scaling",
            FigureKind::Loop => "loop",
        }
    }
}

/// One chart, drawn.
pub struct Figure {
    /// What it shows.
    pub kind: FigureKind,
    /// A unique anchor.
    pub id: String,
    /// The title above it.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// The files a report was written to.
pub struct Written {
    /// The self-contained HTML page.
    pub html: PathBuf,
    /// The Markdown tables.
    pub markdown: PathBuf,
}

impl Report {
    /// Reads every results file in `paths`.
    pub fn load(title: &str, paths: &[PathBuf]) -> Result<Report> {
        if paths.is_empty() {
            return Err(ReportError::NoResults);
        }
        let mut sources: Vec<Source> = Vec::new();
        for path in paths {
            let results = Results::load(path)?;
            let host = results.machine.hostname.clone();
            let taken = sources
                .iter()
                .filter(|s| s.results.machine.hostname == host);
            let machine = match taken.count() {
                0 => host,
                n => format!("{host} #{}", n + 1),
            };
            sources.push(Source {
                path: path.clone(),
                machine,
                results,
            });
        }
        Ok(Report {
            title: title.to_owned(),
            sources,
            fidelity: None,
        })
    }

    /// The report with the fidelity figures at `path` in its methodology.
    pub fn with_fidelity(mut self, path: &Path) -> Result<Report> {
        self.fidelity = Some(Fidelity::load(path)?);
        Ok(self)
    }

    /// Whether the report merges several runs.
    pub fn is_merged(&self) -> bool {
        self.sources.len() > 1
    }

    /// The recommendations, per run.
    pub fn recommendations(&self) -> Vec<(&Source, Recommendations)> {
        self.sources
            .iter()
            .map(|source| (source, recommend::recommend(&source.results)))
            .collect()
    }

    /// Every chart, in section order.
    pub fn figures(&self) -> Result<Vec<Figure>> {
        let mut figures = self.throughput_figures()?;
        for source in &self.sources {
            let suffix = if self.is_merged() {
                format!(" on {}", source.machine)
            } else {
                String::new()
            };
            figures.extend(latency_figures(source, &suffix)?);
            figures.extend(scaling_figures(source, &suffix)?);
            figures.extend(loop_figures(source, &suffix)?);
        }
        for (index, figure) in figures.iter_mut().enumerate() {
            figure.id = format!("{}-{index}", figure.kind.slug());
        }
        Ok(figures)
    }

    /// Writes `index.html` and `report.md` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<Written> {
        std::fs::create_dir_all(dir).map_err(ReportError::io("creating", dir))?;
        let figures = self.figures()?;
        let written = Written {
            html: dir.join("index.html"),
            markdown: dir.join("report.md"),
        };
        write_file(&written.html, &html::page(self, &figures))?;
        write_file(&written.markdown, &markdown::document(self, &figures))?;
        Ok(written)
    }

    /// One bar chart per pattern workload and per throughput load, with a
    /// bar per machine.
    fn throughput_figures(&self) -> Result<Vec<Figure>> {
        let mut workloads: BTreeMap<(String, String), Vec<(usize, &CellResult)>> = BTreeMap::new();
        for (index, source) in self.sources.iter().enumerate() {
            for cell in measured(&source.results) {
                let timed_for_latency = matches!(
                    &cell.cell.workload,
                    Workload::Load { spec } if spec.measure != Measure::Throughput
                );
                if !timed_for_latency {
                    workloads
                        .entry((cell.scenario.clone(), cell.cell.workload.key_label()))
                        .or_default()
                        .push((index, cell));
                }
            }
        }
        let machines: Vec<String> = self.sources.iter().map(|s| s.machine.clone()).collect();
        let mut figures = Vec::new();
        for ((scenario, label), cells) in workloads {
            let mut rows: BTreeMap<String, Vec<Option<Bar>>> = BTreeMap::new();
            for (machine, cell) in cells {
                let Some(summary) = &cell.summary else {
                    continue;
                };
                rows.entry(cell.cell.implementation_label())
                    .or_insert_with(|| vec![None; machines.len()])[machine] =
                    Some(Bar::from(summary.throughput));
            }
            let mut rows: Vec<(String, Vec<Option<Bar>>)> = rows.into_iter().collect();
            let best =
                |bars: &[Option<Bar>]| bars.iter().flatten().map(|b| b.median).fold(0.0, f64::max);
            rows.sort_by(|a, b| best(&b.1).total_cmp(&best(&a.1)));
            figures.push(Figure {
                kind: FigureKind::Throughput,
                id: String::new(),
                title: format!("{scenario} [{label}]"),
                svg: charts::bars_svg(&Bars {
                    axis: "items per second (log scale)".into(),
                    series: if self.is_merged() {
                        machines.clone()
                    } else {
                        Vec::new()
                    },
                    rows,
                    format: |v| rate(v),
                })?,
            });
        }
        Ok(figures)
    }
}

/// The measured cells of a run.
pub(super) fn measured(results: &Results) -> impl Iterator<Item = &CellResult> {
    results
        .cells
        .iter()
        .filter(|c| c.status == Status::Measured && c.summary.is_some())
}

/// One chart per load timed for latency: a percentile curve per
/// implementation.
fn latency_figures(source: &Source, suffix: &str) -> Result<Vec<Figure>> {
    let mut workloads: BTreeMap<(String, String), Vec<&CellResult>> = BTreeMap::new();
    for cell in measured(&source.results) {
        if cell.summary.as_ref().is_some_and(|s| s.latency.is_some()) {
            workloads
                .entry((cell.scenario.clone(), cell.cell.workload.label()))
                .or_default()
                .push(cell);
        }
    }
    let mut figures = Vec::new();
    for ((scenario, label), cells) in workloads {
        let mut lines = Vec::new();
        for cell in cells {
            let Some(latency) = cell.summary.as_ref().and_then(|s| s.latency.as_ref()) else {
                continue;
            };
            let histogram = schema::decode(&latency.histogram_v2).map_err(|err| match err {
                ReportError::Histogram { what, detail } => ReportError::Histogram {
                    what: format!("{what} of {}", cell.id),
                    detail,
                },
                other => other,
            })?;
            lines.push((
                cell.cell.implementation_label(),
                percentile_curve(&histogram),
            ));
        }
        // The best p99 first, so the legend reads as a ranking.
        lines.sort_by(|a, b| p99_of(&a.1).total_cmp(&p99_of(&b.1)));
        figures.push(Figure {
            kind: FigureKind::Latency,
            id: String::new(),
            title: format!("{scenario} [{label}]{suffix}"),
            svg: charts::lines_svg(&Lines {
                x_axis: XAxis::Nines,
                y_axis: "latency (log scale)".into(),
                lines,
                format: |v| duration(v),
            })?,
        });
    }
    Ok(figures)
}

/// The value at p99 on a curve from [`percentile_curve`].
fn p99_of(points: &[(f64, f64)]) -> f64 {
    points
        .iter()
        .find(|(x, _)| *x >= 2.0)
        .or(points.last())
        .map_or(f64::INFINITY, |p| p.1)
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
fn scaling_figures(source: &Source, suffix: &str) -> Result<Vec<Figure>> {
    // Family title and axis -> implementation -> (x, throughput).
    type Curves = BTreeMap<String, Vec<(f64, f64)>>;
    let mut families: BTreeMap<(String, String), Curves> = BTreeMap::new();
    for cell in measured(&source.results) {
        let Some(summary) = &cell.summary else {
            continue;
        };
        let family = match &cell.cell.workload {
            Workload::Load { spec } if spec.measure == Measure::Throughput => {
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
                    params: chanlab_scenarios::Params {
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
        let mut lines: Vec<(String, Vec<(f64, f64)>)> = curves
            .into_iter()
            .filter(|(_, points)| points.len() >= 2)
            .map(|(name, mut points)| {
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                (name, points)
            })
            .collect();
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

/// For each load measured in both closed and open loop, p99 of each side
/// per implementation.
fn loop_figures(source: &Source, suffix: &str) -> Result<Vec<Figure>> {
    // Load without its measure -> implementation -> [closed, open].
    let mut loads: BTreeMap<String, BTreeMap<String, [Option<Bar>; 2]>> = BTreeMap::new();
    for cell in measured(&source.results) {
        let Workload::Load { spec } = &cell.cell.workload else {
            continue;
        };
        let side = match spec.measure {
            Measure::ClosedLoop => 0,
            Measure::OpenLoop { .. } => 1,
            Measure::Throughput => continue,
        };
        let Some(p99) = Spread::of(Metric::P99.samples(cell)) else {
            continue;
        };
        let load = format!(
            "{} [{}p {}c cap={} {}B]",
            cell.scenario,
            spec.producers,
            spec.consumers,
            spec.capacity.label(),
            spec.message_bytes
        );
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

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(ReportError::io("writing", path))
}
