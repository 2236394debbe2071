//! Rate limiters on a [`Clock`]: a [`TokenBucket`] with a burst, and a
//! fixed-interval [`ticker`] that delivers ticks on a channel, as Go's
//! `time.Ticker` does.

use std::future::Future;
use std::time::Duration;

use chanlab_contract::{
    AsyncFlavor, AsyncSender, Capacity, Sender, SyncFlavor, TrySendError, UnsupportedError,
};
use chanlab_sync::Mutex;

pub use chanlab_workload::{InvalidRate, MAX_INTERVAL, interval_of};

use super::{Clock, SharedClock, yield_now};

/// A token bucket: permits accrue one per `interval`, up to `burst` saved.
///
/// It is kept as the GCRA does, by the theoretical arrival time of the
/// next permit: a request at `now` is admitted when
/// `tat - now <= (burst - 1) * interval`, and then `tat` moves one interval
/// on from `max(tat, now)`. Over any window of length `w`, at most
/// `burst + w / interval` permits are admitted.
pub struct TokenBucket<C> {
    clock: C,
    interval: Duration,
    /// How far ahead of `now` the theoretical arrival time may run.
    tolerance: Duration,
    tat: Mutex<Duration>,
}

impl<C: Clock> TokenBucket<C> {
    /// A bucket of `per_second` permits per second with `burst` saved at
    /// most (and at the start).
    pub fn new(clock: C, per_second: f64, burst: u32) -> Result<Self, InvalidRate> {
        let interval = interval_of(per_second)?;
        if burst == 0 {
            return Err(InvalidRate("burst must be at least 1".into()));
        }
        let tolerance = interval.saturating_mul(burst - 1);
        let tat = clock.now();
        Ok(TokenBucket {
            clock,
            interval,
            tolerance,
            tat: Mutex::new(tat),
        })
    }

    /// Takes a permit if one is available now and returns the clock's time
    /// of the admission; otherwise says how long until one is. The clock is
    /// read under the bucket's lock, so admissions are ordered by time.
    pub fn try_acquire(&self) -> Result<Duration, Duration> {
        let mut tat = self.tat.lock();
        let now = self.clock.now();
        let earliest = tat.saturating_sub(self.tolerance);
        if now < earliest {
            return Err(earliest - now);
        }
        *tat = (*tat).max(now) + self.interval;
        Ok(now)
    }

    /// Takes a permit, sleeping on the clock until one is available, and
    /// returns the clock's time of the admission.
    pub fn acquire(&self) -> Duration {
        loop {
            match self.try_acquire() {
                Ok(admitted) => return admitted,
                Err(wait) => self.clock.sleep(wait),
            }
        }
    }

    /// [`acquire`](TokenBucket::acquire) for a task: sleeps with
    /// [`Clock::sleep_async`].
    pub async fn acquire_async(&self) -> Duration {
        loop {
            match self.try_acquire() {
                Ok(admitted) => return admitted,
                Err(wait) => self.clock.sleep_async(wait).await,
            }
        }
    }

    /// The time between two permits.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The bucket's clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }
}

/// Starts Go's `time.Ticker` on flavor `F`: a channel of capacity 1 that
/// gets a tick every `interval`, dropping ticks the receiver is not ready
/// for. Each tick carries the clock's time when it was sent.
///
/// Returns the ticking loop, for the caller's wait group to run on a thread, and
/// the receiver. The loop ends when the receiver is dropped, at its next
/// tick, and returns how many ticks it delivered.
pub fn ticker<F: SyncFlavor>(
    clock: SharedClock,
    interval: Duration,
) -> Result<(impl FnOnce() -> u64 + Send + 'static, F::Receiver<Duration>), UnsupportedError> {
    let (ticks, receiver) = F::channel::<Duration>(Capacity::Bounded(1))?;
    let run = move || {
        let mut sent = 0;
        loop {
            clock.sleep(interval);
            match ticks.try_send(clock.now()) {
                Ok(()) => sent += 1,
                Err(TrySendError::Full(_)) => {}
                Err(TrySendError::Disconnected(_)) => return sent,
            }
        }
    };
    Ok((run, receiver))
}

