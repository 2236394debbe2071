//! `chanlab run`: measure a matrix of scenarios x implementations and write
//! the results as JSON.
//!
//! First each implementation's conformance verdict is recorded (cached for
//! this build, or checked now), so the report shows it beside the figures.
//! Then every job (a sizing probe, or one measured repetition) runs in a
//! worker process under a time limit derived from the cell's size: a hung cell is killed and recorded as hung, a crash is recorded
//! with its exit status, and the run goes on. Repetitions are interleaved
//! (round 1 visits every cell, then round 2, each round starting one cell
//! later), so drift on a noisy machine spreads over every implementation
//! instead of favouring the ones measured first. The results file is
//! rewritten after every job.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use chanlab_report::schema::{self, Cell, Results};

use super::parse_duration;
use crate::runner::plan::{self, Filter, Plan, Profile};
use crate::runner::protocol::Job;
use crate::runner::session::{self, Builds, Measured, Request, Stopped};
use crate::runner::{cell, provenance};

/// Options of `chanlab run`.
#[derive(clap::Args)]
pub struct Args {
    /// The built-in matrix to run.
    #[arg(long, value_enum, default_value_t = Profile::Quick)]
    profile: Profile,
    /// Run the workloads of this scenario file (TOML) instead of a
    /// profile; `scenarios/workloads/example.toml` shows the format.
    #[arg(long, value_name = "FILE", conflicts_with = "profile")]
    file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) filter: Filter,
    /// Directory for `results.json` and the report rendered from it
    /// [default: reports/<plan>-<time>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace a run already in the `--out` directory; with `--resume`,
    /// resume on another machine or build.
    #[arg(long)]
    force: bool,
    /// Finish the interrupted run in DIR: measure what it had left, with
    /// its plan and settings, into the same results file.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["profile", "file", "out", "repetitions", "budget"])]
    resume: Option<PathBuf>,
    /// Measured repetitions per cell, instead of the plan's.
    #[arg(long, value_name = "N")]
    pub(crate) repetitions: Option<usize>,
    /// Target length of one measured run (`100ms`, `1s`), instead of the
    /// plan's; at most a minute.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    budget: Option<Duration>,
    /// Busy threads to run beside the cells, to measure on a loaded
    /// machine.
    #[arg(long, value_name = "THREADS", default_value_t = 0)]
    background_load: usize,
    /// The shortest time limit any job gets; each job's own limit is this
    /// plus ten times its expected length.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    min_limit: Duration,
    /// Use only cached conformance verdicts: an implementation without one
    /// for this build is reported as not checked, instead of checked
    /// before measuring (once per build; `chanlab conformance` fills the
    /// same cache).
    #[arg(long)]
    cached_verdicts: bool,
    /// Stop after the job under way once the run has measured this long
    /// (`45m`, `2h`; sizing included, conformance checks not), as a first
    /// Ctrl-C does: the report is marked partial, the exit status is 124,
    /// and `--resume` finishes the run.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    time_limit: Option<Duration>,
    /// Print the cells the run would measure and how long that should take
    /// here, and stop.
    #[arg(long)]
    dry_run: bool,
    /// Do one job in this process and print its reply as JSON (used by the
    /// parent run for each worker).
    #[arg(long, hide = true, value_name = "JSON")]
    job: Option<String>,
}

