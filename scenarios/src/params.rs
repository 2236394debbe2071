//! Workload parameters shared by every scenario, and their validation.

use std::time::Duration;

use chanlab_contract::Capacity;
use serde::{Deserialize, Serialize};

use crate::{Pattern, ScenarioError};

/// Most items in one run: oracles keep a record of every item.
pub const MAX_ITEMS: usize = 1 << 26;
/// Largest bounded capacity: some libraries allocate the whole buffer up
/// front.
pub const MAX_CAPACITY: usize = 1 << 20;
/// Most workers, and most producers, in one run: each is a thread.
pub const MAX_THREADS: usize = 1024;
/// Largest payload per message.
pub const MAX_PAYLOAD: usize = 1 << 20;
/// Longest simulated work per item.
pub const MAX_WORK: Duration = Duration::from_secs(1);

/// The workload of one scenario run. Each pattern documents the fields it
/// reads; the rest are ignored. [`Params::default`] is a quick run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Messages, jobs or requests in the run.
    pub items: usize,
    /// Threads or tasks that produce (sources, publishers, callers' groups).
    pub producers: usize,
    /// Threads or tasks that consume (workers, consumers, subscribers).
    pub workers: usize,
    /// Capacity of the pattern's channels.
    pub capacity: Capacity,
    /// Bytes of payload carried with each message where the pattern sends a
    /// body (producer-consumer); 0 sends bare ids.
    pub payload: usize,
    /// Simulated work per item: a busy loop of this length.
    pub work: Duration,
    /// Rate limit in permits per second (rate limiting only).
    pub rate: f64,
    /// Permits a token bucket may hand out at once (rate limiting only).
    pub burst: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            items: 1_000,
            producers: 2,
            workers: 2,
            capacity: Capacity::Bounded(16),
            payload: 0,
            work: Duration::ZERO,
            rate: 20_000.0,
            burst: 8,
        }
    }
}

impl Params {
    /// Rejects parameters `pattern` cannot run with, before anything starts.
    pub fn validate(&self, pattern: Pattern) -> Result<(), ScenarioError> {
        let invalid = |reason: String| Err(ScenarioError::InvalidParams(reason));
        if self.items == 0 {
            return invalid("items must be at least 1".into());
        }
        if self.workers == 0 {
            return invalid(format!("{pattern} needs at least one worker (workers = 0)"));
        }
        if self.producers == 0 {
            return invalid(format!(
                "{pattern} needs at least one producer (producers = 0)"
            ));
        }
        if self.items > MAX_ITEMS {
            return invalid(format!(
                "at most {MAX_ITEMS} items per run, not {}",
                self.items
            ));
        }
        if let Capacity::Bounded(capacity) = self.capacity
            && capacity > MAX_CAPACITY
        {
            return invalid(format!(
                "capacity must be at most {MAX_CAPACITY} (or unbounded), not {capacity}"
            ));
        }
        if self.workers > MAX_THREADS || self.producers > MAX_THREADS {
            return invalid(format!(
                "at most {MAX_THREADS} workers and {MAX_THREADS} producers (each is a thread), not {} and {}",
                self.workers, self.producers
            ));
        }
        if self.payload > MAX_PAYLOAD {
            return invalid(format!(
                "payload must be at most {MAX_PAYLOAD} bytes per message, not {}",
                self.payload
            ));
        }
        if self.work > MAX_WORK {
            return invalid(format!(
                "work must be at most {MAX_WORK:?} per item, not {:?}",
                self.work
            ));
        }
        if pattern == Pattern::RateLimit {
            if let Err(err) = crate::coord::interval_of(self.rate) {
                return invalid(err.to_string());
            }
            if self.burst == 0 {
                return invalid("burst must be at least 1".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
impl Params {
    /// A small run for unit tests: `items` items through bounded(4)
    /// channels, the other fields at their defaults.
    pub(crate) fn small(items: usize) -> Params {
        Params {
            items,
            capacity: Capacity::Bounded(4),
            ..Params::default()
        }
    }
}
