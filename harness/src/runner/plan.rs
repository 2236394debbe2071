//! Which cells a run measures: the built-in profiles, a user's scenario
//! file, and the filters that narrow either.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use chanlab_contract::Capacity;
use chanlab_scenarios::load::{LoadSpec, MESSAGE_SIZES, Measure};
use chanlab_scenarios::{Params, Pattern, Primitive, Runtime};
use serde::Deserialize;

use super::implementations::{self, Driver, Implementation};
use chanlab_report::schema::{Cell, Workload, capacity_label};

/// A built-in matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Every pattern on every capable implementation and the main channel
    /// loads, small: about two minutes on two cores.
    Quick,
    /// More repetitions, both runtimes, and sweeps over threads, capacity
    /// and message size: the better part of an hour on two cores.
    Full,
}

/// The cells of a run and how to repeat them.
pub struct Plan {
    /// The profile's name or the scenario file's path.
    pub name: String,
    /// Every cell, in the order each round visits them.
    pub cells: Vec<Cell>,
    /// Measured repetitions per cell.
    pub repetitions: usize,
    /// Target length of one measured run.
    pub budget: Duration,
    /// Open-loop rate: this fraction of the slowest implementation's
    /// throughput on the same load.
    pub open_loop_fraction: f64,
}

/// Open-loop load: half the slowest implementation's saturation.
const OPEN_LOOP_FRACTION: f64 = 0.5;

/// An open-loop measure whose rate the runner sets from the other cells.
pub const DERIVED_RATE: Measure = Measure::OpenLoop { rate: 0.0 };

impl Plan {
    /// The cells of `profile`.
    pub fn profile(profile: Profile) -> Plan {
        let shipped = implementations::all(false);
        let mut cells = Vec::new();
        let (runtimes, repetitions, budget_ms): (&[Runtime], _, _) = match profile {
            Profile::Quick => (&[Runtime::MultiThread], 3, 100),
            Profile::Full => (&Runtime::ALL, 5, 200),
        };
        for &pattern in Pattern::ALL {
            let mut sweep = vec![Params::default()];
            // The quick profile's one scaling curve over workers.
            if profile == Profile::Quick && pattern == Pattern::WorkerPool {
                sweep.extend([1, 4].map(|workers| Params {
                    workers,
                    ..Params::default()
                }));
            }
            if profile == Profile::Full
                && matches!(pattern, Pattern::WorkerPool | Pattern::ProducerConsumer)
            {
                sweep.extend([1, 4, 8].map(|workers| Params {
                    workers,
                    ..Params::default()
                }));
                sweep.extend(
                    [
                        Capacity::RENDEZVOUS,
                        Capacity::Bounded(1),
                        Capacity::Unbounded,
                    ]
                    .map(|capacity| Params {
                        capacity,
                        ..Params::default()
                    }),
                );
            }
            for params in sweep {
                cells.extend(cells_on(
                    Workload::Pattern { pattern, params },
                    &applicable_to(pattern, &shipped),
                    runtimes,
                ));
            }
        }
        let channels: Vec<Implementation> =
            shipped.iter().filter(|i| i.is_channel()).cloned().collect();
        let timed = [Measure::Throughput, Measure::ClosedLoop, DERIVED_RATE];
        let mut loads = Vec::new();
        match profile {
            Profile::Quick => {
                for (producers, consumers) in [(1, 1), (2, 2)] {
                    for measure in timed {
                        loads.push(load(
                            producers,
                            consumers,
                            Capacity::Bounded(64),
                            16,
                            measure,
                        ));
                    }
                }
                // A third point for the scaling curve over producers.
                loads.push(load(4, 4, Capacity::Bounded(64), 16, Measure::Throughput));
                loads.push(load(1, 1, Capacity::RENDEZVOUS, 16, Measure::Throughput));
            }
            Profile::Full => {
                let capacities = [
                    Capacity::RENDEZVOUS,
                    Capacity::Bounded(1),
                    Capacity::Bounded(64),
                    Capacity::Unbounded,
                ];
                for (producers, consumers) in [(1, 1), (2, 1), (4, 1), (2, 2), (4, 4), (8, 8)] {
                    for capacity in capacities {
                        loads.push(load(
                            producers,
                            consumers,
                            capacity,
                            16,
                            Measure::Throughput,
                        ));
                    }
                }
                for (producers, consumers) in [(1, 1), (2, 2), (4, 4)] {
                    for capacity in [Capacity::Bounded(1), Capacity::Bounded(64)] {
                        for measure in [Measure::ClosedLoop, DERIVED_RATE] {
                            loads.push(load(producers, consumers, capacity, 16, measure));
                        }
                    }
                }
                for (producers, consumers) in [(1, 1), (2, 2)] {
                    for bytes in MESSAGE_SIZES.into_iter().filter(|&b| b != 16) {
                        loads.push(load(
                            producers,
                            consumers,
                            Capacity::Bounded(64),
                            bytes,
                            Measure::Throughput,
                        ));
                    }
                }
            }
        }
        for spec in loads {
            cells.extend(cells_on(Workload::Load { spec }, &channels, runtimes));
        }
        Plan {
            name: format!("{profile:?}").to_lowercase(),
            cells,
            repetitions,
            budget: Duration::from_millis(budget_ms),
            open_loop_fraction: OPEN_LOOP_FRACTION,
        }
    }

