//! Results built by hand, for the tests of everything that reads them.

use hdrhistogram::Histogram;

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
            profile: None,
        },
        machine: Machine {
            hostname: "testbox".into(),
            cpu_model: "Test CPU".into(),
            cores: 2,
            os: "Debian".into(),
            kernel: "6.1".into(),
            arch: "x86_64".into(),
            cpu_mhz: None,
            smt: None,
            go: None,
        },
        command: "chanlab run".into(),
        settings: RunSettings {
            profile: "quick".into(),
            repetitions: 3,
            most_repetitions: None,
            deciding_cap_ms: None,
            budget_ms: 100,
            background_threads: 0,
            placement: None,
        },
        started_at: "2026-11-23T00:00:00Z".into(),
        finished_at: Some("2026-11-23T00:01:00Z".into()),
        verdicts: BTreeMap::new(),
        instructions: None,
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
            offered: None,
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
                allocations_per_item: Some(0.0),
                warm_up: None,
                round: None,
                placement: None,
                disturbance: None,
            }
        })
        .collect();
    let summary = Summary::of(&repetitions);
    CellResult {
        id: cell.id(),
        scenario: cell.workload.scenario(),
        cell,
        library: implementation.into(),
        note: None,
        class: None,
        reference: false,
        threads: producers + consumers,
        oversubscribed: false,
        items: Some(1000),
        resized: 0,
        short_of_budget: None,
        status: Status::Measured,
        repetitions,
        remeasured: Vec::new(),
        latency_histogram_v2: None,
        stopped: None,
        summary,
        summary_with_remeasured: None,
        other_regimes: Vec::new(),
        only_other_regimes: false,
    }
}

#[test]
fn machines_differ_on_what_decides_speed_not_on_their_names() {
    let results = results_with(Vec::new());
    let mut other = results_with(Vec::new()).machine;
    other.hostname = "runner-7f3a".into();
    assert!(results.machine.differences(&other).is_empty());
    other.cores = 4;
    other.kernel = "6.8".into();
    assert_eq!(
        results.machine.differences(&other),
        ["cores: 2 vs 4", "kernel: 6.1 vs 6.8"]
    );
}

#[test]
fn busy_cores_leave_out_the_start_up_the_warm_up_shares() {
    let mut repetition = load_cell("flume", 1, 1, &[1000.0]).repetitions.remove(0);
    // 10 ms of start-up in both runs: 1000 items in 1 s with 210 ms of
    // CPU, after a warm-up of 100 items in 100 ms with 30 ms of CPU.
    repetition.items = 1000;
    repetition.elapsed_ns = 1_000_000_000;
    repetition.cpu.user_ns = 210_000_000;
    assert!((repetition.busy_cores() - 0.21).abs() < 1e-9);
    repetition.warm_up = Some(WarmUp {
        items: 100,
        elapsed_ns: 100_000_000,
        cpu_ns: 30_000_000,
    });
    assert!((repetition.busy_cores() - 0.2).abs() < 1e-9);
    let (items, wall, cpu) = repetition.beyond_warm_up();
    assert_eq!((items, wall, cpu), (900.0, 900_000_000.0, 180_000_000.0));
}
