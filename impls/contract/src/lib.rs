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
//! wrappers that map the library's errors onto [`error`]'s types. The
//! adapters in `chanlab-impls` are examples of exactly that shape; the
//! `chanlab-conformance` crate then checks it with one macro line.

mod async_api;
mod bridge;
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