    /// The cells a scenario file defines.
    pub fn file(path: &Path) -> anyhow::Result<Plan> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file: ScenarioFile = toml::from_str(&text)
            .with_context(|| format!("in scenario file {}", path.display()))?;
        file.plan(path.display().to_string())
            .with_context(|| format!("in scenario file {}", path.display()))
    }

    /// Keeps only the cells `filter` admits; an empty result is an error
    /// that says what was asked.
    pub fn filter(mut self, filter: &Filter) -> anyhow::Result<Plan> {
        filter.check_names()?;
        self.cells.retain(|cell| filter.admits(cell));
        ensure!(
            !self.cells.is_empty(),
            "no cell of the {} plan matches the filters",
            self.name
        );
        Ok(self)
    }
}

/// A channel load with every parameter but its size.
fn load(
    producers: usize,
    consumers: usize,
    capacity: Capacity,
    message_bytes: usize,
    measure: Measure,
) -> LoadSpec {
    LoadSpec {
        producers,
        consumers,
        capacity,
        message_bytes,
        items: 0,
        measure,
    }
}

/// The implementations `pattern` runs on, of `among`: blocking flavors if
/// it uses channels, async flavors if it has an async version, and the
/// primitives it compares.
fn applicable_to(pattern: Pattern, among: &[Implementation]) -> Vec<Implementation> {
    among
        .iter()
        .filter(|i| match i.driver {
            Driver::Sync { .. } => pattern.uses_channels(),
            Driver::Async { .. } => pattern.has_async_version(),
            Driver::Bridge { .. } => false,
            Driver::Primitive(primitive) => Primitive::for_pattern(pattern).contains(&primitive),
            Driver::Go => super::go::PATTERNS.contains(&pattern),
        })
        .cloned()
        .collect()
}

/// `workload` on each of `implementations`, async ones on each of
/// `runtimes`.
fn cells_on(
    workload: Workload,
    implementations: &[Implementation],
    runtimes: &[Runtime],
) -> Vec<Cell> {
    let mut cells = Vec::new();
    for implementation in implementations {
        let cell = |runtime| Cell {
            workload: workload.clone(),
            implementation: implementation.name.clone(),
            runtime,
        };
        if implementation.is_async() {
            cells.extend(runtimes.iter().map(|&runtime| cell(Some(runtime))));
        } else {
            cells.push(cell(None));
        }
    }
    cells
}

/// What `chanlab run` keeps of a plan. An empty list admits everything.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Filter {
    /// Only these scenarios: pattern names, or `load/spsc`, `load/mpsc`,
    /// `load/mpmc` (repeatable).
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Only these implementations (repeatable; broken twins run only when
    /// named here).
    #[arg(long = "impl", value_name = "NAME")]
    pub impls: Vec<String>,
    /// Only these capacities: a number (0 is rendezvous) or `unbounded`
    /// (repeatable).
    #[arg(long = "capacity", value_name = "CAPACITY")]
    pub capacities: Vec<String>,
    /// Only these load measures: `throughput`, `closed-loop`, `open-loop`
    /// (repeatable; patterns count as `throughput`).
    #[arg(long = "measure", value_name = "MEASURE")]
    pub measures: Vec<String>,
    /// Only these runtimes for async implementations: `current-thread`,
    /// `multi-thread` (repeatable).
    #[arg(long = "runtime", value_name = "RUNTIME")]
    pub runtimes: Vec<String>,
}

