//! The channel contract that every implementation in chanlab satisfies.
//!
//! chanlab writes its conformance suite, its patterns and its benchmarks once,
//! against the traits in this crate, and runs them on every channel library
//! that implements them. The crate names no library.
//!
//! # The main design decision: a flavor is a type-level channel constructor
//!
//! An implementation is a *flavor*: a zero-sized type that implements
//! [`SyncFlavor`] or [`AsyncFlavor`]. Its sender and receiver types are generic
//! associated types, so one flavor builds channels of any message type. That is
//! what lets the conformance suite send drop-counting payloads and the patterns
//! send their own job types through the same implementation.
//!
//! What a flavor can do is declared at run time in its [`FlavorInfo`] rather
//! than encoded in trait bounds. Every generic pattern therefore compiles for
//! every flavor, and the runner skips, with a stated reason, the cells a
//! flavor cannot honestly run (a second receiver on `std::sync::mpsc`, a
//! rendezvous channel on `tokio::sync::mpsc`). The conformance suite checks
//! that each declaration is true.
//!
//! # Implementing the contract for your own channel
//!
//! One file is enough: a unit struct, a [`SyncFlavor`] impl whose `INFO`
//! declares the capabilities, and [`Sender`]/[`Receiver`] impls on thin
//! wrappers that map the library's errors onto [`error`]'s types.
//! [`implementing`] says what each trait and [`FlavorInfo`] field promises
//! and holds a complete small channel (blocking, async and bridge ends),
//! compiled and run as a doctest; the `chanlab-conformance` crate then
//! checks yours with one macro line per flavor.

mod async_api;
mod bridge;
// The page ends with the example crate's channel, compiled and run as a
// doctest, and a first look at it (`implementing_end.md`).
#[doc = concat!(
    include_str!("implementing.md"),
    include_str!("../../example-channel/src/lib.rs"),
    include_str!("implementing_end.md"),
)]
pub mod implementing {}
pub mod error;
mod info;
mod select;
mod spec;
mod sync_api;

pub use async_api::{AsyncEnds, AsyncFlavor, AsyncReceiver, AsyncSender};
pub use bridge::{Bridge, BridgeVisitor};
pub use error::{
    RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError, UnsupportedError,
};
pub use info::{Api, Capabilities, Capacity, FlavorInfo, FlavorVisitor, ParseCapacityError};
pub use select::{SelectError, SelectWait, Selected};
pub use spec::{KnownFailure, Rule};
pub use sync_api::{Receiver, Sender, SyncEnds, SyncFlavor};
