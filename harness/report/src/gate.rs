//! The A/B regression gate over two builds measured in one run (`chanlab ab
//! --baseline-build`): every cell ran on the baseline build (its
//! implementation named with [`BASELINE_SUFFIX`]) and on the candidate,
//! interleaved round by round, so each round gives a pair measured on the
//! same machine within moments of each other.
//!
//! Per cell and metric the gate takes the ratios candidate / baseline of
//! the pairs and, on their logarithms, the Hodges-Lehmann estimate of the
//! change and its interval from the Wilcoxon signed-rank distribution, at
//! confidence `1 - alpha / m` for `m` comparisons (Bonferroni), so the
//! chance of any false alarm over the whole run stays under `alpha` when
//! nothing changed. The signed-rank interval needs the log-ratios to be
//! symmetric about their centre, which two builds that differ in nothing
//! give by construction: which build runs first alternates, so each pair
//! is as likely one way as the other. Measured here, it caught a planted
//! 10% slowdown that the sign test's interval (no assumption at all)
//! missed in some runs, with no false alarm in either. A cell regressed when that whole interval lies beyond
//! the threshold on the worse side: the slowdown is both real and larger
//! than the threshold. A cell measured on the baseline and not on the
//! candidate (gone, or now not applicable) fails the gate unless allowed;
//! a failure on the candidate always does.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::compare::{paired_ratios, status_reason};
use crate::instructions::{self, InstructionGate};
use crate::metric::Metric;
use crate::ruling::Ruling;
use crate::schema::{CellResult, Results, Status};
use crate::stats::{self, Interval};
use crate::table::Table;

pub use crate::schema::BASELINE_SUFFIX;

/// How the gate judges.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GateOptions {
    /// The change for the worse the gate tolerates, as a fraction (0.05 is
    /// 5% fewer items per second or a 5% higher p99).
    pub threshold: f64,
    /// The chance of a false alarm over the whole run, when nothing
    /// changed.
    pub alpha: f64,
    /// Whether a cell the candidate no longer measures passes.
    pub allow_missing: bool,
    /// The instruction gate's threshold, as a fraction.
    pub instruction_threshold: f64,
}

impl Default for GateOptions {
    fn default() -> GateOptions {
        GateOptions {
            threshold: 0.05,
            alpha: 0.05,
            allow_missing: false,
            instruction_threshold: instructions::THRESHOLD,
        }
    }
}

/// What one metric of one cell did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The whole interval is beyond the threshold on the worse side.
    Regressed,
    /// The whole interval is beyond the threshold on the better side.
    Improved,
    /// The whole interval lies within the threshold either way.
    WithinThreshold,
    /// The interval reaches past the threshold without lying wholly
    /// beyond it: neither a regression nor its absence is shown.
    CantTell,
    /// Too few pairs for an interval at the corrected confidence.
    TooFewPairs,
}

impl Outcome {
    /// How it reads in a table.
    pub fn describe(self) -> &'static str {
        match self {
            Outcome::Regressed => "REGRESSED",
            Outcome::Improved => "improved",
            Outcome::WithinThreshold => "within threshold",
            Outcome::CantTell => "can't tell",
            Outcome::TooFewPairs => "too few pairs",
        }
    }
}

/// One metric of one cell, baseline against candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// The cell: workload, runtime and implementation.
    pub cell: String,
    /// The metric's name.
    pub metric: &'static str,
    /// Candidate / baseline, one per round both measured.
    pub ratios: Vec<f64>,
    /// The change as a ratio: the Hodges-Lehmann estimate over the
    /// log-ratios.
    pub estimate: f64,
    /// Its interval at the corrected confidence.
    pub interval: Option<Interval>,
    /// What it amounts to.
    pub outcome: Outcome,
}

/// The gate's verdict on a run of two builds.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    /// How it judged.
    pub options: GateOptions,
    /// The confidence of each interval: `1 - alpha / comparisons`.
    pub confidence: f64,
    /// The pairs a decision needs at that confidence.
    pub pairs_needed: usize,
    /// Every metric of every cell both builds measured.
    pub decisions: Vec<Decision>,
    /// Cells that failed, hung or crashed on the candidate, with why.
    pub failures: Vec<(String, String)>,
    /// Cells the baseline measured and the candidate did not, with why.
    pub missing: Vec<(String, String)>,
    /// Cells only the candidate measured (new, or the baseline could not
    /// run them), with the baseline's reason.
    pub not_compared: Vec<(String, String)>,
    /// Whether the run was interrupted: a partial run never passes.
    pub incomplete: bool,
    /// The deterministic tier: instructions per operation on each build.
    pub instructions: InstructionGate,
}

