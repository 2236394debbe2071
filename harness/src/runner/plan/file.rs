//! The scenario file: workloads a user defines in TOML without writing
//! Rust (`scenarios/workloads/example.toml` shows the format).

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use chanlab_contract::Capacity;
use chanlab_registry::{Implementation, Registry};
use chanlab_report::schema::{Cell, Offered, Workload};
use chanlab_scenarios::load::{LoadSpec, Measure};
use chanlab_scenarios::{Params, Pattern, Runtime};
use serde::Deserialize;

use super::{COMMON_FRACTION, Plan, applicable_to, cells_on, derived, load, plain};

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
    /// The open-loop rate of a `[[load]]` that names none: this fraction
    /// of the slowest implementation's saturation on the load.
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
    COMMON_FRACTION
}

/// One value or a list of them.
#[derive(Debug, Clone)]
enum Sweep<T> {
    One(T),
    Many(Vec<T>),
}

/// Read by hand, so a wrong type says what was expected and what was
/// found (serde's untagged enums say only that no variant matched).
impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Sweep<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = toml::Value::deserialize(deserializer)?;
        let found = value.to_string();
        match value {
            toml::Value::Array(items) => items
                .into_iter()
                .map(T::deserialize)
                .collect::<Result<Vec<T>, _>>()
                .map(Sweep::Many)
                .map_err(|err| {
                    let err = err.to_string();
                    D::Error::custom(format!("in the list {found}: {}", err.trim_end()))
                }),
            one => T::deserialize(one).map(Sweep::One).map_err(|err| {
                let err = err.to_string();
                D::Error::custom(format!("{} (or a list of them)", err.trim_end()))
            }),
        }
    }
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
    /// Fixed open-loop rates, in messages per second.
    rate: Option<Sweep<f64>>,
    /// Open-loop rates as fractions of each implementation's own
    /// saturation on the load.
    own_saturation: Option<Sweep<f64>>,
    /// Open-loop rates as fractions of the slowest implementation's
    /// saturation on the load (one rate for all).
    slowest_saturation: Option<Sweep<f64>>,
}

impl ScenarioFile {
    pub(super) fn plan(self, name: String, registry: &Registry) -> anyhow::Result<Plan> {
        ensure!(
            (1..=super::MOST_REPETITIONS).contains(&self.repetitions),
            "repetitions must be between 1 and {}, not {}",
            super::MOST_REPETITIONS,
            self.repetitions
        );
        ensure!(
            (1..=60_000).contains(&self.budget_ms),
            "budget_ms must be between 1 and 60000, not {}",
            self.budget_ms
        );
        fraction_within("open_loop_fraction", self.open_loop_fraction)?;
        ensure!(
            !self.pattern.is_empty() || !self.load.is_empty(),
            "the file defines no [[pattern]] and no [[load]]"
        );
        let mut cells = Vec::new();
        for (index, entry) in self.pattern.iter().enumerate() {
            cells.extend(
                entry
                    .cells(registry)
                    .with_context(|| format!("in [[pattern]] {}", index + 1))?,
            );
        }
        for (index, entry) in self.load.iter().enumerate() {
            cells.extend(
                entry
                    .cells(self.open_loop_fraction, registry)
                    .with_context(|| format!("in [[load]] {}", index + 1))?,
            );
        }
        let mut ids = std::collections::BTreeSet::new();
        for cell in &cells {
            ensure!(
                ids.insert(cell.key()),
                "two cells would both be {}: their rates or fractions round to the same label; \
                 make them differ in whole messages per second or whole percent",
                cell.key()
            );
        }
        Ok(Plan {
            name,
            cells,
            repetitions: self.repetitions,
            // A scenario file's repetitions are what it asks for.
            most_repetitions: self.repetitions,
            deciding_cap: Duration::ZERO,
            budget: Duration::from_millis(self.budget_ms),
        })
    }
}

