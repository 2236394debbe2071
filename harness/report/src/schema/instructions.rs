//! Instructions per operation, counted under valgrind: the deterministic
//! tier beside the timed figures.

use chanlab_workload::Operation;
use serde::{Deserialize, Serialize};

/// What a run counted, or why it counted nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Instructions {
    /// Counted under valgrind.
    Counted {
        /// The counter: `valgrind-3.19.0 (callgrind)`.
        tool: String,
        /// Times each path ran in its counted call.
        repeat: usize,
        /// One per implementation and operation path, in the order
        /// counted.
        counts: Vec<InstructionCount>,
    },
    /// Nothing was counted, and why (valgrind absent, or not asked for).
    NotCounted {
        /// Why.
        reason: String,
    },
}

/// One operation path on one implementation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstructionCount {
    /// The implementation (a baseline build's with its suffix).
    pub implementation: String,
    /// The path.
    pub operation: Operation,
    /// Instructions per operation (a send/receive pair counts as one);
    /// `None` when it was not counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_operation: Option<f64>,
    /// Why it was not counted: the flavor cannot do it alone, or the
    /// worker failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

impl Instructions {
    /// The counts, none when nothing was counted.
    pub fn counts(&self) -> &[InstructionCount] {
        match self {
            Instructions::Counted { counts, .. } => counts,
            Instructions::NotCounted { .. } => &[],
        }
    }
}
