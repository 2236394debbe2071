//! The code base's own invariants, the ones no compiler checks (tidy, as
//! rustc's `src/tools/tidy` is for Rust). ARCHITECTURE.md states each.
//!
//! Every check is a function of a workspace root that returns the
//! violations it finds, so `each_check_fails_on_a_planted_violation` runs
//! it on a scratch tree with one violation planted and sees it fail.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chanlab_contract::{AsyncFlavor, FlavorVisitor, SyncFlavor};
use chanlab_scenarios::{Pattern, Primitive};

/// A Rust file may grow to this many lines; a longer one is named in
/// ARCHITECTURE.md with the reason it stays whole.
const MAX_LINES: usize = 700;

/// Libraries whose version a build records another way than `Cargo.lock`.
const VERSIONED_ELSEWHERE: &[&str] = &["chanlab", "std", "go"];

/// Marks a line of facade-only code that may name `std::sync`, with why.
const STD_SYNC_ALLOWED: &str = "tidy: std::sync allowed";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("scenarios/ sits in the workspace")
        .to_owned()
}

/// Every `.rs` file under `dir`, build outputs and dependencies skipped.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !(name.starts_with("target") || name.starts_with('.') || name == "node_modules") {
                files.extend(rust_files(&path));
            }
        } else if name.ends_with(".rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// The lines of `text` before its first `#[cfg(test)]`, with their numbers,
/// comment lines left out.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, line)| line.trim() != "#[cfg(test)]")
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .map(|(index, line)| (index + 1, line))
}

/// What chanlab synchronizes itself (the coordination primitives, the
/// reference channels, the broken twins) reaches `std::sync` only through
/// the `chanlab-sync` facade, so loom and shuttle check the same code.
fn facade_only(root: &Path) -> Vec<String> {
    let mut files = rust_files(&root.join("scenarios/src/coord"));
    files.extend(rust_files(&root.join("impls/broken/src")));
    files.extend(
        rust_files(&root.join("impls/channels/src"))
            .into_iter()
            .filter(|path| {
                path.file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with("reference"))
            }),
    );
    let mut violations = Vec::new();
    for path in files {
        let text = read(&path);
        for (number, line) in code_lines(&text) {
            let names_std_sync = ["std::sync", "core::sync", "alloc::sync"]
                .iter()
                .any(|path| line.contains(path))
                || (line.trim_start().starts_with("use std::{") && line.contains("sync"));
            if names_std_sync && !line.contains(STD_SYNC_ALLOWED) {
                violations.push(format!(
                    "{}:{number}: names std::sync outside tests; use chanlab_sync (or mark the line `// {STD_SYNC_ALLOWED}: why`)",
                    relative(root, &path)
                ));
            }
        }
    }
    violations
}

/// The contract names no library in its code or its dependencies (std is
/// not a library here).
fn contract_names_no_library(root: &Path, libraries: &BTreeSet<String>) -> Vec<String> {
    let mut violations = Vec::new();
    let manifest =
        std::fs::read_to_string(root.join("impls/contract/Cargo.toml")).unwrap_or_default();
    for library in libraries
        .iter()
        .filter(|library| !VERSIONED_ELSEWHERE.contains(&library.as_str()))
    {
        if manifest.lines().any(|line| {
            line.trim_start().starts_with(&format!("{library} "))
                || line.trim_start().starts_with(&format!("{library}."))
        }) {
            violations.push(format!(
                "impls/contract/Cargo.toml: the contract depends on {library}"
            ));
        }
    }
    for path in rust_files(&root.join("impls/contract/src")) {
        let text = read(&path);
        for (number, line) in code_lines(&text) {
            for library in libraries
                .iter()
                .filter(|library| !VERSIONED_ELSEWHERE.contains(&library.as_str()))
            {
                let crate_name = library.replace('-', "_");
                let code = line.trim_start();
                if line.contains(&format!("{crate_name}::"))
                    || line.contains(&format!("\"{library}\""))
                    || code.starts_with(&format!("use {crate_name}"))
                    || code.starts_with(&format!("extern crate {crate_name}"))
                {
                    violations.push(format!(
                        "{}:{number}: the contract names {library}",
                        relative(root, &path)
                    ));
                }
            }
        }
    }
    violations
}

