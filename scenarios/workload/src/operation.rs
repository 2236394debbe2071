//! The single-thread operation paths whose instructions chanlab counts
//! under valgrind: one party, no contention and no waiting, so the count
//! is the same on every run of the same binary, whatever the machine does
//! meanwhile.

use chanlab_contract::Capacity;
use serde::{Deserialize, Serialize};

/// One operation path, repeated and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "operation", rename_all = "kebab-case")]
pub enum Operation {
    /// A send, then a receive of that value, on a channel of `capacity`
    /// that holds nothing else: neither waits. On an async flavor each is
    /// a future polled once with a no-op waker, and must be ready at once.
    SendRecv {
        /// The channel's capacity (never a rendezvous: one party alone
        /// cannot hand a value over).
        capacity: Capacity,
    },
    /// `try_send` on a full channel of `capacity`, which refuses.
    TrySendFull {
        /// The channel's capacity (bounded, not a rendezvous).
        capacity: Capacity,
    },
    /// `try_recv` on an empty channel, which finds nothing.
    TryRecvEmpty,
}

/// The capacities a send/receive pair is counted at.
const COUNTED_CAPACITIES: [Capacity; 3] = [
    Capacity::Bounded(1),
    Capacity::Bounded(64),
    Capacity::Unbounded,
];

/// The capacity a full channel, and an empty one, is counted at.
const FULL_CAPACITY: Capacity = Capacity::Bounded(64);

impl Operation {
    /// Every operation counted on a flavor, before its capacities are
    /// checked.
    pub fn all() -> Vec<Operation> {
        let mut all: Vec<Operation> = COUNTED_CAPACITIES
            .into_iter()
            .map(|capacity| Operation::SendRecv { capacity })
            .collect();
        all.push(Operation::TrySendFull {
            capacity: FULL_CAPACITY,
        });
        all.push(Operation::TryRecvEmpty);
        all
    }

    /// The capacity of the channel it runs on.
    pub fn capacity(self) -> Capacity {
        match self {
            Operation::SendRecv { capacity } | Operation::TrySendFull { capacity } => capacity,
            Operation::TryRecvEmpty => FULL_CAPACITY,
        }
    }

    /// The operation's name in tables: `send+recv cap=64`.
    pub fn label(self) -> String {
        match self {
            Operation::SendRecv { capacity } => format!("send+recv cap={}", capacity.label()),
            Operation::TrySendFull { capacity } => {
                format!("try_send full cap={}", capacity.label())
            }
            Operation::TryRecvEmpty => "try_recv empty".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_unique() {
        let mut labels: Vec<String> = Operation::all().into_iter().map(Operation::label).collect();
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), Operation::all().len());
    }
}
