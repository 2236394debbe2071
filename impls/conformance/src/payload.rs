//! Message types the suite sends: sequence stamps to detect loss,
//! duplication and reordering, and drop-tracked values to count drops.

use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

/// A message tagged with its producer and that producer's sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stamp {
    /// Index of the producing sender.
    pub producer: u32,
    /// 0, 1, 2, … per producer, in send order.
    pub seq: u64,
}

/// Counts drops per value id.
///
/// A ledger is leaked on purpose (a few bytes per check): a channel that
/// drops a value twice then only miscounts, instead of freeing memory that
/// another value still points to.
pub struct Ledger {
    drops: Vec<AtomicUsize>,
}

impl Ledger {
    /// A ledger for values `0..len`, alive for the rest of the process.
    pub fn leak(len: usize) -> &'static Ledger {
        Box::leak(Box::new(Ledger {
            drops: (0..len).map(|_| AtomicUsize::new(0)).collect(),
        }))
    }

    /// The value with id `id`, counted by this ledger when dropped.
    pub fn value(&'static self, id: usize) -> Tracked {
        assert!(id < self.drops.len(), "id {id} outside the ledger");
        Tracked { id, ledger: self }
    }

    /// How often value `id` has been dropped.
    pub fn drops(&self, id: usize) -> usize {
        self.drops[id].load(Ordering::SeqCst)
    }

    /// Ids not dropped exactly once, with their drop counts.
    pub fn mismatches(&self) -> Vec<(usize, usize)> {
        (0..self.drops.len())
            .map(|id| (id, self.drops(id)))
            .filter(|&(_, count)| count != 1)
            .collect()
    }
}

/// A value that records its drop in a [`Ledger`].
///
/// A clone is a second value with the same id, so dropping both counts
/// twice: that is how a broken channel shows a double drop without
/// undefined behaviour.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// Which value this is.
    pub id: usize,
    ledger: &'static Ledger,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.ledger.drops[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

/// How many [`ZeroSized`] values are alive in this process.
static LIVE_ZERO_SIZED: AtomicIsize = AtomicIsize::new(0);

/// A zero-sized value that counts the live instances process-wide, so drop
/// accounting also covers the paths channels special-case for zero-sized
/// types. The count is global: a check that reads it must not overlap
/// another that makes these.
#[derive(Debug)]
pub struct ZeroSized(());

impl ZeroSized {
    /// A new counted value.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        LIVE_ZERO_SIZED.fetch_add(1, Ordering::SeqCst);
        ZeroSized(())
    }

    /// Values made and not yet dropped (negative after a double drop).
    pub fn live() -> isize {
        LIVE_ZERO_SIZED.load(Ordering::SeqCst)
    }
}

impl Drop for ZeroSized {
    fn drop(&mut self) {
        LIVE_ZERO_SIZED.fetch_sub(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ledger({} values)", self.drops.len())
    }
}
