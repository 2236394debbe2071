//! `chanlab ab`: the paired mode for noisy machines. Runs two
//! implementations (or two versions of one, added under different names
//! through cargo's package renaming) on the same workloads in one run,
//! interleaved round by round, and reports per workload the median of the
//! paired ratios B/A: drift in the machine's speed hits both sides of a
//! pair alike, so the ratio is steadier than either measure.

use std::process::ExitCode;

use anyhow::bail;
use chanlab_report::compare;
use chanlab_report::metric::Metric;
use chanlab_report::schema::Spread;
use chanlab_report::table::Table;

use super::run;

/// Repetitions per cell unless `--repetitions` says otherwise: enough
/// pairs for a median and an interval to mean something.
const DEFAULT_REPETITIONS: usize = 10;

/// Arguments of `chanlab ab`.
#[derive(clap::Args)]
pub struct Args {
    /// Implementation A, the reference.
    a: String,
    /// Implementation B, compared with A.
    b: String,
    #[command(flatten)]
    run: run::Args,
}

/// Runs the subcommand.
pub fn run(mut args: Args) -> anyhow::Result<ExitCode> {
    if !args.run.filter.impls.is_empty() {
        bail!("name the two implementations as A and B, not with --impl");
    }
    if args.a == args.b {
        bail!("A and B are both {}: name two implementations", args.a);
    }
    args.run.filter.impls = vec![args.a.clone(), args.b.clone()];
    args.run.repetitions.get_or_insert(DEFAULT_REPETITIONS);
    let Some(measured) = run::measure(&args.run)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let pairs = compare::paired(&measured.results, &args.a, &args.b, 0.95);
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
    crate::output::print(&format!(
        "A = {}, B = {}. {}: B/A above 1 means B is faster; {}: below 1 means B is quicker.\n{}\n",
        args.a,
        args.b,
        Metric::Throughput.name(),
        Metric::P99.name(),
        table.terminal()
    ))?;
    if pairs.is_empty() {
        eprintln!(
            "no workload was measured on both {} and {}: check the names with `chanlab list`",
            args.a, args.b
        );
    }
    run::finish(&measured)
}
