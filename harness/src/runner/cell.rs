//! One cell of the matrix (a workload on an implementation) and what a
//! worker process does with it: run one measured repetition of it, after a
//! warm-up. Sizing probes are such repetitions too.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use chanlab_registry::{Driver, Implementation, Registry};
use chanlab_report::schema::{
    Cell, CpuUsage, Disturbance, Latency, Placement, PlacementPolicy, Repetition, WarmUp, Workload,
};
use chanlab_scenarios::load::Direction;
use chanlab_scenarios::{Refusal, Runtime, ScenarioError, run_primitive};
use hdrhistogram::Histogram;
use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeValLike as _;

use super::placement;
use super::protocol::{INVALID_PARAMS, Job, Reply};

/// Does `job` in this process and returns the answer. An error is a fault
/// of the worker itself (an unknown implementation), not of the cell.
pub fn execute(job: Job, registry: &Registry) -> anyhow::Result<Reply> {
    match job {
        Job::Measure {
            cell,
            items,
            planted_slowdown,
            placement,
        } => {
            let implementation = registry.find(&cell.implementation)?;
            let run = Attempt {
                implementation,
                cell: &cell,
                placement,
            };
            measure(&run, items, planted_slowdown)
        }
        Job::Count {
            implementation,
            operations,
            repeat,
        } => {
            let count = match registry.find(&implementation)?.driver {
                Driver::Sync { count, .. } | Driver::Async { count, .. } => count,
                _ => anyhow::bail!("{implementation} is no channel flavor: nothing to count"),
            };
            Ok(Reply::Counted {
                refused: count(&operations, repeat)
                    .into_iter()
                    .map(Result::err)
                    .collect(),
            })
        }
    }
}

/// Warms up on a tenth of the items, then measures one run. The warm-up's
/// size, time and CPU go with the repetition, and heap allocations are
/// counted in both: what the measured run costs beyond the warm-up, per
/// item beyond the warm-up's, is what each item costs once the setup both
/// runs share (threads, runtime, channel) cancels. A planted slowdown
/// spins for its fraction of each run's time, counted in the run.
fn measure(run: &Attempt<'_>, items: usize, planted_slowdown: f64) -> anyhow::Result<Reply> {
    let warm_up_items = (items / 10).max(1);
    let warmed = run.attempt(warm_up_items)?;
    let warm_up = match warmed.run {
        Ok(run) => {
            let run = run.slowed_down(planted_slowdown);
            WarmUp {
                items: run.items,
                elapsed_ns: run.elapsed.as_nanos() as u64,
                cpu_ns: run.cpu.total_ns(),
            }
        }
        Err(reply) => return Ok(reply),
    };
    // Once a job, just before the run it describes.
    let round_trip_ns = placement::cross_core_round_trip_ns();
    let measured = run.attempt(items)?;
    Ok(match measured.run {
        Ok(run) => {
            let run = run.slowed_down(planted_slowdown);
            let per_item = (items > warm_up_items).then(|| {
                measured.allocations.saturating_sub(warmed.allocations) as f64
                    / (items - warm_up_items) as f64
            });
            let disturbance = Disturbance {
                round_trip_ns,
                ..measured.disturbance
            };
            Reply::Measured(Box::new(run.repetition(
                per_item,
                warm_up,
                measured.placement,
                disturbance,
            )?))
        }
        Err(reply) => reply,
    })
}

/// Runs `work` and counts the heap allocations every thread of this
/// process made meanwhile.
fn counting_allocations<T>(work: impl FnOnce() -> T) -> (T, u64) {
    let session = alloc_tracker::Session::new();
    let operation = session.operation("run");
    let value = {
        let _span = operation.measure_process();
        work()
    };
    let allocations = session
        .to_report()
        .operations()
        .map(|(_, operation)| operation.total_allocations_count())
        .sum();
    (value, allocations)
}

/// What one run measured, before it becomes a [`Repetition`].
struct Run {
    items: u64,
    elapsed: Duration,
    cpu: CpuUsage,
    threads: usize,
    sent_by: Vec<u64>,
    received_by: Vec<u64>,
    counters: BTreeMap<String, u64>,
    latency: Option<Histogram<u64>>,
}

