//! `chanlab fidelity`: chanlab's channel load against the field's own
//! benchmark on the same cells, measured side by side in one interleaved
//! run. The peer is crossbeam-channel's `benchmarks/` suite (its
//! crossbeam-channel, flume and std mpsc binaries and `go.go`), which
//! `ci/fidelity.sh` builds outside the project with the edits it lists
//! (message count from `$MESSAGES`, one cell by `$CELL`, nine decimals).
//!
//! Every cell is sized once by chanlab's own sizing rule to the budget,
//! and both sides then carry that many 8-byte messages. Each repetition
//! runs the peer's process and chanlab's worker process back to back, the
//! order alternating between repetitions and each round starting one cell
//! later, so drift on a noisy machine falls on both sides alike. chanlab's
//! figure is the one `chanlab run` records for the cell (a worker process,
//! a warm-up on a tenth of the messages, then the timed run); the peer's is
//! the time its binary prints for the cell. The peer runs twice in each
//! repetition: its second run over its first (A/A) is the spread the
//! machine alone gives the cell, so a cell that does not agree shows
//! whether the limit is the machine. Each repetition of a cell first times
//! the cross-core round trip, and only repetitions in the run's main regime
//! of the host's core placement are counted.

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use chanlab_contract::Capacity;
use chanlab_registry::Registry;
use chanlab_report::fidelity::{Fidelity, FidelityCell};
use chanlab_report::render::tables;
use chanlab_report::schema::{Cell, PlacementPolicy, Spread, Workload};
use chanlab_report::stats;
use chanlab_report::topology::Topology;
use chanlab_scenarios::MAX_CAPACITY;
use chanlab_scenarios::load::{LoadSpec, Measure};

use crate::child::{self, Ended};
use crate::runner::go;
use crate::runner::placement;
use crate::runner::protocol::{Job, Reply};
use crate::runner::provenance;
use crate::runner::sizing;
use crate::runner::worker::{self, Answer, Worker};
use crate::values::parse_duration;

/// Options of `chanlab fidelity`.
#[derive(clap::Args)]
pub struct Args {
    /// The suite's built Rust binaries: `crossbeam-channel`, `flume`,
    /// `mpsc` (ci/fidelity.sh builds them).
    #[arg(long, value_name = "DIR")]
    bench_dir: PathBuf,
    /// The suite's `go.go`, built; without it there are no go-chan cells.
    #[arg(long, value_name = "FILE")]
    go_bench: Option<PathBuf>,
    /// The suite's revision, recorded with the figures.
    #[arg(long, value_name = "REV", default_value = "unknown")]
    peer_revision: String,
    /// Target length of one run on either side.
    #[arg(long, value_parser = parse_duration, default_value = "300ms")]
    budget: Duration,
    /// Paired repetitions per cell, interleaved.
    #[arg(long, default_value_t = 7)]
    repetitions: usize,
    /// Only cells whose implementation or peer cell name contains this
    /// (`crossbeam`, `bounded0_mpsc`).
    #[arg(long, value_name = "TEXT")]
    only: Option<String>,
    /// Where to write the figures as JSON; reports rendered here pick them
    /// up from the default place (`chanlab report --fidelity FILE` for
    /// another).
    #[arg(long, value_name = "FILE", default_value_os_t = crate::places::fidelity())]
    json: PathBuf,
}

/// The suite's THREADS: producers, and consumers in the MPMC cells.
const THREADS: usize = 4;

/// A capacity as the suite names it.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// `bounded0`: rendezvous.
    Zero,
    /// `bounded1`.
    One,
    /// `bounded`: the capacity is the message count, so it never fills.
    Large,
    /// `unbounded`.
    Unbounded,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Zero => "bounded0",
            Kind::One => "bounded1",
            Kind::Large => "bounded",
            Kind::Unbounded => "unbounded",
        }
    }

    fn capacity(self, items: usize) -> Capacity {
        match self {
            Kind::Zero => Capacity::RENDEZVOUS,
            Kind::One => Capacity::Bounded(1),
            Kind::Large => Capacity::Bounded(items),
            Kind::Unbounded => Capacity::Unbounded,
        }
    }
}

