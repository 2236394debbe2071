//! `chanlab overhead`: what measuring costs. The same channel carries the
//! same messages driven by a bare loop (one thread sends, one receives,
//! nothing else) and by the runner's load, in throughput mode and in
//! closed-loop latency mode; the ratio of their times is the runner's
//! overhead. Variants are interleaved in each repetition and the medians of
//! the per-repetition ratios are reported, each with its 95% bootstrap
//! interval; where that interval is wider than ±5% of the median, the
//! output says how many repetitions would narrow it that far. Both sides
//! place their two threads alike (`--placement`, pinned by default, as
//! `chanlab run` does), and each repetition times the cross-core round
//! trip first: only repetitions in the main regime of the host's placement
//! of the cores ([`Topology`]) are counted.

use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chanlab_contract::{AsyncFlavor, Capacity, FlavorVisitor, Receiver, Sender, SyncFlavor};
use chanlab_scenarios::load::{LoadSpec, Measure, start_load_sync};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use chanlab_report::format::duration;
use chanlab_report::schema::{PlacementPolicy, Spread};
use chanlab_report::stats::{self, Interval};
use chanlab_report::topology::Topology;

use crate::runner::placement::{self, Plan};

/// The half-width, as a share of the median, that the overhead's 95%
/// interval should not exceed.
const TARGET_HALF_WIDTH: f64 = 0.05;

