//! One definition per figure: every latency percentile and CPU figure the
//! results summary holds is the one the tables, the rankings and the
//! exports show, on the published quick results.

use std::path::Path;

use chanlab_report::format::duration;
use chanlab_report::metric::Metric;
use chanlab_report::render::tables;
use chanlab_report::schema::{Results, Status};
use chanlab_report::stats;

fn published() -> Results {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../reports/published/quick/results.json");
    Results::load(&path).expect("the published quick results load")
}

#[test]
fn the_summary_latency_is_the_tables_and_the_rankings() {
    let results = published();
    let table = tables::cells(&results);
    let column = |name: &str| {
        table
            .header
            .iter()
            .position(|header| header == name)
            .unwrap_or_else(|| panic!("the cells table has no {name} column"))
    };
    let (implementation, parameters) = (column("implementation"), column("parameters"));
    let mut timed = 0;
    for cell in results
        .cells
        .iter()
        .filter(|c| c.status == Status::Measured)
    {
        let Some(summary) = &cell.summary else {
            continue;
        };
        let row = table
            .rows
            .iter()
            .find(|row| {
                let name = cell.cell.implementation_label();
                (row[implementation] == name
                    || row[implementation].starts_with(&format!("{name} [")))
                    && row[parameters] == cell.cell.workload.label()
                    && row[0] == cell.scenario
            })
            .unwrap_or_else(|| panic!("{} has no row", cell.id));
        assert_eq!(
            row[column("CPU/item")],
            duration(summary.cpu_ns_per_item.median),
            "{}",
            cell.id
        );
        for name in ["p50", "p99", "p99.9"] {
            let Some(spread) = summary.percentile_ns(name) else {
                assert_eq!(row[column(name)], "", "{} {name}", cell.id);
                continue;
            };
            timed += 1;
            assert_eq!(
                row[column(name)],
                duration(spread.median),
                "{} {name}",
                cell.id
            );
        }
        let ranked = stats::median(&Metric::P99.samples(cell));
        assert_eq!(
            ranked,
            summary.percentile_ns("p99").map(|p99| p99.median),
            "{}: the ranking's p99",
            cell.id
        );
    }
    assert!(timed > 0, "the published run timed latency somewhere");
}

#[test]
fn every_cell_is_grouped_by_class_and_never_ordered_across_classes() {
    let results = published();
    let table = tables::cells(&results);
    let class = table
        .header
        .iter()
        .position(|header| header == "class")
        .expect("the cells table has a class column");
    // Within one workload (scenario and parameters), a class once left
    // never comes back: its rows are together, the groups one after another.
    let mut seen: Vec<(&str, &str, &str)> = Vec::new();
    let mut previous: Option<(&str, &str, &str)> = None;
    for row in &table.rows {
        let key = (row[0].as_str(), row[1].as_str(), row[class].as_str());
        if previous != Some(key) {
            assert!(
                !seen.contains(&key),
                "{} [{}]: the class {} comes back after another class",
                key.0,
                key.1,
                key.2
            );
            seen.push(key);
        }
        previous = Some(key);
    }
    let classes: std::collections::BTreeSet<&str> = seen.iter().map(|key| key.2).collect();
    assert!(
        classes.len() > 2,
        "the published run has several classes: {classes:?}"
    );
}
