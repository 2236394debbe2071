//! A conformance suite of one implementation, as plain function pointers
//! the command line can pick by name: the blocking suite on every flavor
//! (async ones through their blocking view), the async suite on async
//! flavors, and the mixed suite on bridges.

use chanlab_conformance::{
    ASYNC_CHECKS, BRIDGE_CHECKS, BlockOn, CHECKS, Check, CheckResult, Settings, run_async_check,
    run_async_suite, run_bridge_check, run_bridge_suite, run_check, run_suite,
};
use chanlab_contract::{AsyncFlavor, Bridge, BridgeVisitor, FlavorInfo, FlavorVisitor, SyncFlavor};
use serde::{Deserialize, Serialize};

/// Which suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SuiteKind {
    /// Blocking calls, on every flavor.
    Blocking,
    /// Futures, on async flavors.
    Async,
    /// A blocking end and an async end of one channel, on bridges.
    Mixed,
}

impl SuiteKind {
    /// Every suite, in the order a run prints them.
    pub const ALL: [SuiteKind; 3] = [SuiteKind::Blocking, SuiteKind::Async, SuiteKind::Mixed];

    /// The suite's checks.
    pub fn checks(self) -> &'static [Check] {
        match self {
            SuiteKind::Blocking => CHECKS,
            SuiteKind::Async => ASYNC_CHECKS,
            SuiteKind::Mixed => BRIDGE_CHECKS,
        }
    }

    /// The name `--suite` takes.
    pub fn name(self) -> &'static str {
        match self {
            SuiteKind::Blocking => "blocking",
            SuiteKind::Async => "async",
            SuiteKind::Mixed => "mixed",
        }
    }

    /// What the suite runs, for its table's title.
    pub fn title(self) -> &'static str {
        match self {
            SuiteKind::Blocking => {
                "blocking suite: blocking calls on OS threads (async flavors through their blocking view)"
            }
            SuiteKind::Async => {
                "async suite: futures on tokio's current-thread and multi-thread runtimes, and polled by hand"
            }
            SuiteKind::Mixed => {
                "mixed suite: a blocking end and an async end on one channel (threads to tasks and back)"
            }
        }
    }
}

/// One suite of one implementation, monomorphized.
#[derive(Clone)]
pub struct Suite {
    /// Which suite.
    pub kind: SuiteKind,
    /// The implementation's name: a flavor's, or `<library>-bridge`.
    pub name: String,
    /// The flavor (for a bridge, its async end).
    pub info: FlavorInfo,
    /// Runs every check on it.
    pub run: fn(&Settings) -> Vec<CheckResult>,
    /// Runs one check on it, by name; `None` for an unknown name.
    pub run_check: fn(&str, &Settings) -> Option<CheckResult>,
}

fn one_check<F: SyncFlavor>(name: &str, settings: &Settings) -> Option<CheckResult> {
    run_check::<F>(name, settings, &[])
}

fn one_async_check<A: AsyncFlavor>(name: &str, settings: &Settings) -> Option<CheckResult> {
    run_async_check::<A>(name, settings, &[])
}

fn one_bridge_check<B: Bridge>(name: &str, settings: &Settings) -> Option<CheckResult> {
    run_bridge_check::<B>(name, settings, &[])
}

/// The name of the mixed suite of `library`'s bridge.
pub(crate) fn bridge_suite_name(library: &str) -> String {
    format!("{library}-bridge")
}

/// Collects the suites of the flavors and bridges it visits, instantiating
/// them in the crate that calls the visit.
#[derive(Default)]
pub struct SuiteCollector(pub Vec<Suite>);

impl FlavorVisitor for SuiteCollector {
    fn visit_sync<F: SyncFlavor>(&mut self) {
        self.0.push(Suite {
            kind: SuiteKind::Blocking,
            name: F::INFO.name.to_owned(),
            info: F::INFO,
            run: run_suite::<F>,
            run_check: one_check::<F>,
        });
    }

    fn visit_async<F: AsyncFlavor>(&mut self) {
        self.visit_sync::<BlockOn<F>>();
        self.0.push(Suite {
            kind: SuiteKind::Async,
            name: F::INFO.name.to_owned(),
            info: F::INFO,
            run: run_async_suite::<F>,
            run_check: one_async_check::<F>,
        });
    }
}

impl BridgeVisitor for SuiteCollector {
    fn visit<B: Bridge>(&mut self) {
        let info = <B::Async as AsyncFlavor>::INFO;
        self.0.push(Suite {
            kind: SuiteKind::Mixed,
            name: bridge_suite_name(info.library),
            info,
            run: run_bridge_suite::<B>,
            run_check: one_bridge_check::<B>,
        });
    }
}
