//! Running the `chanlab` binary from a test, as a user would.

use std::process::{Command, Output};

/// Where the tests' conformance verdicts are cached, out of the source tree.
pub const VERDICTS: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/verdicts.json");

/// Runs `chanlab` with `args` and waits for it.
pub fn chanlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(args)
        .env("CHANLAB_VERDICTS", VERDICTS)
        .output()
        .expect("the chanlab binary runs")
}

/// Everything the run printed, stdout then stderr.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
