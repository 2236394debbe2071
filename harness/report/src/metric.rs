//! The quantities verdicts are drawn on, read per repetition so the
//! statistics see the spread and not only a median.

use chanlab_scenarios::load::Measure;

use crate::format::{duration, rate};
use crate::schema::{CellResult, Repetition, Workload};

/// The offered rate of an open-loop load, in messages per second.
pub fn open_loop_rate(cell: &CellResult) -> Option<f64> {
    match &cell.cell.workload {
        Workload::Load { spec } => match spec.measure {
            Measure::OpenLoop { rate } => Some(rate),
            _ => None,
        },
        Workload::Pattern { .. } => None,
    }
}

/// A quantity compared across implementations or runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Items per second; higher is better.
    Throughput,
    /// The 99th percentile of per-message latency, in nanoseconds (loads
    /// in closed or open loop); lower is better.
    P99,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 2] = [Metric::Throughput, Metric::P99];

    /// Its short name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Throughput => "throughput",
            Metric::P99 => "p99",
        }
    }

    /// Whether a larger value is an improvement.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Throughput)
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
            Metric::Throughput if open_loop_rate(cell).is_some() => None,
            Metric::Throughput => Some(repetition.throughput),
            Metric::P99 => repetition
                .latency
                .as_ref()
                .and_then(|latency| latency.percentile_ns("p99"))
                .map(|ns| ns as f64),
        }
    }

    /// A value in its unit: `12.3M/s` or `45.6µs`.
    pub fn format(self, value: f64) -> String {
        match self {
            Metric::Throughput => format!("{}/s", rate(value)),
            Metric::P99 => duration(value),
        }
    }
}
