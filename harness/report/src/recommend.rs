//! "Which library for which job": for each workload and each class a user
//! chooses within (blocking, async, bridge), the implementation with the
//! best median on the figure that matters for the workload, and whether
//! the lead is clear after correcting for every comparison on the page.
//!
//! Only libraries a user would pick are ranked. Reference lines (the Go
//! reference, chanlab's own channels and primitives, the broken twins) are
//! listed beside the ranking, never in it. A workload whose time is set by
//! its configuration (a rate limiter's rate, a supervisor's backoff) is
//! ranked by how well it holds that configuration, or not at all; so is a
//! load each implementation runs at its own offered rate, or an idle one.
//!
//! A lead is **clear** when the leader beats every other ranked
//! implementation: each in a one-sided Mann-Whitney U test, the row's
//! p-value the largest of them (an intersection-union test, which needs no
//! correction within the row), and that p-value, with Holm's correction
//! over every row in the results, below 5%. With few repetitions no lead
//! can be clear, and the page says how many repetitions it would take.

use std::collections::BTreeMap;

use chanlab_workload::Measure;
use chanlab_workload::Pattern;

use crate::metric::Metric;
use crate::schema::{CellResult, Class, Offered, Results, Status, Verdict, Workload};
use crate::stats;

/// The family-wise error rate a clear lead is held to.
pub const ALPHA: f64 = 0.05;

/// Contenders named in a verdict before "and N more".
const MAX_NAMED: usize = 3;

/// The figure a workload is ranked by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ranking {
    /// Items per second (and p99 where latency is timed).
    Throughput,
    /// How close the achieved rate comes to the configured one.
    RateError,
    /// Not ranked, and why.
    NotRanked(&'static str),
}

/// How `workload` is ranked: exhaustive over the patterns, so a new pattern
/// must say.
pub fn ranking(workload: &Workload) -> Ranking {
    let pattern = match workload {
        Workload::Pattern { pattern, .. } => pattern,
        Workload::Load {
            offered: Some(Offered::OwnSaturation { .. }),
            ..
        } => {
            return Ranking::NotRanked(
                "each implementation runs at a fraction of its own saturation, so the offered loads differ; the latency-against-load chart shows them",
            );
        }
        Workload::Load { spec, .. } if spec.measure == Measure::Idle => {
            return Ranking::NotRanked(
                "its pace is the schedule's; its figure is the CPU burnt while waiting, in the table of that name",
            );
        }
        Workload::Load { .. } => return Ranking::Throughput,
    };
    match pattern {
        Pattern::RateLimit => Ranking::RateError,
        Pattern::Supervisor => Ranking::NotRanked(
            "its time is the backoff it sleeps between restarts, which the parameters set; restart latency is not measured",
        ),
        Pattern::WorkerPool
        | Pattern::FanOutFanIn
        | Pattern::Pipeline
        | Pattern::ProducerConsumer
        | Pattern::PubSub
        | Pattern::Select
        | Pattern::Cancellation
        | Pattern::ErrGroup
        | Pattern::Semaphore
        | Pattern::MapReduce
        | Pattern::Singleflight
        | Pattern::EventLoop
        | Pattern::ResourcePool
        | Pattern::SharedState => Ranking::Throughput,
    }
}

/// The leader on one metric of one workload in one class.
#[derive(Debug, Clone)]
pub struct Lead {
    /// The leading implementation (with its runtime, if any).
    pub leader: String,
    /// Its median.
    pub median: f64,
    /// Whether it beats every other ranked implementation, corrected for
    /// every row in the results.
    pub clear: bool,
    /// When the lead is not clear: the implementations it does not clearly
    /// beat, best median first.
    pub contenders: Vec<String>,
    /// The next best implementation and its median.
    pub runner_up: Option<(String, f64)>,
    /// What chanlab's conformance gate found for the leader, when it is
    /// not a clean pass: said in the same row, so a failing implementation
    /// is never recommended without it.
    pub warning: Option<String>,
}

impl Lead {
    /// The verdict in a few words: `crossbeam 12.6M/s (clear; next kanal
    /// 6.9M/s)` or `no clear winner: crossbeam 12.6M/s ~ kanal`, with the
    /// leader's conformance warning after it.
    pub fn describe(&self, metric: Metric) -> String {
        let verdict = if self.clear {
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
        };
        match &self.warning {
            Some(warning) => format!("{verdict}. Warning: {} {warning}", self.leader),
            None => verdict,
        }
    }
}

