//! `--scenario`, `--impl`, `--capacity`, `--measure` and `--runtime`:
//! what a run keeps of its plan, typed at the command line, and the broken
//! twins `--impl` adds.

use chanlab_contract::Capacity;
use chanlab_registry::{Driver, Implementation, Registry};
use chanlab_report::schema::{Cell, Workload};
use chanlab_scenarios::load::Measure;
use chanlab_scenarios::{Pattern, Runtime};
use clap::builder::TypedValueParser;

use super::{Plan, cells_on};

/// What `chanlab run` keeps of a plan. An empty list admits everything.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Filter {
    /// Only these scenarios: a pattern, or a channel load (repeatable).
    #[arg(long = "scenario", value_name = "NAME", value_parser = scenario_names())]
    pub scenarios: Vec<String>,
    /// Only these implementations (repeatable; broken twins run only when
    /// named here; `chanlab list --broken` names them all).
    #[arg(long = "impl", value_name = "NAME")]
    pub impls: Vec<String>,
    /// Only these capacities: a number (0 is rendezvous), `rendezvous` or
    /// `unbounded` (repeatable).
    #[arg(long = "capacity", value_name = "CAPACITY", value_parser = parse_capacity)]
    pub capacities: Vec<Capacity>,
    /// Only these load measures (repeatable; patterns count as
    /// throughput).
    #[arg(long = "measure", value_name = "MEASURE", value_enum)]
    pub measures: Vec<MeasureName>,
    /// Only these runtimes for async implementations (repeatable).
    #[arg(long = "runtime", value_name = "RUNTIME", value_parser = runtimes())]
    pub runtimes: Vec<Runtime>,
}

/// A load measure, as `--measure` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MeasureName {
    /// As fast as the channel takes, no clock read per message.
    Throughput,
    /// As fast as the channel takes, latency sampled from each send.
    ClosedLoop,
    /// At a fixed rate, latency from each message's scheduled time.
    OpenLoop,
    /// A message every millisecond per producer: the CPU receivers burn
    /// while they wait.
    Idle,
}

impl MeasureName {
    /// The measure's name in results.
    fn of(measure: &Measure) -> MeasureName {
        match measure {
            Measure::Throughput => MeasureName::Throughput,
            Measure::ClosedLoop => MeasureName::ClosedLoop,
            Measure::OpenLoop { .. } => MeasureName::OpenLoop,
            Measure::Idle => MeasureName::Idle,
        }
    }
}

/// The channel loads `--scenario` takes beside the patterns.
const LOADS: [&str; 4] = ["load/spsc", "load/mpsc", "load/spmc", "load/mpmc"];

/// `--scenario`'s values, listed in `--help` and checked by clap.
fn scenario_names() -> clap::builder::PossibleValuesParser {
    Pattern::ALL
        .iter()
        .map(|pattern| pattern.name())
        .chain(LOADS)
        .collect::<Vec<_>>()
        .into()
}

/// `--runtime`'s values, read into a [`Runtime`].
fn runtimes() -> impl TypedValueParser<Value = Runtime> {
    clap::builder::PossibleValuesParser::new(Runtime::ALL.map(Runtime::name)).map(|name| {
        Runtime::ALL
            .into_iter()
            .find(|runtime| runtime.name() == name)
            .unwrap_or(Runtime::MultiThread)
    })
}

/// `--capacity`'s value, read as the contract reads a capacity.
fn parse_capacity(text: &str) -> Result<Capacity, String> {
    text.parse()
        .map_err(|err: chanlab_contract::ParseCapacityError| err.to_string())
}

impl Filter {
    pub(super) fn admits(&self, cell: &Cell) -> bool {
        let any =
            |wanted: &[String], value: &str| wanted.is_empty() || wanted.iter().any(|w| w == value);
        let measure = match &cell.workload {
            Workload::Load { spec, .. } => MeasureName::of(&spec.measure),
            Workload::Pattern { .. } => MeasureName::Throughput,
        };
        any(&self.scenarios, &cell.workload.scenario())
            && any(&self.impls, &cell.implementation)
            && (self.capacities.is_empty() || self.capacities.contains(&cell.workload.capacity()))
            && (self.measures.is_empty() || self.measures.contains(&measure))
            && cell
                .runtime
                .is_none_or(|runtime| self.runtimes.is_empty() || self.runtimes.contains(&runtime))
    }

    /// Refuses an implementation name chanlab does not know, so a typo is
    /// not an empty run (clap checks the other fields' values).
    pub(super) fn check_names(&self, registry: &Registry) -> anyhow::Result<()> {
        for name in &self.impls {
            registry.find(name)?;
        }
        Ok(())
    }

    /// Broken twins named in `--impl`, which a profile does not include on
    /// its own.
    pub fn named_broken<'a>(&self, registry: &'a Registry) -> Vec<&'a Implementation> {
        registry
            .implementations(true)
            .filter(|i| self.impls.contains(&i.name) && registry.is_broken(&i.name))
            .collect()
    }
}

/// Adds, for each broken twin named in `filter`, the cells its sync
/// counterparts have in `plan`, so `--impl broken-loses` runs the twin on
/// the profile's workloads.
pub fn add_broken(mut plan: Plan, filter: &Filter, registry: &Registry) -> Plan {
    let twins = filter.named_broken(registry);
    if twins.is_empty() {
        return plan;
    }
    let mut extra = Vec::new();
    let mut seen = Vec::new();
    for cell in &plan.cells {
        let Ok(implementation) = registry.find(&cell.implementation) else {
            continue;
        };
        let applicable = match (&cell.workload, implementation.driver) {
            (Workload::Load { .. }, Driver::Sync { .. }) => true,
            (Workload::Pattern { pattern, .. }, Driver::Sync { .. }) => pattern.uses_channels(),
            _ => false,
        };
        if applicable && !seen.contains(&cell.workload) {
            seen.push(cell.workload.clone());
            extra.extend(cells_on(cell.workload.clone(), &twins, &[]));
        }
    }
    plan.cells.extend(extra);
    plan
}
