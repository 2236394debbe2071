//! chanlab's conformance suite: one written spec of channel behaviour
//! ([`Rule`]), checked against any implementation of the contract.
//!
//! # Using it on your own channel
//!
//! Implement [`chanlab_contract::SyncFlavor`] for your channel (one file),
//! then, in a test file, one line per flavor. Each call makes its own
//! module, named by its first argument, so several share a file:
//!
//! ```
//! use chanlab_conformance::{Settings, conformance_tests};
//! use std::time::Duration;
//!
//! conformance_tests!(reference: chanlab_impls::Reference);
//!
//! // Known failures for a flavor whose INFO does not declare them, each
//! // check(Rule, "text in the violation", "why"), and tuned settings
//! // for a slow machine:
//! conformance_tests!(kanal: chanlab_impls::Kanal,
//!     known_failures: [
//!         receivers_gone_disconnects(ReceiversGone, "handed back None", "send drops the value"),
//!     ],
//!     settings: Settings { settle: Duration::from_millis(100), ..Settings::default() },
//! );
//! # fn main() {}
//! ```
//!
//! That expands to one `#[test]` per check, each running under a watchdog,
//! so a hang fails with the flavor's and the check's names instead of
//! stalling CI. A violation fails the test unless it matches a known
//! failure ([`KnownFailure`]: the check, the rule and a text of the case),
//! declared in the flavor's `INFO.known_failures` or in the macro call;
//! then the check goes on and fails on any other violation. A declared
//! known failure that does not show in five runs fails its test, so the
//! list stays true. An async flavor is checked through its blocking view:
//! `conformance_tests!(mine: chanlab_impls::BlockOn<MyAsyncFlavor>)`.
//!
//! [`run_suite`] runs the same checks and returns their results, for tools
//! that print a table instead of failing a test.
//!
//! # How the checks are sized
//!
//! Concurrency stress is bounded by time ([`Settings::stress_budget`] per
//! configuration), not by a message count, because a rendezvous hand-off
//! costs orders of magnitude more than a buffered one. No check asserts how
//! fast anything is; the clock-based assertions are R8's: `recv_timeout`
//! returns neither before its timeout nor after a plain sleep of ten times
//! it plus 200 ms started at the same moment (best of five attempts).

mod checks;
mod history;
mod known;
mod model;
pub mod payload;
mod spec;
mod watchdog;

use std::time::Duration;

use chanlab_contract::SyncFlavor;
use serde::Serialize;

pub use chanlab_contract::KnownFailure;
pub use checks::Outcome;
pub use known::KnownSeen;
pub use spec::{Rule, Violation};
pub use watchdog::guarded;

/// How hard and how long the checks push.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Time each stress configuration spends sending.
    pub stress_budget: Duration,
    /// How long a check waits to see that a blocked operation stays blocked,
    /// and the timeout it gives `recv_timeout`.
    pub settle: Duration,
    /// How long a whole check may take before it counts as hung.
    pub watchdog: Duration,
    /// Random sequences the model check runs.
    pub model_cases: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            stress_budget: Duration::from_millis(60),
            settle: Duration::from_millis(30),
            watchdog: Duration::from_secs(30),
            model_cases: 64,
        }
    }
}

/// One check of the suite.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Check {
    /// The check's name, also its `#[test]` name.
    pub name: &'static str,
    /// The rules it exercises.
    pub rules: &'static [Rule],
}

/// What one check concluded for one flavor.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// Which check.
    pub check: Check,
    /// `Ok(Pass)`, `Ok(NotApplicable)`, or a violation that is not a
    /// declared known failure.
    pub verdict: Result<Outcome, Violation>,
    /// Declared known failures the check ran into (and went past).
    pub known: Vec<KnownSeen>,
}

impl serde::Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Outcome::Pass => serializer.serialize_str("pass"),
            Outcome::NotApplicable(why) => serializer.serialize_str(&format!("n/a: {why}")),
        }
    }
}

