//! The results file: versioned JSON that says what ran where, rewritten
//! whole (to a temporary file, then renamed) after every repetition, so an
//! interrupted run leaves a valid file with everything measured so far.

use std::path::{Path, PathBuf};

use anyhow::Context;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use serde::{Deserialize, Serialize};

use super::cell::{Cell, Latency, Repetition};
use super::machine::Machine;

/// Bumped whenever a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole results file.
#[derive(Debug, Serialize, Deserialize)]
pub struct Results {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// chanlab's version and commit.
    pub chanlab: Build,
    /// Where it ran.
    pub machine: Machine,
    /// The command line, as typed.
    pub command: String,
    /// How the run was set up.
    pub settings: Settings,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When it finished; `None` while running or if it was interrupted.
    pub finished_at: Option<String>,
    /// Every cell, in plan order.
    pub cells: Vec<CellResult>,
}

/// The build that produced a results file.
#[derive(Debug, Serialize, Deserialize)]
pub struct Build {
    /// chanlab's crate version.
    pub version: String,
    /// The git commit it was built from (`-dirty` if the tree had changes).
    pub git_commit: String,
    /// `rustc --version` of the compiler.
    pub rustc: String,
    /// Version of each library under test, from `Cargo.lock`.
    pub libraries: std::collections::BTreeMap<String, String>,
}

impl Build {
    /// This binary's build.
    pub fn current() -> Build {
        Build {
            version: env!("CARGO_PKG_VERSION").into(),
            git_commit: env!("CHANLAB_GIT_COMMIT").into(),
            rustc: env!("CHANLAB_RUSTC").into(),
            libraries: env!("CHANLAB_LIBRARIES")
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .map(|(name, version)| (name.into(), version.into()))
                .collect(),
        }
    }
}

/// How a run was set up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// The profile or scenario file it came from.
    pub profile: String,
    /// Measured repetitions per cell.
    pub repetitions: usize,
    /// Target length of one measured run, in milliseconds.
    pub budget_ms: u64,
    /// The open-loop rate, as a fraction of the slowest implementation's
    /// throughput on the same load (unless a cell fixed its own rate).
    pub open_loop_fraction: f64,
    /// Busy threads running beside the cells, to see how each
    /// implementation copes with a loaded machine.
    pub background_threads: usize,
}

/// What became of one cell.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellResult {
    /// The cell's unique name.
    pub id: String,
    /// The scenario: a pattern name or `load/<shape>`.
    pub scenario: String,
    /// What ran, with every parameter.
    pub cell: Cell,
    /// The crate the implementation comes from.
    pub library: String,
    /// The flavor's note, when it differs from the library's plain API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Threads the cell used, at most, over its repetitions.
    pub threads: usize,
    /// Whether it used more threads than the machine has cores.
    pub oversubscribed: bool,
    /// Items per measured run, from sizing.
    pub items: Option<usize>,
    /// Where the cell stands.
    pub status: Status,
    /// Every measured repetition, in the order run.
    pub repetitions: Vec<Repetition>,
    /// Statistics over the repetitions.
    pub summary: Option<Summary>,
}

/// Where a cell stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Status {
    /// Not run yet.
    Pending,
    /// Every repetition so far ran and passed its oracle.
    Measured,
    /// The implementation cannot run it (a missing capability); not a
    /// failure.
    NotApplicable {
        /// Why.
        reason: String,
    },
    /// Its oracle failed or a thread panicked: a correctness failure.
    Failed {
        /// What went wrong.
        reason: String,
    },
    /// It ran past its time limit and was killed.
    Hung {
        /// The limit, in seconds.
        after_secs: f64,
        /// What it was doing: sizing or repetition N.
        during: String,
    },
    /// The worker process died (an abort, a signal) or answered nonsense.
    Crashed {
        /// Its exit status.
        exit: String,
        /// The end of what it wrote to standard error.
        stderr_tail: String,
    },
}

