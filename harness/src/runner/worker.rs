//! Asking a worker process for one [`Job`]: chanlab's own binary
//! (`chanlab run --job`) or the Go reference's worker, under a time limit.
//! The answer is the worker's reply, or how it hung or crashed.

use std::path::Path;
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
    Ok(match child::run(exe, &args, limit)? {
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
