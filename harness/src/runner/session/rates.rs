//! The open loop's rates: derived, once every cell is sized, from the
//! throughput each was sized at.

use std::collections::HashMap;
use std::time::Duration;

use chanlab_report::schema::{Cell, Offered, Workload};
use chanlab_scenarios::load::Measure;

use super::{Session, Size};

impl Session<'_> {
    /// Gives every open-loop cell with a derived rate its rate, from the
    /// throughput it was sized at: a fraction of its own saturation, or of
    /// the slowest implementation's on the same load, so that every
    /// implementation gets the same offered load.
    pub(super) fn set_open_loop_rates(&mut self) {
        let mut slowest: HashMap<String, f64> = HashMap::new();
        for (cell, sizing) in self.results.cells.iter().zip(&self.sizing) {
            if let (Some((key, _)), Some(size)) = (derived_rate(&cell.cell), sizing.size) {
                let saturation = saturation(size.ns_per_item);
                let entry = slowest.entry(key).or_insert(saturation);
                *entry = entry.min(saturation);
            }
        }
        for (cell, sizing) in self.results.cells.iter_mut().zip(&mut self.sizing) {
            let (Some((key, offered)), Some(sized)) = (derived_rate(&cell.cell), &mut sizing.size)
            else {
                continue;
            };
            let saturation = match offered {
                Offered::OwnSaturation { .. } => saturation(sized.ns_per_item),
                Offered::SlowestSaturation { .. } => slowest[&key],
            };
            let rate = (saturation * offered.fraction()).max(1.0);
            if let Workload::Load { spec, .. } = &mut cell.cell.workload {
                spec.measure = Measure::OpenLoop { rate };
            }
            let items = open_loop_items(rate, self.budget, chanlab_scenarios::MAX_ITEMS);
            *sized = Size {
                items,
                ns_per_item: 1e9 / rate,
            };
            cell.items = Some(items);
            cell.cell.workload = cell.cell.workload.with_items(items);
            cell.id = cell.cell.id();
        }
    }
}

/// Messages an open-loop run at `rate` sends in `budget`, at most `most`.
pub(super) fn open_loop_items(rate: f64, budget: Duration, most: usize) -> usize {
    ((rate * budget.as_secs_f64()).ceil() as usize).clamp(1, most)
}

/// Messages per second at `ns_per_item`: a saturation sized by throughput.
fn saturation(ns_per_item: f64) -> f64 {
    1e9 / ns_per_item.max(1e-3)
}

/// For an open-loop cell whose rate is still to be derived: how, and the
/// key of the cells that share a slowest saturation (the same load and
/// rule on any implementation).
fn derived_rate(cell: &Cell) -> Option<(String, Offered)> {
    match &cell.workload {
        Workload::Load {
            spec,
            offered: Some(offered),
        } if spec.measure == (Measure::OpenLoop { rate: 0.0 }) => {
            Some((cell.workload.label(), *offered))
        }
        _ => None,
    }
}