/// The verdicts for one workload in one class on one machine.
#[derive(Debug, Clone)]
pub struct Recommendation {
    /// The scenario: a pattern, or `load/<shape>`.
    pub scenario: String,
    /// The workload's parameters.
    pub workload: String,
    /// The class ranked within.
    pub class: Class,
    /// Ranked implementations measured on it.
    pub measured: usize,
    /// How many of those ran more threads than the machine has cores.
    pub oversubscribed: usize,
    /// The threads (or, for tasks, the runtime's threads) the ranked cells
    /// used, fewest and most.
    pub threads: (usize, usize),
    /// The leader on the workload's main figure, and that figure; `None`
    /// when it is not ranked.
    pub main: Option<(Metric, Lead)>,
    /// The leader on p99 latency, where latency was timed.
    pub p99: Option<Lead>,
    /// Why the workload is not ranked, when it is not.
    pub not_ranked: Option<&'static str>,
    /// Reference lines measured on the same workload: name and median of
    /// the main figure.
    pub references: Vec<(String, f64)>,
}

/// Every recommendation of a results file, and what it took to call a lead
/// clear.
#[derive(Debug, Clone)]
pub struct Recommendations {
    /// One per workload and class with at least two ranked
    /// implementations, in scenario order.
    pub rows: Vec<Recommendation>,
    /// Rows (a workload, a class and a metric) corrected for together.
    pub comparisons: usize,
    /// The fewest repetitions per cell with which a leader that beats an
    /// implementation in every repetition can be clear over this many
    /// comparisons, when the results have fewer.
    pub repetitions_needed: Option<usize>,
}

/// A ranking being built: the cells, each implementation's samples, and
/// the p-values of the leader against each other one.
struct Pending<'a> {
    scenario: String,
    workload: String,
    class: Class,
    cells: Vec<&'a CellResult>,
    references: Vec<&'a CellResult>,
}

/// The recommendations of `results`.
pub fn recommend(results: &Results) -> Recommendations {
    let mut groups: BTreeMap<(String, String, Class), Pending> = BTreeMap::new();
    for cell in results
        .cells
        .iter()
        .filter(|c| c.status == Status::Measured && !c.repetitions.is_empty())
    {
        // Cells at their own offered loads share a row (to say why it is
        // not ranked), not a rate.
        let workload = match &cell.cell.workload {
            own @ Workload::Load {
                offered: Some(Offered::OwnSaturation { .. }),
                ..
            } => own.key_label(),
            other => other.label(),
        };
        let key = (cell.scenario.clone(), workload.clone(), cell.class());
        let group = groups.entry(key).or_insert_with(|| Pending {
            scenario: cell.scenario.clone(),
            workload,
            class: cell.class(),
            cells: Vec::new(),
            references: Vec::new(),
        });
        if cell.reference {
            group.references.push(cell);
        } else {
            group.cells.push(cell);
        }
    }
    // Rank every group, then correct all the comparisons together.
    let mut ranked: Vec<(Pending, Option<Ranked>, Option<Ranked>, Ranking)> = groups
        .into_values()
        .filter(|group| group.cells.len() >= 2)
        .map(|group| {
            let ranking = ranking(&group.cells[0].cell.workload);
            let main = match ranking {
                Ranking::Throughput => rank(&group.cells, Metric::Throughput),
                Ranking::RateError => rank(&group.cells, Metric::RateError),
                Ranking::NotRanked(_) => None,
            };
            let p99 = match ranking {
                Ranking::NotRanked(_) => None,
                _ => rank(&group.cells, Metric::P99),
            };
            (group, main, p99, ranking)
        })
        .collect();
    let p_values: Vec<f64> = ranked
        .iter()
        .flat_map(|(_, main, p99, _)| main.iter().chain(p99).map(Ranked::p))
        .collect();
    let adjusted = stats::holm(&p_values);
    let comparisons = p_values.len();
    let mut next = adjusted.into_iter();
    let fewest_repetitions = ranked
        .iter()
        .flat_map(|(group, ..)| group.cells.iter().map(|c| c.repetitions.len()))
        .min()
        .unwrap_or(0);
    let rows = ranked
        .iter_mut()
        .map(|(group, main, p99, ranking)| {
            let mut lead = |ranked: &mut Option<Ranked>| {
                ranked.take().map(|r| r.lead(&mut next, &results.verdicts))
            };
            let main_lead = main.as_ref().map(|r| r.metric).zip(lead(main));
            let p99_lead = lead(p99);
            let main_metric = main_lead.as_ref().map_or(Metric::Throughput, |(m, _)| *m);
            let references = group
                .references
                .iter()
                .filter_map(|cell| {
                    stats::median(&main_metric.samples(cell))
                        .map(|median| (cell.cell.implementation_label(), median))
                })
                .collect();
            let threads = group.cells.iter().map(|c| c.threads);
            Recommendation {
                scenario: group.scenario.clone(),
                workload: group.workload.clone(),
                class: group.class,
                measured: group.cells.len(),
                oversubscribed: group.cells.iter().filter(|c| c.oversubscribed).count(),
                threads: (
                    threads.clone().min().unwrap_or(0),
                    threads.max().unwrap_or(0),
                ),
                main: main_lead,
                p99: p99_lead,
                not_ranked: match ranking {
                    Ranking::NotRanked(why) => Some(*why),
                    _ => None,
                },
                references,
            }
        })
        .collect();
    Recommendations {
        rows,
        comparisons,
        repetitions_needed: (comparisons > 0
            && one_sided_smallest_p(fewest_repetitions) * comparisons as f64 >= ALPHA)
            .then(|| {
                (2..)
                    .find(|&n| one_sided_smallest_p(n) * (comparisons as f64) < ALPHA)
                    .unwrap_or(usize::MAX)
            }),
    }
}

