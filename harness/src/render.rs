//! Rendering results files into a report directory (the page, the
//! Markdown tables and the terminal summary), as `chanlab report` does and
//! as `chanlab run` and `chanlab ab` do when they finish.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chanlab_report::render::Report;
use chanlab_report::terminal;

/// Renders `files` into `out` with the fidelity figures at `fidelity` (or
/// at [`crate::places::fidelity`], when there are some), prints the summary, and ends with
/// the page's path.
pub fn render(
    name: &str,
    files: &[PathBuf],
    out: &Path,
    fidelity: Option<&Path>,
) -> anyhow::Result<()> {
    let mut report = Report::load(name, files)?;
    let default = crate::places::fidelity();
    if let Some(path) = fidelity.or_else(|| default.is_file().then_some(default.as_path())) {
        report = report.with_fidelity(path)?;
    }
    let written = report
        .write(out)
        .with_context(|| format!("writing the report to {}", out.display()))?;
    crate::output::print(&terminal::summary(&report))?;
    crate::output::print(&format!(
        "tables: {}\nreport: {}\n",
        written.markdown.display(),
        written.html.display()
    ))
}
