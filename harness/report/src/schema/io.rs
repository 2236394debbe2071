//! Reading a results file, and rewriting one atomically.

use std::path::{Path, PathBuf};

use super::{Results, SCHEMA_VERSION};

/// The oldest schema a reader upgrades to its own on load: 4 measured what
/// 5 and 6 do, and differs only in its statistics (a merged histogram's
/// percentiles as the cell's latency, CPU per item with the start-up in
/// it); 5 lacks only 6's descriptions of the machine and the build.
pub const UPGRADED_FROM: u32 = 4;
use crate::error::{ReportError, Result};

impl Results {
    /// Reads a results file, refusing one from a newer schema.
    pub fn load(path: &Path) -> Result<Results> {
        let text = std::fs::read_to_string(path).map_err(ReportError::io("reading", path))?;
        let results: Results = serde_json::from_str(&text).map_err(|source| {
            /// The one field every schema has.
            #[derive(serde::Deserialize)]
            struct Version {
                schema_version: u32,
            }
            match serde_json::from_str::<Version>(&text) {
                Ok(Version { schema_version }) if schema_version < SCHEMA_VERSION => {
                    ReportError::OlderSchema {
                        path: path.to_owned(),
                        found: schema_version,
                        readable: SCHEMA_VERSION,
                        source,
                    }
                }
                _ => ReportError::NotResults {
                    path: path.to_owned(),
                    source,
                },
            }
        })?;
        if results.schema_version > SCHEMA_VERSION {
            return Err(ReportError::NewerSchema {
                path: path.to_owned(),
                found: results.schema_version,
                readable: SCHEMA_VERSION,
            });
        }
        if let Some(what) = results.implausible() {
            return Err(ReportError::Implausible {
                path: path.to_owned(),
                what,
            });
        }
        let mut results = results;
        if (UPGRADED_FROM..SCHEMA_VERSION).contains(&results.schema_version) {
            results.upgrade()?;
        }
        Ok(results)
    }

    /// What no run writes, naming the cell: a cell twice, or a repetition
    /// with a negative or non-finite figure. `None` when all is plausible.
    fn implausible(&self) -> Option<String> {
        let mut ids = std::collections::BTreeSet::new();
        for cell in &self.cells {
            if !ids.insert(&cell.id) {
                return Some(format!("the cell {} twice", cell.id));
            }
            let every = cell.repetitions.iter().chain(&cell.remeasured);
            for (index, repetition) in every.enumerate() {
                let figures = [
                    ("throughput", Some(repetition.throughput)),
                    ("allocations per item", repetition.allocations_per_item),
                ];
                for (name, value) in figures {
                    if let Some(value) = value
                        && !(value.is_finite() && value >= 0.0)
                    {
                        return Some(format!(
                            "a {name} of {value} in repetition {} of {}",
                            index + 1,
                            cell.id
                        ));
                    }
                }
            }
        }
        None
    }

    /// Brings results of schema [`UPGRADED_FROM`] or later to this one: they
    /// measured the same, and every statistic is recomputed from the
    /// repetitions, so its figures mean what this version's mean. Older
    /// schemas measured otherwise and keep their number, so `compare`
    /// refuses them.
    fn upgrade(&mut self) -> Result<()> {
        for cell in &mut self.cells {
            cell.summarize()?;
        }
        self.schema_version = SCHEMA_VERSION;
        Ok(())
    }
}

/// Writes a results file in place, atomically.
pub struct Writer {
    path: PathBuf,
}

impl Writer {
    /// A writer of `dir/results.json`; creates `dir`.
    pub fn create(dir: &Path) -> Result<Writer> {
        std::fs::create_dir_all(dir).map_err(ReportError::io("creating", dir))?;
        Ok(Writer {
            path: dir.join("results.json"),
        })
    }

    /// Where the results go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the file with `results`: written beside it, then renamed
    /// over it, so a reader never sees half a file.
    pub fn write(&self, results: &Results) -> Result<()> {
        let text = serde_json::to_vec_pretty(results).map_err(|source| ReportError::Serialize {
            what: "the results",
            source,
        })?;
        write_atomically(&self.path, &text)
    }
}

/// Writes `contents` to `path` through `<path>.partial` beside it, renamed
/// over `path` once complete, so a reader (or a run cut short) never leaves
/// half a file.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, contents).map_err(ReportError::io("writing", &partial))?;
    std::fs::rename(&partial, path).map_err(ReportError::io("replacing", path))
}
