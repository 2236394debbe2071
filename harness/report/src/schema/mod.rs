//! The results file: versioned JSON that says what ran where, with every
//! repetition (its latency percentiles among its figures) and each cell's
//! latency histogram, so a report can be re-cut later without re-running.
//! `chanlab run` rewrites it whole (to a temporary file, then renamed) as
//! it goes and at every stop, so an interrupted run leaves a valid file
//! with what it measured.
//!
//! This module holds the types and their labels; `summary.rs` the
//! statistics over a cell's repetitions, `latency.rs` the latency
//! percentiles and the histogram codec, `verdict.rs` an implementation's
//! conformance verdict, `io.rs` reading and the atomic writer, and
//! `tests.rs` results built by hand for the crate's tests.

mod instructions;
mod io;
mod latency;
mod placement;
mod provenance;
mod summary;
mod verdict;

use std::collections::BTreeMap;

use chanlab_contract::Capacity;
use chanlab_workload::{LoadSpec, Measure};
use chanlab_workload::{Params, Pattern, Runtime};
use serde::{Deserialize, Serialize};

pub use instructions::{InstructionCount, Instructions};
pub use io::{UPGRADED_FROM, Writer, write_atomically};
pub use latency::{Latency, MERGED_DIGITS, PERCENTILES, decode, encode};
pub use placement::{DISTURBANCE_RULE, Disturbance, Placement, PlacementPolicy, ThreadDisturbance};
pub use provenance::{Build, GoToolchain, Machine};
pub use summary::{Spread, Summary};
pub use verdict::{Finding, Verdict};

/// Bumped whenever a field changes meaning or disappears. 5: a cell's
/// latency percentiles are each repetition's own over the repetitions
/// (4 kept a merged histogram's), and CPU per item leaves the start-up out.
/// 6: the machine's clock and SMT and the cargo profile are recorded.
/// 7: a repetition keeps its percentiles, not its histogram; a cell keeps
/// every repetition's histogram merged, at 2 significant digits.
pub const SCHEMA_VERSION: u32 = 7;

/// What a baseline build's cells are named in a run over two builds
/// (`chanlab ab --baseline-build`): their implementation and this.
pub const BASELINE_SUFFIX: &str = "@baseline";

/// The name of the Go reference implementation (`impls/go`).
pub const GO_REFERENCE: &str = "go-chan";

/// A whole results file.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    pub settings: RunSettings,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When it finished; `None` while running or if it was interrupted.
    pub finished_at: Option<String>,
    /// Each implementation's conformance verdict, by name.
    #[serde(default)]
    pub verdicts: BTreeMap<String, Verdict>,
    /// Instructions per operation of each flavor's single-thread paths,
    /// counted under valgrind, or why none were; `None` in files written
    /// before they were counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<Instructions>,
    /// Every cell, in plan order.
    pub cells: Vec<CellResult>,
}

