//! The `chanlab` command with this crate's channel beside the shipped
//! ones: `cargo run --release -p example-channel-runner -- run --impl
//! example --impl crossbeam --scenario load/spsc` measures it against
//! crossbeam in one run, with the same results file, report and `compare`.

fn main() -> std::process::ExitCode {
    chanlab::Runner::new()
        .sync_flavor::<example_channel::Example>()
        .async_flavor::<example_channel::ExampleAsync>()
        .bridge::<example_channel::ExampleBridge>()
        .main()
}
