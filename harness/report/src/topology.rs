//! The machine's topology over a run: how close the host put the two
//! virtual CPUs chanlab measures on, read from each repetition's
//! cross-core round trip ([`Disturbance::round_trip_ns`]).
//!
//! On a virtual machine the host may run the two virtual CPUs on two
//! hyperthreads of one core or on two cores, and move them while a run
//! goes on; every figure that crosses cores moves with it (on the two-core
//! machine chanlab's figures come from: round trips of about 65 ns or
//! 340 ns, and SPSC bounded(64) throughput of 15 or 5 M/s for crossbeam).
//! So repetitions are grouped into **regimes**: sorted by round trip, a
//! new regime starts wherever one round trip is at least
//! [`REGIME_STEP`] times the one before. A run's figures are drawn from
//! its **main** regime, the one most repetitions ran in
//! ([`Results::in_main_regime`]); the others are kept apart, never mixed
//! into a median or an interval.
//!
//! [`Disturbance::round_trip_ns`]: crate::schema::Disturbance::round_trip_ns

use serde::Serialize;

use crate::schema::{Repetition, Results};

/// The factor between two neighbouring round trips that starts a new
/// regime: a host that moves the virtual CPUs apart changes the round
/// trip several times over, where noise within one placement moves it by
/// a third at most.
pub const REGIME_STEP: f64 = 2.0;

/// Repetitions that ran with the two cores about this close.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Regime {
    /// The fastest round trip in it, in nanoseconds.
    pub from_ns: f64,
    /// The slowest, in nanoseconds.
    pub to_ns: f64,
    /// Its median round trip, in nanoseconds.
    pub median_ns: f64,
    /// Repetitions in it, over the whole run.
    pub repetitions: usize,
}

/// The regimes of a run, fastest round trip first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Topology {
    /// Every regime, fastest first; empty when no repetition timed a round
    /// trip (one core, no affinity call, or an older build).
    pub regimes: Vec<Regime>,
    /// The index of the regime most repetitions ran in.
    pub main: Option<usize>,
}

impl Topology {
    /// The regimes of every repetition's round trip in `results`.
    pub fn of(results: &Results) -> Topology {
        Topology::of_round_trips(
            results
                .cells
                .iter()
                .flat_map(|cell| &cell.repetitions)
                .filter_map(round_trip),
        )
    }

    /// The regimes of these round trips, in nanoseconds.
    pub fn of_round_trips(trips: impl IntoIterator<Item = f64>) -> Topology {
        let mut trips: Vec<f64> = trips.into_iter().collect();
        trips.sort_by(f64::total_cmp);
        let mut groups: Vec<Vec<f64>> = Vec::new();
        for trip in trips {
            match groups.last_mut() {
                Some(group) if group.last().is_some_and(|&last| trip < last * REGIME_STEP) => {
                    group.push(trip)
                }
                _ => groups.push(vec![trip]),
            }
        }
        let regimes: Vec<Regime> = groups
            .iter()
            .map(|group| Regime {
                from_ns: group[0],
                to_ns: group[group.len() - 1],
                median_ns: crate::stats::median(group).unwrap_or(group[0]),
                repetitions: group.len(),
            })
            .collect();
        let main = regimes
            .iter()
            .enumerate()
            .max_by_key(|(_, regime)| regime.repetitions)
            .map(|(index, _)| index);
        Topology { regimes, main }
    }

    /// Whether a run with this round trip (`None`: it timed none) belongs
    /// with the main regime.
    pub fn in_main(&self, trip: Option<f64>) -> bool {
        match (trip, self.main) {
            (Some(trip), Some(main)) => self.regime_of_trip(trip).is_none_or(|r| r == main),
            _ => true,
        }
    }

    /// The `values` of runs that belong with the main regime, each run
    /// with its round trip in `trips` (`None`: it timed none).
    pub fn keep_main(&self, trips: &[Option<f64>], values: &[f64]) -> Vec<f64> {
        trips
            .iter()
            .zip(values)
            .filter_map(|(trip, value)| self.in_main(*trip).then_some(*value))
            .collect()
    }

    /// The regime a round trip of `trip` nanoseconds falls in.
    fn regime_of_trip(&self, trip: f64) -> Option<usize> {
        self.regimes
            .iter()
            .position(|regime| regime.from_ns <= trip && trip <= regime.to_ns)
    }

    /// The regime `repetition` ran in; `None` when it timed no round trip.
    pub fn regime_of(&self, repetition: &Repetition) -> Option<usize> {
        self.regime_of_trip(round_trip(repetition)?)
    }

    /// Whether the host moved the cores during the run.
    pub fn moved(&self) -> bool {
        self.regimes.len() > 1
    }

