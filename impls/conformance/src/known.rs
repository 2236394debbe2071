//! Known failures while a check runs: a violation that the flavor declares
//! ([`KnownFailure`]) is recorded and the check goes on, so it still fails
//! on any other violation; one that is not declared ends the check.
//!
//! The declarations are installed for the check's own thread, where every
//! [`ensure`](crate::spec::ensure) of a check runs (helper threads return
//! what they saw and the check thread judges it).

use std::cell::RefCell;

use chanlab_contract::KnownFailure;
use serde::Serialize;

use crate::Violation;

/// A declared known failure that showed up while a check ran.
#[derive(Debug, Clone, Serialize)]
pub struct KnownSeen {
    /// The declaration it matched.
    pub failure: KnownFailure,
    /// The first violation that matched it.
    pub violation: Violation,
    /// How many violations matched it.
    pub times: usize,
    /// Whether the check ended at it (a violation raised outside `ensure`),
    /// so what follows in the check did not run.
    pub ended_check: bool,
}

struct Active {
    check: &'static str,
    declared: Vec<KnownFailure>,
    seen: Vec<KnownSeen>,
}

thread_local! {
    static ACTIVE: RefCell<Option<Active>> = const { RefCell::new(None) };
}

/// Runs `body`, the check called `check`, with `declared` known failures
/// in force on this thread; returns its verdict and the known failures it
/// showed. A violation `body` ends with is itself tolerated when declared.
pub(crate) fn run<R>(
    check: &'static str,
    declared: Vec<KnownFailure>,
    body: impl FnOnce() -> Result<R, Violation>,
) -> (Result<Option<R>, Violation>, Vec<KnownSeen>) {
    run_boxed(check, declared, Box::new(body))
}

/// [`run`] with its body boxed, so the bookkeeping is compiled once per
/// result type, not once per check and flavor.
fn run_boxed<R>(
    check: &'static str,
    declared: Vec<KnownFailure>,
    body: Box<dyn FnOnce() -> Result<R, Violation> + '_>,
) -> (Result<Option<R>, Violation>, Vec<KnownSeen>) {
    ACTIVE.with(|active| {
        *active.borrow_mut() = Some(Active {
            check,
            declared,
            seen: Vec::new(),
        });
    });
    let verdict = match body() {
        Ok(value) => Ok(Some(value)),
        Err(violation) if record(&violation, true) => Ok(None),
        Err(violation) => Err(violation),
    };
    let seen = ACTIVE
        .with(|active| active.borrow_mut().take())
        .map(|active| active.seen)
        .unwrap_or_default();
    (verdict, seen)
}

/// `Ok(())` if `violation` is a declared known failure of the running
/// check (it is recorded), the violation otherwise.
pub(crate) fn tolerate(violation: Violation) -> Result<(), Violation> {
    if record(&violation, false) {
        Ok(())
    } else {
        Err(violation)
    }
}

fn record(violation: &Violation, ends_check: bool) -> bool {
    ACTIVE.with(|active| {
        let mut active = active.borrow_mut();
        let Some(active) = active.as_mut() else {
            return false;
        };
        let check = active.check;
        let Some(failure) = active
            .declared
            .iter()
            .find(|known| known.matches(check, violation.rule, &violation.detail))
            .copied()
        else {
            return false;
        };
        match active.seen.iter_mut().find(|seen| seen.failure == failure) {
            Some(seen) => {
                seen.times += 1;
                seen.ended_check |= ends_check;
            }
            None => active.seen.push(KnownSeen {
                failure,
                violation: violation.clone(),
                times: 1,
                ended_check: ends_check,
            }),
        }
        true
    })
}