/// The implementations `names` picks (all of `default` when `None`), and
/// the runtimes for the async ones.
fn pick<'a>(
    names: &Option<Vec<String>>,
    default: Vec<&'a Implementation>,
    runtimes: &Option<Vec<String>>,
    registry: &'a Registry,
) -> anyhow::Result<(Vec<&'a Implementation>, Vec<Runtime>)> {
    let implementations = match names {
        None => default,
        Some(names) => names
            .iter()
            .map(|name| registry.find(name))
            .collect::<Result<_, _>>()?,
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
    fn cells(&self, registry: &Registry) -> anyhow::Result<Vec<Cell>> {
        let pattern: Pattern = self.pattern.parse()?;
        let defaults = Params::default();
        let shipped: Vec<&Implementation> = registry.implementations(false).collect();
        let (implementations, runtimes) = pick(
            &self.impls,
            applicable_to(pattern, &shipped),
            &self.runtimes,
            registry,
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
fn refuse_invalid(spec: &LoadSpec, implementations: &[&Implementation]) -> anyhow::Result<()> {
    let mut check = spec.clone();
    check.items = 1;
    if let Measure::OpenLoop { rate } = &mut check.measure
        && *rate == 0.0
    {
        // Derived later; any valid rate checks the rest.
        *rate = 1.0;
    }
    for info in implementations.iter().filter_map(|i| i.info) {
        if let Err(err @ chanlab_scenarios::ScenarioError::InvalidParams(_)) =
            chanlab_scenarios::load::validate(&check, &info)
        {
            return Err(err.into());
        }
    }
    Ok(())
}

/// How a load of a scenario file is timed: a measure as written, or the
/// open loop at a rate the runner derives.
#[derive(Clone, Copy)]
enum Timing {
    Plain(Measure),
    Derived(Offered),
}

/// Fails unless `fraction` (of a saturation) is above 0 and at most 1.
fn fraction_within(field: &str, fraction: f64) -> anyhow::Result<()> {
    ensure!(
        fraction > 0.0 && fraction <= 1.0,
        "{field} must be above 0 and at most 1 (a fraction of a saturation), not {fraction}"
    );
    Ok(())
}

/// The values of an optional sweep; none when it is absent.
fn values_of<T: Clone>(sweep: &Option<Sweep<T>>) -> Vec<T> {
    sweep.as_ref().map(Sweep::values).unwrap_or_default()
}

impl LoadEntry {
    /// The entry's cells; an open loop with no rate named runs at
    /// `common_fraction` of the slowest implementation's saturation.
    fn cells(&self, common_fraction: f64, registry: &Registry) -> anyhow::Result<Vec<Cell>> {
        let channels = registry
            .implementations(false)
            .filter(|i| i.is_channel())
            .collect();
        let (implementations, runtimes) = pick(&self.impls, channels, &self.runtimes, registry)?;
        if let Some(primitive) = implementations.iter().find(|i| !i.is_channel()) {
            bail!(
                "{} is not a channel; a load runs on channels",
                primitive.name
            );
        }
        let fixed = values_of(&self.rate);
        for &rate in &fixed {
            ensure!(
                rate.is_finite() && rate >= 1.0,
                "rate must be at least 1 message per second, not {rate}"
            );
        }
        let mut offered = Vec::new();
        for fraction in values_of(&self.own_saturation) {
            fraction_within("own_saturation", fraction)?;
            offered.push(Offered::OwnSaturation { fraction });
        }
        for fraction in values_of(&self.slowest_saturation) {
            fraction_within("slowest_saturation", fraction)?;
            offered.push(Offered::SlowestSaturation { fraction });
        }
        let measures = values(&self.measure, "throughput".to_owned());
        ensure!(
            (fixed.is_empty() && offered.is_empty()) || measures.iter().any(|m| m == "open-loop"),
            "rate, own_saturation and slowest_saturation set open-loop rates, but measure does not include \"open-loop\""
        );
        if fixed.is_empty() && offered.is_empty() {
            offered.push(Offered::SlowestSaturation {
                fraction: common_fraction,
            });
        }
        let mut timings = Vec::new();
        for name in measures {
            match name.as_str() {
                "throughput" => timings.push(Timing::Plain(Measure::Throughput)),
                "closed-loop" => timings.push(Timing::Plain(Measure::ClosedLoop)),
                "idle" => timings.push(Timing::Plain(Measure::Idle)),
                "open-loop" => {
                    timings.extend(
                        fixed
                            .iter()
                            .map(|&rate| Timing::Plain(Measure::OpenLoop { rate })),
                    );
                    timings.extend(offered.iter().copied().map(Timing::Derived));
                }
                other => bail!(
                    "unknown measure {other:?}; known: throughput, closed-loop, open-loop, idle"
                ),
            }
        }
        let mut cells = Vec::new();
        for producers in values(&self.producers, 1) {
            for consumers in values(&self.consumers, 1) {
                for capacity in capacities(&self.capacity, Capacity::Bounded(64))? {
                    for message_bytes in values(&self.message_bytes, 16) {
                        for &timing in &timings {
                            let workload = match timing {
                                Timing::Plain(measure) => plain(load(
                                    producers,
                                    consumers,
                                    capacity,
                                    message_bytes,
                                    measure,
                                )),
                                Timing::Derived(offered) => derived(
                                    &load(
                                        producers,
                                        consumers,
                                        capacity,
                                        message_bytes,
                                        Measure::Throughput,
                                    ),
                                    offered,
                                ),
                            };
                            if let Workload::Load { spec, .. } = &workload {
                                refuse_invalid(spec, &implementations)?;
                            }
                            cells.extend(cells_on(workload, &implementations, &runtimes));
                        }
                    }
                }
            }
        }
        Ok(cells)
    }
}
