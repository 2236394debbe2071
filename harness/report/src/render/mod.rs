//! A report from one or more results files: the figures and tables are
//! built once ([`Report::figures`]), then written as a self-contained HTML
//! page (`index.html`, `html.rs`) and GitHub-ready Markdown (`report.md`,
//! `markdown.rs`). Several files (a CI matrix, two machines) merge into one
//! report with the machine as a dimension: throughput bars get one bar per
//! machine, and the other charts and tables come once per machine.

pub mod charts;
mod figures;
mod html;
mod markdown;
pub mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{ReportError, Result};

use chanlab_workload::Measure;

use crate::fidelity::Fidelity;
use crate::format::{duration, rate};
use crate::metric::Metric;
use crate::recommend::{self, Recommendations};
use crate::schema::{CellResult, DISTURBANCE_RULE, PlacementPolicy, Results, Status, Workload};
use crate::stats;
use crate::topology::Topology;
use charts::{Bar, Bars};

/// What the answer table at the top of a report says.
pub const ANSWER_NOTE: &str = "For each job and each class a user chooses within (blocking calls on threads, async tasks, sync/async bridges; each tokio runtime its own question): the fastest median (throughput; an open loop at a common rate: p99 latency), its lead over the next as a ratio with its 95% interval, and whether that lead is clear, tied or can't be told yet after correcting for every decision on the page. A mark in brackets is the conformance gate's finding and what it can do to a program (a declared failure still breaks the spec; the details are under Correctness); where the pick has one, the last column gives the best of those that pass. Jobs whose pace a schedule sets are not ranked; the details, every row and every caveat follow.";

/// How the recommendation table decides, in words for the reader.
pub const RECOMMENDATION_RULE: &str = "For each workload, and within each class a user chooses from (blocking calls on threads, async tasks, sync/async bridges), the implementation with the best median over the repetitions, on throughput (a rate limiter: on how close it holds its configured rate; a supervisor is not ranked) and on p99 latency. Repetitions are compared in pairs, those of one round (measured moments apart, so the machine's drift cancels in their ratio; pairs the host ran with its cores placed otherwise are left out). A row reads clear when the leader beats each other ranked implementation in a one-sided Wilcoxon signed-rank test on the paired log-ratios, with Benjamini and Hochberg's adjustment over every row on the page at 5% (of the leads called clear, at most 5% are expected to be wrong); tied within X% (X at most 5) when the leader/runner-up ratio's interval, at 95% corrected over every row (Bonferroni), lies within X% of 1; can't tell otherwise, with about the repetitions per cell that would decide it. Each figure is a median over repetitions; the margin is the leader/runner-up ratio with its 95% interval. The Go reference, chanlab's own channels and primitives are reference lines beside the ranking, never in it. An implementation whose conformance verdict is not a clean pass carries a warning in its row, with what its failures can do, and every other name in a row carries the gate's mark.";

/// What the verdict table shows.
pub const VERDICT_NOTE: &str = "Each implementation's verdict from chanlab's conformance suites (blocking, async and mixed, as they apply), cached per library version and chanlab build: pass, the rules it fails with what the check saw (declared: a deviation the implementation documents), or why there is none. A figure elsewhere in this report is only worth as much as this verdict.";

/// What the failures section says when nothing failed.
pub const NO_FAILURES: &str =
    "Every cell that ran passed its oracle: none failed, hung or crashed.";

/// What the not-applicable section says when every cell ran.
pub const NONE_REFUSED: &str = "Every cell could run on its implementation.";

/// What the recommendations say when no workload ran on two implementations.
pub const NO_RECOMMENDATION: &str = "No workload was measured on two or more implementations, so there is nothing to recommend between.";

/// What the waiting table shows.
pub const WAITING_NOTE: &str = "Idle loads: each producer sleeps 1 ms before each message, so the receivers spend the run blocked on an empty channel. Busy is the worker process's CPU time over wall time, both taken over the measured run beyond its warm-up so that thread and runtime start-up cancel (median of the repetitions, with their range): a receiver that parks costs a wake-up per message, one that spins keeps a core busy. CPU per message is taken the same way; switches per message over the whole run. It includes each sleeping producer's wake-up, the same for every implementation (a Go producer's is its runtime's timer).";

/// What the waiting section says when no idle load ran.
pub const NO_WAITING: &str = "No idle load was measured.";

