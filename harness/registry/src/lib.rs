//! chanlab's registry: one value that names everything a run can measure
//! or check. [`Registry`] holds the shipped flavors and bridges, the ones a
//! user's crate adds ([`Addition`]), the primitives and the Go reference,
//! and, apart, the broken twins, each with its monomorphized entry points
//! ([`Implementation`]) and conformance suites ([`Suite`]).
//!
//! The entry points of the shipped flavors are instantiated here, at the
//! measured path's optimization level; the suites and the twins, which are
//! never timed, come from `chanlab-untimed` ([`Untimed`]), built at a lower
//! one, so the release build does not optimize checks as hard as the code
//! it times. The binary builds the registry once in `main` and passes it
//! down: no global holds it.

mod implementation;
mod suite;

use chanlab_contract::{AsyncFlavor, Bridge, BridgeVisitor, FlavorInfo, FlavorVisitor, SyncFlavor};

pub use implementation::{Driver, Implementation, ImplementationCollector};
pub use suite::{Suite, SuiteCollector, SuiteKind};

/// Everything a run can name, in one order every listing keeps: the
/// channels (shipped, then added), the broken twins where asked for, then
/// the primitives and the Go reference.
pub struct Registry {
    /// Shipped flavors and bridges, then the added ones.
    channels: Vec<Implementation>,
    /// The broken twins, never in a default run.
    broken: Vec<Implementation>,
    /// The primitives, then the Go reference.
    others: Vec<Implementation>,
    /// The suites of the channels, in their order.
    suites: Vec<Suite>,
    /// The suites of the broken twins.
    broken_suites: Vec<Suite>,
    /// Whether a user's crate added flavors or bridges.
    has_additions: bool,
}

/// The registry's parts that are never timed, instantiated by
/// `chanlab-untimed` at a lower optimization level.
pub struct Untimed {
    /// The suites of every shipped flavor and bridge.
    pub suites: Vec<Suite>,
    /// The broken twins, with their entry points.
    pub broken: Vec<Implementation>,
    /// The suites of the broken twins.
    pub broken_suites: Vec<Suite>,
}

/// A flavor or bridge a user's crate adds: its visit by each collector,
/// instantiated in the user's crate.
#[derive(Clone, Copy)]
pub struct Addition {
    /// Adds its entry points.
    implementations: fn(&mut ImplementationCollector),
    /// Adds its conformance suites.
    suites: fn(&mut SuiteCollector),
}

fn visit_sync<F: SyncFlavor, V: FlavorVisitor>(visitor: &mut V) {
    visitor.visit_sync::<F>();
}

fn visit_async<F: AsyncFlavor, V: FlavorVisitor>(visitor: &mut V) {
    visitor.visit_async::<F>();
}

fn visit_bridge<B: Bridge, V: BridgeVisitor>(visitor: &mut V) {
    visitor.visit::<B>();
}

impl Addition {
    /// A blocking flavor.
    pub fn sync_flavor<F: SyncFlavor>() -> Addition {
        Addition {
            implementations: visit_sync::<F, ImplementationCollector>,
            suites: visit_sync::<F, SuiteCollector>,
        }
    }

    /// An async flavor: measured as tasks, checked by the async suite and
    /// by the blocking suite through its blocking view.
    pub fn async_flavor<F: AsyncFlavor>() -> Addition {
        Addition {
            implementations: visit_async::<F, ImplementationCollector>,
            suites: visit_async::<F, SuiteCollector>,
        }
    }

    /// A bridge: measured from threads to tasks and back, checked by the
    /// mixed suite.
    pub fn bridge<B: Bridge>() -> Addition {
        Addition {
            implementations: visit_bridge::<B, ImplementationCollector>,
            suites: visit_bridge::<B, SuiteCollector>,
        }
    }
}