impl Run {
    /// The run with a busy spin of `fraction` of its time added to it.
    fn slowed_down(mut self, fraction: f64) -> Run {
        if fraction > 0.0 {
            let spin = self.elapsed.mul_f64(fraction);
            let started = Instant::now();
            while started.elapsed() < spin {
                std::hint::spin_loop();
            }
            self.elapsed += started.elapsed();
        }
        self
    }

    fn repetition(
        self,
        allocations_per_item: Option<f64>,
        warm_up: WarmUp,
        placement: Placement,
        disturbance: Disturbance,
    ) -> anyhow::Result<Repetition> {
        let seconds = self.elapsed.as_secs_f64();
        Ok(Repetition {
            items: self.items,
            elapsed_ns: self.elapsed.as_nanos() as u64,
            throughput: if seconds > 0.0 {
                self.items as f64 / seconds
            } else {
                0.0
            },
            cpu: self.cpu,
            threads: self.threads,
            sent_by: self.sent_by,
            received_by: self.received_by,
            counters: self.counters,
            latency: self.latency.as_ref().map(Latency::of).transpose()?,
            allocations_per_item,
            warm_up: Some(warm_up),
            round: None,
            placement: Some(placement),
            disturbance: Some(disturbance),
        })
    }
}

/// What one attempt at a cell came to.
struct Attempted {
    /// The run, or the reply that says why there is none.
    run: Result<Run, Reply>,
    /// The heap allocations the run made (placing and watching its threads
    /// outside the count, but for what each thread does as it starts and
    /// ends, the same in every run of the cell).
    allocations: u64,
    /// Where its measured threads ran.
    placement: Placement,
    /// What disturbed it.
    disturbance: Disturbance,
}

/// A cell to run on its implementation, its measured threads placed by a
/// policy.
struct Attempt<'a> {
    implementation: &'a Implementation,
    cell: &'a Cell,
    placement: PlacementPolicy,
}

