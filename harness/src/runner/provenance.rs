//! What a run ran on and with: the machine and the build, so a reader can
//! judge and reproduce the figures.

use std::collections::{BTreeMap, BTreeSet};

use chanlab_report::schema::{Build, Machine};

use super::implementations;

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

/// This binary's build: version, commit, compiler, and the version of
/// every library the registry names, with the histogram library that
/// measures them. A library missing from `Cargo.lock`'s direct
/// dependencies is recorded as [`UNKNOWN_VERSION`].
pub fn build() -> Build {
    let locked: BTreeMap<&str, &str> = env!("CHANLAB_LIBRARIES")
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .collect();
    let mut names: BTreeSet<&str> = implementations::all(false)
        .iter()
        .map(|implementation| implementation.library)
        .filter(|library| !VERSIONED_ELSEWHERE.contains(library))
        .collect();
    names.insert("hdrhistogram");
    Build {
        version: env!("CARGO_PKG_VERSION").into(),
        git_commit: env!("CHANLAB_GIT_COMMIT").into(),
        rustc: env!("CHANLAB_RUSTC").into(),
        libraries: names
            .into_iter()
            .map(|name| {
                let version = locked.get(name).copied().unwrap_or(UNKNOWN_VERSION);
                (name.to_owned(), version.to_owned())
            })
            .collect(),
    }
}

/// Libraries whose version the build records another way: chanlab by its
/// commit, std by rustc, Go by the toolchain that builds its worker.
const VERSIONED_ELSEWHERE: &[&str] = &["chanlab", "std", "go"];

/// The version recorded for a registry library `Cargo.lock` does not list.
pub const UNKNOWN_VERSION: &str = "unknown";
