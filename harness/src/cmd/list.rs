//! `chanlab list`: every implementation and what it declares.

use std::process::ExitCode;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::suites;

/// Options of `chanlab list`.
#[derive(clap::Args)]
pub struct Args {
    /// Also list the deliberately broken twins.
    #[arg(long)]
    broken: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
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
        "note",
    ]);
    let mark = |yes: bool| if yes { "yes" } else { "-" };
    for suite in suites::all(args.broken) {
        let info = suite.info;
        let caps = info.capabilities;
        table.add_row([
            info.name,
            info.library,
            &info.api.to_string(),
            mark(caps.multi_consumer),
            mark(caps.rendezvous),
            mark(caps.unbounded),
            mark(caps.select),
            info.note.unwrap_or(""),
        ]);
    }
    crate::output::print(&format!("{table}\n"))?;
    Ok(ExitCode::SUCCESS)
}
