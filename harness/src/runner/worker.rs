//! Asking a worker process for one [`Job`]: chanlab's own binary
//! (`chanlab run --job`) or the Go reference's worker, under a time limit.
//! The answer is the worker's reply, or how it hung or crashed.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use chanlab_report::schema::Status;

use super::go::{self, GoWorker};
use super::protocol::{Job, Reply};
use crate::child::{self, Ended};

/// The process that does a job.
#[derive(Clone, Copy)]
pub enum Worker<'a> {
    /// This binary, at its path.
    Chanlab(&'a Path),
    /// The Go reference's worker.
    Go(&'a GoWorker),
}

/// What a worker process came back with.
pub enum Answer {
    /// Its reply.
    Reply(Reply),
    /// It hung or crashed.
    Status(Status),
}

/// The environment variable whose length varies from job to job.
const LAYOUT_PADDING: &str = "CHANLAB_LAYOUT_PADDING";

/// Padding of a random length below 4 KiB for a worker's environment. The
/// environment (and the program's path) sits at the top of a process's
/// stack, so its size shifts the address of everything below it, and
/// measured code can run faster or slower by where that lands (Mytkowicz
/// et al., "Producing wrong data without doing anything obviously wrong",
/// 2009). Measured here: two copies of one binary whose paths differ by
/// one character, as two builds' do, told apart by 10-30% on SPSC
/// throughput in 3 of 10 A/A runs of the regression gate, and not at all
/// when the paths had one length. A length drawn afresh for every job
/// turns that fixed bias into noise both sides share, which the intervals
/// then count.
fn layout_padding() -> String {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    "x".repeat((random % 4096) as usize)
}

/// Runs `job` on `worker` within `limit`. An error means the worker could
/// not be started, never that the job failed.
pub fn ask(worker: Worker<'_>, job: &Job, limit: Duration) -> anyhow::Result<Answer> {
    let job_text = serde_json::to_string(job).context("serializing a job")?;
    let (exe, args) = match worker {
        Worker::Go(go) => (go.binary.as_path(), vec!["--job".to_owned(), job_text]),
        Worker::Chanlab(exe) => (exe, vec!["run".to_owned(), "--job".to_owned(), job_text]),
    };
    let read = |stdout: &[u8]| match worker {
        Worker::Go(_) => go::reply(stdout),
        Worker::Chanlab(_) => Ok(serde_json::from_slice::<Reply>(stdout)?),
    };
    let mut command = Command::new(exe);
    command.args(&args).env(LAYOUT_PADDING, layout_padding());
    Ok(match child::run_command(command, limit)? {
        Ended::Killed => Answer::Status(Status::Hung {
            after_secs: limit.as_secs_f64(),
            during: String::new(),
        }),
        Ended::Exited {
            status,
            stdout,
            stderr_tail,
        } => match (status.success(), read(&stdout)) {
            (true, Ok(reply)) => Answer::Reply(reply),
            (true, Err(err)) => Answer::Status(Status::Crashed {
                exit: format!("{status}, with a reply chanlab cannot read: {err:#}"),
                stderr_tail,
            }),
            (false, _) => Answer::Status(Status::Crashed {
                exit: status.to_string(),
                stderr_tail,
            }),
        },
    })
}
