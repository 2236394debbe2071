//! `chanlab report`: render one or more results files as a self-contained
//! HTML page, Markdown tables and a terminal summary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::render::render;

/// Arguments of `chanlab report`.
#[derive(clap::Args)]
pub struct Args {
    /// Results files, or the run directories that hold them; several merge
    /// into one report with the machine as a dimension.
    #[arg(required = true, value_name = "RESULTS")]
    results: Vec<PathBuf>,
    /// Directory for `index.html` and `report.md` [default:
    /// target/chanlab/<name>, in the target directory chanlab was built in].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The report's name and title [default: the first run's directory
    /// name].
    #[arg(long)]
    name: Option<String>,
    /// Fidelity figures (`chanlab fidelity`'s JSON) for the methodology
    /// section [default: target/chanlab/fidelity.json, when there is one].
    #[arg(long, value_name = "FILE")]
    fidelity: Option<PathBuf>,
    /// Replace a report already in the output directory.
    #[arg(long)]
    force: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let files: Vec<PathBuf> = args
        .results
        .iter()
        .map(|p| crate::places::results_file(p))
        .collect();
    let name = match args.name {
        Some(name) => name,
        None => run_name(&files[0])?,
    };
    let out = args
        .out
        .unwrap_or_else(|| crate::places::home().join(&name));
    for page in ["index.html", "report.md"] {
        let existing = out.join(page);
        if existing.exists() && !args.force {
            bail!(
                "{} already exists; give another --out, or --force to replace the report",
                existing.display()
            );
        }
    }
    render(&name, &files, &out, args.fidelity.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// The name of the directory that holds `results`.
fn run_name(results: &Path) -> anyhow::Result<String> {
    let absolute =
        std::path::absolute(results).with_context(|| format!("resolving {}", results.display()))?;
    absolute
        .parent()
        .and_then(Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .with_context(|| {
            format!(
                "{} has no directory to name the report after; pass --name",
                results.display()
            )
        })
}
