//! What a scenario run returns: its outcome, or the reason it failed.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{ParamError, Pattern, Primitive, Runtime};

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
    InvalidParams(ParamError),
    /// The implementation cannot run this workload; nothing was started.
    #[error("not applicable: {0}")]
    NotApplicable(Refusal),
    /// The run finished but its outcome is wrong.
    #[error("oracle failed: {0}")]
    Oracle(String),
    /// A thread or task of the pattern panicked.
    #[error("a thread or task panicked: {0}")]
    Panicked(String),
}

/// Why an implementation cannot run a workload: a capability it lacks, or a
/// pairing of workload and implementation that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The flavor does not offer the channel's capacity.
    #[error(transparent)]
    Capacity(#[from] chanlab_contract::UnsupportedError),
    /// Several consumers share one receiver, and the flavor's receiver is
    /// single-consumer.
    #[error("{flavor} has no multi-consumer receiver, and {needs}")]
    NoMultiConsumer {
        /// The flavor.
        flavor: &'static str,
        /// Why the workload needs one.
        needs: String,
    },
    /// The flavor declared a multi-consumer receiver, but cloning it gave
    /// none.
    #[error("{flavor} declared a multi-consumer receiver, but it did not clone")]
    CloneRefused {
        /// The flavor.
        flavor: &'static str,
    },
    /// The pattern selects, and the flavor declares no select (an async
    /// flavor: no cancel-safe receive).
    #[error("{flavor} does not declare a select (for an async flavor: a cancel-safe receive)")]
    NoSelect {
        /// The flavor.
        flavor: &'static str,
    },
    /// Pub/sub's drop-oldest policy on a rendezvous channel: there is no
    /// buffer to drop from.
    #[error("drop-oldest needs a buffer to drop from, and this one is rendezvous")]
    NoBufferToDropFrom,
    /// The pattern runs only on threads.
    #[error("{pattern} has no async version; it runs on blocking flavors{}", if pattern.uses_channels() { "" } else { " or its primitives" })]
    NoAsyncVersion {
        /// The pattern.
        pattern: Pattern,
    },
    /// The pattern runs only on the primitives it compares.
    #[error("{pattern} uses no channel; it runs on the primitives it compares")]
    UsesNoChannel {
        /// The pattern.
        pattern: Pattern,
    },
    /// The pattern does not compare this primitive.
    #[error("{pattern} does not run on {primitive}")]
    NotOnPrimitive {
        /// The pattern.
        pattern: Pattern,
        /// The primitive it was asked to run on.
        primitive: Primitive,
    },
    /// A bridge carries channel loads only; patterns run on a flavor.
    #[error("{implementation} is a bridge: it carries channel loads, not patterns")]
    LoadsOnly {
        /// The bridge.
        implementation: String,
    },
    /// A channel load on something that is not a channel.
    #[error("{implementation} is not a channel")]
    NotAChannel {
        /// The primitive.
        implementation: String,
    },
    /// The implementation runs in a worker of its own (the Go reference),
    /// not in this process.
    #[error("{implementation} runs in its own worker")]
    OwnWorker {
        /// The implementation.
        implementation: String,
    },
    /// A tokio runtime could not be built.
    #[error("cannot build a {runtime} runtime: {error}")]
    RuntimeUnavailable {
        /// The runtime asked for.
        runtime: Runtime,
        /// Why tokio refused.
        error: String,
    },
}

impl Refusal {
    /// The error for `pattern` asked to run on a `primitive` it does not
    /// compare.
    pub fn not_on(pattern: Pattern, primitive: Primitive) -> ScenarioError {
        ScenarioError::NotApplicable(Refusal::NotOnPrimitive { pattern, primitive })
    }

    /// A short stable name for the kind of refusal, to group refusals by in
    /// results and reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Refusal::Capacity(_) => "capacity-not-supported",
            Refusal::NoMultiConsumer { .. } | Refusal::CloneRefused { .. } => "no-multi-consumer",
            Refusal::NoSelect { .. } => "no-select",
            Refusal::NoBufferToDropFrom => "no-buffer",
            Refusal::NoAsyncVersion { .. } => "no-async-version",
            Refusal::UsesNoChannel { .. } => "uses-no-channel",
            Refusal::NotOnPrimitive { .. } => "not-on-primitive",
            Refusal::LoadsOnly { .. } => "loads-only",
            Refusal::NotAChannel { .. } => "not-a-channel",
            Refusal::OwnWorker { .. } => "own-worker",
            Refusal::RuntimeUnavailable { .. } => "runtime-unavailable",
        }
    }
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
        ScenarioError::NotApplicable(Refusal::Capacity(err))
    }
}

impl From<ParamError> for ScenarioError {
    fn from(err: ParamError) -> Self {
        ScenarioError::InvalidParams(err)
    }
}
