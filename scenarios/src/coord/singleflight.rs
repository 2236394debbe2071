//! [`Singleflight`]: concurrent callers asking for the same key share one
//! execution of the function and its result (errors included, when the
//! result is a `Result`); different keys run independently. Go's
//! `golang.org/x/sync/singleflight`.

use std::collections::HashMap;
use std::hash::Hash;

use chanlab_sync::{Arc, Condvar, Mutex};

/// A table of calls in flight, by key.
pub struct Singleflight<K, V> {
    calls: Mutex<HashMap<K, InFlight<V>>>,
}

/// A table entry: the call and how many callers joined it.
struct InFlight<V> {
    call: Arc<Call<V>>,
    joined: usize,
}

/// One execution in flight and the callers waiting on it.
struct Call<V> {
    /// `None` until the leader finishes; `Some(None)` if the leader
    /// panicked.
    result: Mutex<Option<Option<V>>>,
    done: Condvar,
}

/// What a caller got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flight<V> {
    /// The result of the one execution this call shared.
    pub value: V,
    /// Whether other callers received this same result.
    pub shared: bool,
}

impl<K: Eq + Hash + Clone, V: Clone> Singleflight<K, V> {
    /// An empty table.
    pub fn new() -> Self {
        Singleflight {
            calls: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `work` for `key` unless a call for `key` is already in flight,
    /// in which case it waits for that call's result instead.
    ///
    /// # Panics
    /// If the execution this caller waits on panicked; the panicking caller
    /// itself unwinds with its own panic.
    pub fn run(&self, key: K, work: impl FnOnce() -> V) -> Flight<V> {
        let mut calls = self.calls.lock();
        if let Some(in_flight) = calls.get_mut(&key) {
            in_flight.joined += 1;
            let call = Arc::clone(&in_flight.call);
            drop(calls);
            return Flight {
                value: call.wait(),
                shared: true,
            };
        }
        let call = Arc::new(Call {
            result: Mutex::new(None),
            done: Condvar::new(),
        });
        calls.insert(
            key.clone(),
            InFlight {
                call: Arc::clone(&call),
                joined: 0,
            },
        );
        drop(calls);

        let mut leader = Leader {
            table: self,
            key: Some(key),
            call: &call,
        };
        let value = work();
        let joined = leader.finish(Some(value.clone()));
        Flight {
            value,
            shared: joined > 0,
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Default for Singleflight<K, V> {
    fn default() -> Self {
        Singleflight::new()
    }
}

impl<V: Clone> Call<V> {
    fn wait(&self) -> V {
        let mut result = self.result.lock();
        loop {
            match &*result {
                Some(Some(value)) => return value.clone(),
                Some(None) => panic!("the singleflight execution this call shared panicked"),
                None => {
                    result = self.done.wait(result);
                }
            }
        }
    }
}

/// The leader's duty to retire its call: on return, or on unwind if the
/// work panics, so waiters never wait forever.
struct Leader<'a, K: Eq + Hash, V> {
    table: &'a Singleflight<K, V>,
    key: Option<K>,
    call: &'a Call<V>,
}

impl<K: Eq + Hash, V> Leader<'_, K, V> {
    /// Removes the call from the table first, so no new caller can join a
    /// finished execution, then publishes the result to those who joined.
    /// Returns how many joined.
    fn finish(&mut self, value: Option<V>) -> usize {
        let Some(key) = self.key.take() else {
            return 0;
        };
        let joined = self
            .table
            .calls
            .lock()
            .remove(&key)
            .map_or(0, |in_flight| in_flight.joined);
        *self.call.result.lock() = Some(value);
        self.call.done.notify_all();
        joined
    }
}

impl<K: Eq + Hash, V> Drop for Leader<'_, K, V> {
    fn drop(&mut self) {
        self.finish(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_calls_each_run() {
        let table = Singleflight::new();
        let first = table.run("k", || 1);
        let second = table.run("k", || 2);
        assert_eq!((first.value, second.value), (1, 2));
        assert!(!first.shared && !second.shared);
    }

    #[test]
    fn a_panicking_leader_releases_its_key() {
        let table = Singleflight::new();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            table.run("k", || -> u32 { panic!("work failed") })
        }));
        assert!(panicked.is_err());
        assert_eq!(table.run("k", || 7).value, 7);
    }
}
