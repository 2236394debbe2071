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

use chanlab_registry::{Driver, Implementation, Registry};
use chanlab_report::schema::{Cell, Offered, Workload};
use file::ScenarioFile;
pub use filter::{Filter, add_broken};

/// A built-in matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Every pattern on every capable implementation and the main channel
    /// loads, 5 rounds of 30 ms, then deciding rounds up to 30 repetitions:
    /// three minutes of measuring on two cores.
    Quick,
    /// Both runtimes and sweeps over threads, capacity and message size, 5
    /// rounds of 200 ms, then deciding rounds up to 20 repetitions: at most
    /// 150 minutes of measuring on two cores.
    Full,
}

/// The cells of a run and how to repeat them.
pub struct Plan {
    /// The profile's name or the scenario file's path.
    pub name: String,
    /// Every cell, in the order each round visits them.
    pub cells: Vec<Cell>,
    /// Measured repetitions per cell: rounds every cell takes part in.
    pub repetitions: usize,
    /// The most repetitions a cell gets: past `repetitions`, rounds go on
    /// over the cells of rows that cannot tell yet, up to this many.
    pub most_repetitions: usize,
    /// How long the run may measure (sizing included) before it starts no
    /// further deciding round.
    pub deciding_cap: Duration,
    /// Target length of one measured run.
    pub budget: Duration,
}

/// What one job costs beyond the run it measures: starting the worker
/// process, the warm-up, reading the reply. Fitted on the two-core machine
/// chanlab's published figures come from.
const JOB_OVERHEAD: Duration = Duration::from_millis(20);
/// Sizing probes per cell, counted as jobs.
const SIZING_JOBS: u32 = 4;

/// How [`Plan::estimate`] counts, for the dry run to say.
pub const ESTIMATE_MODEL: &str = "per cell, its repetitions and one more for sizing at the \
     budget each, plus 20 ms per job for the worker process over the repetitions and 4 sizing \
     probes; then deciding rounds as if every cell needed them all, stopped at the plan's cap";

/// The open loop's common rate: half the slowest implementation's
/// saturation, the same offered load for every implementation.
const COMMON_FRACTION: f64 = 0.5;

/// The most repetitions a cell may be asked for: beyond what any decision
/// needs (a row that cannot tell by then says so), and far beyond a day.
pub const MOST_REPETITIONS: usize = 10_000;

/// Points along each implementation's own latency-against-load curve, as
/// fractions of its own saturation: the quick profile's one (with the
/// common rate, two points per implementation), and the full profile's
/// four.
const OWN_CURVE_QUICK: [f64; 1] = [0.9];
const OWN_CURVE_FULL: [f64; 4] = [0.25, 0.5, 0.75, 0.9];

