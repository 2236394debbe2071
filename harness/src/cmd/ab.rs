//! `chanlab ab`: the paired mode for noisy machines, for two
//! implementations or for two builds.
//!
//! Two implementations (or two versions of one, added under different
//! names through cargo's package renaming) run on the same workloads in one
//! run, interleaved round by round, and the command reports per workload
//! the median of the paired ratios B/A: drift in the machine's speed hits
//! both sides of a pair alike, so the ratio is steadier than either
//! measure.
//!
//! Two builds (`--baseline-build`): every cell of the plan runs on the
//! baseline build's worker and on this build's, back to back, and the
//! regression gate ([`chanlab_report::gate`]) judges the pairs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chanlab_report::compare;
use chanlab_report::gate::{self, GateOptions};
use chanlab_report::metric::Metric;
use chanlab_report::schema::Spread;
use chanlab_report::table::Table;

use chanlab_registry::Registry;

use crate::runner::measure::{self, MeasureArgs};
use crate::runner::session::Builds;
use crate::values::parse_percent;

/// Repetitions per cell unless `--repetitions` says otherwise: enough
/// pairs for a median and an interval to mean something.
const DEFAULT_REPETITIONS: usize = 10;

/// Repetitions per cell of the gate over two builds unless `--repetitions`
/// says otherwise. Measured on the reference machine (README, "What the
/// gate measured"): with 15 pairs a planted 10% slowdown was caught in 5 of
/// 10 runs at the 5% threshold, with 30 in 9 of 10, and no A/A run of
/// either raised a false alarm.
const GATE_REPETITIONS: usize = 30;

