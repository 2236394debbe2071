//! From results to decisions, as a user runs them: the report a run ends
//! with, merged reports, the regression gate (which must fail on the slow
//! twin and pass a run compared with itself), the paired A/B mode and the
//! dashboard exports.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{chanlab, results, text};

/// `chanlab run` on `impls` over SPSC bounded(64) throughput: short runs,
/// `repetitions` each.
fn spsc_run(out: &Path, impls: &[&str], repetitions: &str) -> std::process::Output {
    spsc(&["run"], out, impls, repetitions)
}

/// `command` (`run`, or `ab A B`) over SPSC bounded(64) throughput.
fn spsc(command: &[&str], out: &Path, impls: &[&str], repetitions: &str) -> std::process::Output {
    let mut args = command.to_vec();
    args.extend([
        "--out",
        out.to_str().expect("a UTF-8 temp path"),
        "--scenario",
        "load/spsc",
        "--capacity",
        "64",
        "--measure",
        "throughput",
        "--budget",
        "20ms",
        "--repetitions",
        repetitions,
        "--min-limit",
        "2s",
        "--cached-verdicts",
    ]);
    for name in impls {
        args.extend(["--impl", name]);
    }
    chanlab(&args)
}

fn path(dir: &Path, file: &str) -> String {
    dir.join(file)
        .to_str()
        .expect("a UTF-8 temp path")
        .to_owned()
}

