//! `chanlab compare`: per cell, how throughput and p99 latency changed
//! from a baseline run, with a bootstrap confidence interval over the
//! repetitions and a Mann-Whitney U test corrected for the number of
//! comparisons (Holm). The gate fails on a correctness failure, or on a
//! change that is both worse than the threshold and significant. The
//! paired mode compares two implementations measured in one run, pairing
//! repetitions that ran in the same round.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::instructions::{self, InstructionGate};
use crate::metric::{Metric, scheduled_rate};
use crate::ruling::Ruling;
use crate::schema::{CellResult, Repetition, Results, Status};
use crate::stats::{self, Interval};
use crate::table::Table;
use crate::topology;

/// How a comparison judges.
#[derive(Debug, Clone, Serialize)]
pub struct Options {
    /// The largest tolerated change for the worse, as a fraction (0.10 is
    /// 10% fewer items per second, or a 10% higher p99).
    pub max_regression: f64,
    /// The family-wise significance level, over all comparisons.
    pub alpha: f64,
    /// The confidence of the printed intervals.
    pub confidence: f64,
    /// Implementations of the current run to match against another name in
    /// the baseline (`new-name` → `old-name`), to compare a renamed or
    /// substituted implementation.
    pub treat_as: BTreeMap<String, String>,
    /// Whether a cell the baseline measured and the current run did not
    /// (gone, or now not applicable) passes.
    pub allow_missing: bool,
    /// The instruction gate's threshold, as a fraction.
    pub instruction_threshold: f64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_regression: 0.10,
            alpha: 0.05,
            confidence: 0.95,
            treat_as: BTreeMap::new(),
            allow_missing: false,
            instruction_threshold: instructions::THRESHOLD,
        }
    }
}

/// What one metric of one cell did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shift {
    /// Significantly better.
    Improved,
    /// Significantly worse, but within the threshold.
    Worse,
    /// Significantly worse beyond the threshold: fails the gate.
    Regressed,
    /// The repetitions show no change, and the interval rules out one
    /// for the worse beyond the threshold.
    NoSignificantChange,
    /// The repetitions show no change, but the interval reaches beyond
    /// the threshold on the worse side (or there is none): a regression is
    /// not ruled out.
    CantTell,
}

impl Shift {
    /// How the verdict reads in a table.
    pub fn describe(self) -> &'static str {
        match self {
            Shift::Improved => "improved",
            Shift::Worse => "worse, within threshold",
            Shift::Regressed => "REGRESSED",
            Shift::NoSignificantChange => "no significant change",
            Shift::CantTell => "can't tell",
        }
    }
}

/// One metric of one cell, before and after.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// The cell, as [`crate::schema::Cell::key`] names it.
    pub cell: String,
    /// What changed.
    pub metric: Metric,
    /// The baseline's median.
    pub baseline: f64,
    /// The current median.
    pub current: f64,
    /// `current / baseline`.
    pub ratio: f64,
    /// Confidence interval of the ratio.
    pub interval: Option<Interval>,
    /// The Mann-Whitney p-value, before correction.
    pub p: f64,
    /// The p-value after Holm's correction over every change.
    pub p_adjusted: f64,
    /// What it amounts to.
    pub verdict: Shift,
}

/// A comparison of two runs, as `chanlab compare --json` writes it.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// How it was judged.
    pub options: Options,
    /// Every metric of every cell measured in both runs.
    pub changes: Vec<Change>,
    /// Cells that failed, hung or crashed in the current run, with why.
    pub failures: Vec<(String, String)>,
    /// Cells measured in the baseline and not in the current run, with
    /// what became of them: they fail the gate unless allowed.
    pub missing: Vec<(String, String)>,
    /// Cells measured in the current run only.
    pub added: Vec<String>,
    /// Open-loop cells whose offered rate differs from the baseline's by
    /// more than a tenth (each run derives its own): their p99 compares
    /// different loads.
    pub rate_changed: Vec<String>,
    /// When too few repetitions were run for any change to be
    /// significant: the repetitions per side that would be needed.
    pub underpowered: Option<usize>,
    /// Whether the current run was interrupted: a partial run never passes.
    pub incomplete: bool,
    /// Whether the baseline run was interrupted: what it lacks cannot be
    /// judged.
    pub baseline_incomplete: bool,
    /// The deterministic tier: instructions per operation in both runs.
    pub instructions: InstructionGate,
}

impl Comparison {
    /// Whether the gate passes: [`Comparison::ruling`] is a pass.
    pub fn passed(&self) -> bool {
        self.ruling() == Ruling::Pass
    }

