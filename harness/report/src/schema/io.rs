//! Reading a results file (upgrading an older schema's), and rewriting
//! one atomically as a run goes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{CellResult, Results, SCHEMA_VERSION};

/// The oldest schema a reader upgrades to its own on load: 4 measured what
/// 5 to 7 do, and differs only in its statistics (a merged histogram's
/// percentiles as the cell's latency, CPU per item with the start-up in
/// it); 5 lacks only 6's descriptions of the machine and the build; 4 to 6
/// keep a histogram in every repetition, which 7 merges into its cell's.
pub const UPGRADED_FROM: u32 = 4;
use crate::error::{ReportError, Result};

/// The significant digits a results file keeps of a fraction: no figure
/// is measured closer than that, and the digits past it were 7% of the full
/// profile's compressed results.
const SIGNIFICANT_DIGITS: usize = 6;

/// serde_json's compact output with fractions rounded to
/// [`SIGNIFICANT_DIGITS`].
struct Rounded;

impl serde_json::ser::Formatter for Rounded {
    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        // serde_json writes a non-finite value as `null` without calling
        // this, and every finite one reads back from its own exponent form.
        let rounded = format!("{value:.*e}", SIGNIFICANT_DIGITS - 1)
            .parse()
            .unwrap_or(value);
        serde_json::ser::CompactFormatter.write_f64(writer, rounded)
    }
}

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
        } else {
            // The file keeps six significant digits; a summary taken again
            // from the repetitions as read is the one every table and
            // ranking computes from them.
            results.cells.iter_mut().for_each(CellResult::summarize);
        }
        Ok(results)
    }

    /// The file's text: JSON without indentation, since a long run's
    /// results run to tens of megabytes (`jq .` shows them indented), and
    /// with every fraction at six significant digits.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut text = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut text, Rounded);
        serde::Serialize::serialize(self, &mut serializer).map_err(|source| {
            ReportError::Serialize {
                what: "the results",
                source,
            }
        })?;
        Ok(text)
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
    /// measured the same, each repetition's histogram moves into its
    /// cell's merged one, and every statistic is recomputed from the
    /// repetitions, so its figures mean what this version's mean. Older
    /// schemas measured otherwise and keep their number, so `compare`
    /// refuses them.
    fn upgrade(&mut self) -> Result<()> {
        for cell in &mut self.cells {
            let mut repetitions = std::mem::take(&mut cell.repetitions);
            let mut remeasured = std::mem::take(&mut cell.remeasured);
            cell.merge_histograms(repetitions.iter_mut().chain(&mut remeasured))?;
            cell.repetitions = repetitions;
            cell.remeasured = remeasured;
            cell.summarize();
        }
        self.schema_version = SCHEMA_VERSION;
        Ok(())
    }
}

/// Writes a results file in place, atomically, as a run goes.
pub struct Writer {
    path: PathBuf,
    /// When the file was last written, and how long writing it took.
    last: Option<(Instant, Duration)>,
}

/// [`Writer::save`] writes only once this many times the last write's own
/// length has passed since it started: a results file grows to tens of
/// megabytes over a long run, and rewriting it after every job would take
/// more of the run's time than the jobs. So the file costs at most about a
/// tenth of the run, and a run killed outright loses the jobs since its
/// last write: at most this many times that write's length, and the job
/// under way.
const SAVE_SPACING: u32 = 10;

impl Writer {
    /// A writer of `dir/results.json`; creates `dir`.
    pub fn create(dir: &Path) -> Result<Writer> {
        std::fs::create_dir_all(dir).map_err(ReportError::io("creating", dir))?;
        Ok(Writer {
            path: dir.join("results.json"),
            last: None,
        })
    }

    /// Where the results go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the file with `results`, as [`Writer::write`] does, unless
    /// the last write started less than ten times its own length ago: for
    /// the saves after each job, which a [`Writer::write`] follows at the
    /// end of the run.
    pub fn save(&mut self, results: &Results) -> Result<()> {
        match self.last {
            Some((at, took)) if at.elapsed() < took * SAVE_SPACING => Ok(()),
            _ => self.write(results),
        }
    }

    /// Replaces the file with `results` now: written beside it, then
    /// renamed over it, so a reader never sees half a file.
    pub fn write(&mut self, results: &Results) -> Result<()> {
        let started = Instant::now();
        write_atomically(&self.path, &results.to_json()?)?;
        self.last = Some((started, started.elapsed()));
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::{cell_with, results_with};
    use crate::schema::{MERGED_DIGITS, decode};

    #[test]
    fn an_older_file_moves_each_repetition_histogram_into_its_cell() {
        let mut results = results_with(vec![cell_with("crossbeam", &[1e6, 2e6, 3e6])]);
        results.schema_version = 6;
        let messages: u64 = results.cells[0]
            .repetitions
            .iter()
            .filter_map(|r| r.latency.as_ref())
            .map(|latency| latency.count)
            .sum();
        let dir = tempfile::tempdir().expect("a temp dir");
        Writer::create(dir.path())
            .expect("creates")
            .write(&results)
            .expect("writes");
        let loaded = Results::load(&dir.path().join("results.json")).expect("loads");
        assert_eq!(loaded.schema_version, SCHEMA_VERSION);
        let cell = &loaded.cells[0];
        assert!(cell.repetitions.iter().all(|r| {
            r.latency
                .as_ref()
                .is_some_and(|latency| latency.histogram_v2.is_none())
        }));
        let merged = cell.latency_histogram_v2.as_ref().expect("merged");
        let merged = decode(merged).expect("decodes");
        assert_eq!(merged.len(), messages);
        assert_eq!(merged.sigfig(), MERGED_DIGITS);
    }

    #[test]
    fn a_save_soon_after_a_slow_write_waits_and_a_write_never_does() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut writer = Writer::create(dir.path()).expect("creates");
        let read = || std::fs::read_to_string(dir.path().join("results.json")).expect("written");
        let mut results = results_with(Vec::new());
        writer.write(&results).expect("writes");
        // A write that took an hour, just now: the next save waits.
        writer.last = Some((Instant::now(), Duration::from_secs(3600)));
        results.command = "chanlab run --profile full".into();
        writer.save(&results).expect("saves");
        assert!(!read().contains("--profile full"));
        writer.write(&results).expect("writes");
        assert!(read().contains("--profile full"));
        // A write of a second, ten seconds ago: the next save writes.
        let ago = Instant::now().checked_sub(Duration::from_secs(10));
        writer.last = ago.map(|at| (at, Duration::from_secs(1)));
        results.command = "chanlab run --profile quick".into();
        writer.save(&results).expect("saves");
        assert!(read().contains("--profile quick"));
    }

    #[test]
    fn fractions_are_written_at_six_significant_digits() {
        let results = results_with(vec![cell_with("crossbeam", &[392_037.691_462_120_4, 1e-9])]);
        let text = String::from_utf8(results.to_json().expect("serializes")).expect("UTF-8");
        assert!(text.contains("392038.0"), "{text}");
        assert!(!text.contains("392037.69"), "{text}");
        let back: Results = serde_json::from_str(&text).expect("reads back");
        assert_eq!(back.cells[0].repetitions[1].throughput, 1e-9);
    }
}
