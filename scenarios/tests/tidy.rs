//! The code base's own invariants, the ones no compiler checks (tidy, as
//! rustc's `src/tools/tidy` is for Rust). ARCHITECTURE.md states each.
//!
//! Every check is a function of a workspace root that returns the
//! violations it finds, so `each_check_fails_on_a_planted_violation` runs
//! it on a scratch tree with one violation planted and sees it fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

/// A module of a crate, as its path from the crate root (`[]` for
/// `lib.rs`, `["runner", "session"]` for `runner/session/mod.rs`).
type ModulePath = Vec<String>;

/// Every module of the crate whose sources are under `src`, with its file.
fn modules(src: &Path) -> BTreeMap<ModulePath, PathBuf> {
    rust_files(src)
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(src).ok()?.with_extension("");
            let mut segments: ModulePath = relative
                .iter()
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            if matches!(segments.last().map(String::as_str), Some("mod" | "lib")) {
                segments.pop();
            }
            // `main.rs` and `bin/` are crate roots of their own.
            (segments != ["main"] && segments.first().is_none_or(|first| first != "bin"))
                .then_some((segments, path))
        })
        .collect()
}

/// The paths a line names through `crate::`, `super::` or `self::`, with
/// `use` groups (`crate::a::{b, c::d}`) expanded; each as its anchor and
/// segments.
fn named_paths(line: &str) -> Vec<(String, Vec<String>)> {
    fn is_ident(c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '_'
    }
    /// Reads `a::b::{c, d::e}` from the start of `text` after a prefix.
    fn expand(text: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        let mut rest = text;
        loop {
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 0;
                let mut start = 0;
                for (index, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            expand(group[start..index].trim(), &path, out);
                            return;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            expand(group[start..index].trim(), &path, out);
                            start = index + 1;
                        }
                        _ => {}
                    }
                }
                return;
            }
            let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
            if end > 0 {
                path.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
            match rest.strip_prefix("::") {
                Some(after) => rest = after,
                None => {
                    out.push(path);
                    return;
                }
            }
        }
    }
    let mut found = Vec::new();
    for anchor in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = line[from..].find(anchor) {
            let start = from + at;
            from = start + anchor.len();
            if line[..start].ends_with(|c: char| is_ident(c) || c == ':') {
                continue;
            }
            let mut paths = Vec::new();
            let mut prefix = Vec::new();
            let mut rest = &line[from..];
            // `super::super::x`
            while let Some(after) = rest.strip_prefix("super::") {
                prefix.push("super".to_owned());
                rest = after;
            }
            expand(rest, &prefix, &mut paths);
            let anchor = anchor.trim_end_matches("::").to_owned();
            found.extend(paths.into_iter().map(|path| (anchor.clone(), path)));
        }
    }
    found
}

/// The module a path names from `module`: the longest prefix of it that
/// is a module of the crate.
fn resolve(
    module: &[String],
    anchor: &str,
    path: &[String],
    known: &BTreeMap<ModulePath, PathBuf>,
) -> ModulePath {
    let mut base: ModulePath = match anchor {
        "crate" => Vec::new(),
        "super" => module[..module.len().saturating_sub(1)].to_vec(),
        _ => module.to_vec(),
    };
    let mut segments = path.iter();
    for segment in segments.by_ref() {
        if segment != "super" {
            let mut next = base.clone();
            next.push(segment.clone());
            if !known.contains_key(&next) {
                return base;
            }
            base = next;
            break;
        }
        base.pop();
    }
    for segment in segments {
        let mut next = base.clone();
        next.push(segment.clone());
        if !known.contains_key(&next) {
            break;
        }
        base = next;
    }
    base
}