impl Attempt<'_> {
    /// Runs the cell with `items` items, its measured threads placed and
    /// watched.
    fn attempt(&self, items: usize) -> anyhow::Result<Attempted> {
        let plan = placement::Plan::new(self.placement, self.measured_threads());
        let ((run, allocations), placement, disturbance) =
            placement::observe(plan, || counting_allocations(|| self.run(items)));
        Ok(Attempted {
            run: run?,
            allocations,
            placement,
            disturbance,
        })
    }

    /// The threads a run of the cell measures, when known before it runs:
    /// a load's producers and consumers, or its runtime's workers in
    /// their place.
    fn measured_threads(&self) -> Option<usize> {
        let Workload::Load { spec, .. } = &self.cell.workload else {
            return None;
        };
        let runtime_threads = runtime_threads(self.cell.runtime.unwrap_or(Runtime::MultiThread));
        match &self.implementation.driver {
            Driver::Async { .. } => Some(runtime_threads),
            Driver::Bridge {
                direction: Direction::SyncToAsync,
                ..
            } => Some(runtime_threads + spec.producers),
            Driver::Bridge {
                direction: Direction::AsyncToSync,
                ..
            } => Some(runtime_threads + spec.consumers),
            Driver::Sync { .. } => Some(spec.producers + spec.consumers),
            Driver::Primitive(_) | Driver::Go => None,
        }
    }

    /// Runs the cell with `items` items: the run, or the reply that says
    /// why there is none.
    fn run(&self, items: usize) -> anyhow::Result<Result<Run, Reply>> {
        let (implementation, cell) = (self.implementation, self.cell);
        if let Driver::Go = implementation.driver {
            anyhow::bail!(
                "{} runs in the chanlab-go worker process, not in chanlab's",
                implementation.name
            );
        }
        let runtime = cell.runtime.unwrap_or(Runtime::MultiThread);
        let before = Usage::now()?;
        let result = match (&cell.workload.with_items(items), &implementation.driver) {
            (Workload::Pattern { pattern, params }, driver) => {
                let started = Instant::now();
                let outcome = match driver {
                    Driver::Sync { pattern: run, .. } => run(*pattern, params),
                    Driver::Async { pattern: run, .. } => run(*pattern, params, runtime),
                    Driver::Primitive(primitive) => {
                        run_primitive(*pattern, *primitive, params, runtime)
                    }
                    Driver::Bridge { .. } => {
                        Err(ScenarioError::NotApplicable(Refusal::LoadsOnly {
                            implementation: implementation.name.clone(),
                        }))
                    }
                    Driver::Go => Err(ScenarioError::NotApplicable(Refusal::OwnWorker {
                        implementation: implementation.name.clone(),
                    })),
                };
                let elapsed = started.elapsed();
                let cpu = Usage::now()?.since(&before);
                outcome.map(|outcome| Run {
                    items: outcome.items,
                    elapsed,
                    cpu,
                    threads: if implementation.is_async() {
                        runtime_threads(runtime)
                    } else {
                        outcome.threads
                    },
                    sent_by: Vec::new(),
                    received_by: Vec::new(),
                    counters: outcome
                        .counters
                        .into_iter()
                        .map(|(name, value)| (name.to_owned(), value))
                        .collect(),
                    latency: None,
                })
            }
            (Workload::Load { spec, .. }, driver) => {
                let run = match driver {
                    Driver::Sync { load, .. } => load(spec),
                    Driver::Async { load, .. } => load(spec, runtime),
                    Driver::Bridge { load, direction } => load(spec, *direction, runtime),
                    Driver::Primitive(primitive) => {
                        Err(ScenarioError::NotApplicable(Refusal::NotAChannel {
                            implementation: primitive.name().to_owned(),
                        }))
                    }
                    Driver::Go => Err(ScenarioError::NotApplicable(Refusal::OwnWorker {
                        implementation: implementation.name.clone(),
                    })),
                };
                // The clock and CPU are read before the oracle runs.
                let cpu = Usage::now()?.since(&before);
                run.and_then(|run| {
                    let elapsed = run.elapsed();
                    let outcome = run.check()?;
                    Ok(Run {
                        items: outcome.items,
                        elapsed,
                        cpu,
                        threads: self
                            .measured_threads()
                            .unwrap_or(spec.producers + spec.consumers),
                        sent_by: outcome.sent_by,
                        received_by: outcome.received_by,
                        counters: BTreeMap::new(),
                        latency: outcome.latency,
                    })
                })
            }
        };
        Ok(result.map_err(|err| match err {
            ScenarioError::InvalidParams(err) => Reply::Refused {
                reason: err.to_string(),
                kind: INVALID_PARAMS.to_owned(),
            },
            ScenarioError::NotApplicable(refusal) => Reply::Refused {
                reason: refusal.to_string(),
                kind: refusal.kind().to_owned(),
            },
            ScenarioError::Oracle(_) | ScenarioError::Panicked(_) => Reply::Failed {
                reason: err.to_string(),
            },
        }))
    }
}

/// The worker threads of a fresh runtime of kind `runtime` (tokio's
/// default: one per core).
fn runtime_threads(runtime: Runtime) -> usize {
    match runtime {
        Runtime::CurrentThread => 1,
        Runtime::MultiThread => super::provenance::cores(),
    }
}

/// This process's resource usage at one moment.
struct Usage(nix::sys::resource::Usage);

impl Usage {
    fn now() -> anyhow::Result<Usage> {
        getrusage(UsageWho::RUSAGE_SELF)
            .map(Usage)
            .context("reading the process's CPU usage")
    }

    /// The usage between `earlier` and this reading.
    fn since(&self, earlier: &Usage) -> CpuUsage {
        let micros = |later: nix::sys::time::TimeVal, before: nix::sys::time::TimeVal| {
            (later.num_microseconds() - before.num_microseconds()).max(0) as u64 * 1_000
        };
        let count = |later: i64, before: i64| (later - before).max(0) as u64;
        CpuUsage {
            user_ns: micros(self.0.user_time(), earlier.0.user_time()),
            system_ns: micros(self.0.system_time(), earlier.0.system_time()),
            voluntary_switches: count(
                self.0.voluntary_context_switches(),
                earlier.0.voluntary_context_switches(),
            ),
            involuntary_switches: count(
                self.0.involuntary_context_switches(),
                earlier.0.involuntary_context_switches(),
            ),
        }
    }
}
