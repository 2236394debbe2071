//! The `chanlab` binary as a user runs it.

mod support;

use chanlab_report::stats::SplitMix64;
use support::{chanlab, text};

#[test]
fn list_names_every_shipped_implementation() {
    let output = chanlab(&["list"]);
    assert!(output.status.success(), "{}", text(&output));
    for name in [
        "reference",
        "std-mpsc",
        "crossbeam",
        "flume-async",
        "tokio-mpsc",
        "kanal",
        "async-channel",
    ] {
        assert!(
            text(&output).contains(name),
            "{name} missing from:\n{}",
            text(&output)
        );
    }
}

#[test]
fn conformance_fails_on_a_broken_twin_and_names_the_rule() {
    let output = chanlab(&[
        "conformance",
        "--impl",
        "broken-leaks",
        "--stress",
        "10ms",
        "--model-cases",
        "8",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("R9 drop-once"), "{}", text(&output));
    assert!(
        text(&output).contains(
            "reproduce: chanlab conformance --impl broken-leaks --suite blocking --check"
        ),
        "{}",
        text(&output)
    );
}

#[test]
fn report_only_conformance_exits_zero_on_a_failure() {
    let output = chanlab(&[
        "conformance",
        "--impl",
        "broken-leaks",
        "--check",
        "values_dropped_once",
        "--report-only",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("R9 drop-once"), "{}", text(&output));
}

#[test]
fn declared_known_failures_pass_the_gate_and_are_listed_with_their_reason() {
    let output = chanlab(&[
        "conformance",
        "--impl",
        "kanal",
        "--check",
        "receivers_gone_disconnects",
        "--check",
        "fifo_in_order",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let report = text(&output);
    assert!(
        report.contains("known failures (declared with the flavor)")
            && report.contains("kanal 0.1.1: send drops the value"),
        "{report}"
    );
}

#[test]
fn the_async_suite_reports_undeclared_cancel_safety_and_rejects_a_twin() {
    let output = chanlab(&[
        "conformance",
        "--impl",
        "kanal-async",
        "--impl",
        "broken-async-recv-takes-then-drops",
        "--suite",
        "async",
        "--check",
        "cancel_safe_recv",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report = text(&output);
    assert!(
        report.contains("kanal-async / cancel_safe_recv: cancel_safe_recv is not declared, and a receive future woken with a value and then dropped did lose it"),
        "{report}"
    );
    assert!(
        report.contains("reproduce: chanlab conformance --impl broken-async-recv-takes-then-drops --suite async --check cancel_safe_recv"),
        "{report}"
    );
}

#[test]
fn a_hung_implementation_is_reported_and_the_run_goes_on() {
    let output = chanlab(&[
        "conformance",
        "--impl",
        "broken-never-disconnects",
        "--impl",
        "reference",
        "--watchdog",
        "3s",
        "--stress",
        "10ms",
        "--model-cases",
        "8",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report = text(&output);
    assert!(
        report.contains("R10 liveness") && report.contains("did not finish"),
        "{report}"
    );
    assert!(
        report.contains("[2/2] reference") && report.contains(" 0 fail"),
        "{report}"
    );
}

#[test]
fn an_unknown_implementation_is_a_clear_error() {
    let output = chanlab(&["conformance", "--impl", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("unknown implementation \"nope\""),
        "{}",
        text(&output)
    );
}

/// One mutation of a value picked at random in `table`: another type, an
/// extreme number, an empty list, or the key gone.
fn mutate_toml(table: &mut toml::Table, rng: &mut SplitMix64) {
    let keys: Vec<String> = table.keys().cloned().collect();
    let Some(key) = keys.get(rng.below(keys.len())).cloned() else {
        return;
    };
    let value = table.get_mut(&key).expect("the key is there");
    match value {
        toml::Value::Table(inner) if rng.below(2) == 0 => return mutate_toml(inner, rng),
        toml::Value::Array(items) if !items.is_empty() && rng.below(2) == 0 => {
            let at = rng.below(items.len());
            if let toml::Value::Table(inner) = &mut items[at] {
                return mutate_toml(inner, rng);
            }
        }
        _ => {}
    }
    *value = match rng.below(9) {
        0 => toml::Value::String("not what was meant".into()),
        1 => toml::Value::Integer(i64::MAX),
        2 => toml::Value::Integer(-1),
        3 => toml::Value::Integer(0),
        4 => toml::Value::Float(f64::NAN),
        5 => toml::Value::Float(1e308),
        6 => toml::Value::Array(Vec::new()),
        7 => toml::Value::Boolean(true),
        _ => {
            table.remove(&key);
            return;
        }
    };
}

#[test]
fn broken_scenario_files_get_an_error_naming_the_file_never_a_panic() {
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/workloads/example.toml"
    ))
    .expect("the example scenario file");
    let seed: toml::Table = example.parse().expect("the example parses");
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("broken.toml");
    let file_text = file.to_str().expect("a UTF-8 temp path");
    for seed_number in 0..80u64 {
        let mut rng = SplitMix64::new(seed_number);
        let mut table = seed.clone();
        for _ in 0..=rng.below(3) {
            mutate_toml(&mut table, &mut rng);
        }
        let mut text = toml::to_string(&table).unwrap_or_default();
        if rng.below(8) == 0 {
            text.truncate(rng.below(text.len()));
            while !text.is_char_boundary(text.len()) {
                text.pop();
            }
        }
        std::fs::write(&file, &text).expect("the input is written");
        let output = chanlab(&["run", "--file", file_text, "--dry-run"]);
        match output.status.code() {
            Some(0) => {}
            Some(2) => assert!(
                support::text(&output).contains(file_text),
                "input {seed_number}: the error does not name the file:\n{}\n{text}",
                support::text(&output)
            ),
            other => panic!(
                "input {seed_number} ended with {other:?}:\n{}\n{text}",
                support::text(&output)
            ),
        }
    }
}

#[test]
fn out_of_bounds_values_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("scenario.toml");
    let file_text = file.to_str().expect("a UTF-8 temp path");
    for (args, says) in [
        (
            vec!["--background-load", "100000"],
            "--background-load must be at most",
        ),
        (
            vec!["--repetitions", "1000000000000"],
            "--repetitions must be between",
        ),
        (
            vec!["--most-repetitions", "1000000"],
            "--most-repetitions must be at most",
        ),
    ] {
        let mut all = vec!["run", "--scenario", "load/spsc", "--dry-run"];
        all.extend(args);
        let output = chanlab(&all);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{all:?}: {}",
            support::text(&output)
        );
        assert!(
            support::text(&output).contains(says),
            "{all:?}: {}",
            support::text(&output)
        );
    }
    for (body, says) in [
        (
            "[[load]]\nimpls = [\"crossbeam\"]\nmeasure = \"open-loop\"\nrate = 1e300",
            "open-loop rate",
        ),
        (
            "[[pattern]]\npattern = \"rate-limit\"\nimpls = [\"crossbeam\"]\nrate = 1e300",
            "too fast",
        ),
        (
            "repetitions = 1000000000000\n[[load]]",
            "repetitions must be between",
        ),
        (
            "[[load]]\nproducers = \"two\"",
            "invalid type: string \"two\", expected usize (or a list of them)",
        ),
        (
            "[[load]]\nproducers = [1, \"two\"]",
            "in the list [1, \"two\"]",
        ),
    ] {
        std::fs::write(&file, body).expect("the scenario file is written");
        let output = chanlab(&["run", "--file", file_text, "--dry-run"]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{body}: {}",
            support::text(&output)
        );
        assert!(
            support::text(&output).contains(says),
            "{body}: {}",
            support::text(&output)
        );
    }
}

#[test]
fn broken_results_files_exit_2_naming_the_file() {
    let published = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../reports/published/quick/results.json"
    );
    let text = std::fs::read_to_string(published).expect("the published results");
    let dir = tempfile::tempdir().expect("a temp dir");
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 2]).expect("the cut file is written");
    let mut old: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    old["schema_version"] = 1.into();
    old["cells"][0]["cell"] = serde_json::json!({"scenario": "load/spsc"});
    let older = dir.path().join("older.json");
    std::fs::write(&older, old.to_string()).expect("the older file is written");
    // Results that parse but hold what no run writes: a negative figure,
    // a cell twice.
    let mut value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let measured = value["cells"]
        .as_array()
        .and_then(|cells| cells.iter().position(|c| c["repetitions"][0].is_object()))
        .expect("a measured cell");
    let id = value["cells"][measured]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    value["cells"][measured]["repetitions"][0]["throughput"] = (-5.0).into();
    let negative = dir.path().join("negative.json");
    std::fs::write(&negative, value.to_string()).expect("written");
    let mut value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let first = value["cells"][0].clone();
    let first_id = first["id"].as_str().expect("an id").to_owned();
    value["cells"].as_array_mut().expect("cells").push(first);
    let duplicated = dir.path().join("duplicated.json");
    std::fs::write(&duplicated, value.to_string()).expect("written");
    for (file, cell) in [(&negative, &id), (&duplicated, &first_id)] {
        let output = chanlab(&["export", "--format", "bmf", file.to_str().expect("UTF-8")]);
        assert_eq!(output.status.code(), Some(2), "{}", support::text(&output));
        assert!(
            support::text(&output).contains(cell.as_str()),
            "{}",
            support::text(&output)
        );
    }
    for file in [&cut, &older, &negative, &duplicated] {
        let name = file.to_str().expect("a UTF-8 temp path");
        let out = dir.path().join("out");
        let out = out.to_str().expect("a UTF-8 temp path");
        for args in [
            vec!["report", name, "--out", out],
            vec!["compare", name, published],
            vec!["export", "--format", "bmf", name],
        ] {
            let output = chanlab(&args);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{args:?}: {}",
                support::text(&output)
            );
            assert!(
                support::text(&output).contains(name),
                "{args:?}: {}",
                support::text(&output)
            );
        }
    }
    // An older schema says so, rather than only that a field is missing.
    let output = chanlab(&["report", older.to_str().expect("UTF-8"), "--out", "x"]);
    assert!(
        support::text(&output).contains("schema 1"),
        "{}",
        support::text(&output)
    );
}

#[test]
fn upgrade_rewrites_an_older_results_file_in_this_schema() {
    let published = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../reports/published/quick/results.json"
    );
    let published = std::fs::read_to_string(published).expect("the published results");
    let mut old: serde_json::Value = serde_json::from_str(&published).expect("JSON");
    // The form schemas 4 to 6 wrote: a histogram in every timed repetition,
    // none in the cell (a published file of schema 7 gives its cells'
    // merged ones to their repetitions; one of 6 has that form already).
    old["schema_version"] = 6.into();
    for cell in old["cells"].as_array_mut().expect("cells") {
        let Some(merged) = cell
            .as_object_mut()
            .and_then(|cell| cell.remove("latency_histogram_v2"))
        else {
            continue;
        };
        for repetition in cell["repetitions"].as_array_mut().expect("repetitions") {
            if repetition["latency"].is_object() {
                repetition["latency"]["histogram_v2"] = merged.clone();
            }
        }
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let (from, to) = (dir.path().join("old.json"), dir.path().join("new.json"));
    let old_text = old.to_string();
    std::fs::write(&from, &old_text).expect("written");
    let output = chanlab(&[
        "upgrade",
        from.to_str().expect("UTF-8"),
        "--out",
        to.to_str().expect("UTF-8"),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let new_text = std::fs::read_to_string(&to).expect("the upgraded file");
    let new: serde_json::Value = serde_json::from_str(&new_text).expect("JSON");
    assert_eq!(
        new["schema_version"],
        chanlab_report::schema::SCHEMA_VERSION
    );
    let mut timed = 0;
    for cell in new["cells"].as_array().expect("cells") {
        let repetitions = cell["repetitions"].as_array().expect("repetitions");
        assert!(
            repetitions
                .iter()
                .all(|r| r["latency"]["histogram_v2"].is_null()),
            "{}: a repetition kept its histogram",
            cell["id"]
        );
        if repetitions.iter().any(|r| r["latency"].is_object()) {
            assert!(cell["latency_histogram_v2"].is_string(), "{}", cell["id"]);
            timed += 1;
        }
    }
    assert!(timed > 0, "the published run timed latency somewhere");
}
