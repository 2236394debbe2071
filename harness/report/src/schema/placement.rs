//! Where a repetition's measured threads ran ([`Placement`]) and what
//! disturbed them ([`Disturbance`]), with the one rule that calls a
//! repetition disturbed ([`Disturbance::disturbed`]).
//!
//! The rule's history, so no one takes it for tuned: its first form,
//! fixed before any data, counted a pinned thread's preemptions (twice,
//! and once per 20 ms of the run). The first pinned runs (SPSC bounded(64),
//! 30 ms, crossbeam and kanal, 15 repetitions each) showed 0 to 12
//! preemptions per thread in every repetition, fast or slow alike: a count
//! that measures the machine's baseline ticks, not lost time. The second
//! form, below, fixed before its figure was looked at, counts the time a
//! pinned thread was runnable but not running (the scheduler's run
//! delay), which is the time the run lost to others.

use serde::{Deserialize, Serialize};

/// How a run places its measured threads on cores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlacementPolicy {
    /// Each measured thread (and each runtime worker) on a core of its
    /// own, where a cell's threads fit the cores; where they do not, the
    /// OS places them and the repetition says why.
    #[default]
    Pinned,
    /// Wherever the OS puts them.
    Os,
}

impl PlacementPolicy {
    /// Every policy.
    pub const ALL: [PlacementPolicy; 2] = [PlacementPolicy::Pinned, PlacementPolicy::Os];

    /// What the policy does, in a line.
    pub fn description(self) -> &'static str {
        match self {
            PlacementPolicy::Pinned => {
                "each measured thread on a core of its own where the cell's threads fit the cores"
            }
            PlacementPolicy::Os => "wherever the OS puts them",
        }
    }

    /// The policy's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            PlacementPolicy::Pinned => "pinned",
            PlacementPolicy::Os => "os",
        }
    }
}

/// Where one repetition's measured threads ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// What the threads got: [`PlacementPolicy::Pinned`] only when every
    /// measured thread was pinned.
    pub policy: PlacementPolicy,
    /// Why the OS placed them when pinning was asked for: the cell's
    /// threads outnumber the cores, a pattern's threads are not known
    /// before it runs, goroutines, or no affinity call on this platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The core of each measured thread, in the order they started; `None`
    /// where the OS placed it.
    pub cores: Vec<Option<usize>>,
}

/// What disturbed one repetition's measured run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Disturbance {
    /// Time the hypervisor gave the machine's CPUs to others over the run
    /// (`steal` in `/proc/stat`, all CPUs, at clock-tick resolution), in
    /// nanoseconds; `None` where the platform does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_ns: Option<u64>,
    /// The length of one clock tick of that count, in nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_tick_ns: Option<u64>,
    /// A value's round trip between two threads pinned on the process's
    /// first two cores, timed just before the run, in nanoseconds: how
    /// close the host has put those two virtual CPUs right now (two
    /// hyperthreads of one core, or two cores), which moves every figure
    /// that crosses cores. `None` on one core or without an affinity call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_trip_ns: Option<f64>,
    /// Each measured thread, in the order they started.
    pub threads: Vec<ThreadDisturbance>,
}

/// What happened to one measured thread over its part of the run
/// (`/proc/thread-self/sched` and `schedstat`); `None` where the platform
/// does not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadDisturbance {
    /// Whether it was pinned to a core.
    pub pinned: bool,
    /// Times it was preempted.
    pub involuntary_switches: Option<u64>,
    /// Times it moved to another CPU after it was placed.
    pub migrations: Option<u64>,
    /// Time it was runnable but waiting for a CPU, in nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runnable_wait_ns: Option<u64>,
}

/// Steal time, as a share of the run's CPU time on every core, at which a
/// repetition is disturbed.
pub const STEAL_SHARE: f64 = 0.05;
/// Clock ticks of steal below which it never counts, so one tick's
/// rounding decides nothing.
pub const STEAL_TICKS: u64 = 2;
/// Time the pinned threads waited for a CPU, as a share of the run's time
/// on their cores, at which a repetition is disturbed.
pub const WAIT_SHARE: f64 = 0.05;

