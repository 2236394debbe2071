//! [`Singleflight`]: concurrent callers asking for the same key share one
//! execution of the function and its result (errors included, when the
//! result is a `Result`); different keys run independently. Go's
//! `golang.org/x/sync/singleflight`. Threads call [`Singleflight::run`],
//! tasks [`Singleflight::run_async`], on the same table.

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::hash::Hash;
use std::task::Poll;

use chanlab_sync::{Arc, Condvar, Mutex};

use super::waiters::{Waiters, wake};

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
    state: Mutex<CallState<V>>,
    /// Signalled when the result is set, for waiting threads.
    done: Condvar,
}

struct CallState<V> {
    /// `None` until the leader finishes; `Some(None)` if the leader
    /// panicked, or its future was dropped.
    result: Option<Option<V>>,
    /// Tasks waiting for the result.
    tasks: Waiters,
}

/// Whether a caller runs the execution or waits for one in flight.
enum Role<V> {
    Leads(Arc<Call<V>>),
    Joins(Arc<Call<V>>),
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
    /// If the execution this caller waits on panicked (or, run by a task,
    /// was dropped); the panicking caller itself unwinds with its own panic.
    pub fn run(&self, key: K, work: impl FnOnce() -> V) -> Flight<V> {
        let call = match self.lead_or_join(&key) {
            Role::Joins(call) => {
                return Flight {
                    value: call.wait(),
                    shared: true,
                };
            }
            Role::Leads(call) => call,
        };
        let leader = Leader::of(self, key, &call);
        leader.publish(work())
    }

    /// [`run`](Singleflight::run) for a task: awaits `work`, or the
    /// execution in flight for `key`. A leader whose future is dropped
    /// retires its call as a panicking one does.
    ///
    /// # Panics
    /// As [`run`](Singleflight::run) does.
    pub async fn run_async(&self, key: K, work: impl Future<Output = V>) -> Flight<V> {
        let call = match self.lead_or_join(&key) {
            Role::Joins(call) => {
                return Flight {
                    value: call.wait_async().await,
                    shared: true,
                };
            }
            Role::Leads(call) => call,
        };
        let leader = Leader::of(self, key, &call);
        leader.publish(work.await)
    }

    /// Joins the call in flight for `key`, or enters a new one to lead.
    fn lead_or_join(&self, key: &K) -> Role<V> {
        let mut calls = self.calls.lock();
        if let Some(in_flight) = calls.get_mut(key) {
            in_flight.joined += 1;
            return Role::Joins(Arc::clone(&in_flight.call));
        }
        let call = Arc::new(Call {
            state: Mutex::new(CallState {
                result: None,
                tasks: Waiters::default(),
            }),
            done: Condvar::new(),
        });
        calls.insert(
            key.clone(),
            InFlight {
                call: Arc::clone(&call),
                joined: 0,
            },
        );
        Role::Leads(call)
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Default for Singleflight<K, V> {
    fn default() -> Self {
        Singleflight::new()
    }
}

impl<V: Clone> Call<V> {
    fn wait(&self) -> V {
        let mut state = self.state.lock();
        loop {
            match &state.result {
                Some(Some(value)) => return value.clone(),
                Some(None) => Self::lost(),
                None => state = self.done.wait(state),
            }
        }
    }

    async fn wait_async(&self) -> V {
        poll_fn(|cx| {
            let mut state = self.state.lock();
            match &state.result {
                Some(Some(value)) => Poll::Ready(value.clone()),
                Some(None) => Self::lost(),
                None => {
                    state.tasks.register(cx.waker());
                    Poll::Pending
                }
            }
        })
        .await
    }

    fn lost() -> ! {
        panic!("the singleflight execution this call shared panicked or was dropped")
    }
}

/// The leader's duty to retire its call: on return, or on unwind if the
/// work panics, so waiters never wait forever.
struct Leader<'a, K: Eq + Hash, V> {
    table: &'a Singleflight<K, V>,
    key: Option<K>,
    call: &'a Call<V>,
}

impl<'a, K: Eq + Hash, V: Clone> Leader<'a, K, V> {
    /// The duty of the caller that leads `call` for `key` in `table`.
    fn of(table: &'a Singleflight<K, V>, key: K, call: &'a Call<V>) -> Self {
        Leader {
            table,
            key: Some(key),
            call,
        }
    }

    /// Publishes the execution's `value` and returns the leader's flight.
    fn publish(mut self, value: V) -> Flight<V> {
        let joined = self.finish(Some(value.clone()));
        Flight {
            value,
            shared: joined > 0,
        }
    }
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
        let tasks = {
            let mut state = self.call.state.lock();
            state.result = Some(value);
            state.tasks.take()
        };
        self.call.done.notify_all();
        wake(tasks);
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
    fn a_leader_that_was_joined_says_its_result_was_shared() {
        let table = Singleflight::new();
        let mut joined = false;
        // A caller that comes after the leader finished runs a call of its
        // own; try until one joins, which takes one attempt on an idle
        // machine.
        for _ in 0..20 {
            let (started, leading) = std::sync::mpsc::channel();
            let table = &table;
            let (leader, joiner) = std::thread::scope(|scope| {
                let leader = scope.spawn(move || {
                    table.run("k", || {
                        started.send(()).expect("the joiner waits");
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        1
                    })
                });
                leading.recv().expect("the leader starts");
                let joiner = table.run("k", || 2);
                (leader.join().expect("the leader returns"), joiner)
            });
            if joiner.shared {
                joined = true;
                assert_eq!(joiner.value, 1);
                assert!(leader.shared, "joined, but the leader says unshared");
                break;
            }
        }
        assert!(joined, "no caller joined the call in flight in 20 tries");
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