/// One cell both sides run.
struct PeerCell {
    /// chanlab's implementation.
    implementation: &'static str,
    /// The suite's binary for it.
    binary: PathBuf,
    kind: Kind,
    producers: usize,
    consumers: usize,
}

impl PeerCell {
    /// The suite's name for the cell.
    fn name(&self) -> String {
        let shape = match (self.producers > 1, self.consumers > 1) {
            (false, _) => "spsc",
            (true, false) => "mpsc",
            (true, true) => "mpmc",
        };
        format!("{}_{shape}", self.kind.name())
    }

    fn spec(&self, items: usize) -> LoadSpec {
        LoadSpec {
            producers: self.producers,
            consumers: self.consumers,
            capacity: self.kind.capacity(items),
            message_bytes: 8,
            items,
            measure: Measure::Throughput,
        }
    }

    fn job(&self, items: usize) -> Job {
        Job::Measure {
            cell: Cell {
                workload: Workload::Load {
                    spec: self.spec(items),
                    offered: None,
                },
                implementation: self.implementation.to_owned(),
                runtime: None,
            },
            items,
            planted_slowdown: 0.0,
            // The peers' own suites run where the OS puts them.
            placement: PlacementPolicy::Os,
        }
    }
}

/// The cells the suite has, per library: crossbeam-channel's binary runs
/// SPSC, MPSC and MPMC at every capacity; flume's and std's have no MPMC
/// (std's channel has one receiver), flume's leaves its rendezvous cells
/// out; go.go has no unbounded channel.
fn cells(args: &Args) -> Vec<PeerCell> {
    let shapes = |mpmc: bool| {
        let mut shapes = vec![(1, 1), (THREADS, 1)];
        if mpmc {
            shapes.push((THREADS, THREADS));
        }
        shapes
    };
    let all = [Kind::Zero, Kind::One, Kind::Large, Kind::Unbounded];
    let mut libraries = vec![
        (
            "crossbeam",
            args.bench_dir.join("crossbeam-channel"),
            true,
            all.to_vec(),
        ),
        (
            "flume",
            args.bench_dir.join("flume"),
            false,
            all[1..].to_vec(),
        ),
        ("std-mpsc", args.bench_dir.join("mpsc"), false, all.to_vec()),
    ];
    if let Some(go_bench) = &args.go_bench {
        libraries.push((go::NAME, go_bench.clone(), true, all[..3].to_vec()));
    }
    let mut cells = Vec::new();
    for (implementation, binary, mpmc, kinds) in libraries {
        for &kind in &kinds {
            for &(producers, consumers) in &shapes(mpmc) {
                cells.push(PeerCell {
                    implementation,
                    binary: binary.clone(),
                    kind,
                    producers,
                    consumers,
                });
            }
        }
    }
    cells.retain(|cell| {
        args.only.as_ref().is_none_or(|only| {
            cell.implementation.contains(only.as_str()) || cell.name().contains(only.as_str())
        })
    });
    cells
}

/// One cell's progress through the run.
struct Tally {
    items: usize,
    /// One per complete repetition, like `peer_again_ns` and `round_trips`.
    chanlab_ns: Vec<f64>,
    peer_ns: Vec<f64>,
    peer_again_ns: Vec<f64>,
    round_trips: Vec<Option<f64>>,
    problem: Option<String>,
}

