//! Typed errors of the contract, shaped after `std::sync::mpsc` and
//! crossbeam-channel: a failed send always hands the value back.

use std::fmt;

use crate::Capacity;

/// A blocking or asynchronous send failed because every receiver is gone.
///
/// The contract requires the value that could not be sent to be handed back.
/// A library that drops it instead (kanal's `send` does) can only report
/// [`SendError::value_lost`]; the conformance suite counts that as a
/// violation, and the type can express it so the adapter stays honest.
#[derive(PartialEq, Eq, Clone, Copy, thiserror::Error)]
#[error("sending on a disconnected channel")]
pub struct SendError<T> {
    value: Option<T>,
}

/// A non-blocking send failed; the value is handed back in both cases.
#[derive(PartialEq, Eq, Clone, Copy, thiserror::Error)]
pub enum TrySendError<T> {
    /// The channel is at capacity (for a rendezvous channel: no receiver is
    /// waiting).
    #[error("sending on a full channel")]
    Full(T),
    /// Every receiver is gone.
    #[error("sending on a disconnected channel")]
    Disconnected(T),
}

/// A blocking receive failed because the channel is empty and every sender
/// is gone.
#[derive(Debug, PartialEq, Eq, Clone, Copy, thiserror::Error)]
#[error("receiving on an empty and disconnected channel")]
pub struct RecvError;

/// A non-blocking receive found nothing to return.
#[derive(Debug, PartialEq, Eq, Clone, Copy, thiserror::Error)]
pub enum TryRecvError {
    /// The channel is empty but some sender is still alive.
    #[error("receiving on an empty channel")]
    Empty,
    /// The channel is empty and every sender is gone.
    #[error("receiving on an empty and disconnected channel")]
    Disconnected,
}

/// A receive with a deadline found nothing to return.
#[derive(Debug, PartialEq, Eq, Clone, Copy, thiserror::Error)]
pub enum RecvTimeoutError {
    /// The deadline passed while the channel stayed empty.
    #[error("timed out waiting on an empty channel")]
    Timeout,
    /// The channel is empty and every sender is gone.
    #[error("receiving on an empty and disconnected channel")]
    Disconnected,
}

/// A flavor was asked for a channel kind it does not offer.
#[derive(Debug, PartialEq, Eq, Clone, thiserror::Error)]
#[error("{flavor} does not support {capacity} channels")]
pub struct UnsupportedError {
    /// The flavor's name.
    pub flavor: &'static str,
    /// The capacity that was asked for.
    pub capacity: Capacity,
}

impl<T> SendError<T> {
    /// The error for a send that failed and handed `value` back.
    pub fn new(value: T) -> Self {
        SendError { value: Some(value) }
    }

    /// The error for a send whose library dropped the value on failure.
    pub fn value_lost() -> Self {
        SendError { value: None }
    }

    /// Returns the value that could not be sent, unless the library lost it.
    pub fn into_inner(self) -> Option<T> {
        self.value
    }
}

impl<T> TrySendError<T> {
    /// Returns the value that could not be sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Disconnected(value) => value,
        }
    }

    /// Whether the send failed because the channel was full.
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// Whether the send failed because every receiver was gone.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, TrySendError::Disconnected(_))
    }
}

// Debug is written by hand so that errors carrying a value do not require
// `T: Debug`, as in std and crossbeam.
impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Some(_) => f.write_str("SendError(..)"),
            None => f.write_str("SendError(value lost)"),
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Disconnected(_) => f.write_str("Disconnected(..)"),
        }
    }
}

impl From<RecvError> for TryRecvError {
    fn from(_: RecvError) -> Self {
        TryRecvError::Disconnected
    }
}

impl From<RecvError> for RecvTimeoutError {
    fn from(_: RecvError) -> Self {
        RecvTimeoutError::Disconnected
    }
}
