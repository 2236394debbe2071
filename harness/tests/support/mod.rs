//! Running the `chanlab` binary from a test, as a user would.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Where the tests' conformance verdicts are cached, out of the source tree.
pub const VERDICTS: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/verdicts.json");

/// The `chanlab` command with `args`, its verdicts cached out of the
/// source tree, for a test that sets more before running it.
// Not every test binary that shares this module changes the command.
#[allow(dead_code)]
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chanlab"));
    command.args(args).env("CHANLAB_VERDICTS", VERDICTS);
    command
}

/// Runs `chanlab` with `args` and waits for it.
pub fn chanlab(args: &[&str]) -> Output {
    command(args).output().expect("the chanlab binary runs")
}

/// Everything the run printed, stdout then stderr.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The results file of the run in `dir`, parsed.
// Not every test binary that shares this module reads a run's results.
#[allow(dead_code)]
pub fn results(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("results.json")).expect("results.json exists");
    serde_json::from_str(&text).expect("results.json is JSON")
}

/// The cells of `results` whose id contains every one of `parts`.
// Not every test binary that shares this module reads cells or runs.
#[allow(dead_code)]
pub fn cells<'a>(results: &'a Value, parts: &[&str]) -> Vec<&'a Value> {
    results["cells"]
        .as_array()
        .expect("cells is a list")
        .iter()
        .filter(|cell| {
            let id = cell["id"].as_str().unwrap_or_default();
            parts.iter().all(|part| id.contains(part))
        })
        .collect()
}

/// A short run: tiny budget, two repetitions, quick time limits.
#[allow(dead_code)]
pub fn quick_run(out: &Path, extra: &[&str]) -> Output {
    let out = out.to_str().expect("a UTF-8 temp path");
    let mut args = vec![
        "run",
        "--out",
        out,
        "--budget",
        "20ms",
        "--repetitions",
        "2",
        "--min-limit",
        "2s",
        "--cached-verdicts",
    ];
    args.extend_from_slice(extra);
    chanlab(&args)
}
