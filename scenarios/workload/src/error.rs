//! A workload parameter out of its range.

/// A workload parameter out of its range: which field, its value, and what
/// it must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} must be {expected}, not {value}")]
pub struct ParamError {
    /// The parameter, by the name a user knows it from (`Params`, a load's
    /// spec, a scenario file).
    pub field: &'static str,
    /// The value it was given.
    pub value: String,
    /// What it must be: a limit, or the values it takes.
    pub expected: String,
}

impl ParamError {
    /// `field` was `value` and must be `expected`.
    pub fn new(field: &'static str, value: impl ToString, expected: impl Into<String>) -> Self {
        ParamError {
            field,
            value: value.to_string(),
            expected: expected.into(),
        }
    }
}
