//! Parsers for the command line's typed values, shared by every
//! subcommand's arguments: durations with a unit, and percentages.

use std::time::Duration;

/// A duration in human form, as `humantime` reads it: `100ms`, `1.5s`,
/// `2m`. A bare number other than 0 has no unit and is refused, so
/// `--budget 100` is not read as a hundred of anything by guess.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|err| format!("{err}; give a unit, as in 100ms, 2s or 1m"))
}

/// `10%` or `2.5%`, as a fraction; the sign is required, so `0.1` cannot
/// be mistaken for 10%.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .strip_suffix('%')
        .and_then(|number| number.trim().parse().ok())
        .ok_or_else(|| format!("`{text}` is not a percentage like 10%"))?;
    if !(0.0..100.0).contains(&value) {
        return Err(format!("`{text}` must be at least 0% and below 100%"));
    }
    Ok(value / 100.0)
}
