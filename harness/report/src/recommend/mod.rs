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
//! Repetitions are compared in pairs: the runner measures every cell once
//! a round, so two implementations' repetitions of one round ran moments
//! apart, and their ratio cancels the machine's drift (pairs the host ran
//! with its cores placed otherwise are left out). Each row reads one of
//! three [`Decision`]s:
//! - **clear**: the leader beats every other ranked implementation, each
//!   in a one-sided Wilcoxon signed-rank test on the paired log-ratios, the
//!   row's p-value the largest of them (an intersection-union test, which
//!   needs no correction within the row), and that p-value, with Benjamini
//!   and Hochberg's adjustment over every row in the results, below 5%: of
//!   the leads a page calls clear, at most 5% are expected to be wrong;
//! - **tied within X%**: the leader/runner-up ratio's interval, at
//!   `1 - 5% / rows` (Bonferroni over every row), lies within X% of 1 either
//!   way, X at most 5;
//! - **can't tell**: neither yet, with about the repetitions per cell that
//!   would decide it, from the interval's width now.

use std::collections::BTreeMap;

use chanlab_workload::{Measure, Pattern, Runtime};

use crate::compare::paired_ratios;
use crate::metric::Metric;
use crate::schema::{CellResult, Class, Offered, Results, Status, Verdict, Workload};
use crate::stats::{self, Interval};

/// The family-wise error rate a clear lead is held to.
pub const ALPHA: f64 = 0.05;

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

/// The verdicts for one workload in one class on one machine.
#[derive(Debug, Clone)]
pub struct Recommendation {
    /// The scenario: a pattern, or `load/<shape>`.
    pub scenario: String,
    /// The ids of the cells ranked in it.
    pub cells: Vec<String>,
    /// The workload's parameters.
    pub workload: String,
    /// The class ranked within.
    pub class: Class,
    /// The runtime its async ends ran on, if any: each is its own row.
    pub runtime: Option<Runtime>,
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
    /// The leader among the implementations that pass the gate, on the
    /// row's figure (its main one, or in the open loop p99), where the
    /// overall leader does not pass.
    pub passing: Option<Passing>,
    /// The leader on p99 latency, where latency was timed.
    pub p99: Option<Lead>,
    /// Why the workload is not ranked, when it is not.
    pub not_ranked: Option<&'static str>,
    /// Reference lines measured on the same workload: name and median of
    /// the main figure.
    pub references: Vec<(String, f64)>,
}

impl Recommendation {
    /// The lead the row is read by, and its figure: the main one, or in
    /// the open loop p99; `None` when the row is not ranked.
    pub fn pick(&self) -> Option<(Metric, &Lead)> {
        match (&self.main, &self.p99) {
            (Some((metric, lead)), _) => Some((*metric, lead)),
            (None, Some(lead)) => Some((Metric::P99, lead)),
            (None, None) => None,
        }
    }
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
    /// implementation in every round can be clear at all, when some ranked
    /// cell has fewer.
    pub repetitions_needed: Option<usize>,
    /// The fewest repetitions of any ranked cell.
    pub fewest_repetitions: usize,
}

/// A ranking being built: the cells, each implementation's samples, and
/// the p-values of the leader against each other one.
struct Pending<'a> {
    scenario: String,
    workload: String,
    class: Class,
    runtime: Option<Runtime>,
    cells: Vec<&'a CellResult>,
    references: Vec<&'a CellResult>,
}