    /// What the gate rules. It fails on an interrupted run, a failure, a
    /// regression, or a cell lost unless allowed; short of that it cannot
    /// tell when nothing was compared, the baseline is partial or lacks
    /// cells this run measured, the repetitions are too few for any change
    /// to be significant, or a change's interval reaches past the
    /// threshold; else it passes.
    pub fn ruling(&self) -> Ruling {
        Ruling::of(
            self.incomplete
                || !self.failures.is_empty()
                || (!self.options.allow_missing && !self.missing.is_empty())
                || self.regressions() > 0
                || !self.instructions.passed(),
            !self.cant_tell().is_empty(),
        )
    }

    /// Why the gate cannot tell, one reason per line; empty when it can.
    pub fn cant_tell(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.changes.is_empty() {
            reasons.push("nothing was compared: no cell was measured in both runs".to_owned());
        }
        if self.baseline_incomplete {
            reasons.push("the baseline run was interrupted (no finished_at)".to_owned());
        }
        if !self.added.is_empty() {
            reasons.push(format!(
                "{} cells measured now have no baseline (first: {})",
                self.added.len(),
                self.added[0]
            ));
        }
        if let Some(needed) = self.underpowered {
            reasons.push(format!(
                "too few repetitions for any change to be significant: run both sides with --repetitions {needed} or more, or fewer cells"
            ));
        }
        let undecided: Vec<String> = self
            .changes
            .iter()
            .filter(|change| change.verdict == Shift::CantTell)
            .map(|change| format!("{} {}", change.cell, change.metric.name()))
            .collect();
        if !undecided.is_empty() {
            reasons.push(format!(
                "{} changes whose interval reaches past the threshold: {}",
                undecided.len(),
                undecided.join(", ")
            ));
        }
        reasons
    }

    /// Changes that fail the gate.
    pub fn regressions(&self) -> usize {
        self.count(Shift::Regressed)
    }

    /// Changes with `verdict`.
    pub fn count(&self, verdict: Shift) -> usize {
        self.changes.iter().filter(|c| c.verdict == verdict).count()
    }

    /// The table: one row per cell and metric.
    pub fn table(&self) -> Table {
        let mut table = Table::new(&[
            "cell", "metric", "baseline", "current", "change", "CI", "p (Holm)", "verdict",
        ]);
        let percent = |ratio: f64| format!("{:+.1}%", (ratio - 1.0) * 100.0);
        table.rows = self
            .changes
            .iter()
            .map(|change| {
                vec![
                    change.cell.clone(),
                    change.metric.name().to_owned(),
                    change.metric.format(change.baseline),
                    change.metric.format(change.current),
                    percent(change.ratio),
                    change.interval.map_or_else(String::new, |i| {
                        format!("[{}, {}]", percent(i.low), percent(i.high))
                    }),
                    format!("{:.3}", change.p_adjusted),
                    change.verdict.describe().to_owned(),
                ]
            })
            .collect();
        table
    }

    /// The verdict in words, one line per kind of finding.
    pub fn summary(&self) -> String {
        let mut lines = vec![format!(
            "{} comparisons (threshold {:.0}%, alpha {} after Holm's correction): {} regressed, {} worse within threshold, {} improved, {} no significant change, {} can't tell",
            self.changes.len(),
            self.options.max_regression * 100.0,
            self.options.alpha,
            self.regressions(),
            self.count(Shift::Worse),
            self.count(Shift::Improved),
            self.count(Shift::NoSignificantChange),
            self.count(Shift::CantTell),
        )];
        for reason in self.cant_tell() {
            lines.push(format!("CAN'T TELL: {reason}"));
        }
        if self.incomplete {
            lines.push(
                "FAILED: the current run was interrupted (no finished_at): a partial run cannot pass"
                    .into(),
            );
        }
        for (cell, why) in &self.failures {
            lines.push(format!("FAILED: {cell}: {why}"));
        }
        let (missing_mark, missing_hint) = if self.options.allow_missing {
            ("allowed", "")
        } else {
            ("FAILED", " (--allow-missing passes them)")
        };
        for (cell, why) in &self.missing {
            lines.push(format!(
                "{missing_mark}: {cell} was measured in the baseline and not now: {why}{missing_hint}"
            ));
        }
        if !self.rate_changed.is_empty() {
            lines.push(format!(
                "note: {} open-loop cells ran at a rate more than 10% off the baseline's (first: {}); their p99 compares different offered loads",
                self.rate_changed.len(),
                self.rate_changed[0]
            ));
        }
        lines.push(self.instructions.summary().trim_end().to_owned());
        lines.push(format!("verdict: {}", self.ruling().describe()));
        lines.join("\n") + "\n"
    }
}

