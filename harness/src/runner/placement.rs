//! Where a worker's measured threads run, and what disturbed them. Each
//! measured thread announces itself ([`chanlab_scenarios::watch`]); where
//! the cell's threads fit the cores this process may use, each is pinned
//! to a core of its own (`sched_setaffinity`) as it starts. Each thread's
//! involuntary context switches and migrations (`/proc/thread-self/sched`)
//! and the time it waited runnable for a CPU (`schedstat`) are read once it
//! is placed and again as it ends, and the machine's steal time from
//! `/proc/stat` around the run; once a job, the round trip between the
//! first two cores says where the host has put them.

use std::any::Any;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chanlab_report::schema::{Disturbance, Placement, PlacementPolicy, ThreadDisturbance};
use chanlab_scenarios::watch::{self, ThreadWatcher};

/// How one run's measured threads are to be placed.
pub enum Plan {
    /// Each on the next of these cores, in the order they start.
    Pin(Vec<usize>),
    /// Where the OS puts them, and why when pinning was asked for.
    Os(Option<String>),
}

impl Plan {
    /// The plan for a run of `threads` measured threads under `policy`;
    /// `None` threads when they are not known before the run (a pattern).
    pub fn new(policy: PlacementPolicy, threads: Option<usize>) -> Plan {
        if policy == PlacementPolicy::Os {
            return Plan::Os(None);
        }
        let Some(threads) = threads else {
            return Plan::Os(Some(
                "a pattern's threads are not known before it runs".to_owned(),
            ));
        };
        match allowed_cores() {
            Ok(cores) if threads <= cores.len() => Plan::Pin(cores),
            Ok(cores) => Plan::Os(Some(format!(
                "{threads} measured threads on {} cores",
                cores.len()
            ))),
            Err(reason) => Plan::Os(Some(reason)),
        }
    }
}

/// Runs `work` with its measured threads placed by `plan`, and returns
/// what it returned with where they ran and what disturbed them (but for
/// the host's placement of the cores, [`cross_core_round_trip_ns`], which
/// a job times once).
pub fn observe<T>(plan: Plan, work: impl FnOnce() -> T) -> (T, Placement, Disturbance) {
    let (cores, reason) = match plan {
        Plan::Pin(cores) => (cores, None),
        Plan::Os(reason) => (Vec::new(), reason),
    };
    let watcher = Arc::new(Watcher {
        cores,
        next: AtomicUsize::new(0),
        threads: Records::default(),
    });
    let steal_before = steal_ticks();
    let watching = watch::watch(watcher.clone());
    let value = work();
    drop(watching);
    let steal_after = steal_ticks();
    let threads = std::mem::take(
        &mut *watcher
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    let all_pinned = !threads.is_empty() && threads.iter().all(|(core, _)| core.is_some());
    let placement = Placement {
        policy: if all_pinned {
            PlacementPolicy::Pinned
        } else {
            PlacementPolicy::Os
        },
        reason: reason.or_else(|| {
            (!all_pinned && !watcher.cores.is_empty()).then(|| {
                format!(
                    "{} measured threads started, {} cores to pin them to",
                    threads.len(),
                    watcher.cores.len()
                )
            })
        }),
        cores: threads.iter().map(|(core, _)| *core).collect(),
    };
    let tick = tick_ns();
    let disturbance = Disturbance {
        steal_ns: steal_before
            .zip(steal_after)
            .zip(tick)
            .map(|((before, after), tick)| after.saturating_sub(before) * tick),
        steal_tick_ns: tick,
        round_trip_ns: None,
        threads: threads.into_iter().map(|(_, thread)| thread).collect(),
    };
    (value, placement, disturbance)
}

/// Round trips the cross-core probe makes, in bursts of [`BURST`].
const ROUND_TRIPS: u64 = 4_000;
/// Round trips timed together; the probe keeps the fastest burst.
const BURST: u64 = 250;

/// The round trip between the process's first two cores, whatever a run's
/// plan: the host's placement of them moves every run's figures, pinned or
/// not ([`round_trip_between`]); `None` on one core or without an
/// affinity call.
pub fn cross_core_round_trip_ns() -> Option<f64> {
    match allowed_cores().as_deref() {
        Ok([first, second, ..]) => round_trip_between(*first, *second),
        _ => None,
    }
}

/// The time one value takes to go from a thread pinned on `first` to one
/// pinned on `second` and back, in nanoseconds: the fastest of the bursts
/// of [`BURST`] round trips among [`ROUND_TRIPS`] (about a millisecond in
/// all), so a burst in which another process took one of the cores does
/// not count. That is how close the two cores are right now: on a virtual
/// machine the host may move its virtual CPUs (two hyperthreads of one
/// core, or two cores), and every cross-core figure moves with it. Both
/// ends run on threads of their own, so the caller's affinity is left as
/// it was. `None` when a thread could not be pinned.
fn round_trip_between(first: usize, second: usize) -> Option<f64> {
    let ball = AtomicU64::new(0);
    std::thread::scope(|scope| {
        let echo = scope.spawn(|| {
            if !pin(second) {
                ball.store(u64::MAX, Ordering::Release);
                return false;
            }
            for trip in 0..ROUND_TRIPS {
                loop {
                    match ball.load(Ordering::Acquire) {
                        u64::MAX => return false,
                        served if served == 2 * trip + 1 => break,
                        _ => std::hint::spin_loop(),
                    }
                }
                ball.store(2 * trip + 2, Ordering::Release);
            }
            true
        });
        let serve = scope.spawn(|| {
            let pinned = pin(first);
            let mut fastest = std::time::Duration::MAX;
            let mut burst = std::time::Instant::now();
            for trip in 0..ROUND_TRIPS {
                if !pinned {
                    ball.store(u64::MAX, Ordering::Release);
                    break;
                }
                if trip % BURST == 0 {
                    if trip > 0 {
                        fastest = fastest.min(burst.elapsed());
                    }
                    burst = std::time::Instant::now();
                }
                ball.store(2 * trip + 1, Ordering::Release);
                loop {
                    match ball.load(Ordering::Acquire) {
                        u64::MAX => break,
                        returned if returned == 2 * trip + 2 => break,
                        _ => std::hint::spin_loop(),
                    }
                }
            }
            (pinned, fastest.min(burst.elapsed()))
        });
        let (pinned, fastest) = serve.join().unwrap_or((false, std::time::Duration::ZERO));
        let echoed = echo.join().unwrap_or(false);
        (pinned && echoed).then(|| fastest.as_nanos() as f64 / BURST as f64)
    })
}

/// What ended threads recorded: each one's core and counters.
type Records = Arc<Mutex<Vec<(Option<usize>, ThreadDisturbance)>>>;

/// Pins each announced thread to the next core, while there is one, and
/// records what happened to it.
struct Watcher {
    cores: Vec<usize>,
    next: AtomicUsize,
    threads: Records,
}

impl ThreadWatcher for Watcher {
    fn started(&self) -> Box<dyn Any> {
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        let core = self.cores.get(turn).copied().filter(|&core| pin(core));
        Box::new(Watched {
            core,
            at_start: ThreadCounters::read(),
            records: self.threads.clone(),
        })
    }
}

/// A thread being watched; records its counters when dropped on it.
struct Watched {
    core: Option<usize>,
    at_start: Option<ThreadCounters>,
    records: Records,
}

impl Drop for Watched {
    fn drop(&mut self) {
        let now = ThreadCounters::read();
        let delta = |of: fn(&ThreadCounters) -> u64| {
            self.at_start
                .as_ref()
                .zip(now.as_ref())
                .map(|(before, after)| of(after).saturating_sub(of(before)))
        };
        let thread = ThreadDisturbance {
            pinned: self.core.is_some(),
            involuntary_switches: delta(|c| c.involuntary_switches),
            migrations: delta(|c| c.migrations),
            runnable_wait_ns: delta(|c| c.runnable_wait_ns),
        };
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((self.core, thread));
    }
}

/// A thread's scheduler counters (`/proc/thread-self/sched` and
/// `schedstat`).
struct ThreadCounters {
    involuntary_switches: u64,
    migrations: u64,
    runnable_wait_ns: u64,
}

impl ThreadCounters {
    /// The calling thread's counters; `None` where the platform does not
    /// give them.
    fn read() -> Option<ThreadCounters> {
        let text = std::fs::read_to_string("/proc/thread-self/sched").ok()?;
        let field = |name: &str| {
            text.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == name).then(|| value.trim().parse::<u64>().ok())?
            })
        };
        // Time on the CPU, time waiting runnable, timeslices.
        let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        Some(ThreadCounters {
            involuntary_switches: field("nr_involuntary_switches")?,
            migrations: field("se.nr_migrations")?,
            runnable_wait_ns: schedstat.split_whitespace().nth(1)?.parse().ok()?,
        })
    }
}

