//! One module per subcommand.

pub mod ab;
pub mod compare;
pub mod conformance;
pub mod export;
pub mod fidelity;
pub mod list;
pub mod overhead;
pub mod report;
pub mod run;
pub mod upgrade;

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

/// Writes a verdict where the user asked: `value` as JSON to `json`, and
/// `markdown` to `markdown`, each atomically.
pub fn write_outputs(
    value: &impl Serialize,
    markdown: &str,
    json: Option<&Path>,
    markdown_path: Option<&Path>,
) -> anyhow::Result<()> {
    if let Some(path) = json {
        let text = serde_json::to_vec_pretty(value).context("serializing the verdict")?;
        chanlab_report::schema::write_atomically(path, &text)?;
    }
    if let Some(path) = markdown_path {
        chanlab_report::schema::write_atomically(path, markdown.as_bytes())?;
    }
    Ok(())
}