/// [`ticker`] for tasks, on async flavor `F`: the ticking loop is a future
/// for the caller to spawn, sleeping with [`Clock::sleep_async`]. It
/// yields after each tick, so it takes turns with the receiver even on a
/// clock whose sleeps return at once.
pub fn ticker_async<F: AsyncFlavor>(
    clock: SharedClock,
    interval: Duration,
) -> Result<
    (
        impl Future<Output = u64> + Send + 'static,
        F::Receiver<Duration>,
    ),
    UnsupportedError,
> {
    let (ticks, receiver) = F::channel::<Duration>(Capacity::Bounded(1))?;
    let run = async move {
        let mut sent = 0;
        loop {
            clock.sleep_async(interval).await;
            match ticks.try_send(clock.now()) {
                Ok(()) => sent += 1,
                Err(TrySendError::Full(_)) => {}
                Err(TrySendError::Disconnected(_)) => return sent,
            }
            yield_now().await;
        }
    };
    Ok((run, receiver))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::ManualClock;

    #[test]
    fn burst_then_one_per_interval() {
        let bucket = TokenBucket::new(ManualClock::new(), 10.0, 3).unwrap();
        for _ in 0..3 {
            assert_eq!(bucket.try_acquire(), Ok(Duration::ZERO));
        }
        assert_eq!(bucket.try_acquire(), Err(Duration::from_millis(100)));
        bucket.clock().advance(Duration::from_millis(100));
        assert_eq!(bucket.try_acquire(), Ok(Duration::from_millis(100)));
        assert_eq!(bucket.try_acquire(), Err(Duration::from_millis(100)));
        bucket.clock().advance(Duration::from_secs(10));
        for _ in 0..3 {
            assert!(
                bucket.try_acquire().is_ok(),
                "idle time saves up to the burst"
            );
        }
        assert!(bucket.try_acquire().is_err());
    }

    #[test]
    fn acquire_sleeps_on_the_clock_until_a_permit_is_due() {
        let bucket = TokenBucket::new(ManualClock::new(), 10.0, 1).unwrap();
        assert_eq!(bucket.interval(), Duration::from_millis(100));
        assert_eq!(bucket.acquire(), Duration::ZERO);
        assert_eq!(bucket.acquire(), Duration::from_millis(100));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        assert_eq!(
            runtime.block_on(bucket.acquire_async()),
            Duration::from_millis(200)
        );
    }

    #[test]
    fn a_ticker_returns_how_many_ticks_it_delivered() {
        use chanlab_contract::{AsyncReceiver, Receiver};
        let interval = Duration::from_millis(10);
        let (run, mut ticks) =
            ticker::<chanlab_impls::Reference>(std::sync::Arc::new(ManualClock::new()), interval)
                .unwrap();
        let ticking = std::thread::spawn(run);
        for _ in 0..3 {
            ticks.recv().expect("a tick");
        }
        drop(ticks);
        let sent = ticking.join().expect("the ticker ends with its receiver");
        assert!(sent >= 3, "{sent} ticks delivered, 3 received");

        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let sent = runtime.block_on(async {
            let (run, mut ticks) = ticker_async::<chanlab_impls::AsyncReference>(
                std::sync::Arc::new(ManualClock::new()),
                interval,
            )
            .unwrap();
            let ticking = tokio::spawn(run);
            for _ in 0..3 {
                ticks.recv().await.expect("a tick");
            }
            drop(ticks);
            ticking.await.expect("the ticker ends with its receiver")
        });
        assert!(sent >= 3, "{sent} ticks delivered, 3 received");
    }

    #[test]
    fn zero_or_silly_rates_are_refused() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300, 0.5] {
            assert!(
                TokenBucket::new(ManualClock::new(), rate, 1).is_err(),
                "{rate}"
            );
        }
        assert!(TokenBucket::new(ManualClock::new(), 1.0, 0).is_err());
    }
}
