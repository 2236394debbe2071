//! `chanlab compare`: the regression gate. Compares a run with a baseline
//! cell by cell and fails only on a correctness failure or on a change for
//! the worse that is both beyond the threshold and significant.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use chanlab_report::compare::{self, Options};
use chanlab_report::schema::{self, Results};

/// Arguments of `chanlab compare`.
#[derive(clap::Args)]
pub struct Args {
    /// The baseline results file.
    baseline: PathBuf,
    /// The results file to judge.
    current: PathBuf,
    /// The largest tolerated change for the worse: `10%` is 10% fewer
    /// items per second or a 10% higher p99.
    #[arg(long, value_name = "PERCENT", default_value = "10%", value_parser = crate::values::parse_percent)]
    max_regression: f64,
    /// The instruction gate's threshold: an operation path regressed when
    /// it counts this many more instructions per operation than in the
    /// baseline (counts are exact; both runs must come from one machine
    /// kind's valgrind).
    #[arg(long, value_name = "PERCENT", default_value = "1%", value_parser = crate::values::parse_percent)]
    instructions_threshold: f64,
    /// Family-wise significance level over all comparisons (Holm).
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Match the current run's implementation NEW against OLD in the
    /// baseline (`NEW=OLD`, repeatable), to judge a substitute.
    #[arg(long, value_name = "NEW=OLD", value_parser = parse_rename)]
    treat_as: Vec<(String, String)>,
    /// Pass cells the baseline measured and this run did not (gone from
    /// the plan, or now not applicable); they are listed either way.
    #[arg(long)]
    allow_missing: bool,
    /// Also write the table and verdict as Markdown (for a CI job summary).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Also write every comparison and the verdict as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Runs the subcommand: exit status 0 when the gate passes, 1 when it
/// fails, 3 when it cannot tell ([`chanlab_report::ruling::Ruling`]).
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !(0.0..1.0).contains(&args.alpha) || args.alpha == 0.0 {
        bail!("--alpha must be between 0 and 1, not {}", args.alpha);
    }
    let baseline = Results::load(&args.baseline)?;
    let current = Results::load(&args.current)?;
    if baseline.schema_version != current.schema_version {
        let (older, newer) = (
            baseline.schema_version.min(current.schema_version),
            baseline.schema_version.max(current.schema_version),
        );
        let changes: Vec<String> = schema::SCHEMA_CHANGES
            .iter()
            .filter(|(version, _)| (older + 1..=newer).contains(version))
            .map(|(version, change)| format!("in schema {version}, {change}"))
            .collect();
        bail!(
            "{} has results schema {} and {} has {}: the figures are not comparable ({}), \
             so measure the baseline again with this chanlab",
            args.baseline.display(),
            baseline.schema_version,
            args.current.display(),
            current.schema_version,
            changes.join("; ")
        );
    }
    let options = Options {
        max_regression: args.max_regression,
        alpha: args.alpha,
        treat_as: args.treat_as.into_iter().collect::<BTreeMap<_, _>>(),
        allow_missing: args.allow_missing,
        instruction_threshold: args.instructions_threshold,
        ..Options::default()
    };
    let (baseline, baseline_topology) = baseline.in_main_regime();
    let (current, current_topology) = current.in_main_regime();
    let comparison = compare::compare(&baseline, &current, &options);
    let mut differences = baseline.machine.differences(&current.machine);
    if let Some(placed) = baseline_topology.placed_otherwise(&current_topology) {
        differences.push(placed);
    }
    if !differences.is_empty() {
        say!(
            "warning: the runs come from different machines ({}); a difference may be the machine's",
            differences.join(", ")
        );
    }
    let table = comparison.table();
    let counts = comparison.instructions.table();
    let summary = comparison.summary();
    crate::output::print(&format!(
        "{}\n{}\n{summary}",
        table.terminal(),
        counts.terminal()
    ))?;
    let markdown = format!(
        "{}\n{}\n```\n{summary}```\n",
        table.markdown(),
        counts.markdown()
    );
    super::write_outputs(
        &comparison,
        &markdown,
        args.json.as_deref(),
        args.markdown.as_deref(),
    )?;
    Ok(ExitCode::from(comparison.ruling().exit_status()))
}

/// `new=old`.
fn parse_rename(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((new, old)) if !new.is_empty() && !old.is_empty() => Ok((new.into(), old.into())),
        _ => Err(format!("`{text}` is not NEW=OLD")),
    }
}
