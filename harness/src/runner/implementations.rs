//! Everything a cell can run on, by name: the channel flavors (and, when
//! named, the broken twins) and the primitives that channel-free patterns
//! compare, each with its monomorphized entry points.

use anyhow::Context;
use chanlab_contract::{AsyncFlavor, FlavorInfo, FlavorVisitor, SyncFlavor};
use chanlab_scenarios::load::{LoadRun, LoadSpec, start_load_async, start_load_sync};
use chanlab_scenarios::{
    Outcome, Params, Pattern, Primitive, Runtime, ScenarioError, run_async, run_sync,
};

/// How a cell drives an implementation.
#[derive(Clone, Copy)]
pub enum Driver {
    /// A blocking flavor, on threads.
    Sync {
        /// Runs a pattern on it.
        pattern: fn(Pattern, &Params) -> Result<Outcome, ScenarioError>,
        /// Runs a channel load on it.
        load: fn(&LoadSpec) -> Result<LoadRun, ScenarioError>,
    },
    /// An async flavor, as tasks on a tokio runtime.
    Async {
        /// Runs a pattern on it.
        pattern: fn(Pattern, &Params, Runtime) -> Result<Outcome, ScenarioError>,
        /// Runs a channel load on it.
        load: fn(&LoadSpec, Runtime) -> Result<LoadRun, ScenarioError>,
    },
    /// A lock or coordination primitive, for the patterns that use no
    /// channel.
    Primitive(Primitive),
}

/// One implementation a cell can name.
#[derive(Clone, Copy)]
pub struct Implementation {
    /// Its name in filters and results.
    pub name: &'static str,
    /// The crate it comes from.
    pub library: &'static str,
    /// The flavor's declaration; `None` for a primitive.
    pub info: Option<FlavorInfo>,
    /// How to run it.
    pub driver: Driver,
}

impl Implementation {
    /// Whether it runs as tasks on a runtime.
    pub fn is_async(&self) -> bool {
        matches!(self.driver, Driver::Async { .. })
    }
}

struct Collect(Vec<Implementation>);

impl FlavorVisitor for Collect {
    fn visit_sync<F: SyncFlavor>(&mut self) {
        self.0.push(Implementation {
            name: F::INFO.name,
            library: F::INFO.library,
            info: Some(F::INFO),
            driver: Driver::Sync {
                pattern: run_sync::<F>,
                load: start_load_sync::<F>,
            },
        });
    }

    fn visit_async<F: AsyncFlavor>(&mut self) {
        self.0.push(Implementation {
            name: F::INFO.name,
            library: F::INFO.library,
            info: Some(F::INFO),
            driver: Driver::Async {
                pattern: run_async::<F>,
                load: start_load_async::<F>,
            },
        });
    }
}

/// The crate a primitive comes from.
fn primitive_library(primitive: Primitive) -> &'static str {
    match primitive {
        Primitive::Chanlab => "chanlab",
        Primitive::TokioSemaphore | Primitive::TokioMutex | Primitive::TokioRwLock => "tokio",
        Primitive::StdMutex | Primitive::StdRwLock | Primitive::Atomics => "std",
        Primitive::ParkingLotMutex | Primitive::ParkingLotRwLock => "parking_lot",
    }
}

/// Every shipped flavor and every primitive; with `include_broken`, the
/// broken twins too.
pub fn all(include_broken: bool) -> Vec<Implementation> {
    let mut collect = Collect(Vec::new());
    chanlab_impls::visit_all(&mut collect);
    if include_broken {
        chanlab_broken::visit_all(&mut collect);
    }
    collect
        .0
        .extend(Primitive::ALL.iter().map(|&primitive| Implementation {
            name: primitive.name(),
            library: primitive_library(primitive),
            info: None,
            driver: Driver::Primitive(primitive),
        }));
    collect.0
}

/// The implementation called `name`, broken twins included.
pub fn find(name: &str) -> anyhow::Result<Implementation> {
    let all = all(true);
    all.iter()
        .find(|implementation| implementation.name == name)
        .copied()
        .with_context(|| {
            let known: Vec<&str> = all.iter().map(|i| i.name).collect();
            format!(
                "unknown implementation {name:?}; known: {}",
                known.join(", ")
            )
        })
}