/// Every pattern in the registry has its module, and the module reaches an
/// oracle (`ensure`, or the shared checks in `oracle.rs`).
fn patterns_have_oracles(root: &Path) -> Vec<String> {
    let mut violations = Vec::new();
    for &pattern in Pattern::ALL {
        let dir = root.join("scenarios/src/patterns");
        let file = dir.join(format!("{}.rs", pattern.module()));
        let path = if file.exists() {
            file
        } else {
            dir.join(pattern.module()).join("mod.rs")
        };
        match std::fs::read_to_string(&path) {
            Err(_) => violations.push(format!("{pattern}: no module {}", relative(root, &path))),
            Ok(text) if !(text.contains("ensure(") || text.contains("crate::oracle")) => {
                violations.push(format!(
                    "{pattern}: {} checks nothing (no ensure, no crate::oracle)",
                    relative(root, &path)
                ));
            }
            Ok(_) => {}
        }
    }
    violations
}

/// Every library the registry names is a direct dependency of the
/// workspace in `Cargo.lock`, where `build.rs` reads its version.
fn libraries_are_locked(root: &Path, libraries: &BTreeSet<String>) -> Vec<String> {
    let lock: toml::Table = read(&root.join("Cargo.lock"))
        .parse()
        .expect("Cargo.lock is TOML");
    let packages = lock["package"]
        .as_array()
        .expect("Cargo.lock lists packages");
    let direct: BTreeSet<&str> = packages
        .iter()
        .filter(|package| package.get("source").is_none())
        .filter_map(|member| member.get("dependencies")?.as_array())
        .flatten()
        .filter_map(|dependency| dependency.as_str()?.split(' ').next())
        .collect();
    libraries
        .iter()
        .filter(|library| !VERSIONED_ELSEWHERE.contains(&library.as_str()))
        .filter(|library| !direct.contains(library.as_str()))
        .map(|library| {
            format!("{library}: named by the registry but not a direct dependency in Cargo.lock, so no version is recorded")
        })
        .collect()
}

/// No Rust file grows past [`MAX_LINES`] unless ARCHITECTURE.md names it
/// with its reason, as `` `path`: why ``.
fn files_stay_small(root: &Path) -> Vec<String> {
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap_or_default();
    rust_files(root)
        .into_iter()
        .filter_map(|path| {
            let lines = read(&path).lines().count();
            let name = relative(root, &path);
            (lines > MAX_LINES && !architecture.contains(&format!("`{name}`:"))).then(|| {
                format!("{name}: {lines} lines, over {MAX_LINES}; split it, or say in ARCHITECTURE.md why it stays whole")
            })
        })
        .collect()
}

/// The libraries the registry names: every shipped flavor's and every
/// primitive's.
fn registry_libraries() -> BTreeSet<String> {
    struct Libraries(BTreeSet<String>);
    impl FlavorVisitor for Libraries {
        fn visit_sync<F: SyncFlavor>(&mut self) {
            self.0.insert(F::INFO.library.to_owned());
        }
        fn visit_async<F: AsyncFlavor>(&mut self) {
            self.0.insert(F::INFO.library.to_owned());
        }
    }
    let mut libraries = Libraries(BTreeSet::new());
    chanlab_impls::visit_all(&mut libraries);
    libraries
        .0
        .into_iter()
        .chain(Primitive::ALL.iter().map(|p| p.library().to_owned()))
        .collect()
}

fn assert_none(check: &str, violations: Vec<String>) {
    assert!(
        violations.is_empty(),
        "{check}:\n  {}",
        violations.join("\n  ")
    );
}

