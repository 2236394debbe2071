//! The full profile as a user meets it before giving it an hour: the dry
//! run lists every sweep with an estimate of the time, a sample of its
//! cells runs for real, and a time limit stops a run that `--resume`
//! finishes.

mod support;

use support::{chanlab, results, text};

#[test]
fn the_full_profile_dry_runs_with_an_estimate_and_a_sample_of_it_runs() {
    let dry = chanlab(&["run", "--profile", "full", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    let listing = String::from_utf8_lossy(&dry.stdout);
    assert!(
        listing.contains("cells x 5 repetitions of about 200ms each"),
        "{listing}"
    );
    let estimate = listing
        .lines()
        .find(|line| line.starts_with("estimated "))
        .unwrap_or_else(|| panic!("no estimate in:\n{listing}"));
    assert!(estimate.contains("20 ms per job"), "{estimate}");
    // Every sweep the issue asks for: producers and consumers up to 8,
    // every capacity, message sizes, both runtimes, the open-loop curve.
    for sweep in [
        "load/mpmc [8p 8c cap=64 16B throughput] crossbeam",
        "load/mpsc [4p 1c cap=0 16B throughput] crossbeam",
        "cap=unbounded 16B throughput] crossbeam",
        "4096B throughput] crossbeam",
        "worker-pool [2p 8w cap=16] crossbeam",
        "open-loop 25% of own] crossbeam",
        "flume-async@current-thread",
        "tokio-joinset@current-thread",
    ] {
        assert!(listing.contains(sweep), "the full profile lacks {sweep}");
    }

    // A sample of its cells, for real: crossbeam's MPMC throughput over
    // every thread count, capacity and message size, each cell short.
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().to_str().expect("a UTF-8 temp path");
    let sample = chanlab(&[
        "run",
        "--profile",
        "full",
        "--impl",
        "crossbeam",
        "--scenario",
        "load/mpmc",
        "--measure",
        "throughput",
        "--repetitions",
        "1",
        "--budget",
        "5ms",
        "--cached-verdicts",
        "--out",
        out,
    ]);
    assert!(sample.status.success(), "{}", text(&sample));
    let results = results(dir.path());
    assert!(!results["finished_at"].is_null());
    let cells = results["cells"].as_array().expect("cells is a list");
    assert_eq!(
        cells.len(),
        16,
        "3 thread counts x 4 capacities, and 4 more message sizes"
    );
    for cell in cells {
        assert_eq!(cell["status"]["status"], "measured", "{}", cell["id"]);
    }
}

#[test]
fn a_time_limit_stops_the_run_and_resume_finishes_it() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().to_str().expect("a UTF-8 temp path");
    let capped = chanlab(&[
        "run",
        "--scenario",
        "load/spsc",
        "--impl",
        "crossbeam",
        "--capacity",
        "64",
        "--measure",
        "throughput",
        "--repetitions",
        "20",
        "--budget",
        "20ms",
        "--time-limit",
        "100ms",
        "--cached-verdicts",
        "--out",
        out,
    ]);
    assert_eq!(capped.status.code(), Some(124), "{}", text(&capped));
    assert!(text(&capped).contains("time limit"), "{}", text(&capped));
    assert!(text(&capped).contains("--resume"), "{}", text(&capped));
    let stopped = results(dir.path());
    assert!(stopped["finished_at"].is_null(), "a capped run is partial");
    let report = std::fs::read_to_string(dir.path().join("report.md")).expect("a report");
    assert!(report.contains("PARTIAL"), "the report is marked partial");

    let resumed = chanlab(&["run", "--resume", out, "--cached-verdicts"]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    let finished = results(dir.path());
    assert!(!finished["finished_at"].is_null());
    let repetitions = finished["cells"][0]["repetitions"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(repetitions, 20, "the resumed run measured what was left");
}
