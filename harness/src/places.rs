//! Where chanlab finds a run's results file, and where it writes when it
//! is not told: a `chanlab` directory in the cargo target directory its
//! own executable was built in, as criterion writes under
//! `target/criterion`, so neither a user's source tree nor cargo's checkout
//! of chanlab gets a file; for an executable outside any target directory
//! (an installed one), `chanlab` in the working directory.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A results file named by itself, or by the run directory that holds it
/// (`path/results.json`).
pub fn results_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("results.json")
    } else {
        path.to_owned()
    }
}

/// The directory runs, reports, the verdict cache, the fidelity figures
/// and the Go worker go to by default: relative to the working directory
/// when it lies below it, so messages stay short.
pub fn home() -> &'static Path {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let Some(target) = std::env::current_exe()
            .ok()
            .and_then(|exe| target_dir_of(&exe))
        else {
            return PathBuf::from("chanlab");
        };
        let home = target.join("chanlab");
        std::env::current_dir()
            .ok()
            .and_then(|here| home.strip_prefix(here).ok().map(Path::to_path_buf))
            .unwrap_or(home)
    })
}

/// Where `chanlab fidelity` writes its figures, and a report looks for them.
pub fn fidelity() -> PathBuf {
    home().join("fidelity.json")
}

/// The cargo target directory `exe` was built in: the one above its
/// profile directory (`release`, `debug`, ...; a test's or an example's
/// is one level down, in `deps` or `examples`), which cargo's layout marks
/// with a `.fingerprint` directory. (Cargo's `CACHEDIR.TAG` is no mark: it
/// writes none into a target directory that existed before its first
/// build.)
fn target_dir_of(exe: &Path) -> Option<PathBuf> {
    let mut profile = exe.parent()?;
    if profile.ends_with("deps") || profile.ends_with("examples") {
        profile = profile.parent()?;
    }
    profile
        .join(".fingerprint")
        .is_dir()
        .then(|| profile.parent().map(Path::to_path_buf))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_is_in_the_target_directory_of_the_executable() {
        let exe = std::env::current_exe().expect("the test's own path");
        let target = target_dir_of(&exe).expect("tests run from a cargo target directory");
        assert!(exe.starts_with(&target));
        assert!(home().ends_with("chanlab"));
        assert!(target.join("chanlab").ends_with(home()));
    }

    #[test]
    fn a_target_directory_is_known_by_its_layout_and_nothing_else_is_one() {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let target = dir.path().join("elsewhere");
        std::fs::create_dir_all(target.join("release/.fingerprint")).expect("a cargo layout");
        for exe in [
            "release/chanlab",
            "release/deps/conformance-0123",
            "release/examples/x",
        ] {
            assert_eq!(
                target_dir_of(&target.join(exe)),
                Some(target.clone()),
                "{exe}"
            );
        }
        assert_eq!(target_dir_of(&dir.path().join("bin/chanlab")), None);
        assert_eq!(target_dir_of(Path::new("chanlab")), None);
    }
}
