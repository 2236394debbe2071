//! The time between two permits of a rate limit, and the rates no limiter
//! can keep.

use std::time::Duration;

/// The rate was not a positive, finite number of permits per second, or
/// the burst was zero.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid rate limit: {0}")]
pub struct InvalidRate(pub String);

/// The longest time between two permits: a ticker notices that nobody
/// listens any more only when it next ticks.
pub const MAX_INTERVAL: Duration = Duration::from_secs(1);

/// The time between two permits at `per_second` permits per second.
pub fn interval_of(per_second: f64) -> Result<Duration, InvalidRate> {
    if !(per_second.is_finite() && per_second > 0.0) {
        return Err(InvalidRate(format!(
            "{per_second} is not a positive number of permits per second"
        )));
    }
    if per_second > crate::MOST_RATE {
        return Err(InvalidRate(format!(
            "{per_second} per second is too fast: at most {:e}",
            crate::MOST_RATE
        )));
    }
    match Duration::try_from_secs_f64(1.0 / per_second) {
        Ok(interval) if interval > MAX_INTERVAL => Err(InvalidRate(format!(
            "{per_second} per second is too slow: at least one permit per {MAX_INTERVAL:?}"
        ))),
        Ok(interval) if !interval.is_zero() => Ok(interval),
        _ => Err(InvalidRate(format!(
            "{per_second} per second is too fast to time"
        ))),
    }
}
