//! A row's verdict on one figure: who leads, what the repetitions decide
//! (clear, tied, can't tell), by how much, and what the gate found for the
//! names it gives.

use std::collections::BTreeMap;
use std::fmt;

use crate::metric::Metric;
use crate::stats::Interval;

/// Contenders named in a verdict before "and N more".
const MAX_NAMED: usize = 3;

/// The widest tie a row may call one: 5%.
pub const TIE: f64 = 0.05;

/// Repetitions per cell past which "can't tell" says only "more than".
pub(super) const MOST_NEEDED: usize = 10_000;

/// What a row's repetitions decide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// The leader beats every other ranked implementation.
    Clear,
    /// The leader and the runner-up are within this fraction of each
    /// other, at the corrected confidence.
    Tied {
        /// The fraction, at most [`TIE`].
        within: f64,
    },
    /// Neither yet.
    CantTell {
        /// About the repetitions per cell that would decide it; `None` for
        /// more than ten thousand.
        needs: Option<usize>,
    },
}

/// The leader's lead over the runner-up, as a ratio oriented so that above
/// 1 is the leader's better: `median(leader/runner-up)` of throughputs, or
/// of runner-up/leader p99s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Margin {
    /// The Hodges-Lehmann estimate over the paired log-ratios.
    pub estimate: f64,
    /// Its 95% interval; `None` with too few pairs.
    pub interval: Option<Interval>,
    /// The pairs it is drawn from.
    pub pairs: usize,
}

/// The leader on one metric of one workload in one class.
#[derive(Debug, Clone)]
pub struct Lead {
    /// The leading implementation (with its runtime, if any).
    pub leader: String,
    /// Its median.
    pub median: f64,
    /// The 95% interval of that median.
    pub median_interval: Option<Interval>,
    /// What the repetitions decide.
    pub decision: Decision,
    /// When the lead is not clear: the implementations it does not clearly
    /// beat, best median first.
    pub contenders: Vec<String>,
    /// The next best implementation and its median.
    pub runner_up: Option<(String, f64)>,
    /// The leader's margin over the runner-up.
    pub margin: Option<Margin>,
    /// What chanlab's conformance gate found for the leader, when it is
    /// not a clean pass, with what that can do in words: said in the same
    /// row, so a failing implementation is never recommended without it.
    pub warning: Option<String>,
    /// The gate's mark of every implementation ranked that does not pass,
    /// by name, the leader's included.
    pub marks: BTreeMap<String, Mark>,
}

/// The gate's mark beside a ranked name that does not pass: `fails R7,
/// R8: may lose or hang, unreliable timed receive`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// The rules broken, by number: `fails R7, R8` when each is a declared
    /// known failure, `FAILS R3` when one is not; or `not checked`.
    pub rules: String,
    /// What breaking them can do, in a few words; empty when unchecked.
    pub gist: String,
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.gist.is_empty() {
            f.write_str(&self.rules)
        } else {
            write!(f, "{}: {}", self.rules, self.gist)
        }
    }
}

/// How much of a [`Mark`] a line shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkWords {
    /// The rules and what breaking them can do: a report's rankings.
    Gist,
    /// The rules only: the terminal summary, which says the verdicts in
    /// words below the picks.
    RulesOnly,
}

impl Lead {
    /// The repetitions per cell this lead needs to decide, when it cannot
    /// tell yet: `Some(None)` for more than anyone would run.
    pub fn needs(&self) -> Option<Option<usize>> {
        match self.decision {
            Decision::CantTell { needs } => Some(needs),
            Decision::Clear | Decision::Tied { .. } => None,
        }
    }

    /// Whether the lead is clear.
    pub fn is_clear(&self) -> bool {
        self.decision == Decision::Clear
    }

