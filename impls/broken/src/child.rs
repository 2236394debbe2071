//! Running a checker over a broken twin in a child process. Some checkers
//! end a failed run in a way a test cannot catch (loom aborts on a
//! deadlock), so the test binary runs the one test again in a child and
//! reads the report from its exit status and stderr.

use std::process::Command;

/// Set in the child, where the check itself runs.
const CHILD: &str = "CHANLAB_TWIN_CHILD";

/// Runs `check`, which must fail, in a child process: this test binary,
/// asked to run only `test` (the calling test's full name). In the child,
/// runs `check` directly. In the parent, asserts the child failed and
/// returns its stderr: the checker's report.
///
/// # Panics
/// In the parent, if the child succeeded (the checker missed the twin's
/// fault) or could not be started.
pub fn must_fail(test: &str, check: impl FnOnce()) -> String {
    if std::env::var_os(CHILD).is_some() {
        check();
        return String::new();
    }
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let child = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("the test binary can run itself");
    let report = String::from_utf8_lossy(&child.stderr).into_owned();
    assert!(
        !child.status.success(),
        "the checker passed {test}, a deliberately broken twin:\n{report}"
    );
    report
}
