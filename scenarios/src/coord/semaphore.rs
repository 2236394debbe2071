//! [`Semaphore`]: at most N holders at once, built from a `Mutex` and a
//! `Condvar`. The patterns compare it with the Go way (a buffered channel
//! of N tokens) and with `tokio::sync::Semaphore`.

use chanlab_sync::{Arc, Condvar, Mutex};

/// A counting semaphore. Clones share the permits.
#[derive(Clone, Debug)]
pub struct Semaphore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    available: Mutex<usize>,
    /// Signalled each time a permit is returned.
    returned: Condvar,
}

/// One permit, returned when dropped.
#[derive(Debug)]
#[must_use = "the permit is returned as soon as it is dropped"]
pub struct Permit {
    semaphore: Semaphore,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Self {
        Semaphore {
            inner: Arc::new(Inner {
                available: Mutex::new(permits),
                returned: Condvar::new(),
            }),
        }
    }

    /// Waits for a permit.
    pub fn acquire(&self) -> Permit {
        let mut available = self.inner.available.lock();
        while *available == 0 {
            available = self.inner.returned.wait(available);
        }
        *available -= 1;
        Permit {
            semaphore: self.clone(),
        }
    }

    /// A permit if one is free now.
    pub fn try_acquire(&self) -> Option<Permit> {
        let mut available = self.inner.available.lock();
        if *available == 0 {
            return None;
        }
        *available -= 1;
        Some(Permit {
            semaphore: self.clone(),
        })
    }

    /// Permits free now.
    pub fn available(&self) -> usize {
        *self.inner.available.lock()
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        *self.semaphore.inner.available.lock() += 1;
        // One permit back wakes one waiter: each waiter needs exactly one.
        self.semaphore.inner.returned.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_are_counted_and_returned() {
        let semaphore = Semaphore::new(2);
        let a = semaphore.acquire();
        let b = semaphore.try_acquire();
        assert!(b.is_some());
        assert!(semaphore.try_acquire().is_none());
        drop(a);
        assert_eq!(semaphore.available(), 1);
        drop(b);
        assert_eq!(semaphore.available(), 2);
    }
}
