//! A load's message: a stamp, a time, and padding up to its size.

/// The time carried by a message that is not timed.
pub(super) const UNTIMED: u64 = u64::MAX;

/// A message of a load: a [`stamp`], a time in nanoseconds since the start
/// (or [`UNTIMED`]), and padding up to its size.
pub(super) trait LoadMessage: Send + 'static {
    fn new(stamp: u64, at_ns: u64) -> Self;
    /// The stamp, or `None` for a message too small to carry one.
    fn stamp(&self) -> Option<u64>;
    fn at_ns(&self) -> u64;
}

impl LoadMessage for () {
    fn new(_stamp: u64, _at_ns: u64) -> Self {}
    fn stamp(&self) -> Option<u64> {
        None
    }
    fn at_ns(&self) -> u64 {
        UNTIMED
    }
}

impl LoadMessage for u64 {
    fn new(stamp: u64, _at_ns: u64) -> Self {
        stamp
    }
    fn stamp(&self) -> Option<u64> {
        Some(*self)
    }
    fn at_ns(&self) -> u64 {
        UNTIMED
    }
}

/// 16 bytes of stamp and time, then `PAD` bytes.
pub(super) struct Message<const PAD: usize> {
    stamp: u64,
    at_ns: u64,
    _pad: [u8; PAD],
}

impl<const PAD: usize> LoadMessage for Message<PAD> {
    fn new(stamp: u64, at_ns: u64) -> Self {
        Message {
            stamp,
            at_ns,
            _pad: [0; PAD],
        }
    }
    fn stamp(&self) -> Option<u64> {
        Some(self.stamp)
    }
    fn at_ns(&self) -> u64 {
        self.at_ns
    }
}
