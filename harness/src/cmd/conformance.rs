//! `chanlab conformance`: the conformance suites on every implementation,
//! printed as one table of implementations x checks per suite (blocking,
//! async, mixed).
//!
//! Each implementation's suite runs in a child process of this same binary,
//! so one that hangs is killed and reported, one that crashes the process
//! (a double free, an abort) is reported with its exit status, and the run
//! goes on with the next either way.
//!
//! It exits 1 when any check fails, hangs or crashes in a way the flavor
//! does not declare as a known failure (`--report-only` opts out); known
//! failures are listed with their reasons, in the table and the JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chanlab_conformance::{CheckResult, Settings};
use chanlab_registry::{Registry, Suite, SuiteKind};
use comfy_table::{Cell, Color, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use crate::output::{paint, style};
use crate::runner::verdicts::{self, CheckRow, CheckVerdict, SuiteOutcome};
use crate::values::parse_duration;

/// Options of `chanlab conformance`.
#[derive(clap::Args)]
pub struct Args {
    /// Only these implementations (repeatable; see `chanlab list --broken`).
    #[arg(long = "impl", value_name = "NAME")]
    impls: Vec<String>,
    /// Only these suites (repeatable): blocking, async or mixed.
    #[arg(long = "suite", value_name = "SUITE", value_enum)]
    suites: Vec<SuiteKind>,
    /// Also run the deliberately broken twins, to see the suite fail.
    #[arg(long)]
    broken: bool,
    /// Write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Only this check (repeatable; the names are listed under the table):
    /// the way to reproduce one failure.
    #[arg(long = "check", value_name = "NAME")]
    checks: Vec<String>,
    /// Exit 0 even when a check fails: print and write the results only.
    #[arg(long)]
    report_only: bool,
    /// How long each stress configuration spends sending.
    #[arg(long, value_name = "DURATION", default_value = "60ms", value_parser = parse_duration)]
    stress: Duration,
    /// How long one check may take before it counts as hung.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    watchdog: Duration,
    /// How long a check waits to see a blocked operation stay blocked
    /// (raise it on a slow or heavily loaded machine).
    #[arg(long, value_name = "DURATION", default_value = "30ms", value_parser = parse_duration)]
    settle: Duration,
    /// Random operation sequences the model check tries.
    #[arg(long, default_value_t = 64)]
    model_cases: u32,
    /// Run one implementation in this process and print JSON (used by the
    /// parent run for each child).
    #[arg(long, hide = true)]
    worker: bool,
}

impl Args {
    fn settings(&self) -> Settings {
        Settings {
            stress_budget: self.stress,
            watchdog: self.watchdog,
            settle: self.settle,
            model_cases: self.model_cases,
        }
    }
}

#[derive(Debug, Serialize)]
struct FlavorRow {
    suite: SuiteKind,
    flavor: String,
    library: &'static str,
    api: String,
    note: Option<&'static str>,
    #[serde(flatten)]
    outcome: SuiteOutcome,
}

/// Runs the subcommand.
pub fn run(args: Args, registry: &Registry) -> anyhow::Result<ExitCode> {
    let selected = select(&args, registry)?;
    if args.worker {
        let [suite] = selected.as_slice() else {
            bail!("--worker runs exactly one suite; pass one --impl and one --suite");
        };
        let settings = args.settings();
        let results: Vec<CheckResult> = if args.checks.is_empty() {
            (suite.run)(&settings)
        } else {
            suite
                .kind
                .checks()
                .iter()
                .filter(|check| args.checks.iter().any(|name| name == check.name))
                .filter_map(|check| (suite.run_check)(check.name, &settings))
                .collect()
        };
        let rows: Vec<CheckRow> = results.into_iter().map(CheckRow::of).collect();
        serde_json::to_writer(std::io::stdout().lock(), &rows)
            .context("writing worker results to stdout")?;
        return Ok(ExitCode::SUCCESS);
    }

    let exe = std::env::current_exe().context("locating the chanlab executable")?;
    let mut cache = verdicts::Cache::open(&verdicts::cache_path(), registry);
    let started = Instant::now();
    let mut rows = Vec::new();
    for (index, suite) in selected.iter().enumerate() {
        crate::output::say(&format!(
            "[{}/{}] {:<30} {:<9}",
            index + 1,
            selected.len(),
            suite.name,
            suite.kind.name()
        ));
        let outcome = verdicts::run_suite(&exe, suite, &args.settings(), &args.checks)?;
        say!(" {}", summary(&outcome));
        // A whole suite's outcome is the verdict `chanlab run` reuses.
        if args.checks.is_empty() {
            cache.put(suite, &outcome)?;
        }
        rows.push(FlavorRow {
            suite: suite.kind,
            flavor: suite.name.clone(),
            library: suite.info.library,
            api: suite.info.api.to_string(),
            note: suite.info.note,
            outcome,
        });
        // Written after every flavor, so an interrupted run keeps its results.
        if let Some(path) = &args.json {
            write_json(path, &rows)?;
        }
    }
    crate::output::print(&render_tables(&rows, &args.checks))?;
    say!(
        "conformance run took {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let failed = rows.iter().any(|row| !row.outcome.passed());
    Ok(if failed && !args.report_only {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The suites to run: those of the named implementations (naming a broken
/// twin is enough to select it), of the named suites, holding a named check.
fn select<'a>(args: &Args, registry: &'a Registry) -> anyhow::Result<Vec<&'a Suite>> {
    let every_check = || SuiteKind::ALL.iter().flat_map(|kind| kind.checks());
    if let Some(unknown) = args
        .checks
        .iter()
        .find(|name| !every_check().any(|check| check.name == name.as_str()))
    {
        let known: Vec<_> = every_check().map(|check| check.name).collect();
        bail!("unknown check {unknown:?}; known: {}", known.join(", "));
    }
    let all: Vec<&Suite> = registry
        .suites(args.broken || !args.impls.is_empty())
        .collect();
    if let Some(unknown) = args
        .impls
        .iter()
        .find(|name| !all.iter().any(|suite| &suite.name == *name))
    {
        let mut known: Vec<_> = all.iter().map(|suite| suite.name.as_str()).collect();
        known.dedup();
        bail!(
            "unknown implementation {unknown:?}; known: {}",
            known.join(", ")
        );
    }
    // In the order the implementations were named, else the registry's.
    let rank = |suite: &Suite| args.impls.iter().position(|name| name == &suite.name);
    let mut all = all;
    all.sort_by_key(|suite| rank(suite));
    let selected: Vec<&Suite> = all
        .into_iter()
        .filter(|suite| args.impls.is_empty() || rank(suite).is_some())
        .filter(|suite| args.suites.is_empty() || args.suites.contains(&suite.kind))
        .filter(|suite| {
            args.checks.is_empty()
                || suite
                    .kind
                    .checks()
                    .iter()
                    .any(|check| args.checks.iter().any(|name| name == check.name))
        })
        .collect();
    if selected.is_empty() {
        bail!("no suite of the chosen implementations has the chosen suites and checks");
    }
    Ok(selected)
}

fn summary(outcome: &SuiteOutcome) -> String {
    match outcome {
        SuiteOutcome::Checked { checks } => {
            let count =
                |f: fn(&CheckVerdict) -> bool| checks.iter().filter(|c| f(&c.verdict)).count();
            let known = checks
                .iter()
                .filter(|c| matches!(c.verdict, CheckVerdict::Pass) && !c.known.is_empty())
                .count();
            format!(
                "{} pass, {known} known failure, {} fail, {} n/a",
                count(|v| matches!(v, CheckVerdict::Pass)) - known,
                count(|v| matches!(v, CheckVerdict::Fail { .. })),
                count(|v| matches!(v, CheckVerdict::NotApplicable { .. })),
            )
        }
        SuiteOutcome::Hung { after_secs } => format!("HUNG (worker killed after {after_secs}s)"),
        SuiteOutcome::Crashed { exit, .. } => format!("CRASHED ({exit})"),
    }
}

fn write_json(path: &Path, rows: &[FlavorRow]) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(rows).context("serializing conformance results")?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// One table per suite that ran, then the known failures, the failures
/// with how to reproduce each, and the flavors' notes; `only` names the
/// checks that ran when not all did.
fn render_tables(rows: &[FlavorRow], only: &[String]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut notes = Notes::default();
    for kind in SuiteKind::ALL {
        let rows: Vec<&FlavorRow> = rows.iter().filter(|row| row.suite == kind).collect();
        if rows.is_empty() {
            continue;
        }
        let checks: Vec<_> = kind
            .checks()
            .iter()
            .enumerate()
            .filter(|(_, check)| only.is_empty() || only.iter().any(|name| name == check.name))
            .collect();
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        style(&mut table);
        let mut header = vec![Cell::new("implementation")];
        header.extend(checks.iter().map(|(index, _)| Cell::new(index + 1)));
        table.set_header(header);
        for row in rows {
            table.add_row(row_cells(row, &mut notes));
        }
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{}\n{table}\nchecks:", kind.title());
        for (number, check) in checks {
            let rules: Vec<_> = check.rules.iter().map(|rule| rule.id()).collect();
            let _ = writeln!(
                out,
                "  {:>2}  {:<32} {}",
                number + 1,
                check.name,
                rules.join(", ")
            );
        }
        let _ = writeln!(out);
    }
    for (title, lines) in [
        ("not applicable:", notes.not_applicable),
        ("known failures (declared with the flavor):", notes.known),
        ("failures:", notes.failures),
    ] {
        if !lines.is_empty() {
            let _ = writeln!(out, "{title}");
            for line in lines {
                let _ = writeln!(out, "  {line}");
            }
            let _ = writeln!(out);
        }
    }
    let mut noted: Vec<&str> = Vec::new();
    for row in rows {
        if let Some(note) = row.note.filter(|_| !noted.contains(&row.flavor.as_str())) {
            noted.push(&row.flavor);
            let _ = writeln!(out, "note: {}: {note}", row.flavor);
        }
    }
    out
}

/// The lines printed under the tables.
#[derive(Default)]
struct Notes {
    not_applicable: Vec<String>,
    known: Vec<String>,
    failures: Vec<String>,
}

/// One table row: a cell per check, or the suite's hang or crash; collects
/// the row's notes.
fn row_cells(row: &FlavorRow, notes: &mut Notes) -> Vec<Cell> {
    let mut cells = vec![Cell::new(&row.flavor)];
    let flavor = &row.flavor;
    let suite = row.suite.name();
    match &row.outcome {
        SuiteOutcome::Checked { checks } => {
            for check in checks {
                for seen in &check.known {
                    notes.known.push(format!(
                        "{flavor} / {}: [{}] {} ({}; {} time(s){}): {}",
                        check.check,
                        seen.rule,
                        seen.case,
                        seen.why,
                        seen.times,
                        if seen.ended_check {
                            ", the check stopped there"
                        } else {
                            ""
                        },
                        seen.detail
                    ));
                }
                cells.push(match &check.verdict {
                    CheckVerdict::Pass if !check.known.is_empty() => paint(Cell::new("known"), Color::Yellow),
                    CheckVerdict::Pass => paint(Cell::new("pass"), Color::Green),
                    CheckVerdict::NotApplicable { reason } => {
                        notes
                            .not_applicable
                            .push(format!("{flavor} / {}: {reason}", check.check));
                        Cell::new("n/a")
                    }
                    CheckVerdict::Fail { rule, detail } => {
                        notes.failures.push(format!(
                            "{flavor} / {check}: [{rule}] {detail}\n    reproduce: chanlab conformance --impl {flavor} --suite {suite} --check {check}",
                            check = check.check
                        ));
                        paint(Cell::new("FAIL"), Color::Red)
                    }
                });
            }
        }
        other => {
            let text = summary(other);
            if let SuiteOutcome::Crashed { stderr_tail, .. } = other {
                notes
                    .failures
                    .push(format!("{flavor} ({suite} suite): {text}\n{stderr_tail}"));
            } else {
                notes
                    .failures
                    .push(format!("{flavor} ({suite} suite): {text}"));
            }
            cells.push(paint(Cell::new(text), Color::Red));
        }
    }
    cells
}
