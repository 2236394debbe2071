//! What a run ran on and with: the machine and the build, so a reader can
//! judge and reproduce the figures.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use chanlab_registry::Registry;
use chanlab_report::schema::{Build, Machine};

/// This machine; what cannot be read is `unknown`. Linux answers from
/// `/proc/cpuinfo` and `/etc/os-release`; macOS, which has no `/proc`,
/// from `sysctl`; the kernel release and the host name come from
/// `uname(2)` on both.
pub fn machine() -> Machine {
    let uname = nix::sys::utsname::uname().ok();
    let uname_field = |field: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
        uname
            .as_ref()
            .map(|uname| field(uname).to_string_lossy().into_owned())
    };
    let described = match std::fs::read_to_string("/proc/cpuinfo") {
        Ok(cpuinfo) => linux(
            &cpuinfo,
            std::fs::read_to_string("/etc/os-release").ok().as_deref(),
            std::fs::read_to_string("/sys/devices/system/cpu/smt/control")
                .ok()
                .as_deref(),
        ),
        Err(_) => {
            let sysctl = Command::new("sysctl")
                .args(SYSCTL_KEYS)
                .output()
                .ok()
                .filter(|out| out.status.success())
                .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
                .unwrap_or_default();
            macos(&sysctl)
        }
    };
    Machine {
        hostname: known(uname_field(nix::sys::utsname::UtsName::nodename)),
        cpu_model: known(described.cpu_model),
        cores: cores(),
        os: known(described.os),
        kernel: known(uname_field(nix::sys::utsname::UtsName::release)),
        arch: std::env::consts::ARCH.into(),
        cpu_mhz: described.cpu_mhz,
        smt: described.smt,
        go: None,
    }
}

/// What the platform's own files or `sysctl` say of the CPU and the OS.
#[derive(Debug, Default, PartialEq)]
struct Described {
    cpu_model: Option<String>,
    cpu_mhz: Option<f64>,
    smt: Option<String>,
    os: Option<String>,
}

/// Linux: `/proc/cpuinfo`, `/etc/os-release` and the kernel's SMT control.
fn linux(cpuinfo: &str, os_release: Option<&str>, smt_control: Option<&str>) -> Described {
    let count = |key| field(cpuinfo, key, ':').and_then(|n| n.parse::<usize>().ok());
    let smt = match smt_control.map(str::trim) {
        Some("on") => Some("on".to_owned()),
        Some("off" | "forceoff") => Some("off".to_owned()),
        Some("notsupported" | "notimplemented") => Some("not supported".to_owned()),
        _ => count("siblings")
            .zip(count("cpu cores"))
            .filter(|(_, cores)| *cores > 0)
            .map(|(siblings, cores)| threads_per_core(siblings / cores)),
    };
    Described {
        cpu_model: cpu_model(cpuinfo),
        cpu_mhz: field(cpuinfo, "cpu MHz", ':').and_then(|mhz| mhz.parse().ok()),
        smt,
        os: os_release.and_then(|text| field(text, "PRETTY_NAME", '=')),
    }
}

fn threads_per_core(threads: usize) -> String {
    format!(
        "{threads} thread{} per core",
        if threads == 1 { "" } else { "s" }
    )
}

/// What macOS's `sysctl` is asked for.
const SYSCTL_KEYS: [&str; 5] = [
    "machdep.cpu.brand_string",
    "kern.osproductversion",
    "hw.cpufrequency",
    "hw.physicalcpu",
    "hw.logicalcpu",
];

/// The CPU and the OS from macOS's `sysctl` output (Apple silicon reports
/// no clock).
fn macos(sysctl: &str) -> Described {
    let number = |key| field(sysctl, key, ':').and_then(|n| n.parse::<u64>().ok());
    Described {
        cpu_model: field(sysctl, "machdep.cpu.brand_string", ':'),
        cpu_mhz: number("hw.cpufrequency").map(|hz| hz as f64 / 1e6),
        smt: number("hw.logicalcpu")
            .zip(number("hw.physicalcpu"))
            .filter(|(_, physical)| *physical > 0)
            .map(|(logical, physical)| threads_per_core((logical / physical) as usize)),
        os: field(sysctl, "kern.osproductversion", ':').map(|version| format!("macOS {version}")),
    }
}

