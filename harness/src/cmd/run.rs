//! `chanlab run`: measure a matrix of scenarios x implementations and write
//! the results as JSON.
//!
//! First each implementation's conformance verdict is recorded (cached for
//! this build, or checked now), so the report shows it beside the figures.
//! Then every job (a sizing probe, or one measured repetition) runs in a
//! worker process under a time limit derived from the cell's size: a hung
//! cell is killed and recorded as hung, a crash is recorded with its exit
//! status, and the run goes on. Repetitions are interleaved (round 1 visits
//! every cell, then round 2, each round starting one cell later), so drift
//! on a noisy machine spreads over every implementation instead of
//! favouring the ones measured first. The results file is rewritten as the
//! run goes, and at its end.

use std::process::ExitCode;

use anyhow::Context;
use chanlab_registry::Registry;
use chanlab_report::schema::Verdict;

use crate::runner::cell;
use crate::runner::measure::{self, MeasureArgs};
use crate::runner::protocol::Job;

/// Options of `chanlab run`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    measure: MeasureArgs,
    /// Exit with status 1 when an implementation named with `--impl` (every
    /// one in the run, when none is named) fails its conformance suite with
    /// a failure it does not declare, or was not checked: the gate for a
    /// channel author's CI. Without it, verdicts are reported, not gated.
    #[arg(long)]
    fail_on_verdict: bool,
    /// Do one job in this process and print its reply as JSON (used by the
    /// parent run for each worker).
    #[arg(long, hide = true, value_name = "JSON")]
    job: Option<String>,
}

/// Runs the subcommand: measures, then renders the report beside the
/// results.
pub fn run(args: Args, registry: &Registry) -> anyhow::Result<ExitCode> {
    if let Some(job) = &args.job {
        let job: Job = serde_json::from_str(job).context("reading the job to do")?;
        let reply = cell::execute(job, registry)?;
        serde_json::to_writer(std::io::stdout().lock(), &reply)
            .context("writing the reply to stdout")?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(measured) = measure::measure(&args.measure, registry, None)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let code = measure::finish(&measured)?;
    if !args.fail_on_verdict || code != ExitCode::SUCCESS {
        return Ok(code);
    }
    let named = &args.measure.filter.impls;
    let failing: Vec<String> = measured
        .results
        .gate_findings()
        .into_iter()
        .filter(|(name, _)| named.is_empty() || named.iter().any(|named| named == name))
        .filter(|(_, verdict)| {
            verdict.fails_undeclared() || matches!(verdict, Verdict::Unknown { .. })
        })
        .map(|(name, verdict)| {
            format!(
                "  {name}: {} (`chanlab conformance --impl {name}` shows why)",
                verdict.short()
            )
        })
        .collect();
    if failing.is_empty() {
        return Ok(code);
    }
    say!(
        "chanlab: --fail-on-verdict: the conformance gate does not pass\n{}",
        failing.join("\n")
    );
    Ok(ExitCode::from(1))
}
