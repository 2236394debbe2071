//! Fidelity figures: chanlab's channel load against the field's own
//! benchmark on the same cells (`chanlab fidelity`), kept as JSON so a
//! report can carry them in its methodology section.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ReportError, Result};
use crate::schema::{Build, Machine, Spread};

/// How far chanlab's median figure may sit from the peer's and still
/// agree: 10%.
pub const AGREEMENT: f64 = 0.10;

/// One fidelity run.
#[derive(Debug, Serialize, Deserialize)]
pub struct Fidelity {
    /// Where it ran.
    pub machine: Machine,
    /// The chanlab that measured.
    pub chanlab: Build,
    /// The peer benchmark, with its revision.
    pub peer: String,
    /// Target length of one run on either side, in milliseconds.
    pub budget_ms: u64,
    /// Paired repetitions per cell.
    pub repetitions: usize,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// Every cell, in the peer's order.
    pub cells: Vec<FidelityCell>,
}

/// One cell measured both ways.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FidelityCell {
    /// The peer's name for it (`bounded0_mpsc`).
    pub cell: String,
    /// chanlab's implementation.
    pub implementation: String,
    /// Producer threads.
    pub producers: usize,
    /// Consumer threads.
    pub consumers: usize,
    /// The capacity, as chanlab labels it.
    pub capacity: String,
    /// Messages per run, the same on both sides.
    pub items: usize,
    /// chanlab's nanoseconds per message over the repetitions.
    pub chanlab_ns: Option<Spread>,
    /// The peer's nanoseconds per message over the repetitions.
    pub peer_ns: Option<Spread>,
    /// chanlab's time over the peer's, per repetition (paired).
    pub ratio: Option<Spread>,
    /// The 95% percentile-bootstrap interval of the median ratio.
    pub ratio_interval: Option<(f64, f64)>,
    /// The suite against itself: its second run of the cell over its first
    /// in the same repetition (A/A), the spread the machine alone gives
    /// this cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_again_ratio: Option<Spread>,
    /// The 95% interval of the median A/A ratio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_again_interval: Option<(f64, f64)>,
    /// Repetitions left out because the host had placed the cores
    /// otherwise than in most of the run's repetitions.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub other_regimes: usize,
    /// Why the cell has no figures or fewer repetitions, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// A known difference between the two sides' loops on this cell, which
    /// the figures may show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference: Option<String>,
}

/// How a cell's two figures compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    /// The median ratio is within [`AGREEMENT`] of 1.
    Agrees,
    /// The median ratio is not, but its 95% interval reaches within
    /// [`AGREEMENT`] of 1: more pairs of runs would tell.
    Undecided,
    /// The whole 95% interval lies beyond [`AGREEMENT`] of 1.
    Differs,
}

impl Agreement {
    /// Its word in a table.
    pub fn word(self) -> &'static str {
        match self {
            Agreement::Agrees => "yes",
            Agreement::Undecided => "can't tell",
            Agreement::Differs => "no",
        }
    }
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

impl FidelityCell {
    /// Whether a cell that cannot tell is held back by the machine: the
    /// suite cannot pin it within [`AGREEMENT`] even against itself (its
    /// A/A interval reaches beyond the band around 1). A cell whose whole
    /// interval lies outside the band differs, whatever the A/A spread.
    pub fn machine_limited(&self) -> bool {
        self.agreement() == Some(Agreement::Undecided)
            && self
                .peer_again_interval
                .is_some_and(|(low, high)| low < 1.0 - AGREEMENT || high > 1.0 + AGREEMENT)
    }

    /// How chanlab's figure compares with the peer's; `None` without
    /// figures.
    pub fn agreement(&self) -> Option<Agreement> {
        let ratio = self.ratio?;
        let band = (1.0 - AGREEMENT)..=(1.0 + AGREEMENT);
        Some(if band.contains(&ratio.median) {
            Agreement::Agrees
        } else if self
            .ratio_interval
            .is_some_and(|(low, high)| low <= *band.end() && high >= *band.start())
        {
            Agreement::Undecided
        } else {
            Agreement::Differs
        })
    }
}

impl Fidelity {
    /// Reads a fidelity file.
    pub fn load(path: &Path) -> Result<Fidelity> {
        let text = std::fs::read(path).map_err(ReportError::io("reading", path))?;
        serde_json::from_slice(&text).map_err(|source| ReportError::NotFidelity {
            path: path.to_owned(),
            source,
        })
    }

    /// Writes it to `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(|source| ReportError::Serialize {
            what: "the fidelity figures",
            source,
        })?;
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, text).map_err(ReportError::io("writing", &partial))?;
        std::fs::rename(&partial, path).map_err(ReportError::io("replacing", path))
    }

    /// How many cells with figures agree, cannot tell, and differ.
    pub fn agreement(&self) -> [usize; 3] {
        let mut counts = [0; 3];
        for agreement in self.cells.iter().filter_map(FidelityCell::agreement) {
            counts[agreement as usize] += 1;
        }
        counts
    }

    /// One line on the agreement: how many cells are within the band, how
    /// many cannot tell yet, and how many differ.
    pub fn summary(&self) -> String {
        let [agree, undecided, differ] = self.agreement();
        let limited = self
            .cells
            .iter()
            .filter(|cell| cell.machine_limited())
            .count();
        format!(
            "{agree} of {} cells within {:.0}% of {}; {undecided} whose 95% interval still \
             reaches that band (more pairs of runs would tell), {limited} of them where the \
             suite's A/A interval against itself reaches beyond {:.0}% too (the machine's \
             limit); {differ} that differ",
            agree + undecided + differ,
            AGREEMENT * 100.0,
            self.peer,
            AGREEMENT * 100.0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(median: f64, interval: (f64, f64)) -> FidelityCell {
        FidelityCell {
            cell: "bounded1_spsc".into(),
            implementation: "crossbeam".into(),
            producers: 1,
            consumers: 1,
            capacity: "1".into(),
            items: 1000,
            chanlab_ns: None,
            peer_ns: None,
            ratio: Some(Spread {
                median,
                min: interval.0,
                max: interval.1,
            }),
            ratio_interval: Some(interval),
            peer_again_ratio: None,
            peer_again_interval: None,
            other_regimes: 0,
            problem: None,
            difference: None,
        }
    }

    #[test]
    fn a_cell_agrees_cannot_tell_or_differs_by_its_median_and_interval() {
        assert_eq!(cell(1.05, (0.98, 1.2)).agreement(), Some(Agreement::Agrees));
        assert_eq!(
            cell(1.3, (1.05, 1.6)).agreement(),
            Some(Agreement::Undecided)
        );
        assert_eq!(cell(0.7, (0.6, 0.85)).agreement(), Some(Agreement::Differs));
        assert_eq!(cell(1.2, (1.12, 1.3)).agreement(), Some(Agreement::Differs));
    }
}