/// The recommendations of `results`.
pub fn recommend(results: &Results) -> Recommendations {
    let mut groups: BTreeMap<(String, String, Class, Option<&str>), Pending> = BTreeMap::new();
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
        // Runtimes are their own question: a library on one runtime is
        // never ranked against itself on another.
        let runtime = cell.cell.runtime;
        let key = (
            cell.scenario.clone(),
            workload.clone(),
            cell.class(),
            runtime.map(Runtime::name),
        );
        let group = groups.entry(key).or_insert_with(|| Pending {
            scenario: cell.scenario.clone(),
            workload,
            class: cell.class(),
            runtime,
            cells: Vec::new(),
            references: Vec::new(),
        });
        if cell.reference {
            group.references.push(cell);
        } else {
            group.cells.push(cell);
        }
    }
    // Rank every group (and, where the leader fails the gate, those that
    // pass), then correct all the comparisons together.
    let passes = |label: &str| passes(&results.verdicts, label);
    let mut ranked: Vec<Grouped> = groups
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
            // The figure the row is read by: its main one, or in the open
            // loop its p99.
            let passing = main
                .as_ref()
                .or(p99.as_ref())
                .filter(|first| !passes(&first.order[0].0))
                .map(|first| {
                    let cells: Vec<&CellResult> = group
                        .cells
                        .iter()
                        .copied()
                        .filter(|cell| passes(&cell.cell.implementation_label()))
                        .collect();
                    match cells.as_slice() {
                        [] => PassingRank::Nobody,
                        [only] => PassingRank::Only(only, first.metric),
                        _ => rank(&cells, first.metric)
                            .map_or(PassingRank::Nobody, PassingRank::Ranked),
                    }
                });
            Grouped {
                group,
                main,
                passing,
                p99,
                ranking,
            }
        })
        .collect();
    let p_values: Vec<f64> = ranked
        .iter()
        .flat_map(|grouped| {
            let passing = match &grouped.passing {
                Some(PassingRank::Ranked(ranked)) => Some(ranked),
                _ => None,
            };
            grouped
                .main
                .iter()
                .chain(passing)
                .chain(&grouped.p99)
                .map(Ranked::p)
        })
        .collect();
    let adjusted = stats::benjamini_hochberg(&p_values);
    let comparisons = p_values.len();
    let tie_confidence = 1.0 - ALPHA / comparisons.max(1) as f64;
    let mut next = adjusted.into_iter();
    let fewest_repetitions = ranked
        .iter()
        .flat_map(|grouped| grouped.group.cells.iter().map(|c| c.repetitions.len()))
        .min()
        .unwrap_or(0);
    let rows = ranked
        .iter_mut()
        .map(|grouped| {
            let Grouped {
                group,
                main,
                passing,
                p99,
                ranking,
            } = grouped;
            let mut lead = |ranked: Option<Ranked>| {
                ranked.map(|r| r.lead(&mut next, tie_confidence, &results.verdicts))
            };
            let main_metric = main.as_ref().map(|r| r.metric);
            let main_lead = main_metric.zip(lead(main.take()));
            let passing = passing.take().map(|passing| match passing {
                PassingRank::Ranked(ranked) => {
                    lead(Some(ranked)).map_or(Passing::Nobody, Passing::Ranked)
                }
                PassingRank::Only(cell, metric) => stats::median(&metric.samples(cell))
                    .map_or(Passing::Nobody, |median| {
                        Passing::Only(cell.cell.implementation_label(), median)
                    }),
                PassingRank::Nobody => Passing::Nobody,
            });
            let p99_lead = lead(p99.take());
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
                cells: group.cells.iter().map(|cell| cell.id.clone()).collect(),
                workload: group.workload.clone(),
                class: group.class,
                runtime: group.runtime,
                measured: group.cells.len(),
                oversubscribed: group.cells.iter().filter(|c| c.oversubscribed).count(),
                threads: (
                    threads.clone().min().unwrap_or(0),
                    threads.max().unwrap_or(0),
                ),
                main: main_lead,
                passing,
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
        fewest_repetitions,
        repetitions_needed: (comparisons > 0 && one_sided_smallest_p(fewest_repetitions) >= ALPHA)
            .then(|| {
                (1..)
                    .find(|&n| one_sided_smallest_p(n) < ALPHA)
                    .unwrap_or(usize::MAX)
            }),
    }
}

/// One group's rankings before correction.
struct Grouped<'a> {
    group: Pending<'a>,
    main: Option<Ranked>,
    /// Where the leader on the row's figure (main, else p99) fails the
    /// gate: those that pass.
    passing: Option<PassingRank<'a>>,
    p99: Option<Ranked>,
    ranking: Ranking,
}

/// The implementations that pass the gate in a group, before correction.
enum PassingRank<'a> {
    Ranked(Ranked),
    Only(&'a CellResult, Metric),
    Nobody,
}

/// Whether the implementation of `label` (its runtime after `@`, if any)
/// passes the gate.
fn passes(verdicts: &BTreeMap<String, Verdict>, label: &str) -> bool {
    verdict_of(verdicts, label).is_some_and(Verdict::passes)
}

/// The verdict of the implementation of `label` (its runtime after `@`,
/// if any).
fn verdict_of<'a>(verdicts: &'a BTreeMap<String, Verdict>, label: &str) -> Option<&'a Verdict> {
    verdicts.get(label.split('@').next().unwrap_or(label))
}

/// The gate's mark for a name in a ranking, when it does not pass.
fn mark(verdicts: &BTreeMap<String, Verdict>, label: &str) -> Option<Mark> {
    match verdict_of(verdicts, label) {
        Some(verdict) if verdict.passes() => None,
        Some(verdict @ Verdict::Deviates { .. }) => {
            let rules = verdict.rules();
            let numbers: Vec<&str> = rules
                .iter()
                .filter_map(|rule| rule.split(' ').next())
                .collect();
            let fails = if verdict.fails_undeclared() {
                "FAILS"
            } else {
                "fails"
            };
            Some(Mark {
                rules: format!("{fails} {}", numbers.join(", ")),
                gist: verdict.gist(),
            })
        }
        Some(_) | None => Some(Mark {
            rules: "not checked".to_owned(),
            gist: String::new(),
        }),
    }
}

/// The smallest one-sided p-value of the signed-rank test on `n` pairs:
/// every pair one way, `1 / 2^n`. Benjamini and Hochberg's adjustment
/// passes it at best (every row a discovery) when it is below α.
fn one_sided_smallest_p(n: usize) -> f64 {
    0.5f64.powi(i32::try_from(n).unwrap_or(i32::MAX))
}

