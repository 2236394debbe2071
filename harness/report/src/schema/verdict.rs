//! An implementation's conformance verdict, recorded beside its figures so
//! a report never shows a number without what chanlab's gate found.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// What chanlab's conformance suites found for one implementation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// Every check of every suite that applies held.
    Pass {
        /// When the suites ran (RFC 3339); the oldest of them.
        checked_at: String,
    },
    /// The suites found violations: declared known failures, failures the
    /// implementation does not declare, or both.
    Deviates {
        /// When the suites ran (RFC 3339); the oldest of them.
        checked_at: String,
        /// Every violation found.
        findings: Vec<Finding>,
    },
    /// There is no verdict for this build, and why: run the suites.
    Unknown {
        /// Why, with the command that checks it.
        reason: String,
    },
    /// No conformance suite applies (a lock or coordination primitive, the
    /// Go reference), and what checks it instead.
    NoSuite {
        /// Why, and what checks it instead.
        reason: String,
    },
}

/// One violation of the spec a suite found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule (`R6 senders-gone`).
    pub rule: String,
    /// The suite and check that found it.
    pub check: String,
    /// What it saw (and, when declared, the declared reason).
    pub detail: String,
    /// Whether the implementation declares it as a known failure.
    pub declared: bool,
}

impl Verdict {
    /// Whether the suites found any violation, declared or not.
    pub fn deviates(&self) -> bool {
        matches!(self, Verdict::Deviates { .. })
    }

    /// Whether a violation the implementation does not declare was found.
    pub fn fails_undeclared(&self) -> bool {
        match self {
            Verdict::Deviates { findings, .. } => findings.iter().any(|f| !f.declared),
            Verdict::Pass { .. } | Verdict::Unknown { .. } | Verdict::NoSuite { .. } => false,
        }
    }

    /// The rules broken, each once, in order: `R6 senders-gone, R12 wake-up`.
    pub fn rules(&self) -> Vec<String> {
        match self {
            Verdict::Deviates { findings, .. } => findings
                .iter()
                .map(|finding| finding.rule.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            Verdict::Pass { .. } | Verdict::Unknown { .. } | Verdict::NoSuite { .. } => Vec::new(),
        }
    }

    /// The verdict in a few words for a table cell: `pass`, `fails R6
    /// senders-gone (declared)`, `FAILS R3 exactly-once`, `not checked` or
    /// `no suite applies`.
    pub fn short(&self) -> String {
        match self {
            Verdict::Pass { .. } => "pass".to_owned(),
            Verdict::Deviates { .. } if self.fails_undeclared() => {
                format!("FAILS {}", self.rules().join(", "))
            }
            Verdict::Deviates { .. } => format!("fails {} (declared)", self.rules().join(", ")),
            Verdict::Unknown { .. } => "not checked".to_owned(),
            Verdict::NoSuite { .. } => "no suite applies".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, declared: bool) -> Finding {
        Finding {
            rule: rule.into(),
            check: "blocking drop_counts".into(),
            detail: "a value was dropped".into(),
            declared,
        }
    }

    #[test]
    fn the_short_form_says_what_failed_and_whether_it_was_declared() {
        let declared = Verdict::Deviates {
            checked_at: String::new(),
            findings: vec![
                finding("R7 receivers-gone", true),
                finding("R7 receivers-gone", true),
            ],
        };
        assert_eq!(declared.short(), "fails R7 receivers-gone (declared)");
        assert!(!declared.fails_undeclared());
        let undeclared = Verdict::Deviates {
            checked_at: String::new(),
            findings: vec![
                finding("R3 exactly-once", false),
                finding("R7 receivers-gone", true),
            ],
        };
        assert_eq!(
            undeclared.short(),
            "FAILS R3 exactly-once, R7 receivers-gone"
        );
        assert_eq!(
            Verdict::Pass {
                checked_at: String::new()
            }
            .short(),
            "pass"
        );
    }
}
