//! How many items a cell's measured run carries. The parent run applies
//! these rules to probe runs it asks a worker for, the same job as a
//! measured repetition (a warm-up, then the run), so sizing sees warm runs
//! and a Rust and a Go worker are sized by the one loop.

use std::time::Duration;

use chanlab_report::schema::Workload;
use chanlab_scenarios::MAX_ITEMS;
use chanlab_scenarios::load::{IDLE_GAP, MOST_IDLE_ITEMS, Measure};

/// Items in the first probe of a cell.
pub const FIRST_PROBE: usize = 64;

/// Most items sizing gives a pattern: its oracle keeps a record of every
/// item. A load's tally is O(1) per message, so loads go up to the
/// workload limit ([`MAX_ITEMS`]).
const MOST_PATTERN_ITEMS: usize = 1 << 23;

/// A probe at least this share of the budget is long enough to size from.
const PROBE_SHARE: u32 = 4;

/// Most a probe grows the item count at once: a run far too short to time
/// well says little about how a longer one scales. A probe under a
/// hundredth of the budget may grow by [`MOST_GROWTH_FROM_TINY`], so a fast
/// cell takes three or four probes rather than six: each is a process.
const MOST_GROWTH: u128 = 16;
const MOST_GROWTH_FROM_TINY: u128 = 256;

/// Times a cell is re-sized after a measured run under half the budget,
/// before it is marked short.
pub const MOST_RESIZES: usize = 2;

/// The most items sizing gives `workload`, and why, when the reason is the
/// pattern's own limit rather than the workload limit.
pub fn most_items(workload: &Workload) -> (usize, Option<String>) {
    match workload {
        Workload::Pattern { pattern, .. } => {
            let (most, why) = pattern.most_items();
            if most < MOST_PATTERN_ITEMS {
                (
                    most,
                    Some(format!("{pattern} takes at most {most} items{why}")),
                )
            } else {
                (MOST_PATTERN_ITEMS, None)
            }
        }
        Workload::Load { spec, .. } if spec.measure == Measure::Idle => (
            MOST_IDLE_ITEMS,
            Some(format!(
                "an idle load takes at most {MOST_IDLE_ITEMS} messages, one every {IDLE_GAP:?} per producer"
            )),
        ),
        Workload::Load { .. } => (MAX_ITEMS, None),
    }
}

/// What to do after a probe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// Probe again with this many items.
    Probe(usize),
    /// Sized: measured runs carry `items`, about `ns_per_item` each.
    Sized {
        /// Items per measured run.
        items: usize,
        /// Nanoseconds per item in the probe sized from.
        ns_per_item: f64,
    },
}

/// After a probe of `items` items that took `elapsed`: probe again with
/// more (up to `most`), or fill `budget` at the probe's pace once it lasted
/// a quarter of the budget or reached `most`.
pub fn after_probe(items: usize, elapsed: Duration, budget: Duration, most: usize) -> Step {
    if elapsed >= budget / PROBE_SHARE || items >= most {
        return Step::Sized {
            items: fill(items, elapsed, budget, most),
            ns_per_item: elapsed.as_nanos() as f64 / items.max(1) as f64,
        };
    }
    let most_growth = if elapsed < budget / 100 {
        MOST_GROWTH_FROM_TINY
    } else {
        MOST_GROWTH
    };
    let grow = match elapsed.as_nanos() {
        0 => most_growth,
        ns => ((budget / PROBE_SHARE).as_nanos() / ns).clamp(2, most_growth),
    };
    Step::Probe(items.saturating_mul(grow as usize).min(most))
}

/// Sizes a cell with `probe`, which runs it with a number of items and
/// returns how long that took, or why it could not: probes from
/// [`FIRST_PROBE`] (at most `most`) as [`after_probe`] says, until sized.
/// Returns the items per measured run and the nanoseconds per item of the
/// probe sized from, or the first failed probe's items and failure.
pub fn by_probes<E>(
    budget: Duration,
    most: usize,
    mut probe: impl FnMut(usize) -> anyhow::Result<Result<Duration, E>>,
) -> anyhow::Result<Result<(usize, f64), (usize, E)>> {
    let mut items = FIRST_PROBE.min(most);
    loop {
        let elapsed = match probe(items)? {
            Ok(elapsed) => elapsed,
            Err(why) => return Ok(Err((items, why))),
        };
        match after_probe(items, elapsed, budget, most) {
            Step::Probe(more) => items = more,
            Step::Sized { items, ns_per_item } => return Ok(Ok((items, ns_per_item))),
        }
    }
}