/// The smallest one-sided p-value of the Mann-Whitney U test with `n`
/// values on each side: one side entirely beyond the other.
fn one_sided_smallest_p(n: usize) -> f64 {
    stats::smallest_p(n, n) / 2.0
}

/// One metric's ranking of a group, before correction.
struct Ranked {
    metric: Metric,
    /// (implementation, median, samples), best first.
    order: Vec<(String, f64, Vec<f64>)>,
    /// One-sided p-values of the leader against each other, in order.
    p_values: Vec<f64>,
}

impl Ranked {
    /// The row's p-value that the leader beats them all: the largest of
    /// its comparisons.
    fn p(&self) -> f64 {
        self.p_values.iter().copied().fold(0.0, f64::max)
    }
}

/// The implementations of `cells` ranked on `metric`, when at least two
/// measured it.
fn rank(cells: &[&CellResult], metric: Metric) -> Option<Ranked> {
    let sign = if metric.higher_is_better() { 1.0 } else { -1.0 };
    let mut order: Vec<(String, f64, Vec<f64>)> = cells
        .iter()
        .filter_map(|cell| {
            let samples = metric.samples(cell);
            let median = stats::median(&samples)?;
            Some((cell.cell.implementation_label(), median, samples))
        })
        .collect();
    if order.len() < 2 {
        return None;
    }
    order.sort_by(|a, b| (b.1 * sign).total_cmp(&(a.1 * sign)));
    let leader = &order[0].2;
    let p_values = order[1..]
        .iter()
        .map(|(_, _, other)| (stats::mann_whitney(leader, other) / 2.0).min(1.0))
        .collect();
    Some(Ranked {
        metric,
        order,
        p_values,
    })
}

