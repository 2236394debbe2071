//! Workload parameters shared by every pattern, and their validation.

use std::time::Duration;

use chanlab_contract::Capacity;
use serde::{Deserialize, Serialize};

use crate::{ParamError, Pattern, rate};

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
    pub fn validate(&self, pattern: Pattern) -> Result<(), ParamError> {
        let threads = format!(" for {pattern} (each is a thread)");
        let (most_items, why) = pattern.most_items();
        count_within(
            "items",
            self.items,
            most_items,
            &format!(" for {pattern}{why}"),
        )?;
        count_within("workers", self.workers, MAX_THREADS, &threads)?;
        count_within("producers", self.producers, MAX_THREADS, &threads)?;
        capacity_within(self.capacity)?;
        if self.payload > MAX_PAYLOAD {
            return Err(ParamError::new(
                "payload",
                self.payload,
                format!("at most {MAX_PAYLOAD} bytes per message"),
            ));
        }
        if self.work > MAX_WORK {
            return Err(ParamError::new(
                "work",
                format!("{:?}", self.work),
                format!("at most {MAX_WORK:?} per item"),
            ));
        }
        if pattern == Pattern::RateLimit {
            rate::interval_of(self.rate).map_err(|err| rate_error(self.rate, &err))?;
            if self.burst == 0 {
                return Err(ParamError::new("burst", self.burst, "at least 1"));
            }
        }
        Ok(())
    }
}

/// How many of `total` items part `part` of `parts` takes: the first
/// `total % parts` parts take one more. Every pattern and every load splits
/// its items this way.
pub fn share(total: usize, parts: usize, part: usize) -> usize {
    total / parts + usize::from(part < total % parts)
}

/// Refuses a count of `field` outside `1..=max`; `note` ends the
/// requirement (why the limit, or whose).
pub fn count_within(
    field: &'static str,
    value: usize,
    max: usize,
    note: &str,
) -> Result<(), ParamError> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(ParamError::new(
            field,
            value,
            format!("between 1 and {max}{note}"),
        ))
    }
}

/// Refuses a bounded capacity over [`MAX_CAPACITY`].
pub fn capacity_within(capacity: Capacity) -> Result<(), ParamError> {
    match capacity {
        Capacity::Bounded(bound) if bound > MAX_CAPACITY => Err(ParamError::new(
            "capacity",
            bound,
            format!("at most {MAX_CAPACITY} (or unbounded)"),
        )),
        _ => Ok(()),
    }
}

/// The error for a rate limit no limiter can keep, saying which limit it
/// breaks.
pub fn rate_error(rate: f64, err: &rate::InvalidRate) -> ParamError {
    ParamError::new(
        "rate",
        rate,
        format!(
            "a positive number of permits per second, at least one per {:?}, that can be timed ({err})",
            rate::MAX_INTERVAL
        ),
    )
}
