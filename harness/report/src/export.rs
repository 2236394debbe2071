//! Exports for the dashboards people already run: Bencher's Metric Format
//! (BMF) and github-action-benchmark's `customSmallerIsBetter` JSON. Both
//! name a benchmark by [`crate::schema::Cell::key`], which stays the same
//! from run to run.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::{ReportError, Result};

use crate::metric::Metric;
use crate::schema::{Results, Spread, Status};

/// A dashboard format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Bencher Metric Format: `{benchmark: {measure: {value, lower_value,
    /// upper_value}}}`, with Bencher's built-in `throughput` (items per
    /// second) and `latency` (p99, nanoseconds) measures.
    Bmf,
    /// github-action-benchmark's `customSmallerIsBetter`: a list of
    /// `{name, unit, value, range}`; throughput becomes nanoseconds per
    /// item so that smaller is better for both.
    GithubActionBenchmark,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 2] = [Format::Bmf, Format::GithubActionBenchmark];

    /// The format's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Bmf => "bmf",
            Format::GithubActionBenchmark => "github-action-benchmark",
        }
    }

    /// What the format is, in a line.
    pub fn description(self) -> &'static str {
        match self {
            Format::Bmf => {
                "Bencher Metric Format, with Bencher's throughput (items per second) and latency \
                 (p99, nanoseconds) measures"
            }
            Format::GithubActionBenchmark => {
                "github-action-benchmark's customSmallerIsBetter: throughput as nanoseconds per \
                 item, so smaller is better for both"
            }
        }
    }
}

/// `results` in `format`, as pretty JSON.
pub fn export(results: &Results, format: Format) -> Result<String> {
    let measured = results
        .cells
        .iter()
        .filter(|c| c.status == Status::Measured);
    let value = match format {
        Format::Bmf => {
            let mut benchmarks = Map::new();
            for cell in measured {
                let mut measures = Map::new();
                for metric in Metric::ALL {
                    if let Some(Spread { median, min, max }) = Spread::of(metric.samples(cell)) {
                        let slug = match metric {
                            Metric::Throughput => "throughput",
                            Metric::P99 => "latency",
                            Metric::RateError => "rate-error",
                        };
                        measures.insert(
                            slug.into(),
                            json!({"value": median, "lower_value": min, "upper_value": max}),
                        );
                    }
                }
                if !measures.is_empty() {
                    benchmarks.insert(cell.cell.key(), Value::Object(measures));
                }
            }
            Value::Object(benchmarks)
        }
        Format::GithubActionBenchmark => {
            #[derive(Serialize)]
            struct Entry {
                name: String,
                unit: &'static str,
                value: f64,
                range: String,
                extra: String,
            }
            let mut entries = Vec::new();
            for cell in measured {
                for metric in Metric::ALL {
                    let samples = metric.samples(cell);
                    let (samples, unit, what): (Vec<f64>, _, _) = match metric {
                        Metric::Throughput => (
                            samples
                                .iter()
                                .filter(|&&t| t > 0.0)
                                .map(|t| 1e9 / t)
                                .collect(),
                            "ns/item",
                            "time per item",
                        ),
                        Metric::P99 => (samples, "ns", "p99 latency"),
                        Metric::RateError => (samples, "fraction", "rate error"),
                    };
                    let count = samples.len();
                    if let Some(Spread { median, min, max }) = Spread::of(samples) {
                        entries.push(Entry {
                            name: format!("{} - {what}", cell.cell.key()),
                            unit,
                            value: median,
                            range: format!("± {:.1}", (max - min) / 2.0),
                            extra: format!("{count} repetitions, median"),
                        });
                    }
                }
            }
            serde_json::to_value(entries).map_err(|source| ReportError::Serialize {
                what: "the export",
                source,
            })?
        }
    };
    let text = serde_json::to_string_pretty(&value).map_err(|source| ReportError::Serialize {
        what: "the export",
        source,
    })?;
    Ok(text + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::{cell_with, results_with};

    #[test]
    fn bmf_has_both_measures_per_cell() {
        let results = results_with(vec![cell_with("crossbeam", &[100.0, 200.0, 150.0])]);
        let bmf: Value = serde_json::from_str(&export(&results, Format::Bmf).unwrap()).unwrap();
        let cell = &bmf["load/spsc [1p 1c cap=64 16B closed-loop] crossbeam"];
        assert_eq!(cell["throughput"]["value"], 150.0);
        assert_eq!(cell["throughput"]["lower_value"], 100.0);
        assert_eq!(cell["throughput"]["upper_value"], 200.0);
        assert!(cell["latency"]["value"].as_f64().unwrap() > 0.0);
    }

    #[test]
    fn github_benchmark_entries_are_smaller_is_better() {
        let results = results_with(vec![cell_with("crossbeam", &[1e6, 1e6, 1e6])]);
        let entries: Value =
            serde_json::from_str(&export(&results, Format::GithubActionBenchmark).unwrap())
                .unwrap();
        let entries = entries.as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["unit"], "ns/item");
        assert_eq!(entries[0]["value"], 1000.0);
        assert_eq!(entries[1]["unit"], "ns");
    }
}
