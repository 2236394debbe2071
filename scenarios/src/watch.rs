//! The measured threads of a run, announced to whoever watches them: a
//! load's producer and consumer threads, every tokio worker thread, and the
//! thread that drives a current-thread runtime each call [`started`] as
//! they begin and drop what it returns as they end. The runner watches
//! (`chanlab run` places each thread on a core and reads what disturbed
//! it); nothing else does, and then announcing costs one lock.

use std::any::Any;
use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError};

/// What a measured thread is announced to.
pub trait ThreadWatcher: Send + Sync {
    /// Called on a measured thread as it starts its part of the run. What
    /// it returns is dropped on that same thread as the thread's part ends.
    fn started(&self) -> Box<dyn Any>;
}

/// The watcher of this process, if any.
static WATCHER: Mutex<Option<Arc<dyn ThreadWatcher>>> = Mutex::new(None);

/// Announces this process's measured threads to `watcher` until the
/// returned guard is dropped (a second watcher replaces the first).
pub fn watch(watcher: Arc<dyn ThreadWatcher>) -> Watching {
    *WATCHER.lock().unwrap_or_else(PoisonError::into_inner) = Some(watcher);
    Watching(())
}

/// Watching goes on while this lives.
#[must_use = "the watcher stops watching when this is dropped"]
pub struct Watching(());

impl Drop for Watching {
    fn drop(&mut self) {
        *WATCHER.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// Announces the calling thread as measured; drop the result on this
/// thread where its part of the run ends. `None` when nothing watches.
pub fn started() -> Option<Box<dyn Any>> {
    let watcher = WATCHER
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    watcher.map(|watcher| watcher.started())
}

thread_local! {
    /// What a runtime worker's announcement returned, kept until the
    /// worker stops.
    static WORKER: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Announces a tokio worker thread (its runtime's `on_thread_start`).
pub(crate) fn worker_started() {
    WORKER.with(|worker| *worker.borrow_mut() = started());
}

/// Ends a tokio worker thread's announcement (its runtime's
/// `on_thread_stop`).
pub(crate) fn worker_stopped() {
    WORKER.with(|worker| drop(worker.borrow_mut().take()));
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use chanlab_impls::{Crossbeam, FlumeAsync};

    use super::*;
    use crate::Runtime;
    use crate::load::{LoadSpec, Measure, run_load_async, run_load_sync};

    /// Counts announcements and their ends.
    #[derive(Default)]
    struct Counter {
        started: AtomicUsize,
        ended: Arc<AtomicUsize>,
    }

    struct End(Arc<AtomicUsize>);

    impl Drop for End {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl ThreadWatcher for Counter {
        fn started(&self) -> Box<dyn Any> {
            self.started.fetch_add(1, Ordering::SeqCst);
            Box::new(End(self.ended.clone()))
        }
    }

    fn spec() -> LoadSpec {
        LoadSpec {
            producers: 2,
            consumers: 1,
            capacity: chanlab_contract::Capacity::Bounded(4),
            items: 100,
            message_bytes: 8,
            measure: Measure::Throughput,
        }
    }

    /// Announcements and ends while `work` runs. The watcher is
    /// process-wide, so a test run that shares its process with other
    /// tests (`cargo test`, not nextest) may count their threads too: the
    /// counts are at least, and every announcement ends.
    fn announced(work: impl FnOnce()) -> usize {
        let counter = Arc::new(Counter::default());
        let watching = watch(counter.clone());
        work();
        drop(watching);
        let started = counter.started.load(Ordering::SeqCst);
        assert_eq!(counter.ended.load(Ordering::SeqCst), started);
        started
    }

    #[test]
    fn every_thread_of_a_load_on_threads_is_announced_and_ended() {
        let threads = announced(|| {
            run_load_sync::<Crossbeam>(&spec()).expect("the load runs");
        });
        assert!(threads >= 3, "{threads} threads announced");
    }

    #[test]
    fn every_runtime_thread_of_a_load_in_tasks_is_announced_and_ended() {
        for runtime in Runtime::ALL {
            let workers = match runtime {
                Runtime::CurrentThread => 1,
                Runtime::MultiThread => std::thread::available_parallelism().map_or(1, usize::from),
            };
            let threads = announced(|| {
                run_load_async::<FlumeAsync>(&spec(), runtime).expect("the load runs");
            });
            assert!(
                threads >= workers,
                "{}: {threads} threads announced",
                runtime.name()
            );
        }
    }
}
