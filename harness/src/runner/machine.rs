//! The machine a run measured: what a reader needs to judge and reproduce
//! the figures.

use serde::{Deserialize, Serialize};

/// Where a run ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    /// The host's name.
    pub hostname: String,
    /// The CPU model, from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Cores this process may use: more threads than this are
    /// oversubscribed.
    pub cores: usize,
    /// The operating system, from `/etc/os-release`.
    pub os: String,
    /// The kernel release.
    pub kernel: String,
    /// The CPU architecture.
    pub arch: String,
}

impl Machine {
    /// This machine; what cannot be read is `unknown`.
    pub fn current() -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let field = |text: &str, key: &str, separator: char| {
            text.lines()
                .filter_map(|line| line.split_once(separator))
                .find(|(name, _)| name.trim() == key)
                .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        };
        let known = |value: Option<String>| {
            value
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "unknown".into())
        };
        Machine {
            hostname: known(Some(read("/proc/sys/kernel/hostname").trim().to_owned())),
            cpu_model: known(field(&read("/proc/cpuinfo"), "model name", ':')),
            cores: cores(),
            os: known(field(&read("/etc/os-release"), "PRETTY_NAME", '=')),
            kernel: known(Some(read("/proc/sys/kernel/osrelease").trim().to_owned())),
            arch: std::env::consts::ARCH.into(),
        }
    }
}

/// Cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
