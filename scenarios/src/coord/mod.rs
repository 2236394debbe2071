//! The coordination primitives under the patterns, written on the
//! `chanlab-sync` facade so loom checks the same code: a wait group
//! ([`Crew`]), cancellation ([`CancelToken`]), an error group, a semaphore,
//! a singleflight table, rate limiters, a resource pool and a supervisor.
//! Logic that depends on time takes a [`Clock`].

mod cancel;
mod clock;
mod crew;
mod errgroup;
mod pool;
mod rate;
mod semaphore;
mod singleflight;
mod supervisor;

pub use cancel::{CancelReason, CancelToken, DropGuard};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use crew::{Crew, panic_message};
pub use errgroup::ErrGroup;
pub use pool::{AcquireTimeout, Pool, Pooled};
pub use rate::{InvalidRate, MAX_INTERVAL, TokenBucket, interval_of, ticker};
pub use semaphore::{Permit, Semaphore};
pub use singleflight::{Flight, Singleflight};
pub use supervisor::{Exit, Report, RestartPolicy, Supervisor};