/// Why a registry could not be built or a name not found.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// An added implementation repeats a name already taken.
    #[error(
        "the added implementation {name:?} has the name of another; give its FlavorInfo a \
         name of its own (`chanlab list --broken` shows the names taken)"
    )]
    NameTaken {
        /// The repeated name.
        name: String,
    },
    /// No implementation has this name.
    #[error("unknown implementation {name:?}; known: {}", known.join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
        /// Every name there is, broken twins included.
        known: Vec<String>,
    },
}

impl Registry {
    /// The shipped implementations, the untimed parts, and `additions`,
    /// refusing an added name that is already taken.
    pub fn new(untimed: Untimed, additions: &[Addition]) -> Result<Registry, RegistryError> {
        let mut channels = implementation::shipped_channels();
        let mut suites = untimed.suites;
        let others = implementation::others();
        let mut added = ImplementationCollector::default();
        let mut added_suites = SuiteCollector::default();
        for addition in additions {
            (addition.implementations)(&mut added);
            (addition.suites)(&mut added_suites);
        }
        let mut taken: Vec<&str> = channels
            .iter()
            .chain(&untimed.broken)
            .chain(&others)
            .map(|i| i.name.as_str())
            .collect();
        for implementation in &added.0 {
            if taken.contains(&implementation.name.as_str()) {
                return Err(RegistryError::NameTaken {
                    name: implementation.name.clone(),
                });
            }
            taken.push(&implementation.name);
        }
        channels.extend(added.0);
        suites.extend(added_suites.0);
        Ok(Registry {
            channels,
            broken: untimed.broken,
            others,
            suites,
            broken_suites: untimed.broken_suites,
            has_additions: !additions.is_empty(),
        })
    }

    /// Every implementation: the channels, the broken twins with
    /// `include_broken`, the primitives and the Go reference.
    pub fn implementations(&self, include_broken: bool) -> impl Iterator<Item = &Implementation> {
        let broken: &[Implementation] = if include_broken { &self.broken } else { &[] };
        self.channels.iter().chain(broken).chain(&self.others)
    }

    /// The implementation called `name`, broken twins included.
    pub fn find(&self, name: &str) -> Result<&Implementation, RegistryError> {
        self.implementations(true)
            .find(|implementation| implementation.name == name)
            .ok_or_else(|| RegistryError::Unknown {
                name: name.to_owned(),
                known: self.implementations(true).map(|i| i.name.clone()).collect(),
            })
    }

    /// Whether `name` is a broken twin's.
    pub fn is_broken(&self, name: &str) -> bool {
        self.broken.iter().any(|twin| twin.name == name)
    }

    /// Every suite of the channels, then, with `include_broken`, of the
    /// broken twins.
    pub fn suites(&self, include_broken: bool) -> impl Iterator<Item = &Suite> {
        let broken: &[Suite] = if include_broken {
            &self.broken_suites
        } else {
            &[]
        };
        self.suites.iter().chain(broken)
    }

    /// The suites that check `implementation`: a flavor's own (blocking,
    /// and async for an async flavor), a bridge's mixed suite; none for a
    /// primitive or the Go reference.
    pub fn suites_of(&self, implementation: &Implementation) -> Vec<&Suite> {
        let name = match implementation.driver {
            Driver::Sync { .. } | Driver::Async { .. } => implementation.name.clone(),
            Driver::Bridge { .. } => suite::bridge_suite_name(implementation.library),
            Driver::Primitive(_) | Driver::Go => return Vec::new(),
        };
        self.suites(true)
            .filter(|suite| suite.name == name)
            .collect()
    }

    /// Every flavor once (its blocking suite's entry), in registry order.
    pub fn flavors(&self, include_broken: bool) -> Vec<FlavorInfo> {
        self.suites(include_broken)
            .filter(|suite| suite.kind == SuiteKind::Blocking)
            .map(|suite| suite.info)
            .collect()
    }

    /// Whether a user's crate added flavors or bridges, whose code
    /// chanlab's commit does not name.
    pub fn has_additions(&self) -> bool {
        self.has_additions
    }
}
