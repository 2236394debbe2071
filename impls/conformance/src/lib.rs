//! chanlab's conformance suite: one written spec of channel behaviour
//! ([`Rule`]), checked against any implementation of the contract, in three
//! suites: the blocking suite ([`CHECKS`]), the async suite
//! ([`ASYNC_CHECKS`]: futures on tokio's current-thread and multi-thread
//! runtimes, and polled by hand for cancellation and wake-ups), and the
//! mixed suite ([`BRIDGE_CHECKS`]: a blocking end and an async end on one
//! channel).
//!
//! # Using it on your own channel
//!
//! Implement [`chanlab_contract::SyncFlavor`], [`chanlab_contract::AsyncFlavor`]
//! or [`chanlab_contract::Bridge`] for your channel (one file), then write
//! a test target that runs under this crate's harness: declare it in your
//! `Cargo.toml` with `harness = false`,
//!
//! ```toml
//! [[test]]
//! name = "conformance"
//! harness = false
//! ```
//!
//! and in `tests/conformance.rs` write one line per flavor and suite, and a
//! `main` that runs them. Each call makes its own module, named by its
//! first argument, so several share a file. The suites need only the
//! contract and tokio, never the libraries chanlab ships (the examples
//! below borrow chanlab's own channels; compiled here, not run):
//!
//! ```no_run
//! use chanlab_conformance::{
//!     BlockOn, Settings, async_conformance_tests, bridge_conformance_tests, conformance_tests,
//!     run_tests,
//! };
//! use std::process::ExitCode;
//! use std::time::Duration;
//!
//! // A blocking flavor.
//! conformance_tests!(reference: chanlab_impls::Reference);
//!
//! // An async flavor: the async suite on its futures, and the blocking
//! // suite through its blocking view, which drives the same futures.
//! async_conformance_tests!(reference_async: chanlab_impls::AsyncReference);
//! conformance_tests!(reference_async_blocking: BlockOn<chanlab_impls::AsyncReference>);
//!
//! // A library with both ends on one channel.
//! bridge_conformance_tests!(flume_bridge: chanlab_impls::FlumeBridge);
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
//!
//! fn main() -> ExitCode {
//!     run_tests([
//!         reference::tests(),
//!         reference_async::tests(),
//!         reference_async_blocking::tests(),
//!         flume_bridge::tests(),
//!         kanal::tests(),
//!     ])
//! }
//! ```
//!
//! `cargo test` (or `cargo nextest run`) then runs one test per check,
//! named `module::check` as `#[test]`s would be, each under a watchdog, so
//! a hang fails with the flavor's and the check's names instead of
//! stalling CI. A check that does not apply to the flavor (a rendezvous
//! check on a channel that declares no rendezvous) is reported `ignored`
//! with its reason; nextest, which has no such outcome, counts it as
//! passed. A failure ends with the `cargo test` command that reruns that
//! test alone. A violation fails the test unless it matches a known
//! failure ([`KnownFailure`]: the check, the rule and a text of the case),
//! declared in the flavor's `INFO.known_failures` (for a bridge, either
//! end's) or in the macro call; then the check goes on and fails on any
//! other violation. A declared known failure that does not show in five
//! runs fails its test, so the list stays true.
//!
//! [`run_suite`], [`run_async_suite`] and [`run_bridge_suite`] run the same
//! checks and return their results, for tools that print a table instead
//! of failing a test.
//!
//! # How the checks are sized
//!
//! Concurrency stress is bounded by time ([`Settings::stress_budget`] per
//! configuration), not by a message count, because a rendezvous hand-off
//! costs orders of magnitude more than a buffered one. No check asserts how
//! fast anything is; the clock-based assertions are R8's: `recv_timeout`
//! returns neither before its timeout nor after a plain sleep of ten times
//! it plus 200 ms started at the same moment (best of five attempts), and a
//! receive raced against a runtime timer ends within the same bound.

mod asynchronous;
mod block_on;
mod checks;
mod harness;
mod history;
mod known;
mod model;
pub mod payload;
mod spec;
mod watchdog;

use std::time::Duration;

use chanlab_contract::{AsyncFlavor, Bridge, FlavorInfo, SyncFlavor};
use serde::Serialize;