/// Arguments of `chanlab ab`.
#[derive(clap::Args)]
pub struct Args {
    /// Implementation A, the reference.
    #[arg(required_unless_present = "baseline_build")]
    a: Option<String>,
    /// Implementation B, compared with A.
    #[arg(required_unless_present = "baseline_build")]
    b: Option<String>,
    /// Compare two builds instead: this `chanlab` binary (a build of the
    /// baseline revision) measures every cell of the plan beside this
    /// build, in pairs, and the regression gate judges them (exit 1 on a
    /// regression, a failure, or a cell lost).
    #[arg(long, value_name = "CHANLAB", conflicts_with_all = ["a", "b"])]
    baseline_build: Option<PathBuf>,
    /// The gate's threshold: a cell regressed when the interval of its
    /// paired ratio lies wholly beyond this change for the worse.
    #[arg(long, value_name = "PERCENT", default_value = "5%", value_parser = parse_percent)]
    threshold: f64,
    /// The instruction gate's threshold: a flavor's operation path
    /// regressed when valgrind counts this many more instructions per
    /// operation on this build (counts are exact, so this is the smallest
    /// change worth failing on, not a noise margin).
    #[arg(long, value_name = "PERCENT", default_value = "1%", value_parser = parse_percent)]
    instructions_threshold: f64,
    /// The gate's chance of any false alarm over the whole run when
    /// nothing changed (Bonferroni over every comparison).
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Pass cells the baseline measured and this build did not (gone, or
    /// now not applicable); they are listed either way.
    #[arg(long)]
    allow_missing: bool,
    /// Also write the pairs and the verdict as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write the table and the verdict as Markdown (for a CI job
    /// summary).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// The gate's broken twin: this build's runs spin for this fraction of
    /// their time, a slowdown of known size for the gate to catch.
    #[arg(long, hide = true, value_name = "PERCENT", default_value = "0%", value_parser = parse_percent)]
    plant_slowdown: f64,
    #[command(flatten)]
    run: MeasureArgs,
}

/// Runs the subcommand.
pub fn run(args: Args, registry: &Registry) -> anyhow::Result<ExitCode> {
    if !(0.0..1.0).contains(&args.alpha) || args.alpha == 0.0 {
        bail!("--alpha must be between 0 and 1, not {}", args.alpha);
    }
    match (&args.baseline_build, &args.a, &args.b) {
        (Some(baseline), ..) => {
            let baseline = baseline.clone();
            builds(args, registry, baseline)
        }
        (None, Some(a), Some(b)) => {
            let (a, b) = (a.clone(), b.clone());
            implementations(args, registry, a, b)
        }
        _ => bail!("name two implementations A and B, or a baseline build"),
    }
}

/// Two implementations of this build, paired.
fn implementations(
    mut args: Args,
    registry: &Registry,
    a: String,
    b: String,
) -> anyhow::Result<ExitCode> {
    if !args.run.filter.impls.is_empty() {
        bail!("name the two implementations as A and B, not with --impl");
    }
    if a == b {
        bail!("A and B are both {a}: name two implementations");
    }
    args.run.filter.impls = vec![a.clone(), b.clone()];
    args.run.repetitions.get_or_insert(DEFAULT_REPETITIONS);
    let Some(measured) = measure::measure(&args.run, registry, None)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let pairs = compare::paired(&measured.results, &a, &b, 0.95);
    let mut table = Table::new(&[
        "workload",
        "metric",
        "B/A (median of pairs)",
        "95% CI",
        "range",
        "pairs",
    ]);
    for pair in &pairs {
        table.rows.push(vec![
            pair.workload.clone(),
            pair.metric.name().into(),
            format!("{:.3}", pair.median),
            pair.interval
                .map_or_else(String::new, |i| format!("[{:.3}, {:.3}]", i.low, i.high)),
            Spread::of(pair.ratios.iter().copied())
                .map_or_else(String::new, |r| format!("[{:.3}, {:.3}]", r.min, r.max)),
            pair.ratios.len().to_string(),
        ]);
    }
    let legend = format!(
        "A = {a}, B = {b}. {}: B/A above 1 means B is faster; {}: below 1 means B is quicker.",
        Metric::Throughput.name(),
        Metric::P99.name(),
    );
    crate::output::print(&format!("{legend}\n{}\n", table.terminal()))?;
    super::write_outputs(
        &pairs,
        &format!("{legend}\n\n{}", table.markdown()),
        args.json.as_deref(),
        args.markdown.as_deref(),
    )?;
    if pairs.is_empty() {
        say!("no workload was measured on both {a} and {b}: check the names with `chanlab list`");
    }
    measure::finish(&measured)
}

/// This build against a baseline build, judged by the regression gate.
fn builds(mut args: Args, registry: &Registry, baseline: PathBuf) -> anyhow::Result<ExitCode> {
    let baseline = baseline
        .canonicalize()
        .with_context(|| format!("finding the baseline build {}", baseline.display()))?;
    if !(0.0..1.0).contains(&args.plant_slowdown) {
        bail!("--plant-slowdown must be below 100%");
    }
    args.run.repetitions.get_or_insert(GATE_REPETITIONS);
    let builds = Builds::new(baseline, args.plant_slowdown);
    let Some(measured) = measure::measure(&args.run, registry, Some(builds))? else {
        return Ok(ExitCode::SUCCESS);
    };
    let options = GateOptions {
        threshold: args.threshold,
        alpha: args.alpha,
        allow_missing: args.allow_missing,
        instruction_threshold: args.instructions_threshold,
    };
    let verdict = gate::judge(&measured.results, options);
    let summary = verdict.summary();
    crate::output::print(&format!(
        "{}\n{}\n{summary}",
        verdict.table().terminal(),
        verdict.instructions.table().terminal()
    ))?;
    super::write_outputs(
        &verdict,
        &verdict.markdown(),
        args.json.as_deref(),
        args.markdown.as_deref(),
    )?;
    let rendered = measure::finish(&measured)?;
    Ok(if verdict.passed() || measured.stopped.is_some() {
        rendered
    } else {
        ExitCode::from(verdict.ruling().exit_status())
    })
}