/// Compares `current` with `baseline`, cell by cell.
pub fn compare(baseline: &Results, current: &Results, options: &Options) -> Comparison {
    let key_of = |cell: &CellResult, rename: bool| {
        let mut renamed = cell.cell.clone();
        if rename && let Some(old) = options.treat_as.get(&renamed.implementation) {
            renamed.implementation = old.clone();
        }
        renamed.key()
    };
    let before: BTreeMap<String, &CellResult> = baseline
        .cells
        .iter()
        .filter(|c| c.status == Status::Measured)
        .map(|c| (key_of(c, false), c))
        .collect();
    let mut pending = Vec::new();
    let mut failures = Vec::new();
    let mut added = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut rate_changed = Vec::new();
    let mut now_unmeasured = BTreeMap::new();
    for cell in &current.cells {
        let key = key_of(cell, true);
        // A substitute is shown under its own name, with the one it stands for.
        let shown = match options.treat_as.get(&cell.cell.implementation) {
            Some(old) => format!("{} (as {old})", cell.cell.key()),
            None => key.clone(),
        };
        if cell.status.is_failure() {
            failures.push((shown.clone(), status_reason(&cell.status)));
        }
        let Some(old) = before.get(&key) else {
            if cell.status == Status::Measured {
                added.push(shown);
            }
            continue;
        };
        if cell.status != Status::Measured {
            if !cell.status.is_failure() {
                now_unmeasured.insert(key, status_reason(&cell.status));
            }
            continue;
        }
        seen.insert(key.clone());
        if let (Some(before), Some(now)) = (scheduled_rate(old), scheduled_rate(cell))
            && before > 0.0
            && (now / before - 1.0).abs() > 0.1
        {
            rate_changed.push(shown.clone());
        }
        for metric in Metric::ALL {
            let (base, cur) = (metric.samples(old), metric.samples(cell));
            if let (Some(b), Some(c)) = (stats::median(&base), stats::median(&cur))
                && b > 0.0
            {
                pending.push((shown.clone(), metric, base, cur, b, c));
            }
        }
    }
    let missing = before
        .keys()
        .filter(|key| !seen.contains(*key))
        .filter(|key| !failures.iter().any(|(failed, _)| failed == *key))
        .map(|key| {
            let why = now_unmeasured.get(key).map_or_else(
                || "gone from the run".to_owned(),
                |why| format!("now {why}"),
            );
            (key.clone(), why)
        })
        .collect();
    let p_values: Vec<f64> = pending
        .iter()
        .map(|(_, _, base, cur, ..)| stats::mann_whitney(base, cur))
        .collect();
    let adjusted = stats::holm(&p_values);
    let tests = pending.len();
    let underpowered = (tests > 0
        && pending.iter().all(|(_, _, base, cur, ..)| {
            stats::smallest_p(base.len(), cur.len()) * tests as f64 >= options.alpha
        }))
    .then(|| repetitions_needed(tests, options.alpha));
    let changes = pending
        .into_iter()
        .zip(p_values.into_iter().zip(adjusted))
        .map(|((cell, metric, base, cur, b, c), (p, p_adjusted))| {
            let ratio = c / b;
            let worse_by = if metric.higher_is_better() {
                1.0 - ratio
            } else {
                ratio - 1.0
            };
            let interval = stats::ratio_of_medians_interval(&base, &cur, options.confidence);
            // The interval's end on the worse side, as a fraction worse.
            let worst = interval.map(|i| {
                if metric.higher_is_better() {
                    1.0 - i.low
                } else {
                    i.high - 1.0
                }
            });
            let verdict = match (p_adjusted < options.alpha, worse_by) {
                (false, _) if worst.is_some_and(|w| w <= options.max_regression) => {
                    Shift::NoSignificantChange
                }
                (false, _) => Shift::CantTell,
                (true, w) if w > options.max_regression => Shift::Regressed,
                (true, w) if w > 0.0 => Shift::Worse,
                (true, _) => Shift::Improved,
            };
            Change {
                cell,
                metric,
                baseline: b,
                current: c,
                ratio,
                interval,
                p,
                p_adjusted,
                verdict,
            }
        })
        .collect();
    Comparison {
        options: options.clone(),
        changes,
        failures,
        missing,
        added,
        rate_changed,
        underpowered,
        incomplete: current.finished_at.is_none(),
        baseline_incomplete: baseline.finished_at.is_none(),
        instructions: InstructionGate::of_runs(baseline, current, options.instruction_threshold),
    }
}

