//! What every producer and consumer of one run shares (its shares and
//! its schedule, and the moment it started), and how a producer paces
//! its sends on a thread or in a task.

use std::thread;
use std::time::{Duration, Instant};

use super::message::UNTIMED;
use super::{IDLE_GAP, Measure};
use chanlab_workload::share;

/// In the closed loop, one message in this many of each producer carries
/// its send time and is recorded: reading the clock at both ends of every
/// message costs about as much as a buffered hand-off itself, and would
/// slow the very traffic being measured. The sample is systematic (every
/// 8th message of each producer), so it favours no phase of the run.
pub const CLOSED_LOOP_SAMPLE: usize = 8;

/// What every thread of one run shares: the shares and the schedule.
pub(super) struct Shared {
    pub(super) items: usize,
    pub(super) producers: usize,
    pub(super) measure: Measure,
    /// Nanoseconds between two due times in the open loop.
    pub(super) interval_ns: f64,
}

impl Shared {
    pub(super) fn new(spec: &super::LoadSpec) -> Self {
        let interval_ns = match spec.measure {
            Measure::OpenLoop { rate } => 1e9 / rate,
            _ => 0.0,
        };
        Shared {
            items: spec.items,
            producers: spec.producers,
            measure: spec.measure,
            interval_ns,
        }
    }
}

/// [`Shared`] with the moment the run started, as each thread sees it.
#[derive(Clone, Copy)]
pub(super) struct Schedule<'a> {
    pub(super) shared: &'a Shared,
    pub(super) start: Instant,
}

impl Schedule<'_> {
    /// How many messages `producer` sends.
    pub(super) fn share(&self, producer: usize) -> usize {
        share(self.shared.items, self.shared.producers, producer)
    }

    /// The place of message `seq` of `producer` on the common schedule:
    /// the producers take turns, so the indices are `0..items` once each.
    fn index(&self, producer: usize, seq: usize) -> usize {
        seq * self.shared.producers + producer
    }

    pub(super) fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// When the message at `index` is due, in the open loop.
    fn due_ns(&self, index: usize) -> u64 {
        (index as f64 * self.shared.interval_ns) as u64
    }

    /// The time message `seq` of `producer` carries: its send time for one
    /// message in [`CLOSED_LOOP_SAMPLE`] in the closed loop, its due time in
    /// the open loop, and [`UNTIMED`] otherwise.
    pub(super) fn time_for(&self, producer: usize, seq: usize) -> u64 {
        match self.shared.measure {
            Measure::ClosedLoop if seq.is_multiple_of(CLOSED_LOOP_SAMPLE) => self.now_ns(),
            Measure::OpenLoop { .. } => self.due_ns(self.index(producer, seq)),
            Measure::Throughput | Measure::ClosedLoop | Measure::Idle => UNTIMED,
        }
    }

    /// How long a producer should wait before sending message `seq`: zero
    /// in the closed loop or when it is already late.
    fn wait_for(&self, producer: usize, seq: usize) -> Duration {
        match self.shared.measure {
            Measure::OpenLoop { .. } => Duration::from_nanos(
                self.due_ns(self.index(producer, seq))
                    .saturating_sub(self.now_ns()),
            ),
            _ => Duration::ZERO,
        }
    }
}

/// Longer waits than this sleep (short of the due time); shorter ones
/// yield, because a sleep overshoots by tens of microseconds.
const SLEEP_ABOVE: Duration = Duration::from_micros(200);

/// Waits on a thread until message `seq` of `producer` is due; in an idle
/// load, sleeps [`IDLE_GAP`].
pub(super) fn pace(schedule: Schedule<'_>, producer: usize, seq: usize) {
    if schedule.shared.measure == Measure::Idle {
        thread::sleep(IDLE_GAP);
        return;
    }
    loop {
        let wait = schedule.wait_for(producer, seq);
        if wait.is_zero() {
            return;
        }
        if wait > SLEEP_ABOVE {
            thread::sleep(wait - SLEEP_ABOVE / 2);
        } else {
            thread::yield_now();
        }
    }
}

/// Waits in a task until message `seq` of `producer` is due. tokio's
/// timer ticks in milliseconds, so shorter waits yield to the runtime.
/// In an idle load, sleeps [`IDLE_GAP`] on the runtime's timer.
pub(super) async fn pace_async(schedule: Schedule<'_>, producer: usize, seq: usize) {
    const TIMER_ABOVE: Duration = Duration::from_millis(2);
    if schedule.shared.measure == Measure::Idle {
        tokio::time::sleep(IDLE_GAP).await;
        return;
    }
    loop {
        let wait = schedule.wait_for(producer, seq);
        if wait.is_zero() {
            return;
        }
        if wait > TIMER_ABOVE {
            tokio::time::sleep(wait - TIMER_ABOVE / 2).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}
