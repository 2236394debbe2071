//! The conformance suite rejects every broken twin, naming the rule that
//! the twin's fault breaks. The suite's checks are written from the spec,
//! not from these faults; this only shows that they can fail.

use std::time::Duration;

use chanlab_broken::{AsyncPolling, Broken, Lingering, Polling, PollingBridge};
use chanlab_conformance::{
    CheckResult, Rule, Settings, run_async_check, run_async_suite, run_bridge_check, run_check,
    run_suite,
};
use chanlab_contract::{AsyncFlavor, SyncFlavor};

/// Settings for twins: a twin that never disconnects hangs its checks
/// until the watchdog fires, and each fault shows well within a short
/// stress phase.
fn settings() -> Settings {
    Settings {
        watchdog: Duration::from_secs(3),
        stress_budget: Duration::from_millis(20),
        ..Settings::default()
    }
}

fn assert_rejected<F: SyncFlavor>(rule: Rule) {
    assert_violates(F::INFO.name, &run_suite::<F>(&settings()), rule);
}

fn assert_async_rejected<A: AsyncFlavor>(rule: Rule) {
    assert_violates(A::INFO.name, &run_async_suite::<A>(&settings()), rule);
}

/// Some check in `results` found a violation of `rule`.
fn assert_violates(flavor: &str, results: &[CheckResult], rule: Rule) {
    let violations: Vec<_> = results
        .iter()
        .filter_map(|result| {
            result
                .verdict
                .as_ref()
                .err()
                .map(|v| (result.check.name, v))
        })
        .collect();
    assert!(
        violations
            .iter()
            .any(|(_, violation)| violation.rule == rule),
        "{flavor} was not rejected for {rule}; violations found: {violations:#?}"
    );
    for (check, violation) in &violations {
        eprintln!("{flavor}: {check}: {violation}");
    }
}

macro_rules! caught {
    ($($test:ident: $flavor:ident<$kind:ident> => $rule:ident;)+) => {
        $(
            #[test]
            fn $test() {
                assert_rejected::<$flavor<chanlab_broken::$kind>>(Rule::$rule);
            }
        )+
    };
}

/// Async twins, rejected by the async suite.
macro_rules! caught_async {
    ($($test:ident: $kind:ident => $rule:ident;)+) => {
        $(
            #[test]
            fn $test() {
                assert_async_rejected::<AsyncPolling<chanlab_broken::$kind>>(Rule::$rule);
            }
        )+
    };
}

caught! {
    losing_messages_breaks_exactly_once: Broken<Loses> => ExactlyOnce;
    duplicating_messages_breaks_exactly_once: Broken<Duplicates> => ExactlyOnce;
    replacing_with_a_duplicate_breaks_exactly_once: Broken<ReplacesWithDuplicate> => ExactlyOnce;
    reordering_breaks_fifo: Broken<Reorders> => Fifo;
    never_disconnecting_breaks_senders_gone: Broken<NeverDisconnects> => SendersGone;
    leaking_values_breaks_drop_once: Broken<Leaks> => DropOnce;
    ignoring_capacity_breaks_capacity: Broken<IgnoresCapacity> => Capacity;
    faking_rendezvous_breaks_rendezvous: Broken<FakesRendezvous> => Rendezvous;
    swallowing_refused_values_breaks_receivers_gone: Broken<SwallowsRefusedValue> => ReceiversGone;
    timing_out_early_breaks_recv_timeout: Broken<TimesOutEarly> => RecvTimeout;
    losing_messages_is_not_linearizable: Broken<Loses> => Linearizable;
    duplicating_messages_is_not_linearizable: Broken<Duplicates> => Linearizable;
    reordering_is_not_linearizable: Broken<Reorders> => Linearizable;
    ignoring_capacity_is_not_linearizable: Broken<IgnoresCapacity> => Linearizable;
    panicking_on_huge_timeouts_breaks_recv_timeout: Broken<PanicsOnHugeTimeout> => RecvTimeout;
    returning_at_once_on_huge_timeouts_breaks_recv_timeout: Broken<HugeTimeoutReturnsAtOnce> => RecvTimeout;
    dropping_twice_breaks_drop_once: Broken<DropsTwice> => DropOnce;
    try_send_forgetting_the_wake_up_breaks_wakeup: Polling<TrySendForgetsWake> => Wakeup;
    try_recv_forgetting_the_wake_up_breaks_wakeup: Polling<TryRecvForgetsWake> => Wakeup;
    waking_one_on_disconnect_breaks_senders_gone: Polling<DisconnectWakesOne> => SendersGone;
    waking_one_on_disconnect_breaks_receivers_gone: Polling<DisconnectWakesOne> => ReceiversGone;
}

