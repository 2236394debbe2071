//! std's `Mutex` and `RwLock` as the pattern's shared state.

use std::sync::{LockResult, Mutex, PoisonError, RwLock};

use super::{Entry, Locked, SharedState, Snapshot, Table};

/// The guard of a std lock, even if a holder panicked: that panic is
/// reported when its thread is joined, and no critical section here can
/// leave the state half changed.
fn recover<G>(result: LockResult<G>) -> G {
    result.unwrap_or_else(PoisonError::into_inner)
}

impl SharedState for Locked<Mutex<u64>, Mutex<Table>> {
    fn bump(&self) {
        *recover(self.counter.lock()) += 1;
    }

    fn read(&self, key: usize) -> Entry {
        recover(self.map.lock()).get(key)
    }

    fn write(&self, key: usize) {
        recover(self.map.lock()).put(key);
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            counter: *recover(self.counter.lock()),
            entries: recover(self.map.lock()).0.clone(),
        }
    }
}

impl SharedState for Locked<RwLock<u64>, RwLock<Table>> {
    fn bump(&self) {
        *recover(self.counter.write()) += 1;
    }

    fn read(&self, key: usize) -> Entry {
        recover(self.map.read()).get(key)
    }

    fn write(&self, key: usize) {
        recover(self.map.write()).put(key);
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            counter: *recover(self.counter.read()),
            entries: recover(self.map.read()).0.clone(),
        }
    }
}
