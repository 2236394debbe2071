//! Running one piece of work in a child process of this same binary, so a
//! hang is killed and reported, a crash (an abort, a double free) is seen as
//! an exit status, and the parent goes on either way.

use std::io::Read;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;

/// How a child ended.
pub enum Ended {
    /// It exited on its own, with what it wrote.
    Exited {
        /// Its exit status.
        status: ExitStatus,
        /// Everything it wrote to standard output.
        stdout: Vec<u8>,
        /// The last lines it wrote to standard error.
        stderr_tail: String,
    },
    /// It was still running at the limit and was killed.
    Killed,
}

/// Runs `exe` with `args`, waits up to `limit`, and kills it past that.
/// An error means the child could not be started or reaped, never that it
/// failed.
pub fn run(exe: &Path, args: &[String], limit: Duration) -> anyhow::Result<Ended> {
    let mut command = Command::new(exe);
    command.args(args);
    run_command(command, limit)
}

/// Runs `command` (a program, its arguments and environment), waits up to
/// `limit`, and kills it past that. An error means the child could not be
/// started or reaped, never that it failed.
pub fn run_command(mut command: Command, limit: Duration) -> anyhow::Result<Ended> {
    if crate::interrupt::installed() {
        // Out of the terminal's process group: Ctrl-C is the parent's to
        // act on, and the job under way finishes.
        command.process_group(0);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {command:?}"))?;
    crate::interrupt::track_worker(Some(child.id()));
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_or_kill(&mut child, limit);
    crate::interrupt::track_worker(None);
    let status = status?;
    // The drain threads end once the child's pipes close, which they have:
    // the child exited or was killed and reaped.
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    Ok(match status {
        None => Ended::Killed,
        Some(status) => Ended::Exited {
            status,
            stdout,
            stderr_tail: tail(&String::from_utf8_lossy(&stderr), 8),
        },
    })
}

/// Reads a child's pipe to the end on its own thread, so neither pipe can
/// fill up and stall the child.
fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buffer = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error leaves what was read so far, which is reported.
            let _ = pipe.read_to_end(&mut buffer);
        }
        buffer
    })
}

/// Waits for `child` up to `limit`; kills it and returns `None` past that.
fn wait_or_kill(child: &mut Child, limit: Duration) -> anyhow::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait().context("waiting for a worker")? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            child.kill().context("killing a hung worker")?;
            child.wait().context("reaping a killed worker")?;
            return Ok(None);
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
