//! A channel load as data: who sends, who receives, through what
//! capacity, with what message, and how it is timed.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Capacity, MAX_ITEMS, MAX_THREADS, ParamError, capacity_within, count_within};

/// The message sizes a load can carry, in bytes. `0` sends a zero-sized
/// message, which has no room for a stamp: its oracle only counts. `8`
/// sends a bare `u64` stamp, with no room for a time: it cannot measure
/// latency. Larger messages carry a stamp, a time and padding.
pub const MESSAGE_SIZES: [usize; 5] = [0, 8, 16, 256, 4096];

/// The smallest message that carries a time, so latency can be measured.
pub const TIMED_MESSAGE_BYTES: usize = 16;

/// Most messages in an idle load: ten minutes of [`IDLE_GAP`]s per
/// producer at most, so a mistaken size cannot hang a run for hours.
pub const MOST_IDLE_ITEMS: usize = 600_000;

/// How a load is timed. Named in every result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum Measure {
    /// Send as fast as the channel takes; no per-message clock.
    Throughput,
    /// Send as fast as the channel takes; latency from the moment of `send`.
    ClosedLoop,
    /// Send on a fixed schedule of `rate` messages per second in total;
    /// latency from each message's scheduled time.
    OpenLoop {
        /// Messages per second across all producers.
        rate: f64,
    },
    /// Each producer sleeps [`IDLE_GAP`] before each message (a sleep,
    /// never a spin), so the consumers wait on an empty channel; no
    /// per-message clock.
    Idle,
}

/// How long each producer sleeps before each message under
/// [`Measure::Idle`]: long enough that a receiver which spins before it
/// parks has given up spinning, so the run shows which receivers park.
pub const IDLE_GAP: Duration = Duration::from_millis(1);

impl Measure {
    /// The mode's name in filters and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Measure::Throughput => "throughput",
            Measure::ClosedLoop => "closed-loop",
            Measure::OpenLoop { .. } => "open-loop",
            Measure::Idle => "idle",
        }
    }

    /// Whether the mode records latency.
    pub fn records_latency(&self) -> bool {
        matches!(self, Measure::ClosedLoop | Measure::OpenLoop { .. })
    }
}

/// One load: who sends, who receives, through what, and how it is timed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSpec {
    /// Producer threads or tasks.
    pub producers: usize,
    /// Consumer threads or tasks; more than one needs a multi-consumer
    /// receiver.
    pub consumers: usize,
    /// The channel's capacity.
    pub capacity: Capacity,
    /// Bytes per message, one of [`MESSAGE_SIZES`].
    pub message_bytes: usize,
    /// Messages in the run.
    pub items: usize,
    /// How the run is timed.
    pub measure: Measure,
}

impl LoadSpec {
    /// The shape's conventional name: `spsc`, `mpsc`, `spmc` or `mpmc`.
    pub fn shape(&self) -> &'static str {
        match (self.producers > 1, self.consumers > 1) {
            (false, false) => "spsc",
            (true, false) => "mpsc",
            (false, true) => "spmc",
            (true, true) => "mpmc",
        }
    }

    /// Messages per second the load's schedule sends, when a schedule and
    /// not the channel sets its pace: the open loop's rate, or an idle
    /// load's one message per [`IDLE_GAP`] per producer (an upper bound:
    /// sleeps overshoot).
    pub fn scheduled_rate(&self) -> Option<f64> {
        match self.measure {
            Measure::OpenLoop { rate } if rate > 0.0 => Some(rate),
            Measure::Idle => Some(self.producers as f64 / IDLE_GAP.as_secs_f64()),
            _ => None,
        }
    }

    /// Rejects a load that makes no sense on any flavor, before anything
    /// starts; what a particular flavor cannot run is `chanlab-scenarios`'
    /// to say.
    pub fn check_params(&self) -> Result<(), ParamError> {
        let threads = " (each is a thread)";
        count_within("producers", self.producers, MAX_THREADS, threads)?;
        count_within("consumers", self.consumers, MAX_THREADS, threads)?;
        count_within("items", self.items, MAX_ITEMS, "")?;
        capacity_within(self.capacity)?;
        if !MESSAGE_SIZES.contains(&self.message_bytes) {
            return Err(ParamError::new(
                "message size",
                self.message_bytes,
                format!("one of {MESSAGE_SIZES:?} bytes"),
            ));
        }
        if self.message_bytes < TIMED_MESSAGE_BYTES && self.measure.records_latency() {
            return Err(ParamError::new(
                "message size",
                self.message_bytes,
                format!(
                    "at least {TIMED_MESSAGE_BYTES} bytes to carry a time when latency is measured"
                ),
            ));
        }
        if let Measure::OpenLoop { rate } = self.measure
            && !(rate.is_finite() && (1.0..=crate::MOST_RATE).contains(&rate))
        {
            return Err(ParamError::new(
                "open-loop rate",
                format!("{rate:e}"),
                format!(
                    "between 1 and {:e} messages per second (no channel here moves more)",
                    crate::MOST_RATE
                ),
            ));
        }
        if self.measure == Measure::Idle && self.items > MOST_IDLE_ITEMS {
            return Err(ParamError::new(
                "items",
                self.items,
                format!(
                    "at most {MOST_IDLE_ITEMS} in an idle load, one every {IDLE_GAP:?} per producer"
                ),
            ));
        }
        Ok(())
    }
}