impl Status {
    /// Whether this is a correctness failure: failed, hung or crashed.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Status::Failed { .. } | Status::Hung { .. } | Status::Crashed { .. }
        )
    }
}

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
        let mut values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let middle = values.len() / 2;
        let median = if values.len() % 2 == 0 {
            (values[middle - 1] + values[middle]) / 2.0
        } else {
            values[middle]
        };
        Some(Spread {
            median,
            min: values[0],
            max: values[values.len() - 1],
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
    /// CPU time (user + system, all threads) per item, in nanoseconds.
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
    /// Latency over all repetitions' histograms merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
}

impl Summary {
    /// Statistics over `repetitions`; `None` when there are none.
    pub fn of(repetitions: &[Repetition]) -> anyhow::Result<Option<Summary>> {
        let per_item = |value: fn(&Repetition) -> u64| {
            Spread::of(
                repetitions
                    .iter()
                    .map(|r| value(r) as f64 / r.items.max(1) as f64),
            )
        };
        let (Some(throughput), Some(cpu_ns_per_item), Some(switches_per_item)) = (
            Spread::of(repetitions.iter().map(|r| r.throughput)),
            per_item(|r| r.cpu.user_ns + r.cpu.system_ns),
            per_item(|r| r.cpu.voluntary_switches + r.cpu.involuntary_switches),
        ) else {
            return Ok(None);
        };
        let fairness = |shares: fn(&Repetition) -> &[u64]| {
            Spread::of(repetitions.iter().filter_map(|r| min_over_max(shares(r))))
        };
        Ok(Some(Summary {
            repetitions: repetitions.len(),
            throughput,
            cpu_ns_per_item,
            switches_per_item,
            producer_fairness: fairness(|r| &r.sent_by),
            consumer_fairness: fairness(|r| &r.received_by),
            latency: merged_latency(repetitions)?,
        }))
    }
}

/// The smallest share over the largest, for two or more shares.
fn min_over_max(shares: &[u64]) -> Option<f64> {
    let (min, max) = (shares.iter().min()?, shares.iter().max()?);
    (shares.len() > 1 && *max > 0).then(|| *min as f64 / *max as f64)
}

/// The latency of every repetition's histogram added together.
fn merged_latency(repetitions: &[Repetition]) -> anyhow::Result<Option<Latency>> {
    let mut merged: Option<Histogram<u64>> = None;
    for latency in repetitions.iter().filter_map(|r| r.latency.as_ref()) {
        let histogram = decode(&latency.histogram_v2)?;
        match &mut merged {
            None => merged = Some(histogram),
            Some(total) => total
                .add(&histogram)
                .map_err(|err| anyhow::anyhow!("merging latency histograms: {err:?}"))?,
        }
    }
    merged.as_ref().map(Latency::of).transpose()
}

/// A histogram from its base64 V2 encoding.
pub fn decode(encoded: &str) -> anyhow::Result<Histogram<u64>> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .context("decoding a latency histogram's base64")?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|err| anyhow::anyhow!("decoding a latency histogram: {err:?}"))
}

/// Writes a results file in place, atomically.
pub struct Writer {
    path: PathBuf,
}

impl Writer {
    /// A writer of `dir/results.json`; creates `dir`.
    pub fn create(dir: &Path) -> anyhow::Result<Writer> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Writer {
            path: dir.join("results.json"),
        })
    }

    /// Where the results go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the file with `results`: written beside it, then renamed
    /// over it, so a reader never sees half a file.
    pub fn write(&self, results: &Results) -> anyhow::Result<()> {
        let text = serde_json::to_vec_pretty(results).context("serializing the results")?;
        let partial = self.path.with_extension("json.partial");
        std::fs::write(&partial, text).with_context(|| format!("writing {}", partial.display()))?;
        std::fs::rename(&partial, &self.path)
            .with_context(|| format!("replacing {}", self.path.display()))
    }
}