impl Gate {
    /// Whether the gate passes: [`Gate::ruling`] is a pass. A gate that
    /// could not decide does not pass: it would let any regression
    /// through.
    pub fn passed(&self) -> bool {
        self.ruling() == Ruling::Pass
    }

    /// What the gate rules: it fails on an interrupted run, a failure on
    /// the candidate, a regression, or a cell lost unless allowed; short of
    /// that it cannot tell when nothing was compared or a comparison is
    /// undecided (too few pairs, or an interval past the threshold's
    /// edge); else it passes.
    pub fn ruling(&self) -> Ruling {
        Ruling::of(
            self.incomplete
                || !self.failures.is_empty()
                || (!self.options.allow_missing && !self.missing.is_empty())
                || self.count(Outcome::Regressed) > 0
                || !self.instructions.passed(),
            self.decisions.is_empty()
                || self.count(Outcome::TooFewPairs) > 0
                || self.count(Outcome::CantTell) > 0,
        )
    }

    /// Decisions with `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.decisions
            .iter()
            .filter(|d| d.outcome == outcome)
            .count()
    }

    /// The decisions as a table.
    pub fn table(&self) -> Table {
        let mut table = Table::new(&[
            "cell",
            "metric",
            "candidate/baseline (estimate)",
            "interval",
            "pairs",
            "verdict",
        ]);
        for decision in &self.decisions {
            table.rows.push(vec![
                decision.cell.clone(),
                decision.metric.to_owned(),
                format!("{:.3}", decision.estimate),
                decision
                    .interval
                    .map_or_else(String::new, |i| format!("[{:.3}, {:.3}]", i.low, i.high)),
                decision.ratios.len().to_string(),
                decision.outcome.describe().to_owned(),
            ]);
        }
        table
    }

    /// The verdict and everything that decides it, in lines.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} comparisons, each interval at {:.2}% (alpha {} over all, Bonferroni; {} pairs \
             needed); threshold {:.0}%: {} regressed, {} improved, {} within threshold, {} can't \
             tell, {} with too few pairs.\n",
            self.decisions.len(),
            self.confidence * 100.0,
            self.options.alpha,
            self.pairs_needed,
            self.options.threshold * 100.0,
            self.count(Outcome::Regressed),
            self.count(Outcome::Improved),
            self.count(Outcome::WithinThreshold),
            self.count(Outcome::CantTell),
            self.count(Outcome::TooFewPairs),
        );
        let mut list = |title: &str, rows: &[(String, String)]| {
            if !rows.is_empty() {
                out.push_str(&format!("{title}:\n"));
                for (cell, why) in rows {
                    out.push_str(&format!("  {cell}: {why}\n"));
                }
            }
        };
        list("FAILED on the candidate", &self.failures);
        let missing_title = if self.options.allow_missing {
            "measured on the baseline only (allowed)"
        } else {
            "MISSING: measured on the baseline, not on the candidate (--allow-missing passes them)"
        };
        list(missing_title, &self.missing);
        list(
            "not compared: measured on the candidate only",
            &self.not_compared,
        );
        if self.incomplete {
            out.push_str("INCOMPLETE: the run was interrupted, so it cannot pass.\n");
        }
        if self.decisions.is_empty() {
            out.push_str("NOTHING COMPARED: no cell was measured on both builds.\n");
        }
        if self.count(Outcome::TooFewPairs) > 0 {
            out.push_str(&format!(
                "CAN'T TELL: too few pairs: run with --repetitions {} or more (or fewer cells), \
                 or the gate cannot tell a regression from noise.\n",
                self.pairs_needed
            ));
        }
        let undecided: Vec<String> = self
            .decisions
            .iter()
            .filter(|d| d.outcome == Outcome::CantTell)
            .map(|d| format!("{} {}", d.cell, d.metric))
            .collect();
        if !undecided.is_empty() {
            out.push_str(&format!(
                "CAN'T TELL: {} intervals reach past the {:.0}% threshold: {}\n",
                undecided.len(),
                self.options.threshold * 100.0,
                undecided.join(", ")
            ));
        }
        out.push_str(&self.instructions.summary());
        out.push_str(&format!("gate: {}\n", self.ruling().describe()));
        out
    }

    /// The table and the summary in Markdown, for a CI job summary.
    pub fn markdown(&self) -> String {
        format!(
            "{}\n{}\n```\n{}```\n",
            self.table().markdown(),
            self.instructions.table().markdown(),
            self.summary()
        )
    }
}

