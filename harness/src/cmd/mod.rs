//! One module per subcommand.

pub mod ab;
pub mod compare;
pub mod conformance;
pub mod export;
pub mod fidelity;
pub mod list;
pub mod overhead;
pub mod report;
pub mod run;

use std::time::Duration;

/// A duration in human form, as `humantime` reads it: `100ms`, `1.5s`,
/// `2m`. A bare number other than 0 has no unit and is refused, so
/// `--budget 100` is not read as a hundred of anything by guess.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|err| format!("{err}; give a unit, as in 100ms, 2s or 1m"))
}