#[test]
fn a_run_ends_with_the_path_of_its_report() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let output = chanlab(&[
        "run",
        "--out",
        dir.path().to_str().expect("a UTF-8 temp path"),
        "--scenario",
        "load/spsc",
        "--capacity",
        "64",
        "--impl",
        "crossbeam",
        "--impl",
        "flume",
        "--budget",
        "20ms",
        "--repetitions",
        "2",
        "--cached-verdicts",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().expect("the run prints something");
    assert_eq!(last, format!("report: {}", path(dir.path(), "index.html")));
    let html = std::fs::read_to_string(dir.path().join("index.html")).expect("the page exists");
    // Throughput, latency (closed and open loop), latency against offered
    // load (the open loop at its own and the common rate) and loop charts.
    for kind in ["throughput", "latency", "offered-load", "loop"] {
        assert!(
            html.contains(&format!("data-kind=\"{kind}\"")),
            "no {kind} chart"
        );
    }
    assert!(!html.contains("<script"), "the page needs no script");
    let markdown = std::fs::read_to_string(dir.path().join("report.md")).expect("the tables exist");
    assert!(markdown.contains("## Which library for which job"));
    assert!(markdown.contains("| crossbeam |"), "{markdown}");
    // The idle load's table, and allocations per item beside CPU per item.
    assert!(markdown.contains("## CPU while waiting"), "{markdown}");
    assert!(markdown.contains("% of a core"), "{markdown}");
    assert!(markdown.contains("allocs/item"), "{markdown}");

    // Nothing is overwritten without --force: not the run, not its report.
    let dir_text = dir.path().to_str().expect("a UTF-8 temp path");
    let again = chanlab(&["run", "--out", dir_text, "--impl", "crossbeam", "--dry-run"]);
    assert!(
        again.status.success(),
        "a dry run writes nothing: {}",
        text(&again)
    );
    let again = chanlab(&[
        "run",
        "--out",
        dir_text,
        "--scenario",
        "load/spsc",
        "--impl",
        "crossbeam",
    ]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(
        text(&again).contains("already holds a run"),
        "{}",
        text(&again)
    );
    let rerender = chanlab(&["report", dir_text, "--out", dir_text]);
    assert_eq!(rerender.status.code(), Some(2), "{}", text(&rerender));
    assert!(text(&rerender).contains("--force"), "{}", text(&rerender));
    let forced = chanlab(&["report", dir_text, "--out", dir_text, "--force"]);
    assert!(forced.status.success(), "{}", text(&forced));
}

#[test]
fn several_runs_merge_with_the_machine_as_a_dimension() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let run = dir.path().join("run");
    assert!(
        spsc_run(&run, &["crossbeam", "kanal"], "2")
            .status
            .success()
    );
    let results = path(&run, "results.json");
    let out = dir.path().join("merged");
    let output = chanlab(&[
        "report",
        &results,
        &results,
        "--out",
        out.to_str().expect("a UTF-8 temp path"),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let html = std::fs::read_to_string(out.join("index.html")).expect("the page exists");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let second = format!("{} #2", host.trim());
    assert!(html.contains(&second), "no second machine named {second}");
}

#[test]
fn compare_fails_on_a_slowed_implementation_and_never_on_itself() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (base, slow) = (dir.path().join("base"), dir.path().join("slow"));
    assert!(spsc_run(&base, &["reference"], "6").status.success());
    assert!(spsc_run(&slow, &["broken-slow"], "6").status.success());
    let (base, slow) = (path(&base, "results.json"), path(&slow, "results.json"));

    let json = path(dir.path(), "compare.json");
    // A run against itself never fails; with 6 noisy 20 ms repetitions
    // the interval of its medians' ratio may still reach past the 10%
    // threshold, and then the gate says it cannot tell (exit 3).
    let same = chanlab(&["compare", &base, &base, "--json", &json]);
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("compare.json is written"))
            .expect("JSON");
    let verdict = written["changes"][0]["verdict"]
        .as_str()
        .unwrap_or_default();
    match same.status.code() {
        Some(0) => assert_eq!(verdict, "no-significant-change", "{}", text(&same)),
        Some(3) => {
            assert_eq!(verdict, "cant-tell", "{}", text(&same));
            assert!(text(&same).contains("CAN'T TELL"), "{}", text(&same));
        }
        other => panic!("{other:?}: {}", text(&same)),
    }

    let slowed = chanlab(&[
        "compare",
        &base,
        &slow,
        "--treat-as",
        "broken-slow=reference",
    ]);
    assert_eq!(slowed.status.code(), Some(1), "{}", text(&slowed));
    assert!(text(&slowed).contains("REGRESSED"), "{}", text(&slowed));
}

#[test]
fn compare_refuses_runs_of_different_schemas() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let run = dir.path().join("run");
    assert!(spsc_run(&run, &["crossbeam"], "2").status.success());
    let current = path(&run, "results.json");
    let text_of = std::fs::read_to_string(&current).expect("results.json exists");
    let mut old: Value = serde_json::from_str(&text_of).expect("JSON");
    old["schema_version"] = 1.into();
    let baseline = dir.path().join("v1.json");
    std::fs::write(&baseline, old.to_string()).expect("the old file is written");
    let output = chanlab(&["compare", baseline.to_str().expect("UTF-8"), &current]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    // It says what changed between the two: both schemas since version 1.
    for said in ["not comparable", "in schema 2,", "in schema 3,"] {
        assert!(text(&output).contains(said), "{}", text(&output));
    }
}

#[test]
fn compare_refuses_a_malformed_threshold() {
    let output = chanlab(&["compare", "a.json", "b.json", "--max-regression", "ten"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("not a percentage"),
        "{}",
        text(&output)
    );
}

#[test]
fn ab_reports_the_median_of_paired_ratios() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let json = path(dir.path(), "ab.json");
    let output = spsc(
        &["ab", "crossbeam", "broken-slow", "--json", &json],
        dir.path(),
        &[],
        "3",
    );
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("B/A (median of pairs)"), "{stdout}");
    let pairs: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("ab wrote its JSON"))
            .expect("ab's JSON parses");
    let throughput = pairs
        .as_array()
        .and_then(|pairs| {
            pairs.iter().find(|pair| {
                pair["metric"] == "throughput"
                    && pair["workload"]
                        .as_str()
                        .is_some_and(|w| w.contains("cap=64 16B throughput"))
            })
        })
        .unwrap_or_else(|| panic!("no paired throughput in {pairs}"));
    let alike = pairs_placed_alike(&support::results(dir.path()));
    assert_eq!(
        throughput["ratios"].as_array().map(Vec::len),
        Some(alike),
        "{throughput}"
    );
}

