//! The channel load runs on every flavor and across every bridge in each
//! of its measures, and its oracle rejects the broken twins that lose,
//! duplicate, reorder, or lose one message and deliver another twice in
//! its place.

mod support;

use std::time::Duration;

use chanlab_broken::{Broken, Duplicates, Loses, Reorders, ReplacesWithDuplicate};
use chanlab_contract::{AsyncFlavor, Capacity, FlavorVisitor, SyncFlavor};
use chanlab_scenarios::load::{
    CLOSED_LOOP_SAMPLE, Direction, IDLE_GAP, LoadSpec, MESSAGE_SIZES, Measure, run_load_async,
    run_load_sync, start_load_bridge,
};
use chanlab_scenarios::{Refusal, Runtime, ScenarioError};
use support::within;

const LIMIT: Duration = Duration::from_secs(60);

fn spec(producers: usize, consumers: usize, measure: Measure) -> LoadSpec {
    LoadSpec {
        producers,
        consumers,
        capacity: Capacity::Bounded(4),
        message_bytes: 16,
        items: 2_000,
        measure,
    }
}

const MEASURES: [Measure; 3] = [
    Measure::Throughput,
    Measure::ClosedLoop,
    Measure::OpenLoop { rate: 200_000.0 },
];

/// Checks one run: refused only for a missing capability, otherwise every
/// message arrived, shares add up, and latency is there when measured.
fn check_run(
    place: &str,
    spec: &LoadSpec,
    result: Option<Result<chanlab_scenarios::load::LoadOutcome, ScenarioError>>,
) {
    match result {
        None => panic!("{place}: hung"),
        Some(Err(ScenarioError::NotApplicable(Refusal::NoMultiConsumer { .. }))) => {
            assert!(
                spec.consumers > 1,
                "{place}: refused {} consumers",
                spec.consumers
            );
        }
        Some(Err(err)) => panic!("{place}: {err}"),
        Some(Ok(outcome)) => {
            assert_eq!(outcome.items, spec.items as u64, "{place}");
            assert_eq!(outcome.sent_by.len(), spec.producers, "{place}");
            assert_eq!(outcome.received_by.len(), spec.consumers, "{place}");
            assert_eq!(
                outcome.sent_by.iter().sum::<u64>(),
                spec.items as u64,
                "{place}"
            );
            let (least, most) = (
                outcome.sent_by.iter().min().copied().unwrap_or(0),
                outcome.sent_by.iter().max().copied().unwrap_or(0),
            );
            assert!(
                most - least <= 1,
                "{place}: unequal shares {:?}",
                outcome.sent_by
            );
            match (spec.measure, outcome.latency) {
                (Measure::Throughput | Measure::Idle, None) => {}
                (Measure::Throughput | Measure::Idle, Some(_)) => {
                    panic!("{place}: timed messages in {} mode", spec.measure.name())
                }
                (_, None) => panic!("{place}: no latency recorded"),
                (Measure::ClosedLoop, Some(latency)) => assert_eq!(
                    latency.len(),
                    outcome
                        .sent_by
                        .iter()
                        .map(|&sent| sent.div_ceil(CLOSED_LOOP_SAMPLE as u64))
                        .sum::<u64>(),
                    "{place}: one message in {CLOSED_LOOP_SAMPLE} of each producer is timed"
                ),
                (_, Some(latency)) => assert_eq!(latency.len(), spec.items as u64, "{place}"),
            }
        }
    }
}

struct EveryShape;

impl FlavorVisitor for EveryShape {
    fn visit_sync<F: SyncFlavor>(&mut self) {
        for measure in MEASURES {
            for (producers, consumers) in [(1, 1), (3, 1), (2, 2)] {
                let spec = spec(producers, consumers, measure);
                let place = format!("{} {} {}", F::INFO.name, spec.shape(), measure.name());
                let run = spec.clone();
                check_run(
                    &place,
                    &spec,
                    within(LIMIT, move || run_load_sync::<F>(&run)),
                );
            }
        }
    }

    fn visit_async<F: AsyncFlavor>(&mut self) {
        for runtime in Runtime::ALL {
            for measure in MEASURES {
                for (producers, consumers) in [(1, 1), (2, 2)] {
                    let spec = spec(producers, consumers, measure);
                    let place = format!(
                        "{} {} {} on {}",
                        F::INFO.name,
                        spec.shape(),
                        measure.name(),
                        runtime.name()
                    );
                    let run = spec.clone();
                    check_run(
                        &place,
                        &spec,
                        within(LIMIT, move || run_load_async::<F>(&run, runtime)),
                    );
                }
            }
        }
    }
}

#[test]
fn every_flavor_carries_every_measure() {
    chanlab_impls::visit_all(&mut EveryShape);
}

