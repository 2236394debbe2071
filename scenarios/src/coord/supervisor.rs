//! [`Supervisor`]: restarts a failing worker with exponential backoff until
//! it finishes or a restart budget is spent (Erlang's supervisor, in the
//! small). A worker fails by returning an error or by panicking.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use chanlab_sync::thread;

use super::{SharedClock, panic_message};

/// When and how often to restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Restarts allowed before giving up.
    pub max_restarts: u32,
    /// Wait before the first restart; doubled for each one after.
    pub initial_backoff: Duration,
    /// The longest wait between restarts.
    pub max_backoff: Duration,
}

impl RestartPolicy {
    /// The wait before restart number `restart` (0-based).
    pub fn backoff(&self, restart: u32) -> Duration {
        let factor = 1u32.checked_shl(restart).unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// How supervision ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// The worker returned `Ok`.
    Completed,
    /// The worker failed once more after the last allowed restart.
    GaveUp {
        /// The failure that spent the budget.
        last_failure: String,
    },
}

/// What happened under supervision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisorReport {
    /// How it ended.
    pub exit: Exit,
    /// Every failure, in order.
    pub failures: Vec<String>,
    /// The backoff waited before each restart, in order.
    pub backoffs: Vec<Duration>,
}

/// Runs a worker on its own thread and restarts it when it fails.
pub struct Supervisor {
    clock: SharedClock,
    policy: RestartPolicy,
}

impl Supervisor {
    /// A supervisor that waits on `clock` between restarts.
    pub fn new(clock: SharedClock, policy: RestartPolicy) -> Self {
        Supervisor { clock, policy }
    }

    /// Runs `worker(&mut state)` on a fresh thread, again after each failure,
    /// until it succeeds or the budget is spent. The state survives restarts
    /// (a panic included), so a restarted worker carries on where the last
    /// one stopped. Returns the state and the report.
    pub fn run<S, W>(&self, mut state: S, mut worker: W) -> (S, SupervisorReport)
    where
        S: Send + 'static,
        W: FnMut(&mut S) -> Result<(), String> + Send + 'static,
    {
        let mut report = SupervisorReport {
            exit: Exit::Completed,
            failures: Vec::new(),
            backoffs: Vec::new(),
        };
        loop {
            let attempt = thread::spawn(move || {
                let result = catch_unwind(AssertUnwindSafe(|| worker(&mut state))).unwrap_or_else(
                    |payload| Err(format!("panicked: {}", panic_message(payload.as_ref()))),
                );
                (state, worker, result)
            });
            let result;
            (state, worker, result) = match attempt.join() {
                Ok(returned) => returned,
                Err(_) => unreachable!("the attempt catches its worker's panic"),
            };
            let Err(failure) = result else {
                return (state, report);
            };
            report.failures.push(failure.clone());
            let restart = report.backoffs.len() as u32;
            if restart >= self.policy.max_restarts {
                report.exit = Exit::GaveUp {
                    last_failure: failure,
                };
                return (state, report);
            }
            let backoff = self.policy.backoff(restart);
            self.clock.sleep(backoff);
            report.backoffs.push(backoff);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::{Clock, ManualClock};

    fn policy(max_restarts: u32) -> RestartPolicy {
        RestartPolicy {
            max_restarts,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(25),
        }
    }

    #[test]
    fn restarts_with_backoff_then_completes() {
        let clock = std::sync::Arc::new(ManualClock::new());
        let supervisor = Supervisor::new(clock.clone(), policy(5));
        let (attempts, report) = supervisor.run(0u32, |attempts| {
            *attempts += 1;
            match *attempts {
                1 => Err("first".into()),
                2 => panic!("second"),
                3 => Err("third".into()),
                _ => Ok(()),
            }
        });
        assert_eq!(attempts, 4);
        assert_eq!(report.exit, Exit::Completed);
        assert_eq!(report.failures, ["first", "panicked: second", "third"]);
        let ms = Duration::from_millis;
        assert_eq!(report.backoffs, [ms(10), ms(20), ms(25)]);
        assert_eq!(clock.now(), ms(55));
    }

    #[test]
    fn gives_up_when_the_budget_is_spent() {
        let clock = std::sync::Arc::new(ManualClock::new());
        let (_, report) = Supervisor::new(clock, policy(2)).run((), |()| Err("always".into()));
        assert_eq!(report.failures.len(), 3);
        assert_eq!(report.backoffs.len(), 2);
        assert_eq!(
            report.exit,
            Exit::GaveUp {
                last_failure: "always".into()
            }
        );
    }
}