/// Options of `chanlab overhead`.
#[derive(clap::Args)]
pub struct Args {
    /// The blocking implementation to drive.
    #[arg(long = "impl", value_name = "NAME", default_value = "crossbeam")]
    implementation: String,
    /// Messages per run.
    #[arg(long, default_value_t = 1_000_000)]
    items: usize,
    /// Capacity of the channel.
    #[arg(long, default_value_t = 64)]
    capacity: usize,
    /// Repetitions of every variant, interleaved.
    #[arg(long, default_value_t = 11)]
    repetitions: usize,
    /// Where the two threads of either side run (as `chanlab run
    /// --placement`).
    #[arg(long, value_name = "POLICY", default_value = "pinned", value_parser = crate::runner::measure::placements())]
    placement: PlacementPolicy,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.items == 0 || args.repetitions == 0 {
        bail!("--items and --repetitions must be at least 1");
    }
    let mut visitor = OnNamed {
        args: &args,
        rows: None,
    };
    chanlab_impls::visit_all(&mut visitor);
    let (rows, setting) = match visitor.rows {
        Some(measured) => measured?,
        None => bail!(
            "no blocking implementation named {:?} (see `chanlab list`)",
            args.implementation
        ),
    };
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header([
        "driven by",
        "message",
        "time/message (median)",
        "vs bare loop: median of paired ratios [min, max]",
        "95% interval (half-width)",
    ]);
    let mut wanting = Vec::new();
    for row in &rows {
        let interval = match (row.ratio, row.interval) {
            (Some(ratio), Some(interval)) => {
                let half_width = (interval.high - interval.low) / 2.0 / ratio.median;
                if half_width > TARGET_HALF_WIDTH {
                    // An interval narrows as the square root of the repetitions.
                    let needed =
                        (args.repetitions as f64 * (half_width / TARGET_HALF_WIDTH).powi(2)).ceil();
                    wanting.push(format!(
                        "{} ({} B): about {needed} repetitions for ±{:.0}%",
                        row.name,
                        row.bytes,
                        TARGET_HALF_WIDTH * 100.0
                    ));
                }
                format!(
                    "[{:.3}, {:.3}] (±{:.1}%)",
                    interval.low,
                    interval.high,
                    half_width * 100.0
                )
            }
            _ => String::new(),
        };
        table.add_row([
            row.name.to_owned(),
            format!("{} B", row.bytes),
            duration(row.per_message.median),
            row.ratio.map_or_else(
                || "1 (reference)".to_owned(),
                |r| format!("{:.3} [{:.2}, {:.2}]", r.median, r.min, r.max),
            ),
            interval,
        ]);
    }
    let precision = if wanting.is_empty() {
        format!(
            "every interval is within ±{:.0}% of its median",
            TARGET_HALF_WIDTH * 100.0
        )
    } else {
        format!(
            "wider than ±{:.0}%: {}",
            TARGET_HALF_WIDTH * 100.0,
            wanting.join("; ")
        )
    };
    crate::output::print(&format!(
        "{table}\n{} on bounded({}), {} messages, {} of {} interleaved repetitions counted \
         (cross-core round trips: {}); threads {}; {precision}\n",
        args.implementation,
        args.capacity,
        args.items,
        setting.counted,
        args.repetitions,
        setting.topology.describe(),
        setting.placement,
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// One line of the report.
struct Row {
    name: &'static str,
    bytes: usize,
    per_message: Spread,
    ratio: Option<Spread>,
    /// The 95% bootstrap interval of the median paired ratio.
    interval: Option<Interval>,
}

/// What the rows were measured under.
struct Setting {
    /// The host's placement of the cores over the repetitions.
    topology: Topology,
    /// Repetitions in its main regime, the ones counted.
    counted: usize,
    /// Where the threads ran, in words.
    placement: String,
}

struct OnNamed<'a> {
    args: &'a Args,
    rows: Option<anyhow::Result<(Vec<Row>, Setting)>>,
}

impl FlavorVisitor for OnNamed<'_> {
    fn visit_sync<F: SyncFlavor>(&mut self) {
        if F::INFO.name == self.args.implementation {
            self.rows = Some(measure::<F>(self.args));
        }
    }

    fn visit_async<F: AsyncFlavor>(&mut self) {}
}

/// A way to move `items` messages through a fresh channel; returns the
/// time the messages took.
type Variant = (
    &'static str,
    usize,
    Box<dyn Fn() -> anyhow::Result<Duration>>,
);

fn measure<F: SyncFlavor>(args: &Args) -> anyhow::Result<(Vec<Row>, Setting)> {
    let (items, capacity) = (args.items, Capacity::Bounded(args.capacity));
    let load = move |message_bytes, measure| {
        move || {
            let spec = LoadSpec {
                producers: 1,
                consumers: 1,
                capacity,
                message_bytes,
                items,
                measure,
            };
            let run = start_load_sync::<F>(&spec)?;
            let elapsed = run.elapsed();
            run.check()?;
            Ok(elapsed)
        }
    };
    // Pairs of (bare loop, runner): each ratio compares like with like.
    let variants: Vec<Variant> = vec![
        (
            "bare loop",
            8,
            Box::new(move || bare::<F, u64>(items, capacity)),
        ),
        (
            "runner, throughput",
            8,
            Box::new(load(8, Measure::Throughput)),
        ),
        (
            "bare loop",
            16,
            Box::new(move || bare::<F, [u64; 2]>(items, capacity)),
        ),
        (
            "runner, throughput",
            16,
            Box::new(load(16, Measure::Throughput)),
        ),
        (
            "runner, closed-loop latency",
            16,
            Box::new(load(16, Measure::ClosedLoop)),
        ),
    ];
    let mut placements = std::collections::BTreeSet::new();
    let mut placed = |name: &str, run: &dyn Fn() -> anyhow::Result<Duration>| {
        let (elapsed, placement, _) = placement::observe(Plan::new(args.placement, Some(2)), run);
        placements.insert(match placement.reason {
            Some(reason) => format!("placed by the OS ({reason})"),
            None => placement.policy.name().to_owned(),
        });
        elapsed.with_context(|| format!("running {name}"))
    };
    // Warm-up: one run of each, not counted.
    for (name, _, run) in &variants {
        placed(name, run)?;
    }
    let mut times = vec![Vec::new(); variants.len()];
    let mut round_trips = Vec::with_capacity(args.repetitions);
    for _ in 0..args.repetitions {
        round_trips.push(placement::cross_core_round_trip_ns());
        for ((name, _, run), times) in variants.iter().zip(&mut times) {
            times.push(placed(name, run)?.as_nanos() as f64);
        }
    }
    let topology = Topology::of_round_trips(round_trips.iter().flatten().copied());
    let times: Vec<Vec<f64>> = times
        .iter()
        .map(|times| topology.keep_main(&round_trips, times))
        .collect();
    let bare_of = |index: usize| if variants[index].1 == 8 { 0 } else { 2 };
    // Every variant has one time per counted repetition, and there is at
    // least one (the main regime is never empty).
    let rows = variants
        .iter()
        .enumerate()
        .map(|(index, (name, bytes, _))| {
            let per_message = Spread::of(times[index].iter().map(|t| t / items as f64))?;
            let bare = bare_of(index);
            let ratios: Vec<f64> = if bare == index {
                Vec::new()
            } else {
                times[index]
                    .iter()
                    .zip(&times[bare])
                    .map(|(t, b)| t / b)
                    .collect()
            };
            Some(Row {
                name,
                bytes: *bytes,
                per_message,
                ratio: Spread::of(ratios.iter().copied()),
                interval: stats::median_interval(&ratios, 0.95),
            })
        })
        .collect::<Option<Vec<Row>>>()
        .context("no repetition was measured")?;
    let setting = Setting {
        counted: round_trips
            .iter()
            .filter(|trip| topology.in_main(**trip))
            .count(),
        topology,
        placement: placements.into_iter().collect::<Vec<_>>().join(", "),
    };
    Ok((rows, setting))
}

/// The bare loop: one thread sends `items` messages, another receives
/// them; the clock runs from a barrier all pass to the last receive. Like
/// the runner's load, both ends are threads of their own and this thread
/// only waits.
fn bare<F: SyncFlavor, M: Default + Send + 'static>(
    items: usize,
    capacity: Capacity,
) -> anyhow::Result<Duration> {
    let (sender, mut receiver) = F::channel::<M>(capacity)?;
    let start = Arc::new(Barrier::new(3));
    let producer = {
        let start = start.clone();
        std::thread::spawn(move || {
            let _watched = chanlab_scenarios::watch::started();
            start.wait();
            for _ in 0..items {
                if sender.send(M::default()).is_err() {
                    return;
                }
            }
        })
    };
    let consumer = {
        let start = start.clone();
        std::thread::spawn(move || {
            let _watched = chanlab_scenarios::watch::started();
            start.wait();
            let mut received = 0;
            while receiver.recv().is_ok() {
                received += 1;
            }
            received
        })
    };
    start.wait();
    let clock = Instant::now();
    let produced = producer.join();
    let consumed = consumer.join();
    let elapsed = clock.elapsed();
    let received = produced
        .and(consumed)
        .map_err(|_| anyhow::anyhow!("a bare loop thread panicked"))?;
    if received != items {
        bail!("the bare loop received {received} of {items} messages");
    }
    Ok(elapsed)
}
