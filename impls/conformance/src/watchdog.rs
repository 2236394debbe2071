//! Runs a check on its own thread with a deadline, so a hung or panicking
//! implementation becomes a named failure instead of a stuck or aborted run.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::{Rule, Violation};

/// Runs `body` on a new thread and waits at most `deadline` for it.
///
/// A panic becomes a [`Rule::Liveness`] violation carrying the panic message.
/// On a hang the thread cannot be stopped: it is left blocked, the violation
/// says so, and the thread lives until its process ends. nextest runs each
/// test in its own process and `chanlab conformance` each flavor's suite, so
/// a hung check's threads do not outlive them.
pub fn guarded<R: Send + 'static>(
    what: &str,
    deadline: Duration,
    body: impl FnOnce() -> Result<R, Violation> + Send + 'static,
) -> Result<R, Violation> {
    guarded_boxed(what, deadline, Box::new(body))
}

/// [`guarded`] with its body boxed: one copy of the thread machinery per
/// result type instead of one per check and flavor, which keeps the
/// binaries that instantiate every suite for every flavor small.
fn guarded_boxed<R: Send + 'static>(
    what: &str,
    deadline: Duration,
    body: Box<dyn FnOnce() -> Result<R, Violation> + Send>,
) -> Result<R, Violation> {
    let (done_tx, done_rx) = mpsc::channel();
    let spawned = thread::Builder::new()
        .name(format!("chanlab-check-{what}"))
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(body));
            // The watchdog may have given up already; then nobody listens.
            let _ = done_tx.send(outcome);
        });
    let handle = match spawned {
        Ok(handle) => handle,
        Err(err) => {
            return Err(Violation::new(
                Rule::Liveness,
                format!("{what}: could not start the check thread: {err}"),
            ));
        }
    };
    match done_rx.recv_timeout(deadline) {
        Ok(outcome) => {
            // The thread has sent its last message and is ending.
            let _ = handle.join();
            match outcome {
                Ok(result) => result,
                Err(panic) => Err(Violation::new(
                    Rule::Liveness,
                    format!("{what}: panicked: {}", panic_message(&*panic)),
                )),
            }
        }
        Err(_) => Err(Violation::new(
            Rule::Liveness,
            format!(
                "{what}: did not finish within {deadline:?} (hung; its threads are left blocked)"
            ),
        )),
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(message) = panic.downcast_ref::<&str>() {
        message
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message
    } else {
        "(non-string panic payload)"
    }
}