/// What the instruction counts are.
pub const INSTRUCTIONS_NOTE: &str = "Instructions per operation, counted by valgrind (callgrind) in one thread with nothing else on the channel: a send then a receive of that value at each capacity (on an async flavor, each a future polled once with a no-op waker), `try_send` on a full channel, `try_recv` on an empty one, each repeated 2,000 times after a warm-up pass over the same path. A count is the same on every run of one binary whatever else the machine does, so it is the figure to gate on where time is too noisy to; it is no figure of contention or of waiting, which only the timed loads show. A dash: the flavor cannot do it alone (an unbounded channel is never full).";

/// Said where nothing was counted.
pub const NO_INSTRUCTIONS: &str = "No instructions were counted (valgrind is not installed, or the run was told to skip them); the results file says which.";

/// What the Go reference table shows.
pub const GO_NOTE: &str = "go-chan runs the same workloads on Go's own channels and goroutines (impls/go), with the same sizing, warm-up, oracles and histogram precision. Each workload the Go reference ran, every implementation on it: median items per second, that as a multiple of Go's, p99 latency where timed, and CPU time per item (all threads).";

/// What the recommendations of one run took: the comparisons corrected
/// for, and the repetitions a clear lead would need when it has fewer.
pub fn recommendation_note(recommendations: &Recommendations) -> String {
    let rows = recommendations.comparisons;
    let mut note = format!(
        "{rows} rows decided together (clear: Benjamini-Hochberg at 5% over the {rows}; tied: each interval at 1 - 5%/{rows})."
    );
    if let Some(needed) = recommendations.repetitions_needed {
        note += &format!(
            " Some cells have only {} repetitions: no lead among them can be clear, even one that wins every round; that takes at least {needed} repetitions per cell (`--repetitions {needed}`).",
            recommendations.fewest_repetitions
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
            "Channel loads: every producer sends a fixed share of the messages, as crossbeam-channel's, kanal's and Go's own benchmarks do, and consumers receive until every sender is gone. On threads the clock starts after every thread is up (a barrier) and stops when all are joined; tasks are spawned with the clock running. Each consumer tallies a message in O(1) (a count and the next sequence number per producer, and a sum of a 64-bit mix of its stamp); the oracle compares the tallies with what was sent after the clock stops. Throughput mode reads no clock per message; closed loop timestamps one message in eight of each producer at send; open loop sends on a fixed schedule and counts latency from each message's due time. A load in open loop runs at a common rate, a fraction of the slowest implementation's saturation on it (half, unless the cell's label says otherwise; the same offered load for all), and at fractions of each implementation's own saturation as sized (the latency-against-load chart; those cells are not ranked, their loads differ). A saturation as sized is the pace of the load's last sizing probe, one run of a quarter of the budget, and can sit a factor of two off the median of the measured runs on a shared machine: the chart and the cell table plot the rate achieved. An idle load sleeps 1 ms before each message, so its receivers wait on an empty channel: its figure is the CPU burnt while waiting. Patterns are timed end to end: their threads or tasks start, work, end, and the pattern's oracle checks the run, all inside the clock.".to_owned(),
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
            "Excluded from a load's clock: thread start-up, opening the channel, and the oracle. CPU time is the whole worker process's user and system time over the measured run less its warm-up's, over the items beyond the warm-up's, so the start-up both runs share (threads, runtime, channel) cancels; a load's oracle is excluded, and in the open loop it includes the producers' pacing. It is the one CPU per item every table shows. Time per item is the inverse of the median throughput. Latency percentiles (p50, p99, p99.9, max) are each repetition's own, from its HdrHistogram (3 significant digits), and every table, chart, verdict, export and the results file's summary (`latency_ns`) show their median over the repetitions: one p99 everywhere. The results file keeps each cell's repetitions' histograms merged at 2 significant digits (`latency_histogram_v2`), to re-cut at other percentiles; no figure here comes from it. Every row and chart label carries its cell's caveats in brackets: oversubscribed (more threads than the machine has cores), short of budget, overloaded (an open-loop cell that achieved under 90% of its offered rate, so its latency is its queue's growth), bimodal and disturbed (both defined under \"Where threads ran\"); a curve names the kinds any of its points carry. Each bar, and each point of every line chart, carries a whisker: the range of its repetitions. Rows, legends and bars are grouped by class (threads, tasks on each runtime, bridges, then the reference lines) and ordered only within a group: the groups are different questions. Allocations per item count every heap allocation in the worker process, all threads (a per-thread counting allocator, whose uncontended atomic add per allocation every run pays alike; Go: `MemStats.Mallocs`): the measured run's count less its warm-up's, over the items it has beyond the warm-up's, so the setup both runs share cancels.".to_owned(),
        ),
    ];
    paragraphs.push(("Where threads ran".to_owned(), placement(source)));
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

/// The methodology's paragraph on placement, disturbance, the host's
/// topology and bimodal cells.
fn placement(source: &Source) -> String {
    let results = &source.results;
    let policy = match results.settings.placement {
        Some(PlacementPolicy::Pinned) => {
            "Each measured thread (a load's producers and consumers, or the runtime's workers) was pinned to a core of its own wherever the cell's threads fit the cores; each repetition records the placement it got, and why the OS placed them where it did not (more threads than cores, a pattern's threads unknown before it runs, goroutines)."
        }
        Some(PlacementPolicy::Os) => {
            "Measured threads ran where the OS put them (`--placement os`)."
        }
        None => "This run records no placement: the OS put every thread where it chose.",
    };
    let remeasured: usize = results.cells.iter().map(|c| c.remeasured.len()).sum();
    let disturbance = format!(
        " Disturbance: {DISTURBANCE_RULE}. A disturbed repetition is measured again once, for at most one repetition in ten of a cell; {remeasured} were here, and each cell's spread with them is kept in the results."
    );
    let topology = if source.topology.regimes.is_empty() {
        " No repetition timed a cross-core round trip.".to_owned()
    } else if source.topology.moved() {
        let apart: usize = results.cells.iter().map(|c| c.other_regimes.len()).sum();
        let only: Vec<&str> = results
            .cells
            .iter()
            .filter(|c| c.only_other_regimes)
            .map(|c| c.id.as_str())
            .collect();
        format!(
            " Before each job a value's round trip between two threads pinned on the first two cores is timed. The host moved the cores during this run: round trips of {}. Figures come from the main regime only; {apart} repetitions of the others are kept apart in the results{}.",
            source.topology.describe(),
            if only.is_empty() {
                String::new()
            } else {
                format!(
                    ", and {} cells ran only outside it (their figures are of the other placement): {}",
                    only.len(),
                    only.join("; ")
                )
            }
        )
    } else {
        format!(
            " Before each job a value's round trip between two threads pinned on the first two cores is timed: {} throughout, so the host kept the cores where they were.",
            source.topology.describe()
        )
    };
    let bimodal: Vec<&str> = measured(results)
        .filter(|cell| stats::bimodal(&Metric::Throughput.samples(cell)))
        .map(|cell| cell.id.as_str())
        .collect();
    let bimodal = format!(
        " A cell is bimodal when its sorted throughputs have a gap between neighbours of at least {}x that is at least half their whole range, with two repetitions on each side: {}.",
        stats::BIMODAL_STEP,
        if bimodal.is_empty() {
            "none here".to_owned()
        } else {
            format!("{} here ({})", bimodal.len(), bimodal.join("; "))
        }
    );
    format!("{policy}{disturbance}{topology}{bimodal}")
}

/// One results file in a report.
pub struct Source {
    /// Where it was read from.
    pub path: PathBuf,
    /// The machine's name in this report: its host name, made unique.
    pub machine: String,
    /// What it holds, each cell's figures drawn from the run's main
    /// topology regime ([`Results::in_main_regime`]).
    pub results: Results,
    /// The host's placement of the cores over the run.
    pub topology: Topology,
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
    /// Throughput as producers or workers grow, or as a channel load's
    /// capacity or message size does.
    Scaling,
    /// p99 in closed and open loop side by side.
    Loop,
    /// p99 against the rate achieved, per implementation.
    OfferedLoad,
}

impl FigureKind {
    /// Every kind, in the order the report shows them.
    pub const ALL: [FigureKind; 5] = [
        FigureKind::Throughput,
        FigureKind::Latency,
        FigureKind::OfferedLoad,
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
            FigureKind::OfferedLoad => "Latency against offered load",
        }
    }

    /// What the section's charts show and how to read them.
    pub fn explanation(self) -> &'static str {
        match self {
            FigureKind::Throughput => {
                "Items per second, median of the repetitions (bar) with their range (whisker), on a log scale. Longer is better."
            }
            FigureKind::Latency => {
                "Per-message latency on a \"nines\" axis (each step right is ten times rarer), a chart per class: each point is the median of the repetitions' own percentile, the one the tables show, with their range as a whisker, from p50 to the maximum (the last point, at the repetitions' median message count; a percentile rarer than one message in that count is left out). Lower is better. Of a load offered fractions of each implementation's own saturation, only the heaviest fraction has a chart here; the latency-against-load charts show the others' p99."
            }
            FigureKind::Scaling => {
                "Median throughput, with the repetitions' range as a whisker, as producers (channel loads) or workers (patterns) grow, and, where a run swept them, as a channel load's capacity or message size grows; on a log scale, a chart per class. Flat is good; a fall as producers grow means contention."
            }
            FigureKind::Loop => {
                "p99 latency of the same load timed in closed loop (every message waits for room, so the queue's own delay is included) and open loop at the common rate (messages sent on a fixed schedule below saturation, latency counted from the due time)."
            }
            FigureKind::OfferedLoad => {
                "p99 latency (median of the repetitions' own, their range as a whisker) of one load in open loop, against the rate it achieved (median of the repetitions), both on log scales, a chart per class: each implementation offered fractions of its own saturation (as sized) and the common rate. A point left of what was offered could not keep up, and is marked overloaded. Where a line turns up, the implementation's tail bends: queueing starts before saturation."
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
            FigureKind::OfferedLoad => "offered-load",
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
            let (results, topology) = Results::load(path)?.in_main_regime();
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
                topology,
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

    /// What the report says first when a run in it was interrupted: its
    /// figures are partial. `None` when every run finished.
    pub fn partial_notice(&self) -> Option<String> {
        let partial: Vec<&str> = self
            .sources
            .iter()
            .filter(|source| source.results.finished_at.is_none())
            .map(|source| source.machine.as_str())
            .collect();
        (!partial.is_empty()).then(|| {
            format!(
                "PARTIAL: the run was interrupted before every cell and repetition was measured \
                 ({}); the figures below are what it measured. `chanlab run --resume DIR` \
                 finishes it.",
                partial.join(", ")
            )
        })
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
                format!(" ({})", source.machine)
            } else {
                String::new()
            };
            figures.extend(figures::latency(source, &suffix)?);
            figures.extend(figures::offered_load(source, &suffix)?);
            figures.extend(figures::scaling(source, &suffix)?);
            figures.extend(figures::sweeps(source, &suffix)?);
            figures.extend(figures::closed_against_open(source, &suffix)?);
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
        write_file(&written.html, &html::page(self, &figures, dir))?;
        write_file(&written.markdown, &markdown::document(self, &figures, dir))?;
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
                    Workload::Load { spec, .. } if spec.measure != Measure::Throughput
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
            // By class group, then implementation; named with the caveats
            // of its first machine's cell.
            let mut rows: BTreeMap<_, (String, Vec<Option<Bar>>)> = BTreeMap::new();
            for (machine, cell) in cells {
                let Some(summary) = &cell.summary else {
                    continue;
                };
                let cores = self.sources[machine].results.machine.cores;
                rows.entry((cell.group(), cell.cell.implementation_label()))
                    .or_insert_with(|| {
                        (
                            crate::caveat::labelled(cell, cores),
                            vec![None; machines.len()],
                        )
                    })
                    .1[machine] = Some(Bar::from(summary.throughput));
            }
            let best =
                |bars: &[Option<Bar>]| bars.iter().flatten().map(|b| b.median).fold(0.0, f64::max);
            let mut rows: Vec<_> = rows.into_iter().collect();
            // The best first within each class group, never across them.
            rows.sort_by(|a, b| {
                a.0.0
                    .cmp(&b.0.0)
                    .then(best(&b.1.1).total_cmp(&best(&a.1.1)))
            });
            let rows: Vec<(String, Vec<Option<Bar>>)> =
                rows.into_iter().map(|(_, row)| row).collect();
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

fn write_file(path: &Path, text: &str) -> Result<()> {
    crate::schema::write_atomically(path, text.as_bytes())
}
