//! What a scenario run returns: its outcome, or the reason it failed.

use std::collections::BTreeMap;

use serde::Serialize;

/// A run whose oracle held.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Items that went through the pattern (jobs done, messages delivered):
    /// the numerator of its throughput.
    pub items: u64,
    /// Threads or tasks the pattern started; every one was seen to end.
    pub threads: usize,
    /// Pattern-specific counts worth reporting (messages dropped by a slow
    /// subscriber policy, restarts, executions shared by singleflight, ...).
    pub counters: BTreeMap<&'static str, u64>,
}

impl Outcome {
    /// An outcome of `items` items over `threads` threads, with no counters.
    pub fn new(items: u64, threads: usize) -> Self {
        Outcome {
            items,
            threads,
            counters: BTreeMap::new(),
        }
    }

    /// Adds a named count.
    pub fn with(mut self, name: &'static str, value: u64) -> Self {
        self.counters.insert(name, value);
        self
    }
}

/// Why a scenario did not produce an [`Outcome`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The parameters were rejected before anything started.
    #[error("invalid parameters: {0}")]
    InvalidParams(String),
    /// The implementation lacks a capability the pattern needs (the reason
    /// names it); nothing was started.
    #[error("not applicable: {0}")]
    NotApplicable(String),
    /// The run finished but its outcome is wrong.
    #[error("oracle failed: {0}")]
    Oracle(String),
    /// A thread or task of the pattern panicked.
    #[error("a thread or task panicked: {0}")]
    Panicked(String),
}

/// Fails with [`ScenarioError::Oracle`] unless `holds`.
pub(crate) fn ensure(holds: bool, what: impl FnOnce() -> String) -> Result<(), ScenarioError> {
    if holds {
        Ok(())
    } else {
        Err(ScenarioError::Oracle(what()))
    }
}

impl From<chanlab_contract::UnsupportedError> for ScenarioError {
    fn from(err: chanlab_contract::UnsupportedError) -> Self {
        ScenarioError::NotApplicable(err.to_string())
    }
}
