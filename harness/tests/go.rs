//! `go-chan`, the Go reference, as `chanlab run` runs it: measured and
//! checked like any implementation when Go is installed (ci/setup.sh
//! installs it for the gate), and never skipped in silence when it is not.

mod support;

use std::process::Command;

use support::{chanlab, results, text};

/// `chanlab run` on go-chan's worker pool and SPSC loads, with `path` as
/// PATH when given.
fn run_go(dir: &std::path::Path, path: Option<&str>) -> std::process::Output {
    let args = [
        "run",
        "--impl",
        "go-chan",
        "--scenario",
        "worker-pool",
        "--scenario",
        "load/spsc",
        "--budget",
        "20ms",
        "--repetitions",
        "1",
        "--out",
        dir.to_str().expect("a UTF-8 temp path"),
        "--cached-verdicts",
    ];
    match path {
        None => chanlab(&args),
        Some(path) => Command::new(env!("CARGO_BIN_EXE_chanlab"))
            .args(args)
            .env("CHANLAB_VERDICTS", support::VERDICTS)
            .env("PATH", path)
            .output()
            .expect("the chanlab binary runs"),
    }
}

#[test]
fn go_cells_are_measured_and_checked_when_go_is_installed() {
    assert!(
        Command::new("go").arg("version").output().is_ok(),
        "no Go toolchain: run ci/setup.sh (or `sudo apt-get install golang-go`)"
    );
    let dir = tempfile::tempdir().expect("a temp dir");
    let output = run_go(dir.path(), None);
    assert!(output.status.success(), "{}", text(&output));
    let results = results(dir.path());
    assert!(
        results["machine"]["go"]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("go"))
    );
    let cells = results["cells"].as_array().expect("cells");
    assert!(!cells.is_empty());
    for cell in cells {
        assert_eq!(cell["library"], "go");
        let status = &cell["status"]["status"];
        // Unbounded loads are the one thing Go channels cannot do.
        if status == "not-applicable" {
            assert!(
                cell["id"]
                    .as_str()
                    .is_some_and(|id| id.contains("unbounded")),
                "{cell}"
            );
            continue;
        }
        assert_eq!(status, "measured", "{cell}");
        if cell["id"]
            .as_str()
            .is_some_and(|id| id.contains("closed-loop"))
        {
            assert!(
                cell["summary"]["latency_ns"]["p99"]["median"]
                    .as_f64()
                    .is_some(),
                "{cell}"
            );
        }
    }
}

#[test]
fn without_go_the_run_says_how_to_install_it() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let output = run_go(dir.path(), Some("/nonexistent"));
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("apt-get install golang-go"),
        "{}",
        text(&output)
    );
    for cell in results(dir.path())["cells"].as_array().expect("cells") {
        assert_eq!(cell["status"]["status"], "not-applicable", "{cell}");
        assert!(
            cell["status"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("golang-go"))
        );
    }
}
