//! A measuring run: the cells of a plan, each sized and then measured in
//! worker processes, with the results file rewritten as the run goes.
//!
//! Every job (a sizing probe, or one measured repetition) runs in a worker
//! process of this same binary, or the Go worker, under a time limit
//! derived from the cell's size: a hung cell is killed and recorded as hung, a crash is recorded
//! with its exit status, and the run goes on. Repetitions are interleaved
//! (round 1 visits every cell, then round 2, each round starting one cell
//! later), so drift on a noisy machine spreads over every implementation
//! instead of favouring the ones measured first. The results file is
//! saved after each job (`Writer::save`, which waits while the file would
//! take more than a tenth of the run) and written at every stop, error and
//! end.
//!
//! With a baseline build ([`Builds`]), every cell runs twice a round, once
//! on each build's worker, back to back and in alternating order, both at
//! the size sized on this build: the pairs `chanlab ab --baseline-build`
//! judges.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use chanlab_registry::{Implementation, Registry};
use chanlab_report::schema::{
    self, Cell, CellResult, Instructions, PlacementPolicy, Results, RunSettings, Status, Workload,
    Writer,
};
use chanlab_scenarios::load::Measure;
use indicatif::{ProgressBar, ProgressStyle};

mod builds;
mod deciding;
mod rates;
mod repetition;
mod resume;

pub use builds::Builds;
use builds::implementation_of;

use super::plan::Plan;
use super::protocol::{Job, Reply};
use super::sizing;
use super::worker::{self, Answer, Worker};
use super::{go, instructions, provenance, verdicts};

/// What a run measures and how, once the command line is read.
pub struct Request {
    /// The cells and how to repeat them.
    pub plan: Plan,
    /// The directory for `results.json`.
    pub out: PathBuf,
    /// Busy threads to run beside the cells.
    pub background_load: usize,
    /// Where measured threads run.
    pub placement: PlacementPolicy,
    /// Whether to count instructions per operation under valgrind.
    pub count_instructions: bool,
    /// The shortest time limit any job gets.
    pub min_limit: Duration,
    /// Whether to run the conformance suites an implementation has no
    /// cached verdict for on this build (otherwise it is reported as not
    /// checked).
    pub check_conformance: bool,
    /// A baseline build to measure every cell on as well.
    pub builds: Option<Builds>,
    /// An interrupted run to finish: its results so far, which the plan's
    /// cells are.
    pub resume: Option<Results>,
    /// How long the run may measure (sizing included, conformance checks
    /// not): past it, the run stops after the job under way, as a first
    /// Ctrl-C does.
    pub time_limit: Option<Duration>,
}

/// Why a run stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Ctrl-C.
    Interrupted,
    /// The run's time limit, which it reached.
    TimeLimit(Duration),
}

impl std::fmt::Display for Stopped {
    /// What stopped the run, to follow "the run was".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::Interrupted => f.write_str("interrupted"),
            Stopped::TimeLimit(limit) => write!(
                f,
                "stopped at its time limit ({})",
                humantime::format_duration(*limit)
            ),
        }
    }
}

/// A run that ended: finished, or stopped by Ctrl-C or its time limit.
pub struct Measured {
    /// Everything it measured.
    pub results: Results,
    /// The directory its results (and report) are in.
    pub dir: PathBuf,
    /// Why it stopped before the end, if it did.
    pub stopped: Option<Stopped>,
}

