//! The registry's parts chanlab never times, instantiated here: the
//! conformance suites of every shipped flavor and bridge, and the broken
//! twins with their suites and entry points. The workspace builds this
//! crate at a lower optimization level than the measured path
//! (`[profile.release.package.chanlab-untimed]`): checks run the same
//! code, they need not run it at full speed, and monomorphizing every
//! check for every flavor at opt-level 3 was most of the release build.

use chanlab_registry::{ImplementationCollector, SuiteCollector, Untimed};

/// The suites of the shipped flavors and bridges, and the broken twins.
pub fn untimed() -> Untimed {
    let mut suites = SuiteCollector::default();
    chanlab_impls::visit_all(&mut suites);
    chanlab_impls::visit_bridges(&mut suites);
    let mut broken = ImplementationCollector::default();
    chanlab_broken::visit_all(&mut broken);
    let mut broken_suites = SuiteCollector::default();
    chanlab_broken::visit_all(&mut broken_suites);
    Untimed {
        suites: suites.0,
        broken: broken.0,
        broken_suites: broken_suites.0,
    }
}
