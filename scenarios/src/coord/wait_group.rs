//! [`WaitGroup`]: chanlab's counterpart of Go's `sync.WaitGroup`. It starts
//! threads, counts them, and joins every one, so no pattern leaves a thread
//! running.

use std::any::Any;

use chanlab_sync::thread::{self, JoinHandle};

use crate::ScenarioError;

/// A set of threads started together and joined together.
///
/// Dropping a wait group joins the threads it still holds, so an early return
/// cannot leave one running. Declare the wait group *before* the channel ends its
/// threads wait on: locals drop in reverse order, so the channel ends go
/// first and the threads see the disconnection they need to finish.
pub struct WaitGroup<T> {
    handles: Vec<JoinHandle<T>>,
}

impl<T: Send + 'static> WaitGroup<T> {
    /// A wait group with no threads.
    pub fn new() -> Self {
        WaitGroup {
            handles: Vec::new(),
        }
    }

    /// Starts `work` on a new thread of this wait group.
    pub fn spawn(&mut self, work: impl FnOnce() -> T + Send + 'static) {
        self.spawn_boxed(Box::new(work));
    }

    /// [`WaitGroup::spawn`] with `work` boxed: one copy of the thread
    /// machinery per result type, not one per pattern, closure and flavor.
    /// The box is one allocation per thread, outside any measured loop.
    fn spawn_boxed(&mut self, work: Box<dyn FnOnce() -> T + Send>) {
        self.handles.push(thread::spawn(work));
    }

    /// Threads started so far.
    pub fn started(&self) -> usize {
        self.handles.len()
    }

    /// Joins every thread, in start order, and returns their results. All
    /// threads are joined even when one panicked; the first panic is then
    /// reported.
    pub fn join(mut self) -> Result<Vec<T>, ScenarioError> {
        let mut results = Vec::with_capacity(self.handles.len());
        let mut panic = None;
        for handle in self.handles.drain(..) {
            match handle.join() {
                Ok(value) => results.push(value),
                Err(payload) => {
                    panic.get_or_insert_with(|| panic_message(payload.as_ref()));
                }
            }
        }
        match panic {
            None => Ok(results),
            Some(message) => Err(ScenarioError::Panicked(message)),
        }
    }
}

impl<T: Send + 'static> Default for WaitGroup<T> {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl<T> Drop for WaitGroup<T> {
    fn drop(&mut self) {
        for handle in self.handles.drain(..) {
            // The thread's result or panic was not asked for; joining is what
            // matters here.
            let _ = handle.join();
        }
    }
}

/// The message of a panic payload, when it has one.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::*;

    #[test]
    fn it_counts_its_threads_and_a_drop_joins_them() {
        let finished = Arc::new(AtomicBool::new(false));
        let mut group = WaitGroup::new();
        group.spawn(|| ());
        group.spawn({
            let finished = finished.clone();
            move || {
                std::thread::sleep(Duration::from_millis(50));
                finished.store(true, Ordering::SeqCst);
            }
        });
        assert_eq!(group.started(), 2);
        drop(group);
        assert!(
            finished.load(Ordering::SeqCst),
            "dropped before its thread ended"
        );
    }
}