/// Measures every cell of `request`'s plan and writes the results as it
/// goes.
pub fn run(registry: &Registry, mut request: Request) -> anyhow::Result<Measured> {
    if request.builds.is_some() && request.resume.is_none() {
        request.plan.cells = builds::with_baseline_twins(&request.plan.cells);
    }
    let writer = Writer::create(&request.out)?;
    let exe = std::env::current_exe().context("locating the chanlab executable")?;

    let stop = AtomicBool::new(false);
    let (results, path, stopped) = std::thread::scope(|scope| {
        // Stops the busy threads however the run ends, an error or a panic
        // included, so the scope can join them.
        let _stop = StopOnDrop(&stop);
        for index in 0..request.background_load {
            std::thread::Builder::new()
                .name(format!("background-{index}"))
                .spawn_scoped(scope, || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
                .with_context(|| {
                    format!(
                        "starting busy thread {} of --background-load {}",
                        index + 1,
                        request.background_load
                    )
                })?;
        }
        let mut runner = Session::new(registry, &request, exe, writer);
        match request.resume.take() {
            Some(previous) => runner.restore(previous),
            None => {
                runner.record_verdicts(request.check_conformance)?;
                runner.record_instructions(request.count_instructions, &request.out)?;
            }
        }
        if let Err(err) = runner.run(&request.plan, request.time_limit) {
            // What the last saves skipped is kept; the run's error comes
            // first.
            if let Err(write) = runner.writer.write(&runner.results) {
                say!("chanlab: warning: {write}");
            }
            return Err(err);
        }
        // Said again at the end, where a long run's reader looks.
        if let Some(Err(reason)) = &runner.go {
            say!("chanlab: warning: {reason}");
        }
        anyhow::Ok((
            runner.results,
            runner.writer.path().to_owned(),
            runner.stopped,
        ))
    })?;
    say!("results: {}", path.display());
    Ok(Measured {
        results,
        dir: request.out,
        stopped,
    })
}

/// Sets its flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// `<target dir>/chanlab/<plan>-<UTC time>` ([`crate::places::home`]).
pub fn default_out(plan: &str) -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace(['-', ':'], "")
        .replace('T', "-")
        .trim_end_matches('Z')
        .to_owned();
    let name = std::path::Path::new(plan)
        .file_stem()
        .map_or_else(|| plan.to_owned(), |s| s.to_string_lossy().into_owned());
    crate::places::home().join(format!("{name}-{stamp}"))
}

/// How often a run whose stderr is not a terminal (a CI log, a file) says
/// how far it is, in place of the progress bar.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Time a job's limit allows the oracle per item checked.
const ORACLE_ALLOWANCE: Duration = Duration::from_micros(1);

/// What the session knows of one cell's size, beside its results.
struct CellSizing {
    /// Its size, once sized.
    size: Option<Size>,
    /// The most items sizing gives it, and why when that is the pattern's
    /// own limit.
    most_items: (usize, Option<String>),
    /// Its last measured run that was short and re-sized (items and time),
    /// to tell a run that does not lengthen with its items.
    last_short: Option<(usize, Duration)>,
}

/// A cell's size: items per measured run, and about how long each takes.
#[derive(Debug, Clone, Copy)]
struct Size {
    items: usize,
    ns_per_item: f64,
}

/// The run in progress: the results so far and how to get the rest.
struct Session<'a> {
    /// What the cells name.
    registry: &'a Registry,
    results: Results,
    /// Per cell, in the order of `results.cells`: what sizing knows.
    sizing: Vec<CellSizing>,
    exe: PathBuf,
    builds: Option<Builds>,
    /// Where a run over two builds keeps each round's copies of them.
    copies_dir: PathBuf,
    writer: Writer,
    budget: Duration,
    min_limit: Duration,
    progress: ProgressBar,
    /// Whether progress goes out as plain lines: stderr is not a terminal,
    /// where the bar draws nothing.
    plain_progress: bool,
    /// When the last plain progress line went out.
    last_line: Instant,
    /// The Go reference's worker, or why there is none; `None` when the
    /// plan has no `go-chan` cell.
    go: Option<Result<go::GoWorker, String>>,
    /// Where measured threads run.
    placement: PlacementPolicy,
    /// When the run's time limit is reached, and the limit.
    deadline: Option<(Instant, Duration)>,
    /// Why the run stopped before its end, once it has.
    stopped: Option<Stopped>,
}

