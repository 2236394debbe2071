//! Conformance outcomes per implementation: the rows a suite's worker
//! writes (shared by `chanlab conformance` and `chanlab run`), a cache of
//! them keyed by flavor, library version and chanlab build, so a run reuses
//! the gate's findings instead of guessing, and the one [`Verdict`] per
//! implementation a report shows beside its figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use chanlab_conformance::{CheckOutcome, CheckResult, Settings};
use chanlab_contract::Rule;
use chanlab_registry::{Driver, Implementation, Registry, Suite, SuiteKind};
use chanlab_report::schema::{Finding, Verdict};
use serde::{Deserialize, Serialize};

use super::provenance;
use crate::child::{self, Ended};

/// One check's verdict, as stored and printed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CheckVerdict {
    /// It held.
    Pass,
    /// It does not apply to the flavor, and why.
    NotApplicable {
        /// Why.
        reason: String,
    },
    /// A violation beyond the flavor's declared known failures.
    Fail {
        /// The rule broken (`R6 senders-gone`).
        rule: String,
        /// What the check saw.
        detail: String,
    },
}

/// One check of one suite.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckRow {
    /// The check's name.
    pub check: String,
    /// What it found.
    pub verdict: CheckVerdict,
    /// Declared known failures the check ran into and went past.
    #[serde(default)]
    pub known: Vec<KnownRow>,
}

/// A declared known failure that showed up, as stored and printed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KnownRow {
    /// The rule (`R6 senders-gone`).
    pub rule: String,
    /// The case the flavor declares.
    pub case: String,
    /// Why, as the flavor declares it.
    pub why: String,
    /// The first violation that matched.
    pub detail: String,
    /// How often it showed up.
    pub times: usize,
    /// Whether the check stopped there, so the rest of it did not run.
    pub ended_check: bool,
}

impl CheckRow {
    /// The row for one check's result.
    pub fn of(result: CheckResult) -> CheckRow {
        let verdict = match result.verdict {
            Ok(CheckOutcome::Pass) => CheckVerdict::Pass,
            Ok(CheckOutcome::NotApplicable(reason)) => CheckVerdict::NotApplicable {
                reason: reason.into(),
            },
            Err(violation) => CheckVerdict::Fail {
                rule: violation.rule.id().into(),
                detail: violation.detail,
            },
        };
        let known = result
            .known
            .into_iter()
            .map(|seen| KnownRow {
                rule: seen.failure.rule.id().into(),
                case: seen.failure.case.into(),
                why: seen.failure.why.into(),
                detail: seen.violation.detail,
                times: seen.times,
                ended_check: seen.ended_check,
            })
            .collect();
        CheckRow {
            check: result.check.name.into(),
            verdict,
            known,
        }
    }
}

/// What became of one implementation's suite.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SuiteOutcome {
    /// It ran; every check's row.
    Checked {
        /// The rows.
        checks: Vec<CheckRow>,
    },
    /// It passed its time limit and was killed.
    Hung {
        /// The limit.
        after_secs: u64,
    },
    /// Its worker process died.
    Crashed {
        /// The exit status.
        exit: String,
        /// The last lines of its standard error.
        stderr_tail: String,
    },
}

impl SuiteOutcome {
    /// Whether no check failed, hung or crashed beyond what is declared.
    pub fn passed(&self) -> bool {
        match self {
            SuiteOutcome::Checked { checks } => checks
                .iter()
                .all(|c| !matches!(c.verdict, CheckVerdict::Fail { .. })),
            SuiteOutcome::Hung { .. } | SuiteOutcome::Crashed { .. } => false,
        }
    }

