//! What a regression gate (`chanlab compare`, `chanlab ab
//! --baseline-build`) rules: pass, fail, or can't tell. "Can't tell" is
//! its own answer, never rounded into a pass: nothing compared, a partial
//! or empty baseline, too few repetitions, or an interval that reaches
//! past the threshold without lying wholly beyond it.

use serde::Serialize;

/// A gate's ruling, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ruling {
    /// A decided regression, a failure, a lost cell or a partial run.
    Fail,
    /// Nothing failed, but the data cannot decide what was asked.
    CantTell,
    /// Everything asked was decided, and nothing regressed.
    Pass,
}

impl Ruling {
    /// Fail when `failed`, else can't tell when `undecided`, else pass:
    /// a failure outranks an open question.
    pub fn of(failed: bool, undecided: bool) -> Ruling {
        match (failed, undecided) {
            (true, _) => Ruling::Fail,
            (false, true) => Ruling::CantTell,
            (false, false) => Ruling::Pass,
        }
    }

    /// The exit status that says it: 0, 1, or 3 for can't tell (2 is an
    /// error, as for every chanlab command).
    pub fn exit_status(self) -> u8 {
        match self {
            Ruling::Pass => 0,
            Ruling::Fail => 1,
            Ruling::CantTell => 3,
        }
    }

    /// How the last line of a summary says it.
    pub fn describe(self) -> &'static str {
        match self {
            Ruling::Pass => "pass",
            Ruling::Fail => "FAIL",
            Ruling::CantTell => "CAN'T TELL",
        }
    }
}
