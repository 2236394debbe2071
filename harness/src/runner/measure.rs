//! Measuring a plan end to end, for `chanlab run` and `chanlab ab`: the
//! options they share ([`MeasureArgs`]), the plan they pick, a run or its
//! resumption ([`measure`]), and the report and exit status it ends with
//! ([`finish`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use chanlab_registry::Registry;
use chanlab_report::schema::{self, Cell, PlacementPolicy, Results};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use super::plan::{self, Filter, Plan, Profile};
use super::provenance;
use super::session::{self, Builds, Measured, Request, Stopped};
use crate::render;
use crate::values::parse_duration;

/// What to measure and how: the options `chanlab run` and `chanlab ab`
/// share.
#[derive(clap::Args)]
pub struct MeasureArgs {
    /// The built-in matrix to run.
    #[arg(long, value_enum, default_value_t = Profile::Quick)]
    pub(crate) profile: Profile,
    /// Run the workloads of this scenario file (TOML) instead of a
    /// profile; `scenarios/workloads/example.toml` shows the format.
    #[arg(long, value_name = "FILE", conflicts_with = "profile")]
    pub(crate) file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) filter: Filter,
    /// Directory for `results.json` and the report rendered from it
    /// [default: target/chanlab/<plan>-<time>, in the target directory
    /// chanlab was built in].
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Replace a run already in the `--out` directory; with `--resume`,
    /// resume on another machine or build.
    #[arg(long)]
    pub(crate) force: bool,
    /// Finish the interrupted run in DIR: measure what it had left, with
    /// its plan and settings, into the same results file.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["profile", "file", "out", "repetitions", "most_repetitions", "deciding_cap", "budget", "placement"])]
    pub(crate) resume: Option<PathBuf>,
    /// Measured repetitions per cell, instead of the plan's: exactly this
    /// many, with no deciding rounds after them unless
    /// `--most-repetitions` asks for them.
    #[arg(long, value_name = "N")]
    pub(crate) repetitions: Option<usize>,
    /// The most repetitions a cell may get: past the rounds every cell
    /// takes, deciding rounds go on over the cells of rows that cannot tell
    /// yet (neither clear nor tied), until every row decides, the plan's
    /// cap on measuring time is reached, or this many (the profiles': 30
    /// quick, 20 full).
    #[arg(long, value_name = "N")]
    pub(crate) most_repetitions: Option<usize>,
    /// How long the run may measure (`90m`, `2h`; sizing included,
    /// conformance checks not) before it starts no further deciding round,
    /// instead of the plan's cap (3 minutes quick, 150 full). Rounds every
    /// cell takes are not cut by it: `--time-limit` does that.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) deciding_cap: Option<Duration>,
    /// Target length of one measured run (`100ms`, `1s`), instead of the
    /// plan's; at most a minute.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) budget: Option<Duration>,
    /// Where measured threads run: `pinned` puts each measured thread
    /// (and each runtime worker) on a core of its own wherever a cell's
    /// threads fit the cores, `os` leaves them where the OS puts them.
    /// Each repetition records what it got.
    #[arg(long, value_name = "POLICY", default_value = "pinned", value_parser = placements())]
    pub(crate) placement: PlacementPolicy,
    /// Count no instructions per operation (each flavor's single-thread
    /// paths under valgrind, about a second per flavor).
    #[arg(long)]
    pub(crate) skip_instructions: bool,
    /// Busy threads to run beside the cells, to measure on a loaded
    /// machine.
    #[arg(long, value_name = "THREADS", default_value_t = 0)]
    pub(crate) background_load: usize,
    /// The shortest time limit any job gets; each job's own limit is this
    /// plus ten times its expected length.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub(crate) min_limit: Duration,
    /// Use only cached conformance verdicts: an implementation without one
    /// for this build is reported as not checked, instead of checked
    /// before measuring (once per build; `chanlab conformance` fills the
    /// same cache).
    #[arg(long)]
    pub(crate) cached_verdicts: bool,
    /// Stop after the job under way once the run has measured this long
    /// (`45m`, `2h`; sizing included, conformance checks not), as a first
    /// Ctrl-C does: the report is marked partial, the exit status is 124,
    /// and `--resume` finishes the run.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) time_limit: Option<Duration>,
    /// Print the cells the run would measure and how long that should take
    /// here, and stop.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// The most busy threads `--background-load` starts.
const MOST_BACKGROUND_THREADS: usize = 256;

