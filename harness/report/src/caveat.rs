//! What a reader must know beside a cell's figures, marked where the
//! figure is (its table row, its chart label), not only in the prose: a
//! cell that ran more threads than cores, fell short of its time budget,
//! could not keep up with its offered load, split into two groups of
//! repetitions, or kept disturbed repetitions.

use chanlab_workload::Measure;

use crate::metric::Metric;
use crate::schema::{CellResult, Workload};
use crate::stats;

/// An open-loop cell that achieved less than this share of its offered
/// rate could not keep up: its latency is the queue's growth.
pub const KEPT_UP: f64 = 0.9;

/// The caveats on `cell`'s figures on a machine of `cores` cores, each a
/// few words, in a fixed order; empty for a plain cell.
pub fn caveats(cell: &CellResult, cores: usize) -> Vec<String> {
    let mut found = Vec::new();
    if cell.oversubscribed {
        found.push("oversubscribed".to_owned());
    }
    if cell.short_of_budget.is_some() {
        found.push("short of budget".to_owned());
    }
    if let Some(kept) = kept_up(cell)
        && kept < KEPT_UP
    {
        found.push(format!("overloaded: {:.0}% of offered", kept * 100.0));
    }
    if stats::bimodal(&Metric::Throughput.samples(cell)) {
        found.push("bimodal".to_owned());
    }
    let disturbed = cell
        .repetitions
        .iter()
        .filter(|repetition| repetition.disturbed(cores).is_some())
        .count();
    if disturbed > 0 {
        found.push(format!("{disturbed} disturbed"));
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

/// A caveat's kind, without its figures: `overloaded` for `overloaded: 34%
/// of offered`, `disturbed` for `2 disturbed`.
pub fn kind(caveat: &str) -> &str {
    let kind = caveat.split(':').next().unwrap_or(caveat);
    kind.rsplit(' ')
        .next()
        .filter(|_| kind.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(kind)
}

/// `label` with `caveats` after it in brackets: `kanal [oversubscribed;
/// bimodal]`, or `label` alone.
pub fn marked(label: String, caveats: &[String]) -> String {
    if caveats.is_empty() {
        label
    } else {
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
            ["oversubscribed", "short of budget", "bimodal"]
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
        assert_eq!(caveats(&cell, 2), ["overloaded: 11% of offered"]);
        assert_eq!(kind(&caveats(&cell, 2)[0]), "overloaded");
        assert_eq!(kind("2 disturbed"), "disturbed");
        assert_eq!(kind("short of budget"), "short of budget");
    }
}
