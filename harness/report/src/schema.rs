//! The results file: versioned JSON that says what ran where, with every
//! repetition and every latency histogram, so a report can be re-cut later
//! without re-running. `chanlab run` rewrites it whole (to a temporary file,
//! then renamed) after every job, so an interrupted run leaves a valid file
//! with everything measured so far.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine as _;
use chanlab_contract::Capacity;
use chanlab_scenarios::load::{LoadSpec, Measure};
use chanlab_scenarios::{Params, Pattern, Runtime};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

/// Bumped whenever a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// The name of the Go reference implementation (`impls/go`).
pub const GO_REFERENCE: &str = "go-chan";

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

impl Results {
    /// Reads a results file, refusing one from a newer schema.
    pub fn load(path: &Path) -> anyhow::Result<Results> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let results: Results = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a chanlab results file", path.display()))?;
        anyhow::ensure!(
            results.schema_version <= SCHEMA_VERSION,
            "{} has results schema {}, newer than this chanlab's {SCHEMA_VERSION}: update chanlab",
            path.display(),
            results.schema_version
        );
        Ok(results)
    }
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

impl CellResult {
    /// The median throughput over its repetitions; 0 before any.
    pub fn median_throughput(&self) -> f64 {
        self.summary.as_ref().map_or(0.0, |s| s.throughput.median)
    }
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
    /// A latency percentile by name (`p99`), in nanoseconds, when latency
    /// was timed.
    pub fn percentile_ns(&self, name: &str) -> Option<u64> {
        self.latency.as_ref()?.percentile_ns(name)
    }

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

/// Where a run ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    /// The host's name.
    pub hostname: String,
    /// The CPU model, from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Cores this process may use: more threads than this are
    /// oversubscribed.
    pub cores: usize,
    /// The operating system, from `/etc/os-release`.
    pub os: String,
    /// The kernel release.
    pub kernel: String,
    /// The CPU architecture.
    pub arch: String,
    /// The Go toolchain that ran `go-chan` cells, when any ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go: Option<GoToolchain>,
}

/// The Go toolchain behind the `go-chan` cells.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GoToolchain {
    /// `runtime.Version()`, e.g. `go1.19.8`.
    pub version: String,
    /// The Ps running goroutines (`runtime.GOMAXPROCS(0)`).
    pub gomaxprocs: usize,
}

/// What a cell runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Workload {
    /// A Go pattern, end to end: its threads start, run, end and its
    /// oracle checks the run, all inside the clock.
    Pattern {
        /// Which pattern.
        pattern: Pattern,
        /// Its parameters; `items` is set by sizing.
        params: Params,
    },
    /// Raw channel traffic: the clock covers the traffic (and, for tasks,
    /// spawning them), not the oracle, which checks the run afterwards.
    Load {
        /// The load; `items` is set by sizing, and an open-loop rate of
        /// zero is set by the runner from the other implementations'
        /// throughput before it runs.
        spec: LoadSpec,
    },
}

impl Workload {
    /// The scenario's name: the pattern's, or `load/<shape>`.
    pub fn scenario(&self) -> String {
        match self {
            Workload::Pattern { pattern, .. } => pattern.name().to_owned(),
            Workload::Load { spec } => format!("load/{}", spec.shape()),
        }
    }

    /// The parameters that tell cells of one scenario apart, in a short
    /// human form (`2p 3w cap=16`), with an open-loop rate once it is set.
    pub fn label(&self) -> String {
        let mut label = self.key_label();
        // A derived rate (still zero) is set later, the same for every
        // implementation on the load.
        if let Workload::Load { spec } = self
            && let Measure::OpenLoop { rate } = spec.measure
            && rate > 0.0
        {
            label += &format!(" {rate:.0}/s");
        }
        label
    }

    /// [`label`](Self::label) without the open-loop rate: what matches one
    /// workload across runs and machines, whose derived rates differ.
    pub fn key_label(&self) -> String {
        match self {
            Workload::Pattern { pattern, params } => {
                let mut label = format!(
                    "{}p {}w cap={}",
                    params.producers,
                    params.workers,
                    capacity_label(params.capacity)
                );
                if params.payload > 0 {
                    label += &format!(" {}B", params.payload);
                }
                if !params.work.is_zero() {
                    label += &format!(" work={:?}", params.work);
                }
                if *pattern == Pattern::RateLimit {
                    label += &format!(" rate={} burst={}", params.rate, params.burst);
                }
                label
            }
            Workload::Load { spec } => format!(
                "{}p {}c cap={} {}B {}",
                spec.producers,
                spec.consumers,
                capacity_label(spec.capacity),
                spec.message_bytes,
                spec.measure.name()
            ),
        }
    }

