//! `chanlab export`: a results file in a format an existing dashboard
//! ingests (Bencher, github-action-benchmark).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chanlab_report::export::{self, Format};
use chanlab_report::schema::Results;

/// Arguments of `chanlab export`.
#[derive(clap::Args)]
pub struct Args {
    /// The format to write.
    #[arg(long, value_enum)]
    format: Format,
    /// The results file.
    results: PathBuf,
    /// Write the JSON to this file [default: standard output].
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let results = Results::load(&args.results)?;
    let text = export::export(&results, args.format)?;
    match &args.json {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => crate::output::print(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}