/// The rounds of a two-cell run, less any the host ran with its cores
/// placed otherwise for the two cells (round trips twice apart), which
/// pairing leaves out.
fn pairs_placed_alike(results: &Value) -> usize {
    let trips: Vec<Vec<f64>> = results["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|cell| {
            cell["repetitions"]
                .as_array()
                .expect("repetitions")
                .iter()
                .map(|rep| rep["disturbance"]["round_trip_ns"].as_f64().unwrap_or(0.0))
                .collect()
        })
        .collect();
    trips[0]
        .iter()
        .zip(&trips[1])
        .filter(|(a, b)| a.min(**b) <= 0.0 || a.max(**b) < a.min(**b) * 2.0)
        .count()
}

#[test]
fn ab_over_two_builds_pairs_every_cell_and_never_passes_undecided() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let json = path(dir.path(), "ab.json");
    // This build against itself: three pairs cannot decide at any useful
    // confidence, and an undecided gate must not pass.
    let output = spsc(
        &[
            "ab",
            "--baseline-build",
            env!("CARGO_BIN_EXE_chanlab"),
            "--json",
            &json,
        ],
        &dir.path().join("run"),
        &["crossbeam"],
        "3",
    );
    // Can't tell: its own exit status, never a pass.
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    assert!(
        text(&output).contains("CAN'T TELL: too few pairs"),
        "{}",
        text(&output)
    );
    let verdict: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("ab.json is written"))
            .expect("JSON");
    assert_eq!(verdict["decisions"][0]["outcome"], "too-few-pairs");
    let results = results(&dir.path().join("run"));
    // Every round pairs, but for one the host ran with its cores placed
    // otherwise for the two builds.
    assert_eq!(
        verdict["decisions"][0]["ratios"].as_array().map(Vec::len),
        Some(pairs_placed_alike(&results))
    );
    let cells = results["cells"].as_array().expect("cells");
    let names: Vec<&str> = cells
        .iter()
        .map(|cell| cell["cell"]["implementation"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["crossbeam", "crossbeam@baseline"]);
    // Both builds run the size sized once.
    assert_eq!(cells[0]["items"], cells[1]["items"]);
}

#[test]
fn exports_are_json_that_dashboards_read() {
    let dir = tempfile::tempdir().expect("a temp dir");
    assert!(spsc_run(dir.path(), &["crossbeam"], "2").status.success());
    let results = path(dir.path(), "results.json");
    let bmf = chanlab(&["export", "--format", "bmf", &results]);
    assert!(bmf.status.success(), "{}", text(&bmf));
    let bmf: Value = serde_json::from_slice(&bmf.stdout).expect("BMF is JSON");
    let benchmark = bmf
        .as_object()
        .and_then(|all| all.values().next())
        .expect("one benchmark");
    assert!(benchmark["throughput"]["value"].as_f64().unwrap_or(0.0) > 0.0);

    let out = path(dir.path(), "gab.json");
    let gab = chanlab(&[
        "export",
        "--format",
        "github-action-benchmark",
        &results,
        "--json",
        &out,
    ]);
    assert!(gab.status.success(), "{}", text(&gab));
    let entries: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("JSON");
    assert_eq!(entries[0]["unit"], "ns/item");
}

#[test]
fn a_failing_verdict_reaches_the_terminal_and_with_fail_on_verdict_the_exit_code() {
    let dir = tempfile::tempdir().expect("a temp dir");
    // The twin times out early (R8), which this load never asks of it:
    // every cell measures, so only its verdict can fail the run. Its
    // suite runs first, into the cache the runs read.
    let twin = "broken-times-out-early";
    let checked = chanlab(&["conformance", "--impl", twin]);
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked));
    let reported = spsc(&["run"], &dir.path().join("reported"), &[twin], "2");
    assert!(reported.status.success(), "{}", text(&reported));
    let stdout = String::from_utf8_lossy(&reported.stdout);
    assert!(
        stdout.contains("broken-times-out-early: FAILS R8 recv-timeout"),
        "{stdout}"
    );
    let gated = spsc(
        &["run", "--fail-on-verdict"],
        &dir.path().join("gated"),
        &[twin],
        "2",
    );
    assert_eq!(gated.status.code(), Some(1), "{}", text(&gated));
    assert!(
        String::from_utf8_lossy(&gated.stderr)
            .contains("--fail-on-verdict: the conformance gate does not pass"),
        "{}",
        text(&gated)
    );
}
