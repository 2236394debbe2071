//! `chanlab run` as a user runs it: what it writes, and what it does when
//! a cell hangs, fails, or the run is interrupted.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chanlab_scenarios::Primitive;
use serde_json::Value;
use support::{cells, chanlab, quick_run, results, text};

#[test]
fn a_run_writes_versioned_results_with_every_measure() {
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
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let results = results(dir.path());
    assert_eq!(
        results["schema_version"],
        chanlab_report::schema::SCHEMA_VERSION
    );
    for field in ["version", "git_commit", "rustc"] {
        assert!(results["chanlab"][field].is_string(), "chanlab.{field}");
    }
    // Every library the registry names (chanlab's own, std and Go are
    // versioned another way), and the histogram library, and only those,
    // each with its locked version.
    let libraries = results["chanlab"]["libraries"]
        .as_object()
        .expect("libraries is a map");
    let named = registry_libraries();
    for library in &named {
        let version = libraries[library].as_str().unwrap_or("unknown");
        assert_ne!(version, "unknown", "{library} has no recorded version");
    }
    let recorded: BTreeSet<String> = libraries.keys().cloned().collect();
    assert_eq!(recorded, named);
    assert!(results["machine"]["cores"].as_u64().unwrap_or(0) >= 1);
    assert!(
        results["command"]
            .as_str()
            .unwrap_or("")
            .contains("--scenario load/spsc")
    );
    assert!(results["finished_at"].is_string());
    for measure in [
        "throughput",
        "closed-loop",
        "open-loop 50% of slowest",
        "idle",
    ] {
        let found = cells(&results, &[measure]);
        assert_eq!(found.len(), 1, "{measure}");
        let cell = found[0];
        assert_eq!(cell["status"]["status"], "measured", "{measure}: {cell}");
        assert_eq!(cell["repetitions"].as_array().map(Vec::len), Some(2));
        let summary = &cell["summary"];
        assert!(summary["throughput"]["median"].as_f64().unwrap_or(0.0) > 0.0);
        assert!(summary["cpu_ns_per_item"]["median"].as_f64().is_some());
        let latency = &summary["latency_ns"];
        let allocations = cell["repetitions"][0]["allocations_per_item"].as_f64();
        assert!(
            allocations.is_some_and(|a| a < 0.01),
            "{measure}: crossbeam's bounded channel allocates {allocations:?} per message"
        );
        if measure == "throughput" || measure == "idle" {
            assert!(latency.is_null(), "{measure} mode timed messages");
        } else {
            for p in ["p50", "p90", "p99", "p99.9", "p99.99", "max"] {
                assert!(
                    latency[p]["median"].as_f64().is_some(),
                    "{measure} lacks {p}"
                );
            }
            assert!(cell["latency_histogram_v2"].is_string());
            assert!(
                cell["repetitions"][0]["latency"]["histogram_v2"].is_null(),
                "{measure}: a repetition keeps its histogram"
            );
        }
    }
    // The open loop at the common rate (with one implementation, half its
    // own saturation) and at 90% of its own, each rate set from the
    // throughput the load was sized at.
    let rate = |label: &str| {
        let open = cells(&results, &[label])[0];
        let rate = open["cell"]["workload"]["spec"]["measure"]["rate"].as_f64();
        assert!(
            rate.is_some_and(|r| r >= 1.0),
            "{label} without a rate: {open}"
        );
        rate.unwrap_or_default()
    };
    let (half, most) = (rate("50% of slowest"), rate("90% of own"));
    assert!((most / half - 1.8).abs() < 1e-6, "{half}/s and {most}/s");
}

