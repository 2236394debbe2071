//! "Which library for which job": for each workload, the implementation
//! with the best median throughput and the best median p99, and whether
//! the lead is clear given the spread of repetitions.
//!
//! A lead is **clear** when the leader's worst repetition beats every other
//! implementation's best one: no range overlaps the leader's. Otherwise
//! every implementation whose range overlaps the leader's is named, and the
//! verdict is "no clear winner".

use std::collections::BTreeMap;

use crate::metric::Metric;
use crate::schema::{CellResult, Results, Status};
use crate::stats;

/// Contenders named in a verdict before "and N more".
const MAX_NAMED: usize = 3;

/// The leader on one metric of one workload.
#[derive(Debug, Clone)]
pub struct Lead {
    /// The leading implementation (with its runtime, if any).
    pub leader: String,
    /// Its median.
    pub median: f64,
    /// Whether no other implementation's range overlaps the leader's.
    pub clear: bool,
    /// When the lead is not clear: the implementations whose range
    /// overlaps the leader's, best median first.
    pub contenders: Vec<String>,
    /// The next best implementation and its median.
    pub runner_up: Option<(String, f64)>,
}

impl Lead {
    /// The verdict in a few words: `crossbeam 12.6M/s (clear; next: kanal
    /// 6.9M/s)` or `no clear winner: crossbeam, kanal`.
    pub fn describe(&self, metric: Metric) -> String {
        if self.clear {
            let next = self
                .runner_up
                .as_ref()
                .map(|(name, value)| format!("; next {name} {}", metric.format(*value)))
                .unwrap_or_default();
            format!(
                "{} {} (clear{next})",
                self.leader,
                metric.format(self.median)
            )
        } else {
            let mut named = self.contenders[..self.contenders.len().min(MAX_NAMED)].join(", ");
            if self.contenders.len() > MAX_NAMED {
                named += &format!(" and {} more", self.contenders.len() - MAX_NAMED);
            }
            format!(
                "no clear winner: {} {} ~ {named}",
                self.leader,
                metric.format(self.median),
            )
        }
    }
}

/// The verdicts for one workload on one machine.
#[derive(Debug, Clone)]
pub struct Recommendation {
    /// The scenario: a pattern, or `load/<shape>`.
    pub scenario: String,
    /// The workload's parameters.
    pub workload: String,
    /// Implementations measured on it.
    pub measured: usize,
    /// The leader on throughput.
    pub throughput: Option<Lead>,
    /// The leader on p99 latency, where latency was measured.
    pub p99: Option<Lead>,
}

/// One recommendation per workload with at least two measured
/// implementations, in scenario order.
pub fn recommend(results: &Results) -> Vec<Recommendation> {
    let mut workloads: BTreeMap<(String, String), Vec<&CellResult>> = BTreeMap::new();
    for cell in results
        .cells
        .iter()
        .filter(|c| c.status == Status::Measured && !c.repetitions.is_empty())
    {
        workloads
            .entry((cell.scenario.clone(), cell.cell.workload.label()))
            .or_default()
            .push(cell);
    }
    workloads
        .into_iter()
        .filter(|(_, cells)| cells.len() >= 2)
        .map(|((scenario, workload), cells)| Recommendation {
            scenario,
            workload,
            measured: cells.len(),
            throughput: lead(&cells, Metric::Throughput),
            p99: lead(&cells, Metric::P99),
        })
        .collect()
}

/// The leader among `cells` on `metric`, when at least two measured it.
fn lead(cells: &[&CellResult], metric: Metric) -> Option<Lead> {
    // Each implementation's median, worst and best repetition, in the
    // metric's direction of "better".
    let sign = if metric.higher_is_better() { 1.0 } else { -1.0 };
    let mut ranked: Vec<(String, f64, f64, f64)> = cells
        .iter()
        .filter_map(|cell| {
            let samples = metric.samples(cell);
            let median = stats::median(&samples)?;
            let scores = samples.iter().map(|v| v * sign);
            let worst = scores.clone().fold(f64::INFINITY, f64::min);
            let best = scores.fold(f64::NEG_INFINITY, f64::max);
            Some((cell.cell.implementation_label(), median, worst, best))
        })
        .collect();
    if ranked.len() < 2 {
        return None;
    }
    ranked.sort_by(|a, b| (b.1 * sign).total_cmp(&(a.1 * sign)));
    let (leader, median, leader_worst, _) = ranked[0].clone();
    let contenders: Vec<String> = ranked[1..]
        .iter()
        .filter(|(_, _, _, best)| *best >= leader_worst)
        .map(|(name, ..)| name.clone())
        .collect();
    Some(Lead {
        leader,
        median,
        clear: contenders.is_empty(),
        contenders,
        runner_up: Some((ranked[1].0.clone(), ranked[1].1)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::{cell_with, results_with};

    #[test]
    fn separated_ranges_make_a_clear_winner() {
        let results = results_with(vec![
            cell_with("crossbeam", &[100.0, 110.0, 105.0]),
            cell_with("flume", &[50.0, 60.0, 55.0]),
        ]);
        let recommendations = recommend(&results);
        assert_eq!(recommendations.len(), 1);
        let throughput = recommendations[0].throughput.as_ref().unwrap();
        assert_eq!(throughput.leader, "crossbeam");
        assert!(throughput.clear);
        // The fixture's latency grows as throughput falls.
        let p99 = recommendations[0].p99.as_ref().unwrap();
        assert_eq!(p99.leader, "crossbeam");
        assert!(p99.clear);
    }

    #[test]
    fn overlapping_ranges_are_no_clear_winner() {
        let results = results_with(vec![
            cell_with("crossbeam", &[100.0, 80.0, 105.0]),
            cell_with("kanal", &[90.0, 95.0, 85.0]),
            cell_with("flume", &[10.0, 12.0, 11.0]),
        ]);
        let throughput = recommend(&results)[0].throughput.clone().unwrap();
        assert_eq!(throughput.leader, "crossbeam");
        assert!(!throughput.clear);
        assert_eq!(throughput.contenders, vec!["kanal".to_owned()]);
        assert!(
            throughput
                .describe(Metric::Throughput)
                .starts_with("no clear winner")
        );
    }

    #[test]
    fn a_lone_implementation_gets_no_verdict() {
        let results = results_with(vec![cell_with("crossbeam", &[100.0, 101.0, 99.0])]);
        assert!(recommend(&results).is_empty());
    }
}