/// Runs the subcommand: measures, then renders the report beside the
/// results.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(job) = &args.job {
        let job: Job = serde_json::from_str(job).context("reading the job to do")?;
        let reply = cell::execute(job)?;
        serde_json::to_writer(std::io::stdout().lock(), &reply)
            .context("writing the reply to stdout")?;
        return Ok(ExitCode::SUCCESS);
    }
    match measure(&args, None)? {
        Some(measured) => finish(&measured),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Measures the plan `args` describe, on `builds` too when given; `None`
/// after a dry run, which only lists the cells. Ctrl-C stops it after the
/// job under way.
pub fn measure(args: &Args, builds: Option<Builds>) -> anyhow::Result<Option<Measured>> {
    if let Some(dir) = &args.resume {
        return resume(args, dir, builds).map(Some);
    }
    let plan = match &args.file {
        Some(path) => Plan::file(path)?,
        None => plan::add_broken(Plan::profile(args.profile), &args.filter),
    };
    let mut plan = plan.filter(&args.filter)?;
    if let Some(repetitions) = args.repetitions {
        if repetitions == 0 {
            bail!("--repetitions must be at least 1");
        }
        plan.repetitions = repetitions;
    }
    if let Some(budget) = args.budget {
        if !(Duration::from_millis(1)..=Duration::from_secs(60)).contains(&budget)
            || budget.subsec_nanos() % 1_000_000 != 0
        {
            bail!("--budget must be whole milliseconds between 1ms and 60s, not {budget:?}");
        }
        plan.budget = budget;
    }
    if args.dry_run {
        let ids: Vec<String> = plan.cells.iter().map(Cell::id).collect();
        crate::output::print(&format!(
            "{}\n{} cells x {} repetitions of about {:?} each\n\
             estimated {} of measuring on a machine like the two-core one chanlab's \
             figures come from ({}), plus the conformance suites once per build\n",
            ids.join("\n"),
            ids.len(),
            plan.repetitions,
            plan.budget,
            humantime::format_duration(round_to_minutes(plan.estimate())),
            plan::ESTIMATE_MODEL,
        ))?;
        return Ok(None);
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| session::default_out(&plan.name));
    let existing = out.join("results.json");
    if existing.exists() && !args.force {
        bail!(
            "{} already holds a run; give another --out, or --force to replace it",
            existing.display()
        );
    }
    crate::interrupt::install()?;
    session::run(Request {
        plan,
        out,
        background_load: args.background_load,
        min_limit: args.min_limit,
        check_conformance: !args.cached_verdicts,
        builds,
        resume: None,
        time_limit: args.time_limit,
    })
    .map(Some)
}

/// `duration` to the minute, at least one: an estimate is no finer.
fn round_to_minutes(duration: Duration) -> Duration {
    Duration::from_secs((duration.as_secs().div_ceil(60)).max(1) * 60)
}

/// Finishes the interrupted run in `dir` with its own plan and settings.
fn resume(args: &Args, dir: &Path, builds: Option<Builds>) -> anyhow::Result<Measured> {
    let file = dir.join("results.json");
    let previous = Results::load(&file)?;
    if previous.finished_at.is_some() {
        bail!(
            "{} is a finished run: there is nothing to resume",
            file.display()
        );
    }
    if previous.schema_version != schema::SCHEMA_VERSION {
        bail!(
            "{} has results schema {}, this chanlab writes {}: measure the run again",
            file.display(),
            previous.schema_version,
            schema::SCHEMA_VERSION
        );
    }
    let here = provenance::machine();
    let build = provenance::build();
    let mut differences = previous.machine.differences(&here);
    if previous.chanlab.git_commit != build.git_commit {
        differences.push(format!(
            "chanlab build: {} vs {}",
            previous.chanlab.git_commit, build.git_commit
        ));
    }
    if !differences.is_empty() && !args.force {
        bail!(
            "{} was measured on another machine or build ({}); its figures would mix with \
             these: resume with --force to do it anyway",
            file.display(),
            differences.join(", ")
        );
    }
    let plan = Plan {
        name: previous.settings.profile.clone(),
        cells: previous
            .cells
            .iter()
            .map(|cell| cell.cell.clone())
            .collect(),
        repetitions: previous.settings.repetitions,
        budget: Duration::from_millis(previous.settings.budget_ms),
    };
    crate::interrupt::install()?;
    session::run(Request {
        plan,
        out: dir.to_owned(),
        background_load: previous.settings.background_threads,
        min_limit: args.min_limit,
        check_conformance: !args.cached_verdicts,
        builds,
        resume: Some(previous),
        time_limit: args.time_limit,
    })
}

/// Renders the report of `measured` beside its results; the exit status
/// is 1 if any cell failed, hung or crashed.
pub fn finish(measured: &Measured) -> anyhow::Result<ExitCode> {
    let failures = measured
        .results
        .cells
        .iter()
        .filter(|c| c.status.is_failure())
        .count();
    let name = measured
        .dir
        .file_name()
        .map_or_else(|| "run".into(), |n| n.to_string_lossy().into_owned());
    super::report::render(
        &name,
        &[measured.dir.join("results.json")],
        &measured.dir,
        None,
    )?;
    if let Some(stopped) = measured.stopped {
        let code = match stopped {
            Stopped::Interrupted => 130,
            // As `timeout(1)` reports a command it stopped.
            Stopped::TimeLimit(_) => 124,
        };
        eprintln!(
            "chanlab: the run was {stopped}; its report is marked partial. Finish it with \
             `chanlab run --resume {}`",
            measured.dir.display()
        );
        return Ok(ExitCode::from(code));
    }
    Ok(if failures > 0 {
        eprintln!("{failures} cells failed, hung or crashed (listed above and in the report)");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