pub use block_on::{BlockOn, BlockOnReceiver, BlockOnSender};
pub use chanlab_contract::KnownFailure;
pub use checks::CheckOutcome;
pub use harness::{ConformanceTest, TestEnd, run_tests};
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
    pub verdict: Result<CheckOutcome, Violation>,
    /// Declared known failures the check ran into (and went past).
    pub known: Vec<KnownSeen>,
}

impl serde::Serialize for CheckOutcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            CheckOutcome::Pass => serializer.serialize_str("pass"),
            CheckOutcome::NotApplicable(why) => serializer.serialize_str(&format!("n/a: {why}")),
        }
    }
}

/// What a suite runs on: the name its messages use and the known failures
/// it declares.
struct Subject {
    name: String,
    known_failures: Vec<KnownFailure>,
}

impl Subject {
    fn of(info: &FlavorInfo) -> Self {
        Subject {
            name: info.name.to_owned(),
            known_failures: info.known_failures.to_vec(),
        }
    }

    /// The known failures declared for the check called `check`: the
    /// subject's own, then those in `extra`.
    fn declared_for(&self, check: &str, extra: &[KnownFailure]) -> Vec<KnownFailure> {
        self.known_failures
            .iter()
            .chain(extra)
            .filter(|known| known.check == check)
            .copied()
            .collect()
    }
}

fn sync_subject<F: SyncFlavor>() -> Subject {
    Subject::of(&F::INFO)
}

fn async_subject<A: AsyncFlavor>() -> Subject {
    Subject::of(&A::INFO)
}

/// A bridge is named by its library and declares what either side does.
fn bridge_subject<B: Bridge>() -> Subject {
    let (blocking, asynchronous) = (
        <B::Sync as SyncFlavor>::INFO,
        <B::Async as AsyncFlavor>::INFO,
    );
    Subject {
        name: format!("{} bridge", blocking.library),
        known_failures: blocking
            .known_failures
            .iter()
            .chain(asynchronous.known_failures)
            .copied()
            .collect(),
    }
}

/// Runs `body`, `check` on `subject`, under the watchdog with the known
/// failures the subject declares for it, and those in `extra`, in force.
fn run_guarded(
    subject: Subject,
    check: Check,
    settings: &Settings,
    extra: &[KnownFailure],
    body: impl FnOnce() -> Result<CheckOutcome, Violation> + Send + 'static,
) -> CheckResult {
    let what = format!("{}/{}", subject.name, check.name);
    let declared = subject.declared_for(check.name, extra);
    let guarded_run = guarded(&what, settings.watchdog, move || {
        Ok(known::run(check.name, declared, body))
    });
    let (verdict, known) = match guarded_run {
        Ok((verdict, known)) => (
            verdict.map(|ended| ended.unwrap_or(CheckOutcome::Pass)),
            known,
        ),
        Err(violation) => (Err(violation), Vec::new()),
    };
    CheckResult {
        check,
        verdict,
        known,
    }
}

