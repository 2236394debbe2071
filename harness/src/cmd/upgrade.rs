//! `chanlab upgrade`: a results file of an older schema, rewritten in this
//! one, as this chanlab would have written it (each repetition's latency
//! histogram merged into its cell's, every statistic taken again), so an
//! archived run is stored at this schema's size.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use chanlab_report::schema::{Results, SCHEMA_VERSION, UPGRADED_FROM, write_atomically};

/// Arguments of `chanlab upgrade`.
#[derive(clap::Args)]
pub struct Args {
    /// The results file, or the run directory that holds it.
    #[arg(value_name = "RESULTS")]
    results: PathBuf,
    /// Write the upgraded file here [default: in place].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let from = crate::places::results_file(&args.results);
    let results = Results::load(&from)?;
    if results.schema_version != SCHEMA_VERSION {
        bail!(
            "{} is of results schema {}, which measured otherwise: only schemas {UPGRADED_FROM} \
             to {SCHEMA_VERSION} can be rewritten in this one",
            from.display(),
            results.schema_version
        );
    }
    let to = args.out.unwrap_or(from);
    write_atomically(&to, &results.to_json()?)?;
    say!("{}: results schema {SCHEMA_VERSION}", to.display());
    Ok(ExitCode::SUCCESS)
}