/// How a run was set up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSettings {
    /// The profile or scenario file it came from.
    pub profile: String,
    /// Measured repetitions per cell: rounds every cell takes part in.
    pub repetitions: usize,
    /// The most repetitions a cell may get, deciding rounds included;
    /// `None` in files written before deciding rounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub most_repetitions: Option<usize>,
    /// The measuring time (sizing included) after which no deciding round
    /// starts, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deciding_cap_ms: Option<u64>,
    /// Target length of one measured run, in milliseconds.
    pub budget_ms: u64,
    /// Busy threads running beside the cells, to see how each
    /// implementation copes with a loaded machine.
    pub background_threads: usize,
    /// How measured threads were placed on cores; `None` in files written
    /// before placement was chosen (the OS placed them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<PlacementPolicy>,
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
    /// What a user chooses it among; `None` in files written before it was
    /// recorded ([`CellResult::class`] then derives it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<Class>,
    /// A reference line (the Go reference, chanlab's own channels and
    /// primitives, the broken twins): shown beside the others, never ranked.
    #[serde(default)]
    pub reference: bool,
    /// Threads the cell used, at most, over its repetitions.
    pub threads: usize,
    /// Whether it used more threads than the machine has cores.
    pub oversubscribed: bool,
    /// Items per measured run, from sizing.
    pub items: Option<usize>,
    /// Times a measured run came out under half the budget, or over four
    /// times it, and the cell was re-sized from it and measured again (that
    /// run is not kept).
    #[serde(default)]
    pub resized: usize,
    /// Why the cell's measured runs last under half the budget, when they
    /// do: its item limit, or re-sizing that did not get there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_of_budget: Option<String>,
    /// Where the cell stands.
    pub status: Status,
    /// Every measured repetition kept, in the order run.
    pub repetitions: Vec<Repetition>,
    /// Repetitions found disturbed ([`DISTURBANCE_RULE`]) and measured
    /// again: the re-measurement is in `repetitions`, in its place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remeasured: Vec<Repetition>,
    /// Every measured repetition's latency histogram (the re-measured ones
    /// too) added together at [`MERGED_DIGITS`] significant digits,
    /// HdrHistogram V2 with deflate, base64: the distribution's shape, to
    /// re-cut at other percentiles. Its percentiles are not the cell's
    /// (`summary.latency_ns` holds those: here one slow repetition sets
    /// them), and no table or chart shows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_histogram_v2: Option<String>,
    /// Why the cell got no more repetitions than it has; `None` in files
    /// written before deciding rounds, or while it is measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stop>,
    /// Statistics over the repetitions kept.
    pub summary: Option<Summary>,
    /// Statistics over the repetitions kept and the re-measured ones
    /// together, when some were re-measured: the spread without the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_with_remeasured: Option<Summary>,
    /// Repetitions that ran while the host had the cores placed otherwise
    /// than in the run's main regime, set apart by
    /// [`Results::in_main_regime`] for a report; the runner writes none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_regimes: Vec<Repetition>,
    /// Whether every repetition ran outside the run's main regime, so its
    /// figures are of another placement than the others'.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub only_other_regimes: bool,
}

/// Why a cell got no more repetitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// Every row it is ranked in decided (clear or tied).
    Decided,
    /// It is ranked in no row, so only the rounds every cell takes.
    NotRanked,
    /// A row it is in could not tell, and the run reached its cap on
    /// measuring time.
    TimeCap,
    /// A row it is in could not tell, and it reached the most repetitions.
    MostRepetitions,
    /// A row it is in could not tell, and would need more repetitions than
    /// it may get.
    OutOfReach,
    /// It stopped being measurable (refused, failed, hung).
    NotMeasured,
}

/// The kind of implementation a user chooses among: a recommendation
/// ranks only within one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Blocking calls on OS threads.
    Blocking,
    /// Futures, as tasks on a tokio runtime.
    Async,
    /// One channel with a blocking end and an async end.
    Bridge,
}

impl Class {
    /// Every class, in the order a report shows them.
    pub const ALL: [Class; 3] = [Class::Blocking, Class::Async, Class::Bridge];

    /// Its name in a report.
    pub fn name(self) -> &'static str {
        match self {
            Class::Blocking => "blocking (threads)",
            Class::Async => "async (tasks)",
            Class::Bridge => "sync/async bridge",
        }
    }
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
        /// The kind of refusal (`capacity-not-supported`, `no-select`,
        /// `invalid-params`, ...), to group refusals by; empty in files
        /// written before it was recorded.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        kind: String,
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

/// What a page groups a cell with ([`CellResult::group`]): whether it is
/// a reference line, its class, its runtime.
pub type Group = (bool, Class, Option<Runtime>);

impl CellResult {
    /// What a user chooses it among: as recorded, or for an older file,
    /// async when it ran on a runtime.
    pub fn class(&self) -> Class {
        self.class.unwrap_or(match self.cell.runtime {
            Some(_) => Class::Async,
            None => Class::Blocking,
        })
    }

