//! `arc-swap` as the pattern's shared state: readers load the map's
//! current snapshot without a lock; a writer copies it, changes the copy and
//! swaps it in. The counter, one word, is an atomic.

use std::sync::atomic::{AtomicU64, Ordering};

use ::arc_swap::ArcSwap;

use super::{Entry, SharedState, Snapshot, Table};

/// An atomic counter and the map as a swapped snapshot.
pub(super) struct Snapshots {
    counter: AtomicU64,
    map: ArcSwap<Table>,
}

impl Snapshots {
    pub(super) fn new() -> Self {
        Snapshots {
            counter: AtomicU64::new(0),
            map: ArcSwap::from_pointee(Table::new()),
        }
    }
}

impl SharedState for Snapshots {
    fn bump(&self) {
        self.counter.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self, key: usize) -> Entry {
        self.map.load().get(key)
    }

    /// Read, copy and update: `rcu` retries when another write swapped
    /// the map in between, so no write is lost.
    fn write(&self, key: usize) {
        self.map.rcu(|table| {
            let mut table = Table::clone(table);
            table.put(key);
            table
        });
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            counter: self.counter.load(Ordering::Relaxed),
            entries: self.map.load().0.clone(),
        }
    }
}
