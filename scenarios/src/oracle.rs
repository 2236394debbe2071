//! Checks shared by the patterns' oracles: message stamps, exactly-once
//! delivery, per-source order, and a gauge of how many things are inside a
//! region at once.
//!
//! Oracle counters are instrumentation, not synchronization under test, so
//! they use `std`'s atomics even under loom: a model explores the pattern's
//! own synchronization, not the observer's.

use std::sync::atomic::{AtomicUsize, Ordering};

use chanlab_workload::share;

use crate::ScenarioError;
use crate::outcome::ensure;

/// A message id that names its source and its position in that source's
/// sequence: `source << 32 | seq`. Plain `u64`, so broken twins that
/// duplicate `Copy` messages can act on it.
pub(crate) fn stamp(source: usize, seq: usize) -> u64 {
    ((source as u64) << 32) | seq as u64
}

/// A 64-bit mix of `stamp` (splitmix64's finalizer): sums of mixed stamps
/// tell sets of stamps apart where plain sums cancel (lose 5 and 7, deliver
/// 6 twice).
pub(crate) fn mix64(stamp: u64) -> u64 {
    let mut z = stamp.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The source of a [`stamp`].
pub(crate) fn source_of(id: u64) -> usize {
    (id >> 32) as usize
}

/// Every stamp `sources` sources send when they share `items` between
/// them as [`share`] splits them.
pub(crate) fn stamps(items: usize, sources: usize) -> impl Iterator<Item = u64> {
    (0..sources).flat_map(move |source| {
        (0..share(items, sources, source)).map(move |seq| stamp(source, seq))
    })
}

/// Checks that `received` holds every id of `expected` exactly once and
/// nothing else, naming the first id lost, duplicated or invented.
pub(crate) fn exactly_once(
    what: &str,
    expected: impl IntoIterator<Item = u64>,
    received: &[u64],
) -> Result<(), ScenarioError> {
    let mut expected: Vec<u64> = expected.into_iter().collect();
    let mut got = received.to_vec();
    expected.sort_unstable();
    got.sort_unstable();
    if let Some(pair) = got.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(ScenarioError::Oracle(format!(
            "{what}: {:#x} delivered more than once",
            pair[0]
        )));
    }
    let (mut e, mut g) = (expected.iter().peekable(), got.iter().peekable());
    loop {
        match (e.peek().copied(), g.peek().copied()) {
            (None, None) => return Ok(()),
            (Some(want), Some(have)) if want == have => {
                e.next();
                g.next();
            }
            (Some(want), None) => return Err(never_delivered(what, *want, received, &expected)),
            (Some(want), Some(have)) if want < have => {
                return Err(never_delivered(what, *want, received, &expected));
            }
            (_, Some(have)) => {
                return Err(ScenarioError::Oracle(format!(
                    "{what}: {have:#x} was delivered but never sent"
                )));
            }
        }
    }
}

fn never_delivered(what: &str, id: u64, received: &[u64], expected: &[u64]) -> ScenarioError {
    ScenarioError::Oracle(format!(
        "{what}: {id:#x} was never delivered ({} of {} arrived)",
        received.len(),
        expected.len()
    ))
}

/// Checks that within `received`, each source's messages appear in the
/// order that source sent them (by their stamps).
pub(crate) fn per_source_order(what: &str, received: &[u64]) -> Result<(), ScenarioError> {
    let mut last = std::collections::HashMap::new();
    for &id in received {
        if let Some(previous) = last.insert(source_of(id), id) {
            ensure(previous < id, || {
                format!("{what}: {id:#x} arrived after {previous:#x} from the same source")
            })?;
        }
    }
    Ok(())
}

/// Counts how many threads are inside a region at once and remembers the
/// most there ever were.
#[derive(Debug)]
pub(crate) struct Gauge {
    inside: AtomicUsize,
    most: AtomicUsize,
}

impl Gauge {
    /// An empty gauge.
    pub(crate) fn new() -> Self {
        Gauge {
            inside: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
        }
    }

    /// Marks one more thread inside until the guard drops.
    pub(crate) fn enter(&self) -> GaugeGuard<'_> {
        let now = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        GaugeGuard(self)
    }

    /// The most threads that were ever inside at once.
    pub(crate) fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// Leaves the [`Gauge`] on drop.
pub(crate) struct GaugeGuard<'a>(&'a Gauge);

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.inside.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix64_is_splitmix64_and_the_go_workers() {
        // splitmix64's first output from seed 0, and a stamp the Go
        // worker's test (`gochan_test.go`) mixes to the same value.
        assert_eq!(mix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(mix64(stamp(1, 2)), 0xB370_3AD8_9450_7022);
    }

    #[test]
    fn exactly_once_names_the_fault() {
        let sent = || (0..2).flat_map(|source| (0..3).map(move |seq| stamp(source, seq)));
        let all: Vec<u64> = sent().collect();
        assert!(exactly_once("t", sent(), &all).is_ok());
        let lost = exactly_once("t", sent(), &all[1..]).unwrap_err();
        assert!(lost.to_string().contains("never delivered"), "{lost}");
        let mut twice = all.clone();
        twice.push(all[2]);
        let dup = exactly_once("t", sent(), &twice).unwrap_err();
        assert!(dup.to_string().contains("more than once"), "{dup}");
        let mut invented = all.clone();
        invented.push(stamp(9, 9));
        let extra = exactly_once("t", sent(), &invented).unwrap_err();
        assert!(extra.to_string().contains("never sent"), "{extra}");
    }

    #[test]
    fn order_is_per_source() {
        let interleaved = [stamp(0, 0), stamp(1, 0), stamp(0, 1), stamp(1, 1)];
        assert!(per_source_order("t", &interleaved).is_ok());
        let swapped = [stamp(0, 1), stamp(1, 0), stamp(0, 0)];
        assert!(per_source_order("t", &swapped).is_err());
    }
}