    /// The capacity of its channels.
    pub fn capacity(&self) -> Capacity {
        match self {
            Workload::Pattern { params, .. } => params.capacity,
            Workload::Load { spec } => spec.capacity,
        }
    }

    /// The same workload with `items` items.
    pub fn with_items(&self, items: usize) -> Workload {
        let mut sized = self.clone();
        match &mut sized {
            Workload::Pattern { params, .. } => params.items = items,
            Workload::Load { spec } => spec.items = items,
        }
        sized
    }
}

/// `0`, `64` or `unbounded`.
pub fn capacity_label(capacity: Capacity) -> String {
    match capacity {
        Capacity::Bounded(n) => n.to_string(),
        Capacity::Unbounded => "unbounded".into(),
    }
}

/// A workload on an implementation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// What runs.
    pub workload: Workload,
    /// The implementation's name.
    pub implementation: String,
    /// The runtime, for an async implementation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Runtime>,
}

impl Cell {
    /// A name unique within a run: scenario, parameters, implementation.
    pub fn id(&self) -> String {
        format!(
            "{} [{}] {}",
            self.workload.scenario(),
            self.workload.label(),
            self.implementation_label()
        )
    }

    /// [`id`](Self::id) without the open-loop rate: what matches the same
    /// cell in another run.
    pub fn key(&self) -> String {
        format!(
            "{} [{}] {}",
            self.workload.scenario(),
            self.workload.key_label(),
            self.implementation_label()
        )
    }

    /// The implementation, with its runtime when it has one
    /// (`tokio-mpsc@multi-thread`).
    pub fn implementation_label(&self) -> String {
        match self.runtime {
            Some(runtime) => format!("{}@{}", self.implementation, runtime.name()),
            None => self.implementation.clone(),
        }
    }
}

/// CPU time and context switches of the whole worker process (all its
/// threads) over one measured run: the run's thread start-up or runtime
/// construction included (a fixed cost, small beside a run of the
/// budget), a load's oracle excluded. In the open loop it includes the
/// producers' pacing, so it is not the channel's cost there.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CpuUsage {
    /// User-mode CPU time, in nanoseconds.
    pub user_ns: u64,
    /// Kernel-mode CPU time, in nanoseconds.
    pub system_ns: u64,
    /// Times a thread gave up the CPU to wait (blocking, sleeping).
    pub voluntary_switches: u64,
    /// Times a thread was preempted.
    pub involuntary_switches: u64,
}

/// Latency of one repetition: percentiles in nanoseconds and the whole
/// histogram, so a report can be re-cut later.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Latency {
    /// Messages recorded.
    pub count: u64,
    /// Mean, in nanoseconds.
    pub mean_ns: f64,
    /// Percentiles, in nanoseconds: `p50`, `p90`, `p99`, `p99.9`,
    /// `p99.99`, `max`.
    pub percentiles_ns: BTreeMap<String, u64>,
    /// The histogram, HdrHistogram V2 with deflate, base64.
    pub histogram_v2: String,
}

/// The percentiles a [`Latency`] reports, by name.
pub const PERCENTILES: [(&str, f64); 5] = [
    ("p50", 50.0),
    ("p90", 90.0),
    ("p99", 99.0),
    ("p99.9", 99.9),
    ("p99.99", 99.99),
];

impl Latency {
    /// A percentile by name (`p99`), in nanoseconds.
    pub fn percentile_ns(&self, name: &str) -> Option<u64> {
        self.percentiles_ns.get(name).copied()
    }

    /// Percentiles and an encoded copy of `histogram`.
    pub fn of(histogram: &Histogram<u64>) -> anyhow::Result<Latency> {
        let mut percentiles_ns: BTreeMap<String, u64> = PERCENTILES
            .iter()
            .map(|&(name, q)| (name.to_owned(), histogram.value_at_percentile(q)))
            .collect();
        percentiles_ns.insert("max".into(), histogram.max());
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(histogram, &mut bytes)
            .map_err(|err| anyhow::anyhow!("encoding a latency histogram: {err:?}"))?;
        Ok(Latency {
            count: histogram.len(),
            mean_ns: histogram.mean(),
            percentiles_ns,
            histogram_v2: base64::engine::general_purpose::STANDARD.encode(bytes),
        })
    }
}

