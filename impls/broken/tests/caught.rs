//! The conformance suite rejects every broken twin, naming the rule that
//! the twin's fault breaks. The suite's checks are written from the spec,
//! not from these faults; this only shows that they can fail.

use std::time::Duration;

use chanlab_broken::{Broken, Polling};
use chanlab_conformance::{Rule, Settings, run_suite};
use chanlab_contract::SyncFlavor;

fn assert_rejected<F: SyncFlavor>(rule: Rule) {
    let settings = Settings {
        // A twin that never disconnects hangs its checks until this fires.
        watchdog: Duration::from_secs(3),
        // Every twin runs the whole suite; each fault shows well within
        // a shorter stress phase.
        stress_budget: Duration::from_millis(20),
        ..Settings::default()
    };
    let results = run_suite::<F>(&settings);
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
        "{} was not rejected for {rule}; violations found: {violations:#?}",
        F::INFO.name
    );
    for (check, violation) in &violations {
        eprintln!("{}: {check}: {violation}", F::INFO.name);
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

caught! {
    losing_messages_breaks_exactly_once: Broken<Loses> => ExactlyOnce;
    duplicating_messages_breaks_exactly_once: Broken<Duplicates> => ExactlyOnce;
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
