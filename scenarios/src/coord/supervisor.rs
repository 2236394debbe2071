//! [`Supervisor`]: restarts a failing worker with exponential backoff until
//! it finishes or a restart budget is spent (Erlang's supervisor, in the
//! small). A worker fails by returning an error or by panicking. Threads
//! run each attempt on a fresh thread ([`Supervisor::run`]); a task awaits
//! each attempt with its panic caught ([`Supervisor::run_async`]).

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use chanlab_sync::thread;

use super::{SharedClock, panic_message};

/// One attempt of an async worker: a future over the state it borrows.
pub type Attempt<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

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
        let mut report = SupervisorReport::new();
        loop {
            let attempt = thread::spawn(move || {
                let result = catch_unwind(AssertUnwindSafe(|| worker(&mut state)))
                    .unwrap_or_else(|payload| Err(panicked(payload.as_ref())));
                (state, worker, result)
            });
            let result;
            (state, worker, result) = match attempt.join() {
                Ok(returned) => returned,
                Err(_) => unreachable!("the attempt catches its worker's panic"),
            };
            match self.restart_after(result, &mut report) {
                Some(backoff) => self.clock.sleep(backoff),
                None => return (state, report),
            }
        }
    }

    /// [`run`](Supervisor::run) for a task: awaits `worker(&mut state)`,
    /// again after each failure, with a panic in an attempt caught as a
    /// failure, and the backoff slept with [`Clock::sleep_async`].
    ///
    /// [`Clock::sleep_async`]: super::Clock::sleep_async
    pub async fn run_async<S, W>(&self, mut state: S, mut worker: W) -> (S, SupervisorReport)
    where
        S: Send,
        W: for<'a> FnMut(&'a mut S) -> Attempt<'a> + Send,
    {
        let mut report = SupervisorReport::new();
        loop {
            let result = CatchUnwind(worker(&mut state)).await;
            match self.restart_after(result, &mut report) {
                Some(backoff) => self.clock.sleep_async(backoff).await,
                None => return (state, report),
            }
        }
    }

    /// Records an attempt's `result`; returns the backoff before the next
    /// attempt, or `None` when supervision is over (the worker completed,
    /// or the budget is spent).
    fn restart_after(
        &self,
        result: Result<(), String>,
        report: &mut SupervisorReport,
    ) -> Option<Duration> {
        let Err(failure) = result else {
            return None;
        };
        report.failures.push(failure.clone());
        let restart = report.backoffs.len() as u32;
        if restart >= self.policy.max_restarts {
            report.exit = Exit::GaveUp {
                last_failure: failure,
            };
            return None;
        }
        let backoff = self.policy.backoff(restart);
        report.backoffs.push(backoff);
        Some(backoff)
    }
}

impl SupervisorReport {
    fn new() -> Self {
        SupervisorReport {
            exit: Exit::Completed,
            failures: Vec::new(),
            backoffs: Vec::new(),
        }
    }
}

/// A worker's panic, as the failure the supervisor records.
fn panicked(payload: &(dyn std::any::Any + Send)) -> String {
    format!("panicked: {}", panic_message(payload))
}

/// An attempt whose panic while polled becomes its failure. The attempt is
/// not polled again after it panicked.
struct CatchUnwind<'a>(Attempt<'a>);

impl Future for CatchUnwind<'_> {
    type Output = Result<(), String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let attempt = &mut self.0;
        catch_unwind(AssertUnwindSafe(|| attempt.as_mut().poll(cx)))
            .unwrap_or_else(|payload| Poll::Ready(Err(panicked(payload.as_ref()))))
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
