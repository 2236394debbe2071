//! The quantities verdicts are drawn on, read per repetition so the
//! statistics see the spread and not only a median.

use chanlab_workload::Pattern;

use crate::format::{duration, rate};
use crate::schema::{CellResult, Repetition, Spread, Workload};

/// The rate a load's schedule sends at, in messages per second, when a
/// schedule and not the channel sets its pace (an open-loop or an idle
/// load): its throughput is then no figure of the implementation.
pub fn scheduled_rate(cell: &CellResult) -> Option<f64> {
    match &cell.cell.workload {
        Workload::Load { spec, .. } => spec.scheduled_rate(),
        Workload::Pattern { .. } => None,
    }
}

/// A latency percentile of `cell` (`p50`, `p99`, `p99.9`, `max`): each
/// repetition's own, summarized over the repetitions, as its summary holds
/// it. This is the one definition every table, chart, verdict and export
/// uses; the cell's merged histogram feeds no figure.
pub fn percentile(cell: &CellResult, name: &str) -> Option<Spread> {
    cell.summary.as_ref()?.percentile_ns(name)
}

/// A quantity compared across implementations or runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Items per second; higher is better.
    Throughput,
    /// The 99th percentile of per-message latency, in nanoseconds (loads
    /// in closed or open loop); lower is better.
    P99,
    /// How far a rate limiter's achieved rate is from its configured one,
    /// as a fraction of it; lower is better. Only rate-limit cells have it.
    RateError,
}

impl Metric {
    /// The metrics every cell is compared on, by the regression gate and
    /// the exports; [`Metric::RateError`] only ranks rate limiters.
    pub const ALL: [Metric; 2] = [Metric::Throughput, Metric::P99];

    /// Its short name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Throughput => "throughput",
            Metric::P99 => "p99",
            Metric::RateError => "rate error",
        }
    }

    /// Whether a larger value is an improvement.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Throughput)
    }

    /// Its unit, after a value: `items/s`, `ns`, or a fraction.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Throughput => "items/s",
            Metric::P99 => "ns",
            Metric::RateError => "fraction of the configured rate",
        }
    }

    /// One value per measured repetition; empty when the cell does not
    /// measure it. An open-loop load's throughput is its schedule, not a
    /// measure of the channel, so it has none.
    pub fn samples(self, cell: &CellResult) -> Vec<f64> {
        cell.repetitions
            .iter()
            .filter_map(|repetition| self.value(cell, repetition))
            .collect()
    }

    /// Its value in one repetition of `cell`, if measured there.
    pub fn value(self, cell: &CellResult, repetition: &Repetition) -> Option<f64> {
        match self {
            Metric::Throughput if scheduled_rate(cell).is_some() => None,
            Metric::Throughput => Some(repetition.throughput),
            Metric::P99 => repetition
                .latency
                .as_ref()
                .and_then(|latency| latency.percentile_ns("p99"))
                .map(|ns| ns as f64),
            Metric::RateError => match &cell.cell.workload {
                Workload::Pattern { pattern, params }
                    if *pattern == Pattern::RateLimit && params.rate > 0.0 =>
                {
                    Some((repetition.throughput / params.rate - 1.0).abs())
                }
                _ => None,
            },
        }
    }

    /// A value in its unit: `12.3M/s` or `45.6µs`.
    pub fn format(self, value: f64) -> String {
        match self {
            Metric::Throughput => format!("{}/s", rate(value)),
            Metric::P99 => duration(value),
            Metric::RateError => format!("{:.1}% off its rate", value * 100.0),
        }
    }
}
