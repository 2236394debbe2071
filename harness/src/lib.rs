//! The `chanlab` command as a library: [`Runner`] runs it with every
//! implementation chanlab ships, plus the flavors a user's crate adds, so a
//! library author measures their own channel beside the shipped ones from
//! their own binary. chanlab's own `main` is `Runner::new().main()`, which
//! builds the [`Registry`] once and hands it to the subcommand; each
//! subcommand lives in its own module under `cmd/`.

/// `eprintln!` that never panics: a line to standard error through
/// [`output::say`], which stops a measuring run when nobody reads it.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::say(&format!("{}\n", format_args!($($arg)*)))
    };
}

mod child;
mod cmd;
mod interrupt;
mod output;
mod places;
mod render;
mod runner;
mod values;

use std::process::ExitCode;

use chanlab_contract::{AsyncFlavor, Bridge, SyncFlavor};
use chanlab_registry::{Addition, Registry};
use clap::{Parser, Subcommand};

use output::ColorChoice;

/// Counts every heap allocation, per thread so counting never contends,
/// for the allocations per item a measured run reports.
#[global_allocator]
static ALLOCATOR: alloc_tracker::Allocator<std::alloc::System> = alloc_tracker::Allocator::system();

/// chanlab checks channel implementations against one written spec and
/// measures them on Go's concurrency patterns.
#[derive(Parser)]
#[command(
    name = "chanlab",
    version,
    long_about = "chanlab checks channel implementations against one written spec, and \
measures them on Go's concurrency patterns and on raw channel loads. `chanlab list` names \
every implementation it ships and what each declares.",
    after_help = "Start with:\n  chanlab list            what can run, and what each declares\n  \
chanlab conformance     the correctness gate (exit 1 on an undeclared failure)\n  \
chanlab run             the quick profile: measure, then write results.json and a report\n\n\
Durations take a unit: 100ms, 2s, 1m. NO_COLOR turns colour off, as --color never does."
)]
struct Cli {
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance suite on every implementation and print the table.
    Conformance(cmd::conformance::Args),
    /// List the implementations with their declared capabilities, and the
    /// patterns.
    List(cmd::list::Args),
    /// Measure scenarios x implementations (throughput, latency, CPU cost,
    /// fairness), write the results as JSON and render their report.
    Run(cmd::run::Args),
    /// Render results files as an HTML page, Markdown tables and a
    /// terminal summary; several files merge with the machine as a
    /// dimension.
    Report(cmd::report::Args),
    /// Compare a run with a baseline: exits 1 on a correctness failure or a
    /// significant regression beyond the threshold, 3 when it cannot tell
    /// (nothing compared, a partial baseline, too few repetitions, an
    /// interval past the threshold).
    Compare(cmd::compare::Args),
    /// Run two implementations A/B, interleaved in one run, and report the
    /// median of the paired ratios.
    Ab(cmd::ab::Args),
    /// Write a results file as Bencher BMF or github-action-benchmark JSON.
    Export(cmd::export::Args),
    /// Measure what measuring costs: a bare send/receive loop against the
    /// runner's load on the same channel.
    Overhead(cmd::overhead::Args),
    /// Measure chanlab's channel load beside crossbeam-channel's own
    /// benchmark suite on the same cells (ci/fidelity.sh builds the suite).
    Fidelity(cmd::fidelity::Args),
    /// Rewrite a results file of an older schema (4 or later) in this one.
    Upgrade(cmd::upgrade::Args),
}

/// The `chanlab` command with flavors of your own beside the ones chanlab
/// ships. Build it in your crate's runner binary and call [`Runner::main`]:
///
/// ```no_run
/// # use chanlab_contract::SyncFlavor;
/// # fn demo<MyChannel: SyncFlavor>() -> std::process::ExitCode {
/// chanlab::Runner::new().sync_flavor::<MyChannel>().main()
/// # }
/// ```
///
/// Your flavors are then checked by `chanlab conformance`, measured by
/// `chanlab run` (in the default profiles, or alone with `--impl NAME`) and
/// recorded in the same results file, report and `compare`. A name may not
/// repeat a shipped implementation's. The library's version is read from
/// the `Cargo.lock` of the workspace that builds the runner.
///
/// chanlab installs a counting global allocator (for the allocations per
/// item it reports), so the binary must not declare one of its own.
#[derive(Default)]
pub struct Runner {
    additions: Vec<Addition>,
}

impl Runner {
    /// The command with the shipped implementations only.
    pub fn new() -> Runner {
        Runner::default()
    }

    /// Adds a blocking flavor.
    pub fn sync_flavor<F: SyncFlavor>(mut self) -> Runner {
        self.additions.push(Addition::sync_flavor::<F>());
        self
    }

    /// Adds an async flavor: measured as tasks, checked by the async suite
    /// and by the blocking suite through its blocking view.
    pub fn async_flavor<F: AsyncFlavor>(mut self) -> Runner {
        self.additions.push(Addition::async_flavor::<F>());
        self
    }

    /// Adds a bridge (a blocking and an async end over one channel):
    /// measured from threads to tasks and back, checked by the mixed suite.
    /// Its two flavors are added on their own with
    /// [`sync_flavor`](Runner::sync_flavor) and
    /// [`async_flavor`](Runner::async_flavor).
    pub fn bridge<B: Bridge>(mut self) -> Runner {
        self.additions.push(Addition::bridge::<B>());
        self
    }

    /// Runs the command line of this process with the added flavors and
    /// returns its exit code: 0 on success, 1 when a check or a cell
    /// failed, 2 on an error (printed).
    pub fn main(self) -> ExitCode {
        let registry = match Registry::new(chanlab_untimed::untimed(), &self.additions) {
            Ok(registry) => registry,
            Err(err) => return exit_with(&err.into()),
        };
        let cli = Cli::parse();
        output::set_color(cli.color);
        match run(cli, &registry) {
            Ok(code) => code,
            Err(err) => exit_with(&err),
        }
    }
}

/// Prints `err` with its causes and gives the exit code of an error.
fn exit_with(err: &anyhow::Error) -> ExitCode {
    say!("chanlab: error: {err:#}");
    ExitCode::from(2)
}

fn run(cli: Cli, registry: &Registry) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Conformance(args) => cmd::conformance::run(args, registry),
        Command::List(args) => cmd::list::run(args, registry),
        Command::Run(args) => cmd::run::run(args, registry),
        Command::Report(args) => cmd::report::run(args),
        Command::Compare(args) => cmd::compare::run(args),
        Command::Ab(args) => cmd::ab::run(args, registry),
        Command::Export(args) => cmd::export::run(args),
        Command::Overhead(args) => cmd::overhead::run(args),
        Command::Fidelity(args) => cmd::fidelity::run(args, registry),
        Command::Upgrade(args) => cmd::upgrade::run(args),
    }
}