    /// The verdict in a few words: `crossbeam 12.6M/s (clear: 1.84x
    /// [1.71, 1.97] over kanal)`, `tied within 3%: crossbeam 12.6M/s ~
    /// kanal`, or `can't tell: crossbeam 12.6M/s ~ kanal (1.02x [0.91,
    /// 1.13]); needs about 40 repetitions`, with the leader's conformance
    /// warning after it.
    pub fn describe(&self, metric: Metric) -> String {
        let margin = self.margin_text();
        let leader = format!("{} {}", self.leader, metric.format(self.median));
        let named = || {
            let mut named = self.contenders[..self.contenders.len().min(MAX_NAMED)]
                .iter()
                .map(|name| self.marked(name))
                .collect::<Vec<_>>()
                .join(", ");
            if self.contenders.len() > MAX_NAMED {
                named += &format!(" and {} more", self.contenders.len() - MAX_NAMED);
            }
            named
        };
        let verdict = match self.decision {
            Decision::Clear => {
                let next = self
                    .runner_up
                    .as_ref()
                    .map(|(name, _)| format!(": {margin} over {}", self.marked(name)))
                    .unwrap_or_default();
                format!("{leader} (clear{next})")
            }
            Decision::Tied { within } => format!(
                "tied within {:.0}%: {leader} ~ {}",
                (within * 100.0).ceil().max(1.0),
                named()
            ),
            Decision::CantTell { needs } => {
                let needs = needs.map_or_else(
                    || format!("more than {MOST_NEEDED} repetitions"),
                    |n| format!("about {n} repetitions"),
                );
                format!(
                    "can't tell: {leader} ~ {} ({margin}); needs {needs}",
                    named()
                )
            }
        };
        match &self.warning {
            Some(warning) => format!("{verdict}. Warning: {} {warning}", self.leader),
            None => verdict,
        }
    }

    /// The lead in a line: `kanal 20.87M/s [fails R7, R8]  clear 1.44x
    /// [1.24, 1.57]`, the names through `name` (which may shorten them),
    /// the mark as `words` says.
    pub fn brief(&self, metric: Metric, name: &dyn Fn(&str) -> String, words: MarkWords) -> String {
        let mark = self
            .marks
            .get(&self.leader)
            .map_or_else(String::new, |mark| match words {
                MarkWords::Gist => format!(" [{mark}]"),
                MarkWords::RulesOnly => format!(" [{}]", mark.rules),
            });
        let margin = self.margin_text();
        let decision = match self.decision {
            Decision::Clear => format!("clear {margin}"),
            Decision::Tied { within } => format!(
                "tied within {:.0}%: {margin}",
                (within * 100.0).ceil().max(1.0)
            ),
            Decision::CantTell { needs } => {
                let needs = needs.map_or_else(
                    || format!("more than {MOST_NEEDED}"),
                    |needs| format!("~{needs}"),
                );
                format!("can't tell {margin}, needs {needs} reps")
            }
        };
        format!(
            "{} {}{mark}  {decision}",
            name(&self.leader),
            metric.format(self.median)
        )
    }

    /// The margin over the runner-up: `1.84x [1.71, 1.97]`, without the
    /// interval when there is none, empty when there is no margin.
    fn margin_text(&self) -> String {
        self.margin.map_or_else(String::new, |margin| {
            let interval = margin
                .interval
                .map_or_else(String::new, |i| format!(" [{:.2}, {:.2}]", i.low, i.high));
            format!("{:.2}x{interval}", margin.estimate)
        })
    }

    /// `name`, with the gate's mark when it does not pass: `kanal [fails
    /// R7, R8: may lose or hang, unreliable timed receive]`.
    pub fn marked(&self, name: &str) -> String {
        match self.marks.get(name) {
            Some(mark) => format!("{name} [{mark}]"),
            None => name.to_owned(),
        }
    }
}

/// Where the leader on a row's main figure does not pass the gate: what
/// leads among those that do.
#[derive(Debug, Clone)]
pub enum Passing {
    /// Two or more pass: their own ranking, decided with the page's.
    Ranked(Lead),
    /// One passes: it, with its median.
    Only(String, f64),
    /// None passes.
    Nobody,
}