    /// What the suite found, declared or not.
    fn findings(&self, suite: SuiteKind) -> Vec<Finding> {
        let check = |name: &str| format!("{} {name}", suite.name());
        match self {
            SuiteOutcome::Checked { checks } => checks
                .iter()
                .flat_map(|row| {
                    let failed = match &row.verdict {
                        CheckVerdict::Fail { rule, detail } => Some(Finding {
                            rule: rule.clone(),
                            check: check(&row.check),
                            detail: detail.clone(),
                            declared: false,
                        }),
                        _ => None,
                    };
                    let known = row.known.iter().map(|known| Finding {
                        rule: known.rule.clone(),
                        check: check(&row.check),
                        detail: format!("{} ({})", known.detail, known.why),
                        declared: true,
                    });
                    failed.into_iter().chain(known)
                })
                .collect(),
            SuiteOutcome::Hung { after_secs } => vec![Finding {
                rule: Rule::Liveness.id().into(),
                check: format!("{} suite", suite.name()),
                detail: format!("the suite was still running after {after_secs} s and was killed"),
                declared: false,
            }],
            SuiteOutcome::Crashed { exit, .. } => vec![Finding {
                rule: Rule::Liveness.id().into(),
                check: format!("{} suite", suite.name()),
                detail: format!("the suite's process died: {exit}"),
                declared: false,
            }],
        }
    }
}

/// Runs `suite` in a child process of `exe` with `settings` (and only
/// `checks`, if any), within a limit of one watchdog per check.
pub fn run_suite(
    exe: &Path,
    suite: &Suite,
    settings: &Settings,
    checks: &[String],
) -> anyhow::Result<SuiteOutcome> {
    let mut args: Vec<String> = [
        "conformance",
        "--worker",
        "--impl",
        &suite.name,
        "--suite",
        suite.kind.name(),
        "--stress",
        &humantime::format_duration(settings.stress_budget).to_string(),
        "--watchdog",
        &humantime::format_duration(settings.watchdog).to_string(),
        "--settle",
        &humantime::format_duration(settings.settle).to_string(),
        "--model-cases",
        &settings.model_cases.to_string(),
    ]
    .map(String::from)
    .into();
    for check in checks {
        args.extend(["--check".to_owned(), check.clone()]);
    }
    // Each check has its own watchdog; this bounds a worker that ignores it.
    let limit = settings.watchdog * (suite.kind.checks().len() as u32 + 1);
    Ok(match child::run(exe, &args, limit)? {
        Ended::Killed => SuiteOutcome::Hung {
            after_secs: limit.as_secs(),
        },
        Ended::Exited {
            status,
            stdout,
            stderr_tail,
        } if status.success() => match serde_json::from_slice(&stdout) {
            Ok(checks) => SuiteOutcome::Checked { checks },
            Err(err) => SuiteOutcome::Crashed {
                exit: format!("{status}, with unreadable results ({err})"),
                stderr_tail,
            },
        },
        Ended::Exited {
            status,
            stderr_tail,
            ..
        } => SuiteOutcome::Crashed {
            exit: status.to_string(),
            stderr_tail,
        },
    })
}

/// Where suite outcomes are cached: `$CHANLAB_VERDICTS`, or
/// `verdicts.json` beside the runs ([`crate::places::home`]).
pub fn cache_path() -> PathBuf {
    std::env::var_os("CHANLAB_VERDICTS").map_or_else(
        || crate::places::home().join("verdicts.json"),
        PathBuf::from,
    )
}

/// One cached suite outcome and what it is valid for.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    suite: SuiteKind,
    implementation: String,
    library_version: String,
    build: String,
    checked_at: String,
    outcome: SuiteOutcome,
}

/// Suite outcomes by flavor, library version and chanlab build.
pub struct Cache {
    path: PathBuf,
    entries: Vec<Entry>,
    /// The library versions this build records.
    libraries: BTreeMap<String, String>,
    /// [`build_key`] of this binary.
    build: String,
}

impl Cache {
    /// The cache at `path`; empty when there is none or it cannot be read
    /// (it is only a cache: the suites run again).
    pub fn open(path: &Path, registry: &Registry) -> Cache {
        let entries = std::fs::read(path)
            .ok()
            .and_then(|text| serde_json::from_slice(&text).ok())
            .unwrap_or_default();
        Cache {
            path: path.to_owned(),
            entries,
            libraries: provenance::build(registry).libraries,
            build: build_key(registry),
        }
    }

    /// The library's version as this build records it.
    fn library_version(&self, library: &str) -> String {
        self.libraries
            .get(library)
            .cloned()
            .unwrap_or_else(|| "unrecorded".to_owned())
    }

    /// The cached outcome of `suite` for this build and the library version
    /// it records, with when it was checked.
    fn get(&self, suite: &Suite) -> Option<&Entry> {
        let version = self.library_version(suite.info.library);
        self.entries.iter().find(|entry| {
            entry.suite == suite.kind
                && entry.implementation == suite.name
                && entry.library_version == version
                && entry.build == self.build
        })
    }

