//! The conformance suite on every flavor chanlab ships: one module per
//! flavor, one `#[test]` per check. Async flavors are checked through their
//! blocking view, which drives the library's own futures.

use chanlab_conformance::conformance_tests;
use chanlab_impls::BlockOn;

mod reference {
    super::conformance_tests!(chanlab_impls::Reference);
}

mod std_mpsc {
    super::conformance_tests!(chanlab_impls::StdMpsc);
}

mod std_mpsc_shared {
    super::conformance_tests!(chanlab_impls::StdMpscShared, known_failures: [
        histories_are_linearizable: "try_recv answers Empty whenever another clone holds the shared receiver's lock, even with messages queued",
    ]);
}

mod crossbeam {
    super::conformance_tests!(chanlab_impls::Crossbeam);
}

mod flume {
    super::conformance_tests!(chanlab_impls::Flume);
}

mod flume_async {
    super::conformance_tests!(super::BlockOn<chanlab_impls::FlumeAsync>);
}

mod tokio_mpsc {
    super::conformance_tests!(super::BlockOn<chanlab_impls::TokioMpsc>);
}

mod tokio_mpsc_blocking {
    super::conformance_tests!(chanlab_impls::TokioMpscBlocking);
}

mod kanal {
    super::conformance_tests!(chanlab_impls::Kanal, known_failures: [
        receivers_gone_disconnects: "kanal's send drops the value when every receiver is gone",
        agrees_with_model: "kanal's send drops the value when every receiver is gone",
    ]);
}

mod kanal_async {
    super::conformance_tests!(super::BlockOn<chanlab_impls::KanalAsync>, known_failures: [
        receivers_gone_disconnects: "kanal's send drops the value when every receiver is gone",
        agrees_with_model: "kanal's send drops the value when every receiver is gone",
    ]);
}

mod async_channel {
    super::conformance_tests!(super::BlockOn<chanlab_impls::AsyncChannel>);
}

mod async_channel_blocking {
    super::conformance_tests!(chanlab_impls::AsyncChannelBlocking);
}
