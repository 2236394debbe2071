//! What a cell can run on: a channel flavor or bridge, a primitive that a
//! channel-free pattern compares, or the Go reference, each with its
//! monomorphized entry points.

use chanlab_contract::{AsyncFlavor, Bridge, BridgeVisitor, FlavorInfo, FlavorVisitor, SyncFlavor};
use chanlab_report::schema::Class;
use chanlab_scenarios::load::{
    Direction, LoadRun, LoadSpec, start_load_async, start_load_bridge, start_load_sync,
};
use chanlab_scenarios::operations::{self, Operation};
use chanlab_scenarios::{
    Outcome, Params, Pattern, Primitive, Runtime, ScenarioError, World, run_async, run_sync,
};

/// Counts each operation `repeat` times inside
/// [`operations::counted`], in order, or says why it cannot.
pub type CountOperations = fn(&[Operation], usize) -> Vec<Result<(), operations::Refused>>;

/// How a cell drives an implementation.
#[derive(Clone, Copy)]
pub enum Driver {
    /// A blocking flavor, on threads.
    Sync {
        /// Runs a pattern on it.
        pattern: fn(Pattern, &Params) -> Result<Outcome, ScenarioError>,
        /// Runs a channel load on it.
        load: fn(&LoadSpec) -> Result<LoadRun, ScenarioError>,
        /// Counts single-thread operation paths on it.
        count: CountOperations,
    },
    /// An async flavor, as tasks on a tokio runtime.
    Async {
        /// Runs a pattern on it.
        pattern: fn(Pattern, &Params, Runtime) -> Result<Outcome, ScenarioError>,
        /// Runs a channel load on it.
        load: fn(&LoadSpec, Runtime) -> Result<LoadRun, ScenarioError>,
        /// Counts single-thread operation paths on it.
        count: CountOperations,
    },
    /// A library's blocking and async ends on one channel: threads on one
    /// side, tasks on the other.
    Bridge {
        /// Runs a channel load across it.
        load: fn(&LoadSpec, Direction, Runtime) -> Result<LoadRun, ScenarioError>,
        /// Which end is blocking.
        direction: Direction,
    },
    /// A lock or coordination primitive, for the patterns that use no
    /// channel.
    Primitive(Primitive),
    /// Go's channels and goroutines, in the `chanlab-go` worker process
    /// (`impls/go`).
    Go,
}

/// One implementation a cell can name.
#[derive(Clone)]
pub struct Implementation {
    /// Its name in filters and results.
    pub name: String,
    /// The crate it comes from.
    pub library: &'static str,
    /// The flavor's declaration (a bridge's blocking flavor's); `None` for
    /// a primitive.
    pub info: Option<FlavorInfo>,
    /// How to run it.
    pub driver: Driver,
}

impl Implementation {
    /// Whether it runs tasks on a runtime.
    pub fn is_async(&self) -> bool {
        match self.driver {
            Driver::Async { .. } | Driver::Bridge { .. } => true,
            Driver::Primitive(primitive) => primitive.world() == World::Tasks,
            Driver::Sync { .. } | Driver::Go => false,
        }
    }

    /// Whether it is a channel: a flavor or a bridge, not a primitive.
    pub fn is_channel(&self) -> bool {
        !matches!(self.driver, Driver::Primitive(_))
    }

    /// What a user chooses it among: the primitives by the world they run
    /// in, the Go reference on threads.
    pub fn class(&self) -> Class {
        match self.driver {
            Driver::Sync { .. } | Driver::Go => Class::Blocking,
            Driver::Async { .. } => Class::Async,
            Driver::Bridge { .. } => Class::Bridge,
            Driver::Primitive(primitive) => match primitive.world() {
                World::Threads => Class::Blocking,
                World::Tasks => Class::Async,
            },
        }
    }

    /// Whether it is a reference line rather than a library a user would
    /// pick: the Go reference, chanlab's own channels and primitives, and
    /// the broken twins. Reports show them and never rank them.
    pub fn is_reference(&self) -> bool {
        matches!(self.driver, Driver::Go) || matches!(self.library, "chanlab" | "chanlab-broken")
    }
}

/// Collects the implementations of the flavors and bridges it visits,
/// instantiating their entry points in the crate that calls the visit.
#[derive(Default)]
pub struct ImplementationCollector(pub Vec<Implementation>);

impl FlavorVisitor for ImplementationCollector {
    fn visit_sync<F: SyncFlavor>(&mut self) {
        self.0.push(Implementation {
            name: F::INFO.name.to_owned(),
            library: F::INFO.library,
            info: Some(F::INFO),
            driver: Driver::Sync {
                pattern: run_sync::<F>,
                load: start_load_sync::<F>,
                count: operations::count_sync::<F>,
            },
        });
    }

    fn visit_async<F: AsyncFlavor>(&mut self) {
        self.0.push(Implementation {
            name: F::INFO.name.to_owned(),
            library: F::INFO.library,
            info: Some(F::INFO),
            driver: Driver::Async {
                pattern: run_async::<F>,
                load: start_load_async::<F>,
                count: operations::count_async::<F>,
            },
        });
    }
}

impl BridgeVisitor for ImplementationCollector {
    fn visit<B: Bridge>(&mut self) {
        let info = <B::Sync as SyncFlavor>::INFO;
        for direction in Direction::ALL {
            self.0.push(Implementation {
                name: format!("{}-{}", info.library, direction.name()),
                library: info.library,
                info: Some(info),
                driver: Driver::Bridge {
                    load: start_load_bridge::<B>,
                    direction,
                },
            });
        }
    }
}

/// Every flavor and bridge chanlab ships, with its entry points
/// instantiated here, on the measured path's optimization level.
pub fn shipped_channels() -> Vec<Implementation> {
    let mut collect = ImplementationCollector::default();
    chanlab_impls::visit_all(&mut collect);
    chanlab_impls::visit_bridges(&mut collect);
    collect.0
}

/// Every primitive, then the Go reference: the implementations that are
/// no flavor.
pub fn others() -> Vec<Implementation> {
    let mut others: Vec<Implementation> = Primitive::ALL
        .iter()
        .map(|&primitive| Implementation {
            name: primitive.name().to_owned(),
            library: primitive.library(),
            info: None,
            driver: Driver::Primitive(primitive),
        })
        .collect();
    others.push(Implementation {
        name: chanlab_report::schema::GO_REFERENCE.to_owned(),
        library: "go",
        info: None,
        driver: Driver::Go,
    });
    others
}