    /// How `other`'s main regime differs from this one's, when their
    /// round trips are [`REGIME_STEP`] or more apart: cross-core figures
    /// then differ by the host's placement, not by the code.
    pub fn placed_otherwise(&self, other: &Topology) -> Option<String> {
        let ours = self.regimes.get(self.main?)?;
        let theirs = other.regimes.get(other.main?)?;
        let (low, high) = if ours.median_ns <= theirs.median_ns {
            (ours.median_ns, theirs.median_ns)
        } else {
            (theirs.median_ns, ours.median_ns)
        };
        (high >= low * REGIME_STEP).then(|| {
            format!(
                "the host placed the cores otherwise: cross-core round trips of {:.0} ns against {:.0} ns",
                ours.median_ns, theirs.median_ns
            )
        })
    }

    /// The regimes in words: `65 ns (812 repetitions, main), 340 ns (201)`.
    pub fn describe(&self) -> String {
        self.regimes
            .iter()
            .enumerate()
            .map(|(index, regime)| {
                let main = if Some(index) == self.main {
                    ", main"
                } else {
                    ""
                };
                format!(
                    "{:.0} ns ({} repetitions{main})",
                    regime.median_ns, regime.repetitions
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether two repetitions ran with the cores placed alike: their round
/// trips less than [`REGIME_STEP`] apart, or either timed none.
pub fn same_placement(a: &Repetition, b: &Repetition) -> bool {
    match (round_trip(a), round_trip(b)) {
        (Some(a), Some(b)) => a.max(b) < a.min(b) * REGIME_STEP,
        _ => true,
    }
}

/// A repetition's round trip, when it timed one.
fn round_trip(repetition: &Repetition) -> Option<f64> {
    repetition
        .disturbance
        .as_ref()?
        .round_trip_ns
        .filter(|trip| trip.is_finite() && *trip > 0.0)
}

impl Results {
    /// The run with each cell's figures drawn from the main regime only:
    /// repetitions of other regimes move to
    /// [`CellResult::other_regimes`](crate::schema::CellResult::other_regimes)
    /// and the summaries are taken again. A cell that ran only in other
    /// regimes keeps them, and says so there. Repetitions that timed no
    /// round trip stay where they are.
    pub fn in_main_regime(mut self) -> (Results, Topology) {
        let topology = Topology::of(&self);
        let Some(main) = topology.main.filter(|_| topology.moved()) else {
            return (self, topology);
        };
        for cell in &mut self.cells {
            let (kept, apart): (Vec<Repetition>, Vec<Repetition>) = cell
                .repetitions
                .drain(..)
                .partition(|rep| topology.regime_of(rep).is_none_or(|regime| regime == main));
            if kept.is_empty() {
                cell.repetitions = apart;
                cell.only_other_regimes = !cell.repetitions.is_empty();
                continue;
            }
            cell.repetitions = kept;
            cell.other_regimes = apart;
            cell.summarize();
        }
        (self, topology)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Disturbance;
    use crate::schema::tests::{cell_with, results_with};

    fn with_trips(mut results: Results, trips: &[&[f64]]) -> Results {
        for (cell, trips) in results.cells.iter_mut().zip(trips) {
            for (rep, trip) in cell.repetitions.iter_mut().zip(*trips) {
                rep.disturbance = Some(Disturbance {
                    round_trip_ns: Some(*trip),
                    ..Disturbance::default()
                });
            }
        }
        results
    }

    #[test]
    fn round_trips_that_jump_make_regimes_and_the_largest_is_main() {
        let results = with_trips(
            results_with(vec![
                cell_with("crossbeam", &[15.0, 15.5, 5.0, 14.8]),
                cell_with("kanal", &[25.0, 9.0, 24.0, 26.0]),
            ]),
            &[&[65.0, 70.0, 340.0, 62.0], &[66.0, 350.0, 80.0, 64.0]],
        );
        let topology = Topology::of(&results);
        assert_eq!(topology.regimes.len(), 2);
        assert_eq!(topology.main, Some(0));
        assert_eq!(topology.regimes[0].repetitions, 6);
        let (view, _) = results.in_main_regime();
        let crossbeam = &view.cells[0];
        assert_eq!(crossbeam.repetitions.len(), 3);
        assert_eq!(crossbeam.other_regimes.len(), 1);
        let throughput = crossbeam.summary.as_ref().expect("summary").throughput;
        assert!(throughput.min >= 14.8, "{throughput:?}");
    }

    #[test]
    fn noise_within_one_placement_is_one_regime() {
        let results = with_trips(
            results_with(vec![cell_with("crossbeam", &[15.0, 15.5, 14.0])]),
            &[&[61.0, 83.0, 120.0]],
        );
        let topology = Topology::of(&results);
        assert_eq!(topology.regimes.len(), 1);
        assert!(!topology.moved());
    }

    #[test]
    fn a_cell_measured_only_in_another_regime_keeps_its_repetitions_and_says_so() {
        let results = with_trips(
            results_with(vec![
                cell_with("crossbeam", &[15.0, 15.5, 14.8]),
                cell_with("kanal", &[9.0, 9.1]),
            ]),
            &[&[65.0, 70.0, 62.0], &[340.0, 350.0]],
        );
        let (view, _) = results.in_main_regime();
        assert!(view.cells[1].only_other_regimes);
        assert_eq!(view.cells[1].repetitions.len(), 2);
    }
}
