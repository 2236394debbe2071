//! The coordination primitives under the patterns, written on the
//! `chanlab-sync` facade so loom checks the same code: a wait group
//! ([`WaitGroup`]), cancellation ([`CancelToken`]), an error group, a semaphore,
//! a singleflight table, rate limiters, a resource pool and a supervisor.
//! Logic that depends on time takes a [`Clock`]. Those the async patterns
//! use have an async face beside the blocking one (`acquire_async`,
//! [`CancelToken::cancelled`], [`Singleflight::run_async`],
//! [`AsyncErrGroup`]): the same state, with the wakers of waiting tasks
//! kept beside its condition variable.

mod cancel;
mod clock;
mod errgroup;
mod pool;
mod rate;
mod semaphore;
mod singleflight;
mod supervisor;
mod tasks;
mod wait_group;
mod waiters;

pub use cancel::{CancelReason, CancelToken, DropGuard};
pub use clock::{Clock, ManualClock, SharedClock, Sleep, SystemClock};
pub use errgroup::{AsyncErrGroup, ErrGroup};
pub use pool::{AcquireTimeout, Pool, Pooled};
pub use rate::{InvalidRate, MAX_INTERVAL, TokenBucket, interval_of, ticker, ticker_async};
pub use semaphore::{Permit, Semaphore};
pub use singleflight::{Flight, Singleflight};
pub use supervisor::{Attempt, Exit, RestartPolicy, Supervisor, SupervisorReport};
pub(crate) use tasks::join_tasks;
pub use tasks::{Executor, TaskSet, Tokio, yield_now};
pub use wait_group::{WaitGroup, panic_message};
