//! Criterion micro-benchmarks of every channel flavor chanlab ships,
//! through the load `chanlab run` measures.
//!
//! # What is benched
//!
//! Every flavor that `chanlab_impls::visit_all` lists, blocking ones on OS
//! threads and async ones as tasks on tokio's multi-thread runtime, on the
//! channel loads of `chanlab_scenarios::load` (the field's own definition:
//! every producer sends a fixed share, consumers receive until every sender
//! is gone, each tallies in O(1) and the oracle checks the run after the
//! clock stops). One criterion group per shape: `spsc` (one producer, one
//! consumer), `mpsc` (four producers, one consumer) and `mpmc` (four and
//! four, only on flavors that declare `multi_consumer`), each at capacities
//! 0 (rendezvous, only where declared), 1, 128 and unbounded (only where
//! declared), with 8-byte and 256-byte messages. A cell the flavor does
//! not declare is skipped, never run. Benchmark ids read
//! `shape/flavor/cap=N/message`, with the capacity as cell ids write it,
//! e.g. `spsc/crossbeam/cap=1/8B`.
//!
//! # How it is measured
//!
//! `Bencher::iter_custom` hands each sample's iteration count to one load
//! run of that many times [`MESSAGES`] (or [`HANDOFF_MESSAGES`] at
//! capacities 0 and 1, where nearly every message wakes a parked thread),
//! started by the same function as a `chanlab run` throughput cell
//! (`start_load_sync`, `start_load_async`), and the sample's time is the
//! run's own clock: threads meet at a barrier before it starts, so their
//! start-up is not timed, and the oracle runs after it stops. A change to
//! how a load is timed is thus made once, for both. The group's throughput
//! is the messages per iteration, so criterion reports messages per second.
//!
//! The configuration is short (100 ms warm-up, 300 ms measurement, 10
//! samples) so the whole matrix runs in a few minutes; command-line options
//! such as `--measurement-time` override it.
//!
//! # Running a subset
//!
//! Arguments after `--` are a regular expression over the benchmark ids:
//!
//! ```text
//! cargo bench -p chanlab --bench channels -- spsc/crossbeam
//! cargo bench -p chanlab --bench channels -- 'mpsc/.*/cap=1/8B'
//! ```

use std::time::Duration;

use chanlab_contract::{AsyncFlavor, Capacity, FlavorInfo, FlavorVisitor, SyncFlavor};
use chanlab_scenarios::load::{
    LoadRun, LoadSpec, Measure, start_load_async, start_load_sync, validate,
};
use chanlab_scenarios::{Runtime, ScenarioError};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};

/// Messages moved per criterion iteration.
const MESSAGES: u64 = 4_096;
/// Messages moved per iteration at capacities 0 and 1, where nearly every
/// message is a hand-off to a parked thread (tens of microseconds each on a
/// two-core VM), so the short criterion config still fits its samples.
const HANDOFF_MESSAGES: u64 = 512;
/// The shapes: name, producers, consumers.
const SHAPES: [(&str, usize, usize); 3] = [("spsc", 1, 1), ("mpsc", 4, 1), ("mpmc", 4, 4)];
/// The capacities of the matrix.
const CAPACITIES: [Capacity; 4] = [
    Capacity::RENDEZVOUS,
    Capacity::Bounded(1),
    Capacity::Bounded(128),
    Capacity::Unbounded,
];
/// The message sizes, in bytes: a bare stamp, and a large message.
const MESSAGE_BYTES: [usize; 2] = [8, 256];

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(300))
        .sample_size(10)
        .configure_from_args();
    for (shape, producers, consumers) in SHAPES {
        let mut group = criterion.benchmark_group(shape);
        chanlab_impls::visit_all(&mut LoadBench {
            group: &mut group,
            producers,
            consumers,
        });
        group.finish();
    }
    criterion.final_summary();
}

/// Benches one shape on every flavor it visits.
struct LoadBench<'a, 'b> {
    group: &'a mut BenchmarkGroup<'b, WallTime>,
    producers: usize,
    consumers: usize,
}

impl FlavorVisitor for LoadBench<'_, '_> {
    fn visit_sync<F: SyncFlavor>(&mut self) {
        self.bench(&F::INFO, start_load_sync::<F>);
    }

    fn visit_async<F: AsyncFlavor>(&mut self) {
        self.bench(&F::INFO, |spec| {
            start_load_async::<F>(spec, Runtime::MultiThread)
        });
    }
}

impl LoadBench<'_, '_> {
    /// Every capacity and message size the flavor declares, each load
    /// started by `start`.
    fn bench(
        &mut self,
        info: &FlavorInfo,
        start: impl Fn(&LoadSpec) -> Result<LoadRun, ScenarioError>,
    ) {
        for capacity in CAPACITIES {
            let per_iteration = match capacity {
                Capacity::Bounded(0 | 1) => HANDOFF_MESSAGES,
                _ => MESSAGES,
            };
            for message_bytes in MESSAGE_BYTES {
                let spec = LoadSpec {
                    producers: self.producers,
                    consumers: self.consumers,
                    capacity,
                    message_bytes,
                    items: per_iteration as usize,
                    measure: Measure::Throughput,
                };
                if validate(&spec, info).is_err() {
                    continue;
                }
                let id = BenchmarkId::new(
                    info.name,
                    format!("cap={}/{message_bytes}B", capacity.label()),
                );
                self.group.throughput(Throughput::Elements(per_iteration));
                self.group.bench_function(id, |bencher| {
                    bencher.iter_custom(|iters| {
                        let spec = LoadSpec {
                            items: (per_iteration * iters) as usize,
                            ..spec.clone()
                        };
                        let run = start(&spec).unwrap_or_else(|err| panic!("{}: {err}", info.name));
                        let elapsed = run.elapsed();
                        if let Err(err) = run.check() {
                            panic!("{}: the load's oracle failed: {err}", info.name);
                        }
                        elapsed
                    })
                });
            }
        }
    }
}