impl Filter {
    fn admits(&self, cell: &Cell) -> bool {
        let any =
            |wanted: &[String], value: &str| wanted.is_empty() || wanted.iter().any(|w| w == value);
        let measure = match &cell.workload {
            Workload::Load { spec } => spec.measure.name(),
            Workload::Pattern { .. } => Measure::Throughput.name(),
        };
        any(&self.scenarios, &cell.workload.scenario())
            && any(&self.impls, &cell.implementation)
            && any(&self.capacities, &capacity_label(cell.workload.capacity()))
            && any(&self.measures, measure)
            && cell
                .runtime
                .is_none_or(|runtime| any(&self.runtimes, runtime.name()))
    }

    /// Refuses a name that matches nothing chanlab knows, so a typo is not
    /// an empty run.
    fn check_names(&self) -> anyhow::Result<()> {
        let scenarios: Vec<String> = Pattern::ALL
            .iter()
            .map(|p| p.name().to_owned())
            .chain(["load/spsc", "load/mpsc", "load/spmc", "load/mpmc"].map(String::from))
            .collect();
        let implementations: Vec<String> = implementations::all(true)
            .iter()
            .map(|i| i.name.clone())
            .collect();
        let measures = ["throughput", "closed-loop", "open-loop"].map(String::from);
        let runtimes = Runtime::ALL.map(|r| r.name().to_owned());
        for (what, wanted, known) in [
            ("scenario", &self.scenarios, &scenarios[..]),
            ("implementation", &self.impls, &implementations[..]),
            ("measure", &self.measures, &measures[..]),
            ("runtime", &self.runtimes, &runtimes[..]),
        ] {
            if let Some(unknown) = wanted.iter().find(|w| !known.contains(w)) {
                bail!("unknown {what} {unknown:?}; known: {}", known.join(", "));
            }
        }
        for capacity in &self.capacities {
            parse_capacity(capacity)?;
        }
        Ok(())
    }

    /// Broken twins named in `--impl`, which a profile does not include on
    /// its own.
    pub fn named_broken(&self) -> Vec<Implementation> {
        let shipped = implementations::all(false);
        implementations::all(true)
            .into_iter()
            .filter(|i| self.impls.contains(&i.name))
            .filter(|i| !shipped.iter().any(|s| s.name == i.name))
            .collect()
    }
}

/// Adds, for each broken twin named in `filter`, the cells its sync
/// counterparts have in `plan`, so `--impl broken-loses` runs the twin on
/// the profile's workloads.
pub fn add_broken(mut plan: Plan, filter: &Filter) -> Plan {
    let twins = filter.named_broken();
    if twins.is_empty() {
        return plan;
    }
    let mut extra = Vec::new();
    let mut seen = Vec::new();
    for cell in &plan.cells {
        let Ok(implementation) = implementations::find(&cell.implementation) else {
            continue;
        };
        let applicable = match (&cell.workload, implementation.driver) {
            (Workload::Load { .. }, Driver::Sync { .. }) => true,
            (Workload::Pattern { pattern, .. }, Driver::Sync { .. }) => pattern.uses_channels(),
            _ => false,
        };
        if applicable && !seen.contains(&cell.workload) {
            seen.push(cell.workload.clone());
            extra.extend(cells_on(cell.workload.clone(), &twins, &[]));
        }
    }
    plan.cells.extend(extra);
    plan
}

/// `0`, `64` or `unbounded` as a capacity.
fn parse_capacity(text: &str) -> anyhow::Result<Capacity> {
    if text == "unbounded" {
        return Ok(Capacity::Unbounded);
    }
    text.parse()
        .map(Capacity::Bounded)
        .with_context(|| format!("capacity {text:?} is neither a number nor `unbounded`"))
}

/// A scenario file: workloads a user defines without writing Rust. Each
/// list field is a sweep; the cells are every combination.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    /// Measured repetitions per cell.
    #[serde(default = "default_repetitions")]
    repetitions: usize,
    /// Target length of one measured run, in milliseconds.
    #[serde(default = "default_budget_ms")]
    budget_ms: u64,
    /// The open-loop rate as a fraction of the slowest implementation.
    #[serde(default = "default_fraction")]
    open_loop_fraction: f64,
    #[serde(default)]
    pattern: Vec<PatternEntry>,
    #[serde(default)]
    load: Vec<LoadEntry>,
}

