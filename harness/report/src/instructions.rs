//! The instruction-count gate: the deterministic tier beside the timed
//! one. valgrind counts the same instructions on every run of one binary,
//! so a count needs no interval: a change beyond the threshold is a change
//! of the code. `chanlab ab --baseline-build` compares each flavor's paths
//! on the two builds of one run, `chanlab compare` two runs' counts.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::schema::{BASELINE_SUFFIX, InstructionCount, Instructions, Results};
use crate::table::Table;

/// The default threshold: a path that runs 1% more instructions
/// regressed. Counts of one binary agree exactly, so the threshold is the
/// smallest change worth a failure, not a noise margin.
pub const THRESHOLD: f64 = 0.01;

/// What one path's count did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// More instructions than the threshold allows.
    Regressed,
    /// Fewer, by more than the threshold.
    Improved,
    /// Within the threshold either way.
    WithinThreshold,
}

/// One path of one implementation, baseline against current.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// The implementation.
    pub implementation: String,
    /// The path, as its label.
    pub operation: String,
    /// Instructions per operation before.
    pub baseline: f64,
    /// Instructions per operation now.
    pub current: f64,
    /// What it amounts to.
    pub outcome: Outcome,
}

/// The instruction gate's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct InstructionGate {
    /// The threshold judged by.
    pub threshold: f64,
    /// Every path counted on both sides.
    pub changes: Vec<Change>,
    /// Why nothing was compared, when nothing was: a side counted nothing.
    pub not_compared: Option<String>,
}

impl InstructionGate {
    /// Judges the counts of two builds in one run: each implementation's
    /// against its [`BASELINE_SUFFIX`] twin's.
    pub fn of_builds(results: &Results, threshold: f64) -> InstructionGate {
        let Some(counts) = counted(results.instructions.as_ref()) else {
            return not_compared(threshold, results.instructions.as_ref(), "this run");
        };
        let (baseline, current): (Vec<&InstructionCount>, Vec<&InstructionCount>) = counts
            .iter()
            .partition(|count| count.implementation.ends_with(BASELINE_SUFFIX));
        let before = by_path(baseline, |name| name.strip_suffix(BASELINE_SUFFIX));
        let now = by_path(current, |name| Some(name));
        judge(&before, &now, threshold)
    }

    /// Judges `current`'s counts against `baseline`'s, path by path.
    pub fn of_runs(baseline: &Results, current: &Results, threshold: f64) -> InstructionGate {
        let (Some(before), Some(now)) = (
            counted(baseline.instructions.as_ref()),
            counted(current.instructions.as_ref()),
        ) else {
            let (which, side) = if counted(baseline.instructions.as_ref()).is_none() {
                (baseline.instructions.as_ref(), "the baseline")
            } else {
                (current.instructions.as_ref(), "the current run")
            };
            return not_compared(threshold, which, side);
        };
        judge(
            &by_path(before.iter().collect(), |name| Some(name)),
            &by_path(now.iter().collect(), |name| Some(name)),
            threshold,
        )
    }

    /// Whether no path regressed. Counting nothing does not fail the gate
    /// (valgrind may be absent); the summary says so.
    pub fn passed(&self) -> bool {
        self.count(Outcome::Regressed) == 0
    }

    /// Changes with `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.changes.iter().filter(|c| c.outcome == outcome).count()
    }

    /// The changes as a table, the largest change first.
    pub fn table(&self) -> Table {
        let mut table = Table::new(&[
            "implementation",
            "operation",
            "baseline instr/op",
            "current instr/op",
            "change",
            "verdict",
        ]);
        let mut changes: Vec<&Change> = self.changes.iter().collect();
        changes.sort_by(|a, b| (b.current / b.baseline).total_cmp(&(a.current / a.baseline)));
        for change in changes {
            table.rows.push(vec![
                change.implementation.clone(),
                change.operation.clone(),
                format!("{:.1}", change.baseline),
                format!("{:.1}", change.current),
                format!("{:+.2}%", (change.current / change.baseline - 1.0) * 100.0),
                match change.outcome {
                    Outcome::Regressed => "REGRESSED",
                    Outcome::Improved => "improved",
                    Outcome::WithinThreshold => "within threshold",
                }
                .to_owned(),
            ]);
        }
        table
    }

    /// The verdict in a line or two.
    pub fn summary(&self) -> String {
        match &self.not_compared {
            Some(why) => format!("instructions per operation: not compared ({why}).\n"),
            None => format!(
                "instructions per operation ({} paths, threshold {:.1}%, exact counts): {} \
                 regressed, {} improved, {} within threshold.\ninstruction gate: {}\n",
                self.changes.len(),
                self.threshold * 100.0,
                self.count(Outcome::Regressed),
                self.count(Outcome::Improved),
                self.count(Outcome::WithinThreshold),
                if self.passed() { "passed" } else { "FAILED" }
            ),
        }
    }
}

