//! The coordination primitives under the patterns, written on the
//! `chanlab-sync` facade so loom checks the same code: a wait group
//! ([`WaitGroup`]), cancellation ([`CancelToken`]), an error group, a semaphore,
//! a singleflight table, rate limiters, a resource pool and a supervisor.
//! Logic that depends on time takes a [`Clock`].

mod cancel;
mod clock;
mod errgroup;
mod pool;
mod rate;
mod semaphore;
mod singleflight;
mod supervisor;
mod wait_group;

pub use cancel::{CancelReason, CancelToken, DropGuard};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use errgroup::ErrGroup;
pub use pool::{AcquireTimeout, Pool, Pooled};
pub use rate::{InvalidRate, MAX_INTERVAL, TokenBucket, interval_of, ticker};
pub use semaphore::{Permit, Semaphore};
pub use singleflight::{Flight, Singleflight};
pub use supervisor::{Exit, RestartPolicy, Supervisor, SupervisorReport};
pub use wait_group::{WaitGroup, panic_message};