/// One measured run of a cell.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repetition {
    /// Items through the run.
    pub items: u64,
    /// The timed part: a pattern's whole run, a load's traffic.
    pub elapsed_ns: u64,
    /// Items per second.
    pub throughput: f64,
    /// CPU cost of the timed part.
    pub cpu: CpuUsage,
    /// OS threads the run used (for async cells: the runtime's workers).
    pub threads: usize,
    /// Messages each producer sent (loads only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sent_by: Vec<u64>,
    /// Messages each consumer received (loads only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub received_by: Vec<u64>,
    /// The pattern's own counts (drops, restarts, shared executions).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counters: BTreeMap<String, u64>,
    /// Per-message latency (loads in closed or open loop only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
}

#[cfg(test)]
pub(crate) mod tests {
    //! Results built by hand, for the tests of everything that reads them.

    use super::*;

    /// A finished run of `cells` on a two-core machine.
    pub(crate) fn results_with(cells: Vec<CellResult>) -> Results {
        Results {
            schema_version: SCHEMA_VERSION,
            chanlab: Build {
                version: "0.1.0".into(),
                git_commit: "abc123".into(),
                rustc: "rustc 1.95.0".into(),
                libraries: BTreeMap::new(),
            },
            machine: Machine {
                hostname: "testbox".into(),
                cpu_model: "Test CPU".into(),
                cores: 2,
                os: "Debian".into(),
                kernel: "6.1".into(),
                arch: "x86_64".into(),
                go: None,
            },
            command: "chanlab run".into(),
            settings: Settings {
                profile: "quick".into(),
                repetitions: 3,
                budget_ms: 100,
                open_loop_fraction: 0.5,
                background_threads: 0,
            },
            started_at: "2026-11-23T00:00:00Z".into(),
            finished_at: Some("2026-11-23T00:01:00Z".into()),
            cells,
        }
    }

    /// An SPSC bounded(64) closed-loop load on `implementation`, one
    /// repetition per throughput, each with a latency histogram around
    /// one microsecond per million items per second it lacks.
    pub(crate) fn cell_with(implementation: &str, throughputs: &[f64]) -> CellResult {
        load_cell(implementation, 1, 1, throughputs)
    }

    /// A closed-loop load of `producers` x `consumers` on `implementation`.
    pub(crate) fn load_cell(
        implementation: &str,
        producers: usize,
        consumers: usize,
        throughputs: &[f64],
    ) -> CellResult {
        let cell = Cell {
            workload: Workload::Load {
                spec: LoadSpec {
                    producers,
                    consumers,
                    capacity: Capacity::Bounded(64),
                    message_bytes: 16,
                    items: 1000,
                    measure: Measure::ClosedLoop,
                },
            },
            implementation: implementation.into(),
            runtime: None,
        };
        let repetitions: Vec<Repetition> = throughputs
            .iter()
            .map(|&throughput| {
                let mut histogram =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
                let typical = (1e9 / throughput.max(1.0)) as u64;
                for i in 1..=100 {
                    histogram.record(typical * i / 10).expect("within bounds");
                }
                Repetition {
                    items: 1000,
                    elapsed_ns: (1000.0 / throughput * 1e9) as u64,
                    throughput,
                    cpu: CpuUsage::default(),
                    threads: producers + consumers,
                    sent_by: vec![1000 / producers as u64; producers],
                    received_by: vec![1000 / consumers as u64; consumers],
                    counters: BTreeMap::new(),
                    latency: Some(Latency::of(&histogram).expect("encodes")),
                }
            })
            .collect();
        let summary = Summary::of(&repetitions).expect("summarizes");
        CellResult {
            id: cell.id(),
            scenario: cell.workload.scenario(),
            cell,
            library: implementation.into(),
            note: None,
            threads: producers + consumers,
            oversubscribed: false,
            items: Some(1000),
            status: Status::Measured,
            repetitions,
            summary,
        }
    }
}
