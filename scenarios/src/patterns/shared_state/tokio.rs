//! tokio's `Mutex` and `RwLock` as the pattern's shared state, every access
//! awaited.

use tokio::sync::{Mutex, RwLock};

use super::{AsyncSharedState, Entry, Locked, Snapshot, Table};

impl AsyncSharedState for Locked<Mutex<u64>, Mutex<Table>> {
    async fn bump(&self) {
        *self.counter.lock().await += 1;
    }

    async fn read(&self, key: usize) -> Entry {
        self.map.lock().await.get(key)
    }

    async fn write(&self, key: usize) {
        self.map.lock().await.put(key);
    }

    async fn snapshot(&self) -> Snapshot {
        Snapshot {
            counter: *self.counter.lock().await,
            entries: self.map.lock().await.0.clone(),
        }
    }
}

impl AsyncSharedState for Locked<RwLock<u64>, RwLock<Table>> {
    async fn bump(&self) {
        *self.counter.write().await += 1;
    }

    async fn read(&self, key: usize) -> Entry {
        self.map.read().await.get(key)
    }

    async fn write(&self, key: usize) {
        self.map.write().await.put(key);
    }

    async fn snapshot(&self) -> Snapshot {
        Snapshot {
            counter: *self.counter.read().await,
            entries: self.map.read().await.0.clone(),
        }
    }
}
