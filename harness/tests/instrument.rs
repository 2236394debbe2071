//! The instrument under `chanlab run`: where each repetition's threads
//! ran and what disturbed them, the deciding rounds and why each cell
//! stopped, and the instruction counts or why there are none.

mod support;

use std::process::Command;

use support::{cells, chanlab, quick_run, results, text};

#[test]
fn each_repetition_says_where_its_threads_ran_and_what_disturbed_them() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let output = quick_run(
        dir.path(),
        &[
            "--scenario",
            "load/spsc",
            "--impl",
            "crossbeam",
            "--capacity",
            "64",
            "--measure",
            "throughput",
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let results = results(dir.path());
    assert_eq!(results["settings"]["placement"], "pinned");
    let cores = results["machine"]["cores"].as_u64().unwrap_or(1);
    for (round, repetition) in cells(&results, &["crossbeam"])[0]["repetitions"]
        .as_array()
        .expect("repetitions")
        .iter()
        .enumerate()
    {
        assert_eq!(repetition["round"], round, "{repetition}");
        let placement = &repetition["placement"];
        let threads = repetition["disturbance"]["threads"]
            .as_array()
            .expect("threads");
        assert_eq!(threads.len(), 2, "a producer and a consumer: {repetition}");
        if cores >= 2 {
            assert_eq!(placement["policy"], "pinned", "{placement}");
            assert!(threads.iter().all(|t| t["pinned"] == true), "{threads:?}");
            assert!(
                repetition["disturbance"]["round_trip_ns"]
                    .as_f64()
                    .is_some()
            );
        } else {
            assert_eq!(placement["policy"], "os", "{placement}");
            assert!(placement["reason"].is_string(), "{placement}");
        }
    }
}

#[test]
fn deciding_rounds_stop_for_a_reason_each_cell_records() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let output = quick_run(
        dir.path(),
        &[
            "--most-repetitions",
            "4",
            "--scenario",
            "load/spsc",
            "--impl",
            "crossbeam",
            "--impl",
            "flume",
            "--capacity",
            "64",
            "--measure",
            "throughput",
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let results = results(dir.path());
    assert_eq!(results["settings"]["most_repetitions"], 4);
    for cell in results["cells"].as_array().expect("cells") {
        let repetitions = cell["repetitions"].as_array().expect("repetitions").len();
        assert!((2..=4).contains(&repetitions), "{repetitions} repetitions");
        let stopped = cell["stopped"].as_str().unwrap_or_default();
        assert!(
            ["decided", "out-of-reach", "most-repetitions", "time-cap"].contains(&stopped),
            "{}: {stopped}",
            cell["id"]
        );
        if stopped == "most-repetitions" {
            assert_eq!(repetitions, 4);
        }
    }
}

#[test]
fn a_run_counts_instructions_or_says_why_it_could_not() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().to_str().expect("a UTF-8 temp path");
    let args = [
        "run",
        "--out",
        out,
        "--budget",
        "20ms",
        "--repetitions",
        "1",
        "--min-limit",
        "2s",
        "--cached-verdicts",
        "--scenario",
        "load/spsc",
        "--impl",
        "crossbeam",
        "--capacity",
        "64",
        "--measure",
        "throughput",
    ];
    // Without valgrind on the PATH, the results say so.
    let output = support::command(&args)
        .env("PATH", "")
        .output()
        .expect("the chanlab binary runs");
    assert!(output.status.success(), "{}", text(&output));
    let instructions = &results(dir.path())["instructions"];
    assert_eq!(instructions["status"], "not-counted", "{instructions}");
    assert!(
        instructions["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("valgrind"),
        "{instructions}"
    );
    // With it (ci/setup.sh installs it), every path of the flavor is
    // counted or refused with a reason.
    if Command::new("valgrind").arg("--version").output().is_err() {
        return;
    }
    let mut again = args.to_vec();
    again.push("--force");
    let output = chanlab(&again);
    assert!(output.status.success(), "{}", text(&output));
    let instructions = &results(dir.path())["instructions"];
    assert_eq!(instructions["status"], "counted", "{instructions}");
    let counts = instructions["counts"].as_array().expect("counts");
    assert_eq!(counts.len(), 5, "{counts:?}");
    for count in counts {
        let per_operation = count["per_operation"].as_f64().unwrap_or(0.0);
        assert!(per_operation > 10.0, "{count}");
    }
}