caught_async! {
    a_waker_lost_among_several_breaks_wakeup: LosesWaker => Wakeup;
    a_receive_future_that_takes_and_drops_breaks_its_capability: RecvTakesThenDrops => Capabilities;
    a_dropped_send_future_that_delivers_and_drops_breaks_drop_once: DroppedSendDeliversAndDrops => DropOnce;
    a_woken_receive_future_swallowing_the_wake_up_breaks_wakeup: WokenRecvSwallowsWake => Wakeup;
}

/// The check named is the one that rejects the twin, for the rule named:
/// these classes passed every other check.
macro_rules! caught_by {
    ($($test:ident: $flavor:ident<$kind:ident> by $run:ident($check:ident) => $rule:ident;)+) => {
        $(
            #[test]
            fn $test() {
                type Twin = $flavor<chanlab_broken::$kind>;
                let result = $run::<Twin>(stringify!($check), &settings(), &[])
                    .expect("the check exists");
                assert_violates(
                    stringify!($kind),
                    std::slice::from_ref(&result),
                    Rule::$rule,
                );
            }
        )+
    };
}

caught_by! {
    waking_only_when_empty_misses_back_to_back_receivers:
        Polling<SendWakesOnlyWhenEmpty> by run_check(many_waiters_back_to_back) => Wakeup;
    a_receive_future_keeping_its_first_waker_breaks_wakeup:
        AsyncPolling<RecvKeepsFirstWaker> by run_async_check(async_wakes_latest_waker) => Wakeup;
    waking_only_when_empty_misses_back_to_back_receive_futures:
        AsyncPolling<AsyncWakesOnlyWhenEmpty> by run_async_check(async_many_waiters_back_to_back) => Wakeup;
    leaking_only_after_the_buffer_wraps_breaks_drop_once:
        Broken<LeaksAfterWrap> by run_check(values_dropped_once) => DropOnce;
    a_receive_future_dropping_what_a_blocking_send_handed_it_breaks_its_capability:
        PollingBridge<RecvTakesThenDrops> by run_bridge_check(mixed_cancelled_receive) => Capabilities;
    a_dropped_send_future_keeping_its_slot_breaks_capacity:
        AsyncPolling<DroppedSendKeepsSlot> by run_async_check(cancelled_send_gives_back) => Capacity;
    a_cancelled_send_left_for_the_next_receive_breaks_exactly_once:
        Lingering<CancelledSendLingers> by run_async_check(cancelled_send_gives_back) => ExactlyOnce;
}

/// The timeout twins, with a watchdog that lets the best-of-five upper
/// bound run its attempts out (each one overstays by design).
#[test]
fn timeouts_too_late_or_rounded_down_break_recv_timeout() {
    let patient = Settings {
        watchdog: Duration::from_secs(30),
        ..settings()
    };
    for (name, result) in [
        (
            "late",
            run_check::<Broken<chanlab_broken::TimesOutLate>>(
                "recv_timeout_behaves",
                &patient,
                &[],
            ),
        ),
        (
            "rounded down",
            run_check::<Broken<chanlab_broken::RoundsTimeoutDown>>(
                "recv_timeout_edges",
                &patient,
                &[],
            ),
        ),
    ] {
        let result = result.expect("the check exists");
        assert_violates(name, std::slice::from_ref(&result), Rule::RecvTimeout);
    }
}