    /// What a page groups it with: reference lines after the others, then
    /// the class, then the runtime. Rows are ordered within a group, never
    /// across one: the groups are different questions.
    pub fn group(&self) -> Group {
        (self.reference, self.class(), self.cell.runtime)
    }

    /// [`CellResult::group`] in words: `async (tasks) on multi-thread`,
    /// `blocking (threads), reference`.
    pub fn group_name(&self) -> String {
        let mut name = self.class().name().to_owned();
        if let Some(runtime) = self.cell.runtime {
            name = format!("{name} on {}", runtime.name());
        }
        if self.reference {
            name += ", reference";
        }
        name
    }

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

/// What each results schema changed, for a refusal to compare across it.
pub const SCHEMA_CHANGES: [(u32, &str); 3] = [
    (
        2,
        "a channel load gives every producer a fixed share of the messages",
    ),
    (
        3,
        "an open-loop cell records how its rate is derived, so a fixed rate is part of its identity and a derived one is not",
    ),
    (
        4,
        "measured threads are pinned to cores of their own by default, and each repetition records its placement, what disturbed it and the host's cross-core round trip",
    ),
];

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
        /// zero is set by the runner, as `offered` says, before it runs.
        spec: LoadSpec,
        /// How the runner chooses an open-loop rate; `None` for a rate the
        /// plan fixed, and for the other measures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offered: Option<Offered>,
    },
}

/// How the runner chooses an open-loop load's rate from the throughput it
/// sized the load at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "of", rename_all = "kebab-case")]
pub enum Offered {
    /// This fraction of the implementation's own saturation on the load:
    /// points along its own curve, to see where its tail bends.
    OwnSaturation {
        /// Between 0 and 1.
        fraction: f64,
    },
    /// This fraction of the slowest implementation's saturation on the
    /// load: one rate for every implementation, so their tails compare
    /// under the same offered load.
    SlowestSaturation {
        /// Between 0 and 1.
        fraction: f64,
    },
}

impl Offered {
    /// The fraction of a saturation.
    pub fn fraction(self) -> f64 {
        match self {
            Offered::OwnSaturation { fraction } | Offered::SlowestSaturation { fraction } => {
                fraction
            }
        }
    }

    /// A short form for labels: `50% of own`, `50% of slowest`.
    pub fn label(self) -> String {
        let whose = match self {
            Offered::OwnSaturation { .. } => "own",
            Offered::SlowestSaturation { .. } => "slowest",
        };
        format!("{:.0}% of {whose}", self.fraction() * 100.0)
    }
}

impl Workload {
    /// The scenario's name: the pattern's, or `load/<shape>`.
    pub fn scenario(&self) -> String {
        match self {
            Workload::Pattern { pattern, .. } => pattern.name().to_owned(),
            Workload::Load { spec, .. } => format!("load/{}", spec.shape()),
        }
    }

    /// The parameters that tell cells of one scenario apart, in a short
    /// human form (`2p 3w cap=16`), with a derived open-loop rate once it
    /// is set.
    pub fn label(&self) -> String {
        let mut label = self.key_label();
        if let Workload::Load {
            spec,
            offered: Some(_),
        } = self
            && let Measure::OpenLoop { rate } = spec.measure
            && rate > 0.0
        {
            label += &format!(" {rate:.0}/s");
        }
        label
    }