/// An idle load sleeps its gap before every message, on threads and in
/// tasks, so its receivers wait on an empty channel; it times no message.
#[test]
fn an_idle_load_sleeps_before_each_message() {
    let idle = LoadSpec {
        items: 20,
        ..spec(2, 1, Measure::Idle)
    };
    let sync = run_load_sync::<chanlab_impls::Crossbeam>(&idle).unwrap();
    let tasks = run_load_async::<chanlab_impls::TokioMpsc>(&idle, Runtime::CurrentThread).unwrap();
    for (place, outcome) in [("threads", sync), ("tasks", tasks)] {
        check_run(place, &idle, Some(Ok(outcome.clone())));
        // Each producer sends 10 messages, each after a full gap.
        assert!(
            outcome.elapsed >= IDLE_GAP * 10,
            "{place}: {:?}",
            outcome.elapsed
        );
    }
    assert!(matches!(
        run_load_sync::<chanlab_impls::Crossbeam>(&LoadSpec {
            items: 10_000_000,
            ..idle
        }),
        Err(ScenarioError::InvalidParams(_))
    ));
}

#[test]
fn every_message_size_arrives() {
    for message_bytes in MESSAGE_SIZES {
        let spec = LoadSpec {
            message_bytes,
            ..spec(2, 2, Measure::Throughput)
        };
        let outcome = run_load_sync::<chanlab_impls::Crossbeam>(&spec).unwrap();
        assert_eq!(outcome.items, spec.items as u64, "{message_bytes} bytes");
    }
}

#[test]
fn nonsense_is_refused_before_it_starts() {
    let refused = |spec: LoadSpec| {
        matches!(
            run_load_sync::<chanlab_impls::Crossbeam>(&spec),
            Err(ScenarioError::InvalidParams(_))
        )
    };
    let base = spec(1, 1, Measure::ClosedLoop);
    assert!(refused(LoadSpec {
        producers: 0,
        ..base.clone()
    }));
    assert!(refused(LoadSpec {
        items: 0,
        ..base.clone()
    }));
    assert!(refused(LoadSpec {
        message_bytes: 7,
        ..base.clone()
    }));
    assert!(refused(LoadSpec {
        message_bytes: 0,
        ..base.clone()
    }));
    for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(refused(LoadSpec {
            measure: Measure::OpenLoop { rate },
            ..base.clone()
        }));
    }
    assert!(matches!(
        run_load_sync::<chanlab_impls::StdMpsc>(&spec(1, 2, Measure::Throughput)),
        Err(ScenarioError::NotApplicable(_))
    ));
}

/// The oracle must reject `F` on `spec` within a few attempts.
fn caught<F: SyncFlavor>(spec: LoadSpec) {
    for _ in 0..5 {
        let run = spec.clone();
        match within(LIMIT, move || run_load_sync::<F>(&run)) {
            None => panic!("{}: hung instead of failing", F::INFO.name),
            Some(Err(ScenarioError::Oracle(why))) => {
                println!("{}: caught: {why}", F::INFO.name);
                return;
            }
            Some(Ok(_)) => {}
            Some(Err(other)) => panic!("{}: failed for another reason: {other}", F::INFO.name),
        }
    }
    panic!("{}: the load oracle passed a broken channel", F::INFO.name);
}

#[test]
fn broken_channels_are_caught() {
    for measure in MEASURES {
        caught::<Broken<Loses>>(spec(2, 2, measure));
        // The twin can duplicate only plain values: a bare stamp.
        caught::<Broken<Duplicates>>(LoadSpec {
            message_bytes: 8,
            measure: Measure::Throughput,
            ..spec(2, 2, measure)
        });
        caught::<Broken<Reorders>>(spec(1, 1, measure));
        // One message lost and another delivered twice in its place, so
        // every producer's count adds up: to the same consumer, and (often)
        // to another consumer of an MPMC channel, where only the sum of
        // mixed stamps tells (the unit tests in `load.rs` pin that case).
        for (producers, consumers) in [(1, 1), (2, 2)] {
            caught::<Broken<ReplacesWithDuplicate>>(LoadSpec {
                message_bytes: 8,
                measure: Measure::Throughput,
                ..spec(producers, consumers, measure)
            });
        }
    }
}

struct EveryBridge;

impl chanlab_contract::BridgeVisitor for EveryBridge {
    fn visit<B: chanlab_contract::Bridge>(&mut self) {
        for direction in Direction::ALL {
            for runtime in Runtime::ALL {
                for measure in MEASURES {
                    for (producers, consumers) in [(1, 1), (2, 2)] {
                        let spec = spec(producers, consumers, measure);
                        let place = format!(
                            "{} {} {} {} on {}",
                            <B::Sync as SyncFlavor>::INFO.library,
                            direction.name(),
                            spec.shape(),
                            measure.name(),
                            runtime.name()
                        );
                        let run = spec.clone();
                        check_run(
                            &place,
                            &spec,
                            within(LIMIT, move || {
                                start_load_bridge::<B>(&run, direction, runtime)?.check()
                            }),
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn every_bridge_carries_every_measure_both_ways() {
    chanlab_impls::visit_bridges(&mut EveryBridge);
}
