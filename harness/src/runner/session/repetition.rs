//! One measured repetition of a cell: a run that missed the budget
//! re-sizes the cell and is measured again, and a run found disturbed
//! (`chanlab_report::schema::DISTURBANCE_RULE`) is measured again once,
//! while the cell has re-measurements left, and kept apart.

use std::time::Duration;

use chanlab_report::schema::Status;

use super::{CellSizing, ORACLE_ALLOWANCE, Session, Size, status_during};
use crate::runner::protocol::{Job, Reply};
use crate::runner::provenance;
use crate::runner::sizing;
use crate::runner::worker::Answer;

/// At most one repetition in this many of a cell is measured again.
const REMEASURE_ONE_IN: usize = 10;

impl Session<'_> {
    /// Runs repetition `round` of cell `index`, if it is still measurable.
    /// A run under half the budget, or over four times it, re-sizes the
    /// cell from that run and is measured again, up to
    /// [`sizing::MOST_RESIZES`] times over the cell's life; a cell that
    /// cannot reach the budget is marked so.
    pub(super) fn measure(&mut self, index: usize, round: usize) -> anyhow::Result<()> {
        if self.results.cells[index]
            .repetitions
            .iter()
            .any(|repetition| repetition.round == Some(round))
        {
            // Measured before the run was interrupted and resumed.
            return Ok(());
        }
        let during = format!("repetition {}", round + 1);
        let mut remeasuring = false;
        loop {
            let measurable = matches!(
                self.results.cells[index].status,
                Status::Pending | Status::Measured
            );
            let Some(Size { items, ns_per_item }) = self.sizing[index].size.filter(|_| measurable)
            else {
                return Ok(());
            };
            self.progress.set_message(format!(
                "{} (repetition {})",
                self.results.cells[index].id,
                round + 1
            ));
            // Warm-up is a tenth of the run; the oracle checks both runs
            // afterwards, at well under a microsecond per item.
            let expected = Duration::from_nanos((items as f64 * ns_per_item * 1.1) as u64);
            let oracle = ORACLE_ALLOWANCE * (items as u32).saturating_mul(2);
            let limit = self.min_limit + expected * 10 + oracle;
            let job = Job::Measure {
                cell: self.results.cells[index].cell.clone(),
                items,
                planted_slowdown: 0.0,
                placement: self.placement,
            };
            match self.ask(&job, limit)? {
                Answer::Reply(Reply::Measured(mut repetition)) => {
                    repetition.round = Some(round);
                    let elapsed = Duration::from_nanos(repetition.elapsed_ns);
                    if self.resize_if_off(index, items, elapsed) {
                        continue;
                    }
                    let cores = provenance::cores();
                    let background = self.results.settings.background_threads;
                    let result = &mut self.results.cells[index];
                    if !remeasuring
                        && result.remeasured.len()
                            < (result.repetitions.len() + 1) / REMEASURE_ONE_IN
                        && repetition.disturbed(cores).is_some()
                    {
                        // Measured again once; the disturbed run is kept
                        // apart, for the spread with it.
                        result.merge_histograms([&mut *repetition])?;
                        result.remeasured.push(*repetition);
                        remeasuring = true;
                        continue;
                    }
                    result.threads = result.threads.max(repetition.threads);
                    result.oversubscribed = result.threads + background > cores;
                    result.merge_histograms([&mut *repetition])?;
                    result.repetitions.push(*repetition);
                    result.summarize();
                    result.status = Status::Measured;
                }
                Answer::Reply(other) => self.settle(index, other, &during),
                Answer::Status(status) => self.fail(index, status_during(status, &during)),
            }
            self.advance();
            return Ok(self.writer.save(&self.results)?);
        }
    }

    /// After a measured run of `items` that took `elapsed` on cell `index`:
    /// re-sizes the cell and returns `true` (measure again) when the run
    /// missed the budget and the cell may still get there; otherwise keeps
    /// the run, marking the cell when it cannot reach the budget
    /// ([`sizing::fit`]).
    fn resize_if_off(&mut self, index: usize, items: usize, elapsed: Duration) -> bool {
        if self.builds.is_some() {
            // Both builds keep the size the pair shares.
            return false;
        }
        let result = &self.results.cells[index];
        let scheduled_rate = chanlab_report::metric::scheduled_rate(result);
        let CellSizing {
            most_items: (most, limited_by),
            last_short,
            ..
        } = &self.sizing[index];
        let run = sizing::Measured {
            items,
            elapsed,
            most: (*most, limited_by.as_deref()),
            scheduled_rate,
            resized: result.resized,
            last_short: *last_short,
        };
        match sizing::fit(&run, self.budget) {
            sizing::Fit::Keep => false,
            sizing::Fit::Short(why) => {
                self.results.cells[index].short_of_budget = Some(why);
                false
            }
            sizing::Fit::Resize(more) => {
                if sizing::is_short(elapsed, self.budget) {
                    self.sizing[index].last_short = Some((items, elapsed));
                }
                self.results.cells[index].resized += 1;
                let ns_per_item = elapsed.as_nanos() as f64 / items.max(1) as f64;
                self.set_size(index, more, ns_per_item);
                true
            }
        }
    }
}
