//! `chanlab export`: a results file in a format an existing dashboard
//! ingests (Bencher, github-action-benchmark).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chanlab_report::export::{self, Format};
use chanlab_report::schema::Results;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

/// Arguments of `chanlab export`.
#[derive(clap::Args)]
pub struct Args {
    /// The format to write.
    #[arg(long, value_parser = formats())]
    format: Format,
    /// The results file.
    results: PathBuf,
    /// Write the JSON to this file [default: standard output].
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// The formats by name, each with what it is in `--help`.
fn formats() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(
        Format::ALL.map(|format| PossibleValue::new(format.name()).help(format.description())),
    )
    .try_map(|name| {
        Format::ALL
            .into_iter()
            .find(|format| format.name() == name)
            .ok_or_else(|| format!("no format is called {name:?}"))
    })
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
