//! Records what a results file must say about the build: the git commit,
//! the rustc that compiled it, the cargo profile (name, opt-level, debug
//! assertions), and the version of every crate the workspace
//! depends on directly (from `Cargo.lock`), from which the runner picks the
//! libraries its registry names.
//!
//! The lock file is the one of the workspace being built: chanlab's own, or,
//! when chanlab is a dependency of a user's runner, the user's, found above
//! the target directory this script's output goes to (chanlab's own lock,
//! which the user's build does not use, is the fallback). A target
//! directory outside the user's tree hides their lock from here, so the
//! runner reads the lock of the package `cargo run` runs at run time too
//! (`provenance::build`).

use std::path::{Path, PathBuf};
use std::process::Command;

// The runner reads a lock file the same way at run time.
#[path = "src/runner/lockfile.rs"]
mod lockfile;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // The commit and its dirty mark change with any of these; cargo scans a
    // watched folder's files.
    for watched in [
        ".git/HEAD",
        ".git/index",
        ".git/refs",
        ".git/packed-refs",
        "harness/src",
        "harness/registry",
        "harness/untimed",
        "scenarios/src",
        "impls",
    ] {
        // A path that does not exist would rerun this script on every build.
        let path = root.join(watched);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    let commit = output("git", &["rev-parse", "--short=12", "HEAD"], &root);
    let dirty = output(
        "git",
        &["status", "--porcelain", "--untracked-files=no"],
        &root,
    )
    .is_some_and(|changes| !changes.is_empty());
    let commit = match commit {
        Some(commit) if dirty => format!("{commit}-dirty"),
        Some(commit) => commit,
        None => "unknown".into(),
    };
    println!("cargo:rustc-env=CHANLAB_GIT_COMMIT={commit}");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = output(&rustc, &["--version"], &root).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=CHANLAB_RUSTC={version}");
    let env = |name| std::env::var(name).unwrap_or_else(|_| "unknown".into());
    let assertions = if std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some() {
        "on"
    } else {
        "off"
    };
    println!(
        "cargo:rustc-env=CHANLAB_PROFILE={} (opt-level {}, debug assertions {assertions})",
        env("PROFILE"),
        env("OPT_LEVEL")
    );
    let lock = building_workspace_lock().unwrap_or_else(|| root.join("Cargo.lock"));
    println!("cargo:rerun-if-changed={}", lock.display());
    println!(
        "cargo:rustc-env=CHANLAB_LIBRARIES={}",
        lockfile::library_versions(&lock)
    );
}

/// The `Cargo.lock` nearest above `OUT_DIR`, which lies in the target
/// directory of the workspace being built.
fn building_workspace_lock() -> Option<PathBuf> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR")?);
    out.ancestors()
        .map(|dir| dir.join("Cargo.lock"))
        .find(|lock| lock.is_file())
}

/// What `program args` prints, trimmed, or `None` if it cannot run or fails.
fn output(program: &str, args: &[&str], dir: &Path) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
