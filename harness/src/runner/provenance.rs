//! What a run ran on and with: the machine and the build, so a reader can
//! judge and reproduce the figures.

use chanlab_report::schema::{Build, Machine};

/// This machine; what cannot be read is `unknown`.
pub fn machine() -> Machine {
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
        go: None,
    }
}

/// Cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// This binary's build: version, commit, compiler and libraries under test
/// (from `build.rs`).
pub fn build() -> Build {
    Build {
        version: env!("CARGO_PKG_VERSION").into(),
        git_commit: env!("CHANLAB_GIT_COMMIT").into(),
        rustc: env!("CHANLAB_RUSTC").into(),
        libraries: env!("CHANLAB_LIBRARIES")
            .split(';')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, version)| (name.into(), version.into()))
            .collect(),
    }
}
