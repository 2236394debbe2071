//! The conformance suite rejects every broken twin, naming the rule that
//! the twin's fault breaks. The suite's checks are written from the spec,
//! not from these faults; this only shows that they can fail.

use std::time::Duration;

use chanlab_broken::{Broken, FaultKind};
use chanlab_conformance::{Rule, Settings, run_suite};

fn assert_rejected<K: FaultKind>(rule: Rule) {
    let settings = Settings {
        // A twin that never disconnects hangs its checks until this fires.
        watchdog: Duration::from_secs(3),
        ..Settings::default()
    };
    let results = run_suite::<Broken<K>>(&settings);
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
        K::NAME
    );
    for (check, violation) in &violations {
        eprintln!("{}: {check}: {violation}", K::NAME);
    }
}

macro_rules! caught {
    ($($test:ident: $kind:ident => $rule:ident;)+) => {
        $(
            #[test]
            fn $test() {
                assert_rejected::<chanlab_broken::$kind>(Rule::$rule);
            }
        )+
    };
}

caught! {
    losing_messages_breaks_exactly_once: Loses => ExactlyOnce;
    duplicating_messages_breaks_exactly_once: Duplicates => ExactlyOnce;
    reordering_breaks_fifo: Reorders => Fifo;
    never_disconnecting_breaks_senders_gone: NeverDisconnects => SendersGone;
    leaking_values_breaks_drop_once: Leaks => DropOnce;
    ignoring_capacity_breaks_capacity: IgnoresCapacity => Capacity;
    faking_rendezvous_breaks_rendezvous: FakesRendezvous => Rendezvous;
    swallowing_refused_values_breaks_receivers_gone: SwallowsRefusedValue => ReceiversGone;
    timing_out_early_breaks_recv_timeout: TimesOutEarly => RecvTimeout;
    losing_messages_is_not_linearizable: Loses => Linearizable;
    duplicating_messages_is_not_linearizable: Duplicates => Linearizable;
    reordering_is_not_linearizable: Reorders => Linearizable;
    ignoring_capacity_is_not_linearizable: IgnoresCapacity => Linearizable;
}
