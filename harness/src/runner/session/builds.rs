//! A run over two builds (`chanlab ab --baseline-build`): every cell
//! beside its twin, named with [`BASELINE_SUFFIX`], whose jobs go to the
//! baseline build's worker.

use std::path::PathBuf;
use std::time::Duration;

use chanlab_report::gate::BASELINE_SUFFIX;
use chanlab_report::schema::Cell;

use super::Session;
use crate::runner::go;
use crate::runner::protocol::Job;
use crate::runner::worker::{self, Answer, Worker};

/// A second build of chanlab that measures every cell beside this one.
#[derive(Clone)]
pub struct Builds {
    /// The baseline build's `chanlab` binary; its cells are named with
    /// [`BASELINE_SUFFIX`].
    pub baseline: PathBuf,
    /// The gate's broken twin: this build's runs slowed by this fraction
    /// (zero in real use).
    pub planted_slowdown: f64,
}

/// The implementation a cell's name stands for: a baseline twin's without
/// its suffix.
pub(super) fn implementation_of(name: &str) -> &str {
    name.strip_suffix(BASELINE_SUFFIX).unwrap_or(name)
}

/// Each cell followed by its twin on the baseline build. The Go reference
/// is one worker for both builds, so it has no pair and is left out.
pub(super) fn with_baseline_twins(cells: &[Cell]) -> Vec<Cell> {
    cells
        .iter()
        .filter(|cell| cell.implementation != go::NAME)
        .flat_map(|cell| {
            let twin = Cell {
                implementation: format!("{}{BASELINE_SUFFIX}", cell.implementation),
                ..cell.clone()
            };
            [cell.clone(), twin]
        })
        .collect()
}

impl Session<'_> {
    /// The candidate cell whose baseline twin is cell `index`, if it is
    /// one.
    pub(super) fn twin_of(&self, index: usize) -> Option<usize> {
        let name = &self.results.cells[index].cell.implementation;
        (self.builds.is_some() && name.ends_with(BASELINE_SUFFIX)).then(|| index - 1)
    }

    /// Runs `job` on the build its cell belongs to: a twin's on the
    /// baseline's worker under its implementation's own name, the others
    /// on this build's with the planted slowdown, if any.
    pub(super) fn ask_builds(
        &self,
        builds: &Builds,
        job: &Job,
        limit: Duration,
    ) -> anyhow::Result<Answer> {
        let Job::Measure {
            cell,
            items,
            placement,
            ..
        } = job
        else {
            anyhow::bail!("only measure jobs run on two builds");
        };
        let (exe, cell, planted_slowdown) = match cell.implementation.strip_suffix(BASELINE_SUFFIX)
        {
            Some(name) => (
                &builds.baseline,
                Cell {
                    implementation: name.to_owned(),
                    ..cell.clone()
                },
                0.0,
            ),
            None => (&self.exe, cell.clone(), builds.planted_slowdown),
        };
        let job = Job::Measure {
            cell,
            items: *items,
            planted_slowdown,
            placement: *placement,
        };
        worker::ask(Worker::Chanlab(exe), &job, limit)
    }
}