/// The machine's steal time so far, in clock ticks (`/proc/stat`'s `cpu`
/// line, eighth value); `None` where the platform does not give it.
fn steal_ticks() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().find(|line| line.starts_with("cpu "))?;
    line.split_whitespace().nth(8)?.parse().ok()
}

/// One clock tick (`_SC_CLK_TCK`), in nanoseconds.
fn tick_ns() -> Option<u64> {
    let per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok()??;
    u64::try_from(per_second)
        .ok()
        .filter(|&hz| hz > 0)
        .map(|hz| 1_000_000_000 / hz)
}

#[cfg(target_os = "linux")]
mod affinity {
    use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
    use nix::unistd::Pid;

    /// The cores this process may run on, in order.
    pub fn allowed_cores() -> Result<Vec<usize>, String> {
        let set = sched_getaffinity(Pid::from_raw(0))
            .map_err(|err| format!("reading the process's CPU affinity: {err}"))?;
        Ok((0..CpuSet::count())
            .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
            .collect())
    }

    /// Pins the calling thread to `core`; `false` when that failed.
    pub fn pin(core: usize) -> bool {
        let mut set = CpuSet::new();
        set.set(core).is_ok() && sched_setaffinity(Pid::from_raw(0), &set).is_ok()
    }
}

#[cfg(not(target_os = "linux"))]
mod affinity {
    /// No affinity call here: every thread is left to the OS.
    pub fn allowed_cores() -> Result<Vec<usize>, String> {
        Err(format!(
            "no thread affinity call on {}",
            std::env::consts::OS
        ))
    }

    /// Never pins.
    pub fn pin(_core: usize) -> bool {
        false
    }
}

use affinity::{allowed_cores, pin};

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn threads_that_fit_are_pinned_each_to_its_own_core() {
        let cores = allowed_cores().expect("affinity is readable");
        let plan = Plan::new(PlacementPolicy::Pinned, Some(cores.len()));
        let ((), placement, disturbance) = observe(plan, || {
            std::thread::scope(|scope| {
                for _ in 0..cores.len() {
                    scope.spawn(|| {
                        let _watched = chanlab_scenarios::watch::started();
                    });
                }
            });
        });
        assert_eq!(placement.policy, PlacementPolicy::Pinned);
        let mut got: Vec<usize> = placement.cores.iter().flatten().copied().collect();
        got.sort_unstable();
        assert_eq!(got, cores);
        assert_eq!(disturbance.threads.len(), cores.len());
    }
}