impl Plan {
    /// The cells of `profile`.
    pub fn profile(profile: Profile, registry: &Registry) -> Plan {
        let shipped: Vec<&Implementation> = registry.implementations(false).collect();
        let mut cells = Vec::new();
        // Rounds of every cell, then deciding rounds of the undecided
        // ones up to the most repetitions or the cap (measuring, sizing
        // included, conformance not).
        let (runtimes, repetitions, most_repetitions, cap_minutes, budget_ms): (
            &[Runtime],
            _,
            _,
            _,
            _,
        ) = match profile {
            Profile::Quick => (&[Runtime::MultiThread], 5, 30, 3, 30),
            Profile::Full => (&Runtime::ALL, 5, 20, 150, 200),
        };
        for &pattern in Pattern::ALL {
            let mut sweep = vec![Params::default()];
            // The quick profile's one scaling curve over workers: one to
            // two, the two cores.
            if profile == Profile::Quick && pattern == Pattern::WorkerPool {
                sweep.extend([1].map(|workers| Params {
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
        let channels: Vec<&Implementation> =
            shipped.iter().copied().filter(|i| i.is_channel()).collect();
        let spsc = || load(1, 1, Capacity::Bounded(64), 16, Measure::Throughput);
        let mut loads = Vec::new();
        match profile {
            Profile::Quick => {
                for (producers, consumers) in [(1, 1), (2, 2)] {
                    for measure in [Measure::Throughput, Measure::ClosedLoop] {
                        loads.push(plain(load(
                            producers,
                            consumers,
                            Capacity::Bounded(64),
                            16,
                            measure,
                        )));
                    }
                }
                loads.extend(open_loops(&spsc(), &OWN_CURVE_QUICK));
                loads.push(plain(LoadSpec {
                    measure: Measure::Idle,
                    ..spsc()
                }));
                loads.push(plain(load(
                    1,
                    1,
                    Capacity::RENDEZVOUS,
                    16,
                    Measure::Throughput,
                )));
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
                        loads.push(plain(load(
                            producers,
                            consumers,
                            capacity,
                            16,
                            Measure::Throughput,
                        )));
                    }
                }
                for (producers, consumers) in [(1, 1), (2, 2), (4, 4)] {
                    for capacity in [Capacity::Bounded(1), Capacity::Bounded(64)] {
                        let base = load(producers, consumers, capacity, 16, Measure::ClosedLoop);
                        loads.extend(open_loops(&base, &OWN_CURVE_FULL));
                        loads.push(plain(base));
                    }
                }
                for (producers, consumers) in [(1, 1), (4, 1)] {
                    loads.push(plain(load(
                        producers,
                        consumers,
                        Capacity::Bounded(64),
                        16,
                        Measure::Idle,
                    )));
                }
                for (producers, consumers) in [(1, 1), (2, 2)] {
                    for bytes in MESSAGE_SIZES.into_iter().filter(|&b| b != 16) {
                        loads.push(plain(load(
                            producers,
                            consumers,
                            Capacity::Bounded(64),
                            bytes,
                            Measure::Throughput,
                        )));
                    }
                }
            }
        }
        for workload in loads {
            cells.extend(cells_on(workload, &channels, runtimes));
        }
        Plan {
            name: format!("{profile:?}").to_lowercase(),
            cells,
            repetitions,
            most_repetitions,
            deciding_cap: Duration::from_secs(cap_minutes * 60),
            budget: Duration::from_millis(budget_ms),
        }
    }

    /// The cells a scenario file defines.
    pub fn file(path: &Path, registry: &Registry) -> anyhow::Result<Plan> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file: ScenarioFile = toml::from_str(&text)
            .with_context(|| format!("in scenario file {}", path.display()))?;
        file.plan(path.display().to_string(), registry)
            .with_context(|| format!("in scenario file {}", path.display()))
    }

    /// How long measuring the plan takes on the machine [`JOB_OVERHEAD`]
    /// was fitted on ([`ESTIMATE_MODEL`]). Cells an implementation turns
    /// down cost less, and cells that cannot reach the budget (a
    /// rendezvous load, a pattern with an item limit) may cost less or more
    /// (re-sizing), so it is an estimate to plan by, not a bound.
    pub fn estimate(&self) -> Duration {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let repetitions = count(self.repetitions);
        let per_cell = self
            .budget
            .saturating_mul(repetitions.saturating_add(1))
            .saturating_add(JOB_OVERHEAD.saturating_mul(repetitions.saturating_add(SIZING_JOBS)));
        let cells = count(self.cells.len());
        let rounds = per_cell.saturating_mul(cells);
        let deciding = self
            .budget
            .saturating_add(JOB_OVERHEAD)
            .saturating_mul(cells)
            .saturating_mul(count(
                self.most_repetitions.saturating_sub(self.repetitions),
            ));
        // Deciding rounds start only within the cap.
        rounds.max(rounds.saturating_add(deciding).min(self.deciding_cap))
    }

    /// Keeps only the cells `filter` admits; an empty result is an error
    /// that says what was asked.
    pub fn filter(mut self, filter: &Filter, registry: &Registry) -> anyhow::Result<Plan> {
        filter.check_names(registry)?;
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

/// A load whose measure needs no rate from the runner.
pub(super) fn plain(spec: LoadSpec) -> Workload {
    Workload::Load {
        spec,
        offered: None,
    }
}

/// `base` in the open loop at the common rate and at each of `own`
/// fractions of each implementation's own saturation; the runner sets the
/// rates once it has sized the load.
pub(super) fn open_loops(base: &LoadSpec, own: &[f64]) -> Vec<Workload> {
    let common = Offered::SlowestSaturation {
        fraction: COMMON_FRACTION,
    };
    std::iter::once(common)
        .chain(
            own.iter()
                .map(|&fraction| Offered::OwnSaturation { fraction }),
        )
        .map(|offered| derived(base, offered))
        .collect()
}

/// `base` in the open loop, at the rate `offered` derives.
pub(super) fn derived(base: &LoadSpec, offered: Offered) -> Workload {
    Workload::Load {
        spec: LoadSpec {
            measure: Measure::OpenLoop { rate: 0.0 },
            ..base.clone()
        },
        offered: Some(offered),
    }
}

/// The implementations `pattern` runs on, of `among`: blocking flavors if
/// it uses channels, async flavors if it has an async version, and the
/// primitives it compares.
pub(super) fn applicable_to<'a>(
    pattern: Pattern,
    among: &[&'a Implementation],
) -> Vec<&'a Implementation> {
    among
        .iter()
        .copied()
        .filter(|i| match i.driver {
            Driver::Sync { .. } => pattern.uses_channels(),
            Driver::Async { .. } => pattern.has_async_version(),
            Driver::Bridge { .. } => false,
            Driver::Primitive(primitive) => pattern.primitives().contains(&primitive),
            Driver::Go => super::go::PATTERNS.contains(&pattern),
        })
        .collect()
}

/// `workload` on each of `implementations`, async ones on each of
/// `runtimes`.
pub(super) fn cells_on(
    workload: Workload,
    implementations: &[&Implementation],
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
