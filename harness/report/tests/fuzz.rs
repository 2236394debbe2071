//! Structure-aware fuzzing of the results reader on the whole path a file
//! takes: load, the statistics over each cell, the report (HTML, Markdown,
//! terminal), the comparison with the unharmed file, and the exports. The
//! seed is a sample of the published results (cells of every kind, latency
//! histograms included); each input is the seed with a few mutations of
//! the kinds a broken or hand-edited file has: a value of the wrong type,
//! numbers that are huge, negative, zero or not finite, a corrupt
//! histogram, a field or an element gone, the text cut short. Every input
//! must give a result or an error, never a panic.
//!
//! It runs for `CHANLAB_FUZZ_SECONDS` (60 by default: the gate's run;
//! `ci/fuzz.sh` runs longer), and on a panic writes the input that caused
//! it to `target/fuzz-findings/` and fails, naming the file.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chanlab_report::compare::{self, Options};
use chanlab_report::export;
use chanlab_report::render::Report;
use chanlab_report::schema::Results;
use chanlab_report::stats::SplitMix64;
use serde_json::Value;

/// How long one input may take before it counts as a hang (the whole path
/// takes milliseconds).
const HANG: Duration = Duration::from_secs(20);

/// Cells of the seed: enough to reach every table and chart.
const SEED_CELLS: usize = 24;

fn published() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../reports/published/quick/results.json")
}

/// The published results with a spread of their cells: every scenario's
/// first few, so patterns, every load measure and latency histograms are
/// all there.
fn seed() -> Value {
    let text = std::fs::read_to_string(published()).expect("the published results exist");
    let mut results: Value = serde_json::from_str(&text).expect("the published results are JSON");
    let cells = results["cells"].as_array().expect("cells").clone();
    let mut kept: Vec<Value> = Vec::new();
    for cell in &cells {
        let scenario = cell["scenario"].as_str().unwrap_or_default();
        let same = kept
            .iter()
            .filter(|k| k["scenario"].as_str() == Some(scenario))
            .count();
        if same < 2 && kept.len() < SEED_CELLS {
            kept.push(cell.clone());
        }
    }
    results["cells"] = Value::Array(kept);
    results
}

/// Every path to a node of `value`, as keys and indices.
fn paths(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                prefix.push(Step::Key(key.clone()));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                prefix.push(Step::Index(index));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn node<'a>(value: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |value, step| match step {
        Step::Key(key) => value.get_mut(key),
        Step::Index(index) => value.get_mut(*index),
    })
}

/// Applies one mutation to a node of `value` picked at random.
fn mutate(value: &mut Value, rng: &mut SplitMix64) {
    let mut all = Vec::new();
    paths(value, &mut Vec::new(), &mut all);
    let path = all[rng.below(all.len())].clone();
    let parent_path = &path[..path.len().saturating_sub(1)];
    let choice = rng.below(12);
    if choice == 11 && !path.is_empty() {
        // A field or an element gone.
        match (node(value, parent_path), path.last()) {
            (Some(Value::Object(map)), Some(Step::Key(key))) => {
                map.remove(key);
            }
            (Some(Value::Array(items)), Some(Step::Index(index))) if *index < items.len() => {
                items.remove(*index);
            }
            _ => {}
        }
        return;
    }
    let Some(target) = node(value, &path) else {
        return;
    };
    *target = match choice {
        0 => Value::Null,
        1 => Value::String("not what was meant".into()),
        2 => Value::Bool(true),
        3 => serde_json::json!(u64::MAX),
        4 => serde_json::json!(-1),
        5 => serde_json::json!(0),
        6 => serde_json::json!(1e308),
        7 => serde_json::json!(-1e308),
        8 => serde_json::json!([]),
        9 => serde_json::json!({}),
        _ => match &*target {
            // A corrupt histogram, or any other string cut or changed.
            Value::String(text) if !text.is_empty() => {
                let mut bytes = text.clone().into_bytes();
                let at = rng.below(bytes.len());
                bytes.truncate(at.max(1));
                bytes.push(b'A' + (rng.below(26) as u8));
                Value::String(String::from_utf8_lossy(&bytes).into_owned())
            }
            Value::Number(number) => {
                serde_json::json!(number.as_f64().unwrap_or(1.0) * 1e12)
            }
            other => other.clone(),
        },
    };
}

/// Runs the whole path on `text`, written to `file`: an error is a fine
/// answer, a panic is a finding.
fn whole_path(text: &str, file: &Path, seed: &Results, out: &Path) {
    std::fs::write(file, text).expect("the input is written");
    let Ok(results) = Results::load(file) else {
        return;
    };
    for cell in &results.cells {
        let _ = chanlab_report::schema::Summary::of(&cell.repetitions);
    }
    let _ = compare::compare(seed, &results, &Options::default());
    let _ = compare::compare(&results, seed, &Options::default());
    let _ = export::export(&results, export::Format::Bmf);
    let _ = export::export(&results, export::Format::GithubActionBenchmark);
    if let Ok(report) = Report::load("fuzz", &[file.to_owned()]) {
        let _ = chanlab_report::terminal::summary(&report);
        let _ = report.write(out);
    }
}

#[test]
fn no_results_file_makes_the_reader_panic() {
    let seconds = std::env::var("CHANLAB_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let started_with = std::env::var("CHANLAB_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("results.json");
    let seed_value = seed();
    let seed_text = serde_json::to_string(&seed_value).expect("the seed serializes");
    std::fs::write(&file, &seed_text).expect("the seed is written");
    let seed_results = Results::load(&file).expect("the seed loads");
    let findings = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-findings");
    std::fs::create_dir_all(&findings).expect("the findings folder");
    let under_way = findings.join("under-way.json");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    // A hang is a finding too: past HANG, the input under way is kept and
    // the process ends, since a thread cannot be stopped.
    let started = std::sync::Arc::new(std::sync::Mutex::new(Instant::now()));
    let watched = std::sync::Arc::clone(&started);
    let kept = under_way.clone();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let since = watched.lock().map_or(Duration::ZERO, |at| at.elapsed());
            if since > HANG {
                eprintln!(
                    "an input has run for {since:?}: a hang; it is in {}",
                    kept.display()
                );
                std::process::abort();
            }
        }
    });
    let mut inputs = 0u64;
    let mut seed = started_with;
    while Instant::now() < deadline {
        seed += 1;
        let mut rng = SplitMix64::new(seed);
        let mut value = seed_value.clone();
        for _ in 0..=rng.below(4) {
            mutate(&mut value, &mut rng);
        }
        let mut text = serde_json::to_string(&value).expect("a value serializes");
        if rng.below(10) == 0 {
            // Cut short, as by a full disk or a copy that stopped.
            text.truncate(rng.below(text.len()));
            while !text.is_char_boundary(text.len()) {
                text.pop();
            }
        }
        // Kept until the input is through, so one that hangs is left to
        // look at.
        std::fs::write(&under_way, &text).expect("the input under way is written");
        if let Ok(mut at) = started.lock() {
            *at = Instant::now();
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            whole_path(&text, &file, &seed_results, &dir.path().join("out"))
        }));
        inputs += 1;
        if outcome.is_err() {
            let kept = findings.join(format!("results-{seed}.json"));
            std::fs::write(&kept, &text).expect("the finding is written");
            panic!(
                "input {seed} made the reader panic; it is in {} (replay with \
                 CHANLAB_FUZZ_SEED={})",
                kept.display(),
                seed - 1
            );
        }
    }
    let _ = std::fs::remove_file(&under_way);
    eprintln!("{inputs} inputs in {seconds}s, no panic");
}