/// One metric's ranking of a group, before correction.
struct Ranked {
    metric: Metric,
    /// (implementation, median, samples), best first.
    order: Vec<(String, f64, Vec<f64>)>,
    /// Paired log-ratios of the leader against each other, in order,
    /// oriented so that above 0 is the leader's better.
    logs: Vec<Vec<f64>>,
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
    let mut order: Vec<(&CellResult, f64, Vec<f64>)> = cells
        .iter()
        .filter_map(|cell| {
            let samples = metric.samples(cell);
            let median = stats::median(&samples)?;
            Some((*cell, median, samples))
        })
        .collect();
    if order.len() < 2 {
        return None;
    }
    order.sort_by(|a, b| (b.1 * sign).total_cmp(&(a.1 * sign)));
    let leader = order[0].0;
    let logs: Vec<Vec<f64>> = order[1..]
        .iter()
        .map(|(other, ..)| {
            paired_ratios(other, leader, metric)
                .into_iter()
                .filter(|ratio| *ratio > 0.0)
                .map(|ratio| sign * ratio.ln())
                .collect()
        })
        .collect();
    let p_values = logs.iter().map(|logs| stats::signed_rank_p(logs)).collect();
    Some(Ranked {
        metric,
        order: order
            .into_iter()
            .map(|(cell, median, samples)| (cell.cell.implementation_label(), median, samples))
            .collect(),
        logs,
        p_values,
    })
}

impl Ranked {
    /// The lead, taking this row's adjusted p-value from `adjusted` and
    /// judging a tie at `tie_confidence`. The contenders are the
    /// implementations whose own comparison, scaled as the row's was, does
    /// not pass.
    fn lead(
        self,
        adjusted: &mut impl Iterator<Item = f64>,
        tie_confidence: f64,
        verdicts: &BTreeMap<String, Verdict>,
    ) -> Lead {
        let (leader, median, samples) = self.order[0].clone();
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
        let runner_up = &self.logs[0];
        let margin =
            stats::signed_rank_interval(runner_up, 0.95).map(|(estimate, interval)| Margin {
                estimate: estimate.exp(),
                interval: interval.map(|i| Interval {
                    low: i.low.exp(),
                    high: i.high.exp(),
                }),
                pairs: runner_up.len(),
            });
        let decision = if contenders.is_empty() {
            Decision::Clear
        } else {
            decide(runner_up, tie_confidence)
        };
        let warning = match verdict_of(verdicts, &leader) {
            Some(verdict) if verdict.passes() => None,
            Some(verdict @ Verdict::Deviates { .. }) => {
                Some(format!("{}: {}", verdict.short(), verdict.consequences()))
            }
            Some(_) | None => Some("not checked".to_owned()),
        };
        let marks = self
            .order
            .iter()
            .filter_map(|(name, ..)| Some((name.clone(), mark(verdicts, name)?)))
            .collect();
        Lead {
            marks,
            decision,
            contenders,
            runner_up: Some((self.order[1].0.clone(), self.order[1].1)),
            margin,
            median_interval: stats::median_interval(&samples, 0.95),
            leader,
            median,
            warning,
        }
    }
}

/// A row whose lead is not clear: tied, when the interval of the paired
/// log-ratios `logs` at `confidence` lies within [`TIE`] of 1 either way,
/// or can't tell, with about the pairs that would narrow it enough to
/// decide one way or the other.
fn decide(logs: &[f64], confidence: f64) -> Decision {
    let needed_for_any = stats::pairs_for_signed_rank_interval(confidence);
    let Some((estimate, interval)) = stats::signed_rank_interval(logs, confidence) else {
        return Decision::CantTell {
            needs: Some(needed_for_any),
        };
    };
    let Some(interval) = interval else {
        return Decision::CantTell {
            needs: Some(needed_for_any.max(logs.len() + 1)),
        };
    };
    let within = (interval.low.exp() - 1.0)
        .abs()
        .max((interval.high.exp() - 1.0).abs());
    if within <= TIE {
        return Decision::Tied { within };
    }
    // The half-width shrinks as one over the square root of the pairs; it
    // must fall below the estimate's distance from 1 (to be clear) or from
    // the tie's edge (to be tied), whichever is nearer.
    let half = (interval.high - interval.low) / 2.0;
    let distance = estimate.abs();
    let target = distance.max((1.0 + TIE).ln() - distance);
    let needs = ((logs.len() as f64) * (half / target).powi(2)).ceil();
    Decision::CantTell {
        needs: (needs <= MOST_NEEDED as f64)
            .then(|| (needs as usize).max(logs.len() + 1).max(needed_for_any)),
    }
}

mod lead;
#[cfg(test)]
mod tests;

use lead::MOST_NEEDED;
pub use lead::{Decision, Lead, Margin, Mark, MarkWords, Passing, TIE};