#[test]
fn the_workspace_keeps_its_invariants() {
    let root = workspace();
    let libraries = registry_libraries();
    let broken: Vec<String> = [
        ("facade only", facade_only(&root)),
        (
            "the contract names no library",
            contract_names_no_library(&root, &libraries),
        ),
        ("every pattern has its oracle", patterns_have_oracles(&root)),
        (
            "every library has a recorded version",
            libraries_are_locked(&root, &libraries),
        ),
        ("files stay small", files_stay_small(&root)),
    ]
    .into_iter()
    .filter(|(_, violations)| !violations.is_empty())
    .map(|(check, violations)| format!("{check}:\n  {}", violations.join("\n  ")))
    .collect();
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// A scratch workspace with one file per pattern (each with an oracle), a
/// lock file that lists `flume`, and an ARCHITECTURE.md.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    for &pattern in Pattern::ALL {
        write(
            &format!("scenarios/src/patterns/{}.rs", pattern.module()),
            "use crate::oracle::exactly_once;\n",
        );
    }
    write(
        "Cargo.lock",
        "[[package]]\nname = \"chanlab-impls\"\nversion = \"0.1.0\"\ndependencies = [\"flume\"]\n\n\
         [[package]]\nname = \"flume\"\nversion = \"0.12.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    );
    write("ARCHITECTURE.md", "# Architecture\n");
    write(
        "scenarios/src/coord/fine.rs",
        "use chanlab_sync::Mutex;\n#[cfg(test)]\nmod tests {\n    use std::sync::Arc;\n}\n",
    );
    dir
}

#[test]
fn each_check_fails_on_a_planted_violation() {
    let libraries: BTreeSet<String> = ["flume", "kanal", "std"].map(String::from).into();
    let clean = scratch();
    assert_none("facade only", facade_only(clean.path()));
    assert_none("oracles", patterns_have_oracles(clean.path()));
    assert_none("sizes", files_stay_small(clean.path()));

    let planted = |path: &str, text: &str| {
        let tree = scratch();
        let path = tree.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
        tree
    };

    let tree = planted("scenarios/src/coord/gate.rs", "use std::sync::Mutex;\n");
    let found = facade_only(tree.path());
    assert!(found[0].contains("coord/gate.rs:1"), "{found:?}");

    let tree = planted(
        "impls/channels/src/reference.rs",
        "fn f() { let _ = std::sync::Mutex::new(()); }\n",
    );
    assert_eq!(facade_only(tree.path()).len(), 1);

    assert_none(
        "contract",
        contract_names_no_library(clean.path(), &libraries),
    );
    let tree = planted("impls/contract/src/lib.rs", "pub use flume::Sender;\n");
    let found = contract_names_no_library(tree.path(), &libraries);
    assert!(found[0].contains("names flume"), "{found:?}");
    let tree = planted("impls/contract/src/lib.rs", "use kanal;\n");
    assert_eq!(contract_names_no_library(tree.path(), &libraries).len(), 1);
    let tree = planted(
        "impls/contract/Cargo.toml",
        "[dependencies]\nflume.workspace = true\n",
    );
    let found = contract_names_no_library(tree.path(), &libraries);
    assert!(found[0].contains("depends on flume"), "{found:?}");

    let tree = planted(
        "scenarios/src/coord/grouped.rs",
        "use std::{sync::Arc, time::Duration};\n",
    );
    assert_eq!(facade_only(tree.path()).len(), 1);

    let tree = planted("scenarios/src/patterns/pipeline.rs", "pub fn run() {}\n");
    let found = patterns_have_oracles(tree.path());
    assert!(found[0].starts_with("pipeline:"), "{found:?}");

    let found = libraries_are_locked(clean.path(), &libraries);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("kanal:"), "{found:?}");

    let tree = planted("harness/src/big.rs", &"// line\n".repeat(MAX_LINES + 1));
    let found = files_stay_small(tree.path());
    assert!(found[0].starts_with("harness/src/big.rs"), "{found:?}");
}