/// The known failures declared for the check called `name` on `F`: those
/// in `F`'s `INFO`, then those in `extra`.
fn declared_for<F: SyncFlavor>(name: &str, extra: &[KnownFailure]) -> Vec<KnownFailure> {
    F::INFO
        .known_failures
        .iter()
        .chain(extra)
        .filter(|known| known.check == name)
        .copied()
        .collect()
}

/// Runs `body`, `check` on `F`, under the watchdog with the known failures
/// `F` declares for it, and those in `extra`, in force.
fn run_guarded<F: SyncFlavor>(
    check: Check,
    settings: &Settings,
    extra: &[KnownFailure],
    body: impl FnOnce() -> Result<Outcome, Violation> + Send + 'static,
) -> CheckResult {
    let what = format!("{}/{}", F::INFO.name, check.name);
    let declared = declared_for::<F>(check.name, extra);
    let guarded_run = guarded(&what, settings.watchdog, move || {
        Ok(known::run(check.name, declared, body))
    });
    let (verdict, known) = match guarded_run {
        Ok((verdict, known)) => (verdict.map(|ended| ended.unwrap_or(Outcome::Pass)), known),
        Err(violation) => (Err(violation), Vec::new()),
    };
    CheckResult {
        check,
        verdict,
        known,
    }
}

/// Defines the list of checks once, and from it [`CHECKS`], [`run_check`]
/// and the exported [`conformance_tests!`] macro. The `$d` parameter is a
/// literal `$`, so the generated macro can have variables of its own.
macro_rules! define_checks {
    ($d:tt $($name:ident => $($segment:ident)::+, [$($rule:ident),+];)+) => {
        /// Every check, in the order the suite runs them.
        pub const CHECKS: &[Check] = &[
            $(Check { name: stringify!($name), rules: &[$(Rule::$rule),+] },)+
        ];

        /// Runs the check called `name` on `F` under the watchdog, going on
        /// past the known failures `F` declares and those in `extra`;
        /// `None` for an unknown name.
        pub fn run_check<F: SyncFlavor>(
            name: &str,
            settings: &Settings,
            extra: &[KnownFailure],
        ) -> Option<CheckResult> {
            let check = *CHECKS.iter().find(|check| check.name == name)?;
            let owned = settings.clone();
            Some(match name {
                $(stringify!($name) => run_guarded::<F>(check, settings, extra, move || $($segment)::+::<F>(&owned)),)+
                _ => return None,
            })
        }

        /// Expands to a module of `#[test]`s, one per conformance check,
        /// for a flavor.
        ///
        /// `conformance_tests!(module: Flavor)`; optionally followed by
        /// known failures beyond those the flavor's `INFO` declares, each
        /// `check(Rule, "case text", "why")`, and by the [`Settings`] to
        /// use:
        ///
        /// ```text
        /// conformance_tests!(mine: MyFlavor,
        ///     known_failures: [receivers_gone_disconnects(ReceiversGone, "handed back None", "drops the value")],
        ///     settings: Settings { settle: Duration::from_millis(100), ..Settings::default() },
        /// );
        /// ```
        ///
        /// A declared known failure that stops showing up fails its test,
        /// so the list stays true. Several calls share a file: each makes
        /// its own module, which sees the file's imports.
        #[macro_export]
        macro_rules! conformance_tests {
            (
                $d module:ident : $d flavor:ty
                $d (, known_failures: [$d ($d check:ident($d known_rule:ident, $d case:literal, $d why:literal)),* $d (,)?])?
                $d (, settings: $d settings:expr)?
                $d (,)?
            ) => {
                mod $d module {
                    #[allow(unused_imports)]
                    use super::*;

                    const KNOWN: &[$crate::KnownFailure] = &[$d ($d ($crate::KnownFailure {
                        check: stringify!($d check),
                        rule: $crate::Rule::$d known_rule,
                        case: $d case,
                        why: $d why,
                    }),*)?];

                    fn settings() -> $crate::Settings {
                        let chosen: Option<$crate::Settings> = None $d (.or(Some($d settings)))?;
                        chosen.unwrap_or_default()
                    }

                    $(
                        #[test]
                        fn $name() {
                            $crate::assert_check::<$d flavor>(stringify!($name), KNOWN, &settings());
                        }
                    )+
                }
            };
        }
    };
}