/// Defines one suite's list of checks once, and from it the list, the
/// function that runs one check by name, the test body and the exported
/// macro that makes a module of tests. The `$d` parameter is a literal
/// `$`, so the generated macro can have variables of its own.
macro_rules! define_suite {
    (
        $d:tt
        $what:literal, $bound:ident, $subject:ident;
        $list:ident, $run:ident, $assert:ident, $macro_name:ident;
        $($name:ident => $($segment:ident)::+, [$($rule:ident),+];)+
    ) => {
        #[doc = concat!("Every check of the ", $what, " suite, in the order it runs them.")]
        pub const $list: &[Check] = &[
            $(Check { name: stringify!($name), rules: &[$(Rule::$rule),+] },)+
        ];

        #[doc = concat!("Runs the ", $what, " check called `name` on `F` under the watchdog, going on past the known failures `F` declares and those in `extra`; `None` for an unknown name.")]
        pub fn $run<F: $bound>(
            name: &str,
            settings: &Settings,
            extra: &[KnownFailure],
        ) -> Option<CheckResult> {
            let check = *$list.iter().find(|check| check.name == name)?;
            let owned = settings.clone();
            Some(match name {
                $(stringify!($name) => run_guarded($subject::<F>(), check, settings, extra, move || $($segment)::+::<F>(&owned)),)+
                _ => return None,
            })
        }

        #[doc = concat!("The body of each test [`", stringify!($macro_name), "!`] makes: the check runs, a violation it does not declare fails the test, and a check that does not apply says why.")]
        pub fn $assert<F: $bound>(name: &str, extra: &[KnownFailure], settings: &Settings) -> TestEnd {
            assert_passes($subject::<F>(), name, extra, settings, $run::<F>)
        }

        #[doc = concat!("Expands to a module whose `tests()` makes one test per check of the ", $what, " suite, for [`run_tests`].")]
        ///
        /// `macro!(module: Type)`; optionally followed by known failures
        /// beyond those the type declares, each `check(Rule, "case text",
        /// "why")`, and by the [`Settings`] to use. See the crate docs.
        ///
        /// A declared known failure that stops showing up fails its test,
        /// so the list stays true. Several calls share a file: each makes
        /// its own module, which sees the file's imports.
        #[macro_export]
        macro_rules! $macro_name {
            (
                $d module:ident : $d flavor:ty
                $d (, known_failures: [$d ($d check:ident($d known_rule:ident, $d case:literal, $d why:literal)),* $d (,)?])?
                $d (, settings: $d settings:expr)?
                $d (,)?
            ) => {
                #[doc = concat!("The ", $what, " suite's tests on `", stringify!($d flavor), "`.")]
                pub mod $d module {
                    #[allow(unused_imports)]
                    use super::*;

                    const KNOWN: &[$crate::KnownFailure] = &[$d ($d ($crate::KnownFailure {
                        check: stringify!($d check),
                        rule: $crate::Rule::$d known_rule,
                        case: $d case,
                        why: $d why,
                        intermittent: false,
                    }),*)?];

                    fn settings() -> $crate::Settings {
                        let chosen: Option<$crate::Settings> = None $d (.or(Some($d settings)))?;
                        chosen.unwrap_or_default()
                    }

                    /// One test per check, named by this module's path.
                    pub fn tests() -> Vec<$crate::ConformanceTest> {
                        vec![$(
                            $crate::ConformanceTest::new(module_path!(), stringify!($name), || {
                                $crate::$assert::<$d flavor>(stringify!($name), KNOWN, &settings())
                            }),
                        )+]
                    }
                }
            };
        }
    };
}

define_suite! { $
    "blocking", SyncFlavor, sync_subject;
    CHECKS, run_check, assert_check, conformance_tests;
    capabilities_are_honest => checks::basics::capabilities_are_honest, [Capabilities, ExactlyOnce];
    fifo_in_order => checks::basics::fifo_in_order, [Fifo, ExactlyOnce];
    capacity_is_exact => checks::basics::capacity_is_exact, [Capacity];
    rendezvous_hands_off => checks::basics::rendezvous_hands_off, [Rendezvous];
    senders_gone_disconnects => checks::disconnect::senders_gone_disconnects, [SendersGone];
    receivers_gone_disconnects => checks::disconnect::receivers_gone_disconnects, [ReceiversGone];
    every_blocked_party_wakes => checks::wakeup::every_blocked_party_wakes, [SendersGone, ReceiversGone];
    no_lost_wakeup => checks::wakeup::no_lost_wakeup, [Wakeup];
    many_waiters_back_to_back => checks::waiters::many_waiters_back_to_back, [Wakeup, ExactlyOnce];
    recv_timeout_behaves => checks::basics::recv_timeout_behaves, [RecvTimeout];
    recv_timeout_edges => checks::timeout::recv_timeout_edges, [RecvTimeout];
    values_dropped_once => checks::drops::values_dropped_once, [DropOnce];
    drops_under_concurrency => checks::drops::drops_under_concurrency, [DropOnce];
    exactly_once_under_contention => checks::stress::exactly_once_under_contention, [ExactlyOnce, Fifo];
    histories_are_linearizable => checks::linear::histories_are_linearizable, [Linearizable];
    agrees_with_model => model::agrees_with_model, [Capabilities, Fifo, ExactlyOnce, Capacity, Rendezvous, SendersGone, ReceiversGone];
}

