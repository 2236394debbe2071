//! `chanlab run`: measure a matrix of scenarios x implementations and write
//! the results as JSON.
//!
//! Every job (sizing a cell, or one measured repetition) runs in a worker
//! process of this same binary under a time limit derived from the cell's
//! size: a hung cell is killed and recorded as hung, a crash is recorded
//! with its exit status, and the run goes on. Repetitions are interleaved
//! (round 1 visits every cell, then round 2, each round starting one cell
//! later), so drift on a noisy machine spreads over every implementation
//! instead of favouring the ones measured first. The results file is
//! rewritten after every job.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use chanlab_scenarios::load::Measure;
use indicatif::{ProgressBar, ProgressStyle};

use crate::child::{self, Ended};
use crate::runner::cell::{self, Job, MAX_ITEMS, Reply};
use crate::runner::plan::{self, DERIVED_RATE, Filter, Plan, Profile};
use crate::runner::provenance;
use crate::runner::{go, implementations};
use chanlab_report::schema::{
    self, Cell, CellResult, Results, Settings, Status, Summary, Workload, Writer,
};

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
    /// Measured repetitions per cell, instead of the plan's.
    #[arg(long, value_name = "N")]
    pub(crate) repetitions: Option<usize>,
    /// Target milliseconds of one measured run, instead of the plan's.
    #[arg(long, value_name = "MS")]
    budget_ms: Option<u64>,
    /// Busy threads to run beside the cells, to measure on a loaded
    /// machine.
    #[arg(long, value_name = "THREADS", default_value_t = 0)]
    background_load: usize,
    /// The shortest time limit any job gets, in milliseconds; each job's
    /// own limit is this plus ten times its expected length.
    #[arg(long, value_name = "MS", default_value_t = 5_000)]
    min_limit_ms: u64,
    /// Print the cells the run would measure, and stop.
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
    match measure(&args)? {
        Some(measured) => finish(&measured),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// A finished run.
pub struct Measured {
    /// Everything it measured.
    pub results: Results,
    /// The directory its results (and report) are in.
    pub dir: PathBuf,
}

/// Measures the plan `args` describe; `None` after a dry run, which only
/// lists the cells.
pub fn measure(args: &Args) -> anyhow::Result<Option<Measured>> {
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
    if let Some(budget_ms) = args.budget_ms {
        if !(1..=60_000).contains(&budget_ms) {
            bail!("--budget-ms must be between 1 and 60000, not {budget_ms}");
        }
        plan.budget = Duration::from_millis(budget_ms);
    }
    if args.dry_run {
        let ids: Vec<String> = plan.cells.iter().map(Cell::id).collect();
        crate::output::print(&format!(
            "{}\n{} cells x {} repetitions of about {:?} each\n",
            ids.join("\n"),
            ids.len(),
            plan.repetitions,
            plan.budget
        ))?;
        return Ok(None);
    }
    let out = args.out.clone().unwrap_or_else(|| default_out(&plan.name));
    let writer = Writer::create(&out)?;
    let exe = std::env::current_exe().context("locating the chanlab executable")?;

    let stop = AtomicBool::new(false);
    let (results, path) = std::thread::scope(|scope| {
        for _ in 0..args.background_load {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            });
        }
        // Stops the busy threads however the run ends, a panic included,
        // so the scope can join them.
        let _stop = StopOnDrop(&stop);
        let mut runner = Runner::new(&plan, args, exe, writer);
        runner.run(&plan)?;
        // Said again at the end, where a long run's reader looks.
        if let Some(Err(reason)) = &runner.go {
            eprintln!("chanlab: warning: {reason}");
        }
        anyhow::Ok((runner.results, runner.writer.path().to_owned()))
    })?;
    eprintln!("results: {}", path.display());
    Ok(Some(Measured { results, dir: out }))
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
    super::report::render(&name, &[measured.dir.join("results.json")], &measured.dir)?;
    Ok(if failures > 0 {
        eprintln!("{failures} cells failed, hung or crashed (listed above and in the report)");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Sets its flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// `reports/<plan>-<UTC time>`.
fn default_out(plan: &str) -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace(['-', ':'], "")
        .replace('T', "-")
        .trim_end_matches('Z')
        .to_owned();
    let name = std::path::Path::new(plan)
        .file_stem()
        .map_or_else(|| plan.to_owned(), |s| s.to_string_lossy().into_owned());
    PathBuf::from("reports").join(format!("{name}-{stamp}"))
}

/// Time a job's limit allows the oracle per item checked.
const ORACLE_ALLOWANCE: Duration = Duration::from_micros(1);

/// The run in progress: the results so far and how to get the rest.
struct Runner {
    results: Results,
    /// Per cell: items per measured run and expected nanoseconds per item,
    /// once sized.
    sizes: Vec<Option<(usize, f64)>>,
    exe: PathBuf,
    writer: Writer,
    budget: Duration,
    min_limit: Duration,
    progress: ProgressBar,
    /// The Go reference's worker, or why there is none; `None` when the
    /// plan has no `go-chan` cell.
    go: Option<Result<go::GoWorker, String>>,
}

impl Runner {
    fn new(plan: &Plan, args: &Args, exe: PathBuf, writer: Writer) -> Runner {
        let mut machine = provenance::machine();
        let go = plan
            .cells
            .iter()
            .any(|cell| cell.implementation == go::NAME)
            .then(go::prepare);
        match &go {
            Some(Ok(worker)) => machine.go = Some(worker.toolchain.clone()),
            Some(Err(reason)) => {
                eprintln!("chanlab: warning: {reason}; its cells are recorded as not applicable")
            }
            None => {}
        }
        let cells = plan
            .cells
            .iter()
            .map(|cell| {
                let implementation = implementations::find(&cell.implementation).ok();
                CellResult {
                    id: cell.id(),
                    scenario: cell.workload.scenario(),
                    cell: cell.clone(),
                    library: implementation.as_ref().map_or("", |i| i.library).to_owned(),
                    note: implementation
                        .and_then(|i| i.info)
                        .and_then(|info| info.note)
                        .map(str::to_owned),
                    threads: 0,
                    oversubscribed: false,
                    items: None,
                    status: Status::Pending,
                    repetitions: Vec::new(),
                    summary: None,
                }
            })
            .collect::<Vec<_>>();
        let jobs = (cells.len() * (plan.repetitions + 1)) as u64;
        let progress = ProgressBar::new(jobs).with_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} jobs, {eta} left  {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Runner {
            sizes: vec![None; cells.len()],
            results: Results {
                schema_version: schema::SCHEMA_VERSION,
                chanlab: provenance::build(),
                machine,
                command: command_line(),
                settings: Settings {
                    profile: plan.name.clone(),
                    repetitions: plan.repetitions,
                    budget_ms: plan.budget.as_millis() as u64,
                    open_loop_fraction: plan.open_loop_fraction,
                    background_threads: args.background_load,
                },
                started_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
                finished_at: None,
                cells,
            },
            exe,
            writer,
            budget: plan.budget,
            min_limit: Duration::from_millis(args.min_limit_ms),
            progress,
            go,
        }
    }

    fn run(&mut self, plan: &Plan) -> anyhow::Result<()> {
        let started = Instant::now();
        self.writer.write(&self.results)?;
        for index in 0..plan.cells.len() {
            self.size(index)?;
        }
        self.set_open_loop_rates(plan.open_loop_fraction);
        let count = plan.cells.len();
        for round in 0..plan.repetitions {
            for step in 0..count {
                // Each round starts one cell later than the one before.
                let index = (step + round) % count;
                self.measure(index, round)?;
            }
        }
        self.results.finished_at =
            Some(humantime::format_rfc3339_seconds(SystemTime::now()).to_string());
        self.writer.write(&self.results)?;
        self.progress.finish_and_clear();
        eprintln!(
            "measured {} cells x {} repetitions in {:.0?}",
            count,
            plan.repetitions,
            started.elapsed()
        );
        Ok(())
    }

    /// Sizes cell `index` to the budget. An open-loop cell with a derived
    /// rate is sized by its throughput twin: the rate comes later.
    fn size(&mut self, index: usize) -> anyhow::Result<()> {
        let mut cell = self.results.cells[index].cell.clone();
        if let Workload::Load { spec } = &cell.workload
            && let Measure::OpenLoop { rate } = spec.measure
            && rate > 0.0
        {
            // A fixed rate sizes itself: the budget's worth of messages.
            self.set_size(index, open_loop_items(rate, self.budget), 1e9 / rate);
            self.progress.inc(1);
            return self.writer.write(&self.results);
        }
        if let Workload::Load { spec } = &mut cell.workload
            && spec.measure == DERIVED_RATE
        {
            spec.measure = Measure::Throughput;
        }
        self.progress
            .set_message(format!("sizing {}", self.results.cells[index].id));
        let limit = self.min_limit + self.budget * 20;
        let job = Job::Size {
            cell,
            budget_ms: self.budget.as_millis() as u64,
        };
        match self.ask(&job, limit)? {
            Answer::Reply(Reply::Sized { items, ns_per_item }) => {
                self.set_size(index, items, ns_per_item);
            }
            Answer::Reply(other) => self.settle(index, other, "sizing"),
            Answer::Status(status) => self.fail(index, status_during(status, "sizing")),
        }
        self.progress.inc(1);
        self.writer.write(&self.results)
    }

    /// Records that cell `index` runs `items` items at about `ns_per_item`.
    fn set_size(&mut self, index: usize, items: usize, ns_per_item: f64) {
        self.sizes[index] = Some((items, ns_per_item));
        let result = &mut self.results.cells[index];
        result.items = Some(items);
        result.cell.workload = result.cell.workload.with_items(items);
    }

    /// Gives every open-loop cell with a derived rate its rate: the plan's
    /// fraction of the slowest saturation among the implementations on the
    /// same load, so every implementation gets the same offered load.
    fn set_open_loop_rates(&mut self, fraction: f64) {
        let mut slowest: HashMap<String, f64> = HashMap::new();
        for (cell, size) in self.results.cells.iter().zip(&self.sizes) {
            if let (Some(key), Some((_, ns_per_item))) = (derived_rate_key(&cell.cell), size) {
                let saturation = 1e9 / ns_per_item.max(1e-3);
                let entry = slowest.entry(key).or_insert(saturation);
                *entry = entry.min(saturation);
            }
        }
        for (cell, size) in self.results.cells.iter_mut().zip(&mut self.sizes) {
            let Some(key) = derived_rate_key(&cell.cell) else {
                continue;
            };
            let (Some(saturation), Some(sized)) = (slowest.get(&key), size.as_mut()) else {
                continue;
            };
            let rate = (saturation * fraction).max(1.0);
            if let Workload::Load { spec } = &mut cell.cell.workload {
                spec.measure = Measure::OpenLoop { rate };
            }
            let items = open_loop_items(rate, self.budget);
            *sized = (items, 1e9 / rate);
            cell.items = Some(items);
            cell.cell.workload = cell.cell.workload.with_items(items);
            cell.id = cell.cell.id();
        }
    }

    /// Runs repetition `round` of cell `index`, if it is still measurable.
    fn measure(&mut self, index: usize, round: usize) -> anyhow::Result<()> {
        let measurable = matches!(
            self.results.cells[index].status,
            Status::Pending | Status::Measured
        );
        let Some((items, ns_per_item)) = self.sizes[index].filter(|_| measurable) else {
            return Ok(());
        };
        self.progress.set_message(format!(
            "{} (repetition {})",
            self.results.cells[index].id,
            round + 1
        ));
        // Warm-up is a tenth of the run; the oracle checks both runs
        // afterwards, at well under a microsecond per item.
        let expected = Duration::from_nanos((items as f64 * ns_per_item * 1.1) as u64);
        let oracle = ORACLE_ALLOWANCE * (items as u32).saturating_mul(2);
        let limit = self.min_limit + expected * 10 + oracle;
        let job = Job::Measure {
            cell: self.results.cells[index].cell.clone(),
            items,
        };
        let during = format!("repetition {}", round + 1);
        match self.ask(&job, limit)? {
            Answer::Reply(Reply::Measured(repetition)) => {
                let cores = provenance::cores();
                let background = self.results.settings.background_threads;
                let result = &mut self.results.cells[index];
                result.threads = result.threads.max(repetition.threads);
                result.oversubscribed = result.threads + background > cores;
                result.repetitions.push(repetition);
                result.summary = Summary::of(&result.repetitions)?;
                result.status = Status::Measured;
            }
            Answer::Reply(other) => self.settle(index, other, &during),
            Answer::Status(status) => self.fail(index, status_during(status, &during)),
        }
        self.progress.inc(1);
        self.writer.write(&self.results)
    }

    /// Jobs left for cell `index` after the one under way.
    fn jobs_left(&self, index: usize) -> u64 {
        let started = match self.sizes[index] {
            // Sizing was the job under way.
            None => 0,
            Some(_) => self.results.cells[index].repetitions.len() as u64 + 1,
        };
        (self.results.settings.repetitions as u64).saturating_sub(started)
    }

    /// Records a reply that ends the cell: refused or failed.
    fn settle(&mut self, index: usize, reply: Reply, during: &str) {
        let status = match reply {
            Reply::Refused { reason } => Status::NotApplicable { reason },
            Reply::Failed { reason } => Status::Failed {
                reason: format!("{during}: {reason}"),
            },
            Reply::Sized { .. } | Reply::Measured(_) => Status::Crashed {
                exit: format!("answered {during} with the wrong kind of reply"),
                stderr_tail: String::new(),
            },
        };
        if status.is_failure() {
            self.fail(index, status);
        } else {
            self.results.cells[index].status = status;
            self.skip_remaining(index);
        }
    }

    /// Records a failure, says so above the progress bar, and skips the
    /// cell's remaining jobs.
    fn fail(&mut self, index: usize, status: Status) {
        let id = &self.results.cells[index].id;
        let line = match &status {
            Status::Failed { reason } => format!("FAILED  {id}: {reason}"),
            Status::Hung { after_secs, during } => {
                format!("HUNG    {id}: killed after {after_secs:.1}s, {during}")
            }
            Status::Crashed { exit, stderr_tail } => {
                format!("CRASHED {id}: {exit}\n{stderr_tail}")
            }
            other => format!("{id}: {other:?}"),
        };
        self.progress.suspend(|| eprintln!("{line}"));
        self.results.cells[index].status = status;
        self.skip_remaining(index);
    }

    /// Takes a cell that will not run again off the progress bar's count.
    fn skip_remaining(&mut self, index: usize) {
        let length = self.progress.length().unwrap_or(0);
        self.progress
            .set_length(length.saturating_sub(self.jobs_left(index)));
    }

    /// Runs `job` in a worker process within `limit`: this binary, or the
    /// Go worker for a `go-chan` cell.
    fn ask(&self, job: &Job, limit: Duration) -> anyhow::Result<Answer> {
        let job_text = serde_json::to_string(job).context("serializing a job")?;
        let go_worker = match (&self.go, job.cell().implementation == go::NAME) {
            (_, false) => None,
            (Some(Ok(worker)), true) => Some(worker),
            (Some(Err(reason)), true) => {
                return Ok(Answer::Reply(Reply::Refused {
                    reason: reason.clone(),
                }));
            }
            (None, true) => bail!("a go-chan job without a Go worker"),
        };
        let (exe, args) = match go_worker {
            Some(worker) => (&worker.binary, vec!["--job".to_owned(), job_text]),
            None => (
                &self.exe,
                vec!["run".to_owned(), "--job".to_owned(), job_text],
            ),
        };
        let read = |stdout: &[u8]| match go_worker {
            Some(_) => go::reply(stdout),
            None => Ok(serde_json::from_slice::<Reply>(stdout)?),
        };
        Ok(match child::run(exe, &args, limit)? {
            Ended::Killed => Answer::Status(Status::Hung {
                after_secs: limit.as_secs_f64(),
                during: String::new(),
            }),
            Ended::Exited {
                status,
                stdout,
                stderr_tail,
            } => match (status.success(), read(&stdout)) {
                (true, Ok(reply)) => Answer::Reply(reply),
                (true, Err(err)) => Answer::Status(Status::Crashed {
                    exit: format!("{status}, with a reply chanlab cannot read: {err:#}"),
                    stderr_tail,
                }),
                (false, _) => Answer::Status(Status::Crashed {
                    exit: status.to_string(),
                    stderr_tail,
                }),
            },
        })
    }
}

/// What a worker process came back with.
enum Answer {
    /// Its reply.
    Reply(Reply),
    /// It hung or crashed.
    Status(Status),
}

/// Messages an open-loop run at `rate` sends in `budget`.
fn open_loop_items(rate: f64, budget: Duration) -> usize {
    ((rate * budget.as_secs_f64()).ceil() as usize).clamp(1, MAX_ITEMS)
}

/// `status`, saying when it happened if it hung.
fn status_during(status: Status, during: &str) -> Status {
    match status {
        Status::Hung { after_secs, .. } => Status::Hung {
            after_secs,
            during: during.to_owned(),
        },
        other => other,
    }
}

/// For an open-loop cell whose rate is still to be derived, the key of the
/// cells that share its rate: the same load on any implementation.
fn derived_rate_key(cell: &Cell) -> Option<String> {
    match &cell.workload {
        Workload::Load { spec } if spec.measure == DERIVED_RATE => Some(cell.workload.label()),
        _ => None,
    }
}

/// The command line as typed, quoted where needed.
fn command_line() -> String {
    std::env::args()
        .map(|arg| {
            if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || c == '"') {
                format!("{arg:?}")
            } else {
                arg
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
