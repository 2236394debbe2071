//! An implementation's conformance verdict, recorded beside its figures so
//! a report never shows a number without what chanlab's gate found.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Results;

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

    /// Whether a chooser can take it as it is: every check held, or no
    /// suite applies (a primitive, the Go reference). A declared known
    /// failure still breaks the spec, and an unchecked build is unknown.
    pub fn passes(&self) -> bool {
        matches!(self, Verdict::Pass { .. } | Verdict::NoSuite { .. })
    }

    /// The rules broken, each once, by number: `R6 senders-gone, R12 wake-up`.
    pub fn rules(&self) -> Vec<String> {
        match self {
            Verdict::Deviates { findings, .. } => {
                let mut rules: Vec<String> = findings
                    .iter()
                    .map(|finding| finding.rule.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                rules.sort_by_key(|rule| rule_number(rule));
                rules
            }
            Verdict::Pass { .. } | Verdict::Unknown { .. } | Verdict::NoSuite { .. } => Vec::new(),
        }
    }

    /// What the broken rules mean for a user, in words: `may lose a value
    /// or hang a sender once the receivers leave; may leave a waiter asleep`.
    /// Empty when nothing is broken.
    pub fn consequences(&self) -> String {
        self.consequences_as(|consequence| consequence.phrase, "; ")
    }

    /// [`consequences`](Self::consequences) in a few words, for a mark
    /// beside a name: `may lose or hang, may miss a wake-up`.
    pub fn gist(&self) -> String {
        self.consequences_as(|consequence| consequence.gist, ", ")
    }

    /// The broken rules' consequences, each in the form `said` picks, once
    /// each, joined by `separator`.
    fn consequences_as(&self, said: fn(Consequence) -> &'static str, separator: &str) -> String {
        let mut words: Vec<&str> = self
            .rules()
            .iter()
            .map(|rule| said(consequence(rule)))
            .collect();
        words.dedup();
        words.join(separator)
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

impl Results {
    /// Every implementation with a cell in the run whose conformance
    /// verdict is not a pass ([`Verdict::passes`]), by name.
    pub fn gate_findings(&self) -> BTreeMap<&str, &Verdict> {
        self.cells
            .iter()
            .filter_map(|cell| self.verdicts.get_key_value(&cell.cell.implementation))
            .filter(|(_, verdict)| !verdict.passes())
            .map(|(name, verdict)| (name.as_str(), verdict))
            .collect()
    }
}

/// A rule's number, from its name (`R12 wake-up` is 12); unknown names
/// sort last.
fn rule_number(rule: &str) -> u32 {
    rule.strip_prefix('R')
        .and_then(|rest| rest.split(' ').next())
        .and_then(|number| number.parse().ok())
        .unwrap_or(u32::MAX)
}

/// What breaking a rule can do to a program that uses the channel.
struct Consequence {
    /// In a few words: `may lose or hang`.
    gist: &'static str,
    /// In a phrase: `may lose a value or hang a sender once the receivers
    /// leave`.
    phrase: &'static str,
}

/// What breaking `rule` can do.
fn consequence(rule: &str) -> Consequence {
    let (gist, phrase) = match rule_number(rule) {
        1 => ("misdeclared", "does not do what it declares"),
        2 => ("may reorder", "may reorder values"),
        3 => ("may lose or duplicate", "may lose or duplicate a value"),
        4 => (
            "wrong capacity",
            "may hold more or fewer values than its capacity",
        ),
        5 => (
            "buffers at capacity 0",
            "may buffer where it should hand off",
        ),
        6 => (
            "may strand a receiver",
            "may leave a receiver waiting once the senders leave",
        ),
        7 => (
            "may lose or hang",
            "may lose a value or hang a sender once the receivers leave",
        ),
        8 => (
            "unreliable timed receive",
            "a timed receive may panic or wait the wrong time",
        ),
        9 => (
            "may leak or drop twice",
            "may leak a value or drop it twice",
        ),
        10 => ("may hang", "may hang or panic"),
        11 => (
            "try_ calls misreport",
            "try_send and try_recv may say Full or Empty wrongly",
        ),
        12 => ("may miss a wake-up", "may leave a waiter asleep"),
        _ => ("unknown rule", "breaks a rule this report does not know"),
    };
    Consequence { gist, phrase }
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
    fn rules_go_by_number() {
        let verdict = Verdict::Deviates {
            checked_at: String::new(),
            findings: vec![
                finding("R12 wake-up", true),
                finding("R7 receivers-gone", true),
            ],
        };
        assert_eq!(verdict.rules(), ["R7 receivers-gone", "R12 wake-up"]);
        assert!(!verdict.passes());
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
            undeclared.consequences(),
            "may lose or duplicate a value; may lose a value or hang a sender once the receivers leave"
        );
        assert_eq!(undeclared.gist(), "may lose or duplicate, may lose or hang");
        assert_eq!(
            Verdict::Pass {
                checked_at: String::new()
            }
            .short(),
            "pass"
        );
    }
}