define_suite! { $
    "async", AsyncFlavor, async_subject;
    ASYNC_CHECKS, run_async_check, assert_async_check, async_conformance_tests;
    async_exactly_once_in_order => asynchronous::basics::async_exactly_once_in_order, [Fifo, ExactlyOnce];
    async_capacity_and_rendezvous => asynchronous::basics::async_capacity_and_rendezvous, [Capacity, Rendezvous, Wakeup];
    async_every_blocked_party_wakes => asynchronous::wakeup::async_every_blocked_party_wakes, [SendersGone, ReceiversGone];
    async_no_lost_waker => asynchronous::wakeup::async_no_lost_waker, [Wakeup];
    async_wakes_latest_waker => asynchronous::waiters::async_wakes_latest_waker, [Wakeup];
    async_many_waiters_back_to_back => asynchronous::waiters::async_many_waiters_back_to_back, [Wakeup, ExactlyOnce];
    cancelled_send_gives_back => asynchronous::waiters::cancelled_send_gives_back, [Capacity, Wakeup, ExactlyOnce];
    async_recv_raced_with_timer => asynchronous::timeout::async_recv_raced_with_timer, [RecvTimeout];
    cancel_safe_recv => asynchronous::cancel::cancel_safe_recv, [Capabilities, ExactlyOnce, Fifo, Wakeup];
    async_values_dropped_once => asynchronous::drops::async_values_dropped_once, [DropOnce, ExactlyOnce];
}

define_suite! { $
    "mixed sync/async (bridge)", Bridge, bridge_subject;
    BRIDGE_CHECKS, run_bridge_check, assert_bridge_check, bridge_conformance_tests;
    mixed_exactly_once => asynchronous::mixed::mixed_exactly_once, [Fifo, ExactlyOnce, Rendezvous, Wakeup];
    mixed_disconnect_and_drops => asynchronous::mixed::mixed_disconnect_and_drops, [SendersGone, ReceiversGone, DropOnce];
    mixed_cancelled_receive => asynchronous::mixed::mixed_cancelled_receive, [Capabilities, ExactlyOnce, Rendezvous, Wakeup];
}

/// Runs every check on `F` and returns the results in [`CHECKS`] order.
pub fn run_suite<F: SyncFlavor>(settings: &Settings) -> Vec<CheckResult> {
    CHECKS
        .iter()
        .filter_map(|check| run_check::<F>(check.name, settings, &[]))
        .collect()
}

/// Runs every async check on `A` and returns the results in
/// [`ASYNC_CHECKS`] order.
pub fn run_async_suite<A: AsyncFlavor>(settings: &Settings) -> Vec<CheckResult> {
    ASYNC_CHECKS
        .iter()
        .filter_map(|check| run_async_check::<A>(check.name, settings, &[]))
        .collect()
}

/// Runs every mixed check on the bridge `B` and returns the results in
/// [`BRIDGE_CHECKS`] order.
pub fn run_bridge_suite<B: Bridge>(settings: &Settings) -> Vec<CheckResult> {
    BRIDGE_CHECKS
        .iter()
        .filter_map(|check| run_bridge_check::<B>(check.name, settings, &[]))
        .collect()
}

/// Attempts a known failure gets to show itself: some faults (a lock held
/// at the wrong moment) appear only under a lucky interleaving, and a busy
/// machine can hide them for a run.
const KNOWN_FAILURE_ATTEMPTS: usize = 5;

/// Runs one check through `run`: it fails on a violation that is not a
/// declared known failure, or when a known failure declared for this check
/// (by the subject or in `extra`) has not shown in
/// [`KNOWN_FAILURE_ATTEMPTS`] runs, and says why when it does not apply.
fn assert_passes(
    subject: Subject,
    name: &str,
    extra: &[KnownFailure],
    settings: &Settings,
    run: fn(&str, &Settings, &[KnownFailure]) -> Option<CheckResult>,
) -> TestEnd {
    let flavor = &subject.name;
    let expected: Vec<KnownFailure> = subject
        .declared_for(name, extra)
        .into_iter()
        .filter(|known| !known.intermittent)
        .collect();
    let mut shown: Vec<KnownFailure> = Vec::new();
    for _ in 0..KNOWN_FAILURE_ATTEMPTS {
        let result = run(name, settings, extra)
            .ok_or_else(|| format!("no conformance check is called {name}"))?;
        match result.verdict {
            Err(violation) => return Err(format!("{flavor} fails {name}: {violation}")),
            Ok(CheckOutcome::NotApplicable(why)) if result.known.is_empty() => {
                return Ok(Some(why));
            }
            Ok(_) => {}
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
            return Ok(None);
        }
    }
    let missing: Vec<_> = expected
        .iter()
        .filter(|known| !shown.contains(known))
        .collect();
    Err(format!(
        "{flavor} passes {name} {KNOWN_FAILURE_ATTEMPTS} times without showing these declared known failures: {missing:#?}; remove them from its known failures"
    ))
}