/// No crate has an import cycle between modules: where a module in one
/// branch of a crate's tree names an item in another branch, the two
/// branches' roots (siblings under their common parent) get an edge, and
/// the siblings of every parent form no cycle. A module naming its own
/// ancestors or descendants adds no edge: a parent and the children it
/// declares are one unit.
fn no_module_cycles(root: &Path) -> Vec<String> {
    let mut violations = Vec::new();
    let mut sources: Vec<PathBuf> = rust_files(root)
        .into_iter()
        .filter(|path| path.ends_with("src/lib.rs") || path.ends_with("src/main.rs"))
        .filter_map(|path| path.parent().map(Path::to_owned))
        .collect();
    sources.dedup();
    for src in sources {
        let known = modules(&src);
        // (parent, from child, to child) -> the first line that makes it.
        let mut edges: BTreeMap<(ModulePath, String, String), String> = BTreeMap::new();
        for (module, path) in &known {
            let text = read(path);
            for (number, line) in code_lines(&text) {
                for (anchor, named) in named_paths(line) {
                    let target = resolve(module, &anchor, &named, &known);
                    let common = module
                        .iter()
                        .zip(&target)
                        .take_while(|(a, b)| a == b)
                        .count();
                    if common == module.len() || common == target.len() {
                        continue;
                    }
                    edges
                        .entry((
                            module[..common].to_vec(),
                            module[common].clone(),
                            target[common].clone(),
                        ))
                        .or_insert_with(|| {
                            format!(
                                "{}:{number} names {}",
                                relative(root, path),
                                target.join("::")
                            )
                        });
                }
            }
        }
        let parents: BTreeSet<&ModulePath> = edges.keys().map(|(parent, ..)| parent).collect();
        for parent in parents {
            let graph: BTreeMap<&str, Vec<&str>> = edges.keys().filter(|(p, ..)| p == parent).fold(
                BTreeMap::new(),
                |mut graph, (_, from, to)| {
                    graph.entry(from.as_str()).or_default().push(to.as_str());
                    graph
                },
            );
            if let Some(cycle) = find_cycle(&graph) {
                let hops: Vec<String> = cycle
                    .windows(2)
                    .map(|hop| {
                        edges[&(parent.clone(), hop[0].to_owned(), hop[1].to_owned())].clone()
                    })
                    .collect();
                let place = if parent.is_empty() {
                    relative(root, &src)
                } else {
                    format!("{}::{}", relative(root, &src), parent.join("::"))
                };
                violations.push(format!(
                    "{place}: modules {} form a cycle ({})",
                    cycle.join(" -> "),
                    hops.join("; ")
                ));
            }
        }
    }
    violations
}

/// A cycle in `graph`, as its nodes with the first repeated at the end.
fn find_cycle<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>) -> Option<Vec<&'a str>> {
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, Vec<&'a str>>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(at) = stack.iter().position(|&on| on == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node);
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for &next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|&node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// The libraries the registry names: every shipped flavor's and every
/// primitive's.
fn registry_libraries() -> BTreeSet<String> {
    chanlab_impls::libraries()
        .into_iter()
        .chain(Primitive::ALL.iter().map(|p| p.library()))
        .map(str::to_owned)
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
        ("no module import cycle", no_module_cycles(&root)),
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

    assert_none("cycles", no_module_cycles(clean.path()));
    let tree = planted("harness/src/lib.rs", "mod a;\nmod b;\nuse crate::b::run;\n");
    std::fs::write(
        tree.path().join("harness/src/a.rs"),
        "use super::b::{self, Options};\n",
    )
    .expect("write");
    std::fs::create_dir_all(tree.path().join("harness/src/b")).expect("mkdir");
    std::fs::write(
        tree.path().join("harness/src/b/mod.rs"),
        "pub mod inner;\nuse super::a;\n",
    )
    .expect("write");
    std::fs::write(
        tree.path().join("harness/src/b/inner.rs"),
        "use crate::{b::Options, a};\nuse super::Options as Parent;\n",
    )
    .expect("write");
    let found = no_module_cycles(tree.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("modules a -> b -> a"), "{found:?}");
    std::fs::write(tree.path().join("harness/src/b/mod.rs"), "pub mod inner;\n").expect("write");
    let found = no_module_cycles(tree.path());
    assert!(found[0].contains("b/inner.rs:1 names a"), "{found:?}");
    std::fs::write(
        tree.path().join("harness/src/b/inner.rs"),
        "use super::Options;\n",
    )
    .expect("write");
    assert_none("a child naming its parent", no_module_cycles(tree.path()));

    let tree = planted("harness/src/big.rs", &"// line\n".repeat(MAX_LINES + 1));
    let found = files_stay_small(tree.path());
    assert!(found[0].starts_with("harness/src/big.rs"), "{found:?}");
}