#[test]
fn an_idle_load_shows_a_receiver_that_spins_while_it_waits() {
    // The broken twin receives by spinning on `try_recv`; the reference
    // channel parks. The best of three runs of two repetitions each, so a
    // loaded machine can neither make the parked receiver look busy nor
    // hide the spinning one.
    let busy_cores = |implementation: &str| -> Vec<f64> {
        (0..3)
            .flat_map(|_| {
                let dir = tempfile::tempdir().expect("a temp dir");
                let output = quick_run(
                    dir.path(),
                    &[
                        "--scenario",
                        "load/spsc",
                        "--measure",
                        "idle",
                        "--capacity",
                        "64",
                        "--impl",
                        implementation,
                    ],
                );
                assert!(output.status.success(), "{}", text(&output));
                let results = results(dir.path());
                let cell = cells(&results, &["idle", implementation])[0];
                let repetitions = cell["repetitions"].as_array().expect("repetitions");
                repetitions
                    .iter()
                    .map(|r| {
                        let cpu = r["cpu"]["user_ns"].as_f64().unwrap_or(0.0)
                            + r["cpu"]["system_ns"].as_f64().unwrap_or(0.0);
                        cpu / r["elapsed_ns"].as_f64().unwrap_or(1.0)
                    })
                    .collect::<Vec<f64>>()
            })
            .collect()
    };
    let parked = busy_cores("reference")
        .into_iter()
        .fold(f64::INFINITY, f64::min);
    let spinning = busy_cores("broken-spins-when-empty")
        .into_iter()
        .fold(0.0, f64::max);
    assert!(
        parked < 0.3,
        "the parked receiver kept {parked:.2} cores busy"
    );
    assert!(
        spinning > 0.6,
        "the spinning receiver kept {spinning:.2} cores busy"
    );
}

#[test]
fn a_hung_cell_is_recorded_and_the_run_goes_on() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let output = quick_run(
        dir.path(),
        &[
            "--scenario",
            "worker-pool",
            "--impl",
            "broken-never-disconnects",
            "--impl",
            "crossbeam",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("HUNG"), "{}", text(&output));
    let results = results(dir.path());
    // One cell per worker count in the profile, each hung on its own.
    let hung = cells(&results, &["broken-never-disconnects"]);
    assert!(!hung.is_empty());
    for cell in hung {
        assert_eq!(cell["status"]["status"], "hung", "{cell}");
        assert!(cell["cell"]["workload"]["pattern"] == "worker-pool");
    }
    let next = cells(&results, &["crossbeam"]);
    assert_eq!(next[0]["status"]["status"], "measured", "{}", next[0]);
}

#[test]
fn a_broken_channel_fails_the_run_and_names_its_oracle() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let output = quick_run(
        dir.path(),
        &[
            "--scenario",
            "load/mpmc",
            "--measure",
            "throughput",
            "--impl",
            "broken-loses",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let results = results(dir.path());
    let failed = cells(&results, &["broken-loses"]);
    assert_eq!(failed[0]["status"]["status"], "failed", "{}", failed[0]);
    let reason = failed[0]["status"]["reason"].as_str().unwrap_or("");
    assert!(reason.contains("received"), "{reason}");
}

#[test]
fn a_run_records_each_implementations_conformance_verdict_and_caches_it() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let cache = dir.path().join("verdicts.json");
    let run = |out: &str, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_chanlab"))
            .args(["run", "--out"])
            .arg(dir.path().join(out))
            .args(["--scenario", "load/spsc", "--capacity", "64"])
            .args(["--measure", "throughput", "--budget", "20ms"])
            .args([
                "--repetitions",
                "1",
                "--impl",
                "crossbeam",
                "--impl",
                "kanal",
            ])
            .args(extra)
            .env("CHANLAB_VERDICTS", &cache)
            .output()
            .expect("chanlab runs")
    };
    let first = run("first", &[]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains("checking them first"),
        "{}",
        text(&first)
    );
    let verdicts = &results(&dir.path().join("first"))["verdicts"];
    assert_eq!(verdicts["crossbeam"]["verdict"], "pass", "{verdicts}");
    // kanal declares that a send to a channel with no receiver left drops
    // the value: the verdict carries it, marked declared.
    assert_eq!(verdicts["kanal"]["verdict"], "deviates", "{verdicts}");
    let findings = verdicts["kanal"]["findings"].as_array().expect("findings");
    assert!(findings.iter().all(|f| f["declared"] == true), "{verdicts}");

    let second = run("second", &["--cached-verdicts"]);
    assert!(second.status.success(), "{}", text(&second));
    assert!(
        !text(&second).contains("checking them first"),
        "{}",
        text(&second)
    );
    assert_eq!(&results(&dir.path().join("second"))["verdicts"], verdicts);

    let uncached = Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(["run", "--out"])
        .arg(dir.path().join("third"))
        .args([
            "--scenario",
            "load/spsc",
            "--capacity",
            "64",
            "--measure",
            "throughput",
        ])
        .args(["--budget", "20ms", "--repetitions", "1", "--impl", "flume"])
        .arg("--cached-verdicts")
        .env("CHANLAB_VERDICTS", &cache)
        .output()
        .expect("chanlab runs");
    let verdicts = &results(&dir.path().join("third"))["verdicts"];
    assert_eq!(
        verdicts["flume"]["verdict"],
        "unknown",
        "{}",
        text(&uncached)
    );
    assert!(
        verdicts["flume"]["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("chanlab conformance --impl flume")),
        "{verdicts}"
    );
}

