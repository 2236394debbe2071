//! Ctrl-C during a measuring run (`chanlab run`, `chanlab ab`), and SIGTERM
//! and SIGHUP (a closed terminal or tmux pane) alike. The first asks the
//! run to stop after the job under way: it keeps every finished
//! result, renders its report marked partial and says how to resume. The
//! second ends the process at once, and the worker under way with it; the
//! results file is valid either way, since it is replaced atomically, and
//! holds every job up to its last save, a moment before (saves wait while
//! writing the file would take more than a tenth of the run). Workers run in their own process group once the handler is
//! installed, so the terminal's Ctrl-C reaches only the parent, which
//! decides.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use anyhow::Context;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Set by the first Ctrl-C.
static REQUESTED: AtomicBool = AtomicBool::new(false);
/// Whether this process handles Ctrl-C itself.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The worker under way, or 0.
static WORKER: AtomicI32 = AtomicI32::new(0);

/// Handles Ctrl-C for the rest of the process's life.
pub fn install() -> anyhow::Result<()> {
    ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            let worker = WORKER.load(Ordering::SeqCst);
            if worker != 0 {
                // It may have ended meanwhile: then there is nothing to stop.
                let _ = kill(Pid::from_raw(worker), Signal::SIGKILL);
            }
            say!(
                "\nchanlab: interrupted again: stopping now; the results file keeps every \
                 job up to its last save, a moment ago"
            );
            std::process::exit(130);
        }
        say!("\nchanlab: interrupted: stopping after the job under way (Ctrl-C again stops now)");
    })
    .context("installing the Ctrl-C handler")?;
    INSTALLED.store(true, Ordering::SeqCst);
    Ok(())
}

/// Asks the run to stop after the job under way, as a first Ctrl-C does,
/// without a word: called when nobody reads the output any more.
pub fn stop() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Whether Ctrl-C asked the run to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Whether workers should be kept from the terminal's Ctrl-C.
pub fn installed() -> bool {
    INSTALLED.load(Ordering::SeqCst)
}

/// Records the worker under way (`None` once it ended), for a second Ctrl-C
/// to stop.
pub fn track_worker(pid: Option<u32>) {
    let pid = pid.and_then(|pid| i32::try_from(pid).ok()).unwrap_or(0);
    WORKER.store(pid, Ordering::SeqCst);
}
