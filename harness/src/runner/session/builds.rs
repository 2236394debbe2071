//! A run over two builds (`chanlab ab --baseline-build`): every cell
//! beside its twin, named with [`BASELINE_SUFFIX`], whose jobs go to the
//! baseline build's worker.

use std::path::{Path, PathBuf};

use anyhow::Context;
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
    /// This round's fresh copies of this build's and the baseline's
    /// binaries, which its jobs run ([`Builds::copy_for_round`]).
    pub(super) round_copies: Option<(PathBuf, PathBuf)>,
}

impl Builds {
    /// Two builds: this one and `baseline`.
    pub fn new(baseline: PathBuf, planted_slowdown: f64) -> Builds {
        Builds {
            baseline,
            planted_slowdown,
            round_copies: None,
        }
    }

    /// Copies this build's binary `exe` and the baseline's into `dir`
    /// afresh for `round`, under names of one length, removing the last
    /// round's copies, so each round's jobs run from files of their own.
    /// Measured here, A/A on SPSC bounded(64) throughput (30 pairs): two
    /// copies of one binary at paths one character apart, run as they
    /// are, were told apart by the gate in 3 of 10 runs (estimates 0.79 to
    /// 1.12), and a random environment length per job did not help (2 of 9);
    /// fresh copies every round under names of unequal length still leaned
    /// the baseline's way (5 of 6 estimates below 1, 0.96-1.01); fresh
    /// copies under names of one length did not (0.97-1.03, every
    /// interval holding 1). What a binary's file and path are holds for the
    /// whole run; fresh ones every round make it a round's luck that the
    /// paired interval counts.
    pub(super) fn copy_for_round(
        &mut self,
        exe: &Path,
        dir: &Path,
        round: usize,
    ) -> anyhow::Result<()> {
        self.remove_copies()?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let copy = |from: &Path, name: &str| -> anyhow::Result<PathBuf> {
            let to = dir.join(format!("{name}-{round}"));
            std::fs::copy(from, &to)
                .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
            Ok(to)
        };
        self.round_copies = Some((copy(exe, "this")?, copy(&self.baseline, "base")?));
        Ok(())
    }

    /// Removes the last round's copies, if any.
    pub(super) fn remove_copies(&mut self) -> anyhow::Result<()> {
        if let Some((candidate, baseline)) = self.round_copies.take() {
            for path in [candidate, baseline] {
                std::fs::remove_file(&path)
                    .with_context(|| format!("removing {}", path.display()))?;
            }
        }
        Ok(())
    }
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
        let (candidate, baseline) = match &builds.round_copies {
            Some((candidate, baseline)) => (candidate, baseline),
            None => (&self.exe, &builds.baseline),
        };
        let (exe, cell, planted_slowdown) = match cell.implementation.strip_suffix(BASELINE_SUFFIX)
        {
            Some(name) => (
                baseline,
                Cell {
                    implementation: name.to_owned(),
                    ..cell.clone()
                },
                0.0,
            ),
            None => (candidate, cell.clone(), builds.planted_slowdown),
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