/// `value`, or `unknown` when it is missing or empty.
fn known(value: Option<String>) -> String {
    value
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The value of the first `key<separator>value` line named `key`.
fn field(text: &str, key: &str, separator: char) -> Option<String> {
    text.lines()
        .filter_map(|line| line.split_once(separator))
        .find(|(name, _)| name.trim() == key)
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
}

/// The CPU model in `/proc/cpuinfo`: its `model name` (x86, and some Arm
/// kernels), or for Arm the core its implementer and part numbers name.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    if let Some(model) = field(cpuinfo, "model name", ':') {
        return Some(model);
    }
    let implementer = field(cpuinfo, "CPU implementer", ':')?;
    let part = field(cpuinfo, "CPU part", ':')?;
    let core = ARM_CORES
        .iter()
        .find(|(i, p, _)| implementer.eq_ignore_ascii_case(i) && part.eq_ignore_ascii_case(p))
        .map(|(_, _, name)| (*name).to_owned());
    Some(core.unwrap_or_else(|| format!("Arm core (implementer {implementer}, part {part})")))
}

/// Arm cores by the implementer and part numbers `/proc/cpuinfo` shows,
/// for the servers CI runners and clouds use.
const ARM_CORES: &[(&str, &str, &str)] = &[
    ("0x41", "0xd08", "Arm Cortex-A72"),
    ("0x41", "0xd0b", "Arm Cortex-A76"),
    ("0x41", "0xd0c", "Arm Neoverse-N1"),
    ("0x41", "0xd40", "Arm Neoverse-V1"),
    ("0x41", "0xd49", "Arm Neoverse-N2"),
    ("0x41", "0xd4f", "Arm Neoverse-V2"),
    ("0xc0", "0xac3", "Ampere-1"),
    ("0xc0", "0xac4", "Ampere-1a"),
];

/// Cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// This binary's build: version, commit, compiler, and the version of
/// every library the registry names, with the histogram library that
/// measures them. The versions come from the lock file of the package
/// `cargo run` runs (a user's runner, wherever its target directory is),
/// else from the one the build script found. A library missing from the
/// lock's direct dependencies is recorded as [`UNKNOWN_VERSION`].
pub fn build(registry: &Registry) -> Build {
    let running = running_package_lock()
        .map(|lock| super::lockfile::library_versions(&lock))
        .filter(|versions| !versions.is_empty());
    let locked: BTreeMap<&str, &str> = running
        .as_deref()
        .unwrap_or(env!("CHANLAB_LIBRARIES"))
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .collect();
    let mut names: BTreeSet<&str> = registry
        .implementations(false)
        .map(|implementation| implementation.library)
        .filter(|library| !VERSIONED_ELSEWHERE.contains(library))
        .collect();
    names.insert("hdrhistogram");
    Build {
        version: env!("CARGO_PKG_VERSION").into(),
        git_commit: env!("CHANLAB_GIT_COMMIT").into(),
        rustc: env!("CHANLAB_RUSTC").into(),
        profile: Some(env!("CHANLAB_PROFILE").into()),
        libraries: names
            .into_iter()
            .map(|name| {
                let version = locked.get(name).copied().unwrap_or(UNKNOWN_VERSION);
                (name.to_owned(), version.to_owned())
            })
            .collect(),
    }
}

/// The `Cargo.lock` nearest above the package `cargo run` (or `cargo
/// test`) runs, which cargo names in the process's `CARGO_MANIFEST_DIR`.
fn running_package_lock() -> Option<std::path::PathBuf> {
    lock_above(std::path::Path::new(&std::env::var_os(
        "CARGO_MANIFEST_DIR",
    )?))
}