/// Measures the plan `args` describe, on `builds` too when given; `None`
/// after a dry run, which only lists the cells. Ctrl-C stops it after the
/// job under way.
pub fn measure(
    args: &MeasureArgs,
    registry: &Registry,
    builds: Option<Builds>,
) -> anyhow::Result<Option<Measured>> {
    if let Some(dir) = &args.resume {
        return resume(args, registry, dir, builds).map(Some);
    }
    let plan = match &args.file {
        Some(path) => Plan::file(path, registry)?,
        None => plan::add_broken(
            Plan::profile(args.profile, registry),
            &args.filter,
            registry,
        ),
    };
    let mut plan = plan.filter(&args.filter, registry)?;
    if args.background_load > MOST_BACKGROUND_THREADS {
        bail!(
            "--background-load must be at most {MOST_BACKGROUND_THREADS} busy threads, not {}",
            args.background_load
        );
    }
    if let Some(repetitions) = args.repetitions {
        if !(1..=plan::MOST_REPETITIONS).contains(&repetitions) {
            bail!(
                "--repetitions must be between 1 and {}, not {repetitions}",
                plan::MOST_REPETITIONS
            );
        }
        // Asked for, it is what every cell gets, unless deciding rounds
        // are asked for too.
        plan.repetitions = repetitions;
        plan.most_repetitions = repetitions;
    }
    if let Some(most) = args.most_repetitions {
        if most > plan::MOST_REPETITIONS {
            bail!(
                "--most-repetitions must be at most {}, not {most}",
                plan::MOST_REPETITIONS
            );
        }
        if most < plan.repetitions {
            bail!(
                "--most-repetitions ({most}) must be at least the repetitions every cell gets ({})",
                plan.repetitions
            );
        }
        plan.most_repetitions = most;
    }
    if let Some(cap) = args.deciding_cap {
        plan.deciding_cap = cap;
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
            "{}\n{} cells x {} repetitions of about {:?} each{}\n\
             estimated {} of measuring on a machine like the two-core one chanlab's \
             figures come from ({}), plus the conformance suites once per build\n",
            ids.join("\n"),
            ids.len(),
            plan.repetitions,
            plan.budget,
            if plan.most_repetitions > plan.repetitions {
                format!(
                    ", then deciding rounds over the rows that cannot tell yet, up to {} \
                     repetitions, none starting past {}",
                    plan.most_repetitions,
                    humantime::format_duration(plan.deciding_cap)
                )
            } else {
                String::new()
            },
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
    session::run(
        registry,
        Request {
            plan,
            out,
            background_load: args.background_load,
            placement: args.placement,
            count_instructions: !args.skip_instructions,
            min_limit: args.min_limit,
            check_conformance: !args.cached_verdicts,
            builds,
            resume: None,
            time_limit: args.time_limit,
        },
    )
    .map(Some)
}

/// The placement policies by name, each with what it does in `--help`.
pub(crate) fn placements() -> impl TypedValueParser<Value = PlacementPolicy> {
    PossibleValuesParser::new(
        PlacementPolicy::ALL
            .map(|policy| PossibleValue::new(policy.name()).help(policy.description())),
    )
    .try_map(|name| {
        PlacementPolicy::ALL
            .into_iter()
            .find(|policy| policy.name() == name)
            .ok_or_else(|| format!("no placement is called {name:?}"))
    })
}

/// `duration` to the minute, at least one: an estimate is no finer.
fn round_to_minutes(duration: Duration) -> Duration {
    Duration::from_secs((duration.as_secs().div_ceil(60)).max(1) * 60)
}

/// Finishes the interrupted run in `dir` with its own plan and settings.
fn resume(
    args: &MeasureArgs,
    registry: &Registry,
    dir: &Path,
    builds: Option<Builds>,
) -> anyhow::Result<Measured> {
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
    let build = provenance::build(registry);
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
        most_repetitions: previous
            .settings
            .most_repetitions
            .unwrap_or(previous.settings.repetitions),
        deciding_cap: Duration::from_millis(previous.settings.deciding_cap_ms.unwrap_or(0)),
        budget: Duration::from_millis(previous.settings.budget_ms),
    };
    crate::interrupt::install()?;
    session::run(
        registry,
        Request {
            plan,
            out: dir.to_owned(),
            background_load: previous.settings.background_threads,
            placement: previous.settings.placement.unwrap_or(PlacementPolicy::Os),
            count_instructions: false,
            min_limit: args.min_limit,
            check_conformance: !args.cached_verdicts,
            builds,
            resume: Some(previous),
            time_limit: args.time_limit,
        },
    )
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
    render::render(
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
        say!(
            "chanlab: the run was {stopped}; its report is marked partial. Finish it with \
             `chanlab run --resume {}`",
            measured.dir.display()
        );
        return Ok(ExitCode::from(code));
    }
    Ok(if failures > 0 {
        say!("{failures} cells failed, hung or crashed (listed above and in the report)");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
