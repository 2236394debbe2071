//! Supervisor: a failed attempt is seen and restarted with the state it
//! left, on every schedule.

use std::time::Duration;

use chanlab_scenarios::coord::{Exit, ManualClock, RestartPolicy, Supervisor};
use chanlab_sync::{Arc, Mutex, thread};

use super::{loom_finds, model};

const POLICY: RestartPolicy = RestartPolicy {
    max_restarts: 2,
    initial_backoff: Duration::from_millis(1),
    max_backoff: Duration::from_millis(4),
};

/// The worker fails on its first attempt and completes on its second.
fn flaky(attempts: &mut u32) -> Result<(), String> {
    *attempts += 1;
    if *attempts == 1 {
        Err("first attempt".into())
    } else {
        Ok(())
    }
}

#[test]
fn a_failed_attempt_is_restarted_with_its_state() {
    model(|| {
        let supervisor = Supervisor::new(std::sync::Arc::new(ManualClock::new()), POLICY);
        let (attempts, report) = supervisor.run(0u32, flaky);
        assert_eq!(attempts, 2);
        assert_eq!(report.exit, Exit::Completed);
        assert_eq!(report.failures, ["first attempt"]);
    });
}

/// Broken: reads an attempt's outcome from a shared slot right after
/// starting it, without joining it first.
fn impatient(max_restarts: u32) -> u32 {
    let attempts = Arc::new(Mutex::new(0u32));
    let mut restarts = 0;
    loop {
        let outcome = Arc::new(Mutex::new(None));
        let attempt = {
            let (attempts, outcome) = (Arc::clone(&attempts), Arc::clone(&outcome));
            thread::spawn(move || {
                let result = flaky(&mut attempts.lock());
                *outcome.lock() = Some(result);
            })
        };
        let seen = outcome.lock().take();
        attempt.join().unwrap();
        match seen {
            Some(Err(_)) if restarts < max_restarts => restarts += 1,
            Some(_) => return *attempts.lock(),
            None => panic!("the supervisor lost an attempt's outcome"),
        }
    }
}

#[test]
fn supervisor_twin_that_does_not_wait_for_its_worker_is_caught() {
    let report = loom_finds(
        "supervisor::supervisor_twin_that_does_not_wait_for_its_worker_is_caught",
        || {
            assert_eq!(impatient(POLICY.max_restarts), 2);
        },
    );
    assert!(report.contains("lost an attempt's outcome"), "{report}");
}