impl Ranked {
    /// The lead, taking this row's adjusted p-value from `adjusted`. The
    /// contenders are the implementations whose own comparison, scaled as
    /// the row's was, does not pass.
    fn lead(
        self,
        adjusted: &mut impl Iterator<Item = f64>,
        verdicts: &BTreeMap<String, Verdict>,
    ) -> Lead {
        let (leader, median, _) = self.order[0].clone();
        let row = self.p();
        let row_adjusted = adjusted.next().unwrap_or(1.0);
        let scale = if row > 0.0 { row_adjusted / row } else { 1.0 };
        let contenders: Vec<String> = if row_adjusted < ALPHA {
            Vec::new()
        } else {
            self.order[1..]
                .iter()
                .zip(&self.p_values)
                .filter(|(_, p)| **p * scale >= ALPHA)
                .map(|((name, ..), _)| name.clone())
                .collect()
        };
        let implementation = leader.split('@').next().unwrap_or(&leader);
        let warning = match verdicts.get(implementation) {
            Some(Verdict::Pass { .. } | Verdict::NoSuite { .. }) => None,
            Some(verdict @ Verdict::Deviates { .. }) => Some(verdict.short()),
            Some(Verdict::Unknown { .. }) | None => Some("not checked".to_owned()),
        };
        Lead {
            clear: contenders.is_empty(),
            contenders,
            runner_up: Some((self.order[1].0.clone(), self.order[1].1)),
            leader,
            median,
            warning,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Finding;
    use crate::schema::tests::{cell_with, results_with};

    fn many(base: f64) -> Vec<f64> {
        (0..8).map(|i| base + i as f64).collect()
    }

    fn pass() -> Verdict {
        Verdict::Pass {
            checked_at: String::new(),
        }
    }

    #[test]
    fn separated_samples_make_a_clear_winner_with_enough_repetitions() {
        let mut results = results_with(vec![
            cell_with("crossbeam", &many(100.0)),
            cell_with("flume", &many(50.0)),
        ]);
        results.verdicts = [("crossbeam", pass()), ("flume", pass())]
            .map(|(name, verdict)| (name.to_owned(), verdict))
            .into();
        let recommendations = recommend(&results);
        assert_eq!(recommendations.rows.len(), 1);
        let (metric, throughput) = recommendations.rows[0].main.as_ref().unwrap();
        assert_eq!(*metric, Metric::Throughput);
        assert_eq!(throughput.leader, "crossbeam");
        assert!(throughput.clear);
        assert_eq!(throughput.warning, None);
        assert_eq!(recommendations.repetitions_needed, None);
    }

    #[test]
    fn three_repetitions_cannot_make_a_clear_lead_and_the_page_says_how_many_would() {
        let results = results_with(vec![
            cell_with("crossbeam", &[100.0, 110.0, 105.0]),
            cell_with("flume", &[50.0, 60.0, 55.0]),
        ]);
        let recommendations = recommend(&results);
        let (_, throughput) = recommendations.rows[0].main.as_ref().unwrap();
        assert!(!throughput.clear);
        // Two comparisons (throughput and p99): 1/C(2n, n) * 2 < 5%.
        assert_eq!(recommendations.repetitions_needed, Some(4));
    }

    #[test]
    fn overlapping_samples_are_no_clear_winner() {
        let results = results_with(vec![
            cell_with(
                "crossbeam",
                &[100.0, 80.0, 105.0, 90.0, 99.0, 101.0, 97.0, 95.0],
            ),
            cell_with("kanal", &[90.0, 95.0, 85.0, 100.0, 98.0, 92.0, 96.0, 94.0]),
            cell_with("flume", &many(10.0)),
        ]);
        let (_, throughput) = recommend(&results).rows[0].main.clone().unwrap();
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
    fn a_leader_that_fails_the_gate_carries_the_warning_in_its_row() {
        let mut results = results_with(vec![
            cell_with("kanal", &many(100.0)),
            cell_with("crossbeam", &many(50.0)),
        ]);
        results.verdicts.insert(
            "kanal".into(),
            Verdict::Deviates {
                checked_at: String::new(),
                findings: vec![Finding {
                    rule: "R7 receivers-gone".into(),
                    check: "blocking disconnect".into(),
                    detail: "send dropped the value".into(),
                    declared: true,
                }],
            },
        );
        let (_, lead) = recommend(&results).rows[0].main.clone().unwrap();
        let text = lead.describe(Metric::Throughput);
        assert!(
            text.contains("Warning: kanal fails R7 receivers-gone (declared)"),
            "{text}"
        );
    }

    #[test]
    fn a_primitive_no_suite_applies_to_carries_no_warning_but_an_unchecked_flavor_does() {
        let mut results = results_with(vec![
            cell_with("atomics", &many(100.0)),
            cell_with("std-mutex", &many(50.0)),
        ]);
        results.verdicts.insert(
            "atomics".into(),
            Verdict::NoSuite {
                reason: "a primitive".into(),
            },
        );
        let (_, lead) = recommend(&results).rows[0].main.clone().unwrap();
        assert_eq!(lead.warning, None);
        results.verdicts.insert(
            "atomics".into(),
            Verdict::Unknown {
                reason: "not checked on this build".into(),
            },
        );
        let (_, lead) = recommend(&results).rows[0].main.clone().unwrap();
        assert_eq!(lead.warning.as_deref(), Some("not checked"));
    }

    #[test]
    fn reference_lines_and_other_classes_are_never_ranked_against_libraries() {
        let mut go = cell_with("go-chan", &many(1000.0));
        go.reference = true;
        let mut tokio = cell_with("tokio-mpsc", &many(500.0));
        tokio.class = Some(Class::Async);
        let results = results_with(vec![
            go,
            tokio,
            cell_with("crossbeam", &many(100.0)),
            cell_with("flume", &many(50.0)),
        ]);
        let recommendations = recommend(&results);
        assert_eq!(
            recommendations.rows.len(),
            1,
            "only the blocking class has two"
        );
        let row = &recommendations.rows[0];
        assert_eq!(row.class, Class::Blocking);
        assert_eq!(row.main.as_ref().unwrap().1.leader, "crossbeam");
        assert_eq!(row.references, vec![("go-chan".to_owned(), 1003.5)]);
    }

    #[test]
    fn a_lone_implementation_gets_no_verdict() {
        let results = results_with(vec![cell_with("crossbeam", &[100.0, 101.0, 99.0])]);
        assert!(recommend(&results).rows.is_empty());
    }
}
