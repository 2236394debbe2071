//! chanlab's conformance suite: one written spec of channel behaviour
//! ([`Rule`]), checked against any implementation of the contract.
//!
//! # Using it on your own channel
//!
//! Implement [`chanlab_contract::SyncFlavor`] for your channel (one file),
//! then, in a test file:
//!
//! ```ignore
//! chanlab_conformance::conformance_tests!(my_crate::MyFlavor);
//! ```
//!
//! That expands to one `#[test]` per check, each running under a watchdog,
//! so a hang fails with the flavor's and the check's names instead of
//! stalling CI. An async flavor is checked through its blocking view:
//! `conformance_tests!(chanlab_impls::BlockOn<MyAsyncFlavor>)`. A check that
//! is known to fail for a library can be declared, with the reason, as
//! `conformance_tests!(Flavor, known_failures: [check_name: "why"])`; such
//! a test then fails if the check starts passing, so the list stays true.
//!
//! [`run_suite`] runs the same checks and returns their results, for tools
//! that print a table instead of failing a test.
//!
//! # How the checks are sized
//!
//! Concurrency stress is bounded by time ([`Settings::stress_budget`] per
//! configuration), not by a message count, because a rendezvous hand-off
//! costs orders of magnitude more than a buffered one. No check asserts how
//! fast anything is; the only clock-based assertion is R8's "not before the
//! timeout".

mod checks;
mod history;
mod model;
pub mod payload;
mod spec;
mod watchdog;

use std::time::Duration;

use chanlab_contract::SyncFlavor;
use serde::Serialize;

pub use checks::Outcome;
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
    /// `Ok(Pass)`, `Ok(NotApplicable)`, or the violation found.
    pub verdict: Result<Outcome, Violation>,
}

impl serde::Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Outcome::Pass => serializer.serialize_str("pass"),
            Outcome::NotApplicable(why) => serializer.serialize_str(&format!("n/a: {why}")),
        }
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

        /// Runs the check called `name` on `F` under the watchdog; `None` for
        /// an unknown name.
        pub fn run_check<F: SyncFlavor>(name: &str, settings: &Settings) -> Option<CheckResult> {
            let index = CHECKS.iter().position(|check| check.name == name)?;
            let owned = settings.clone();
            let what = format!("{}/{}", F::INFO.name, name);
            let verdict = match name {
                $(stringify!($name) => guarded(&what, settings.watchdog, move || $($segment)::+::<F>(&owned)),)+
                _ => return None,
            };
            Some(CheckResult { check: CHECKS[index], verdict })
        }

        /// Expands to one `#[test]` per conformance check for a flavor.
        ///
        /// `conformance_tests!(Flavor)`, or with checks known to fail:
        /// `conformance_tests!(Flavor, known_failures: [check: "reason"])`.
        #[macro_export]
        macro_rules! conformance_tests {
            ($d flavor:ty) => {
                $crate::conformance_tests!($d flavor, known_failures: []);
            };
            ($d flavor:ty, known_failures: [$d ($d failing:ident : $d why:literal),* $d (,)?]) => {
                $(
                    #[test]
                    fn $name() {
                        let known: &[(&str, &str)] = &[$d ((stringify!($d failing), $d why)),*];
                        $crate::assert_check::<$d flavor>(stringify!($name), known);
                    }
                )+
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
    recv_timeout_behaves => checks::basics::recv_timeout_behaves, [RecvTimeout];
    values_dropped_once => checks::drops::values_dropped_once, [DropOnce];
    exactly_once_under_contention => checks::stress::exactly_once_under_contention, [ExactlyOnce, Fifo];
    histories_are_linearizable => checks::linear::histories_are_linearizable, [Linearizable];
    agrees_with_model => model::agrees_with_model, [Capabilities, Fifo, ExactlyOnce, Capacity, Rendezvous, SendersGone, ReceiversGone];
}

/// Runs every check on `F` and returns the results in [`CHECKS`] order.
pub fn run_suite<F: SyncFlavor>(settings: &Settings) -> Vec<CheckResult> {
    CHECKS
        .iter()
        .filter_map(|check| run_check::<F>(check.name, settings))
        .collect()
}

/// Attempts a known failure gets to show itself: some faults (a lock held
/// at the wrong moment) appear only under a lucky interleaving, and a busy
/// machine can hide them for a run.
const KNOWN_FAILURE_ATTEMPTS: usize = 5;

/// The body of each test [`conformance_tests!`] generates: runs the check
/// and panics with the violation, or, for a check listed in `known`, panics
/// if it passes [`KNOWN_FAILURE_ATTEMPTS`] times in a row.
pub fn assert_check<F: SyncFlavor>(name: &str, known: &[(&str, &str)]) {
    let run = || {
        run_check::<F>(name, &Settings::default())
            .unwrap_or_else(|| panic!("no conformance check is called {name}"))
            .verdict
    };
    let flavor = F::INFO.name;
    match known.iter().find(|(check, _)| *check == name) {
        None => {
            if let Err(violation) = run() {
                panic!("{flavor} fails {name}: {violation}");
            }
        }
        Some((_, why)) => {
            for _ in 0..KNOWN_FAILURE_ATTEMPTS {
                if let Err(violation) = run() {
                    eprintln!("{flavor} fails {name} as known ({why}): {violation}");
                    return;
                }
            }
            panic!(
                "{flavor} passes {name} {KNOWN_FAILURE_ATTEMPTS} times, listed as a known failure ({why}): remove it from known_failures"
            );
        }
    }
}