/// Judges a run of two builds: `results` holds every cell twice, as the
/// candidate's and as the baseline's ([`BASELINE_SUFFIX`]).
pub fn judge(results: &Results, options: GateOptions) -> Gate {
    let key = |cell: &CellResult, implementation: &str| {
        let mut cell = cell.cell.clone();
        cell.implementation = implementation.to_owned();
        cell.key()
    };
    let mut baseline = BTreeMap::new();
    let mut candidate = BTreeMap::new();
    for cell in &results.cells {
        match cell.cell.implementation.strip_suffix(BASELINE_SUFFIX) {
            Some(name) => baseline.insert(key(cell, name), cell),
            None => candidate.insert(key(cell, &cell.cell.implementation), cell),
        };
    }
    let mut failures = Vec::new();
    let mut missing = Vec::new();
    let mut not_compared = Vec::new();
    let mut pending = Vec::new();
    for (name, now) in &candidate {
        if now.status.is_failure() {
            failures.push((name.clone(), status_reason(&now.status)));
        }
        let before = baseline.get(name);
        match (before.map(|b| &b.status), &now.status) {
            (Some(Status::Measured), Status::Measured) => {}
            (Some(Status::Measured), status) if !status.is_failure() => {
                missing.push((name.clone(), format!("now {}", status_reason(status))));
                continue;
            }
            (Some(status), Status::Measured) => {
                not_compared.push((name.clone(), format!("baseline {}", status_reason(status))));
                continue;
            }
            (None, Status::Measured) => {
                not_compared.push((name.clone(), "no baseline cell".to_owned()));
                continue;
            }
            _ => continue,
        }
        let Some(before) = before else { continue };
        for metric in Metric::ALL {
            // A ratio of zero has no logarithm.
            let ratios: Vec<f64> = paired_ratios(before, now, metric)
                .into_iter()
                .filter(|ratio| *ratio > 0.0)
                .collect();
            if !ratios.is_empty() {
                pending.push((name.clone(), metric, ratios));
            }
        }
    }
    for name in baseline
        .keys()
        .filter(|name| !candidate.contains_key(*name))
    {
        missing.push((name.clone(), "gone from the candidate's plan".to_owned()));
    }
    let comparisons = pending.len().max(1);
    let confidence = 1.0 - options.alpha / comparisons as f64;
    let decisions = pending
        .into_iter()
        .map(|(cell, metric, ratios)| {
            let logs: Vec<f64> = ratios.iter().map(|ratio| ratio.ln()).collect();
            let (estimate, interval) =
                stats::signed_rank_interval(&logs, confidence).unwrap_or((f64::NAN, None));
            let estimate = estimate.exp();
            let interval = interval.map(|i| Interval {
                low: i.low.exp(),
                high: i.high.exp(),
            });
            let outcome = match interval {
                None => Outcome::TooFewPairs,
                Some(i) => {
                    // The interval's ends, oriented so that below 1 is
                    // worse.
                    let (low, high) = if metric.higher_is_better() {
                        (i.low, i.high)
                    } else {
                        (1.0 / i.high, 1.0 / i.low)
                    };
                    let threshold = options.threshold;
                    if high < 1.0 - threshold {
                        Outcome::Regressed
                    } else if low > 1.0 + threshold {
                        Outcome::Improved
                    } else if low >= 1.0 - threshold && high <= 1.0 + threshold {
                        Outcome::WithinThreshold
                    } else {
                        Outcome::CantTell
                    }
                }
            };
            Decision {
                cell,
                metric: metric.name(),
                ratios,
                estimate,
                interval,
                outcome,
            }
        })
        .collect();
    Gate {
        options,
        confidence,
        pairs_needed: stats::pairs_for_signed_rank_interval(confidence),
        decisions,
        failures,
        missing,
        not_compared,
        incomplete: results.finished_at.is_none(),
        instructions: InstructionGate::of_builds(results, options.instruction_threshold),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::{cell_with, results_with};

    /// A run of two builds: each implementation's cell on the candidate
    /// with `candidate` throughputs and on the baseline with `baseline`.
    fn two_builds(baseline: &[f64], candidate: &[f64]) -> Results {
        results_with(vec![
            cell_with(&format!("crossbeam{BASELINE_SUFFIX}"), baseline),
            cell_with("crossbeam", candidate),
        ])
    }

    fn steady(n: usize, level: f64) -> Vec<f64> {
        (0..n)
            .map(|i| level * (1.0 + 0.01 * ((i * 7 % 5) as f64 - 2.0)))
            .collect()
    }

    #[test]
    fn the_same_build_passes_and_a_ten_percent_slowdown_fails() {
        let same = judge(
            &two_builds(&steady(12, 100.0), &steady(12, 100.0)),
            GateOptions::default(),
        );
        assert!(same.passed(), "{}", same.summary());
        let slow = judge(
            &two_builds(&steady(12, 100.0), &steady(12, 90.0)),
            GateOptions::default(),
        );
        assert!(!slow.passed(), "{}", slow.summary());
        assert_eq!(slow.decisions[0].outcome, Outcome::Regressed);
        // The same 10% is within a 15% threshold.
        let lenient = GateOptions {
            threshold: 0.15,
            ..GateOptions::default()
        };
        assert!(judge(&two_builds(&steady(12, 100.0), &steady(12, 90.0)), lenient).passed());
    }

    #[test]
    fn too_few_pairs_decide_nothing_and_say_how_many_are_needed() {
        let gate = judge(
            &two_builds(&steady(4, 100.0), &steady(4, 50.0)),
            GateOptions::default(),
        );
        assert_eq!(gate.decisions[0].outcome, Outcome::TooFewPairs);
        assert!(gate.pairs_needed > 4);
        // Undecided is not a pass: it would let any regression through.
        assert_eq!(gate.ruling(), Ruling::CantTell);
        assert_eq!(gate.ruling().exit_status(), 3);
        assert!(
            gate.summary()
                .contains(&format!("--repetitions {}", gate.pairs_needed))
        );
    }

    #[test]
    fn an_interval_past_the_threshold_edge_cannot_tell() {
        // Pairs that swing from 0.6 to 1.6: the change may be a regression
        // beyond 5% or none, and the gate says it cannot tell.
        let candidate: Vec<f64> = (0..12)
            .map(|i| 100.0 * [0.6, 1.6, 0.9, 1.3, 0.7, 1.1][i % 6])
            .collect();
        let gate = judge(
            &two_builds(&steady(12, 100.0), &candidate),
            GateOptions::default(),
        );
        let throughput = &gate.decisions[0];
        assert_eq!(throughput.outcome, Outcome::CantTell, "{}", gate.summary());
        assert_eq!(gate.ruling(), Ruling::CantTell);
        assert!(gate.summary().contains("CAN'T TELL"), "{}", gate.summary());
        assert!(gate.summary().contains("gate: CAN'T TELL"));
    }

    #[test]
    fn a_cell_the_candidate_lost_fails_unless_allowed() {
        let mut results = two_builds(&steady(12, 100.0), &steady(12, 100.0));
        results.cells.extend([
            cell_with(&format!("flume{BASELINE_SUFFIX}"), &steady(12, 100.0)),
            cell_with("flume", &[]),
        ]);
        results.cells[3].status = Status::NotApplicable {
            reason: "capacity 0 is not supported".into(),
            kind: "capability".into(),
        };
        let gate = judge(&results, GateOptions::default());
        assert!(!gate.passed(), "{}", gate.summary());
        assert_eq!(gate.missing.len(), 1);
        let allowed = GateOptions {
            allow_missing: true,
            ..GateOptions::default()
        };
        assert!(judge(&results, allowed).passed());
    }

    #[test]
    fn a_failure_on_the_candidate_fails_and_one_on_the_baseline_is_listed() {
        let mut results = two_builds(&steady(12, 100.0), &steady(12, 100.0));
        results.cells[0].status = Status::Failed {
            reason: "lost 1".into(),
        };
        // The baseline's failure is listed; with nothing else compared,
        // nothing is decided, which does not pass.
        let gate = judge(&results, GateOptions::default());
        assert_eq!(gate.not_compared.len(), 1);
        assert!(!gate.passed(), "{}", gate.summary());
        assert!(gate.summary().contains("NOTHING COMPARED"));
        results.cells[0].status = Status::Measured;
        results.cells[1].status = Status::Failed {
            reason: "lost 1".into(),
        };
        assert!(!judge(&results, GateOptions::default()).passed());
    }
}
