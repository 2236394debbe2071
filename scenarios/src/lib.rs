//! The Go concurrency patterns, each written once over chanlab's contract
//! and run on every implementation whose capabilities allow it.
//!
//! A *scenario* is a [`Pattern`] with workload [`Params`] (both plain data,
//! from `chanlab-workload`, which the results schema reads too). Running one
//! returns an [`Outcome`] only after the pattern's oracle has checked the
//! run: every job done exactly once, order kept where the pattern promises
//! it, and every thread or task it started seen to end. A run that cannot
//! happen (bad parameters, a capability the implementation lacks) is refused
//! with a [`ScenarioError`] before anything starts.
//!
//! Three entry points, by what a pattern runs on:
//! - [`run_sync`]: a blocking flavor, on threads;
//! - [`run_async`]: an async flavor, on a tokio [`Runtime`];
//! - [`run_primitive`]: patterns about a lock or a coordination primitive
//!   rather than a channel, on each [`Primitive`] they compare.
//!
//! The coordination primitives under the patterns live in [`coord`], on the
//! `chanlab-sync` facade, so loom checks the same code.

pub mod coord;
pub mod load;
pub mod operations;
mod oracle;
mod outcome;
mod pattern;
pub mod patterns;
mod runtime;
pub mod watch;

pub use chanlab_workload::{
    MAX_CAPACITY, MAX_ITEMS, ParamError, Params, Pattern, Primitive, Runtime, World,
};
pub use outcome::{Outcome, Refusal, ScenarioError};
pub use pattern::{run_async, run_primitive, run_sync};

/// A small run for unit tests: `items` items through bounded(4) channels,
/// the other fields at their defaults.
#[cfg(test)]
pub(crate) fn small_params(items: usize) -> Params {
    Params {
        items,
        capacity: chanlab_contract::Capacity::Bounded(4),
        ..Params::default()
    }
}
