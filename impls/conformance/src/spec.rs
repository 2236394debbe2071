//! Violations of the written spec ([`Rule`], in `chanlab-contract`).

use std::fmt;

pub use chanlab_contract::Rule;
use serde::Serialize;

/// A broken rule, with what was observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The rule that was broken.
    pub rule: Rule,
    /// What happened, concretely enough to reproduce.
    pub detail: String,
}

impl Violation {
    /// A violation of `rule`.
    pub fn new(rule: Rule, detail: impl Into<String>) -> Self {
        Violation {
            rule,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.rule, self.detail)
    }
}

impl std::error::Error for Violation {}

/// Fails with a violation of `rule` unless `condition` holds.
///
/// A violation the flavor declares as a known failure of the running check
/// is recorded instead ([`crate::known`]), and the check goes on.
pub(crate) fn ensure(
    condition: bool,
    rule: Rule,
    detail: impl FnOnce() -> String,
) -> Result<(), Violation> {
    if condition {
        Ok(())
    } else {
        crate::known::tolerate(Violation::new(rule, detail()))
    }
}
