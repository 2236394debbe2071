//! The conformance suite of each flavor, as plain function pointers the
//! command line can pick by name.

use chanlab_conformance::{CheckResult, Settings, run_check, run_suite};
use chanlab_contract::{AsyncFlavor, FlavorInfo, FlavorVisitor, SyncFlavor};
use chanlab_impls::BlockOn;

/// A flavor and its conformance suite, monomorphized.
#[derive(Clone, Copy)]
pub struct FlavorSuite {
    /// Who it is and what it declares.
    pub info: FlavorInfo,
    /// Runs every check on it.
    pub run: fn(&Settings) -> Vec<CheckResult>,
    /// Runs one check on it, by name; `None` for an unknown name.
    pub run_check: fn(&str, &Settings) -> Option<CheckResult>,
}

fn one_check<F: SyncFlavor>(name: &str, settings: &Settings) -> Option<CheckResult> {
    run_check::<F>(name, settings, &[])
}

struct Collect(Vec<FlavorSuite>);

impl FlavorVisitor for Collect {
    fn visit_sync<F: SyncFlavor>(&mut self) {
        self.0.push(FlavorSuite {
            info: F::INFO,
            run: run_suite::<F>,
            run_check: one_check::<F>,
        });
    }

    fn visit_async<F: AsyncFlavor>(&mut self) {
        self.0.push(FlavorSuite {
            info: F::INFO,
            run: run_suite::<BlockOn<F>>,
            run_check: one_check::<BlockOn<F>>,
        });
    }
}

/// Every shipped flavor, then, with `include_broken`, the broken twins.
pub fn all(include_broken: bool) -> Vec<FlavorSuite> {
    let mut collect = Collect(Vec::new());
    chanlab_impls::visit_all(&mut collect);
    if include_broken {
        chanlab_broken::visit_all(&mut collect);
    }
    collect.0
}