define_checks! { $
    capabilities_are_honest => checks::basics::capabilities_are_honest, [Capabilities, ExactlyOnce];
    fifo_in_order => checks::basics::fifo_in_order, [Fifo, ExactlyOnce];
    capacity_is_exact => checks::basics::capacity_is_exact, [Capacity];
    rendezvous_hands_off => checks::basics::rendezvous_hands_off, [Rendezvous];
    senders_gone_disconnects => checks::disconnect::senders_gone_disconnects, [SendersGone];
    receivers_gone_disconnects => checks::disconnect::receivers_gone_disconnects, [ReceiversGone];
    every_blocked_party_wakes => checks::wakeup::every_blocked_party_wakes, [SendersGone, ReceiversGone];
    no_lost_wakeup => checks::wakeup::no_lost_wakeup, [Wakeup];
    recv_timeout_behaves => checks::basics::recv_timeout_behaves, [RecvTimeout];
    recv_timeout_edges => checks::timeout::recv_timeout_edges, [RecvTimeout];
    values_dropped_once => checks::drops::values_dropped_once, [DropOnce];
    drops_under_concurrency => checks::drops::drops_under_concurrency, [DropOnce];
    exactly_once_under_contention => checks::stress::exactly_once_under_contention, [ExactlyOnce, Fifo];
    histories_are_linearizable => checks::linear::histories_are_linearizable, [Linearizable];
    agrees_with_model => model::agrees_with_model, [Capabilities, Fifo, ExactlyOnce, Capacity, Rendezvous, SendersGone, ReceiversGone];
}

/// Runs every check on `F` and returns the results in [`CHECKS`] order.
pub fn run_suite<F: SyncFlavor>(settings: &Settings) -> Vec<CheckResult> {
    CHECKS
        .iter()
        .filter_map(|check| run_check::<F>(check.name, settings, &[]))
        .collect()
}

/// Attempts a known failure gets to show itself: some faults (a lock held
/// at the wrong moment) appear only under a lucky interleaving, and a busy
/// machine can hide them for a run.
const KNOWN_FAILURE_ATTEMPTS: usize = 5;

/// The body of each test [`conformance_tests!`] generates: runs the check
/// and panics on a violation that is not a declared known failure, or when
/// a known failure declared for this check (by `F`'s `INFO` or in `extra`)
/// has not shown in [`KNOWN_FAILURE_ATTEMPTS`] runs.
pub fn assert_check<F: SyncFlavor>(name: &str, extra: &[KnownFailure], settings: &Settings) {
    let flavor = F::INFO.name;
    let expected = declared_for::<F>(name, extra);
    let mut shown: Vec<KnownFailure> = Vec::new();
    for _ in 0..KNOWN_FAILURE_ATTEMPTS {
        let result = run_check::<F>(name, settings, extra)
            .unwrap_or_else(|| panic!("no conformance check is called {name}"));
        if let Err(violation) = result.verdict {
            panic!("{flavor} fails {name}: {violation}");
        }
        for seen in result.known {
            eprintln!(
                "{flavor} fails {name} as known ({}), {} time(s): {}",
                seen.failure.why, seen.times, seen.violation
            );
            if !shown.contains(&seen.failure) {
                shown.push(seen.failure);
            }
        }
        if expected.iter().all(|known| shown.contains(known)) {
            return;
        }
    }
    let missing: Vec<_> = expected
        .iter()
        .filter(|known| !shown.contains(known))
        .collect();
    panic!(
        "{flavor} passes {name} {KNOWN_FAILURE_ATTEMPTS} times without showing these declared known failures: {missing:#?}; remove them from its known failures"
    );
}
