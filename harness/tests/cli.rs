//! The `chanlab` binary as a user runs it.

mod support;

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
