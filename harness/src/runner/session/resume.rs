//! Stopping a run on Ctrl-C or at its time limit, and finishing it later (`chanlab run --resume
//! DIR`): the results file is the whole state of a run, so a resumed run
//! takes its cells, sizes, repetitions and verdicts from it and measures
//! only what is missing.

use chanlab_report::schema::{Results, Status};

use super::{Session, Size, Stopped};

impl Session<'_> {
    /// Ends the run where it is, for `cause`: the results file keeps every
    /// finished job and no `finished_at`, which marks it partial.
    pub(super) fn stop(&mut self, cause: Stopped) -> anyhow::Result<()> {
        self.remove_build_copies()?;
        self.writer.write(&self.results)?;
        self.stopped = Some(cause);
        let all = self.progress.length().unwrap_or(0);
        let left = all.saturating_sub(self.progress.position());
        // Finishing the bar moves it to its end, so it is read first.
        self.progress.finish_and_clear();
        say!("chanlab: {cause} with {left} of {all} jobs left; every finished job is kept");
        Ok(())
    }

    /// Takes up `previous`, an interrupted run of the same plan: its
    /// cells, verdicts and start, each cell's size (from its items, which
    /// sizing chose to fill the budget), and the progress it had made.
    pub(super) fn restore(&mut self, previous: Results) {
        let budget = self.budget;
        let done: usize = previous
            .cells
            .iter()
            .map(|cell| {
                let sized = usize::from(cell.items.is_some() || cell.status != Status::Pending);
                match cell.status {
                    Status::Pending | Status::Measured => sized + cell.repetitions.len(),
                    _ => previous.settings.repetitions + 1,
                }
            })
            .sum();
        for (sizing, cell) in self.sizing.iter_mut().zip(&previous.cells) {
            sizing.size = cell.items.map(|items| Size {
                items,
                ns_per_item: budget.as_nanos() as f64 / items.max(1) as f64,
            });
        }
        self.results.cells = previous.cells;
        self.results.verdicts = previous.verdicts;
        self.results.started_at = previous.started_at;
        self.results.command = format!("{} (resumed: {})", previous.command, self.results.command);
        self.progress.set_position(done as u64);
        // The clock of the progress bar starts now, with what is left.
        self.progress.reset_elapsed();
    }
}