/// A run's counts, when it counted.
fn counted(instructions: Option<&Instructions>) -> Option<&[InstructionCount]> {
    match instructions? {
        Instructions::Counted { counts, .. } => Some(counts),
        Instructions::NotCounted { .. } => None,
    }
}

/// The gate of a side that counted nothing, and why.
fn not_compared(
    threshold: f64,
    instructions: Option<&Instructions>,
    side: &str,
) -> InstructionGate {
    let why = match instructions {
        Some(Instructions::NotCounted { reason }) => format!("{side} counted none: {reason}"),
        _ => format!("{side} has no instruction counts"),
    };
    InstructionGate {
        threshold,
        changes: Vec::new(),
        not_compared: Some(why),
    }
}

/// Counted paths by (implementation renamed by `name`, operation label).
fn by_path(
    counts: Vec<&InstructionCount>,
    name: impl Fn(&str) -> Option<&str>,
) -> BTreeMap<(String, String), f64> {
    counts
        .into_iter()
        .filter_map(|count| {
            Some((
                (
                    name(&count.implementation)?.to_owned(),
                    count.operation.label(),
                ),
                count.per_operation?,
            ))
        })
        .collect()
}

/// Judges every path both sides counted.
fn judge(
    before: &BTreeMap<(String, String), f64>,
    now: &BTreeMap<(String, String), f64>,
    threshold: f64,
) -> InstructionGate {
    let changes = now
        .iter()
        .filter_map(|(path, &current)| {
            let baseline = *before.get(path)?;
            let outcome = if current > baseline * (1.0 + threshold) {
                Outcome::Regressed
            } else if current < baseline * (1.0 - threshold) {
                Outcome::Improved
            } else {
                Outcome::WithinThreshold
            };
            Some(Change {
                implementation: path.0.clone(),
                operation: path.1.clone(),
                baseline,
                current,
                outcome,
            })
        })
        .collect::<Vec<_>>();
    InstructionGate {
        threshold,
        not_compared: changes
            .is_empty()
            .then(|| "no path was counted on both sides".to_owned()),
        changes,
    }
}

#[cfg(test)]
mod tests {
    use chanlab_workload::Operation;

    use super::*;
    use crate::schema::tests::results_with;

    fn counts(pairs: &[(&str, f64)]) -> Instructions {
        Instructions::Counted {
            tool: "valgrind".into(),
            repeat: 1000,
            counts: pairs
                .iter()
                .map(|&(implementation, per_operation)| InstructionCount {
                    implementation: implementation.into(),
                    operation: Operation::TryRecvEmpty,
                    per_operation: Some(per_operation),
                    refused: None,
                })
                .collect(),
        }
    }

    #[test]
    fn a_two_percent_rise_fails_and_the_same_count_passes() {
        let mut results = results_with(Vec::new());
        results.instructions = Some(counts(&[
            ("crossbeam@baseline", 100.0),
            ("crossbeam", 102.0),
        ]));
        let gate = InstructionGate::of_builds(&results, THRESHOLD);
        assert!(!gate.passed());
        assert_eq!(gate.count(Outcome::Regressed), 1);
        results.instructions = Some(counts(&[
            ("crossbeam@baseline", 100.0),
            ("crossbeam", 100.0),
        ]));
        assert!(InstructionGate::of_builds(&results, THRESHOLD).passed());
    }

    #[test]
    fn runs_are_compared_path_by_path_and_a_side_without_counts_is_said() {
        let mut baseline = results_with(Vec::new());
        let mut current = results_with(Vec::new());
        baseline.instructions = Some(counts(&[("kanal", 50.0)]));
        current.instructions = Some(counts(&[("kanal", 45.0)]));
        let gate = InstructionGate::of_runs(&baseline, &current, THRESHOLD);
        assert_eq!(gate.count(Outcome::Improved), 1);
        current.instructions = Some(Instructions::NotCounted {
            reason: "valgrind is not installed".into(),
        });
        let gate = InstructionGate::of_runs(&baseline, &current, THRESHOLD);
        assert!(gate.passed());
        assert!(
            gate.summary().contains("valgrind is not installed"),
            "{}",
            gate.summary()
        );
    }
}
