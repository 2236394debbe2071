//! chanlab's conformance suites on this crate's channel: the blocking suite
//! on its blocking flavor and on its async flavor's blocking view, the
//! async suite on its futures, and the mixed suite across its two ends.
//! Each line makes one module with one test per check; `main` runs them
//! under the conformance crate's harness (`harness = false` in
//! Cargo.toml).

use std::process::ExitCode;

use chanlab_conformance::{
    BlockOn, async_conformance_tests, bridge_conformance_tests, conformance_tests, run_tests,
};

conformance_tests!(blocking: example_channel::Example);
conformance_tests!(async_blocking_view: BlockOn<example_channel::ExampleAsync>);
async_conformance_tests!(futures: example_channel::ExampleAsync);
bridge_conformance_tests!(bridge: example_channel::ExampleBridge);

fn main() -> ExitCode {
    run_tests([
        blocking::tests(),
        async_blocking_view::tests(),
        futures::tests(),
        bridge::tests(),
    ])
}