impl<'a> Session<'a> {
    fn new(registry: &'a Registry, request: &Request, exe: PathBuf, writer: Writer) -> Self {
        let plan = &request.plan;
        let mut machine = provenance::machine();
        let go = plan
            .cells
            .iter()
            .any(|cell| cell.implementation == go::NAME)
            .then(go::prepare);
        match &go {
            Some(Ok(worker)) => machine.go = Some(worker.toolchain.clone()),
            Some(Err(reason)) => {
                say!("chanlab: warning: {reason}; its cells are recorded as not applicable")
            }
            None => {}
        }
        let cells = plan
            .cells
            .iter()
            .map(|cell| {
                let implementation = registry.find(implementation_of(&cell.implementation)).ok();
                CellResult {
                    id: cell.id(),
                    scenario: cell.workload.scenario(),
                    cell: cell.clone(),
                    library: implementation.as_ref().map_or("", |i| i.library).to_owned(),
                    class: implementation.map(Implementation::class),
                    reference: implementation.is_some_and(Implementation::is_reference),
                    note: implementation
                        .and_then(|i| i.info)
                        .and_then(|info| info.note)
                        .map(str::to_owned),
                    threads: 0,
                    oversubscribed: false,
                    items: None,
                    resized: 0,
                    short_of_budget: None,
                    status: Status::Pending,
                    repetitions: Vec::new(),
                    remeasured: Vec::new(),
                    latency_histogram_v2: None,
                    stopped: None,
                    summary: None,
                    summary_with_remeasured: None,
                    other_regimes: Vec::new(),
                    only_other_regimes: false,
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
        Session {
            registry,
            sizing: cells
                .iter()
                .map(|cell| CellSizing {
                    size: None,
                    most_items: sizing::most_items(&cell.cell.workload),
                    last_short: None,
                })
                .collect(),
            results: Results {
                schema_version: schema::SCHEMA_VERSION,
                chanlab: provenance::build(registry),
                machine,
                command: command_line(),
                settings: RunSettings {
                    profile: plan.name.clone(),
                    repetitions: plan.repetitions,
                    most_repetitions: Some(plan.most_repetitions),
                    deciding_cap_ms: Some(plan.deciding_cap.as_millis() as u64),
                    budget_ms: plan.budget.as_millis() as u64,
                    background_threads: request.background_load,
                    placement: Some(request.placement),
                },
                started_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
                finished_at: None,
                verdicts: BTreeMap::new(),
                instructions: None,
                cells,
            },
            exe,
            builds: request.builds.clone(),
            copies_dir: request.out.join("builds.partial"),
            writer,
            budget: plan.budget,
            min_limit: request.min_limit,
            progress,
            plain_progress: !std::io::stderr().is_terminal(),
            last_line: Instant::now(),
            go,
            placement: request.placement,
            deadline: None,
            stopped: None,
        }
    }

    /// Records each implementation's conformance verdict: cached for this
    /// build, or, with `check_missing`, checked now.
    fn record_verdicts(&mut self, check_missing: bool) -> anyhow::Result<()> {
        let mut names: Vec<&str> = self
            .results
            .cells
            .iter()
            .map(|cell| implementation_of(&cell.cell.implementation))
            .collect();
        names.sort_unstable();
        names.dedup();
        let implementations = names
            .into_iter()
            .map(|name| self.registry.find(name))
            .collect::<Result<Vec<&Implementation>, _>>()?;
        self.results.verdicts =
            verdicts::verdicts(&implementations, self.registry, &self.exe, check_missing)?;
        Ok(self.writer.write(&self.results)?)
    }

    /// Counts instructions per operation of every flavor in the plan,
    /// on each build, or records why none were counted.
    fn record_instructions(
        &mut self,
        count: bool,
        scratch: &std::path::Path,
    ) -> anyhow::Result<()> {
        self.progress
            .set_message("counting instructions per operation under valgrind");
        let mut names: Vec<String> = self
            .results
            .cells
            .iter()
            .map(|cell| cell.cell.implementation.clone())
            .collect();
        names.sort_unstable();
        names.dedup();
        self.results.instructions = Some(if count {
            let started = Instant::now();
            let baseline = self.builds.as_ref().map(|builds| builds.baseline.as_path());
            let counted = instructions::count(self.registry, &names, &self.exe, baseline, scratch)?;
            self.progress.suspend(|| {
                say!(
                    "counted instructions per operation in {:.1?}",
                    started.elapsed()
                )
            });
            counted
        } else {
            Instructions::NotCounted {
                reason: "not asked for (--skip-instructions)".to_owned(),
            }
        });
        Ok(self.writer.write(&self.results)?)
    }

    /// Why the run should stop now, if it should: Ctrl-C, or its time
    /// limit reached.
    fn stop_cause(&self) -> Option<Stopped> {
        if crate::interrupt::requested() {
            return Some(Stopped::Interrupted);
        }
        let (at, limit) = self.deadline?;
        (Instant::now() >= at).then_some(Stopped::TimeLimit(limit))
    }

    fn run(&mut self, plan: &Plan, time_limit: Option<Duration>) -> anyhow::Result<()> {
        let started = Instant::now();
        self.deadline =
            time_limit.and_then(|limit| started.checked_add(limit).map(|at| (at, limit)));
        self.writer.write(&self.results)?;
        for index in 0..plan.cells.len() {
            if let Some(cause) = self.stop_cause() {
                return self.stop(cause);
            }
            let result = &self.results.cells[index];
            if self.sizing[index].size.is_none() && result.status == Status::Pending {
                self.size(index)?;
            }
        }
        self.set_open_loop_rates();
        let count = plan.cells.len();
        // A cell and its baseline twin go together, first one then the
        // other by turns.
        let together = if self.builds.is_some() { 2 } else { 1 };
        let units = count / together;
        for round in 0..plan.repetitions {
            if let Some(builds) = &mut self.builds {
                builds.copy_for_round(&self.exe, &self.copies_dir, round)?;
            }
            for step in 0..units {
                // Each round starts one cell later than the one before.
                let unit = (step + round) % units;
                for member in 0..together {
                    if let Some(cause) = self.stop_cause() {
                        return self.stop(cause);
                    }
                    let member = if round % 2 == 0 {
                        member
                    } else {
                        together - 1 - member
                    };
                    self.measure(unit * together + member, round)?;
                }
            }
        }
        self.remove_build_copies()?;
        if self.builds.is_none()
            && let Some(cause) = self.decide(plan, started)?
        {
            return self.stop(cause);
        }
        self.results.finished_at =
            Some(humantime::format_rfc3339_seconds(SystemTime::now()).to_string());
        self.writer.write(&self.results)?;
        self.progress.finish_and_clear();
        let repetitions: usize = self.results.cells.iter().map(|c| c.repetitions.len()).sum();
        say!(
            "measured {count} cells, {repetitions} repetitions in all, in {:.0?}",
            started.elapsed()
        );
        Ok(())
    }

    /// Removes the copies of the builds the last round ran, and their
    /// directory.
    pub(super) fn remove_build_copies(&mut self) -> anyhow::Result<()> {
        if let Some(builds) = &mut self.builds {
            builds.remove_copies()?;
        }
        if self.copies_dir.exists() {
            std::fs::remove_dir(&self.copies_dir)
                .with_context(|| format!("removing {}", self.copies_dir.display()))?;
        }
        Ok(())
    }

    /// Counts one job done; off a terminal, says so in a plain line every
    /// [`PLAIN_PROGRESS_EVERY`].
    fn advance(&mut self) {
        self.progress.inc(1);
        if self.plain_progress && self.last_line.elapsed() >= PLAIN_PROGRESS_EVERY {
            self.last_line = Instant::now();
            say!(
                "chanlab: {}/{} jobs, {} elapsed, {}",
                self.progress.position(),
                self.progress.length().unwrap_or(0),
                humantime::format_duration(Duration::from_secs(self.progress.elapsed().as_secs())),
                self.progress.message()
            );
        }
    }

    /// Sizes cell `index` to the budget with probe runs ([`sizing`]). A
    /// load paced by its schedule (a fixed open-loop rate, an idle load)
    /// sizes itself. An open-loop cell whose rate is derived is sized as
    /// its throughput twin, whose size it takes when the plan measures that
    /// twin too: the rate comes later.
    fn size(&mut self, index: usize) -> anyhow::Result<()> {
        if let Some(Size { items, ns_per_item }) =
            self.twin_of(index).and_then(|of| self.sizing[of].size)
        {
            // A pair runs the same size on both builds.
            self.set_size(index, items, ns_per_item);
            self.advance();
            return Ok(self.writer.save(&self.results)?);
        }
        let mut cell = self.results.cells[index].cell.clone();
        if let Workload::Load { spec, .. } = &cell.workload
            && let Some(rate) = spec.scheduled_rate()
        {
            let items = rates::open_loop_items(rate, self.budget, self.sizing[index].most_items.0);
            self.set_size(index, items, 1e9 / rate);
            self.advance();
            return Ok(self.writer.save(&self.results)?);
        }
        if let Workload::Load {
            spec,
            offered: offered @ Some(_),
        } = &mut cell.workload
        {
            spec.measure = Measure::Throughput;
            *offered = None;
            if let Some(Size { items, ns_per_item }) = self
                .results
                .cells
                .iter()
                .zip(&self.sizing)
                .find(|(twin, _)| {
                    twin.cell.workload.with_items(0) == cell.workload.with_items(0)
                        && twin.cell.implementation == cell.implementation
                        && twin.cell.runtime == cell.runtime
                })
                .and_then(|(_, sizing)| sizing.size)
            {
                self.set_size(index, items, ns_per_item);
                self.advance();
                return Ok(self.writer.save(&self.results)?);
            }
        }
        self.progress
            .set_message(format!("sizing {}", self.results.cells[index].id));
        let limit = self.min_limit + self.budget * 20;
        let most = self.sizing[index].most_items.0;
        let mut probes = 0;
        let sized = sizing::by_probes(self.budget, most, |items| {
            probes += 1;
            let job = Job::Measure {
                cell: Cell {
                    workload: cell.workload.with_items(items),
                    ..cell.clone()
                },
                items,
                planted_slowdown: 0.0,
                placement: self.placement,
            };
            Ok(match self.ask(&job, limit)? {
                Answer::Reply(Reply::Measured(probe)) => Ok(Duration::from_nanos(probe.elapsed_ns)),
                other => Err((other, format!("sizing (probe {probes}, {items} items)"))),
            })
        })?;
        match sized {
            Ok((items, ns_per_item)) => self.set_size(index, items, ns_per_item),
            Err((_, (Answer::Reply(reply), during))) => self.settle(index, reply, &during),
            Err((_, (Answer::Status(status), during))) => {
                self.fail(index, status_during(status, &during))
            }
        }
        self.advance();
        Ok(self.writer.save(&self.results)?)
    }

    /// Records that cell `index` runs `items` items at about `ns_per_item`.
    fn set_size(&mut self, index: usize, items: usize, ns_per_item: f64) {
        self.sizing[index].size = Some(Size { items, ns_per_item });
        let result = &mut self.results.cells[index];
        result.items = Some(items);
        result.cell.workload = result.cell.workload.with_items(items);
    }

    /// Jobs left for cell `index` after the one under way.
    fn jobs_left(&self, index: usize) -> u64 {
        let started = match self.sizing[index].size {
            // Sizing was the job under way.
            None => 0,
            Some(_) => self.results.cells[index].repetitions.len() as u64 + 1,
        };
        (self.results.settings.repetitions as u64).saturating_sub(started)
    }

    /// Records a reply that ends the cell: refused or failed.
    fn settle(&mut self, index: usize, reply: Reply, during: &str) {
        let status = match reply {
            Reply::Refused { reason, kind } => Status::NotApplicable { reason, kind },
            Reply::Failed { reason } => Status::Failed {
                reason: format!("{during}: {reason}"),
            },
            Reply::Measured(_) | Reply::Counted { .. } => Status::Crashed {
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
        self.progress.suspend(|| say!("{line}"));
        self.results.cells[index].status = status;
        self.skip_remaining(index);
    }

    /// Takes a cell that will not run again off the progress bar's count.
    fn skip_remaining(&mut self, index: usize) {
        let length = self.progress.length().unwrap_or(0);
        self.progress
            .set_length(length.saturating_sub(self.jobs_left(index)));
    }

    /// Runs `job` in a worker process within `limit`: this binary, the
    /// baseline build's for a baseline twin, or the Go worker for a
    /// `go-chan` cell.
    fn ask(&self, job: &Job, limit: Duration) -> anyhow::Result<Answer> {
        if let Some(builds) = &self.builds {
            return self.ask_builds(builds, job, limit);
        }
        let worker = match (&self.go, job.implementation() == go::NAME) {
            (_, false) => Worker::Chanlab(&self.exe),
            (Some(Ok(go)), true) => Worker::Go(go),
            (Some(Err(reason)), true) => {
                return Ok(Answer::Reply(Reply::Refused {
                    reason: reason.clone(),
                    kind: go::UNAVAILABLE.to_owned(),
                }));
            }
            (None, true) => bail!("a go-chan job without a Go worker"),
        };
        worker::ask(worker, job, limit)
    }
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