/// Runs the subcommand.
pub fn run(args: Args, registry: &Registry) -> anyhow::Result<ExitCode> {
    if args.repetitions == 0 {
        bail!("--repetitions must be at least 1");
    }
    let cells = cells(&args);
    if cells.is_empty() {
        bail!("no cell matches --only {:?}", args.only.unwrap_or_default());
    }
    for cell in &cells {
        registry.find(cell.implementation)?;
        if !cell.binary.is_file() {
            bail!(
                "{} is not there: build the suite with ci/fidelity.sh",
                cell.binary.display()
            );
        }
    }
    let exe = std::env::current_exe().context("locating the chanlab executable")?;
    let go_worker = match cells.iter().any(|cell| cell.implementation == go::NAME) {
        true => Some(go::prepare().map_err(anyhow::Error::msg)?),
        false => None,
    };
    let worker_for = |cell: &PeerCell| match (&go_worker, cell.implementation == go::NAME) {
        (Some(go), true) => Worker::Go(go),
        _ => Worker::Chanlab(&exe),
    };
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let limit = args.budget * 40 + Duration::from_secs(10);

    let mut tallies = Vec::new();
    for cell in &cells {
        say!("fidelity: sizing {} {}", cell.implementation, cell.name());
        tallies.push(size(cell, worker_for(cell), args.budget, limit)?);
    }
    for round in 0..args.repetitions {
        say!("fidelity: round {} of {}", round + 1, args.repetitions);
        for step in 0..cells.len() {
            let index = (step + round) % cells.len();
            let (cell, tally) = (&cells[index], &mut tallies[index]);
            if tally.problem.is_some() {
                continue;
            }
            // The suite's two runs sit either side of chanlab's, which of
            // them comes first alternating between rounds.
            let sides = match round % 2 {
                0 => [Side::Peer, Side::Chanlab, Side::PeerAgain],
                _ => [Side::PeerAgain, Side::Chanlab, Side::Peer],
            };
            let round_trip = placement::cross_core_round_trip_ns();
            let mut times = [0.0; 3];
            for (side, time) in sides.iter().zip(&mut times) {
                let measured = match side {
                    Side::Peer | Side::PeerAgain => peer(cell, tally.items, limit),
                    Side::Chanlab => chanlab(cell, worker_for(cell), tally.items, limit),
                };
                match measured? {
                    Ok(elapsed) => *time = elapsed.as_nanos() as f64 / tally.items as f64,
                    Err(problem) => {
                        say!(
                            "fidelity: {} {}: {problem}",
                            cell.implementation,
                            cell.name()
                        );
                        tally.problem = Some(problem);
                        break;
                    }
                }
            }
            if tally.problem.is_none() {
                for (side, time) in sides.iter().zip(times) {
                    match side {
                        Side::Peer => tally.peer_ns.push(time),
                        Side::PeerAgain => tally.peer_again_ns.push(time),
                        Side::Chanlab => tally.chanlab_ns.push(time),
                    }
                }
                tally.round_trips.push(round_trip);
            }
        }
    }
    let topology = Topology::of_round_trips(
        tallies
            .iter()
            .flat_map(|tally| tally.round_trips.iter().flatten().copied()),
    );
    say!("fidelity: cross-core round trips: {}", topology.describe());
    let fidelity = Fidelity {
        machine: provenance::machine(),
        chanlab: provenance::build(registry),
        peer: format!("crossbeam-channel benchmarks/ at {}", args.peer_revision),
        budget_ms: args.budget.as_millis() as u64,
        repetitions: args.repetitions,
        started_at,
        cells: cells
            .iter()
            .zip(tallies)
            .map(|(cell, tally)| figures(cell, tally, &topology))
            .collect(),
    };
    if let Some(dir) = args.json.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fidelity.write(&args.json)?;
    crate::output::print(&table(&fidelity))?;
    say!("fidelity: figures in {}", args.json.display());
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy)]
enum Side {
    Peer,
    /// The suite's second run of the cell in a repetition.
    PeerAgain,
    Chanlab,
}

