//! Time as a dependency. Code whose logic depends on time (deadlines, rate
//! limits, backoff) takes a [`Clock`], so tests and loom models run it on a
//! [`ManualClock`] deterministically, and real runs use [`SystemClock`].

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use chanlab_sync::Mutex;

use super::yield_now;

/// The resolution of tokio's timer.
const TIMER_TICK: Duration = Duration::from_millis(1);

/// A task's wait on a [`Clock`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A clock shared between threads. It is `std`'s `Arc` even under loom:
/// loom's `Arc` cannot hold a trait object, and a clock's reference count is
/// not synchronization chanlab needs checked.
pub type SharedClock = std::sync::Arc<dyn Clock>; // tidy: std::sync allowed (see above)

/// A source of time: elapsed time since the clock's origin, and a way to
/// wait.
pub trait Clock: Send + Sync + 'static {
    /// Time since the clock's origin.
    fn now(&self) -> Duration;
    /// Waits for `duration` of this clock's time, blocking the thread.
    fn sleep(&self, duration: Duration);
    /// Waits for `duration` of this clock's time, as a task.
    fn sleep_async(&self, duration: Duration) -> Sleep;
}

/// Real time, from the moment the clock was made.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }

    /// On tokio's timer for whole milliseconds, its resolution, then
    /// yielding until the deadline: a wait shorter than the timer's tick
    /// keeps its length, at the cost of the polls, instead of stretching
    /// to the next tick.
    fn sleep_async(&self, duration: Duration) -> Sleep {
        let Some(deadline) = Instant::now().checked_add(duration) else {
            return Box::pin(tokio::time::sleep(duration));
        };
        Box::pin(async move {
            if let Some(coarse) = duration.checked_sub(TIMER_TICK) {
                tokio::time::sleep(coarse).await;
            }
            while Instant::now() < deadline {
                yield_now().await;
            }
        })
    }
}

/// Virtual time that moves only when told: [`ManualClock::advance`], or a
/// [`Clock::sleep`] or [`Clock::sleep_async`], which advance it by the time
/// slept and return at once, so it needs no runtime's timer.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Duration>,
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        ManualClock {
            now: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves the clock forward by `duration`.
    pub fn advance(&self, duration: Duration) {
        *self.now.lock() += duration;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        *self.now.lock()
    }

    fn sleep(&self, duration: Duration) {
        self.advance(duration);
    }

    fn sleep_async(&self, duration: Duration) -> Sleep {
        self.advance(duration);
        Box::pin(std::future::ready(()))
    }
}
