//! The test harness the suite macros' tests run under: libtest-mimic, so a
//! check that does not apply to a flavor is reported as ignored with its
//! reason (never `ok`), and a failure ends with the command that reruns
//! that one test alone. Test names are module paths, as with `#[test]`.

use std::process::ExitCode;

use libtest_mimic::{Arguments, Completion, Conclusion, Failed, Trial};

/// What one test concluded: `Ok(None)` passed, `Ok(Some(why))` does not
/// apply to the flavor, `Err` failed with this message.
pub type TestEnd = Result<Option<&'static str>, String>;

/// One check on one flavor, as the suite macros make it.
pub struct ConformanceTest {
    name: String,
    body: Box<dyn FnOnce() -> TestEnd + Send>,
}

impl ConformanceTest {
    /// The test of `check` in the module whose `module_path!()` is
    /// `module_path`: named by that path less its first segment (the test
    /// crate), then the check, as `#[test]` names it.
    pub fn new(
        module_path: &str,
        check: &str,
        body: impl FnOnce() -> TestEnd + Send + 'static,
    ) -> Self {
        let module = module_path
            .split_once("::")
            .map_or("", |(_crate, module)| module);
        let name = if module.is_empty() {
            check.to_owned()
        } else {
            format!("{module}::{check}")
        };
        ConformanceTest {
            name,
            body: Box::new(body),
        }
    }

    /// The name filters and the output use.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Runs `tests` with the command line of `cargo test` (filters, `--exact`,
/// `--list`, `--test-threads`, ...), as nextest runs them too, and returns
/// the exit status: call it from the `main` of a test target declared with
/// `harness = false`.
pub fn run_tests(tests: impl IntoIterator<Item = Vec<ConformanceTest>>) -> ExitCode {
    run_with(&Arguments::from_args(), tests).exit_code()
}

fn run_with(
    arguments: &Arguments,
    tests: impl IntoIterator<Item = Vec<ConformanceTest>>,
) -> Conclusion {
    let rerun = rerun_command();
    let trials = tests
        .into_iter()
        .flatten()
        .map(|test| {
            let again = format!("{rerun} -- --exact {}", test.name);
            let body = test.body;
            Trial::ignorable_test(test.name, move || match body() {
                Ok(None) => Ok(Completion::Completed),
                Ok(Some(why)) => Ok(Completion::ignored_with(format!("does not apply: {why}"))),
                Err(failure) => Err(Failed::from(format!(
                    "{failure}\nrerun this test alone: {again}"
                ))),
            })
        })
        .collect();
    libtest_mimic::run(arguments, trials)
}

/// `cargo test` with the package, test target and profile of this run, as
/// far as they can be known from inside it.
fn rerun_command() -> String {
    let mut command = String::from("cargo test");
    // Cargo sets the package's variables on the test process too.
    if let Ok(package) = std::env::var("CARGO_PKG_NAME") {
        command.push_str(&format!(" -p {package}"));
    }
    if let Some(target) = test_target() {
        command.push_str(&format!(" --test {target}"));
    }
    if !cfg!(debug_assertions) {
        command.push_str(" --release");
    }
    command
}

/// The test target's name: the executable's, less the `-<16 hex digits>`
/// cargo appends.
fn test_target() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let stem = exe.file_stem()?.to_str()?;
    Some(strip_hash(stem).to_owned())
}

fn strip_hash(stem: &str) -> &str {
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name
        }
        _ => stem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Settings, assert_check};

    #[test]
    fn a_check_that_does_not_apply_is_ignored_not_passed() {
        // tokio's mpsc declares no rendezvous.
        let end = assert_check::<chanlab_impls::TokioMpscBlocking>(
            "rendezvous_hands_off",
            &[],
            &Settings::default(),
        );
        assert_eq!(end, Ok(Some("rendezvous not declared")));
        let tests = vec![
            ConformanceTest::new("t::m", "passes", || Ok(None)),
            ConformanceTest::new("t::m", "does_not_apply", move || end),
            ConformanceTest::new("t::m", "fails", || Err("boom".to_owned())),
        ];
        let arguments = Arguments {
            test_threads: Some(1),
            ..Arguments::default()
        };
        let conclusion = run_with(&arguments, [tests]);
        assert_eq!(
            (
                conclusion.num_passed,
                conclusion.num_ignored,
                conclusion.num_failed
            ),
            (1, 1, 1)
        );
    }

    #[test]
    fn names_are_module_paths_without_the_crate() {
        let test = ConformanceTest::new("conformance::blocking::reference", "fifo", || Ok(None));
        assert_eq!(test.name(), "blocking::reference::fifo");
        assert_eq!(
            ConformanceTest::new("conformance", "fifo", || Ok(None)).name(),
            "fifo"
        );
    }

    #[test]
    fn the_target_is_the_executable_less_its_hash() {
        assert_eq!(strip_hash("conformance-0123456789abcdef"), "conformance");
        assert_eq!(strip_hash("my-tests"), "my-tests");
    }
}