/// The fewest repetitions per side for which a complete separation can
/// pass Holm's first step over `tests` comparisons.
fn repetitions_needed(tests: usize, alpha: f64) -> usize {
    (2..)
        .find(|&n| stats::smallest_p(n, n) * (tests as f64) < alpha)
        .unwrap_or(usize::MAX)
}

/// A status in one line: why a cell failed or was not measured.
pub(crate) fn status_reason(status: &Status) -> String {
    match status {
        Status::Failed { reason } => format!("failed: {reason}"),
        Status::Hung { after_secs, during } => {
            format!("hung during {during} (killed after {after_secs:.0}s)")
        }
        Status::Crashed { exit, .. } => format!("crashed: {exit}"),
        Status::NotApplicable { reason, .. } => format!("not applicable: {reason}"),
        Status::Pending => "not run".to_owned(),
        Status::Measured => "measured".to_owned(),
    }
}

/// `metric` of `b` over `a`, repetition by repetition: those of one round
/// when both record rounds, else the i-th of each (the runner interleaves
/// by round). Paired first, then read, so a repetition without the metric
/// cannot shift the pairs; pairs whose `a` is not positive are left out,
/// and so are pairs the host ran with its cores placed otherwise
/// ([`topology::same_placement`]).
pub(crate) fn paired_ratios(a: &CellResult, b: &CellResult, metric: Metric) -> Vec<f64> {
    let pairs: Vec<(&Repetition, &Repetition)> = match (by_round(a), by_round(b)) {
        (Some(x), Some(y)) => x
            .iter()
            .filter_map(|(round, rep)| Some((*rep, *y.get(round)?)))
            .collect(),
        _ => a.repetitions.iter().zip(&b.repetitions).collect(),
    };
    pairs
        .into_iter()
        .filter(|(x, y)| topology::same_placement(x, y))
        .filter_map(|(x, y)| Some((metric.value(a, x)?, metric.value(b, y)?)))
        .filter(|(x, _)| *x > 0.0)
        .map(|(x, y)| y / x)
        .collect()
}

/// A cell's repetitions by the round they ran in, when every one says.
fn by_round(cell: &CellResult) -> Option<BTreeMap<usize, &Repetition>> {
    cell.repetitions
        .iter()
        .map(|rep| Some((rep.round?, rep)))
        .collect()
}

/// One workload on which two implementations ran in the same run.
#[derive(Debug, Clone, Serialize)]
pub struct Pair {
    /// The workload and runtime they shared.
    pub workload: String,
    /// What is compared.
    pub metric: Metric,
    /// `B / A` per round: repetitions that ran in the same round are paired.
    pub ratios: Vec<f64>,
    /// The median of the ratios.
    pub median: f64,
    /// Confidence interval of that median.
    pub interval: Option<Interval>,
}

/// Pairs implementation `b` with `a` on every workload both measured in
/// `results`, repetition by repetition (the runner interleaves cells by
/// round, so the i-th repetitions of both ran close together in time).
pub fn paired(results: &Results, a: &str, b: &str, confidence: f64) -> Vec<Pair> {
    let matches = |cell: &CellResult, name: &str| {
        cell.cell.implementation == name || cell.cell.implementation_label() == name
    };
    let workload = |cell: &CellResult| {
        format!(
            "{} [{}]{}",
            cell.scenario,
            cell.cell.workload.label(),
            cell.cell
                .runtime
                .map(|r| format!(" @{}", r.name()))
                .unwrap_or_default()
        )
    };
    let measured = |name: &str| -> BTreeMap<String, &CellResult> {
        results
            .cells
            .iter()
            .filter(|c| c.status == Status::Measured && matches(c, name))
            .map(|c| (workload(c), c))
            .collect()
    };
    let (side_a, side_b) = (measured(a), measured(b));
    let mut pairs = Vec::new();
    for (key, cell_a) in &side_a {
        let Some(cell_b) = side_b.get(key) else {
            continue;
        };
        for metric in Metric::ALL {
            let ratios = paired_ratios(cell_a, cell_b, metric);
            if let Some(median) = stats::median(&ratios) {
                pairs.push(Pair {
                    workload: key.clone(),
                    metric,
                    interval: stats::median_interval(&ratios, confidence),
                    median,
                    ratios,
                });
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests;
