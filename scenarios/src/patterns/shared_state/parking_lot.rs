//! `parking_lot`'s `Mutex` and `RwLock` as the pattern's shared state.

use parking_lot::{Mutex, RwLock};

use super::{Entry, Locked, SharedState, Snapshot, Table};

impl SharedState for Locked<Mutex<u64>, Mutex<Table>> {
    fn bump(&self) {
        *self.counter.lock() += 1;
    }

    fn read(&self, key: usize) -> Entry {
        self.map.lock().get(key)
    }

    fn write(&self, key: usize) {
        self.map.lock().put(key);
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            counter: *self.counter.lock(),
            entries: self.map.lock().0.clone(),
        }
    }
}

impl SharedState for Locked<RwLock<u64>, RwLock<Table>> {
    fn bump(&self) {
        *self.counter.write() += 1;
    }

    fn read(&self, key: usize) -> Entry {
        self.map.read().get(key)
    }

    fn write(&self, key: usize) {
        self.map.write().put(key);
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            counter: *self.counter.read(),
            entries: self.map.read().0.clone(),
        }
    }
}
