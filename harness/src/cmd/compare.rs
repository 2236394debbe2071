//! `chanlab compare`: the regression gate. Compares a run with a baseline
//! cell by cell and fails only on a correctness failure or on a change for
//! the worse that is both beyond the threshold and significant.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
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
    #[arg(long, value_name = "PERCENT", default_value = "10%", value_parser = parse_percent)]
    max_regression: f64,
    /// Family-wise significance level over all comparisons (Holm).
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Match the current run's implementation NEW against OLD in the
    /// baseline (`NEW=OLD`, repeatable), to judge a substitute.
    #[arg(long, value_name = "NEW=OLD", value_parser = parse_rename)]
    treat_as: Vec<(String, String)>,
    /// Also write the table and verdict as Markdown (for a CI job summary).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
}

/// Runs the subcommand: exit status 0 when the gate passes, 1 when it
/// fails.
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
        ..Options::default()
    };
    let comparison = compare::compare(&baseline, &current, &options);
    let differences = baseline.machine.differences(&current.machine);
    if !differences.is_empty() {
        eprintln!(
            "warning: the runs come from different machines ({}); a difference may be the machine's",
            differences.join(", ")
        );
    }
    let table = comparison.table();
    let summary = comparison.summary();
    crate::output::print(&format!("{}\n{summary}", table.terminal()))?;
    if let Some(path) = &args.markdown {
        std::fs::write(path, format!("{}\n```\n{summary}```\n", table.markdown()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if comparison.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `10%` or `2.5%`, as a fraction; the sign is required, so `0.1` cannot
/// be mistaken for 10%.
fn parse_percent(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .strip_suffix('%')
        .and_then(|number| number.trim().parse().ok())
        .ok_or_else(|| format!("`{text}` is not a percentage like 10%"))?;
    if !(0.0..100.0).contains(&value) {
        return Err(format!("`{text}` must be at least 0% and below 100%"));
    }
    Ok(value / 100.0)
}

/// `new=old`.
fn parse_rename(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((new, old)) if !new.is_empty() && !old.is_empty() => Ok((new.into(), old.into())),
        _ => Err(format!("`{text}` is not NEW=OLD")),
    }
}