/// Sizes `cell` with chanlab's own rule, probing on chanlab's side, to a
/// message count both sides can run: a multiple of the suite's thread
/// count (its producers each send an equal share), and for the `bounded`
/// cells within chanlab's largest capacity.
fn size(
    cell: &PeerCell,
    worker: Worker<'_>,
    budget: Duration,
    limit: Duration,
) -> anyhow::Result<Tally> {
    let most = match cell.kind {
        Kind::Large => MAX_CAPACITY,
        _ => chanlab_scenarios::MAX_ITEMS,
    };
    let (items, problem) =
        match sizing::by_probes(budget, most, |items| chanlab(cell, worker, items, limit))? {
            Ok((items, _)) => (items, None),
            Err((items, problem)) => (items, Some(format!("sizing: {problem}"))),
        };
    Ok(Tally {
        items: (items / THREADS).max(1) * THREADS,
        chanlab_ns: Vec::new(),
        peer_ns: Vec::new(),
        peer_again_ns: Vec::new(),
        round_trips: Vec::new(),
        problem,
    })
}

/// One run of `cell` with `items` messages in chanlab's worker: its timed
/// run, or why there is none.
fn chanlab(
    cell: &PeerCell,
    worker: Worker<'_>,
    items: usize,
    limit: Duration,
) -> anyhow::Result<Result<Duration, String>> {
    Ok(match worker::ask(worker, &cell.job(items), limit)? {
        Answer::Reply(Reply::Measured(run)) => Ok(Duration::from_nanos(run.elapsed_ns)),
        Answer::Reply(Reply::Refused { reason, .. }) => Err(format!("chanlab refused: {reason}")),
        Answer::Reply(Reply::Failed { reason }) => Err(format!("chanlab failed: {reason}")),
        Answer::Reply(Reply::Counted { .. }) => Err("chanlab answered a count".to_owned()),
        Answer::Status(status) => Err(format!("chanlab's worker: {status:?}")),
    })
}

/// One run of `cell` with `items` messages in the suite's binary: the time
/// it prints, or why there is none.
fn peer(
    cell: &PeerCell,
    items: usize,
    limit: Duration,
) -> anyhow::Result<Result<Duration, String>> {
    let mut command = Command::new(&cell.binary);
    command
        .env("MESSAGES", items.to_string())
        .env("CELL", cell.name());
    Ok(match child::run_command(command, limit)? {
        Ended::Killed => Err(format!("the suite's run was killed after {limit:?}")),
        Ended::Exited {
            status,
            stderr_tail,
            ..
        } if !status.success() => Err(format!("the suite's run exited {status}: {stderr_tail}")),
        Ended::Exited { stdout, .. } => {
            printed_seconds(&String::from_utf8_lossy(&stdout), &cell.name())
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    format!(
                        "the suite printed no time for {}: {:?}",
                        cell.name(),
                        String::from_utf8_lossy(&stdout)
                    )
                })
        }
    })
}

/// The seconds the suite printed for `cell`: its lines are
/// `<cell> <library words> <seconds> sec`.
fn printed_seconds(stdout: &str, cell: &str) -> Option<f64> {
    stdout.lines().find_map(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [name, .., seconds, "sec"] if *name == cell => seconds.parse().ok(),
            _ => None,
        }
    })
}

