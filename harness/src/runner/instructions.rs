//! Counting instructions per operation under valgrind: one worker process
//! per implementation runs under `valgrind --tool=callgrind`, collecting
//! only inside [`operations::counted`], zeroed before and dumped after each
//! call, so each operation path gets a dump of its own; the parent reads
//! each dump's total. valgrind counts instructions, not time: the same
//! binary gives the same count whatever else the machine does.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use chanlab_registry::{Driver, Registry};
use chanlab_report::gate::BASELINE_SUFFIX;
use chanlab_report::schema::{InstructionCount, Instructions};
use chanlab_scenarios::operations::{self, Operation};

use super::protocol::{Job, Reply};
use crate::child::{self, Ended};

/// Times each path runs in its counted call: enough that the call's own
/// cost is under a hundredth of an instruction per operation.
pub const REPEAT: usize = 2_000;

/// The longest a count may take: valgrind runs the worker some fifty times
/// slower, and a count does milliseconds of work.
const LIMIT: Duration = Duration::from_secs(120);

/// The valgrind that counts, or why there is none.
pub fn valgrind() -> Result<String, String> {
    let missing = "valgrind is not installed (`apt-get install valgrind`; ci/setup.sh does)";
    let out = Command::new("valgrind")
        .arg("--version")
        .output()
        .map_err(|_| missing.to_owned())?;
    if !out.status.success() {
        return Err(missing.to_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Counts every operation path of each of `implementations` that is a
/// channel flavor: on this build's `exe`, or the baseline build's for a
/// name with [`BASELINE_SUFFIX`]. Dumps go to a scratch directory under
/// `scratch`, removed once read. An error is a fault of chanlab's (the worker would not
/// start), never of a flavor.
pub fn count(
    registry: &Registry,
    implementations: &[String],
    exe: &Path,
    baseline: Option<&Path>,
    scratch: &Path,
) -> anyhow::Result<Instructions> {
    let tool = match valgrind() {
        Ok(version) => format!("{version} (callgrind)"),
        Err(reason) => return Ok(Instructions::NotCounted { reason }),
    };
    let dir = scratch.join("instructions.partial");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the scratch directory {}", dir.display()))?;
    let all = Operation::all();
    let mut counts = Vec::new();
    for name in implementations {
        let (flavor, worker) = match name.strip_suffix(BASELINE_SUFFIX) {
            Some(flavor) => match baseline {
                Some(baseline) => (flavor, baseline),
                None => continue,
            },
            None => (name.as_str(), exe),
        };
        let Ok(implementation) = registry.find(flavor) else {
            continue;
        };
        if !matches!(
            implementation.driver,
            Driver::Sync { .. } | Driver::Async { .. }
        ) {
            continue;
        }
        let out = dir.join(format!("{name}.out"));
        let outcomes = match count_one(worker, flavor, &all, &out) {
            Ok(outcomes) => outcomes,
            Err(err) => all.iter().map(|_| Err(format!("{err:#}"))).collect(),
        };
        counts.extend(all.iter().zip(outcomes).map(|(&operation, outcome)| {
            let (per_operation, refused) = match outcome {
                Ok(total) => (Some(total as f64 / REPEAT as f64), None),
                Err(reason) => (None, Some(reason)),
            };
            InstructionCount {
                implementation: name.clone(),
                operation,
                per_operation,
                refused,
            }
        }));
    }
    std::fs::remove_dir_all(&dir)
        .with_context(|| format!("removing the scratch directory {}", dir.display()))?;
    Ok(Instructions::Counted {
        tool,
        repeat: REPEAT,
        counts,
    })
}

/// Runs one count job on `worker` under callgrind, dumping to `out.N`,
/// and returns each operation's total, or why it has none.
fn count_one(
    worker: &Path,
    flavor: &str,
    operations: &[Operation],
    out: &Path,
) -> anyhow::Result<Vec<Result<u64, String>>> {
    let job = Job::Count {
        implementation: flavor.to_owned(),
        operations: operations.to_vec(),
        repeat: REPEAT,
    };
    let job = serde_json::to_string(&job).context("serializing a count job")?;
    let pattern = operations::COUNTED_FUNCTION;
    let mut command = Command::new("valgrind");
    command
        .arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg(format!("--toggle-collect={pattern}"))
        .arg(format!("--zero-before={pattern}"))
        .arg(format!("--dump-after={pattern}"))
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(worker)
        .args(["run", "--job", &job]);
    let (status, stdout, stderr_tail) = match child::run_command(command, LIMIT)? {
        Ended::Killed => bail!("valgrind did not finish within {LIMIT:?}"),
        Ended::Exited {
            status,
            stdout,
            stderr_tail,
        } => (status, stdout, stderr_tail),
    };
    if !status.success() {
        bail!("the worker under valgrind exited with {status}: {stderr_tail}");
    }
    let refused = match serde_json::from_slice::<Reply>(&stdout) {
        Ok(Reply::Counted { refused }) if refused.len() == operations.len() => refused,
        Ok(_) => bail!("the worker answered a count with another reply"),
        Err(err) => bail!("reading the worker's reply: {err}"),
    };
    // Each counted call is dumped in turn: `out.1`, `out.2`, ...
    let mut dump = 0;
    refused
        .into_iter()
        .map(|refused| match refused {
            Some(reason) => Ok(Err(reason)),
            None => {
                dump += 1;
                let mut path = out.as_os_str().to_owned();
                path.push(format!(".{dump}"));
                total(Path::new(&path)).map(Ok)
            }
        })
        .collect()
}

/// The instructions a callgrind dump counted: its `summary:` line (or
/// `totals:`, which a dump with costs has too).
fn total(dump: &Path) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(dump)
        .with_context(|| format!("reading callgrind's dump {}", dump.display()))?;
    text.lines()
        .find_map(|line| {
            let value = line
                .strip_prefix("summary:")
                .or_else(|| line.strip_prefix("totals:"))?;
            value.split_whitespace().next()?.parse().ok()
        })
        .with_context(|| format!("no total in callgrind's dump {}", dump.display()))
}
