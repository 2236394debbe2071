//! What the parent run and a worker process say to each other: a [`Job`]
//! on the command line, a [`Reply`] as JSON on stdout. The Go worker
//! answers in the same shape. This module imports nothing else of the
//! runner's, so every other module may use it.

use chanlab_report::schema::{Cell, PlacementPolicy, Repetition};
use chanlab_scenarios::operations::Operation;
use serde::{Deserialize, Serialize};

/// What the parent asks a worker process to do. Sizing is the parent's
/// (`runner::sizing`): its probes are measure jobs too, so a worker only
/// ever measures.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "kebab-case")]
pub enum Job {
    /// Run a tenth of `items` once to warm up, then `items` once measured.
    Measure {
        /// The cell.
        cell: Cell,
        /// Items in the measured run.
        items: usize,
        /// The regression gate's broken twin: the worker spins for this
        /// fraction of each run's time and counts it in, a slowdown of
        /// known size (`chanlab ab --plant-slowdown`). Zero in every real
        /// run, and then not sent, so a worker of an older build reads the
        /// job unchanged.
        #[serde(default, skip_serializing_if = "is_zero")]
        planted_slowdown: f64,
        /// How to place the measured threads on cores. A worker of an
        /// older build ignores it and leaves them to the OS, which its
        /// repetitions then say by saying nothing of placement.
        #[serde(default)]
        placement: PlacementPolicy,
    },
    /// Run each operation path of `operations` on `implementation`, once
    /// to warm up and once inside the function valgrind counts, `repeat`
    /// times each ([`chanlab_scenarios::operations`]). The worker runs
    /// under valgrind; the counts are in valgrind's files, not the reply.
    Count {
        /// The implementation, a blocking or async flavor.
        implementation: String,
        /// The paths, in the order counted.
        operations: Vec<Operation>,
        /// Times each path runs in its counted call.
        repeat: usize,
    },
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

impl Job {
    /// The implementation the job runs on.
    pub fn implementation(&self) -> &str {
        match self {
            Job::Measure { cell, .. } => &cell.implementation,
            Job::Count { implementation, .. } => implementation,
        }
    }
}

/// What a worker process answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "kebab-case")]
pub enum Reply {
    /// One measured repetition.
    Measured(Box<Repetition>),
    /// The cell cannot run here: a capability is missing or the parameters
    /// do not apply. Nothing was started.
    Refused {
        /// Why, naming the capability or parameter.
        reason: String,
        /// The kind of refusal ([`Refusal::kind`], or [`INVALID_PARAMS`]),
        /// to group refusals by.
        kind: String,
    },
    /// The run went wrong: its oracle failed or a thread panicked.
    Failed {
        /// What the oracle or the panic said.
        reason: String,
    },
    /// A count job's operations, in order: `None` for each counted, the
    /// reason for each that could not be.
    Counted {
        /// Per operation, why it was not counted.
        refused: Vec<Option<String>>,
    },
}

/// The kind of a refusal for parameters out of range.
pub const INVALID_PARAMS: &str = "invalid-params";
