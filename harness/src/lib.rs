//! The `chanlab` command as a library: [`Runner`] runs it with every
//! implementation chanlab ships, plus the flavors a user's crate adds, so a
//! library author measures their own channel beside the shipped ones from
//! their own binary. chanlab's own `main` is `Runner::new().main()`; each
//! subcommand lives in its own module under `cmd/`.

mod child;
mod cmd;
mod extend;
mod interrupt;
mod output;
mod runner;
mod suites;
mod verdicts;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use output::ColorChoice;

/// Counts every heap allocation, per thread so counting never contends,
/// for the allocations per item a measured run reports.
#[global_allocator]
static ALLOCATOR: alloc_tracker::Allocator<std::alloc::System> = alloc_tracker::Allocator::system();

pub use extend::Runner;

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
    /// significant regression beyond the threshold.
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
}

/// Parses the command line and runs it; errors print and exit 2.
fn main() -> ExitCode {
    let cli = Cli::parse();
    output::set_color(cli.color);
    match run(cli) {
        Ok(code) => code,
        Err(err) => exit_with(&err),
    }
}

/// Prints `err` with its causes and gives the exit code of an error.
fn exit_with(err: &anyhow::Error) -> ExitCode {
    eprintln!("chanlab: error: {err:#}");
    ExitCode::from(2)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Conformance(args) => cmd::conformance::run(args),
        Command::List(args) => cmd::list::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Compare(args) => cmd::compare::run(args),
        Command::Ab(args) => cmd::ab::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Overhead(args) => cmd::overhead::run(args),
        Command::Fidelity(args) => cmd::fidelity::run(args),
    }
}
