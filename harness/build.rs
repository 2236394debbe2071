//! Records what a results file must say about the build: the git commit,
//! the rustc that compiled it, and the version of every library under test
//! (from `Cargo.lock`).

use std::path::Path;
use std::process::Command;

/// The libraries whose versions a results file names.
const LIBRARIES: &[&str] = &[
    "crossbeam-channel",
    "flume",
    "tokio",
    "kanal",
    "async-channel",
    "parking_lot",
    "hdrhistogram",
];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // The commit and its dirty mark change with any of these; cargo scans a
    // watched folder's files.
    for watched in [
        ".git/HEAD",
        ".git/index",
        ".git/refs",
        ".git/packed-refs",
        "Cargo.lock",
        "harness/src",
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
    println!(
        "cargo:rustc-env=CHANLAB_LIBRARIES={}",
        library_versions(&root.join("Cargo.lock"))
    );
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

/// `name=version` pairs, `;`-separated, for the [`LIBRARIES`] the lock file
/// holds; empty when it cannot be read.
fn library_versions(lock: &Path) -> String {
    let Some(lock) = std::fs::read_to_string(lock)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    else {
        return String::new();
    };
    let packages = lock.get("package").and_then(|p| p.as_array());
    let mut pairs = Vec::new();
    for package in packages.into_iter().flatten() {
        let field = |key| package.get(key).and_then(|v| v.as_str());
        if let (Some(name), Some(version)) = (field("name"), field("version"))
            && LIBRARIES.contains(&name)
        {
            pairs.push(format!("{name}={version}"));
        }
    }
    pairs.join(";")
}