/// A cell's figures from its tally's repetitions in the main regime.
fn figures(cell: &PeerCell, tally: Tally, topology: &Topology) -> FidelityCell {
    let kept = |times: &[f64]| topology.keep_main(&tally.round_trips, times);
    let (chanlab_ns, peer_ns, peer_again_ns) = (
        kept(&tally.chanlab_ns),
        kept(&tally.peer_ns),
        kept(&tally.peer_again_ns),
    );
    let over = |times: &[f64], reference: &[f64]| -> Vec<f64> {
        times.iter().zip(reference).map(|(t, r)| t / r).collect()
    };
    let ratios = over(&chanlab_ns, &peer_ns);
    let peer_again = over(&peer_again_ns, &peer_ns);
    let interval = |ratios: &[f64]| {
        stats::median_interval(ratios, 0.95).map(|interval| (interval.low, interval.high))
    };
    FidelityCell {
        cell: cell.name(),
        implementation: cell.implementation.to_owned(),
        producers: cell.producers,
        consumers: cell.consumers,
        capacity: cell.kind.capacity(tally.items).label(),
        items: tally.items,
        chanlab_ns: Spread::of(chanlab_ns.iter().copied()),
        peer_ns: Spread::of(peer_ns.iter().copied()),
        ratio: Spread::of(ratios.iter().copied()),
        ratio_interval: interval(&ratios),
        peer_again_ratio: Spread::of(peer_again.iter().copied()),
        peer_again_interval: interval(&peer_again),
        other_regimes: tally
            .round_trips
            .iter()
            .filter(|trip| !topology.in_main(**trip))
            .count(),
        problem: tally.problem,
        difference: known_difference(cell).map(str::to_owned),
    }
}

/// The printed table: one row per cell, and the count that agree.
fn table(fidelity: &Fidelity) -> String {
    format!(
        "{}\n{} ({} paired repetitions, runs of about {} ms, 8-byte messages)\n",
        tables::fidelity(fidelity).terminal(),
        fidelity.summary(),
        fidelity.repetitions,
        fidelity.budget_ms
    )
}

/// What differs between chanlab's loop and the suite's on `cell`, known
/// from reading both, when anything does.
fn known_difference(cell: &PeerCell) -> Option<&'static str> {
    match (cell.implementation, cell.kind, cell.producers) {
        (go::NAME, ..) => Some(
            "chanlab's Go worker builds and reads each message through function values, which Go's generics do not inline, and tallies it; go.go's loop does neither",
        ),
        ("std-mpsc", ..) => Some(
            "chanlab's std-mpsc adapter keeps its receiver behind a mutex so it can be cloned (the contract's multi-consumer receiver): one uncontended lock per receive",
        ),
        // crossbeam-channel's array flavor allocates and stamps every slot
        // when the channel is made; flume's bounded queue grows as it fills.
        ("crossbeam", Kind::Large, _) => Some(
            "the suite allocates and stamps its buffer of one slot per message inside its timed region; chanlab opens the channel before its clock starts",
        ),
        (_, Kind::Zero | Kind::One, 1) => Some(
            "every message is a hand-off between two threads on two cores: single runs spread several-fold on both sides, so more pairs are needed to pin the median",
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suites_lines_are_read() {
        let out = "bounded0_mpsc             Rust crossbeam-channel 0.123456789 sec\n\
                   bounded1_spsc             Go chan         2.5 sec\n";
        assert_eq!(printed_seconds(out, "bounded0_mpsc"), Some(0.123456789));
        assert_eq!(printed_seconds(out, "bounded1_spsc"), Some(2.5));
        assert_eq!(printed_seconds(out, "bounded_spsc"), None);
    }

    #[test]
    fn every_library_has_its_suite_cells() {
        let args = Args {
            bench_dir: PathBuf::from("bench"),
            go_bench: Some(PathBuf::from("go-bench")),
            peer_revision: String::new(),
            budget: Duration::from_millis(1),
            repetitions: 1,
            only: None,
            json: PathBuf::new(),
        };
        let names: Vec<String> = cells(&args)
            .iter()
            .map(|cell| format!("{} {}", cell.implementation, cell.name()))
            .collect();
        assert_eq!(names.len(), 12 + 6 + 8 + 9, "{names:?}");
        assert!(names.contains(&"crossbeam bounded0_mpmc".to_owned()));
        assert!(!names.iter().any(|name| name.starts_with("flume bounded0")));
        assert!(
            !names
                .iter()
                .any(|name| name.starts_with("go-chan unbounded"))
        );
    }
}