/// Items for a run of `budget` at the pace of a run of `items` items that
/// took `elapsed`, within `1..=most`.
pub fn fill(items: usize, elapsed: Duration, budget: Duration, most: usize) -> usize {
    let ns_per_item = (elapsed.as_nanos() as f64 / items.max(1) as f64).max(0.001);
    ((budget.as_nanos() as f64 / ns_per_item) as usize).clamp(1, most)
}

/// Whether a measured run that took `elapsed` falls short of `budget`:
/// under half of it.
pub fn is_short(elapsed: Duration, budget: Duration) -> bool {
    elapsed < budget / 2
}

/// A measured run this many times the budget is re-sized down: sizing
/// misjudged the cell, and the run's length is the whole profile's.
const TOO_LONG: u32 = 4;

/// A measured run of a cell, and what is known of the cell.
pub struct Measured<'a> {
    /// Items in the run.
    pub items: usize,
    /// How long it took.
    pub elapsed: Duration,
    /// The most items the cell takes, and why when that is its pattern's
    /// own limit.
    pub most: (usize, Option<&'a str>),
    /// The schedule's rate, for a run whose length is its schedule (open
    /// loop, idle).
    pub scheduled_rate: Option<f64>,
    /// Times the cell was re-sized already.
    pub resized: usize,
    /// The cell's last run that was short and re-sized: items and time.
    pub last_short: Option<(usize, Duration)>,
}

/// What to do with a measured run.
#[derive(Debug, Clone, PartialEq)]
pub enum Fit {
    /// Keep it.
    Keep,
    /// Re-size the cell to this many items and measure again.
    Resize(usize),
    /// Keep it, and mark the cell: its runs fall short of the budget, and
    /// why.
    Short(String),
}