fn default_repetitions() -> usize {
    3
}
fn default_budget_ms() -> u64 {
    100
}
fn default_fraction() -> f64 {
    OPEN_LOOP_FRACTION
}

/// One value or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Sweep<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> Sweep<T> {
    fn values(&self) -> Vec<T> {
        match self {
            Sweep::One(value) => vec![value.clone()],
            Sweep::Many(values) => values.clone(),
        }
    }
}

/// A capacity as a user writes it: a number or `"unbounded"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum CapacityValue {
    Bounded(usize),
    Named(String),
}

impl CapacityValue {
    fn capacity(&self) -> anyhow::Result<Capacity> {
        match self {
            CapacityValue::Bounded(n) => Ok(Capacity::Bounded(*n)),
            CapacityValue::Named(name) => parse_capacity(name),
        }
    }
}

/// `[[pattern]]`: a pattern with sweeps over its parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternEntry {
    pattern: String,
    impls: Option<Vec<String>>,
    runtimes: Option<Vec<String>>,
    producers: Option<Sweep<usize>>,
    workers: Option<Sweep<usize>>,
    capacity: Option<Sweep<CapacityValue>>,
    payload: Option<Sweep<usize>>,
    work_us: Option<Sweep<u64>>,
    rate: Option<f64>,
    burst: Option<u32>,
}

/// `[[load]]`: a channel load with sweeps over its shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadEntry {
    impls: Option<Vec<String>>,
    runtimes: Option<Vec<String>>,
    producers: Option<Sweep<usize>>,
    consumers: Option<Sweep<usize>>,
    capacity: Option<Sweep<CapacityValue>>,
    message_bytes: Option<Sweep<usize>>,
    measure: Option<Sweep<String>>,
    /// A fixed open-loop rate in messages per second, instead of a fraction
    /// of the slowest implementation's throughput.
    rate: Option<f64>,
}

impl ScenarioFile {
    fn plan(self, name: String) -> anyhow::Result<Plan> {
        ensure!(self.repetitions >= 1, "repetitions must be at least 1");
        ensure!(
            (1..=60_000).contains(&self.budget_ms),
            "budget_ms must be between 1 and 60000, not {}",
            self.budget_ms
        );
        ensure!(
            self.open_loop_fraction > 0.0 && self.open_loop_fraction < 1.0,
            "open_loop_fraction must be between 0 and 1 (below saturation), not {}",
            self.open_loop_fraction
        );
        ensure!(
            !self.pattern.is_empty() || !self.load.is_empty(),
            "the file defines no [[pattern]] and no [[load]]"
        );
        let mut cells = Vec::new();
        for (index, entry) in self.pattern.iter().enumerate() {
            cells.extend(
                entry
                    .cells()
                    .with_context(|| format!("in [[pattern]] {}", index + 1))?,
            );
        }
        for (index, entry) in self.load.iter().enumerate() {
            cells.extend(
                entry
                    .cells()
                    .with_context(|| format!("in [[load]] {}", index + 1))?,
            );
        }
        Ok(Plan {
            name,
            cells,
            repetitions: self.repetitions,
            budget: Duration::from_millis(self.budget_ms),
            open_loop_fraction: self.open_loop_fraction,
        })
    }
}

/// The implementations `names` picks (all of `default` when `None`), and
/// the runtimes for the async ones.
fn pick(
    names: &Option<Vec<String>>,
    default: Vec<Implementation>,
    runtimes: &Option<Vec<String>>,
) -> anyhow::Result<(Vec<Implementation>, Vec<Runtime>)> {
    let implementations = match names {
        None => default,
        Some(names) => names
            .iter()
            .map(|name| implementations::find(name))
            .collect::<anyhow::Result<_>>()?,
    };
    let runtimes = match runtimes {
        None => vec![Runtime::MultiThread],
        Some(names) => names
            .iter()
            .map(|name| {
                Runtime::ALL
                    .into_iter()
                    .find(|r| r.name() == name)
                    .with_context(|| {
                        format!("unknown runtime {name:?}; known: current-thread, multi-thread")
                    })
            })
            .collect::<anyhow::Result<_>>()?,
    };
    Ok((implementations, runtimes))
}

