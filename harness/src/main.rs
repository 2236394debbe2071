//! The `chanlab` command. `main` only maps the outcome of [`run`] to an exit
//! code; each subcommand lives in its own module under `cmd/`.

mod child;
mod cmd;
mod output;
mod runner;
mod suites;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Correctness gate and benchmark lab for channel implementations.
#[derive(Parser)]
#[command(name = "chanlab", version, about)]
struct Cli {
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
    /// fairness) and write the results as JSON.
    Run(cmd::run::Args),
    /// Measure what measuring costs: a bare send/receive loop against the
    /// runner's load on the same channel.
    Overhead(cmd::overhead::Args),
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("chanlab: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Conformance(args) => cmd::conformance::run(args),
        Command::List(args) => cmd::list::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Overhead(args) => cmd::overhead::run(args),
    }
}