/// The rule, in words, for reports.
pub const DISTURBANCE_RULE: &str = "a repetition is disturbed when, over its measured run, the \
     machine's steal time reaches 5% of the run's time on every core (and at least two clock \
     ticks), a pinned thread moved to another CPU, or the pinned threads together waited \
     runnable for a CPU for 5% of the run's time on their cores";

impl Disturbance {
    /// Why a run of `elapsed_ns` on a machine of `cores` cores was
    /// disturbed, by [`DISTURBANCE_RULE`]; `None` when it was not.
    pub fn disturbed(&self, elapsed_ns: u64, cores: usize) -> Option<String> {
        if let (Some(steal), Some(tick)) = (self.steal_ns, self.steal_tick_ns) {
            let share = steal as f64 / (elapsed_ns as f64 * cores.max(1) as f64);
            if steal >= STEAL_TICKS.saturating_mul(tick) && share >= STEAL_SHARE {
                return Some(format!(
                    "steal time {:.0}% of the run",
                    (share * 100.0).min(100.0)
                ));
            }
        }
        let pinned: Vec<&ThreadDisturbance> = self.threads.iter().filter(|t| t.pinned).collect();
        if pinned.iter().any(|t| t.migrations.is_some_and(|m| m > 0)) {
            return Some("a pinned thread moved to another CPU".to_owned());
        }
        let waited = pinned
            .iter()
            .filter_map(|t| t.runnable_wait_ns)
            .fold(0u64, u64::saturating_add);
        let share = waited as f64 / (elapsed_ns as f64 * pinned.len().max(1) as f64);
        (share >= WAIT_SHARE).then(|| {
            format!(
                "pinned threads waited for a CPU {:.0}% of the run",
                (share * 100.0).min(100.0)
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinned(wait_ms: u64, migrations: u64) -> ThreadDisturbance {
        ThreadDisturbance {
            pinned: true,
            involuntary_switches: Some(wait_ms),
            migrations: Some(migrations),
            runnable_wait_ns: Some(wait_ms * 1_000_000),
        }
    }

    const TICK: u64 = 10_000_000;

    #[test]
    fn a_quiet_run_is_not_disturbed() {
        let quiet = Disturbance {
            steal_ns: Some(TICK),
            steal_tick_ns: Some(TICK),
            threads: vec![pinned(1, 0), pinned(0, 0)],
            ..Disturbance::default()
        };
        assert_eq!(quiet.disturbed(100_000_000, 2), None);
    }

    #[test]
    fn steal_counts_from_two_ticks_and_five_percent() {
        let steal = |ticks| Disturbance {
            steal_ns: Some(ticks * TICK),
            steal_tick_ns: Some(TICK),
            ..Disturbance::default()
        };
        // 2 ticks of 200 ms on 2 cores: 5%.
        assert!(steal(2).disturbed(200_000_000, 2).is_some());
        // 2 ticks of 1 s on 2 cores: 1%.
        assert_eq!(steal(2).disturbed(1_000_000_000, 2), None);
        // 1 tick is never enough, however short the run.
        assert_eq!(steal(1).disturbed(1_000_000, 2), None);
    }

    #[test]
    fn a_pinned_thread_that_moved_is_disturbed() {
        let moved = Disturbance {
            threads: vec![pinned(0, 1)],
            ..Disturbance::default()
        };
        assert!(moved.disturbed(100_000_000, 2).is_some());
    }

    #[test]
    fn waiting_counts_over_the_pinned_threads_time() {
        let waited = |ms| Disturbance {
            threads: vec![pinned(ms, 0), pinned(0, 0)],
            ..Disturbance::default()
        };
        // 100 ms on 2 pinned threads: 200 ms, of which 5% is 10 ms.
        assert_eq!(waited(9).disturbed(100_000_000, 2), None);
        assert!(waited(10).disturbed(100_000_000, 2).is_some());
        // Threads the OS placed wait by design when oversubscribed.
        let unpinned = Disturbance {
            threads: vec![ThreadDisturbance {
                pinned: false,
                involuntary_switches: Some(1_000),
                migrations: Some(1_000),
                runnable_wait_ns: Some(100_000_000),
            }],
            ..Disturbance::default()
        };
        assert_eq!(unpinned.disturbed(100_000_000, 2), None);
    }
}
