//! Select: waiting on several receivers at once, with the library's own
//! mechanism. Flavors without one keep the default, which reports
//! [`SelectError::Unsupported`]: chanlab never emulates select under a
//! library's name.

use std::time::Duration;

use crate::RecvError;

/// How long [`SyncFlavor::select`](crate::SyncFlavor::select) waits for one
/// of its receivers to become ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectWait {
    /// Until a receiver is ready (Go's `select` without `default`).
    Forever,
    /// At most this long (a `select` with a `time.After` branch).
    Timeout(Duration),
    /// Not at all (a `select` with a `default` branch).
    NoWait,
}

/// The outcome of a select: the receiver that was ready and what receiving
/// from it gave. A receiver whose senders are all gone and whose buffer is
/// empty is ready too, with `Err(RecvError)`.
#[derive(Debug, PartialEq, Eq)]
pub struct Selected<T> {
    /// Position of the ready receiver in the slice passed to `select`.
    pub index: usize,
    /// The message, or the disconnection that made the receiver ready.
    pub message: Result<T, RecvError>,
}

/// A select that returned without a ready receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// No receiver became ready within the wait (an empty set never does).
    #[error("no receiver was ready")]
    NotReady,
    /// The flavor's library has no select of its own.
    #[error("{flavor} has no native select")]
    Unsupported {
        /// The flavor asked to select.
        flavor: &'static str,
    },
}
