//! The results schema against the published results file: it still loads,
//! and its shape (every field of every type it embeds) is the one
//! `SCHEMA_VERSION` names, recorded in `schema-v<N>.fields`. A field added,
//! renamed or removed without a new version fails here; so does a new
//! version without a new record. `CHANLAB_BLESS=1` rewrites the record
//! after a deliberate change.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chanlab_report::schema::{Results, SCHEMA_VERSION};
use serde_json::Value;

/// Fields whose keys are data (library names, percentile names, counter
/// names, implementation names), not schema.
const MAPS: [&str; 5] = [
    "libraries",
    "percentiles_ns",
    "latency_ns",
    "counters",
    "verdicts",
];

fn published() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../reports/published/quick/results.json")
}

fn record() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(format!("schema-v{SCHEMA_VERSION}.fields"))
}

/// Every field path in `value`: `cells[].repetitions[].latency.count`, with
/// the tag of a tagged enum in the path (`status=measured`).
fn fields(value: &Value, path: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            let path = match map.get("status").or_else(|| map.get("kind")) {
                Some(Value::String(tag)) => format!("{path}<{tag}>"),
                _ => path.to_owned(),
            };
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                out.insert(child_path.clone());
                if MAPS.contains(&key.as_str()) {
                    continue;
                }
                fields(child, &child_path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                fields(item, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_published_results_load_with_this_schema() {
    let results = Results::load(&published()).expect("the published results load");
    assert_eq!(results.schema_version, SCHEMA_VERSION);
    assert!(!results.cells.is_empty());
}

#[test]
fn the_schema_version_covers_every_field() {
    let results = Results::load(&published()).expect("the published results load");
    let value = serde_json::to_value(&results).expect("results serialize");
    let mut found = BTreeSet::new();
    fields(&value, "", &mut found);
    let found: String = found.into_iter().map(|field| field + "\n").collect();
    if std::env::var_os("CHANLAB_BLESS").is_some() {
        std::fs::write(record(), &found).expect("the record is written");
        return;
    }
    let recorded = std::fs::read_to_string(record()).unwrap_or_else(|_| {
        panic!(
            "no {} for schema version {SCHEMA_VERSION}: run with CHANLAB_BLESS=1 once the new version is deliberate",
            record().display()
        )
    });
    let recorded: BTreeSet<&str> = recorded.lines().collect();
    let now: BTreeSet<&str> = found.lines().collect();
    let added: Vec<_> = now.difference(&recorded).collect();
    let gone: Vec<_> = recorded.difference(&now).collect();
    assert!(
        added.is_empty() && gone.is_empty(),
        "the results schema changed under version {SCHEMA_VERSION}: bump SCHEMA_VERSION (and rerun with CHANLAB_BLESS=1)\n  added: {added:?}\n  gone: {gone:?}"
    );
}
