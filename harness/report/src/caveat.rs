//! What a reader must know beside a cell's figures, marked where the
//! figure is (its table row, its chart label), not only in the prose: a
//! cell that ran more threads than cores, fell short of its time budget,
//! could not keep up with its offered load, split into two groups of
//! repetitions, or kept disturbed repetitions.

use std::fmt;

use chanlab_workload::Measure;

use crate::metric::Metric;
use crate::schema::{CellResult, Workload};
use crate::stats;

/// An open-loop cell that achieved less than this share of its offered
/// rate could not keep up: its latency is the queue's growth.
pub const KEPT_UP: f64 = 0.9;

/// One caveat on a cell's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Caveat {
    /// It ran more threads than the machine has cores.
    Oversubscribed,
    /// A measured run fell short of half the time budget.
    ShortOfBudget,
    /// An open-loop cell achieved this share of its offered rate, under
    /// [`KEPT_UP`].
    Overloaded(f64),
    /// Its throughputs fall in two groups ([`stats::bimodal`]).
    Bimodal,
    /// This many of its repetitions were disturbed.
    Disturbed(usize),
}

impl Caveat {
    /// Its kind, without its figures: what a curve names when any of its
    /// points carries it.
    pub fn kind(self) -> &'static str {
        match self {
            Caveat::Oversubscribed => "oversubscribed",
            Caveat::ShortOfBudget => "short of budget",
            Caveat::Overloaded(_) => "overloaded",
            Caveat::Bimodal => "bimodal",
            Caveat::Disturbed(_) => "disturbed",
        }
    }
}

impl fmt::Display for Caveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Caveat::Overloaded(kept) => write!(f, "overloaded: {:.0}% of offered", kept * 100.0),
            Caveat::Disturbed(count) => write!(f, "{count} disturbed"),
            other => f.write_str(other.kind()),
        }
    }
}

/// The caveats on `cell`'s figures on a machine of `cores` cores, in a
/// fixed order; empty for a plain cell.
pub fn caveats(cell: &CellResult, cores: usize) -> Vec<Caveat> {
    let mut found = Vec::new();
    if cell.oversubscribed {
        found.push(Caveat::Oversubscribed);
    }
    if cell.short_of_budget.is_some() {
        found.push(Caveat::ShortOfBudget);
    }
    if let Some(kept) = kept_up(cell)
        && kept < KEPT_UP
    {
        found.push(Caveat::Overloaded(kept));
    }
    if stats::bimodal(&Metric::Throughput.samples(cell)) {
        found.push(Caveat::Bimodal);
    }
    let disturbed = cell
        .repetitions
        .iter()
        .filter(|repetition| repetition.disturbed(cores).is_some())
        .count();
    if disturbed > 0 {
        found.push(Caveat::Disturbed(disturbed));
    }
    found
}

/// The achieved rate of an open-loop cell over its offered rate (the
/// median over its repetitions); `None` for any other cell.
pub fn kept_up(cell: &CellResult) -> Option<f64> {
    let Workload::Load { spec, .. } = &cell.cell.workload else {
        return None;
    };
    let Measure::OpenLoop { rate } = spec.measure else {
        return None;
    };
    let achieved = cell.summary.as_ref()?.throughput.median;
    (rate > 0.0).then(|| achieved / rate)
}

/// `label` with `caveats` after it in brackets: `kanal [oversubscribed;
/// bimodal]`, or `label` alone.
pub fn marked(label: String, caveats: &[impl fmt::Display]) -> String {
    if caveats.is_empty() {
        label
    } else {
        let caveats: Vec<String> = caveats.iter().map(ToString::to_string).collect();
        format!("{label} [{}]", caveats.join("; "))
    }
}

/// `cell`'s implementation label with its caveats.
pub fn labelled(cell: &CellResult, cores: usize) -> String {
    marked(cell.cell.implementation_label(), &caveats(cell, cores))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::cell_with;

    #[test]
    fn a_plain_cell_has_no_caveat_and_each_kind_is_named() {
        let plain = cell_with("crossbeam", &[10e6, 10.1e6, 9.9e6, 10e6, 10.2e6]);
        assert!(caveats(&plain, 2).is_empty());
        assert_eq!(labelled(&plain, 2), "crossbeam");

        let mut marked_cell = cell_with("kanal", &[2e6, 2.1e6, 10e6, 10.1e6, 10.2e6]);
        marked_cell.oversubscribed = true;
        marked_cell.short_of_budget = Some("its pattern takes no more items".into());
        assert_eq!(
            caveats(&marked_cell, 2),
            [
                Caveat::Oversubscribed,
                Caveat::ShortOfBudget,
                Caveat::Bimodal
            ]
        );
        assert_eq!(
            labelled(&marked_cell, 2),
            "kanal [oversubscribed; short of budget; bimodal]"
        );
    }

    #[test]
    fn an_open_loop_cell_that_could_not_keep_up_is_overloaded() {
        let mut cell = cell_with("kanal-async", &[0.34e6; 5]);
        if let Workload::Load { spec, .. } = &mut cell.cell.workload {
            spec.measure = Measure::OpenLoop { rate: 3.12e6 };
        }
        let found = caveats(&cell, 2);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].to_string(), "overloaded: 11% of offered");
        assert_eq!(found[0].kind(), "overloaded");
        assert_eq!(Caveat::Disturbed(2).to_string(), "2 disturbed");
        assert_eq!(Caveat::Disturbed(2).kind(), "disturbed");
        assert_eq!(Caveat::ShortOfBudget.to_string(), "short of budget");
    }
}