#[test]
fn a_killed_run_keeps_what_it_measured() {
    let dir = tempfile::tempdir().expect("a temp dir");
    // Killed outright, not interrupted: the file is still whole.
    let mut child = start_and_wait_for_a_repetition(dir.path(), "1000", "20ms");
    child.kill().expect("the run can be killed");
    child.wait().expect("the run is reaped");
    let results = results(dir.path());
    assert!(
        results["finished_at"].is_null(),
        "an unfinished run says so"
    );
    let kept = cells(&results, &["crossbeam"])[0]["repetitions"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(kept >= 1, "what was measured is kept");
}

/// Starts `chanlab run` on one SPSC cell of crossbeam with `repetitions`
/// of `budget` each, and returns once its results file holds a measured
/// repetition.
fn start_and_wait_for_a_repetition(
    out: &Path,
    repetitions: &str,
    budget: &str,
) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .env("CHANLAB_VERDICTS", support::VERDICTS)
        .args(["run", "--out"])
        .arg(out)
        .args([
            "--scenario",
            "load/spsc",
            "--impl",
            "crossbeam",
            "--capacity",
            "64",
        ])
        .args([
            "--measure",
            "throughput",
            "--budget",
            budget,
            "--cached-verdicts",
        ])
        .args(["--repetitions", repetitions])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chanlab starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let measured = |results: &Value| {
        results["cells"].as_array().is_some_and(|cells| {
            cells.iter().any(|cell| {
                cell["repetitions"]
                    .as_array()
                    .is_some_and(|reps| !reps.is_empty())
            })
        })
    };
    while !measured(&read_results(out)) {
        assert!(
            Instant::now() < deadline,
            "no repetition was written in 60s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// The results file, or `null` while there is none.
fn read_results(dir: &Path) -> Value {
    std::fs::read_to_string(dir.join("results.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null)
}

fn interrupt(child: &std::process::Child) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT is sent");
}

#[test]
fn ctrl_c_stops_after_the_job_with_a_partial_report_and_resume_finishes_the_run() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let child = start_and_wait_for_a_repetition(dir.path(), "30", "20ms");
    interrupt(&child);
    let output = child.wait_with_output().expect("the run ends");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    assert!(text(&output).contains("--resume"), "{}", text(&output));
    // It counts what is left before it closes the progress bar.
    assert!(text(&output).contains("jobs left"), "{}", text(&output));
    assert!(!text(&output).contains("with 0 of"), "{}", text(&output));
    let stopped = results(dir.path());
    assert!(stopped["finished_at"].is_null(), "a stopped run says so");
    let done = cells(&stopped, &["crossbeam"])[0]["repetitions"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(
        (1..30).contains(&done),
        "{done} repetitions before the stop"
    );
    let report = std::fs::read_to_string(dir.path().join("report.md")).expect("a report");
    assert!(report.contains("PARTIAL"), "the report is marked partial");

    let dir_text = dir.path().to_str().expect("a UTF-8 temp path");
    let resumed = chanlab(&["run", "--resume", dir_text, "--cached-verdicts"]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    let finished = results(dir.path());
    assert!(!finished["finished_at"].is_null());
    let reps = cells(&finished, &["crossbeam"])[0]["repetitions"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(reps, 30, "the resumed run measured what was left");
    let report = std::fs::read_to_string(dir.path().join("report.md")).expect("a report");
    assert!(!report.contains("PARTIAL"));
    let again = chanlab(&["run", "--resume", dir_text]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(
        text(&again).contains("nothing to resume"),
        "{}",
        text(&again)
    );
}

#[test]
fn sigterm_and_sighup_stop_as_ctrl_c_does_and_closed_pipes_never_panic() {
    use nix::sys::signal::Signal;
    for signal in [Signal::SIGTERM, Signal::SIGHUP] {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut child = start_and_wait_for_a_repetition(dir.path(), "30", "20ms");
        if signal == Signal::SIGHUP {
            // As when the terminal or tmux pane goes: nobody reads any more.
            drop(child.stdout.take());
            drop(child.stderr.take());
        }
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
        nix::sys::signal::kill(pid, signal).expect("the signal is sent");
        let output = child.wait_with_output().expect("the run ends");
        assert_eq!(
            output.status.code(),
            Some(130),
            "{signal}: {}",
            text(&output)
        );
        if signal == Signal::SIGTERM {
            assert!(text(&output).contains("--resume"), "{}", text(&output));
        }
        assert!(results(dir.path())["finished_at"].is_null(), "{signal}");
        let report = std::fs::read_to_string(dir.path().join("report.md")).expect("a report");
        assert!(
            report.contains("PARTIAL"),
            "{signal}: the report is marked partial"
        );
    }
    // Both pipes closed mid-run and no signal: no panic (exit 101), and
    // the run keeps its results and its report.
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut child = start_and_wait_for_a_repetition(dir.path(), "10", "20ms");
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().expect("the run ends");
    assert!(matches!(status.code(), Some(0 | 130)), "{status}");
    assert!(dir.path().join("report.md").exists());
    assert!(results(dir.path())["cells"].is_array());
}

#[test]
fn a_second_ctrl_c_ends_at_once_with_a_valid_results_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    // Runs of two seconds: the second Ctrl-C comes while the job the
    // first one waits for is still under way.
    let child = start_and_wait_for_a_repetition(dir.path(), "1000", "2s");
    // A repetition just landed in the file: let the next job start, or
    // the first Ctrl-C falls between two jobs and stops the run at once.
    std::thread::sleep(Duration::from_millis(300));
    interrupt(&child);
    std::thread::sleep(Duration::from_millis(20));
    interrupt(&child);
    let output = child.wait_with_output().expect("the run ends");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    assert!(text(&output).contains("stopping now"), "{}", text(&output));
    assert!(results(dir.path())["finished_at"].is_null());
}

#[test]
fn a_scenario_file_refuses_rates_it_cannot_honour() {
    let dir = tempfile::tempdir().expect("a temp dir");
    for (body, says) in [
        // Fractions without the open loop would silently do nothing.
        (
            "measure = \"throughput\"\nown_saturation = 0.5",
            "does not include \"open-loop\"",
        ),
        // Two rates that round to one label would be one cell twice.
        (
            "measure = \"open-loop\"\nrate = [1000.2, 1000.4]",
            "round to the same label",
        ),
        ("measure = \"open-loop\"\nown_saturation = 1.5", "at most 1"),
    ] {
        let file = dir.path().join("mine.toml");
        std::fs::write(
            &file,
            format!("[[load]]\nimpls = [\"crossbeam\"]\n{body}\n"),
        )
        .expect("the file is written");
        let output = chanlab(&["run", "--file", file.to_str().expect("UTF-8"), "--dry-run"]);
        assert!(!output.status.success(), "{body}: {}", text(&output));
        assert!(text(&output).contains(says), "{body}: {}", text(&output));
    }
}

#[test]
fn a_scenario_file_defines_workloads_without_rust() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("mine.toml");
    std::fs::write(
        &file,
        r#"
repetitions = 1
budget_ms = 20

[[load]]
impls = ["crossbeam", "flume-async"]
producers = [1, 2]
capacity = [1, "unbounded"]
measure = "closed-loop"

[[pattern]]
pattern = "worker-pool"
impls = ["flume"]
workers = [1, 3]

# A fixed rate too slow to size by trial runs; sized by the budget instead.
[[load]]
impls = ["crossbeam"]
measure = "open-loop"
rate = 5.0
"#,
    )
    .expect("the file is written");
    let out = dir.path().join("out");
    let output = chanlab(&[
        "run",
        "--file",
        file.to_str().expect("UTF-8"),
        "--out",
        out.to_str().expect("UTF-8"),
        "--cached-verdicts",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let results = results(&out);
    // 2 implementations x 2 producer counts x 2 capacities, and 2 sweeps.
    assert_eq!(cells(&results, &["closed-loop"]).len(), 8);
    let slow = cells(&results, &["open-loop 5/s"]);
    assert_eq!(slow.len(), 1);
    assert_eq!(slow[0]["status"]["status"], "measured", "{}", slow[0]);
    assert_eq!(cells(&results, &["worker-pool"]).len(), 2);
    assert_eq!(cells(&results, &["flume-async@multi-thread"]).len(), 4);
    assert_eq!(results["settings"]["repetitions"], 1);
}

#[test]
fn mistakes_are_clear_errors() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("typo.toml");
    std::fs::write(&file, "[[load]]\nproducer = 2\n").expect("the file is written");
    let output = chanlab(&["run", "--file", file.to_str().expect("UTF-8")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("unknown field `producer`"),
        "{}",
        text(&output)
    );

    let output = chanlab(&["run", "--impl", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("unknown implementation \"nope\""),
        "{}",
        text(&output)
    );

    let output = chanlab(&["run", "--scenario", "load/spsc", "--impl", "errgroup"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));

    // Typed at the command line: the values are named in the error.
    for (args, expected) in [
        (&["run", "--scenario", "worker_pool"][..], "worker-pool"),
        (&["run", "--capacity", "seven"][..], "bounded(N)"),
        (&["run", "--measure", "latency"][..], "closed-loop"),
        (&["run", "--runtime", "threads"][..], "multi-thread"),
        (&["run", "--budget", "100"][..], "give a unit"),
    ] {
        let output = chanlab(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(
            text(&output).contains(expected),
            "{args:?}: {}",
            text(&output)
        );
    }
}

#[test]
fn the_example_scenario_file_plans() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/workloads/example.toml"
    );
    let output = chanlab(&["run", "--file", example, "--dry-run"]);
    assert!(output.status.success(), "{}", text(&output));
    // 4 implementations x 2 x 4 x 2 x 5 loads (throughput, closed loop,
    // and open loop at two own offered loads and the common one), and
    // 3 x 4 x 2 pattern cells.
    assert!(
        text(&output).contains("344 cells x 3 repetitions"),
        "{}",
        text(&output)
    );
}

/// The libraries the registry names: every shipped flavor's and every
/// primitive's, with the histogram library, less those a build versions
/// another way than its lock file.
fn registry_libraries() -> BTreeSet<String> {
    chanlab_impls::libraries()
        .into_iter()
        .chain(Primitive::ALL.iter().map(|p| p.library()))
        .chain(["hdrhistogram"])
        .filter(|library| !["chanlab", "std", "go"].contains(library))
        .map(str::to_owned)
        .collect()
}
