//! Atomics as the pattern's shared state: no lock.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{Entry, KEYS, SharedState, Snapshot};

/// An atomic counter and one atomic value per key; no lock.
///
/// `Relaxed` is enough: each update is a single read-modify-write, and the
/// snapshot is taken after every thread is joined, which orders it after
/// all of them.
#[derive(Debug)]
pub(super) struct Atomics {
    pub(super) counter: AtomicU64,
    map: Vec<AtomicU64>,
}

impl Atomics {
    pub(super) fn new() -> Self {
        Atomics {
            counter: AtomicU64::new(0),
            map: (0..KEYS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl SharedState for Atomics {
    fn bump(&self) {
        self.counter.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self, key: usize) -> Entry {
        Entry::single(self.map[key].load(Ordering::Relaxed))
    }

    fn write(&self, key: usize) {
        self.map[key].fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            counter: self.counter.load(Ordering::Relaxed),
            entries: (0..KEYS).map(|key| self.read(key)).collect(),
        }
    }
}
