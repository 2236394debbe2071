//! `chanlab list`: every implementation and what it declares, and every
//! pattern and what it runs on.

use std::process::ExitCode;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use chanlab_registry::Registry;
use chanlab_scenarios::Pattern;

/// Options of `chanlab list`.
#[derive(clap::Args)]
pub struct Args {
    /// Also list the deliberately broken twins.
    #[arg(long)]
    broken: bool,
}

/// Runs the subcommand.
pub fn run(args: Args, registry: &Registry) -> anyhow::Result<ExitCode> {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header([
        "implementation",
        "library",
        "api",
        "mpmc",
        "rendezvous",
        "unbounded",
        "select",
        "cancel-safe recv",
        "note",
    ]);
    let mark = |yes: bool| if yes { "yes" } else { "-" };
    for info in registry.flavors(args.broken) {
        let caps = info.capabilities;
        table.add_row([
            info.name,
            info.library,
            &info.api.to_string(),
            mark(caps.multi_consumer),
            mark(caps.rendezvous),
            mark(caps.unbounded),
            mark(caps.select),
            mark(caps.cancel_safe_recv),
            info.note.unwrap_or(""),
        ]);
    }
    crate::output::print(&format!("{table}\n\n{}\n", patterns()))?;
    Ok(ExitCode::SUCCESS)
}

/// The patterns, where each runs, and what each does.
fn patterns() -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(["pattern", "runs on", "what it does"]);
    for &pattern in Pattern::ALL {
        let mut runs_on = Vec::new();
        if pattern.uses_channels() {
            runs_on.push("sync flavors".to_owned());
        }
        if pattern.has_async_version() {
            runs_on.push("async flavors".to_owned());
        }
        runs_on.extend(
            pattern
                .primitives()
                .iter()
                .map(|primitive| primitive.name().to_owned()),
        );
        table.add_row([pattern.name(), &runs_on.join(", "), pattern.summary()]);
    }
    table
}
