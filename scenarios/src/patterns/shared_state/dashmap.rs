//! `dashmap` as the pattern's shared state: the map's keys are spread over
//! shards, each under its own read-write lock, and an entry's guard holds
//! its shard while a write changes the value and then its copy. The
//! counter, one word, is an atomic.

use std::sync::atomic::{AtomicU64, Ordering};

use ::dashmap::DashMap;

use super::{Entry, KEYS, SharedState, Snapshot};

/// An atomic counter and the map sharded by `DashMap`.
pub(super) struct Sharded {
    counter: AtomicU64,
    map: DashMap<usize, Entry>,
}

impl Sharded {
    pub(super) fn new() -> Self {
        Sharded {
            counter: AtomicU64::new(0),
            map: (0..KEYS).map(|key| (key, Entry::default())).collect(),
        }
    }
}

impl SharedState for Sharded {
    fn bump(&self) {
        self.counter.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self, key: usize) -> Entry {
        self.map.get(&key).map(|entry| *entry).unwrap_or_default()
    }

    fn write(&self, key: usize) {
        let mut entry = self.map.entry(key).or_default();
        entry.value += 1;
        entry.copy += 1;
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            counter: self.counter.load(Ordering::Relaxed),
            entries: (0..KEYS).map(|key| self.read(key)).collect(),
        }
    }
}
