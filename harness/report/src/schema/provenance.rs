//! What a results file says about where and with what it ran: the
//! machine, the build, and the Go toolchain of the `go-chan` cells.

use serde::{Deserialize, Serialize};

/// The build that produced a results file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Build {
    /// chanlab's crate version.
    pub version: String,
    /// The git commit it was built from (`-dirty` if the tree had changes).
    pub git_commit: String,
    /// `rustc --version` of the compiler.
    pub rustc: String,
    /// Version of each library under test, from `Cargo.lock`.
    pub libraries: std::collections::BTreeMap<String, String>,
    /// The cargo profile of the measured code: `release (opt-level 3, debug
    /// assertions off)`; `None` in files written before schema 6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// Where a run ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    /// The host's name.
    pub hostname: String,
    /// The CPU model, from `/proc/cpuinfo` (Linux) or `sysctl` (macOS).
    pub cpu_model: String,
    /// Cores this process may use: more threads than this are
    /// oversubscribed.
    pub cores: usize,
    /// The operating system, from `/etc/os-release` (Linux) or `sysctl`
    /// (macOS).
    pub os: String,
    /// The kernel release.
    pub kernel: String,
    /// The CPU architecture.
    pub arch: String,
    /// The clock the OS reports for the first CPU at the start of the run,
    /// in MHz (`cpu MHz` in `/proc/cpuinfo`, `hw.cpufrequency` on an Intel
    /// Mac); in a VM it is the host's nominal clock, not a measured one.
    /// `None` where the platform does not say, and in files written before
    /// schema 6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_mhz: Option<f64>,
    /// Simultaneous multithreading: `on`, `off`, `not supported` (the
    /// kernel's `smt/control`), or `N threads per core` where only that is
    /// known; `None` where the platform does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smt: Option<String>,
    /// The Go toolchain that ran `go-chan` cells, when any ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go: Option<GoToolchain>,
}

impl Machine {
    /// What differs between this machine and `other` in what decides
    /// speed (CPU model, cores, kernel, architecture), as `field: this vs
    /// that`; empty for the same machine. The host name is not compared:
    /// every container and CI runner has its own.
    pub fn differences(&self, other: &Machine) -> Vec<String> {
        let cores = (self.cores.to_string(), other.cores.to_string());
        [
            ("CPU", (&self.cpu_model, &other.cpu_model)),
            ("cores", (&cores.0, &cores.1)),
            ("kernel", (&self.kernel, &other.kernel)),
            ("architecture", (&self.arch, &other.arch)),
        ]
        .into_iter()
        .filter(|(_, (this, that))| this != that)
        .map(|(field, (this, that))| format!("{field}: {this} vs {that}"))
        .collect()
    }
}

/// The Go toolchain behind the `go-chan` cells.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GoToolchain {
    /// `runtime.Version()`, e.g. `go1.19.8`.
    pub version: String,
    /// The Ps running goroutines (`runtime.GOMAXPROCS(0)`).
    pub gomaxprocs: usize,
}
