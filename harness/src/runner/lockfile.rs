//! The versions a `Cargo.lock` pins: read by the build script for the lock
//! of the workspace being built, and by the runner at run time for the
//! lock of the package `cargo run` runs (a user's, whatever their target
//! directory).

use std::path::Path;

/// `name=version` pairs, `;`-separated, for every crate a workspace member
/// or a chanlab crate depends on directly, and for the members themselves
/// (a user's crate that adds flavors); empty when the lock file cannot be
/// read.
pub fn library_versions(lock: &Path) -> String {
    let Some(lock) = std::fs::read_to_string(lock)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    else {
        return String::new();
    };
    let packages: Vec<&toml::Table> = lock
        .get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter_map(|package| package.as_table())
        .collect();
    let text = |package: &toml::Table, key: &str| {
        package
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    // A workspace member (or a path dependency) has no `source`; chanlab's
    // crates have one when a user's runner takes them from git. Their
    // dependencies are listed as "name", or "name version" where the lock
    // holds several versions.
    let roots: Vec<&&toml::Table> = packages
        .iter()
        .filter(|package| {
            !package.contains_key("source") || text(package, "name").starts_with("chanlab")
        })
        .collect();
    let mut pairs: Vec<String> = roots
        .iter()
        .map(|package| format!("{}={}", text(package, "name"), text(package, "version")))
        .collect();
    pairs.extend(
        roots
            .iter()
            .flat_map(|member| member.get("dependencies").and_then(|d| d.as_array()))
            .flatten()
            .filter_map(|dependency| dependency.as_str())
            .filter_map(|dependency| {
                let mut words = dependency.split(' ');
                let name = words.next()?;
                let pinned = words.next();
                packages
                    .iter()
                    .filter(|package| package.contains_key("source"))
                    .find(|package| {
                        text(package, "name") == name
                            && pinned.is_none_or(|version| text(package, "version") == version)
                    })
                    .map(|package| format!("{name}={}", text(package, "version")))
            }),
    );
    pairs.sort();
    pairs.dedup();
    pairs.join(";")
}