/// Whether `run` lasted its `budget`: kept, re-sized (under half the budget
/// or over four times it, at most [`MOST_RESIZES`] times), or kept and
/// marked short when the cell cannot reach the budget (its pattern's item
/// limit, an open-loop schedule, runs that do not lengthen with their items,
/// or re-sizings that did not get there). "Do not lengthen" asks twice the
/// items to take within a fifth of the same time: a load on two cores can
/// vary several-fold from run to run, and that is noise, not a deadline.
pub fn fit(run: &Measured<'_>, budget: Duration) -> Fit {
    let short = is_short(run.elapsed, budget);
    if !short && run.elapsed <= budget * TOO_LONG {
        return Fit::Keep;
    }
    let marked = |why: String| {
        let lasted = Duration::from_micros(run.elapsed.as_micros() as u64);
        Fit::Short(format!(
            "runs last {} of the {} budget: {why}",
            humantime::format_duration(lasted),
            humantime::format_duration(budget)
        ))
    };
    let (most, limited_by) = run.most;
    if let Some(rate) = run.scheduled_rate {
        return match short {
            true => marked(format!(
                "its run is sized by its schedule, {} messages at {rate:.0}/s",
                run.items
            )),
            false => Fit::Keep,
        };
    }
    if short && run.items >= most {
        return marked(
            limited_by.map_or_else(|| format!("sizing stops at {most} items"), str::to_owned),
        );
    }
    if short
        && let Some((items, elapsed)) = run.last_short
        && run.items >= items * 2
        && run.elapsed.abs_diff(elapsed) < elapsed / 5
    {
        return marked(format!(
            "its runs do not lengthen with their items ({} items took within a fifth of \
             the time {items} did): a deadline or a schedule in the workload sets their length",
            run.items
        ));
    }
    if run.resized >= MOST_RESIZES {
        return match short {
            true => marked(format!(
                "still under half of it after {} re-sizings",
                run.resized
            )),
            false => Fit::Keep,
        };
    }
    Fit::Resize(fill(run.items, run.elapsed, budget, most))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Duration = Duration::from_millis(100);
    const MOST: usize = MAX_ITEMS;

    /// Sizes a cell whose run costs `ns_per_item` per item plus `fixed`,
    /// and returns the items and the probes it took.
    fn size(ns_per_item: u64, fixed: Duration, most: usize) -> (usize, usize) {
        let (mut probes, mut last) = (0, 0);
        let sized = by_probes(BUDGET, most, |items| {
            probes += 1;
            assert!(items > last, "{items} after {last}");
            last = items;
            Ok(Ok::<_, ()>(
                fixed + Duration::from_nanos(ns_per_item * items as u64),
            ))
        });
        let (items, _) = sized.unwrap().unwrap();
        (items, probes)
    }

    #[test]
    fn a_failed_probe_ends_sizing_with_its_reason() {
        let mut probes = 0;
        let sized = by_probes(BUDGET, MOST, |items| {
            probes += 1;
            Ok(match items {
                FIRST_PROBE => Ok(Duration::from_micros(10)),
                _ => Err(format!("hung at {items}")),
            })
        });
        assert_eq!(sized.unwrap(), Err((16384, "hung at 16384".to_owned())));
        assert_eq!(probes, 2);
    }

    #[test]
    fn a_steady_pace_fills_the_budget() {
        for ns in [20, 1_000, 30_000] {
            let (items, probes) = size(ns, Duration::ZERO, MOST);
            let run = Duration::from_nanos(ns * items as u64);
            assert!(!is_short(run, BUDGET), "{ns} ns/item: {run:?}");
            assert!(run <= BUDGET + BUDGET / 10, "{ns} ns/item: {run:?}");
            assert!(probes <= 6, "{ns} ns/item: {probes} probes");
        }
    }

    #[test]
    fn sizing_stops_at_the_limit() {
        let (items, _) = size(10, Duration::ZERO, 64);
        assert_eq!(items, 64);
        assert!(is_short(Duration::from_nanos(640), BUDGET));
    }

    #[test]
    fn a_run_sized_from_a_slow_probe_is_short_and_resizing_fixes_it() {
        // The last probe ran four times slower than the cell does (the
        // machine was busy): the measured run comes out short, and filling
        // again from the measured run gets there.
        let ns_per_item = 20;
        let items = fill(
            100_000,
            Duration::from_nanos(4 * ns_per_item * 100_000),
            BUDGET,
            MOST,
        );
        let run = Duration::from_nanos(ns_per_item * items as u64);
        assert!(is_short(run, BUDGET), "{run:?}");
        let again = fill(items, run, BUDGET, MOST);
        let rerun = Duration::from_nanos(ns_per_item * again as u64);
        assert!(!is_short(rerun, BUDGET), "{run:?} then {rerun:?}");
    }

    fn run(items: usize, elapsed_ms: u64) -> Measured<'static> {
        Measured {
            items,
            elapsed: Duration::from_millis(elapsed_ms),
            most: (MOST, None),
            scheduled_rate: None,
            resized: 0,
            last_short: None,
        }
    }

    #[test]
    fn runs_short_or_far_too_long_are_resized_then_marked() {
        assert_eq!(fit(&run(1000, 60), BUDGET), Fit::Keep);
        assert_eq!(fit(&run(1000, 300), BUDGET), Fit::Keep);
        assert_eq!(fit(&run(1000, 20), BUDGET), Fit::Resize(5000));
        assert_eq!(fit(&run(1000, 800), BUDGET), Fit::Resize(125));
        let again = Measured {
            resized: MOST_RESIZES,
            ..run(1000, 20)
        };
        assert!(matches!(fit(&again, BUDGET), Fit::Short(why) if why.contains("2 re-sizings")));
        let long_again = Measured {
            resized: MOST_RESIZES,
            ..run(1000, 800)
        };
        assert_eq!(fit(&long_again, BUDGET), Fit::Keep);
    }

    #[test]
    fn a_run_that_cannot_lengthen_is_marked_with_why() {
        let limited = Measured {
            most: (64, Some("errgroup takes at most 64 items")),
            ..run(64, 5)
        };
        assert!(matches!(fit(&limited, BUDGET), Fit::Short(why) if why.contains("errgroup")));
        let deadline = Measured {
            last_short: Some((1000, Duration::from_millis(20))),
            ..run(5000, 21)
        };
        assert!(
            matches!(fit(&deadline, BUDGET), Fit::Short(why) if why.contains("do not lengthen"))
        );
        // Noise: a run twice the items came out shorter, then longer.
        let noisy = Measured {
            last_short: Some((1000, Duration::from_millis(30))),
            ..run(2000, 12)
        };
        assert!(matches!(fit(&noisy, BUDGET), Fit::Resize(_)));
        let scheduled = Measured {
            scheduled_rate: Some(5.0),
            ..run(1, 0)
        };
        assert!(matches!(fit(&scheduled, BUDGET), Fit::Short(why) if why.contains("5/s")));
    }

    #[test]
    fn errgroup_is_limited_by_its_own_rule_and_loads_by_the_workload_limit() {
        use chanlab_scenarios::load::{LoadSpec, Measure};
        use chanlab_scenarios::{Params, Pattern};
        let errgroup = Workload::Pattern {
            pattern: Pattern::ErrGroup,
            params: Params::default(),
        };
        let (most, why) = most_items(&errgroup);
        assert_eq!(most, 64);
        assert!(why.is_some_and(|why| why.contains("thread")));
        let load = Workload::Load {
            spec: LoadSpec {
                producers: 1,
                consumers: 1,
                capacity: chanlab_contract::Capacity::Bounded(64),
                message_bytes: 8,
                items: 1,
                measure: Measure::Throughput,
            },
            offered: None,
        };
        assert_eq!(most_items(&load), (MAX_ITEMS, None));
    }
}
