//! Flavors from outside chanlab: [`Runner`] adds a user's flavors and
//! bridges to the registry before the command runs, so every subcommand
//! (`list`, `conformance`, `run`, `ab`) sees them beside the shipped ones.
//!
//! The registry is visited by two collectors (the runner's implementations
//! and the conformance suites), each generic over the flavor; an extra
//! flavor is kept as the two monomorphized visits, set once per process.
//! Worker processes are this same binary, so they register the same extras.

use std::process::ExitCode;
use std::sync::OnceLock;

use anyhow::bail;
use chanlab_contract::{AsyncFlavor, Bridge, BridgeVisitor, FlavorVisitor, SyncFlavor};

use crate::runner::implementations;
use crate::suites;

/// The `chanlab` command with flavors of your own beside the ones chanlab
/// ships. Build it in your crate's runner binary and call [`Runner::main`]:
///
/// ```no_run
/// # use chanlab_contract::SyncFlavor;
/// # fn demo<MyChannel: SyncFlavor>() -> std::process::ExitCode {
/// chanlab::Runner::new().sync_flavor::<MyChannel>().main()
/// # }
/// ```
///
/// Your flavors are then checked by `chanlab conformance`, measured by
/// `chanlab run` (in the default profiles, or alone with `--impl NAME`) and
/// recorded in the same results file, report and `compare`. A name may not
/// repeat a shipped implementation's. The library's version is read from
/// the `Cargo.lock` of the workspace that builds the runner.
///
/// chanlab installs a counting global allocator (for the allocations per
/// item it reports), so the binary must not declare one of its own.
#[derive(Default)]
pub struct Runner {
    extras: Vec<Extra>,
}

/// One added flavor or bridge, as the visit each collector makes.
#[derive(Clone, Copy)]
pub(crate) struct Extra {
    /// Adds it to the runner's implementations.
    pub implementations: fn(&mut implementations::Collect),
    /// Adds its conformance suites.
    pub suites: fn(&mut suites::Collect),
}

static EXTRAS: OnceLock<Vec<Extra>> = OnceLock::new();

/// The flavors and bridges this process's [`Runner`] added.
pub(crate) fn extras() -> &'static [Extra] {
    EXTRAS.get().map_or(&[], Vec::as_slice)
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

impl Runner {
    /// The command with the shipped implementations only.
    pub fn new() -> Runner {
        Runner::default()
    }

    /// Adds a blocking flavor.
    pub fn sync_flavor<F: SyncFlavor>(mut self) -> Runner {
        self.extras.push(Extra {
            implementations: visit_sync::<F, implementations::Collect>,
            suites: visit_sync::<F, suites::Collect>,
        });
        self
    }

    /// Adds an async flavor: measured as tasks, checked by the async suite
    /// and by the blocking suite through its blocking view.
    pub fn async_flavor<F: AsyncFlavor>(mut self) -> Runner {
        self.extras.push(Extra {
            implementations: visit_async::<F, implementations::Collect>,
            suites: visit_async::<F, suites::Collect>,
        });
        self
    }

    /// Adds a bridge (a blocking and an async end over one channel):
    /// measured from threads to tasks and back, checked by the mixed suite.
    /// Its two flavors are added on their own with
    /// [`sync_flavor`](Runner::sync_flavor) and
    /// [`async_flavor`](Runner::async_flavor).
    pub fn bridge<B: Bridge>(mut self) -> Runner {
        self.extras.push(Extra {
            implementations: visit_bridge::<B, implementations::Collect>,
            suites: visit_bridge::<B, suites::Collect>,
        });
        self
    }

    /// Runs the command line of this process with the added flavors and
    /// returns its exit code: 0 on success, 1 when a check or a cell
    /// failed, 2 on an error (printed).
    pub fn main(self) -> ExitCode {
        if let Err(err) = self.register() {
            return crate::exit_with(&err);
        }
        crate::main()
    }

    /// Makes the extras this process's registry, refusing a name that is
    /// already taken.
    fn register(self) -> anyhow::Result<()> {
        let shipped = implementations::all(true);
        let mut added = implementations::Collect::default();
        for extra in &self.extras {
            (extra.implementations)(&mut added);
        }
        let mut seen: Vec<&str> = shipped.iter().map(|i| i.name.as_str()).collect();
        for implementation in &added.0 {
            if seen.contains(&implementation.name.as_str()) {
                bail!(
                    "the added implementation {:?} has the name of another; give its \
                     FlavorInfo a name of its own (`chanlab list --broken` shows the names taken)",
                    implementation.name
                );
            }
            seen.push(&implementation.name);
        }
        if EXTRAS.set(self.extras).is_err() {
            bail!("chanlab::Runner::main was called twice in one process");
        }
        Ok(())
    }
}
