//! `governor`'s direct rate limiter as the pattern's token bucket for
//! tasks: the same rate and burst as chanlab's bucket, awaited with
//! `until_ready`.

use std::cell::Cell;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use ::governor::clock::{Clock, ReasonablyRealtime};
use ::governor::{Quota, RateLimiter};
use tokio::task::JoinSet;

use super::{admissions_within, share};
use crate::coord::interval_of;
use crate::patterns::join_tasks;
use crate::{Outcome, ParamError, Params, ScenarioError};
use chanlab_workload::rate_error;

thread_local! {
    /// The last time [`Recording`] gave out on this thread.
    static LAST_READ: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// std's monotonic clock, recording on each thread the last time it gave
/// out. The limiter reads the clock once per check and returns from
/// `until_ready` right after a check admits, with no await between, so
/// the thread's last reading is the admission's time.
#[derive(Debug, Clone, Copy)]
struct Recording;

impl Clock for Recording {
    type Instant = Instant;

    fn now(&self) -> Instant {
        let now = Instant::now();
        LAST_READ.with(|last| last.set(Some(now)));
        now
    }
}

impl ReasonablyRealtime for Recording {}

/// `workers` tasks share `items` admissions from one limiter.
pub(super) async fn run(params: &Params) -> Result<Outcome, ScenarioError> {
    run_granting(params, params.burst).await
}

/// [`run`] on a limiter that grants a burst of `granted`, checked against
/// the burst `params` promise.
async fn run_granting(params: &Params, granted: u32) -> Result<Outcome, ScenarioError> {
    let interval = interval_of(params.rate).map_err(|err| rate_error(params.rate, &err))?;
    let burst = NonZeroU32::new(granted)
        .ok_or_else(|| ParamError::new("burst", params.burst, "at least 1"))?;
    let quota = Quota::with_period(interval)
        .ok_or_else(|| ParamError::new("rate", params.rate, "a period governor accepts"))?
        .allow_burst(burst);
    let limiter = Arc::new(RateLimiter::direct_with_clock(quota, Recording));
    let origin = Instant::now();
    let mut tasks = JoinSet::new();
    for worker in 0..params.workers {
        let limiter = Arc::clone(&limiter);
        let requests = share(params.items, params.workers, worker);
        tasks.spawn(async move {
            let mut admitted = Vec::with_capacity(requests);
            for _ in 0..requests {
                limiter.until_ready().await;
                let at = LAST_READ.with(Cell::get).unwrap_or_else(Instant::now);
                admitted.push(at.saturating_duration_since(origin));
            }
            admitted
        });
    }
    let admitted = join_tasks(tasks).await?.into_iter().flatten().collect();
    admissions_within(
        admitted,
        interval,
        params.burst,
        params.workers,
        params.items,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Runtime;
    use crate::runtime::RuntimeExt;

    #[test]
    fn a_limiter_granting_more_than_promised_is_caught() {
        let params = Params {
            items: 200,
            rate: 20_000.0,
            burst: 4,
            workers: 3,
            ..Params::default()
        };
        for runtime in Runtime::ALL {
            let caught = runtime.block_on(run_granting(&params, 12));
            assert!(
                matches!(caught, Err(ScenarioError::Oracle(_))),
                "{caught:?}"
            );
        }
    }
}
