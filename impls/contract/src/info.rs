//! What a flavor is and what it can do: capacities, capabilities, and the
//! visitor through which generic code is run over a list of flavors.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{AsyncFlavor, KnownFailure, SyncFlavor, UnsupportedError};

/// How many messages a channel buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capacity {
    /// At most this many buffered messages; `Bounded(0)` is a rendezvous
    /// channel, where a send completes only when a receiver takes the value.
    Bounded(usize),
    /// No limit: a send never waits.
    Unbounded,
}

impl Capacity {
    /// The rendezvous capacity, `Bounded(0)`.
    pub const RENDEZVOUS: Capacity = Capacity::Bounded(0);

    /// The bound, or `None` when unbounded.
    pub fn bound(self) -> Option<usize> {
        match self {
            Capacity::Bounded(n) => Some(n),
            Capacity::Unbounded => None,
        }
    }

    /// The short form cell ids, filters and scenario files use: `0`, `64`
    /// or `unbounded`. [`FromStr`](std::str::FromStr) reads it back, as it
    /// reads the [`Display`](fmt::Display) form.
    pub fn label(self) -> String {
        match self {
            Capacity::Bounded(n) => n.to_string(),
            Capacity::Unbounded => "unbounded".to_owned(),
        }
    }
}

/// A capacity that is neither a number, `rendezvous`, `bounded(N)` nor
/// `unbounded`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("capacity {0:?} is not a number, `rendezvous`, `bounded(N)` or `unbounded`")]
pub struct ParseCapacityError(String);

impl std::str::FromStr for Capacity {
    type Err = ParseCapacityError;

    /// Reads `0`, `64`, `unbounded`, `rendezvous`, `bounded(64)`, and the
    /// Display form of a rendezvous channel.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bound = |digits: &str| {
            digits
                .parse()
                .map(Capacity::Bounded)
                .map_err(|_| ParseCapacityError(text.to_owned()))
        };
        match text.trim() {
            "unbounded" => Ok(Capacity::Unbounded),
            "rendezvous" | "rendezvous (bounded(0))" => Ok(Capacity::RENDEZVOUS),
            other => match other
                .strip_prefix("bounded(")
                .and_then(|rest| rest.strip_suffix(')'))
            {
                Some(digits) => bound(digits),
                None => bound(other),
            },
        }
    }
}

impl fmt::Display for Capacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capacity::Bounded(0) => f.write_str("rendezvous (bounded(0))"),
            Capacity::Bounded(n) => write!(f, "bounded({n})"),
            Capacity::Unbounded => f.write_str("unbounded"),
        }
    }
}

/// What an implementation can honestly do. Patterns and reports never run a
/// cell that needs a capability the flavor does not declare, and the
/// conformance suite checks that every declaration is true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// Receivers can be cloned, and clones share one queue (MPMC).
    pub multi_consumer: bool,
    /// `Capacity::Bounded(0)` is supported.
    pub rendezvous: bool,
    /// `Capacity::Unbounded` is supported.
    pub unbounded: bool,
    /// Select over several receivers. For a blocking flavor: the library's
    /// own select, behind `SyncFlavor::select`. For an async flavor: its
    /// receive future may be raced in `tokio::select!`, which needs
    /// `cancel_safe_recv`.
    pub select: bool,
    /// An async flavor's receive future, dropped before it completes (at
    /// any point: never polled, pending, or woken and not yet polled again),
    /// takes no message, and passes on a wake-up it was given to another
    /// waiting receiver. Always `false` for a blocking flavor, which has no
    /// futures.
    pub cancel_safe_recv: bool,
}

impl Capabilities {
    /// Whether a channel of this capacity can be built.
    pub fn supports(&self, capacity: Capacity) -> bool {
        match capacity {
            Capacity::Bounded(0) => self.rendezvous,
            Capacity::Bounded(_) => true,
            Capacity::Unbounded => self.unbounded,
        }
    }
}

/// Which family of the contract a flavor implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// Blocking calls on OS threads ([`SyncFlavor`]).
    Sync,
    /// Futures on an async runtime ([`AsyncFlavor`]).
    Async,
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Api::Sync => "sync",
            Api::Async => "async",
        })
    }
}

/// The identity and declared capabilities of a flavor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FlavorInfo {
    /// Short unique name used in reports and filters, e.g. `flume-async`.
    pub name: &'static str,
    /// The crate that provides the channel, e.g. `flume`.
    pub library: &'static str,
    /// The family of the contract this flavor implements.
    pub api: Api,
    /// What it can do.
    pub capabilities: Capabilities,
    /// How this flavor differs from the library's plain API, when it does:
    /// an emulated capability or an operation built from other ones. Reports
    /// print it beside every result so nothing measured is hidden.
    pub note: Option<&'static str>,
    /// Where this flavor is known to break the spec, found by chanlab's
    /// conformance suite: reports show them, and the suite fails on any
    /// violation not listed here.
    pub known_failures: &'static [KnownFailure],
}

impl FlavorInfo {
    /// Fails with [`UnsupportedError`] unless the flavor declares `capacity`.
    pub fn check(&self, capacity: Capacity) -> Result<(), UnsupportedError> {
        if self.capabilities.supports(capacity) {
            Ok(())
        } else {
            Err(UnsupportedError {
                flavor: self.name,
                capacity,
            })
        }
    }
}

/// Runs generic code over a list of flavors chosen at run time.
///
/// A registry (such as `chanlab_impls::visit_all`) calls one of these methods
/// per flavor; the visitor monomorphizes its generic work for each.
pub trait FlavorVisitor {
    /// Called once for a blocking flavor.
    fn visit_sync<F: SyncFlavor>(&mut self);
    /// Called once for an async flavor.
    fn visit_async<F: AsyncFlavor>(&mut self);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capacity_reads_back_what_it_prints() {
        for capacity in [
            Capacity::RENDEZVOUS,
            Capacity::Bounded(1),
            Capacity::Bounded(64),
            Capacity::Unbounded,
        ] {
            assert_eq!(capacity.label().parse(), Ok(capacity));
            assert_eq!(capacity.to_string().parse(), Ok(capacity));
        }
        assert_eq!("rendezvous".parse(), Ok(Capacity::RENDEZVOUS));
        assert!("bounded(x)".parse::<Capacity>().is_err());
        assert!("-1".parse::<Capacity>().is_err());
    }
}
