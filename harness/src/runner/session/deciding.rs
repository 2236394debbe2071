//! Deciding rounds: after the rounds every cell takes, rounds go on over
//! the cells of rows that cannot tell yet (neither clear nor tied, by
//! `chanlab_report::recommend`), still interleaved, until every row
//! decides or needs more than the plan's most repetitions, a cell reaches
//! them, or the run has measured for the plan's cap; each cell records
//! why it stopped.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use chanlab_report::recommend;
use chanlab_report::schema::{Status, Stop};

use super::{Session, Stopped};
use crate::runner::plan::Plan;

/// Where the rows of a run stand, by cell index.
#[derive(Default)]
struct Standing {
    /// Cells in rows that cannot tell yet and could within the most
    /// repetitions.
    undecided: BTreeSet<usize>,
    /// Cells in rows that would need more than the most repetitions.
    out_of_reach: BTreeSet<usize>,
    /// Cells ranked in some row.
    ranked: BTreeSet<usize>,
}

impl Session<'_> {
    /// Runs deciding rounds over the cells of undecided rows, then records
    /// why each cell stopped. Returns what stopped the run early (Ctrl-C,
    /// its time limit), if anything did.
    pub(super) fn decide(
        &mut self,
        plan: &Plan,
        started: Instant,
    ) -> anyhow::Result<Option<Stopped>> {
        let mut round = plan.repetitions;
        let mut capped = false;
        let mut standing = self.standing(plan.most_repetitions);
        while round < plan.most_repetitions && !standing.undecided.is_empty() {
            if started.elapsed() >= plan.deciding_cap {
                capped = true;
                break;
            }
            let cells: Vec<usize> = standing.undecided.iter().copied().collect();
            let length = self.progress.length().unwrap_or(0);
            self.progress.set_length(length + cells.len() as u64);
            for step in 0..cells.len() {
                if let Some(cause) = self.stop_cause() {
                    return Ok(Some(cause));
                }
                // Within the cap, not a round past it: a round cut short
                // still pairs, by round, what it measured.
                if started.elapsed() >= plan.deciding_cap {
                    capped = true;
                    break;
                }
                // Each round starts one cell later, as the others do.
                self.measure(cells[(step + round) % cells.len()], round)?;
            }
            round += 1;
            standing = self.standing(plan.most_repetitions);
            if capped {
                break;
            }
        }
        for (index, cell) in self.results.cells.iter_mut().enumerate() {
            cell.stopped = Some(if cell.status != Status::Measured {
                Stop::NotMeasured
            } else if !standing.ranked.contains(&index) {
                Stop::NotRanked
            } else if standing.out_of_reach.contains(&index) {
                Stop::OutOfReach
            } else if !standing.undecided.contains(&index) {
                Stop::Decided
            } else if capped {
                Stop::TimeCap
            } else {
                Stop::MostRepetitions
            });
        }
        self.writer.write(&self.results)?;
        Ok(None)
    }

    /// Where every row stands now, on the run's main topology regime, as
    /// a report would judge it.
    fn standing(&self, most: usize) -> Standing {
        let index: BTreeMap<&str, usize> = self
            .results
            .cells
            .iter()
            .enumerate()
            .map(|(index, cell)| (cell.id.as_str(), index))
            .collect();
        let (view, _) = self.results.clone().in_main_regime();
        let mut standing = Standing::default();
        for row in recommend::recommend(&view).rows {
            let cells = row.cells.iter().filter_map(|id| index.get(id.as_str()));
            standing.ranked.extend(cells.clone());
            let needs = row
                .main
                .iter()
                .map(|(_, lead)| lead)
                .chain(&row.p99)
                .filter_map(recommend::Lead::needs)
                .collect::<Vec<_>>();
            if needs.is_empty() {
                continue;
            }
            let reachable = needs.iter().any(|needs| needs.is_some_and(|n| n <= most));
            if reachable {
                standing.undecided.extend(cells);
            } else {
                standing.out_of_reach.extend(cells);
            }
        }
        standing
            .undecided
            .retain(|index| !standing.out_of_reach.contains(index));
        standing
    }
}
