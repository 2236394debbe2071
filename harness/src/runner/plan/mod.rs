//! Which cells a run measures: the built-in profiles (here), a user's
//! scenario file ([`file`]), and the filters that narrow either, with the
//! broken twins a filter names ([`filter`]).

mod file;
mod filter;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, ensure};
use chanlab_contract::Capacity;
use chanlab_scenarios::load::{LoadSpec, MESSAGE_SIZES, Measure};
use chanlab_scenarios::{Params, Pattern, Runtime};

use super::implementations::{self, Driver, Implementation};

use chanlab_report::schema::{Cell, Workload};
use file::ScenarioFile;
pub use filter::{Filter, add_broken};

/// A built-in matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Every pattern on every capable implementation and the main channel
    /// loads, 7 repetitions of 35 ms: about three minutes on two cores.
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
            // Seven repetitions: the fewest with which a lead can be clear
            // over the quick page's comparisons (recommend.rs says why).
            Profile::Quick => (&[Runtime::MultiThread], 7, 35),
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
pub(super) fn load(
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
pub(super) fn applicable_to(pattern: Pattern, among: &[Implementation]) -> Vec<Implementation> {
    among
        .iter()
        .filter(|i| match i.driver {
            Driver::Sync { .. } => pattern.uses_channels(),
            Driver::Async { .. } => pattern.has_async_version(),
            Driver::Bridge { .. } => false,
            Driver::Primitive(primitive) => pattern.primitives().contains(&primitive),
            Driver::Go => super::go::PATTERNS.contains(&pattern),
        })
        .cloned()
        .collect()
}

/// `workload` on each of `implementations`, async ones on each of
/// `runtimes`.
pub(super) fn cells_on(
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