fn values<T: Clone>(sweep: &Option<Sweep<T>>, default: T) -> Vec<T> {
    sweep.as_ref().map_or_else(|| vec![default], Sweep::values)
}

fn capacities(
    sweep: &Option<Sweep<CapacityValue>>,
    default: Capacity,
) -> anyhow::Result<Vec<Capacity>> {
    match sweep {
        None => Ok(vec![default]),
        Some(sweep) => sweep.values().iter().map(CapacityValue::capacity).collect(),
    }
}

impl PatternEntry {
    fn cells(&self) -> anyhow::Result<Vec<Cell>> {
        let pattern: Pattern = self.pattern.parse()?;
        let defaults = Params::default();
        let (implementations, runtimes) = pick(
            &self.impls,
            applicable_to(pattern, &implementations::all(false)),
            &self.runtimes,
        )?;
        let mut cells = Vec::new();
        for producers in values(&self.producers, defaults.producers) {
            for workers in values(&self.workers, defaults.workers) {
                for capacity in capacities(&self.capacity, defaults.capacity)? {
                    for payload in values(&self.payload, defaults.payload) {
                        for work_us in values(&self.work_us, 0) {
                            let params = Params {
                                producers,
                                workers,
                                capacity,
                                payload,
                                work: Duration::from_micros(work_us),
                                rate: self.rate.unwrap_or(defaults.rate),
                                burst: self.burst.unwrap_or(defaults.burst),
                                ..Params::default()
                            };
                            params.validate(pattern)?;
                            cells.extend(cells_on(
                                Workload::Pattern { pattern, params },
                                &implementations,
                                &runtimes,
                            ));
                        }
                    }
                }
            }
        }
        Ok(cells)
    }
}

/// Fails on a load no implementation could run because its parameters
/// make no sense (a missing capability is left for the run to report).
fn refuse_invalid(spec: &LoadSpec, implementations: &[Implementation]) -> anyhow::Result<()> {
    let mut check = spec.clone();
    check.items = 1;
    if check.measure == DERIVED_RATE {
        check.measure = Measure::OpenLoop { rate: 1.0 };
    }
    for info in implementations.iter().filter_map(|i| i.info) {
        if let Err(err @ chanlab_scenarios::ScenarioError::InvalidParams(_)) = check.validate(&info)
        {
            return Err(err.into());
        }
    }
    Ok(())
}

impl LoadEntry {
    fn cells(&self) -> anyhow::Result<Vec<Cell>> {
        let channels = implementations::all(false)
            .into_iter()
            .filter(Implementation::is_channel)
            .collect();
        let (implementations, runtimes) = pick(&self.impls, channels, &self.runtimes)?;
        if let Some(primitive) = implementations.iter().find(|i| !i.is_channel()) {
            bail!(
                "{} is not a channel; a load runs on channels",
                primitive.name
            );
        }
        if let Some(rate) = self.rate {
            ensure!(
                rate.is_finite() && rate >= 1.0,
                "rate must be at least 1 message per second, not {rate}"
            );
        }
        let measures = values(&self.measure, "throughput".to_owned())
            .iter()
            .map(|name| match name.as_str() {
                "throughput" => Ok(Measure::Throughput),
                "closed-loop" => Ok(Measure::ClosedLoop),
                "open-loop" => Ok(self
                    .rate
                    .map_or(DERIVED_RATE, |rate| Measure::OpenLoop { rate })),
                other => {
                    bail!("unknown measure {other:?}; known: throughput, closed-loop, open-loop")
                }
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut cells = Vec::new();
        for producers in values(&self.producers, 1) {
            for consumers in values(&self.consumers, 1) {
                for capacity in capacities(&self.capacity, Capacity::Bounded(64))? {
                    for message_bytes in values(&self.message_bytes, 16) {
                        for &measure in &measures {
                            let spec = load(producers, consumers, capacity, message_bytes, measure);
                            refuse_invalid(&spec, &implementations)?;
                            cells.extend(cells_on(
                                Workload::Load { spec },
                                &implementations,
                                &runtimes,
                            ));
                        }
                    }
                }
            }
        }
        Ok(cells)
    }
}
