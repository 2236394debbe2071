//! The conformance suite on every flavor chanlab ships: one module per
//! flavor, one `#[test]` per check. Known failures are declared with each
//! flavor, in its `INFO`. Async flavors are also checked through their
//! blocking view, which drives the library's own futures.

use chanlab_conformance::conformance_tests;
use chanlab_impls::BlockOn;

conformance_tests!(reference: chanlab_impls::Reference);
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