/// The `Cargo.lock` in `package` or nearest above it (a workspace's).
fn lock_above(package: &std::path::Path) -> Option<std::path::PathBuf> {
    package
        .ancestors()
        .map(|dir| dir.join("Cargo.lock"))
        .find(|lock| lock.is_file())
}

/// Libraries whose version the build records another way: chanlab by its
/// commit, std by rustc, Go by the toolchain that builds its worker.
const VERSIONED_ELSEWHERE: &[&str] = &["chanlab", "std", "go"];

/// The version recorded for a registry library `Cargo.lock` does not list.
pub const UNKNOWN_VERSION: &str = "unknown";

#[cfg(test)]
mod tests {
    use super::*;

    /// A file captured from a machine of that kind (x86-64: this one; the
    /// others in the formats their kernels write).
    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/machine")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    }

    #[test]
    fn the_cpu_is_named_from_x86_and_arm_cpuinfo_and_from_macos_sysctl() {
        assert_eq!(
            cpu_model(&fixture("cpuinfo-x86_64")).as_deref(),
            Some("Intel(R) Xeon(R) Processor")
        );
        assert_eq!(
            cpu_model(&fixture("cpuinfo-aarch64")).as_deref(),
            Some("Arm Neoverse-N2")
        );
        let unknown_part = fixture("cpuinfo-aarch64").replace("0xd49", "0xfff");
        assert_eq!(
            cpu_model(&unknown_part).as_deref(),
            Some("Arm core (implementer 0x41, part 0xfff)")
        );
        let mac = macos(&fixture("sysctl-macos"));
        assert_eq!(mac.cpu_model.as_deref(), Some("Apple M1 (Virtual)"));
        assert_eq!(mac.os.as_deref(), Some("macOS 14.7.1"));
        assert_eq!(mac.smt.as_deref(), Some("1 thread per core"));
        assert_eq!(mac.cpu_mhz, None);
        assert_eq!(macos(""), Described::default());
        assert_eq!(known(None), "unknown");
    }

    #[test]
    fn the_clock_and_smt_come_from_cpuinfo_and_the_kernel() {
        let cpuinfo = fixture("cpuinfo-x86_64");
        let x86 = linux(&cpuinfo, None, Some("notsupported\n"));
        assert_eq!(x86.cpu_mhz, Some(2299.998));
        assert_eq!(x86.smt.as_deref(), Some("not supported"));
        assert_eq!(linux(&cpuinfo, None, Some("on")).smt.as_deref(), Some("on"));
        let hyperthreads = cpuinfo.replace("siblings\t: 2", "siblings\t: 4");
        assert_eq!(
            linux(&hyperthreads, None, None).smt.as_deref(),
            Some("2 threads per core")
        );
        assert_eq!(linux(&fixture("cpuinfo-aarch64"), None, None).cpu_mhz, None);
    }

    #[test]
    fn a_runner_package_reads_its_workspace_lock_wherever_the_target_directory_is() {
        let workspace = tempfile::tempdir().expect("a scratch workspace");
        let runner = workspace.path().join("runner");
        std::fs::create_dir_all(&runner).expect("the runner's directory");
        std::fs::write(
            workspace.path().join("Cargo.lock"),
            r#"version = 4

[[package]]
name = "crossbeam-channel"
version = "0.5.15"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "my-channel"
version = "0.3.1"
dependencies = ["crossbeam-channel"]
"#,
        )
        .expect("the lock file");
        let lock = lock_above(&runner).expect("the workspace's lock above the runner");
        let versions = super::super::lockfile::library_versions(&lock);
        assert_eq!(versions, "crossbeam-channel=0.5.15;my-channel=0.3.1");
        assert_eq!(lock_above(std::path::Path::new("/")), None);
    }

    #[test]
    fn this_machine_is_read_without_unknowns_where_it_can_be() {
        let machine = machine();
        assert_ne!(machine.kernel, "unknown");
        assert_ne!(machine.hostname, "unknown");
        assert!(machine.cores >= 1);
    }
}