    /// [`label`](Self::label) without a derived open-loop rate (a fixed
    /// one stays): what matches one workload across runs and machines,
    /// whose derived rates differ.
    pub fn key_label(&self) -> String {
        match self {
            Workload::Pattern { pattern, params } => {
                let mut label = format!(
                    "{}p {}w cap={}",
                    params.producers,
                    params.workers,
                    params.capacity.label()
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
            Workload::Load { spec, offered } => {
                let mut label = format!(
                    "{}p {}c cap={} {}B {}",
                    spec.producers,
                    spec.consumers,
                    spec.capacity.label(),
                    spec.message_bytes,
                    spec.measure.name()
                );
                match (offered, spec.measure) {
                    (Some(offered), _) => label += &format!(" {}", offered.label()),
                    (None, Measure::OpenLoop { rate }) => label += &format!(" {rate:.0}/s"),
                    _ => {}
                }
                label
            }
        }
    }

    /// The capacity of its channels.
    pub fn capacity(&self) -> Capacity {
        match self {
            Workload::Pattern { params, .. } => params.capacity,
            Workload::Load { spec, .. } => spec.capacity,
        }
    }

    /// The same workload with `items` items.
    pub fn with_items(&self, items: usize) -> Workload {
        let mut sized = self.clone();
        match &mut sized {
            Workload::Pattern { params, .. } => params.items = items,
            Workload::Load { spec, .. } => spec.items = items,
        }
        sized
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

    /// [`id`](Self::id) without a derived open-loop rate (a fixed one
    /// stays): what matches the same cell in another run.
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

impl CpuUsage {
    /// User and system CPU time together, in nanoseconds.
    pub fn total_ns(&self) -> u64 {
        self.user_ns.saturating_add(self.system_ns)
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
    /// Heap allocations per item, by every thread of the worker process:
    /// the measured run's count less its warm-up's, over the items the
    /// measured run has beyond the warm-up's, so the setup both runs share
    /// cancels (chanlab's counting allocator; Go's `MemStats.Mallocs`).
    /// `None` where nothing counted them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocations_per_item: Option<f64>,
    /// The unmeasured warm-up run before it (a tenth of the items), so a
    /// figure can be taken over the measured run beyond it, where the
    /// start-up both runs share cancels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_up: Option<WarmUp>,
    /// The round it was measured in, from 0: repetitions of two cells in
    /// one round ran close together in time, so a paired comparison pairs
    /// them. `None` in files written before rounds were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<usize>,
    /// Where its measured threads ran; `None` from a worker that does not
    /// say (an older build's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// What disturbed its measured run; `None` from a worker that does not
    /// say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disturbance: Option<Disturbance>,
}

/// What a repetition's warm-up run took.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct WarmUp {
    /// Items through it.
    pub items: u64,
    /// Its timed part, as in [`Repetition::elapsed_ns`].
    pub elapsed_ns: u64,
    /// User and system CPU time over it, as in [`Repetition::cpu`].
    pub cpu_ns: u64,
}

impl Repetition {
    /// The measured run beyond its warm-up: (items, wall nanoseconds, CPU
    /// nanoseconds), where the start-up both runs share (threads, a
    /// runtime, the channel) cancels. The whole run when there is no
    /// warm-up on record or it is no smaller.
    pub fn beyond_warm_up(&self) -> (f64, f64, f64) {
        let whole = (
            self.items as f64,
            self.elapsed_ns as f64,
            self.cpu.total_ns() as f64,
        );
        match self.warm_up {
            Some(warm) if warm.items < self.items && warm.elapsed_ns < self.elapsed_ns => (
                (self.items - warm.items) as f64,
                (self.elapsed_ns - warm.elapsed_ns) as f64,
                self.cpu.total_ns().saturating_sub(warm.cpu_ns) as f64,
            ),
            _ => whole,
        }
    }

    /// Why the run was disturbed by [`DISTURBANCE_RULE`] on a machine of
    /// `cores` cores; `None` when it was not, or nothing was recorded.
    pub fn disturbed(&self, cores: usize) -> Option<String> {
        self.disturbance.as_ref()?.disturbed(self.elapsed_ns, cores)
    }

    /// CPU time over wall time beyond the warm-up: the cores the run kept
    /// busy, on average, start-up excluded.
    pub fn busy_cores(&self) -> f64 {
        let (_, wall, cpu) = self.beyond_warm_up();
        cpu / wall.max(1.0)
    }
}

#[cfg(test)]
pub(crate) mod tests;
