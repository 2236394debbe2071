//! `go-chan`, the Go reference (`impls/go`): the same patterns and loads on
//! Go's channels and goroutines. `chanlab run` builds it with the Go
//! toolchain when one is installed and starts it as the worker process of
//! every `go-chan` job, with the same job JSON a Rust worker gets; its
//! reply has the Rust worker's shape, but latency comes as (value, count)
//! pairs at HdrHistogram's precision, which become the same histogram
//! here.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use chanlab_report::schema::{GoToolchain, Latency, Placement, PlacementPolicy, Repetition};
use chanlab_scenarios::Pattern;
use chanlab_scenarios::load::new_histogram;
use serde::Deserialize;

use super::protocol::Reply;

/// The implementation's name in filters and results.
pub const NAME: &str = chanlab_report::schema::GO_REFERENCE;

/// The kind of refusal for a Go cell on a machine without a Go toolchain.
pub const UNAVAILABLE: &str = "go-unavailable";

/// The kind of refusal the Go worker gives for a workload it cannot run.
pub const REFUSED: &str = "refused-by-go";

/// The one command that installs a Go toolchain on Debian.
pub const INSTALL: &str = "sudo apt-get install golang-go";

/// The patterns the Go reference implements.
pub const PATTERNS: [Pattern; 9] = [
    Pattern::WorkerPool,
    Pattern::FanOutFanIn,
    Pattern::Pipeline,
    Pattern::ProducerConsumer,
    Pattern::PubSub,
    Pattern::Select,
    Pattern::Semaphore,
    Pattern::ErrGroup,
    Pattern::Singleflight,
];

/// The Go module's folder.
fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../impls/go")
}

/// The built worker, ready to run jobs.
pub struct GoWorker {
    /// The `chanlab-go` executable.
    pub binary: PathBuf,
    /// Its Go version and GOMAXPROCS.
    pub toolchain: GoToolchain,
}

/// Builds the Go worker; the error says why there is none, in words for the
/// user, with the command that fixes it.
pub fn prepare() -> Result<GoWorker, String> {
    let version = Command::new("go").arg("version").output();
    if !version.as_ref().is_ok_and(|out| out.status.success()) {
        return Err(format!(
            "no Go toolchain on PATH, so go-chan cannot run: install one with `{INSTALL}` (ci/setup.sh does)"
        ));
    }
    if !source().is_dir() {
        return Err(
            "the Go reference's source (impls/go) is not beside this build of chanlab, so go-chan \
             cannot run: build chanlab from its repository (a git dependency), not a packaged crate"
                .to_owned(),
        );
    }
    // Built beside the runs, never in the source (a cargo checkout when
    // chanlab is a git dependency); `go build` runs in the source
    // directory, so the path is made absolute.
    let binary = std::path::absolute(crate::places::home().join("go-chan/chanlab-go"))
        .map_err(|err| format!("finding where to build the Go worker: {err}"))?;
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(source())
        .output()
        .map_err(|err| format!("running `go build` in impls/go: {err}"))?;
    if !built.status.success() {
        return Err(format!(
            "`go build` in impls/go failed: {}",
            String::from_utf8_lossy(&built.stderr).trim()
        ));
    }
    let toolchain = info(&binary).map_err(|err| format!("{err:#}"))?;
    Ok(GoWorker { binary, toolchain })
}

/// What the built worker says of its runtime.
fn info(binary: &Path) -> anyhow::Result<GoToolchain> {
    let out = Command::new(binary)
        .arg("--info")
        .output()
        .with_context(|| format!("starting {}", binary.display()))?;
    serde_json::from_slice(&out.stdout).context("reading chanlab-go --info")
}

/// The Go worker's reply.
#[derive(Deserialize)]
#[serde(tag = "reply", rename_all = "kebab-case")]
enum GoReply {
    Measured {
        /// Everything but the latency, in the Rust worker's shape (boxed:
        /// the other replies are small).
        #[serde(flatten)]
        repetition: Box<Repetition>,
        /// (nanoseconds, count) pairs.
        latency_ns: Option<Vec<(u64, u64)>>,
    },
    Refused {
        reason: String,
    },
    Failed {
        reason: String,
    },
}

/// The runner's [`Reply`] for what the Go worker wrote.
pub fn reply(stdout: &[u8]) -> anyhow::Result<Reply> {
    let reply: GoReply = serde_json::from_slice(stdout).context("reading chanlab-go's reply")?;
    Ok(match reply {
        GoReply::Refused { reason } => Reply::Refused {
            reason,
            kind: REFUSED.to_owned(),
        },
        GoReply::Failed { reason } => Reply::Failed { reason },
        GoReply::Measured {
            mut repetition,
            latency_ns,
        } => {
            if let Some(pairs) = latency_ns {
                let mut histogram = new_histogram()?;
                for (value, count) in pairs {
                    histogram
                        .record_n(value.max(1), count)
                        .with_context(|| format!("recording a latency of {value} ns"))?;
                }
                repetition.latency = Some(Latency::of(&histogram)?);
            }
            repetition.placement = Some(Placement {
                policy: PlacementPolicy::Os,
                reason: Some("goroutines: the Go runtime places them".to_owned()),
                cores: Vec::new(),
            });
            Reply::Measured(repetition)
        }
    })
}
