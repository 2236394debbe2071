//! Statistics over a cell's repetitions: the spread of each quantity and
//! of each latency percentile among them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{CellResult, PERCENTILES, Repetition};

/// Median and range of a quantity over repetitions.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Spread {
    /// The median.
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` when there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Spread> {
        let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        Some(Spread {
            median: crate::stats::median(&values)?,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }
}

/// Statistics over a cell's repetitions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Repetitions summarized.
    pub repetitions: usize,
    /// Items per second.
    pub throughput: Spread,
    /// CPU time (user + system, all threads) per item, in nanoseconds,
    /// beyond the warm-up where one is on record (so the start-up of
    /// threads, runtime and channel cancels): the one CPU figure every
    /// table shows.
    pub cpu_ns_per_item: Spread,
    /// Context switches (voluntary + involuntary) per item.
    pub switches_per_item: Spread,
    /// Least-served producer's messages over the most-served one's, 1.0
    /// when even (loads with more than one producer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer_fairness: Option<Spread>,
    /// The same over consumers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_fairness: Option<Spread>,
    /// Each latency percentile (`p50`, `p90`, `p99`, `p99.9`, `p99.99`,
    /// `max`), in nanoseconds: every repetition's own, spread over the
    /// repetitions. The cell's p99 is `latency_ns["p99"].median`, in every
    /// table, verdict, chart and export.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub latency_ns: BTreeMap<String, Spread>,
}

impl Summary {
    /// A latency percentile by name (`p99`), in nanoseconds, over the
    /// repetitions, when latency was timed.
    pub fn percentile_ns(&self, name: &str) -> Option<Spread> {
        self.latency_ns.get(name).copied()
    }

    /// Statistics over `repetitions`; `None` when there are none.
    pub fn of(repetitions: &[Repetition]) -> Option<Summary> {
        let per_item = |value: fn(&Repetition) -> u64| {
            Spread::of(
                repetitions
                    .iter()
                    .map(|r| value(r) as f64 / r.items.max(1) as f64),
            )
        };
        let cpu_per_item = Spread::of(repetitions.iter().map(|r| {
            let (items, _, cpu) = r.beyond_warm_up();
            cpu / items.max(1.0)
        }));
        let (Some(throughput), Some(cpu_ns_per_item), Some(switches_per_item)) = (
            Spread::of(repetitions.iter().map(|r| r.throughput)),
            cpu_per_item,
            per_item(|r| {
                r.cpu
                    .voluntary_switches
                    .saturating_add(r.cpu.involuntary_switches)
            }),
        ) else {
            return None;
        };
        let fairness = |shares: fn(&Repetition) -> &[u64]| {
            Spread::of(repetitions.iter().filter_map(|r| min_over_max(shares(r))))
        };
        Some(Summary {
            repetitions: repetitions.len(),
            throughput,
            cpu_ns_per_item,
            switches_per_item,
            producer_fairness: fairness(|r| &r.sent_by),
            consumer_fairness: fairness(|r| &r.received_by),
            latency_ns: percentiles(repetitions),
        })
    }
}

impl CellResult {
    /// Recomputes the statistics over its repetitions (and with the
    /// re-measured ones, when there are any).
    pub fn summarize(&mut self) {
        self.summary = Summary::of(&self.repetitions);
        self.summary_with_remeasured = if self.remeasured.is_empty() {
            None
        } else {
            let every: Vec<Repetition> = self
                .repetitions
                .iter()
                .chain(&self.remeasured)
                .cloned()
                .collect();
            Summary::of(&every)
        };
    }
}

/// Each percentile's spread over the repetitions that timed latency.
fn percentiles(repetitions: &[Repetition]) -> BTreeMap<String, Spread> {
    PERCENTILES
        .iter()
        .map(|(name, _)| *name)
        .chain(["max"])
        .filter_map(|name| {
            let spread = Spread::of(repetitions.iter().filter_map(|r| {
                let latency = r.latency.as_ref()?;
                latency.percentile_ns(name).map(|ns| ns as f64)
            }))?;
            Some((name.to_owned(), spread))
        })
        .collect()
}

/// The smallest share over the largest, for two or more shares.
fn min_over_max(shares: &[u64]) -> Option<f64> {
    let (min, max) = (shares.iter().min()?, shares.iter().max()?);
    (shares.len() > 1 && *max > 0).then(|| *min as f64 / *max as f64)
}
