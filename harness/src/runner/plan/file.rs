//! The scenario file: workloads a user defines in TOML without writing
//! Rust (`scenarios/workloads/example.toml` shows the format).

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use chanlab_contract::Capacity;
use chanlab_report::schema::{Cell, Workload};
use chanlab_scenarios::load::{LoadSpec, Measure};
use chanlab_scenarios::{Params, Pattern, Runtime};
use serde::Deserialize;

use super::{DERIVED_RATE, OPEN_LOOP_FRACTION, Plan, applicable_to, cells_on, load};
use crate::runner::implementations::{self, Implementation};

/// A scenario file: workloads a user defines without writing Rust. Each
/// list field is a sweep; the cells are every combination.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScenarioFile {
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

/// A capacity as a user writes it: a number, or a name the contract's
/// parser reads (`"unbounded"`, `"rendezvous"`, `"bounded(64)"`).
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
            CapacityValue::Named(name) => Ok(name.parse()?),
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
    pub(super) fn plan(self, name: String) -> anyhow::Result<Plan> {
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