    /// Records `outcome` of `suite` for this build, replacing an older one,
    /// and writes the cache.
    pub fn put(&mut self, suite: &Suite, outcome: &SuiteOutcome) -> anyhow::Result<()> {
        self.entries
            .retain(|entry| !(entry.suite == suite.kind && entry.implementation == suite.name));
        self.entries.push(Entry {
            suite: suite.kind,
            implementation: suite.name.clone(),
            library_version: self.library_version(suite.info.library),
            build: self.build.clone(),
            checked_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            outcome: outcome.clone(),
        });
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let text = serde_json::to_vec_pretty(&self.entries).context("serializing the cache")?;
        Ok(chanlab_report::schema::write_atomically(&self.path, &text)?)
    }
}

/// What a cached outcome must match to be reused: the git commit, and also
/// when this binary was built for a tree with uncommitted changes or a
/// runner with flavors of a user's crate, since chanlab's commit alone does
/// not name their code.
fn build_key(registry: &Registry) -> String {
    let commit = provenance::build(registry).git_commit;
    if !commit.ends_with("-dirty") && !registry.has_additions() {
        return commit;
    }
    let built = std::env::current_exe()
        .and_then(std::fs::metadata)
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(|at| at.duration_since(SystemTime::UNIX_EPOCH).ok())
        .unwrap_or(Duration::ZERO);
    format!("{commit}@{}", built.as_secs())
}

/// Verdicts for `implementations`: cached outcomes reused, the missing
/// ones run now (in child processes of `exe`, with the default settings)
/// unless `check_missing` is off, in which case they are said to be
/// missing.
pub fn verdicts(
    implementations: &[&Implementation],
    registry: &Registry,
    exe: &Path,
    check_missing: bool,
) -> anyhow::Result<BTreeMap<String, Verdict>> {
    let path = cache_path();
    let mut cache = Cache::open(&path, registry);
    let settings = Settings::default();
    let missing: Vec<&Suite> = implementations
        .iter()
        .flat_map(|implementation| registry.suites_of(implementation))
        .filter(|suite| cache.get(suite).is_none())
        .collect();
    if check_missing && !missing.is_empty() {
        say!(
            "conformance: {} suites have no verdict for this build; checking them first \
             (once per build, then cached in {})",
            missing.len(),
            path.display()
        );
        for (index, suite) in missing.iter().enumerate() {
            say!(
                "conformance: [{}/{}] {} {}",
                index + 1,
                missing.len(),
                suite.name,
                suite.kind.name()
            );
            let outcome = run_suite(exe, suite, &settings, &[])?;
            cache.put(suite, &outcome)?;
        }
    }
    let mut verdicts = BTreeMap::new();
    for implementation in implementations {
        let suites = registry.suites_of(implementation);
        let verdict = if suites.is_empty() {
            Verdict::NoSuite {
                reason: match implementation.driver {
                    Driver::Go => "Go's channels are not checked by chanlab's suites; `go test -race` runs the Go reference's oracles".to_owned(),
                    _ => "a primitive, not a channel: the conformance suites do not apply (loom and the pattern's oracle check it)".to_owned(),
                },
            }
        } else {
            let entries: Option<Vec<&Entry>> =
                suites.iter().map(|suite| cache.get(suite)).collect();
            match entries {
                None => Verdict::Unknown {
                    reason: format!(
                        "not checked on this build and library version: run `chanlab conformance --impl {}`",
                        implementation.name
                    ),
                },
                Some(entries) => {
                    let findings: Vec<Finding> = entries
                        .iter()
                        .flat_map(|entry| entry.outcome.findings(entry.suite))
                        .collect();
                    let checked_at = entries
                        .iter()
                        .map(|entry| entry.checked_at.clone())
                        .min()
                        .unwrap_or_default();
                    if findings.is_empty() {
                        Verdict::Pass { checked_at }
                    } else {
                        Verdict::Deviates {
                            checked_at,
                            findings,
                        }
                    }
                }
            }
        };
        verdicts.insert(implementation.name.clone(), verdict);
    }
    Ok(verdicts)
}
