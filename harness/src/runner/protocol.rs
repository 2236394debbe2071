//! What the parent run and a worker process say to each other: a [`Job`]
//! on the command line, a [`Reply`] as JSON on stdout. The Go worker
//! answers in the same shape. This module imports nothing else of the
//! runner's, so every other module may use it.

use chanlab_report::schema::{Cell, Repetition};
use serde::{Deserialize, Serialize};

/// What the parent asks a worker process to do.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "kebab-case")]
pub enum Job {
    /// Find how many items make one run last about `budget_ms`.
    Size {
        /// The cell.
        cell: Cell,
        /// Target length of one measured run.
        budget_ms: u64,
    },
    /// Run `items` once to warm up (a tenth of them), then once measured.
    Measure {
        /// The cell.
        cell: Cell,
        /// Items in the measured run.
        items: usize,
    },
}

impl Job {
    /// The cell the job is about.
    pub fn cell(&self) -> &Cell {
        match self {
            Job::Size { cell, .. } | Job::Measure { cell, .. } => cell,
        }
    }
}

/// What a worker process answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "kebab-case")]
pub enum Reply {
    /// Items for a run of about the budget, and the time per item seen.
    Sized {
        /// Items per measured run.
        items: usize,
        /// Nanoseconds per item in the largest sizing run.
        ns_per_item: f64,
    },
    /// One measured repetition.
    Measured(Repetition),
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
}

/// The kind of a refusal for parameters out of range.
pub const INVALID_PARAMS: &str = "invalid-params";
