//! The conformance suites on every flavor chanlab ships: one module per
//! flavor, one `#[test]` per check. Known failures are declared with each
//! flavor, in its `INFO`. Async flavors are checked through their blocking
//! view (which drives the library's own futures) and by the async suite;
//! libraries with both ends on one channel, by the mixed suite.

mod blocking {
    use chanlab_conformance::{BlockOn, conformance_tests};

    conformance_tests!(reference: chanlab_impls::Reference);
    conformance_tests!(reference_async: BlockOn<chanlab_impls::AsyncReference>);
    conformance_tests!(std_mpsc: chanlab_impls::StdMpsc);
    conformance_tests!(std_mpsc_shared: chanlab_impls::StdMpscShared);
    conformance_tests!(crossbeam: chanlab_impls::Crossbeam);
    conformance_tests!(flume: chanlab_impls::Flume);
    conformance_tests!(flume_async: BlockOn<chanlab_impls::FlumeAsync>);
    conformance_tests!(tokio_mpsc: BlockOn<chanlab_impls::TokioMpsc>);
    conformance_tests!(tokio_mpsc_blocking: chanlab_impls::TokioMpscBlocking);
    conformance_tests!(kanal: chanlab_impls::Kanal);
    conformance_tests!(kanal_async: BlockOn<chanlab_impls::KanalAsync>);
    conformance_tests!(async_channel: BlockOn<chanlab_impls::AsyncChannel>);
    conformance_tests!(async_channel_blocking: chanlab_impls::AsyncChannelBlocking);
}

mod futures {
    use chanlab_conformance::async_conformance_tests;

    async_conformance_tests!(reference_async: chanlab_impls::AsyncReference);
    async_conformance_tests!(flume_async: chanlab_impls::FlumeAsync);
    async_conformance_tests!(tokio_mpsc: chanlab_impls::TokioMpsc);
    async_conformance_tests!(kanal_async: chanlab_impls::KanalAsync);
    async_conformance_tests!(async_channel: chanlab_impls::AsyncChannel);
}

mod mixed {
    use chanlab_conformance::bridge_conformance_tests;

    bridge_conformance_tests!(flume: chanlab_impls::FlumeBridge);
    bridge_conformance_tests!(tokio: chanlab_impls::TokioBridge);
    bridge_conformance_tests!(kanal: chanlab_impls::KanalBridge);
    bridge_conformance_tests!(async_channel: chanlab_impls::AsyncChannelBridge);
}
